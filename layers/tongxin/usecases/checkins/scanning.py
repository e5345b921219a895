"""Scanning a check-in code (签到/签退): the first scan checks in, the second checks out.

The code is verified by computation alone (``domain/checkin``); then one read (the event and my sign-up together)
and one transaction:
- check-in: the sign-up ``signed → checked_in`` (condition: still signed, so two scans make one check-in); a walk-in
  puts the sign-up checked in and takes a place (condition: ``signed_count < capacity``) in the same transaction;
- check-out: the sign-up ``checked_in → checked_out`` (condition: checked in at the time read), the minutes on the
  user, the points as a ledger entry keyed ``checkout#<event>#<user>`` with the balance condition, and the totals —
  one transaction, so concurrent scans credit once.
"""
from __future__ import annotations

import logging
from datetime import datetime

from ... import metrics
from ...adapters.dynamo.guards import check_active, check_grant
from ...adapters.dynamo.models import EventModel, SignupModel, UserModel
from ...adapters.dynamo.tx import Tx
from ...config import Settings
from ...domain import checkin, events as event_rules, links
from ...domain.access import Principal, Role, require_role
from ...domain.clock import SHANGHAI, utcnow
from ...domain.errors import (AlreadyCheckedIn, AlreadyCheckedOut, CodeExpired, CodeInvalid, DomainError, EventFull,
                              InvalidState, NotSignedUp, OutsideGeofence, OutsideTimeWindow, Unauthenticated,
                              ValidationFailed)
from ...domain.events import SignupStatus as St
from .. import ledger
from ..access import current_user
from ..events.reading import DEFAULT_NICKNAME, EVENT_NOT_FOUND, load
from ..events.signups import count as count_event, not_cancelled
from .attendance import as_changed, count_credit, event_snapshot, month_of, present

log = logging.getLogger(__name__)

CANCELLED = InvalidState("活动已取消")
ACCOUNT_GONE = Unauthenticated("账号已注销，请重新登录")


def _verify(settings: Settings, code: str, now: datetime) -> checkin.Code:
    """The scanned text: the bare code or its link ``<QR_LINK_BASE>/c/<code>`` (another base or letter is no code
    of ours: 400 CODE_INVALID, like a forged one)."""
    bare = links.code_in(settings.qr_link_base, "checkin", code)
    try:
        if bare is None:
            raise checkin.BadCode("not our link")
        verified = _verify_signed(settings.checkin_secrets, bare, now)
    except checkin.BadCode:
        raise CodeInvalid() from None
    if checkin.expired(verified, now):
        raise CodeExpired(details={"valid_until": verified.valid_until().astimezone(SHANGHAI).isoformat()})
    return verified


def _verify_signed(keys: tuple[str, ...], code: str, now: datetime) -> checkin.Code:
    """The current check-in key, then the previous one while a rotation's grace period lasts (printed posters)."""
    for key in keys[:-1]:
        try:
            return checkin.verify(key, code, now)
        except checkin.BadCode:
            continue
    return checkin.verify(keys[-1], code, now)


def _check_place(event: EventModel, code: checkin.Code, lat: float | None, lng: float | None) -> None:
    """A poster code is only as good as the scanner's location (a photo of it works anywhere)."""
    if code.kind != "poster":
        return
    if lat is None or lng is None:
        raise ValidationFailed("扫描海报签到码需要位置信息，请允许小程序获取位置", details={"field": "lat"})
    location = event.location or {}
    if "lat" not in location:
        raise OutsideGeofence("这个活动没有设置签到地点，请扫描组织者屏幕上的二维码")
    distance = checkin.distance_m(lat, lng, float(location["lat"]), float(location["lng"]))
    radius = int(location.get("radius_m") or event_rules.RADIUS_DEFAULT)
    if distance > radius:
        raise OutsideGeofence(details={"distance_m": round(distance), "radius_m": radius})


def scan(settings: Settings, principal: Principal, code: str, lat: float | None, lng: float | None) -> dict:
    now = utcnow()
    verified = _verify(settings, code, now)
    event, mine = load(principal, verified.event_id, with_mine=True)
    roles = (Role.VOLUNTEER, Role.PARTY_MEMBER) if event.kind == "volunteer_service" else (Role.RESIDENT,)
    grant = require_role(principal, *roles)
    _check_place(event, verified, lat, lng)
    if (event.status or "open") == "cancelled":
        raise CANCELLED
    status = mine.status if mine is not None else None
    if status == St.CHECKED_OUT.value:
        raise AlreadyCheckedOut()
    if status == St.CHECKED_IN.value:
        if now - mine.checked_in_at < checkin.DOUBLE_SCAN:
            raise AlreadyCheckedIn()
        if not checkin.check_out_open(event.ends_at, now):
            raise OutsideTimeWindow("签退时间已过（活动结束后 2 小时内），请联系组织者补录时长")
        return check_out(event, mine, now)
    if status in (St.UNSETTLED.value, St.NO_SHOW.value):
        raise OutsideTimeWindow("签到时间已过，请联系组织者补录时长")
    if not checkin.check_in_open(event.starts_at, event.ends_at, now):
        raise OutsideTimeWindow("签到时间为活动开始前 30 分钟至活动结束",
                                details={"opens_at": (event.starts_at - checkin.CHECK_IN_EARLY).astimezone(SHANGHAI)
                                         .isoformat(), "closes_at": event.ends_at.astimezone(SHANGHAI).isoformat()})
    if status == St.SIGNED.value:
        return check_in(event, mine, principal, grant, now)
    if event.allow_walk_ins:
        return walk_in(event, mine, principal, grant, now)
    if status == St.WAITLISTED.value:
        raise NotSignedUp("您还在候补名单中，递补成功后才能签到")
    raise NotSignedUp("您没有报名这个活动，请先报名")


def _attendance_fields(event: EventModel, user: UserModel, now: datetime) -> dict:
    fields = {**event_rules.roster_fields(event.id, St.CHECKED_IN.value, now), "checked_in_at": now,
              "attended_at": now, **event_snapshot(event), "month_key": f"{event.community_id}#{month_of(now)}",
              "updated_at": now,
              "attendee_name": user.real_name or user.nickname or DEFAULT_NICKNAME}
    return fields


def _checked_in_refusal(current: SignupModel | None) -> DomainError:
    if current is None or current.status not in (St.SIGNED.value, St.CHECKED_IN.value, St.CHECKED_OUT.value):
        return NotSignedUp("您的报名已取消")
    if current.status == St.CHECKED_IN.value:
        return AlreadyCheckedIn()
    return AlreadyCheckedOut() if current.status == St.CHECKED_OUT.value else NotSignedUp()


def check_in(event: EventModel, mine: SignupModel, principal: Principal, grant, now: datetime) -> dict:
    fields = {**_attendance_fields(event, current_user(principal), now), "attendee_key": mine.user_id}
    tx = check_grant(Tx(), grant)
    tx.update(SignupModel(event.id, mine.user_id), [getattr(SignupModel, k).set(v) for k, v in fields.items()],
              condition=SignupModel.status == St.SIGNED.value, error=_checked_in_refusal)
    count_event(tx, event, {"checked_in": 1})
    answer = {"action": "check_in", "attendance": present(as_changed(mine, fields))}
    tx.commit(answer)
    metrics.count("checkin_checked_in")
    log.info("checked in", extra={"event_id": event.id})
    return answer


def walk_in(event: EventModel, mine: SignupModel | None, principal: Principal, grant, now: datetime) -> dict:
    """Not signed up, and the event takes walk-ins: sign up and check in at once, if a place is left."""
    user = current_user(principal)
    nickname = user.nickname or DEFAULT_NICKNAME
    fields = {**_attendance_fields(event, user, now), "attendee_key": user.id, "mine_key": user.id,
              "walk_in": True, "signed_at": now, "nickname": nickname, "position": None}

    def full(current: EventModel | None) -> DomainError:
        if current is None:
            return EVENT_NOT_FOUND
        return CANCELLED if current.status == "cancelled" else EventFull()

    tx = check_grant(Tx(), grant)
    event_actions = [EventModel.signed_count.add(1)]
    if mine is not None and mine.status == St.WAITLISTED.value:  # waiting for a place, and here: take one
        tx.update(SignupModel(event.id, user.id), [getattr(SignupModel, k).remove() if v is None
                                                    else getattr(SignupModel, k).set(v) for k, v in fields.items()],
                  condition=(SignupModel.status == St.WAITLISTED.value) & (SignupModel.position == mine.position),
                  error=_checked_in_refusal)
        event_actions.append(EventModel.waitlist_count.add(-1))
        after = as_changed(mine, fields)
    else:
        after = SignupModel(event.id, user.id, community_id=event.community_id, event_starts_at=event.starts_at,
                            created_at=now, **{k: v for k, v in fields.items() if v is not None})
        tx.put(after, condition=SignupModel.user_id.does_not_exist() | (SignupModel.status == St.CANCELLED.value),
               error=_checked_in_refusal)
    tx.update(EventModel(event.id), event_actions,
              condition=not_cancelled() & (EventModel.signed_count < EventModel.capacity), error=full)
    count_event(tx, event, {"signups": 1, "signed": 1, "checked_in": 1, "walk_ins": 1})
    answer = {"action": "check_in", "attendance": present(after)}
    tx.commit(answer)
    metrics.count("checkin_walked_in")
    log.info("walked in", extra={"event_id": event.id})
    return answer


def _checked_out_refusal(current: SignupModel | None) -> DomainError:
    if current is not None and current.status == St.CHECKED_OUT.value:
        return AlreadyCheckedOut()
    if current is not None and current.status == St.UNSETTLED.value:
        return OutsideTimeWindow("签退时间已过，请联系组织者补录时长")
    return NotSignedUp()


def check_out(event: EventModel, mine: SignupModel, now: datetime) -> dict:
    minutes = checkin.credited_minutes(mine.checked_in_at, now, event.starts_at, event.ends_at)
    points = checkin.points_for(minutes, int(event.points_per_hour or 0))
    fields = {**event_rules.roster_fields(event.id, St.CHECKED_OUT.value, now), "checked_out_at": now,
              "minutes": minutes, "points": points, "updated_at": now}
    after = as_changed(mine, fields)
    answer = {"action": "check_out", "attendance": present(after)}
    at = mine.attended_at or mine.checked_in_at

    def build(account: ledger.Account) -> Tx:
        # The user item is touched once: by the credit (which also requires the account to be active), or, when
        # nothing is credited, by a check that the account still exists.
        tx = Tx() if minutes else check_active(Tx(), mine.user_id)
        tx.update(SignupModel(event.id, mine.user_id), [getattr(SignupModel, k).set(v) for k, v in fields.items()],
                  condition=(SignupModel.status == St.CHECKED_IN.value)
                  & (SignupModel.checked_in_at == mine.checked_in_at), error=_checked_out_refusal)
        minutes_action = UserModel.volunteer_minutes.add(minutes)
        if points > 0:
            ledger.append(tx, account=account, amount=points, source_key=f"checkout#{event.id}#{mine.user_id}",
                          kind="volunteer", source=f"checkout:{event.id}", note=f"志愿服务：{event.title}（{minutes} 分钟）",
                          community_id=event.community_id, earned_at=at, duplicate_error=AlreadyCheckedOut(),
                          also_user_actions=(minutes_action,), user_condition=UserModel.status == "active")
        elif minutes:
            ledger.credit_minutes_only(tx, account, minutes_action, gone=ACCOUNT_GONE)
        ledger.add_minutes(tx, account, minutes, at, event.community_id)
        count_credit(tx, community_id=event.community_id, user_id=mine.user_id, at=at, minutes=minutes,
                     points=points, attendances=1 if minutes else 0)
        return tx

    if minutes:  # the account's grid places the minutes on the leaderboards; its balance conditions the points
        ledger.run_with_balance(mine.user_id, build, answer)
    else:
        build(ledger.Account(mine.user_id, 0)).commit(answer)
    metrics.count("checkin_checked_out")
    log.info("checked out", extra={"event_id": event.id, "minutes": minutes, "points": points})
    return answer
