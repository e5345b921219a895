"""The attendance's invariants: ``attendance`` (minutes only on a checked-out sign-up, within the event's length),
``attendance-credit`` (its ``points`` == its ledger credits), ``minutes`` (a user's ``volunteer_minutes``) and
``volunteer-record`` (the ``record#<user>#…`` counters and the community's ``stats#hours#…``). It leaves
``community_minutes`` ((community, user) → minutes) for the leaderboards (``scores.py``), which run after it."""
from __future__ import annotations

from collections import defaultdict

from infra.proof.invariants.tables import _n, _raw_number
from tongxin.domain import checkin as checkin_rules


class AttendanceChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

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
