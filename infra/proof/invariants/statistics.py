"""The statistics counters' invariant (``statistics``): each wish, request and event counter (per community, day and
month of the item's creation) == what the items count now, the deltas of ``domain/stats``, ``domain/requests``
and ``domain/events`` from nothing to each item as it stands; and each department's request counter (区直部门, per
department, day and month of the request's creation: ``stats#requests-dept#``) == what the requests it reached
count, ``domain/requests.dept_deltas`` from nothing to each (received, and its ``department_facts``).
``EVENT_COUNTED``: the event statistics a final state tells."""
from __future__ import annotations

from collections import Counter, defaultdict

from infra.proof.invariants.tables import _n
from tongxin.domain import events as event_rules
from tongxin.domain import requests as request_rules
from tongxin.domain import stats as stats_rules
from tongxin.domain import wishes as wish_rules

STATS_PREFIXES = ("stats#wishes#", "stats#requests#", "stats#requests-dept#", "stats#events#")
# Event statistics a final state tells (``signups`` and ``left`` count actions: a sign-up given up and taken again
# is one item).
EVENT_COUNTED = ("published", "cancelled", "capacity", "signed", "promotions", "waitlisted", "checked_in",
                 "walk_ins", "no_show", "unsettled")


class StatisticsChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

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
                     "outcome": r.outcome, "resolved_on_time": r.resolved_on_time, "extended": r.extended}
            for key in request_rules.stats_keys(r.community_id, r.created_at):
                expected[key].update(request_rules.deltas(None, facts))
            if r.department_id:  # the department it reached: received, and what the department did (its own facts)
                reached = {"department_id": r.department_id, "category": r.category,
                           "department_facts": r.department_facts}
                for key in request_rules.dept_stats_keys(r.department_id, r.created_at):
                    expected[key].update(request_rules.dept_deltas(None, reached))
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
