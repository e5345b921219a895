"""The scheduler's one run (EventBridge every few minutes; a timer in the local stack): each area's periodic
steps, then the push sweep (fan-outs expanded, messages due delivered). Every step is safe to run twice.

Each step runs on its own: one that fails (a throttled table, a bug) is logged with its name and the others still
run — the push sweep above all, which delivers what every other step wrote — then the run fails as a whole, so the
function's error metric and alarm see it and the next run tries the step again."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable

from ..domain.clock import utcnow
from ..wiring import get_container
from . import ballots, bulletin, events, points, push, requests, round_notices, service_cards, wishes

log = logging.getLogger(__name__)


class ScheduleStepsFailed(RuntimeError):
    """Some steps of the run failed (named); the others ran."""


def run(now: datetime | None = None) -> dict:
    now = now or utcnow()
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("wishes", lambda: wishes.run_schedule(now)), ("events", lambda: events.run_schedule(now)),
        ("redemptions", lambda: points.run_schedule(now)), ("requests", lambda: requests.run_schedule(now)),
        ("bulletin", lambda: bulletin.run_schedule(now)), ("service_cards", lambda: service_cards.run_schedule(now)),
        ("project_rounds", lambda: ballots.run_schedule(now)),
        ("round_notices", lambda: round_notices.run_schedule(now)),
        ("push", lambda: push.sweep(get_container(), now))]
    done: dict[str, Any] = {}
    failed: list[str] = []
    for name, step in steps:
        try:
            done[name] = step()
        except Exception:  # noqa: BLE001 - one step's failure must not stop the others (the sweep above all)
            log.exception("schedule step failed", extra={"step": name})
            failed.append(name)
    if failed:
        raise ScheduleStepsFailed(f"schedule steps failed: {', '.join(failed)}")
    return done
