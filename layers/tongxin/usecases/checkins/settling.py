"""After the event: forgotten check-outs and no-shows (the scheduler, 2 h after the end), and the organiser's
audited adjustments (补录/更正)."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable

from ... import metrics
from ...adapters.dynamo.guards import check_grant
from ...adapters.dynamo.models import AuditModel, EventModel, SignupModel, UserModel
from ...adapters.dynamo.models.audit import time_key
from ...adapters.dynamo.tx import Tx
from ...domain import checkin, events as event_rules
from ...domain.access import Principal
from ...domain.clock import to_api, utcnow
from ...domain.errors import AdjustmentOutOfRange, DomainError, InvalidState, NotSignedUp, SelfAdjust
from ...domain.ids import new_id
from ...domain.events import SignupStatus as St
from .. import ledger, notifications
from ..access import current_user
from ..events.reading import DEFAULT_NICKNAME, load, organiser_grant
from ..events.signups import count as count_event
from .attendance import as_changed, count_credit, event_snapshot, month_of, present

log = logging.getLogger(__name__)

ADJUSTABLE = (St.CHECKED_OUT.value, St.UNSETTLED.value, St.NO_SHOW.value)
MAX_ADJUSTMENTS = 20  # the audit lives on the attendance item: bounded, far above any honest need
# A closed account (注销) keeps its anonymised history, but nothing more is credited to it.
ACTIVE = UserModel.status == "active"
ACCOUNT_CLOSED = InvalidState("这位志愿者已注销账号，不能再补录或更正时长")


def _flip(signup: SignupModel, status: St, now: datetime, extra: dict | None = None) -> list:
    fields = {**event_rules.roster_fields(signup.event_id, status.value, now), "updated_at": now, **(extra or {})}
    return [getattr(SignupModel, k).set(v) for k, v in fields.items()]


def close_attendance(event: EventModel, now: datetime) -> dict:
    """2 h after the end: each open check-in → ``unsettled`` (no minutes, no points; the volunteer is told and the
    grid's workers see it to settle), each signed person never scanned → ``no_show``. One transaction per person
    (conditioned on the status it was selected in, with its statistics), then the event is marked closed: a run
    killed midway is finished by the next, and a second run finds nothing to do. An event a unit runs counts as one
    of the unit's activities held, in the closing's transaction (conditioned on not being closed yet: once)."""
    done = {"unsettled": 0, "no_show": 0}
    settle_task = f"{event.community_id}#{event.grid_id}" if event.grid_id else None
    for status, target in ((St.CHECKED_IN, St.UNSETTLED), (St.SIGNED, St.NO_SHOW)):
        for signup in SignupModel.by_roster.query(event_rules.roster_key(event.id, status.value)):
            extra = {"settle_task": settle_task} if target is St.UNSETTLED and settle_task else None
            if target is St.NO_SHOW:
                extra = {"attended_at": event.starts_at}  # the month and year a later credit counts in
            tx = Tx().update(SignupModel(event.id, signup.user_id), _flip(signup, target, now, extra),
                             condition=SignupModel.status == status.value, error=InvalidState())
            count_event(tx, event, {target.value: 1})
            if target is St.UNSETTLED:
                notifications.enqueue(tx, kind="checkin_unsettled", recipient_id=signup.user_id,
                                      data={"event_id": event.id, "title": event.title},
                                      page=notifications.EVENT_PAGE.format(id=event.id),
                                      community_id=event.community_id,
                                      key=f"checkin#{event.id}#{signup.user_id}#unsettled")
            try:
                tx.commit()
                done[target.value] += 1
                metrics.count(f"checkin_{target.value}")  # unsettled or no_show
            except DomainError:  # checked out (or changed) since selected
                continue
    tx = Tx().update(EventModel(event.id), [EventModel.closed_at.set(now), EventModel.due_shard.remove(),
                                            EventModel.due_at.remove()],
                     condition=EventModel.closed_at.does_not_exist(), error=InvalidState())
    if event.unit_id:  # a unit's pledged activity, held: counted once, with the closing (usecases/service_cards.py)
        from ..service_cards import count_held
        count_held(tx, event)
    tx.commit()
    log.info("attendance closed", extra={"event_id": event.id, **done})
    return done


def adjust(principal: Principal, event_id: str, user_id: str, minutes: int, reason: str) -> dict:
    """The organiser sets the minutes of an attendance (a forgotten check-out, a no-show who was there, a
    correction): points follow the event's rate, the difference is a keyed ledger entry, and the change is
    appended to the attendance's audit and written to the community's audit log.

    Bounded so that nobody mints points: within 0 … the event's scheduled minutes and the minutes elapsed since
    its start (409 ``ADJUSTMENT_OUT_OF_RANGE``), never one's own attendance (409 ``SELF_ADJUST``: an admin adjusts
    the organiser's). One transaction, conditioned on the attendance as read (status and ``updated_at``: two
    organisers do not both apply to the same "before") and on the organiser's grant as it stands."""
    event = load(principal, event_id)
    return apply_adjustment(principal, event, organiser_grant(principal, event), user_id, minutes, reason)


def apply_adjustment(principal: Principal, event: EventModel, grant, user_id: str, minutes: int, reason: str, *,
                     extend: Callable[[Tx], None] | None = None, answer: Any = None) -> dict:
    """``adjust`` once the event is read and the caller's organiser grant found. ``extend`` adds the caller's own
    operations to the adjustment's ONE transaction (a correction's approval: its status change and lock), and
    ``answer`` is then the request's answer (stored with an Idempotency-Key) instead of the attendance's."""
    event_id = event.id
    if user_id == principal.user_id:
        raise SelfAdjust()
    now = utcnow()
    limit = event_rules.adjustment_limit(event.starts_at, event.ends_at, now)
    if not 0 <= minutes <= limit:
        raise AdjustmentOutOfRange(f"时长最多可填 {limit} 分钟（活动计划时长与已进行的时长取其小）",
                                   details={"field": "minutes", "max": limit,
                                            "scheduled_minutes": checkin.event_minutes(event.starts_at, event.ends_at)})
    try:
        signup = SignupModel.get(event_id, user_id, consistent_read=True)
    except SignupModel.DoesNotExist:
        raise NotSignedUp("这位志愿者没有报名这个活动") from None
    if signup.status not in ADJUSTABLE:
        raise InvalidState("只能补录已签退、未签退或缺席的记录" if signup.status != St.CHECKED_IN.value
                           else "志愿者还在签到中，请等签退或活动结束 2 小时后再补录")
    audit = list(signup.adjustments or [])
    if len(audit) >= MAX_ADJUSTMENTS:
        raise InvalidState(f"这条记录已更正 {MAX_ADJUSTMENTS} 次，请联系管理员")
    points = checkin.points_for(minutes, int(event.points_per_hour or 0))
    before_minutes, before_points = int(signup.minutes or 0), int(signup.points or 0)
    organiser = current_user(principal)
    entry = {"by": {"id": organiser.id, "nickname": organiser.nickname or DEFAULT_NICKNAME}, "at": to_api(now),
             "minutes_before": before_minutes, "minutes_after": minutes, "points_before": before_points,
             "points_after": points, "reason": reason}
    audit_id = new_id("au")
    record = AuditModel(event.community_id, f"{time_key(now)}#{audit_id}", id=audit_id, kind="attendance_adjusted", at=now,
                        actor_id=organiser.id, actor_nickname=organiser.nickname, subject_id=user_id,
                        subject_nickname=signup.nickname, target_id=event.id, target_title=event.title,
                        before={"status": signup.status, "minutes": before_minutes, "points": before_points},
                        after={"status": St.CHECKED_OUT.value, "minutes": minutes, "points": points}, reason=reason)
    at = signup.attended_at or signup.checked_in_at or event.starts_at
    fields = {"minutes": minutes, "points": points, "adjustments": audit + [entry], "attended_at": at,
              "attendee_key": user_id, "month_key": f"{event.community_id}#{month_of(at)}",
              **{name: value for name, value in event_snapshot(event).items() if getattr(signup, name) is None}}
    extra_remove = [SignupModel.settle_task.remove()]
    changed = as_changed(signup, {**fields, "status": St.CHECKED_OUT.value, "settle_task": None})
    delta_minutes, delta_points = minutes - before_minutes, points - before_points
    same = (SignupModel.status == signup.status) & (SignupModel.updated_at == signup.updated_at)

    def build(account: ledger.Account) -> Tx:
        tx = check_grant(Tx(), grant)
        tx.update(SignupModel(event_id, user_id), _flip(signup, St.CHECKED_OUT, now, fields) + extra_remove,
                  condition=same, error=InvalidState("记录刚刚有变化，请刷新后重试"))
        tx.put(record, condition=AuditModel.audit_key.does_not_exist())
        minutes_action = UserModel.volunteer_minutes.add(delta_minutes)
        if delta_points:
            ledger.append(tx, account=account, amount=delta_points,
                          source_key=f"adjust#{event_id}#{user_id}#{len(audit) + 1}", kind="volunteer",
                          source=f"adjust:{event_id}", note=f"志愿时长更正：{event.title}（{reason}）",
                          community_id=event.community_id, earned_at=at, duplicate_error=InvalidState("这次更正已入账"),
                          also_user_actions=(minutes_action,) if delta_minutes else (),
                          user_condition=ACTIVE, gone_error=ACCOUNT_CLOSED)
        elif delta_minutes:
            ledger.credit_minutes_only(tx, account, minutes_action, gone=ACCOUNT_CLOSED)
        ledger.add_minutes(tx, account, delta_minutes, at, event.community_id)
        credited_before, credited_after = int(before_minutes > 0), int(minutes > 0)
        count_credit(tx, community_id=event.community_id, user_id=user_id, at=at, minutes=delta_minutes,
                     points=delta_points, attendances=credited_after - credited_before)
        deltas = {"adjustments": 1, "adjusted_minutes": delta_minutes, "adjusted_points": delta_points}
        if signup.status != St.CHECKED_OUT.value:
            deltas[signup.status] = -1
        count_event(tx, event, deltas)
        if extend is not None:
            extend(tx)
        return tx

    stored = answer if answer is not None else present(changed)
    if delta_points or delta_minutes:
        ledger.run_with_balance(user_id, build, stored)
    else:
        build(ledger.Account(user_id, 0)).commit(stored)
    metrics.count("checkin_adjusted")
    log.info("attendance adjusted", extra={"event_id": event_id, "minutes": minutes, "points": points})
    return present(changed)
