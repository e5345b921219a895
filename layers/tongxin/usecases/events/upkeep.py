"""What keeps events moving without their organiser: the 24 h reminder, filling places the waitlist should have
taken (a large capacity raise, an index that lagged), and closing attendance 2 h after the end (check-ins left open
become unsettled, the signed who never came no-shows). The scheduler calls ``run_schedule``; each step is
conditioned on the due time it was selected by, and messages are keyed by cause, so running it twice is safe."""
from __future__ import annotations

import logging
from datetime import datetime

from ...adapters.dynamo.models import EventModel
from ...adapters.dynamo.tx import Tx
from ...domain import events as rules
from ...domain.clock import utcnow
from ...domain.errors import DomainError, InvalidState
from .. import notifications
from ..checkins.settling import close_attendance
from .signups import as_changed, fill, next_due

log = logging.getLogger(__name__)


def run_schedule(now: datetime | None = None) -> dict:
    now = now or utcnow()
    done = {"reminded": 0, "promoted": 0, "unsettled": 0, "no_show": 0, "skipped": 0}
    for shard in range(rules.DUE_SHARDS):
        for event in EventModel.by_due.query(f"due#{shard}", EventModel.due_at <= now):
            try:
                if (event.status or "open") == "open" and event.waitlist_count and event.signed_count < event.capacity \
                        and event.starts_at > now:
                    done["promoted"] += fill(event.id, now)
                elif (event.status or "open") == "open" and event.closed_at is None \
                        and now >= event.ends_at + rules.CLOSE_AFTER_END:
                    closed = close_attendance(event, now)
                    done["unsettled"] += closed["unsettled"]
                    done["no_show"] += closed["no_show"]
                elif _remind(event, now):
                    done["reminded"] += 1
                else:
                    done["skipped"] += 1
            except DomainError:  # changed since selected (cancelled, rescheduled, or another run did it)
                done["skipped"] += 1
    if any(n for name, n in done.items() if name != "skipped"):
        log.info("event schedule run", extra=done)
    return done


def _remind(event: EventModel, now: datetime) -> bool:
    """Tell everyone signed that the event starts within 24 h: one fan-out item keyed by the event and its start
    time (a rescheduled event is reminded again, for its new start), and the event marked reminded."""
    due_now = (event.status or "open") == "open" and event.reminded_for != event.starts_at \
        and event.starts_at - rules.REMIND_BEFORE <= now < event.starts_at
    tx = Tx()
    reminded = as_changed(event, {"reminded_for": event.starts_at}) if due_now else event
    actions = next_due(reminded, now)
    if due_now:
        actions.append(EventModel.reminded_for.set(event.starts_at))
        notifications.fan_out(tx, key=f"event#{event.id}#reminder#{int(event.starts_at.timestamp())}",
                              kind="event_reminder", audience=notifications.roster_audience(event.id, ["signed"]),
                              data={"event_id": event.id, "title": event.title,
                                    "starts_at": event.starts_at.isoformat(),
                                    "address": (event.location or {}).get("address")},
                              page=notifications.EVENT_PAGE.format(id=event.id), community_id=event.community_id)
    tx.update(EventModel(event.id), actions, condition=(EventModel.due_at == event.due_at)
              & (EventModel.starts_at == event.starts_at), error=InvalidState())
    tx.commit()
    return due_now
