"""The invariant checker: reads every table of a stack and reports each invariant of design.md that does not hold.

    python -m infra.invariants [--endpoint http://127.0.0.1:8002] [--prefix tongxin-dev] [--region cn-north-1]

prints one violation a line and exits 1 if there is any (0 and "all invariants hold" otherwise): for ``make dev``
users after trying something, and for operators. Tests call ``check`` (``tests/stack.py``:
``RunningStack.check_invariants()`` after every e2e, contention and burst module).

``check(client, table_name)`` Scans every table (paginated, consistent reads): a test and operations tool, never
on a request path. It reads the items as the models declare them and recomputes, from the other tables, every
figure the transactions keep — so it holds only when every change was one whole write. Each violation is one line
``[<invariant>] <table> <key>: <what>``; the invariants (the tag in brackets):

- ``balance`` a user's ``points_balance`` == the sum of their ledger amounts, and ≥ 0; ``ledger-chain`` the
  entries' ``balance_after`` make one chain from 0, each the one before plus its amount (in the order they
  committed: time order, unless clocks disagree); ``earned`` ``earned_total`` == the sum of
  their earnings (every kind but ``redeem`` and ``refund``); ``ledger-orphan`` no entry of an unknown user.
- ``credit-key`` each ledger entry's key is the one derived from its source (``wish#<id>#confirm``,
  ``checkout#<event>#<user>``, ``redeem#<id>``, …), so the table's key makes each source credited once;
  ``credit-once`` no source credited twice under different users (a wish, an award, a redemption).
- ``wish-claimer`` a claimer iff claimed / fulfilled / confirmed (a wish cancelled while claimed keeps the
  claimer who held it; none in pending_review, open, rejected, expired), never the author; ``wish-credit`` a
  confirmed wish is credited to its claimer once, ``points_awarded`` points (0: no entry, or an entry of 0
  when a fairness cap applied), and no other wish is credited; ``wish-keys`` the list and due keys a status
  brings (``domain/wishes.list_keys``, ``needs_grid_worker``, ``next_due``) are the ones stored.
- ``event-signed`` ``signed_count`` == the sign-ups holding a place (signed, checked_in, checked_out, no_show,
  unsettled: ``walk_in`` takes one too) and 0 ≤ it ≤ ``capacity``; ``event-waitlist`` ``waitlist_count`` == the
  waitlisted sign-ups; ``waitlist-position`` tickets distinct per event, each waitlisted sign-up holds one,
  1 ≤ ticket ≤ ``waitlist_seq``; ``promotion-order`` nobody promoted past a ticket still waiting; ``event-fill``
  places free while people wait (open, not started) ⇒ the scheduler is due to fill them; ``signup-keys`` roster
  and "mine" keys match the status, the event exists.
- ``attendance`` minutes only on a checked-out attendance, 0 ≤ minutes ≤ the event's length (clipped);
  ``attendance-credit`` an attendance's ``points`` == the sum of its ledger credits (check-out and corrections):
  credited once; ``minutes`` ``volunteer_minutes`` == the user's attendance minutes; ``volunteer-record`` the
  record counters (``record#<user>#all``: minutes, points, count) and the community's hours
  (``stats#hours#<community>#<month>``) == the attendances.
- ``scores`` the all-time community leaderboards (points, minutes) == the ledger and the attendances; the month,
  year and all-time boards of each scope agree with each other.
- ``stock`` a goods item's stock ≥ 0, its store exists; ``stock-exact`` (when ``stock_issued`` is given: the
  stock ever put on the shelf per goods id) stock == issued − held (pending or picked up); ``allowance``
  ``allow#<goods>#<user>`` == the quantity the user holds pending or picked up.
- ``redemption`` the debit ``redeem#<id>`` of ``points`` == price × quantity on the redeemer's ledger, a refund
  iff cancelled or expired, the pickup code item held for it, its queue and due keys as its status says.
- ``award`` an award credited (and its reversal debited) once on the awarded user's ledger.
- ``outbox`` every message final (sent, skipped, failed, expanded: off the sender's index) or due for retry
  (pending, or sending on a lease, with ``next_attempt_at`` on its own retry shard); a fan-out not yet expanded
  is on the expansion index (a half-expanded one resumes from its cursor); an expanded one wrote at least
  ``expanded_count`` messages; ``quota`` subscription quotas ≥ 0.
- ``request`` 接诉即办: ``handler_key``/``handler_due`` iff waiting on a level and as ``domain/requests`` derives
  them, ``due_at`` == ``next_due``, an outcome (and ``closed_at``) iff closed, the level among those reached, a
  timeline that starts with ``submit``.
- ``structure`` community.street_id ↔ street.community_ids; street.staff_ids ↔ users.street_ids (and the
  street_staff role); grid.worker_ids ↔ users.grid_ids (and the grid_worker role); community.admin_ids ↔ the
  active users with the admin role in it; a user's community and grid exist; ``identity`` openid ↔ user.

- ``statistics`` the wish, request and event statistics counters (per community, day and month of the item's
  creation) == what the items count now (``domain/stats.wish_deltas``, ``domain/requests.deltas`` from nothing to
  the item as it stands; events: published, cancelled, capacity and signed of those standing, promotions, waitlist
  tickets, check-ins, walk-ins, no-shows, unsettled).

Not derivable from the tables, so not checked: a goods item's exact stock without ``stock_issued`` (neither the
initial stock nor restocks are recorded); events' ``signups`` and ``left`` counts (actions: a sign-up given up and
taken again is one item); the points statistics (``points-stats#``: derivable from the ledger, but the demo seed's
200 points have no counter, so every local stack would fail it); the per-grid leaderboards' totals (a credit goes to
the grid the user was in at the time); counters with an expiry (fairness caps, an awarder's day).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "layers") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers"))

from tongxin.adapters.dynamo import models as m  # noqa: E402
from tongxin.domain import checkin as checkin_rules  # noqa: E402
from tongxin.domain import events as event_rules  # noqa: E402
from tongxin.domain import stats as stats_rules  # noqa: E402
from tongxin.domain import push as push_rules  # noqa: E402
from tongxin.domain import requests as request_rules  # noqa: E402
from tongxin.domain import wishes as wish_rules  # noqa: E402
from tongxin.domain.points import wish_confirm_source  # noqa: E402

PLACE_HOLDING = frozenset({"signed", "checked_in", "checked_out", "no_show", "unsettled"})
SIGNUP_STATUSES = PLACE_HOLDING | {"waitlisted", "cancelled"}
WITH_CLAIMER = frozenset({"claimed", "fulfilled", "confirmed"})
WITHOUT_CLAIMER = frozenset({"pending_review", "open", "rejected", "expired"})
NOT_EARNINGS = frozenset({"redeem", "refund"})
HELD = frozenset({"pending_pickup", "picked_up"})
GIVEN_BACK = frozenset({"cancelled", "expired"})
OUTBOX_FINAL = frozenset({"sent", "skipped", "failed"})
STATS_PREFIXES = ("stats#wishes#", "stats#requests#", "stats#events#")
# Event statistics a final state tells (``signups`` and ``left`` count actions: a sign-up given up and taken again
# is one item).
EVENT_COUNTED = ("published", "cancelled", "capacity", "signed", "promotions", "waitlisted", "checked_in",
                 "walk_ins", "no_show", "unsettled")

# Every table the checker reads, and the model that reads its items (None: raw items, names are data).
TABLES: dict[str, type | None] = {model.TABLE: model for model in m.ALL_MODELS}
TABLES["counters"] = None


def check(client, table_name: Callable[[str], str], *, now: datetime | None = None,
          stock_issued: dict[str, int] | None = None) -> list[str]:
    """Every violation found in the stack whose tables ``client`` (a boto3/botocore DynamoDB client) reaches, with
    ``table_name("users")`` the physical name of each table; empty when every invariant holds.

    ``now``: the time "due" is judged at (default: the wall clock). ``stock_issued``: goods id → every unit ever
    put on its shelf (initial stock plus restocks), when the caller knows it: then the stock must be exact."""
    now = now or datetime.now(timezone.utc)
    data, problems = _load(client, table_name)
    return problems + _Checker(data, now, stock_issued or {}).run()


# --- reading ---------------------------------------------------------------------------------------------------

def _scan(client, table: str) -> Iterable[dict]:
    kwargs = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        yield from page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _load(client, table_name: Callable[[str], str]) -> tuple[dict[str, list], list[str]]:
    data: dict[str, list] = {}
    problems: list[str] = []
    for name, model in TABLES.items():
        physical = table_name(name)
        try:
            raw = list(_scan(client, physical))
        except Exception as exc:  # a missing table is a finding, not a crash
            problems.append(f"[table] {physical}: cannot be read ({type(exc).__name__}: {exc})")
            data[name] = []
            continue
        if model is None:
            data[name] = raw
            continue
        items = []
        for item in raw:
            try:
                items.append(model.from_raw_data(item))
            except Exception as exc:
                problems.append(f"[table] {physical} {_raw_key(item)}: unreadable item ({type(exc).__name__}: {exc})")
        data[name] = items
    return data, problems


def _raw_key(item: dict) -> str:
    return "/".join(str(next(iter(v.values()))) for k, v in sorted(item.items()) if k in ("id", "key", "openid"))


def _n(value) -> int:
    return int(value or 0)


def _raw_number(item: dict, name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value and "N" in value else 0


# --- the checks --------------------------------------------------------------------------------------------------

class _Checker:
    def __init__(self, data: dict[str, list], now: datetime, stock_issued: dict[str, int]):
        self.d, self.now, self.stock_issued = data, now, stock_issued
        self.out: list[str] = []
        self.users = {u.id: u for u in data["users"]}
        self.ledger: dict[str, list] = defaultdict(list)
        for entry in data["ledger"]:
            self.ledger[entry.user_id].append(entry)
        self.entries = {(e.user_id, e.entry_key): e for e in data["ledger"]}
        self.by_source: dict[tuple[str, str], list] = defaultdict(list)  # (kind, source) → entries
        for entry in data["ledger"]:
            self.by_source[(entry.kind, entry.source)].append(entry)
        self.events = {e.id: e for e in data["events"]}
        self.signups: dict[str, list] = defaultdict(list)
        for signup in data["signups"]:
            self.signups[signup.event_id].append(signup)
        self.communities = {c.id: c for c in data["communities"]}
        self.streets = {s.id: s for s in data["streets"]}
        self.grids = {(g.community_id, g.id): g for g in data["grids"]}
        self.counters = {c["key"]["S"]: c for c in data["counters"] if "key" in c}

    def fail(self, rule: str, where: str, what: str) -> None:
        self.out.append(f"[{rule}] {where}: {what}")

    def run(self) -> list[str]:
        for step in (self.users_and_ledger, self.ledger_keys, self.wishes, self.events_and_signups,
                     self.attendance, self.scores, self.store, self.awards, self.outbox, self.requests,
                     self.statistics, self.structure, self.identities):
            step()
        return self.out

    # users, ledger --------------------------------------------------------------------------------------------

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

    # wishes ---------------------------------------------------------------------------------------------------

    def wishes(self) -> None:
        wishes = {w.id: w for w in self.d["wishes"]}
        for (kind, source), entries in self.by_source.items():
            if kind == "wish" and source.split(":", 1)[-1] not in wishes:
                self.fail("wish-credit", f"ledger {source}", "credit of a wish that does not exist")
        for wish in self.d["wishes"]:
            where = f"wishes {wish.id}"
            status = wish.status
            if status in WITH_CLAIMER and not wish.claimer_id:
                self.fail("wish-claimer", where, f"status {status} without a claimer")
            if status in WITHOUT_CLAIMER and wish.claimer_id:
                self.fail("wish-claimer", where, f"status {status} with claimer {wish.claimer_id}")
            if wish.claimer_id and wish.claimer_id == wish.author_id:
                self.fail("wish-claimer", where, "claimed by its author")
            if bool(wish.claimer_id) != bool(wish.claimed_at) and status != "cancelled":
                self.fail("wish-claimer", where, "claimer_id and claimed_at disagree")
            credits = self.by_source.get(("wish", f"wish:{wish.id}"), [])
            if status == "confirmed":
                awarded = _n(wish.points_awarded)
                for entry in credits:  # more than one is credit-once's
                    if entry.user_id != wish.claimer_id:
                        self.fail("wish-credit", where, f"credited to {entry.user_id}, not its claimer "
                                                        f"{wish.claimer_id}")
                    elif _n(entry.amount) != awarded:
                        self.fail("wish-credit", where, f"credited {_n(entry.amount)} points, points_awarded "
                                                        f"{awarded}")
                if not credits and awarded:
                    self.fail("wish-credit", where, f"confirmed with {awarded} points and no ledger credit")
            elif credits:
                self.fail("wish-credit", where, f"status {status} but credited to {credits[0].user_id}")
            self.wish_keys(wish, where)

    def wish_keys(self, wish, where: str) -> None:
        try:
            status = wish_rules.WishStatus(wish.status)
        except ValueError:
            self.fail("wish-keys", where, f"unknown status {wish.status!r}")
            return
        keys = wish_rules.list_keys(wish.community_id, wish.grid_id, wish.category, status)
        for name, value in keys.items():
            if getattr(wish, name) != value:
                self.fail("wish-keys", where, f"{name} {getattr(wish, name)!r} != {value!r} (status {status.value})")
        escalated = wish.escalated_at is not None
        task = wish_rules.grid_task_key(wish.community_id, wish.grid_id) \
            if wish_rules.needs_grid_worker(status, escalated) else None
        if wish.grid_task != task:
            self.fail("wish-keys", where, f"grid_task {wish.grid_task!r} != {task!r} (status {status.value})")
        if status is wish_rules.S.OPEN and wish.published_at is None:
            self.fail("wish-keys", where, "open without published_at")
            return
        due = wish_rules.next_due(status, wish.published_at, wish.deadline, escalated)
        if wish.due_at != due or (due is not None) != (wish.due_shard == wish_rules.due_shard(wish.id)):
            self.fail("wish-keys", where, f"due_at {wish.due_at} (shard {wish.due_shard}) != next step {due}")

    # events and sign-ups --------------------------------------------------------------------------------------

    def events_and_signups(self) -> None:
        for event_id in sorted(set(self.signups) - set(self.events)):
            self.fail("signup-keys", f"signups {event_id}", "sign-ups of an event that does not exist")
        for event in self.d["events"]:
            where = f"events {event.id}"
            signups = self.signups.get(event.id, [])
            by_status = Counter(s.status for s in signups)
            holding = sum(n for status, n in by_status.items() if status in PLACE_HOLDING)
            signed, capacity = _n(event.signed_count), _n(event.capacity)
            if signed != holding:
                self.fail("event-signed", where, f"signed_count {signed} != sign-ups holding a place {holding} "
                                                 f"({dict(sorted(by_status.items()))})")
            if not 0 <= signed <= capacity:
                self.fail("event-signed", where, f"signed_count {signed} outside 0..capacity {capacity}")
            waiting = by_status.get("waitlisted", 0)
            if _n(event.waitlist_count) != waiting:
                self.fail("event-waitlist", where, f"waitlist_count {_n(event.waitlist_count)} != waitlisted "
                                                   f"sign-ups {waiting}")
            tickets = Counter(_n(s.position) for s in signups if s.position is not None)
            doubled = sorted(t for t, n in tickets.items() if n > 1)
            if doubled:
                self.fail("waitlist-position", where, f"tickets held twice: {doubled[:10]}")
            seq = _n(event.waitlist_seq)
            outside = sorted(t for t in tickets if not 1 <= t <= seq)
            if outside:
                self.fail("waitlist-position", where, f"tickets outside 1..waitlist_seq {seq}: {outside[:10]}")
            unticketed = sorted(s.user_id for s in signups if s.status == "waitlisted" and s.position is None)
            if unticketed:
                self.fail("waitlist-position", where, f"waitlisted without a ticket: {unticketed[:10]}")
            first_waiting = min((_n(s.position) for s in signups if s.status == "waitlisted"
                                 and s.position is not None), default=None)
            jumped = sorted(s.user_id for s in signups if s.promoted_at is not None and s.position is not None
                            and s.status in PLACE_HOLDING and first_waiting is not None
                            and _n(s.position) > first_waiting)
            if jumped:
                self.fail("promotion-order", where, f"promoted ahead of ticket {first_waiting}, still waiting: "
                                                    f"{jumped[:10]}")
            if (event.status or "open") == "open" and event.starts_at > self.now and waiting \
                    and signed < capacity and (event.due_at is None or event.due_at > self.now):
                self.fail("event-fill", where, f"{capacity - signed} places free, {waiting} waiting, and the "
                                               f"scheduler is not due to fill them (due_at {event.due_at})")
            for signup in signups:
                self.signup_keys(signup)

    def signup_keys(self, signup) -> None:
        where = f"signups {signup.event_id}/{signup.user_id}"
        if signup.status not in SIGNUP_STATUSES:
            self.fail("signup-keys", where, f"unknown status {signup.status!r}")
        if signup.roster_key != f"{signup.event_id}#{signup.status}":
            self.fail("signup-keys", where, f"roster_key {signup.roster_key!r} for status {signup.status}")
        standing = signup.status != "cancelled"
        if (signup.mine_key == signup.user_id) != standing or (signup.mine_key not in (None, signup.user_id)):
            self.fail("signup-keys", where, f"mine_key {signup.mine_key!r} for status {signup.status}")

    # attendance -----------------------------------------------------------------------------------------------

    def attendance(self) -> None:
        credits: dict[tuple[str, str], int] = defaultdict(int)  # (user, event) → points credited
        for entry in self.d["ledger"]:
            if entry.kind == "volunteer":
                credits[(entry.user_id, entry.source.split(":", 1)[-1])] += _n(entry.amount)
        minutes_of: dict[str, int] = defaultdict(int)
        record: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # user → minutes, points, attendances
        hours: dict[str, int] = defaultdict(int)  # community → minutes
        community_minutes: dict[tuple[str, str], int] = defaultdict(int)  # (community, user) → minutes
        seen: set[tuple[str, str]] = set()
        for signup in self.d["signups"]:
            where = f"signups {signup.event_id}/{signup.user_id}"
            key = (signup.user_id, signup.event_id)
            seen.add(key)
            minutes, points = signup.minutes, _n(signup.points)
            if minutes is not None and signup.status != "checked_out":
                self.fail("attendance", where, f"{minutes} minutes on a {signup.status} sign-up")
            if signup.status == "checked_out" and minutes is None:
                self.fail("attendance", where, "checked out without minutes")
            event = self.events.get(signup.event_id)
            if minutes is not None and event is not None:
                length = checkin_rules.event_minutes(event.starts_at, event.ends_at)
                if not 0 <= int(minutes) <= length:
                    self.fail("attendance", where, f"{int(minutes)} minutes outside 0..{length} (the event's length)")
            if credits.get(key, 0) != points:
                self.fail("attendance-credit", where,
                          f"points {points} != credited in the ledger {credits.get(key, 0)}")
            minutes = _n(minutes)
            minutes_of[signup.user_id] += minutes
            totals = record[signup.user_id]
            totals[0] += minutes
            totals[1] += points
            totals[2] += 1 if minutes > 0 else 0
            hours[signup.community_id] += minutes
            community_minutes[(signup.community_id, signup.user_id)] += minutes
        for key in sorted(set(credits) - seen):
            if credits[key]:
                self.fail("attendance-credit", f"ledger {key[0]}", f"{credits[key]} points credited for event {key[1]} "
                                                                   "without a sign-up")
        for user in self.d["users"]:
            if _n(user.volunteer_minutes) != minutes_of.get(user.id, 0):
                self.fail("minutes", f"users {user.id}", f"volunteer_minutes {_n(user.volunteer_minutes)} != "
                                                         f"attendance minutes {minutes_of.get(user.id, 0)}")
        years_of: dict[str, list[dict]] = defaultdict(list)  # user → their record#<user>#<year> counters
        for key, counter in self.counters.items():
            if key.startswith("record#") and not key.endswith("#all"):
                years_of[key.split("#")[1]].append(counter)
        recorded = {k.split("#")[1] for k in self.counters if k.startswith("record#")}
        for user_id in sorted(set(record) | recorded):
            counter, years = self.counters.get(f"record#{user_id}#all", {}), years_of.get(user_id, [])
            for index, name in enumerate(("r:minutes", "r:points", "r:count")):
                stored, expected = _raw_number(counter, name), record.get(user_id, [0, 0, 0])[index]
                if stored != expected:
                    self.fail("volunteer-record", f"counters record#{user_id}#all",
                              f"{name} {stored} != the attendances' {expected}")
                by_year = sum(_raw_number(c, name) for c in years)
                if by_year != stored:
                    self.fail("volunteer-record", f"counters record#{user_id}#<year>",
                              f"{name}: the years' sum {by_year} != all time {stored}")
        stored_hours: dict[str, int] = defaultdict(int)
        for key, counter in self.counters.items():
            if key.startswith("stats#hours#"):
                stored_hours[key.split("#")[2]] += _raw_number(counter, "m:minutes")
        for community_id in sorted(set(stored_hours) | {c for c, n in hours.items() if n}):
            if stored_hours.get(community_id, 0) != hours.get(community_id, 0):
                self.fail("volunteer-record", f"counters stats#hours#{community_id}", f"minutes "
                          f"{stored_hours.get(community_id, 0)} != the attendances' {hours.get(community_id, 0)}")
        self.community_minutes = community_minutes

    # leaderboards ---------------------------------------------------------------------------------------------

    def scores(self) -> None:
        boards: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for score in self.d["scores"]:
            parts = score.board.split("#")
            if len(parts) != 4:
                self.fail("scores", f"scores {score.board}", "not a <metric>#<scope>#<id>#<period> board")
                continue
            metric, scope, scope_id, period = parts
            kind = "all" if period == "all" else ("year" if len(period) == 4 else "month")
            boards[(metric, scope, scope_id, score.user_id)][kind] += _n(score.score)
        points: dict[tuple[str, str], int] = defaultdict(int)
        for entry in self.d["ledger"]:
            if entry.kind not in NOT_EARNINGS and entry.community_id:
                points[(entry.community_id, entry.user_id)] += _n(entry.amount)
        expected = {("points", c, u): n for (c, u), n in points.items() if n}
        expected.update({("minutes", c, u): n for (c, u), n in self.community_minutes.items() if n})
        actual = {(metric, scope_id, user): sums.get("all", 0)
                  for (metric, scope, scope_id, user), sums in boards.items() if scope == "community"}
        for key in sorted(set(expected) | {k for k, v in actual.items() if v}):
            if expected.get(key, 0) != actual.get(key, 0):
                metric, community_id, user_id = key
                self.fail("scores", f"scores {metric}#community#{community_id}#all/{user_id}",
                          f"{actual.get(key, 0)} != the {'ledger' if metric == 'points' else 'attendances'}' "
                          f"{expected.get(key, 0)}")
        for (metric, scope, scope_id, user_id), sums in sorted(boards.items()):
            if not sums.get("all", 0) == sums.get("year", 0) == sums.get("month", 0):
                self.fail("scores", f"scores {metric}#{scope}#{scope_id}/{user_id}",
                          f"month {sums.get('month', 0)}, year {sums.get('year', 0)} and all-time {sums.get('all', 0)} "
                          "totals differ")

    # the store ------------------------------------------------------------------------------------------------

    def store(self) -> None:
        stores = {(s.community_id, s.id) for s in self.d["stores"]}
        held: dict[str, int] = defaultdict(int)
        allowance: dict[tuple[str, str], int] = defaultdict(int)
        codes = {c.key: c for c in self.d["pickup_codes"]}
        redemptions = {r.id: r for r in self.d["redemptions"]}
        for r in self.d["redemptions"]:
            where = f"redemptions {r.id}"
            quantity, points = _n(r.quantity), _n(r.points)
            if r.status in HELD:
                held[r.goods_id] += quantity
                allowance[(r.goods_id, r.user_id)] += quantity
            elif r.status not in GIVEN_BACK:
                self.fail("redemption", where, f"unknown status {r.status!r}")
            if points != _n(r.price_points) * quantity or quantity <= 0:
                self.fail("redemption", where, f"points {points} != price {_n(r.price_points)} × quantity {quantity}")
            debit = self.entries.get((r.user_id, f"redeem#{r.id}"))
            if debit is None or _n(debit.amount) != -points:
                self.fail("redemption", where, f"debit redeem#{r.id} of {-points} on {r.user_id}'s ledger: "
                                               f"{'missing' if debit is None else _n(debit.amount)}")
            refund = self.entries.get((r.user_id, f"refund#{r.id}"))
            if r.status in GIVEN_BACK and (refund is None or _n(refund.amount) != points):
                self.fail("redemption", where, f"{r.status} but refund#{r.id} of {points}: "
                                               f"{'missing' if refund is None else _n(refund.amount)}")
            if r.status in HELD and refund is not None:
                self.fail("redemption", where, f"{r.status} and refunded too")
            code = codes.get(f"{r.community_id}#{r.pickup_code}")
            if code is None or code.redemption_id != r.id:
                self.fail("redemption", where, f"pickup code {r.pickup_code} not held for it "
                                               f"({'no item' if code is None else code.redemption_id})")
            if r.store_status != f"{r.store_id}#{r.status}":
                self.fail("redemption", where, f"store_status {r.store_status!r} for status {r.status}")
            if (r.status == "pending_pickup") != (r.due_at is not None):
                self.fail("redemption", where, f"due_at {r.due_at} for status {r.status}")
        for (kind, source), entries in self.by_source.items():
            if kind in ("redeem", "refund") and source.split(":", 1)[-1] not in redemptions:
                self.fail("redemption", f"ledger {source}", f"{kind} of a redemption that does not exist")
        for code in self.d["pickup_codes"]:
            if code.redemption_id not in redemptions:
                self.fail("redemption", f"pickup_codes {code.key}", "held for a redemption that does not exist")
        for goods in self.d["goods"]:
            where = f"goods {goods.id}"
            if _n(goods.stock) < 0:
                self.fail("stock", where, f"stock {_n(goods.stock)} < 0")
            if (goods.community_id, goods.store_id) not in stores:
                self.fail("stock", where, f"its store {goods.store_id} does not exist")
            if goods.id in self.stock_issued:
                expected = self.stock_issued[goods.id] - held.get(goods.id, 0)
                if _n(goods.stock) != expected:
                    self.fail("stock-exact", where, f"stock {_n(goods.stock)} != issued {self.stock_issued[goods.id]} "
                                                    f"- held {held.get(goods.id, 0)} = {expected}")
        counted = {}
        for key, counter in self.counters.items():
            if key.startswith("allow#"):
                _, goods_id, user_id = key.split("#", 2)
                counted[(goods_id, user_id)] = _raw_number(counter, "n")
        for key in sorted(set(counted) | set(allowance)):
            if counted.get(key, 0) != allowance.get(key, 0):
                self.fail("allowance", f"counters allow#{key[0]}#{key[1]}",
                          f"n {counted.get(key, 0)} != held (pending or picked up) {allowance.get(key, 0)}")

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

    # the outbox -----------------------------------------------------------------------------------------------

    def outbox(self) -> None:
        messages = self.d["outbox"]
        children: dict[str, int] = defaultdict(int)
        fanouts = {msg.id for msg in messages if msg.status in ("fanout", "expanded")}
        for msg in messages:
            parent, _, person = msg.id.rpartition("#")
            if parent in fanouts and person == msg.recipient_id and parent != msg.id:
                children[parent] += 1
        for msg in messages:
            where = f"outbox {msg.id}"
            status = msg.status
            on_retry_index = msg.retry_shard is not None or msg.next_attempt_at is not None
            if status in OUTBOX_FINAL:
                if on_retry_index or msg.lease_token is not None:
                    self.fail("outbox", where, f"{status} but still on the sender's index or leased")
                if status == "sent" and msg.sent_at is None:
                    self.fail("outbox", where, "sent without sent_at")
            elif status in ("pending", "sending"):
                if msg.next_attempt_at is None or msg.retry_shard != push_rules.retry_shard(msg.id):
                    self.fail("outbox", where, f"{status} and not due for retry: next_attempt_at "
                                               f"{msg.next_attempt_at}, retry_shard {msg.retry_shard!r} (a message "
                                               "stuck)")
                if status == "sending" and (msg.lease_until is None or msg.lease_token is None):
                    self.fail("outbox", where, "sending without a lease")
            elif status == "fanout":
                if msg.fanout_key != "pending" or not msg.audience:
                    written = children.get(msg.id, 0)
                    self.fail("outbox", where, f"a fan-out off the expansion index (fanout_key {msg.fanout_key!r}): "
                                               f"never expanded or resumed ({written} messages written, cursor "
                                               f"{msg.fanout_cursor})")
            elif status == "expanded":
                if msg.fanout_key is not None:
                    self.fail("outbox", where, "expanded but still on the expansion index")
                if children.get(msg.id, 0) < _n(msg.expanded_count):
                    self.fail("outbox", where, f"expanded_count {_n(msg.expanded_count)} but "
                                               f"{children.get(msg.id, 0)} messages written")
            else:
                self.fail("outbox", where, f"unknown status {status!r}")
        for key, counter in self.counters.items():
            if key.startswith("quota#") and _raw_number(counter, "n") < 0:
                self.fail("quota", f"counters {key}", f"n {_raw_number(counter, 'n')} < 0")

    # 接诉即办 ---------------------------------------------------------------------------------------------------

    def requests(self) -> None:
        for r in self.d["requests"]:
            where = f"requests {r.id}"
            try:
                status, level = request_rules.S(r.status), request_rules.L(r.level)
            except ValueError:
                self.fail("request", where, f"unknown status {r.status!r} or level {r.level!r}")
                continue
            with_handler = status in request_rules.WITH_HANDLER
            key = request_rules.handler_key(level, r.community_id, r.grid_id, r.street_id) if with_handler else None
            due = request_rules.handler_due(status, r.answer_due, r.solve_due) if with_handler else None
            if r.handler_key != key or r.handler_due != due:
                self.fail("request", where, f"handler_key {r.handler_key!r} / handler_due {r.handler_due} != "
                                            f"{key!r} / {due} (status {status.value}, level {level.value})")
            next_due = request_rules.next_due(status, answer_due=r.answer_due, solve_due=r.solve_due,
                                              late_here=bool(r.late_here), overdue_here=bool(r.overdue_here),
                                              resolved_at=r.resolved_at)
            shard = request_rules.due_shard(r.id) if next_due is not None else None
            if r.due_at != next_due or r.due_shard != shard:
                self.fail("request", where, f"due_at {r.due_at} (shard {r.due_shard}) != next step {next_due}")
            closed = status is request_rules.S.CLOSED
            if closed != (r.outcome is not None) or (closed and r.outcome not in request_rules.OUTCOMES):
                self.fail("request", where, f"outcome {r.outcome!r} for status {status.value}")
            if closed != (r.closed_at is not None):
                self.fail("request", where, f"closed_at {r.closed_at} for status {status.value}")
            if level.value not in (r.levels_reached or ()):
                self.fail("request", where, f"at level {level.value}, not among those reached {r.levels_reached}")
            if level is request_rules.L.STREET and not r.street_id:
                self.fail("request", where, "at the street level without a street")
            if not r.timeline or r.timeline[0].action != "submit":
                first = r.timeline[0].action if r.timeline else None
                self.fail("request", where, f"timeline does not start with submit (first: {first!r})")

    # statistics ---------------------------------------------------------------------------------------------------

    def statistics(self) -> None:
        """Each area's counters (one item per community and day, and per month, of the thing's creation) == what its
        items count: every change adds its delta in its own transaction, so the deltas add up to the final item's."""
        expected: dict[str, Counter] = defaultdict(Counter)
        for wish in self.d["wishes"]:
            fields = {name: getattr(wish, name) for name in ("status", "category", "grid_id", "published_at",
                                                             "first_claimed_at", "confirmed_at")}
            for key in wish_rules.stats_keys(wish.community_id, wish.created_at):
                expected[key].update(stats_rules.wish_deltas(None, fields))
        for r in self.d["requests"]:
            facts = {"category": r.category, "grid_id": r.grid_id, "created_at": r.created_at,
                     "first_answered_at": r.first_answered_at, "answered_on_time": r.answered_on_time,
                     "late": r.late, "escalated": len(r.levels_reached or ()) > 1,
                     "first_resolved_at": r.first_resolved_at, "overdue": r.overdue, "reopened_at": r.reopened_at,
                     "outcome": r.outcome}
            for key in request_rules.stats_keys(r.community_id, r.created_at):
                expected[key].update(request_rules.deltas(None, facts))
        for event in self.d["events"]:
            signups = self.signups.get(event.id, [])
            standing = (event.status or "open") != "cancelled"
            counts = {"published": 1, "cancelled": 0 if standing else 1,
                      "capacity": _n(event.capacity) if standing else 0,
                      "signed": _n(event.signed_count) if standing else 0, "promotions": _n(event.promotions),
                      "waitlisted": _n(event.waitlist_seq),
                      "checked_in": sum(1 for x in signups if x.checked_in_at is not None),
                      "walk_ins": sum(1 for x in signups if x.walk_in),
                      "no_show": sum(1 for x in signups if x.status == "no_show"),
                      "unsettled": sum(1 for x in signups if x.status == "unsettled")}
            for key in event_rules.stats_keys(event.community_id, event.created_at):
                expected[key].update(event_rules.stats_deltas(counts))
        event_names = {f"ev:{name}" for name in EVENT_COUNTED}
        for key in sorted(set(expected) | {k for k in self.counters if k.startswith(STATS_PREFIXES)}):
            stored = {name: int(value["N"]) for name, value in self.counters.get(key, {}).items() if "N" in value}
            names = set(expected[key]) | set(stored)
            if key.startswith("stats#events#"):
                names &= event_names  # sign-ups and departures are counted per action, not kept on any item
            else:
                names.discard("expires_at")
            for name in sorted(names):
                if stored.get(name, 0) != expected[key].get(name, 0):
                    self.fail("statistics", f"counters {key}",
                              f"{name} {stored.get(name, 0)} != what the items count {expected[key].get(name, 0)}")

    # streets, communities, grids, roles -------------------------------------------------------------------------

    def structure(self) -> None:
        active = {u.id: u for u in self.d["users"] if u.status == "active"}
        for c in self.d["communities"]:
            if c.street_id and c.id not in (getattr(self.streets.get(c.street_id), "community_ids", None) or ()):
                self.fail("structure", f"communities {c.id}", f"street_id {c.street_id} does not list it")
            for user_id in sorted(c.admin_ids or ()):
                u = active.get(user_id)
                if u is None or u.community_id != c.id or "admin" not in (u.roles or ()):
                    self.fail("structure", f"communities {c.id}", f"admin_ids has {user_id}, not an active admin of it")
        for s in self.d["streets"]:
            for community_id in sorted(s.community_ids or ()):
                c = self.communities.get(community_id)
                if c is None or c.street_id != s.id:
                    self.fail("structure", f"streets {s.id}", f"community_ids has {community_id}, whose street_id is "
                                                              f"{getattr(c, 'street_id', '(no community)')}")
            for user_id in sorted(s.staff_ids or ()):
                u = active.get(user_id)
                if u is None or s.id not in (u.street_ids or ()):
                    self.fail("structure", f"streets {s.id}", f"staff_ids has {user_id}, not active staff of it")
        for g in self.d["grids"]:
            for user_id in sorted(g.worker_ids or ()):
                u = active.get(user_id)
                if u is None or u.community_id != g.community_id or g.id not in (u.grid_ids or ()):
                    self.fail("structure", f"grids {g.community_id}/{g.id}", f"worker_ids has {user_id}, not an "
                                                                             "active worker of it")
        for u in active.values():
            where, roles = f"users {u.id}", set(u.roles or ())
            if u.community_id and u.community_id not in self.communities:
                self.fail("structure", where, f"community {u.community_id} does not exist")
            if u.grid_id and (u.community_id, u.grid_id) not in self.grids:
                self.fail("structure", where, f"grid {u.grid_id} does not exist in {u.community_id}")
            for grid_id in sorted(u.grid_ids or ()):
                g = self.grids.get((u.community_id, grid_id))
                if g is None or u.id not in (g.worker_ids or ()):
                    self.fail("structure", where, f"grid_ids has {grid_id}, whose worker_ids do not list them")
            if bool(u.grid_ids) != ("grid_worker" in roles):
                self.fail("structure", where, f"roles {sorted(roles)} and grid_ids {sorted(u.grid_ids or ())} disagree")
            for street_id in sorted(u.street_ids or ()):
                if u.id not in (getattr(self.streets.get(street_id), "staff_ids", None) or ()):
                    self.fail("structure", where, f"street_ids has {street_id}, whose staff_ids do not list them")
            if bool(u.street_ids) != ("street_staff" in roles):
                self.fail("structure", where, f"roles {sorted(roles)} and street_ids {sorted(u.street_ids or ())} "
                                              "disagree")
            admins = getattr(self.communities.get(u.community_id), "admin_ids", None) or ()
            if "admin" in roles and u.id not in admins:
                self.fail("structure", where, f"an admin missing from {u.community_id}'s admin_ids")

    def identities(self) -> None:
        for identity in self.d["identities"]:
            u = self.users.get(identity.user_id)
            if u is None or u.status != "active" or u.openid != identity.openid:
                self.fail("identity", f"identities {identity.user_id}", "maps an openid to a user that is gone or "
                                                                        "holds another openid")
        mapped = {i.openid: i.user_id for i in self.d["identities"]}
        for u in self.d["users"]:
            if u.status == "active" and u.openid and mapped.get(u.openid) != u.id:
                self.fail("identity", f"users {u.id}", "its openid maps to another user (or none)")


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


# --- the command line -----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.invariants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:8002",
                        help="DynamoDB endpoint (make dev's embedded DynamoDB by default; none: AWS)")
    parser.add_argument("--prefix", default="tongxin-dev", help="table prefix (<prefix>-users, ...)")
    parser.add_argument("--region", default="cn-north-1")
    args = parser.parse_args(argv)
    import boto3
    local = args.endpoint and args.endpoint.startswith(("http://127.", "http://localhost"))
    client = boto3.client("dynamodb", endpoint_url=args.endpoint or None, region_name=args.region,
                          **({"aws_access_key_id": "local", "aws_secret_access_key": "local"} if local else {}))
    violations = check(client, lambda name: f"{args.prefix}-{name}")
    for line in violations:
        print(line)
    if violations:
        print(f"{len(violations)} violation(s)", file=sys.stderr)
        return 1
    print(f"all invariants hold ({args.prefix}-* at {args.endpoint or 'AWS'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
