"""The ledger's invariants: ``balance`` (``points_balance`` == the sum of the user's entries, ≥ 0), ``ledger-chain``
(the ``balance_after`` values one chain from 0, ``_chain_break``), ``earned``, ``ledger-orphan``; ``credit-key``
(each entry's key the one its source derives, ``_entry_key``) and ``credit-once``; and ``award`` (an award
credited, and its reversal debited, once on the awarded user's ledger). ``NOT_EARNINGS``: the kinds that are not
earnings (the leaderboards use it too)."""
from __future__ import annotations

from infra.proof.invariants.tables import _n
from tongxin.domain.points import wish_confirm_source

NOT_EARNINGS = frozenset({"redeem", "refund"})


class LedgerChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def users_and_ledger(self) -> None:
        for user_id in sorted(set(self.ledger) - set(self.users)):
            self.fail("ledger-orphan", f"ledger {user_id}", f"{len(self.ledger[user_id])} entries of a user that "
                                                            "does not exist")
        for user in self.d["users"]:
            entries = self.ledger.get(user.id, [])
            total = sum(_n(e.amount) for e in entries)
            balance = _n(user.points_balance)
            if balance != total:
                self.fail("balance", f"users {user.id}", f"points_balance {balance} != sum(ledger) {total}")
            if balance < 0:
                self.fail("balance", f"users {user.id}", f"points_balance {balance} < 0")
            earned = sum(_n(e.amount) for e in entries if e.kind not in NOT_EARNINGS)
            if _n(user.earned_total) != earned:
                self.fail("earned", f"users {user.id}", f"earned_total {_n(user.earned_total)} != sum of earnings "
                                                        f"in the ledger {earned}")
            for entry in entries:
                if _n(entry.balance_after) < 0:
                    self.fail("balance", f"ledger {user.id}/{entry.entry_key}",
                              f"balance_after {_n(entry.balance_after)} < 0")
            broken = _chain_break(entries)
            if broken is not None:
                entry, running = broken
                after = _n(entry.balance_after)
                self.fail("ledger-chain", f"ledger {user.id}/{entry.entry_key}",
                          f"no entry goes on from the balance {running} (this one: {after - _n(entry.amount)} → "
                          f"{after}): the balance_after values are not one chain from 0")

    def ledger_keys(self) -> None:
        for entry in self.d["ledger"]:
            expected = _entry_key(entry)
            where = f"ledger {entry.user_id}/{entry.entry_key}"
            if expected is None:
                self.fail("credit-key", where, f"kind {entry.kind!r} / source {entry.source!r} has no source-derived "
                                               "key: it could be credited twice")
            elif entry.entry_key != expected and not (
                    entry.source.startswith("adjust:") and entry.entry_key.startswith(expected)):
                self.fail("credit-key", where, f"key is not the one its source {entry.source!r} derives ({expected})")
        for (kind, source), entries in sorted(self.by_source.items()):
            if kind in ("wish", "award", "reversal", "redeem", "refund"):
                users = sorted({e.user_id for e in entries})
                if len(entries) > 1:
                    self.fail("credit-once", f"ledger {kind} {source}", f"credited {len(entries)} times "
                                                                         f"(users {', '.join(users)})")

    def awards(self) -> None:
        for award in self.d["awards"]:
            where = f"awards {award.id}"
            points = _n(award.points)
            credit = self.entries.get((award.user_id, f"award#{award.id}"))
            if credit is None or _n(credit.amount) != points:
                self.fail("award", where, f"credit award#{award.id} of {points} on {award.user_id}'s ledger: "
                                          f"{'missing' if credit is None else _n(credit.amount)}")
            reversal = self.entries.get((award.user_id, f"award#{award.id}#reverse"))
            if award.status == "reversed" and (reversal is None or _n(reversal.amount) != -points):
                self.fail("award", where, f"reversed but its debit of {-points}: "
                                          f"{'missing' if reversal is None else _n(reversal.amount)}")
            if award.status == "active" and reversal is not None:
                self.fail("award", where, "active, and debited as reversed")


def _chain_break(entries: list) -> tuple | None:
    """Whether the entries' ``balance_after`` make one chain from 0 (each entry goes from the balance the one before
    left by its amount), in some order: the order they committed in, which the time they were written in gives
    unless clocks disagree (two Lambda instances; a test moving the clock), so among the entries that go on from the
    balance reached the earliest is taken. None: they do; else (the first entry left over, the balance reached)."""
    remaining = sorted(entries, key=lambda e: (e.created_at, e.entry_key))
    running = 0
    while remaining:
        for index, entry in enumerate(remaining):
            if _n(entry.balance_after) - _n(entry.amount) == running:
                break
        else:
            return remaining[0], running
        running = _n(remaining.pop(index).balance_after)
    return None


def _entry_key(entry) -> str | None:
    """The key a ledger entry's source derives (for a correction ``adjust#<event>#<user>#``, its number follows)."""
    kind, (prefix, _, ref) = entry.kind, entry.source.partition(":")
    if kind == "wish" and prefix == "wish":
        return wish_confirm_source(ref)
    if kind == "award" and prefix == "award":
        return f"award#{ref}"
    if kind == "reversal" and prefix == "award":
        return f"award#{ref}#reverse"
    if kind == "redeem" and prefix == "redemption":
        return f"redeem#{ref}"
    if kind == "refund" and prefix == "redemption":
        return f"refund#{ref}"
    if kind == "volunteer" and prefix == "checkout":
        return f"checkout#{ref}#{entry.user_id}"
    if kind == "volunteer" and prefix == "adjust":
        return f"adjust#{ref}#{entry.user_id}#"
    return None
