"""The events' and sign-ups' invariants: ``event-signed`` (``signed_count`` == the sign-ups holding a place, within
capacity), ``event-waitlist``, ``waitlist-position`` (tickets distinct, held by every waitlisted sign-up, within
``waitlist_seq``), ``promotion-order``, ``event-fill`` (free places while people wait ⇒ the scheduler is due) and
``signup-keys`` (roster and "mine" keys match the status, the event exists)."""
from __future__ import annotations

from collections import Counter

from infra.proof.invariants.tables import _n

PLACE_HOLDING = frozenset({"signed", "checked_in", "checked_out", "no_show", "unsettled"})
SIGNUP_STATUSES = PLACE_HOLDING | {"waitlisted", "cancelled"}


class EventChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

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
        # Standing: in the user's list; given up: findable under <user>#cancelled (注销 erases every name), or
        # absent (given up before that key existed).
        expected = (signup.user_id,) if signup.status != "cancelled" else (f"{signup.user_id}#cancelled", None)
        if signup.mine_key not in expected:
            self.fail("signup-keys", where, f"mine_key {signup.mine_key!r} for status {signup.status}")
