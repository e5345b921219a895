"""接诉即办 steps a person takes: submit (resident), accept (响应 / 报到), escalate (吹哨), resolve (办结) by the
handler at the current level, rate (回访评价) by the author.

Every step is ONE transaction: the request's update conditioned on the state and level it was read in, the
actor's grant re-checked on their user item, the timeline entry, the statistics, and the outbox messages. The
wrong person is told so (403) before the state is looked at (409 INVALID_STATE); anyone who may not see the
request gets 404.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from ... import metrics
from ...adapters.dynamo import batch, counters
from ...adapters.dynamo.guards import check_active, check_grant
from ...adapters.dynamo.models import CommunityModel, CounterModel, DepartmentModel, DistrictModel, RequestModel
from ...adapters.dynamo.tx import Tx
from ...domain import requests as rules
from ...domain.access import Principal, Role, require_role
from ...domain.clock import SHANGHAI, utcnow
from ...domain.errors import Forbidden, InvalidState, NotFound, RateLimited, ValidationFailed
from ...domain.ids import new_id
from ...domain.requests import Level as L, RequestStatus as S
from ...wiring import Container
from .. import service_record
from ..access import current_user
from ..content import Scene, check as content_check
from ..wishes.lifecycle import setting
from .reading import DEFAULT_NICKNAME, handler_grant, load, present
from .steps import (
    NO_PENDING_EXTENSION, arrive, count, derived, entry, refusal, same_state, tell_author, tell_level, write_step,
)

log = logging.getLogger(__name__)


def limits(community: CommunityModel | None) -> rules.Limits:
    return rules.Limits(
        answer_minutes=setting(community, "request_answer_minutes", rules.DEFAULT_ANSWER_MINUTES),
        answer_minutes_urgent=setting(community, "request_answer_minutes_urgent", rules.DEFAULT_ANSWER_MINUTES_URGENT),
        solve_hours=setting(community, "request_solve_hours", rules.DEFAULT_SOLVE_HOURS))


def _cap_reached(cap: int) -> RateLimited:
    return RateLimited(f"今天提交的诉求已达上限（{cap} 条），请明天再来或直接联系网格员", details={"cap": cap})


def submit(container: Container, principal: Principal, *, category: str, content: str, location: dict | None,
           urgent: bool) -> dict:
    grant = require_role(principal, Role.RESIDENT)
    now = utcnow()
    author = current_user(principal)
    counter_key = rules.submit_counter(author.id, now.astimezone(SHANGHAI).strftime("%Y-%m-%d"))
    community, counter = batch.get_many((CommunityModel, grant.community_id), (CounterModel, counter_key))
    if community is None:
        raise NotFound("社区不存在")
    cap = setting(community, "request_submit_daily_cap", rules.DEFAULT_SUBMIT_DAILY_CAP)
    if counters.current(counter, now) >= cap:  # refused before WeChat's check is spent; the condition holds it
        raise _cap_reached(cap)
    address = (location or {}).get("address")
    content_check(container, author, content, address, scene=Scene.FORUM, what="request")
    limit = limits(community)
    answer_minutes, solve_minutes = limit.answer_within(urgent), limit.solve_hours * 60
    level = rules.first_level(author.grid_id)
    answer_due, solve_due = rules.clocks(now, answer_minutes, solve_minutes)
    request = RequestModel(
        new_id("rq"), community_id=grant.community_id, grid_id=author.grid_id, street_id=community.street_id,
        district_id=community.district_id if community.street_id else None,
        author_id=author.id, author_nickname=author.nickname or DEFAULT_NICKNAME, author_phone=author.phone,
        category=category, content=content, address=address, lat=(location or {}).get("lat"),
        lng=(location or {}).get("lng"), urgent=urgent, answer_minutes=answer_minutes, solve_minutes=solve_minutes,
        status=S.SUBMITTED.value, level=level.value, levels_reached={level.value}, level_since=now,
        answer_due=answer_due, solve_due=solve_due, late_here=False, overdue_here=False, late=False, overdue=False,
        created_at=now, updated_at=now)
    request.timeline = [entry("submit", level.value, now, actor_id=author.id, actor_role=Role.RESIDENT.value,
                              actor_nickname=request.author_nickname)]
    for name, value in derived(request).items():
        setattr(request, name, value)
    tx = check_grant(Tx(), grant).put(request, condition=RequestModel.id.does_not_exist())
    count(tx, None, request)
    counters.bump(tx, counter_key, cap=cap, expires_at=now + timedelta(days=2), error=_cap_reached(cap))
    tell_level(tx, request, level, "request_new", answer_due=answer_due.isoformat())
    answer = present(request, detail=True)
    tx.commit(answer)
    metrics.count("request_submitted")
    log.info("request submitted", extra={"request_id": request.id, "level": level.value, "urgent": urgent})
    return answer


def _actor(principal: Principal, role: str) -> dict[str, Any]:
    me = current_user(principal)
    return {"actor_id": me.id, "actor_role": role, "actor_nickname": me.nickname or DEFAULT_NICKNAME}


def _require_state(request: RequestModel, action: str) -> None:
    if S(request.status) not in rules.FROM_STATES[action]:
        raise rules.invalid_state(action, request.status)


def _answer_changes(request: RequestModel, now: datetime) -> dict[str, Any]:
    """A handler's first move at a level waiting for them is its answer: late if past the level's limit; the
    request's first answer decides whether it was answered in time (响应率)."""
    changes: dict[str, Any] = {}
    if S(request.status) not in rules.WAITING_ANSWER:
        return changes
    in_time = request.answer_due is None or now <= request.answer_due
    if not in_time and not request.late_here:
        changes.update(late=True, late_here=True)
    if request.first_answered_at is None:
        changes.update(first_answered_at=now, answered_on_time=in_time and not request.late)
    return changes


def _not_own(principal: Principal, request: RequestModel) -> None:
    """A handler may blow the whistle on their own request (it moves up) but not answer or solve it: they would
    then rate their own work (满意率)."""
    if request.author_id == principal.user_id:
        raise Forbidden("不能办理自己提出的诉求，可吹哨交上一级办理")


def accept(principal: Principal, request_id: str) -> dict:
    request = load(principal, request_id)
    grant = handler_grant(principal, request)
    _not_own(principal, request)
    _require_state(request, "accept")
    now, actor = utcnow(), _actor(principal, grant.role)
    tx = check_grant(Tx(), grant)
    after = write_step(tx, request, {**_answer_changes(request, now), "status": S.ACCEPTED.value,
                                     "handler_id": actor["actor_id"], "handler_nickname": actor["actor_nickname"],
                                     "updated_at": now},
                       entry("accept", request.level, now, **actor),
                       condition=same_state(request), error=refusal("accept"))
    # The handler's service record (服务记录): accepting is the answer of a level waiting for it, taken once per
    # level by the state condition above (a request never returns to a level; resolving and re-handling after a
    # poor rating follow an accept and are not counted again; an escalation passes the request on, not a service).
    service_record.add(tx, user_id=actor["actor_id"], community_id=request.community_id, at=now, kind="request")
    tell_author(tx, request, "request_accepted", handler=actor["actor_nickname"])
    answer = present(after, detail=True)
    tx.commit(answer)
    metrics.count("request_accepted")
    return answer


def _no_level_above(request: RequestModel, message: str) -> InvalidState:
    return InvalidState(message, details={"status": request.status, "action": "escalate", "level": request.level})


def _department_of(request: RequestModel, department_id: str | None) -> tuple[DepartmentModel, tuple[int, int]]:
    """The department a street escalates to — one of the request's district (400 otherwise, naming the field; 404
    when there is no such department) — and the limits it works by (its own, else its district's)."""
    if department_id is None:
        raise ValidationFailed("街道吹哨须选择区直部门 department_id", details={"field": "department_id"})
    department, district = batch.get_many((DepartmentModel, department_id), (DistrictModel, request.district_id))
    if department is None:
        raise NotFound("部门不存在", details={"field": "department_id"})
    if department.district_id != request.district_id:
        raise ValidationFailed("该部门不属于本街道所在的区", details={"field": "department_id"})
    return department, rules.department_limits(
        department.answer_minutes, department.solve_days, district.department_answer_minutes if district else None,
        district.department_solve_days if district else None)


def escalate(container: Container, principal: Principal, request_id: str, reason: str,
             department_id: str | None = None) -> dict:
    """吹哨: to the level above — from the street, to the department of its district that ``department_id`` names
    (required there, refused below)."""
    request = load(principal, request_id)
    grant = handler_grant(principal, request)
    _require_state(request, "escalate")
    level, department, limits = L(request.level), None, None
    if level is L.STREET:
        if not request.district_id:
            raise _no_level_above(request, rules.NO_DISTRICT)
        department, limits = _department_of(request, department_id)
        target = L.DEPARTMENT
    else:
        target = rules.level_above(level, request.street_id)
        if target is None:
            raise _no_level_above(request, rules.NO_STREET if level is L.COMMUNITY else rules.NO_LEVEL_ABOVE)
        if department_id is not None:
            raise ValidationFailed("只有街道吹哨到区直部门时才选择部门", details={"field": "department_id"})
    # The reason is shown to the author and to the level above (timeline, message).
    content_check(container, current_user(principal), reason, scene=Scene.COMMENT, what="escalation reason")
    now, actor = utcnow(), _actor(principal, grant.role)
    tx = check_grant(Tx(), grant)
    changes = {**_answer_changes(request, now), **arrive(request, target, now, limits=limits), "updated_at": now}
    if department is not None:  # still a department of the request's district when the write lands
        changes.update(department_id=department.id, department_name=department.name)
        tx.check(DepartmentModel, department.id, condition=DepartmentModel.district_id == request.district_id,
                 error=NotFound("部门不存在", details={"field": "department_id"}))
    after = write_step(tx, request, changes, entry("escalate", request.level, now, note=reason, **actor),
                       condition=same_state(request), error=refusal("escalate"))
    # Addressed from the request as it will be (the department it reaches), keyed by this step.
    tell_level(tx, after, target, "request_escalated", step=len(request.timeline or ()), reason=reason,
               answer_due=after.answer_due.isoformat())
    answer = present(after, detail=True)
    tx.commit(answer)
    metrics.count("request_escalated")
    log.info("request escalated", extra={"request_id": request.id, "to": target.value})
    return answer


def resolve(container: Container, principal: Principal, request_id: str, note: str) -> dict:
    request = load(principal, request_id)
    grant = handler_grant(principal, request)
    _not_own(principal, request)
    _require_state(request, "resolve")
    content_check(container, current_user(principal), note, scene=Scene.COMMENT, what="resolve note")
    now, actor = utcnow(), _actor(principal, grant.role)
    tx = check_grant(Tx(), grant)
    first = {} if request.first_resolved_at else {  # 通报's 按时办结: before the solve limit of the level, not overdue
        "first_resolved_at": now, "resolved_on_time": bool(
            not request.overdue_here and request.solve_due is not None and now <= request.solve_due)}
    after = write_step(tx, request, {"status": S.RESOLVED.value, "resolved_at": now, **first, "resolve_note": note,
                                     "handler_id": actor["actor_id"], "handler_nickname": actor["actor_nickname"],
                                     "updated_at": now, **NO_PENDING_EXTENSION},
                       entry("resolve", request.level, now, note=note, **actor),
                       condition=same_state(request), error=refusal("resolve"))
    tell_author(tx, request, "request_resolved")
    answer = present(after, detail=True)
    tx.commit(answer)
    metrics.count("request_resolved")
    return answer


def rate(container: Container, principal: Principal, request_id: str, satisfaction: int,
         comment: str | None) -> dict:
    """The author rates the result: 3–5 closes it satisfied; 1–2 sends it back once to the level that resolved
    it (a new solve clock there), and closes it unsatisfied the second time."""
    request = load(principal, request_id)
    if request.author_id != principal.user_id:
        raise Forbidden("只有提出诉求的居民可以评价")
    _require_state(request, "rate")
    content_check(container, current_user(principal), comment, scene=Scene.COMMENT, what="rating comment")
    now = utcnow()
    status, outcome = rules.rating_result(satisfaction, request.reopened_at is not None)
    changes: dict[str, Any] = {"status": status.value, "rating": satisfaction, "comment": comment, "updated_at": now}
    if status is S.REOPENED:
        changes.update(reopened_at=now, solve_due=now + timedelta(minutes=int(request.solve_minutes)),
                       overdue_here=False)
    else:
        changes.update(outcome=outcome, closed_at=now)
    note = f"{satisfaction} 分" + (f"：{comment}" if comment else "")
    tx = check_active(Tx(), principal.user_id)
    after = write_step(tx, request, changes,
                       entry("reopen" if status is S.REOPENED else "close", request.level, now,
                             actor_id=principal.user_id, actor_role=Role.RESIDENT.value,
                             actor_nickname=request.author_nickname, note=note),
                       # the resolution rated is still the one read: a stale double tap cannot reopen twice
                       condition=same_state(request) & (RequestModel.author_id == principal.user_id)
                       & (RequestModel.resolved_at == request.resolved_at), error=refusal("rate"))
    if status is S.REOPENED:
        tell_level(tx, request, request.level, "request_reopened", comment=comment,
                   solve_due=after.solve_due.isoformat())
    answer = present(after, detail=True)
    tx.commit(answer)
    metrics.count("request_reopened" if status is S.REOPENED else f"request_closed_{outcome}")
    log.info("request rated", extra={"request_id": request.id, "satisfaction": satisfaction, "status": status.value})
    return answer
