"""接诉即办 above the current level (docs/requests.md): 延期 (an extension: the current level's handler asks the level
above for more days to solve, once per level; that level approves or rejects it) and 督办 (supervision: the level
above presses the current handlers; the request carries a yellow card).

Who is above (``rules.overseer``): the community's admins above the grid, the street's staff above the community,
the district's staff above the street and its departments. Each step is ONE transaction like every other step
(``steps.write_step``): the request's update conditioned on the state, the level and the extension as read, the
actor's grant re-checked, the timeline entry, and the message to whom it concerns.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from ... import metrics
from ...adapters.dynamo.guards import check_grant
from ...adapters.dynamo.models import RequestModel
from ...adapters.dynamo.tx import Tx
from ...domain import requests as rules
from ...domain.access import Grant, Principal
from ...domain.clock import utcnow
from ...domain.errors import DomainError, ExtensionUsed, Forbidden, InvalidState
from ...domain.requests import RequestStatus as S
from ...wiring import Container
from ..access import current_user
from ..content import Scene, check as content_check
from .reading import DEFAULT_NICKNAME, REQUEST_NOT_FOUND, handler_grant, load, overseer_grant, present
from .steps import NO_PENDING_EXTENSION, entry, same_state, tell_level, tell_person, write_step

log = logging.getLogger(__name__)


def _actor(principal: Principal, grant: Grant) -> dict:
    me = current_user(principal)
    return {"actor_id": me.id, "actor_role": grant.role, "actor_nickname": me.nickname or DEFAULT_NICKNAME}


def _require_state(request: RequestModel, action: str) -> None:
    if S(request.status) not in rules.FROM_STATES[action]:
        raise rules.invalid_state(action, request.status)


def _no_pending(request: RequestModel, action: str) -> InvalidState:
    return InvalidState("没有待审批的延期申请", details={"status": request.status, "action": action})


def _used(level: str) -> ExtensionUsed:
    return ExtensionUsed(details={"level": level})


# --- 延期 --------------------------------------------------------------------------------------------------------

def extend(container: Container, principal: Principal, request_id: str, days: int, reason: str) -> dict:
    """The handler who answered at the current level (while it is accepted or reopened there) asks the level above
    for ``days`` more to solve it: once per level (409 EXTENSION_USED, whatever became of the first). A pending
    extension does not stop the clock."""
    request = load(principal, request_id)
    grant = handler_grant(principal, request)
    _require_state(request, "extend")
    if request.handler_id != principal.user_id:
        raise Forbidden("只有响应这条诉求的办理人可以申请延期")
    level = request.level
    if level in (request.extensions_used or ()):
        raise _used(level)
    above = rules.overseer(level, request.street_id, request.district_id)
    if above is None:
        raise InvalidState(rules.NO_OVERSEER, details={"status": request.status, "action": "extend", "level": level})
    content_check(container, current_user(principal), reason, scene=Scene.COMMENT, what="extension reason")
    now, actor = utcnow(), _actor(principal, grant)

    def refused(current: RequestModel | None) -> DomainError:
        if current is None:
            return REQUEST_NOT_FOUND
        if current.level == level and level in (current.extensions_used or ()):
            return _used(level)
        return rules.invalid_state("extend", current.status)

    not_used = RequestModel.extensions_used.does_not_exist() | ~RequestModel.extensions_used.contains(level)
    tx = check_grant(Tx(), grant)
    after = write_step(
        tx, request, {"extension_level": level, "extension_days": days, "extension_reason": reason,
                      "extension_asked_by": actor["actor_id"], "extension_asked_by_nickname": actor["actor_nickname"],
                      "extension_asked_at": now, "extensions_used": set(request.extensions_used or ()) | {level},
                      "updated_at": now},
        entry("extend", level, now, note=f"申请延期 {days} 天：{reason}", **actor),
        condition=same_state(request) & (RequestModel.handler_id == principal.user_id) & not_used, error=refused)
    tell_level(tx, request, above, "request_extension_asked", days=days, reason=reason,
               solve_due=request.solve_due.isoformat(), level_label=rules.LEVEL_LABELS[rules.Level(level)])
    answer = present(after, detail=True)
    tx.commit(answer)
    metrics.count("request_extension_asked")
    log.info("request extension asked", extra={"request_id": request.id, "level": level, "days": days})
    return answer


def _decide(container: Container, principal: Principal, request_id: str, *, approve: bool,
            reason: str | None) -> dict:
    action = "approve_extension" if approve else "reject_extension"
    request = load(principal, request_id)
    grant = overseer_grant(principal, request)
    if S(request.status) not in rules.FROM_STATES["decide_extension"] or request.extension_level != request.level:
        raise _no_pending(request, action)
    if request.extension_asked_by == principal.user_id:
        raise Forbidden("不能审批自己的延期申请")
    if reason is not None:  # a rejection's reason is read by the handler who asked (timeline, message)
        content_check(container, current_user(principal), reason, scene=Scene.COMMENT, what="extension decision")
    now, actor, days = utcnow(), _actor(principal, grant), int(request.extension_days)
    changes = {**NO_PENDING_EXTENSION, "updated_at": now}
    if approve:
        changes.update(solve_due=request.solve_due + timedelta(days=days), extended=True)

    def refused(current: RequestModel | None) -> DomainError:
        if current is None:
            return REQUEST_NOT_FOUND
        return _no_pending(current, action)

    tx = check_grant(Tx(), grant)
    after = write_step(
        tx, request, changes,
        entry("extension_approved" if approve else "extension_rejected", request.level, now,
              note=f"同意延期 {days} 天" if approve else f"驳回延期：{reason}", **actor),
        # the extension decided is still the one read, pending, at the level that asked it
        condition=same_state(request) & (RequestModel.extension_level == request.level)
        & (RequestModel.extension_asked_at == request.extension_asked_at)
        & (RequestModel.solve_due == request.solve_due), error=refused)
    told = {"days": days, "solve_due": after.solve_due.isoformat()}
    if approve:
        tell_person(tx, request, request.extension_asked_by, "request_extension_approved", **told)
    else:
        tell_person(tx, request, request.extension_asked_by, "request_extension_rejected", reason=reason, **told)
    answer = present(after, detail=True)
    tx.commit(answer)
    metrics.count("request_extension_approved" if approve else "request_extension_rejected")
    log.info("request extension decided", extra={"request_id": request.id, "approved": approve, "days": days})
    return answer


def approve_extension(container: Container, principal: Principal, request_id: str) -> dict:
    """The level above approves the pending extension: the current level's solve limit moves by its days."""
    return _decide(container, principal, request_id, approve=True, reason=None)


def reject_extension(container: Container, principal: Principal, request_id: str, reason: str) -> dict:
    """The level above rejects the pending extension, with a reason: the limit stays; the level has used its one."""
    return _decide(container, principal, request_id, approve=False, reason=reason)


# --- 督办 --------------------------------------------------------------------------------------------------------

def supervise(container: Container, principal: Principal, request_id: str, note: str) -> dict:
    """The level above the current one presses its handlers (督办): they are told, the timeline records it, and the
    request carries a yellow card from now on (red when past its solve limit)."""
    request = load(principal, request_id)
    grant = overseer_grant(principal, request)
    _require_state(request, "supervise")
    content_check(container, current_user(principal), note, scene=Scene.COMMENT, what="supervision note")
    now, actor = utcnow(), _actor(principal, grant)
    tx = check_grant(Tx(), grant)
    after = write_step(tx, request, {"supervised_at": now, "updated_at": now},
                       entry("supervise", request.level, now, note=note, **actor),
                       condition=same_state(request), error=lambda current: REQUEST_NOT_FOUND if current is None
                       else rules.invalid_state("supervise", current.status))
    tell_level(tx, request, request.level, "request_supervised", note=note,
               by=rules.OVERSEER_LABELS.get(rules.overseer(request.level, request.street_id, request.district_id)))
    answer = present(after, detail=True)
    tx.commit(answer)
    metrics.count("request_supervised")
    log.info("request supervised", extra={"request_id": request.id, "level": request.level})
    return answer
