"""The scheduler's one run (EventBridge every few minutes; a timer in the local stack): each area's periodic
steps, then the push sweep (fan-outs expanded, messages due delivered). Every step is safe to run twice."""
from __future__ import annotations

from datetime import datetime

from ..domain.clock import utcnow
from ..wiring import get_container
from . import bulletin, events, points, push, requests, wishes


def run(now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"wishes": wishes.run_schedule(now), "events": events.run_schedule(now),
            "redemptions": points.run_schedule(now), "requests": requests.run_schedule(now),
            "bulletin": bulletin.run_schedule(now),
            "push": push.sweep(get_container(), now)}
