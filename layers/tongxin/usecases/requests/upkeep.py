"""What keeps requests moving when nobody acts: the scheduler's steps, and what 注销 does to a leaving author.

The scheduler reads the due index (one Query per shard) and takes each due request's step in ONE transaction
conditioned on the state, level and due time it was selected by: run twice, or after a handler acted, a step finds
its condition gone and is skipped. Messages are keyed by the step, so none is written twice.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ... import metrics
from ...adapters.dynamo.models import RequestModel
from ...adapters.dynamo.tx import Tx
from ...domain import requests as rules
from ...domain.access import Principal
from ...domain.clock import utcnow
from ...domain.errors import DomainError, StorageBusy
from ...domain.requests import Level as L, RequestStatus as S
from ...domain.text import DELETED_NICKNAME
from .steps import arrive, entry, refusal, same_state, tell_level, write_step

log = logging.getLogger(__name__)
STEPS = ("auto_escalate", "mark_late", "mark_overdue", "close_unrated")
METRICS = {"auto_escalate": "request_auto_escalated", "mark_late": "request_late", "mark_overdue": "request_overdue",
           "close_unrated": "request_closed_unrated"}  # tongxin.metrics


def _selected(request: RequestModel):
    return same_state(request) & (RequestModel.due_at == request.due_at)


def _step(request: RequestModel, action: str, now: datetime) -> None:
    tx = Tx()
    changes: dict[str, Any] = {"updated_at": now}
    level = L(request.level)
    if action == "auto_escalate":
        target = rules.level_above(level, request.street_id)
        changes.update(late=True, **arrive(request, target, now))
        after = write_step(tx, request, changes, entry(action, level.value, now,
                                                       note=f"{rules.LEVEL_LABELS[level]}超时未响应"),
                           condition=_selected(request), error=refusal(action))
        tell_level(tx, request, target, "request_escalated", reason=f"{rules.LEVEL_LABELS[level]}超时未响应，自动吹哨",
                   answer_due=after.answer_due.isoformat())
    elif action == "mark_late":  # the top level itself did not answer in time: marked, still theirs
        changes.update(late=True, late_here=True)
        write_step(tx, request, changes, entry(action, level.value, now), condition=_selected(request),
                   error=refusal(action))
    elif action == "mark_overdue":  # the level above is told (the district above a street or a department; where
        changes.update(overdue=True, overdue_here=True)  # nobody oversees the level, the level itself)
        write_step(tx, request, changes, entry(action, level.value, now), condition=_selected(request),
                   error=refusal(action))
        tell_level(tx, request, rules.overseer(level, request.street_id, request.district_id) or level,
                   "request_overdue",
                   level_label=rules.LEVEL_LABELS[level], solve_due=request.solve_due.isoformat())
    else:  # close_unrated
        changes.update(status=S.CLOSED.value, outcome="unrated", closed_at=now)
        write_step(tx, request, changes, entry(action, level.value, now), condition=_selected(request),
                   error=refusal(action))
    tx.commit()


def run_schedule(now: datetime | None = None) -> dict:
    now = now or utcnow()
    done = {name: 0 for name in STEPS} | {"skipped": 0}
    for shard in range(rules.DUE_SHARDS):
        for request in RequestModel.by_due.query(f"due#{shard}", RequestModel.due_at <= now):
            action = rules.scheduled_step(
                request.status, level=request.level, street_id=request.street_id, answer_due=request.answer_due,
                solve_due=request.solve_due, late_here=bool(request.late_here),
                overdue_here=bool(request.overdue_here), resolved_at=request.resolved_at, now=now)
            if action is None:
                done["skipped"] += 1
                continue
            try:
                _step(request, action, now)
                done[action] += 1
                metrics.count(METRICS[action])
            except DomainError:  # changed since selected (a handler acted, or another run did it)
                done["skipped"] += 1
    if any(done[name] for name in STEPS):
        log.info("request schedule run", extra=done)
    return done


def _leave_staff_lists(user_id: str) -> None:
    from ..access import current_user
    from ..districts import forget_deleted_staff
    user = current_user(Principal(user_id=user_id))  # the caller, as read for this request
    if user.district_ids or user.department_ids:
        forget_deleted_staff(user)


def forget_deleted_user(user_id: str) -> None:
    """注销: the author's name and phone and the request's address are erased from every request they raised (one
    write each), their name from the timeline's steps too (each step keeps the name it was taken under); the
    requests themselves stay with their handlers — the problem is still there to solve — and, left unrated, close
    as such. A leaving district or department staff member leaves the staff lists whom the district's and the
    departments' messages reach (the street's and the community's are left in the account's closing transaction)."""
    _leave_staff_lists(user_id)
    erased = {"author_nickname": DELETED_NICKNAME, "author_phone": None, "address": None, "lat": None, "lng": None}
    for request in RequestModel.by_author.query(user_id):
        if request.author_nickname == DELETED_NICKNAME:
            continue
        try:
            actions = [getattr(RequestModel, name).remove() if value is None else getattr(RequestModel, name).set(value)
                       for name, value in erased.items()]
            # Steps are only ever appended: an index read here still names the same step when the write lands.
            actions += [RequestModel.timeline[i].actor_nickname.set(DELETED_NICKNAME)
                        for i, step in enumerate(request.timeline or ()) if step.actor_id == user_id]
            Tx().update(RequestModel(request.id), actions, condition=RequestModel.author_id == user_id).commit()
        except StorageBusy:
            raise  # DynamoDB refused past the retries: 503, and the DELETE is called again
        except DomainError:
            log.info("request changed during account deletion", extra={"request_id": request.id})
