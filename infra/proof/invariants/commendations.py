"""微星光's invariants (usecases/commendations.py): ``commendation-count`` (every user's ``commendations_count`` == their
standing commendations, and ``latest_commendation`` names the newest of them, or nothing when none stands),
``commendation-key`` (every standing commendation holds its natural key item, every natural key item belongs to a
standing commendation: one per person, period and title) and ``commendation-period`` (each ``commended#…#<period>``
counter == the person's standing commendations of that period, the candidates' ``commended``)."""
from __future__ import annotations

from collections import Counter, defaultdict

from infra.proof.invariants.tables import _n, _raw_number
from tongxin.domain import commendations as rules


class CommendationChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def commendations(self) -> None:
        standing = [c for c in self.d.get("commendations", []) if c.status == rules.ACTIVE]
        by_user: dict[str, list] = defaultdict(list)
        for item in standing:
            by_user[item.user_id].append(item)
            where = f"commendations {item.id}"
            if item.listed_community != item.community_id \
                    or item.listed_person != rules.person_key(item.community_id, item.user_id):
                self.fail("commendation-key", where, "standing, but not (or wrongly) on its lists' indexes")
        for item in self.d.get("commendations", []):
            if item.status != rules.ACTIVE and (item.listed_community or item.listed_person):
                self.fail("commendation-key", f"commendations {item.id}", "revoked, but still on a list's index")
        for user in self.d["users"]:
            have, mine = _n(user.commendations_count), by_user.get(user.id, [])
            if have != len(mine):
                self.fail("commendation-count", f"users {user.id}",
                          f"commendations_count {have} != its standing commendations {len(mine)}")
            latest = user.latest_commendation
            newest = max(mine, key=lambda c: c.created_at, default=None)
            if newest is None and latest is not None and have:
                self.fail("commendation-count", f"users {user.id}", f"latest_commendation {latest.id}, none stands")
            elif newest is not None and (latest is None or latest.id not in {c.id for c in mine}):
                self.fail("commendation-count", f"users {user.id}",
                          f"latest_commendation {latest.id if latest else None} is not a standing one")
        keys = {rules.key_of(c.community_id, c.user_id, c.period, c.title): c for c in standing}
        periods = Counter(rules.period_counter(c.community_id, c.user_id, c.period) for c in standing)
        for key, item in self.counters.items():
            if key.startswith("commendation#") and key not in keys:
                self.fail("commendation-key", f"counters {key}", "a natural key of no standing commendation")
            have = _raw_number(item, "n")
            if key.startswith("commended#") and have != periods.get(key, 0):
                self.fail("commendation-period", f"counters {key}",
                          f"n {have} != the standing commendations of the period {periods.get(key, 0)}")
        for key, item in keys.items():
            if key not in self.counters:
                self.fail("commendation-key", f"commendations {item.id}", f"standing without its natural key {key}")
        for key, count in periods.items():
            if key not in self.counters:
                self.fail("commendation-period", f"counters {key}", f"missing: {count} standing")
