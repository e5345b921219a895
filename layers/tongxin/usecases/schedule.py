"""The scheduler's one run (EventBridge every few minutes; a timer in the local stack): each area's periodic
steps, then the fan-out items they and the API wrote. Every step is safe to run twice."""
from __future__ import annotations

from datetime import datetime

from ..domain.clock import utcnow
from . import events, notifications, points, wishes


def run(now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"wishes": wishes.run_schedule(now), "events": events.run_schedule(now),
            "redemptions": points.run_schedule(now),
            "fanouts": notifications.expand_fanouts()}
