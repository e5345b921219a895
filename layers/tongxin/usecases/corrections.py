"""志愿服务记录更正 (corrections of the volunteer record): "a volunteer who finds an error asks, and the recorder
checks and corrects it" (志愿服务记录与证明出具办法).

- Asking (``POST /v1/me/volunteer-record/corrections``) is ONE transaction: the correction (``pending``) and the
  attendance's lock item (condition: absent → else 409 ``CORRECTION_PENDING``), plus a ConditionCheck that the
  attendance is still the caller's correctable one. The minutes are bounded like the organiser's adjustment
  (0 … ``domain/events.adjustment_limit``: 400 naming ``minutes``); the reason is read by the organiser: WeChat's
  content check (scene 评论).
- Deciding: the event's organiser as ``events.reading.organiser_grant`` has it (an admin of the community, a grid
  worker of the event's grid, its creator while still a grid worker). Approval APPLIES the organiser's audited
  adjustment (``checkins/settling.apply_adjustment``: bounds, ``SELF_ADJUST``, points by the event's rate, the
  attendance's audit list and the community's audit log naming the approver) with the correction's minutes and the
  reason "居民申请更正：…"; the correction's ``pending → approved`` and the lock's deletion are operations of that
  same transaction. Refusal is one transaction (the correction ``pending → refused`` with the reason, the lock
  deleted). No message kind fits a correction's outcome: the volunteer reads it in their list.
- Lists are one Query a page: mine (``by_user``), the community's by status (``by_status``, admins), an event's
  by status (``by_event``, its organiser: ``?event_id=``)."""
from __future__ import annotations

import logging

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import CorrectionModel, EventModel, SignupModel
from ..adapters.dynamo.tx import Tx
from ..domain import corrections as rules, events as event_rules
from ..domain.access import Principal, Role, require_member, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import CorrectionPending, DomainError, InvalidState, NotFound, ValidationFailed
from ..domain.ids import new_id
from ..domain.text import DEFAULT_NICKNAME
from ..wiring import Container
from . import paging
from .access import current_user
from .checkins import settling
from .content import Scene, check as content_check
from .events.reading import organiser_grant

log = logging.getLogger(__name__)

CORRECTABLE = settling.ADJUSTABLE  # checked_out, unsettled, no_show: what an adjustment may change
DECIDED = "这条更正申请已处理过"


def present(c: CorrectionModel) -> dict:
    return {
        "id": c.id,
        "status": c.status,
        "attendance_id": rules.attendance_id(c.event_id, c.user_id),
        "event": {"id": c.event_id, "title": c.event_title},
        "user": {"id": c.user_id, "nickname": c.nickname or DEFAULT_NICKNAME},
        "minutes": int(c.minutes),
        "minutes_before": int(c.minutes_before or 0),
        "reason": c.reason,
        "decided_by": c.decided_by,
        "decided_at": to_api(c.decided_at),
        "decision_reason": c.decision_reason,
        "submitted_at": to_api(c.submitted_at),
    }


def _with(c: CorrectionModel, changes: dict) -> CorrectionModel:
    copy = CorrectionModel.from_raw_data(c.serialize(null_check=False))
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def _actions(changes: dict) -> list:
    return [getattr(CorrectionModel, name).remove() if value is None
            else getattr(CorrectionModel, name).set(value) for name, value in changes.items()]


# --- the volunteer -----------------------------------------------------------------------------------------------

def submit(container: Container, principal: Principal, *, attendance_id: str, minutes: int, reason: str) -> dict:
    """Ask for the minutes one of my attendances should have. 404 (``attendance_id``) for anything not my
    correctable attendance in my community; 409 INVALID_STATE while still checked in; 400 (``minutes``) beyond the
    adjustment's bound; 409 CORRECTION_PENDING while one is pending. One BatchGetItem, one transaction."""
    community_id = require_member(principal)
    event_id = rules.parse_attendance_id(attendance_id, principal.user_id)
    event, signup, lock = batch.get_many((EventModel, event_id), (SignupModel, event_id, principal.user_id),
                                         (CorrectionModel, rules.lock_key(event_id, principal.user_id)))
    if event is None or signup is None or event.community_id != community_id \
            or signup.status not in (*CORRECTABLE, "checked_in"):
        raise rules.ATTENDANCE_NOT_FOUND
    if signup.status not in CORRECTABLE:
        raise InvalidState("你还在签到中，签退后（或活动结束 2 小时后）再申请更正")
    now = utcnow()
    limit = event_rules.adjustment_limit(event.starts_at, event.ends_at, now)
    if not 0 <= minutes <= limit:
        raise ValidationFailed(f"时长应在 0 到 {limit} 分钟之间（活动计划时长与已进行的时长取其小）",
                               details={"field": "minutes", "max": limit})
    if lock is not None:  # refused before WeChat's check is spent; the lock's Put condition decides
        raise CorrectionPending()
    me = current_user(principal)
    content_check(container, me, reason, scene=Scene.COMMENT, what="correction reason")
    cid = rules.correction_id(event.id, new_id("vc"))
    correction = CorrectionModel(
        cid, community_id=community_id, user_id=me.id, nickname=me.nickname, event_id=event.id,
        event_title=event.title, grid_id=event.grid_id, organiser_id=event.organiser_id, status=rules.PENDING,
        minutes=minutes, minutes_before=int(signup.minutes or 0), reason=reason, submitted_at=now, updated_at=now,
        user_key=me.id, status_key=rules.status_key(community_id, rules.PENDING),
        event_status_key=rules.status_key(event.id, rules.PENDING))
    lock = CorrectionModel(rules.lock_key(event.id, me.id), correction_id=cid, user_id=me.id, submitted_at=now)
    tx = Tx().put(lock, condition=CorrectionModel.id.does_not_exist(), error=CorrectionPending())
    tx.put(correction, condition=CorrectionModel.id.does_not_exist())
    tx.check(SignupModel, event.id, me.id, condition=SignupModel.status.is_in(*CORRECTABLE),
             error=InvalidState("记录刚刚有变化，请刷新后重试"))
    answer = present(correction)
    tx.commit(answer)
    metrics.count("correction_submitted")
    log.info("correction submitted", extra={"correction_id": cid, "event_id": event.id})
    return answer


def mine(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """My corrections, newest first, with the outcome (and a refusal's reason): one Query a page."""
    return paging.page(lambda **kw: CorrectionModel.by_user.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present(c) for c in items],
                       scope=f"corrections:{principal.user_id}", model=CorrectionModel)


# --- the organiser / admin ---------------------------------------------------------------------------------------

def list_corrections(principal: Principal, *, status: str, event_id: str | None, limit: int,
                     cursor: str | None) -> dict:
    """Without ``event_id``: the community's admins, the community's corrections of ``status``. With it: whoever
    organises that event (admin, grid worker of its grid, its creator while grid worker), that event's. 404 for an
    event not of the caller's community; 403 for one they do not organise. One Query a page."""
    if event_id is None:
        grant = require_role(principal, Role.ADMIN)
        key = rules.status_key(grant.community_id, status)
        index = CorrectionModel.by_status
    else:
        community_id = require_member(principal)
        event = batch.get_many((EventModel, event_id))[0]
        if event is None or event.community_id != community_id:
            raise NotFound("没有找到这个活动", details={"field": "event_id"})
        organiser_grant(principal, event)
        key = rules.status_key(event.id, status)
        index = CorrectionModel.by_event
    return paging.page(lambda **kw: index.query(key, scan_index_forward=False, **kw), limit, cursor,
                       lambda items: [present(c) for c in items], scope=f"corrections:{key}", model=CorrectionModel)


def _decidable(principal: Principal, correction_id: str):
    """(the pending correction, its event, the caller's organiser grant): one BatchGetItem (the id names the event). 404 for none or another
    community's; 403 for an event the caller does not organise; 409 INVALID_STATE once decided."""
    community_id = require_member(principal)
    event_id = rules.event_of(correction_id)
    correction, event = batch.get_many((CorrectionModel, correction_id), (EventModel, event_id))
    if correction is None or event is None or correction.community_id != community_id:
        raise rules.CORRECTION_NOT_FOUND
    grant = organiser_grant(principal, event)
    if correction.status != rules.PENDING:
        raise InvalidState(DECIDED, details={"status": correction.status})
    return correction, event, grant


def _decided_refusal(current: CorrectionModel | None) -> DomainError:
    if current is None:
        return rules.CORRECTION_NOT_FOUND
    return InvalidState(DECIDED, details={"status": current.status})


def _decide(tx: Tx, correction: CorrectionModel, changes: dict) -> None:
    tx.update(CorrectionModel(correction.id), _actions(changes),
              condition=(CorrectionModel.status == rules.PENDING), error=_decided_refusal)
    tx.delete(CorrectionModel(rules.lock_key(correction.event_id, correction.user_id)),
              condition=CorrectionModel.correction_id == correction.id, error=_decided_refusal(None))


def _decision(principal: Principal, correction: CorrectionModel, status: str, now, reason: str | None) -> dict:
    me = current_user(principal)
    return {"status": status, "status_key": rules.status_key(correction.community_id, status),
            "event_status_key": rules.status_key(correction.event_id, status),
            "decided_by": {"id": me.id, "nickname": me.nickname or DEFAULT_NICKNAME}, "decided_at": now,
            "decision_reason": reason, "updated_at": now}


def approve(principal: Principal, correction_id: str) -> dict:
    """Apply the organiser's adjustment with the correction's minutes, in ONE transaction with the correction's
    ``pending → approved``: the adjustment's own refusals hold (409 ``ADJUSTMENT_OUT_OF_RANGE``, ``SELF_ADJUST``,
    ``INVALID_STATE``)."""
    correction, event, grant = _decidable(principal, correction_id)
    changes = _decision(principal, correction, rules.APPROVED, utcnow(), None)
    answer = present(_with(correction, changes))
    settling.apply_adjustment(principal, event, grant, correction.user_id, int(correction.minutes),
                              rules.APPROVAL_REASON.format(reason=correction.reason),
                              extend=lambda tx: _decide(tx, correction, changes), answer=answer)
    metrics.count("correction_approved")
    log.info("correction approved", extra={"correction_id": correction.id})
    return answer


def refuse(principal: Principal, correction_id: str, reason: str) -> dict:
    """The correction ``pending → refused`` with the reason the volunteer reads in their list; the record is
    unchanged. One transaction (the caller's grant re-checked)."""
    correction, _event, grant = _decidable(principal, correction_id)
    changes = _decision(principal, correction, rules.REFUSED, utcnow(), reason)
    tx = check_grant(Tx(), grant)
    _decide(tx, correction, changes)
    answer = present(_with(correction, changes))
    tx.commit(answer)
    metrics.count("correction_refused")
    return answer


# --- 注销 ----------------------------------------------------------------------------------------------------------

WITHDRAWN_ON_DELETION = "申请人已注销账号"


def forget_deleted_user(user_id: str) -> None:
    """注销: a pending correction is refused by the system (nobody is left to read the answer); decided ones stay,
    as the audit of the record they changed. Each its own conditional write (one decided meanwhile is left as
    decided), so a 注销 that stopped half-way completes when called again."""
    now = utcnow()
    for correction in CorrectionModel.by_user.query(user_id):
        if correction.status != rules.PENDING:
            continue
        changes = {"status": rules.REFUSED, "status_key": rules.status_key(correction.community_id, rules.REFUSED),
                   "event_status_key": rules.status_key(correction.event_id, rules.REFUSED), "decided_by": None,
                   "decided_at": now, "decision_reason": WITHDRAWN_ON_DELETION, "updated_at": now}
        tx = Tx()
        _decide(tx, correction, changes)
        try:
            tx.commit()
        except DomainError:  # decided meanwhile: its decision stands
            continue
