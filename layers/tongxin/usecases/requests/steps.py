"""The one way a request changes: ``write_step`` adds to a transaction the request's update (state, level, clocks,
the queue and due keys that follow from them, a timeline entry), what the step adds to the statistics, and — by
the callers — the outbox messages. Conditions carry the expected state and level; the caller adds the actor's
grant (a ConditionCheck on their user item)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ...adapters.dynamo import counters
from ...adapters.dynamo.models import RequestModel, TimelineEntry
from ...adapters.dynamo.tx import Tx
from ...domain import requests as rules
from ...domain.errors import DomainError, InvalidState
from ...domain.requests import Level as L, RequestStatus as S
from .. import notifications
from .reading import REQUEST_NOT_FOUND

# A concurrent identical step wrote this step's message first: the request's own condition failed too.
ALREADY_DONE = InvalidState("诉求刚刚已被处理，请刷新后查看")


def derived(request: RequestModel) -> dict[str, Any]:
    """The attributes that follow from state, level and clocks: the level's queue and the scheduler's due time."""
    status = S(request.status)
    attrs: dict[str, Any] = {"handler_key": None, "handler_due": None, "due_shard": None, "due_at": None}
    if status in rules.WITH_HANDLER:
        attrs["handler_key"] = rules.handler_key(request.level, request.community_id, request.grid_id,
                                                 request.street_id, request.department_id)
        attrs["handler_due"] = rules.handler_due(status, request.answer_due, request.solve_due)
    due = rules.next_due(status, answer_due=request.answer_due, solve_due=request.solve_due,
                         late_here=bool(request.late_here), overdue_here=bool(request.overdue_here),
                         resolved_at=request.resolved_at)
    if due is not None:
        attrs["due_shard"], attrs["due_at"] = rules.due_shard(request.id), due
    return attrs


def _facts_of(request: RequestModel) -> dict:
    return {"category": request.category, "grid_id": request.grid_id, "created_at": request.created_at,
            "first_answered_at": request.first_answered_at, "answered_on_time": request.answered_on_time,
            "late": request.late, "escalated": len(request.levels_reached or ()) > 1,
            "first_resolved_at": request.first_resolved_at, "overdue": request.overdue,
            "reopened_at": request.reopened_at, "outcome": request.outcome,
            "resolved_on_time": request.resolved_on_time, "extended": request.extended,
            "department_id": request.department_id, "department_facts": request.department_facts,
            # what a department's own facts are judged by (rules.department_marks)
            "status": request.status, "level": request.level, "late_here": request.late_here,
            "overdue_here": request.overdue_here, "solve_due": request.solve_due, "resolved_at": request.resolved_at,
            "extension_level": request.extension_level}


def count(tx: Tx, before: RequestModel | None, after: RequestModel) -> None:
    """The step's new facts into the community's day and month buckets and — once the request is at a department —
    the department's (two or four items of the transaction)."""
    was = _facts_of(before) if before is not None else None
    now = _facts_of(after)
    deltas = rules.deltas(was, now)
    for key in rules.stats_keys(after.community_id, after.created_at):
        counters.add(tx, key, deltas)
    if after.department_id:
        for key in rules.dept_stats_keys(after.department_id, after.created_at):
            counters.add(tx, key, rules.dept_deltas(was, now))


def entry(action: str, level: str, now: datetime, *, actor_id: str | None = None, actor_role: str | None = None,
          actor_nickname: str | None = None, note: str | None = None) -> TimelineEntry:
    return TimelineEntry(at=now, action=action, level=level, actor_id=actor_id, actor_role=actor_role or "system",
                         actor_nickname=actor_nickname, note=note)


def refusal(action: str):
    """Classify a failed step from the request as it stood: gone, or no longer in a state the step starts from."""
    def classify(current: RequestModel | None) -> DomainError:
        if current is None:
            return REQUEST_NOT_FOUND
        return rules.invalid_state(action, current.status)
    return classify


def write_step(tx: Tx, request: RequestModel, changes: dict[str, Any], step: TimelineEntry, *, condition,
               error) -> RequestModel:
    """Add the step's update to ``tx``; return the request as it will be after the commit."""
    after = request.changed(**changes)
    after.timeline = list(request.timeline or ()) + [step]
    changes = {**changes, **derived(after)}
    marks = rules.department_marks(_facts_of(request), _facts_of(after))
    if marks != set(request.department_facts or ()):
        changes["department_facts"] = marks
    for name, value in changes.items():
        setattr(after, name, value)
    actions = [RequestModel.timeline.set(RequestModel.timeline.append([step]))]
    for name, value in changes.items():
        attribute = getattr(RequestModel, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    tx.update(RequestModel(request.id), actions, condition=condition, error=error)
    count(tx, request, after)
    return after


def same_state(request: RequestModel):
    """The request is still in the state and at the level it was read in."""
    return (RequestModel.status == request.status) & (RequestModel.level == request.level)


# A pending extension (延期) belongs to the level that asked it: it lapses when the request leaves that level or is
# resolved there.
NO_PENDING_EXTENSION = {"extension_level": None, "extension_days": None, "extension_reason": None,
                        "extension_asked_by": None, "extension_asked_by_nickname": None, "extension_asked_at": None}


def arrive(request: RequestModel, level: L, now: datetime, *, limits: tuple[int, int] | None = None
           ) -> dict[str, Any]:
    """The changes of reaching ``level``: its clocks start (by ``limits``, (answer, solve) minutes, where the level
    has its own: a department), its marks are clear, nobody has answered there yet."""
    answer_minutes, solve_minutes = limits or (int(request.answer_minutes), int(request.solve_minutes))
    answer_due, solve_due = rules.clocks(now, answer_minutes, solve_minutes)
    changes = {"status": S.ESCALATED.value, "level": level.value,
               "levels_reached": set(request.levels_reached or ()) | {level.value}, "level_since": now,
               "answer_due": answer_due, "solve_due": solve_due, "late_here": False, "overdue_here": False,
               "handler_id": None, "handler_nickname": None, **NO_PENDING_EXTENSION}
    if limits is not None:
        changes.update(answer_minutes=answer_minutes, solve_minutes=solve_minutes)
    return changes


# --- messages ------------------------------------------------------------------------------------------------

def _data(request: RequestModel, **extra: Any) -> dict:
    summary = f"{request.category}：{request.content}"
    return {"request_id": request.id, "summary": summary[:40], "category": request.category,
            "urgent": bool(request.urgent), **{k: v for k, v in extra.items() if v is not None}}


def audience(request: RequestModel, level: L | str) -> dict:
    """The handlers of ``level`` (or the district's staff, ``rules.DISTRICT``, who oversee the street and its
    departments)."""
    if level == rules.DISTRICT:
        return notifications.district_staff_audience(request.district_id)
    level = L(level)
    if level is L.GRID:
        return notifications.grid_audience(request.community_id, request.grid_id)
    if level is L.COMMUNITY:
        return notifications.community_admins_audience(request.community_id)
    if level is L.DEPARTMENT:
        return notifications.department_staff_audience(request.department_id)
    return notifications.street_staff_audience(request.street_id)


def tell_level(tx: Tx, request: RequestModel, level: L | str, kind: str, *, step: int | None = None,
               **extra: Any) -> None:
    """One fan-out item to the handlers of ``level``, keyed by the step (the timeline's length before it: ``step``
    when ``request`` is already the request as the step leaves it) and kind."""
    step_number = len(request.timeline or ()) if step is None else step
    notifications.fan_out(tx, key=f"request#{request.id}#{step_number}#{kind}", kind=kind,
                          audience=audience(request, level), data=_data(request, **extra),
                          page=notifications.REQUEST_PAGE.format(id=request.id), community_id=request.community_id,
                          duplicate_error=ALREADY_DONE)


def tell_author(tx: Tx, request: RequestModel, kind: str, **extra: Any) -> None:
    tell_person(tx, request, request.author_id, kind, **extra)


def tell_person(tx: Tx, request: RequestModel, recipient_id: str, kind: str, **extra: Any) -> None:
    notifications.enqueue(tx, kind=kind, recipient_id=recipient_id, data=_data(request, **extra),
                          page=notifications.REQUEST_PAGE.format(id=request.id), community_id=request.community_id,
                          key=f"request#{request.id}#{len(request.timeline or ())}#{kind}",
                          duplicate_error=ALREADY_DONE)
