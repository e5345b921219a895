"""Awards (奖励积分): an admin or a grid worker credits a resident for charity (雪中送炭), mediation (息事宁人) or
participation (锦上添花), within caps; an admin may reverse an award once.

One read (the awarded user and the community's caps, one BatchGetItem) and one transaction: the award (the audit
record), the ledger entry and balance, the awarder's day counter conditioned on the cap, the leaderboard scores,
the message to the user, the statistics — and the request's Idempotency-Key record when it has one.
"""
from __future__ import annotations

import logging

from ... import metrics
from ...adapters.dynamo import batch, counters
from ...adapters.dynamo.guards import check_grant
from ...adapters.dynamo.models import AwardModel, CommunityModel, UserModel
from ...adapters.dynamo.tx import Tx
from ...domain import points as rules
from ...domain.access import Principal, Role, require_member, require_role
from ...domain.clock import to_api, utcnow
from ...domain.errors import (AwardCapExceeded, DailyCapExceeded, DomainError, InsufficientPoints, InvalidState,
                              NotFound, SelfAward, StorageBusy, Unauthenticated)
from ...domain.ids import new_id
from .. import ledger, notifications
from ..access import current_user
from ...domain.text import DEFAULT_NICKNAME

log = logging.getLogger(__name__)

USER_NOT_FOUND = NotFound("用户不存在或已注销")
AWARD_NOT_FOUND = NotFound("奖励记录不存在")
POINTS_PAGE = "pages/points/index"
ALREADY_REVERSED = "这笔奖励已撤销"


class _Short(DomainError):
    """The balance read is below the award's points (internal: whether that is the answer is decided by a
    transaction of conditions, see ``reverse``)."""

    def __init__(self, account: ledger.Account):
        super().__init__()
        self.account = account


class _ShortfallMoved(DomainError):
    """The balance changed since it was read short (internal: read again)."""


def cap_of(community: CommunityModel | None, category: str) -> int:
    value = getattr(community, f"award_cap_{category}", None) if community is not None else None
    return int(rules.DEFAULT_AWARD_CAPS[category] if value is None else value)


def daily_cap_of(community: CommunityModel | None) -> int:
    value = community.award_daily_cap if community is not None else None
    return int(rules.DEFAULT_AWARD_DAILY_CAP if value is None else value)


def present(award: AwardModel) -> dict:
    return {
        "id": award.id,
        "user": {"id": award.user_id, "nickname": award.user_nickname or DEFAULT_NICKNAME},
        "category": award.category,
        "points": int(award.points),
        "reason": award.reason,
        "status": award.status,
        "awarded_by": {"id": award.awarded_by, "nickname": award.awarded_by_nickname or DEFAULT_NICKNAME},
        "created_at": to_api(award.created_at),
        "reversed_at": to_api(award.reversed_at),
        "reverse_reason": award.reverse_reason,
    }


def award(principal: Principal, user_id: str, category: str, points: int, reason: str) -> dict:
    community_id = require_member(principal)
    target, community = batch.get_many((UserModel, user_id), (CommunityModel, community_id))
    if target is None or target.status != "active" or not target.community_id:
        raise USER_NOT_FOUND
    # An admin awards any member of the community; a grid worker the residents of the grids they work.
    grant = require_role(principal, Role.ADMIN, Role.GRID_WORKER, community_id=target.community_id,
                         grid_id=target.grid_id)
    if target.id == principal.user_id:
        raise SelfAward()
    cap = cap_of(community, category)
    if points > cap:
        raise AwardCapExceeded(f"{rules.CATEGORY_NAMES[category]}单次最多奖励 {cap} 积分",
                               details={"cap": cap, "category": category})
    daily_cap = daily_cap_of(community)
    now = utcnow()
    awarder = current_user(principal)
    item = AwardModel(new_id("aw"), community_id=community_id, user_id=target.id, user_nickname=target.nickname,
                      grid_id=target.grid_id, category=category, points=points, reason=reason, status="active",
                      awarded_by=principal.user_id, awarded_by_nickname=awarder.nickname, awarded_as=grant.role,
                      created_at=now)
    answer = present(item)
    day_key, day_expires = rules.awarder_day_counter(principal.user_id, now)
    day_full = DailyCapExceeded(f"每人每天最多发放 {daily_cap} 积分的奖励", details={"cap": daily_cap})

    def build(account: ledger.Account) -> Tx:
        tx = check_grant(Tx(), grant)
        tx.put(item, condition=AwardModel.id.does_not_exist(), error=InvalidState("奖励已记录"))
        ledger.append(tx, account=account, amount=points, source_key=rules.award_source(item.id), kind="award",
                      source=f"award:{item.id}", note=f"{rules.CATEGORY_NAMES[category]}：{reason}",
                      community_id=community_id, stats={f"cat:{category}": points},
                      duplicate_error=InvalidState("奖励已入账"), user_condition=_still_member(community_id))
        counters.add_capped(tx, day_key, points, cap=daily_cap, expires_at=day_expires, error=day_full)
        notifications.enqueue(tx, kind="points_awarded", recipient_id=target.id, page=POINTS_PAGE,
                              community_id=community_id, key=f"award#{item.id}#awarded",
                              data={"award_id": item.id, "points": points, "category": category, "reason": reason})
        return tx

    ledger.run_with_balance(target.id, build, answer, first=ledger.account_of(target))
    metrics.count("award_granted")
    log.info("points awarded", extra={"award_id": item.id, "points": points, "category": category})
    return answer


def _still_member(community_id: str):
    """The awarded user is still an active member of this community when the award commits."""
    return (UserModel.status == "active") & (UserModel.community_id == community_id)


def reverse(principal: Principal, award_id: str, reason: str) -> dict:
    """Once, by an admin of the award's community: the points back as a negative entry (409 INSUFFICIENT_POINTS
    when they were spent: a balance never goes below 0). The awarder's day total keeps what they handed out.

    Reversals race: one that read the award active may read the balance after another reversal of the same award
    took the points. A balance read short is therefore not the answer by itself: a transaction of conditions
    decides — the award still active and the balance still what was read, at one moment → 409
    INSUFFICIENT_POINTS; the award no longer active → 409 INVALID_STATE; the balance moved → read it again."""
    community_id = require_member(principal)
    try:
        item = AwardModel.get(award_id, consistent_read=True)
    except AwardModel.DoesNotExist:
        raise AWARD_NOT_FOUND from None
    if item.community_id != community_id:
        raise AWARD_NOT_FOUND
    grant = require_role(principal, Role.ADMIN)
    if item.status != "active":
        raise InvalidState(ALREADY_REVERSED)
    if item.user_id == principal.user_id:  # as no one awards themselves, no one reverses what they were awarded
        raise SelfAward("不能撤销给自己的奖励，请由其他管理员撤销")
    now = utcnow()
    points = int(item.points)
    after = item.changed(status="reversed", reversed_at=now, reversed_by=principal.user_id, reverse_reason=reason)
    answer = present(after)

    def refused(current: AwardModel | None) -> DomainError:
        return InvalidState(ALREADY_REVERSED) if current is not None else AWARD_NOT_FOUND

    def build(account: ledger.Account) -> Tx:
        if account.balance < points:  # spent, or taken back by a reversal that committed since the award was read
            raise _Short(account)
        tx = check_grant(Tx(), grant)
        tx.update(AwardModel(item.id), [AwardModel.status.set("reversed"), AwardModel.reversed_at.set(now),
                                        AwardModel.reversed_by.set(principal.user_id),
                                        AwardModel.reverse_reason.set(reason)],
                  condition=AwardModel.status == "active", error=refused)
        ledger.append(tx, account=account, amount=-points, source_key=rules.reversal_source(item.id),
                      kind="reversal", source=f"award:{item.id}", note=f"奖励撤销：{reason}",
                      community_id=item.community_id, earned_at=item.created_at,
                      stats={f"cat:{item.category}": -points}, duplicate_error=InvalidState(ALREADY_REVERSED))
        notifications.enqueue(tx, kind="award_reversed", recipient_id=item.user_id, page=POINTS_PAGE,
                              community_id=item.community_id, key=f"award#{item.id}#reversed",
                              data={"award_id": item.id, "points": points, "reason": reason})
        return tx

    def shortfall(account: ledger.Account) -> InsufficientPoints:
        """The refusal for a balance read short, if the award is still active and the balance still that at one
        moment (conditions only: nothing is written, nothing stored under the Idempotency-Key here)."""
        tx = check_grant(Tx(), grant)
        tx.check(AwardModel, item.id, condition=AwardModel.status == "active", error=refused)
        tx.check(UserModel, item.user_id, condition=UserModel.points_balance == account.balance,
                 error=_ShortfallMoved())
        tx.commit()
        return InsufficientPoints(details={"balance": account.balance, "needed": points})

    try:
        for _ in range(ledger.MAX_BALANCE_RACES):
            try:
                ledger.run_with_balance(item.user_id, build, answer)
                break
            except _Short as short:
                try:
                    raise shortfall(short.account)
                except _ShortfallMoved:
                    continue
        else:
            raise StorageBusy()
    except Unauthenticated:  # the awarded account is gone: nothing to take back from
        raise InvalidState("获奖用户已注销，无法撤销") from None
    metrics.count("award_reversed")
    log.info("award reversed", extra={"award_id": item.id, "points": points})
    return answer
