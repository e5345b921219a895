"""The wishes' invariants (微心愿): ``wish-claimer`` (a claimer iff the status holds one, never the author),
``wish-credit`` (a confirmed wish credited to its claimer once, ``points_awarded`` points; no other wish credited)
and ``wish-keys`` (the list, grid-task and due keys its status brings, as ``domain/wishes`` derives them)."""
from __future__ import annotations

from infra.proof.invariants.tables import _n
from tongxin.domain import wishes as wish_rules

WITH_CLAIMER = frozenset({"claimed", "fulfilled", "confirmed"})
WITHOUT_CLAIMER = frozenset({"pending_review", "open", "rejected", "expired"})


class WishChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

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
