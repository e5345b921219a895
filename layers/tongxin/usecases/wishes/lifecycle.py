"""微心愿 lifecycle: publish, review, claim, release, fulfil, confirm, cancel.

Every transition is ONE transaction whose conditions carry the rule (e.g. claim only if ``open``), the acting
user's current role, and the outbox messages it causes. A failed condition is classified from the item as it
stood (``ALREADY_CLAIMED``, ``INVALID_STATE``, ``FORBIDDEN``), never retried.

The answer is the wish as read with the changes applied (``_step`` returns it), built before the commit so the
Idempotency-Key record can be written by the same transaction; nothing is read back.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ... import metrics
from ...adapters.dynamo import batch, counters
from ...adapters.dynamo.guards import check_active, check_grant
from ...adapters.dynamo.models import CommunityModel, CounterModel, WishModel
from ...adapters.dynamo.tx import Tx
from ...domain import stats as domain_stats, wishes as rules
from ...domain.access import Principal, Role, require_member, require_role
from ...domain.clock import utcnow
from ...domain.errors import AlreadyClaimed, Conflict, DomainError, Forbidden, NotFound, OwnWish, RateLimited
from ...domain.ids import new_id
from ...domain.points import wish_confirm_source
from ...domain.wishes import WishStatus as S
from ...wiring import Container
from .. import ledger, notifications, service_record
from ..access import current_user
from ..content import Scene, check as content_check
from .reading import DEFAULT_NICKNAME, STAFF_ROLES, WISH_NOT_FOUND, load, present_for

log = logging.getLogger(__name__)

CLAIMER_ROLES = (Role.VOLUNTEER, Role.PARTY_MEMBER)


# --- settings, messages ------------------------------------------------------------------------------

def setting(community: CommunityModel | None, name: str, default: int) -> int:
    value = getattr(community, name) if community is not None else None
    return int(default if value is None else value)


def _message_data(wish: WishModel, **extra: Any) -> dict:
    return {"wish_id": wish.id, "title": wish.title, "category": wish.category, **extra}


def notify_grid(tx: Tx, wish: WishModel, kind: str) -> None:
    """Tell the workers of the wish's grid: one fan-out item, expanded into one message per worker (keyed
    ``wish#<id>#<kind>#<worker>``), so no grid size can break the wish's transaction."""
    notifications.fan_out(tx, key=f"wish#{wish.id}#{kind}", kind=kind,
                          audience=notifications.grid_audience(wish.community_id, wish.grid_id),
                          data=_message_data(wish), page=notifications.WISH_PAGE.format(id=wish.id),
                          community_id=wish.community_id)


def notify(tx: Tx, wish: WishModel, kind: str, recipient_id: str | None, **extra: Any) -> None:
    if recipient_id:
        notifications.enqueue(tx, kind=kind, recipient_id=recipient_id, data=_message_data(wish, **extra),
                              page=notifications.WISH_PAGE.format(id=wish.id), community_id=wish.community_id)


# --- the state a status brings with it ---------------------------------------------------------------

def status_attributes(wish: WishModel, status: S, *, escalated: bool) -> dict[str, Any]:
    """Attributes that follow from a status: the list keys, the grid task list and the scheduler's due time."""
    attrs: dict[str, Any] = {"status": status.value,
                             **rules.list_keys(wish.community_id, wish.grid_id, wish.category, status)}
    attrs["grid_task"] = rules.grid_task_key(wish.community_id, wish.grid_id) \
        if rules.needs_grid_worker(status, escalated) else None
    due = rules.next_due(status, wish.published_at or utcnow(), wish.deadline, escalated)
    attrs["due_shard"], attrs["due_at"] = (rules.due_shard(wish.id), due) if due is not None else (None, None)
    return attrs


def _copy(wish: WishModel) -> WishModel:
    return WishModel.from_raw_data(wish.serialize(null_check=False))


STAT_FIELDS = ("status", "category", "grid_id", "published_at", "first_claimed_at", "confirmed_at")


def count(tx: Tx, before: WishModel | None, after: WishModel) -> None:
    """Add the change to the community's statistics (its creation day and month), in the same transaction."""
    deltas = domain_stats.wish_deltas(
        {name: getattr(before, name) for name in STAT_FIELDS} if before is not None else None,
        {name: getattr(after, name) for name in STAT_FIELDS})
    for key in rules.stats_keys(after.community_id, after.created_at):
        counters.add(tx, key, deltas)


def apply(tx: Tx, wish: WishModel, changes: dict[str, Any], *, condition, error, also_actions=()) -> WishModel:
    """Add to ``tx`` the update that sets ``changes`` (None removes), and what it changes in the statistics;
    return the wish as it will be."""
    after = _copy(wish)
    actions = list(also_actions)
    for name, value in changes.items():
        setattr(after, name, value)
        attribute = getattr(WishModel, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    tx.update(WishModel(wish.id), actions, condition=condition, error=error)
    count(tx, wish, after)
    return after


def _refusal(action: str, actor_field: str | None, actor_id: str | None):
    """Classify a failed transition from the wish as it stood: gone, wrong person, or wrong state."""
    def classify(current: WishModel | None) -> DomainError:
        if current is None:
            return WISH_NOT_FOUND
        allowed, _ = rules.transition(action)
        if S(current.status) in allowed and actor_field and getattr(current, actor_field) != actor_id:
            return Forbidden()
        return rules.invalid_state(action, current.status)
    return classify


def _same(attribute, value):
    """The attribute still has the value read (so a value derived from it is still right)."""
    return attribute.does_not_exist() if value is None else attribute == value


def in_states(action: str):
    allowed, _ = rules.transition(action)
    return WishModel.status.is_in(*[s.value for s in allowed])


def _require_person(wish: WishModel, actor_field: str, principal: Principal, action: str) -> None:
    """The wrong person is told so (403) before the state is looked at, unless the state has no such person."""
    holder = getattr(wish, actor_field)
    allowed, _ = rules.transition(action)
    if holder is not None and holder != principal.user_id:
        raise Forbidden()
    if holder is None and S(wish.status) in allowed:
        raise Forbidden()


def step(tx: Tx, wish: WishModel, action: str, changes: dict[str, Any], *, now: datetime,
         by: tuple[str, str] | None = None, also=None, escalated: bool = False, error=None) -> WishModel:
    """Add to ``tx`` the one update that performs ``action``: the new status with its derived attributes,
    ``changes``, and as conditions the states the action starts from, the acting person (``by`` =
    (field, user id)) and ``also``. Returns the wish as it will be after the commit."""
    _, target = rules.transition(action)
    condition = in_states(action)
    if by is not None:
        condition &= getattr(WishModel, by[0]) == by[1]
    if also is not None:
        condition &= also
    return apply(tx, wish, {**status_attributes(wish, target, escalated=escalated), **changes, "updated_at": now},
                 condition=condition, error=error or _refusal(action, *(by or (None, None))))


# --- publishing ---------------------------------------------------------------------------------------

def _publish_cap_reached(cap: int) -> RateLimited:
    return RateLimited(f"今天发布的心愿已达上限（{cap} 条），请明天再来", details={"cap": cap})


def publish(container: Container, principal: Principal, *, title: str, content: str, category: str,
            deadline: datetime | None, contact_phone: str | None, address: str | None) -> dict:
    grant = require_role(principal, Role.RESIDENT)
    now = utcnow()
    rules.check_deadline(deadline, now)
    author = current_user(principal)
    counter_key, counter_expiry = rules.publish_counter(author.id, now)
    # One read for what publishing depends on: the community's settings and today's count.
    community, counter = batch.get_many((CommunityModel, grant.community_id), (CounterModel, counter_key))
    if community is None:
        raise NotFound("社区不存在")
    cap = setting(community, "wish_publish_daily_cap", rules.DEFAULT_PUBLISH_DAILY_CAP)
    # Refused before WeChat's content check is spent; the transaction's own condition is what holds the cap.
    if counters.current(counter, now) >= cap:
        raise _publish_cap_reached(cap)
    suggest = content_check(container, author, title, content, scene=Scene.FORUM, what="wish")
    status = rules.initial_status(bool(community.wish_review_required), suggest)
    wish = WishModel(new_id("w"), community_id=grant.community_id, grid_id=author.grid_id, author_id=author.id,
                     author_nickname=author.nickname or DEFAULT_NICKNAME, title=title, content=content,
                     category=category, contact_phone=contact_phone, address=address, deadline=deadline,
                     created_at=now, updated_at=now, published_at=now if status is S.OPEN else None)
    for name, value in status_attributes(wish, status, escalated=False).items():
        setattr(wish, name, value)
    tx = check_grant(Tx(), grant).put(wish, condition=WishModel.id.does_not_exist())
    count(tx, None, wish)
    counters.bump(tx, counter_key, cap=cap, expires_at=counter_expiry, error=_publish_cap_reached(cap))
    if status is S.PENDING_REVIEW:
        notify_grid(tx, wish, "wish_to_review")
    answer = present_for(principal, wish)
    tx.commit(answer)
    metrics.count("wish_published")
    log.info("wish published", extra={"wish_id": wish.id, "status": status.value})
    return answer


# --- transitions --------------------------------------------------------------------------------------

def review(principal: Principal, wish_id: str, *, approve: bool, reason: str | None = None) -> dict:
    wish = load(principal, wish_id)
    grant = require_role(principal, *STAFF_ROLES, grid_id=wish.grid_id)
    now = utcnow()
    if approve:
        wish.published_at = now  # escalation counts from publication
        changes = {"published_at": now}
    else:
        changes = {"reject_reason": reason}
    tx = check_grant(Tx(), grant)
    after = step(tx, wish, "approve" if approve else "reject", {**changes, "reviewed_by": principal.user_id}, now=now)
    notify(tx, wish, "wish_reviewed", wish.author_id, result="approved" if approve else "rejected", reason=reason)
    answer = present_for(principal, after)
    tx.commit(answer)
    metrics.count("wish_approved" if approve else "wish_rejected")
    return answer


def claim(principal: Principal, wish_id: str) -> dict:
    grant = require_role(principal, *CLAIMER_ROLES)
    wish = load(principal, wish_id)
    if wish.author_id == principal.user_id:
        raise OwnWish()
    now = utcnow()

    def refused(current: WishModel | None) -> DomainError:
        if current is None:
            return WISH_NOT_FOUND
        if current.status == S.CLAIMED.value or current.claimer_id:
            return AlreadyClaimed()
        if current.status == S.OPEN.value:  # claimed and released again since it was read
            return Conflict("心愿刚刚有变化，请刷新后重试")
        return rules.invalid_state("claim", current.status)

    claimer = current_user(principal)
    tx = check_grant(Tx(), grant)
    after = apply(tx, wish, {
        **status_attributes(wish, S.CLAIMED, escalated=wish.escalated_at is not None),
        "claimer_id": claimer.id, "claimer_nickname": claimer.nickname or DEFAULT_NICKNAME, "claimed_at": now,
        "first_claimed_at": wish.first_claimed_at or now, "updated_at": now},
        condition=in_states("claim") & WishModel.claimer_id.does_not_exist() & (WishModel.author_id != claimer.id)
        & _same(WishModel.first_claimed_at, wish.first_claimed_at), error=refused)
    notify(tx, wish, "wish_claimed", wish.author_id)
    answer = present_for(principal, after)
    tx.commit(answer)
    metrics.count("wish_claimed")
    log.info("wish claimed", extra={"wish_id": wish.id})
    return answer


def release_step(tx: Tx, wish: WishModel, claimer_id: str, now: datetime, extra: dict | None = None) -> WishModel:
    after = step(tx, wish, "release", {"claimer_id": None, "claimer_nickname": None, "claimed_at": None,
                                       **(extra or {})},
                 now=now, by=("claimer_id", claimer_id), escalated=wish.escalated_at is not None)
    notify(tx, wish, "wish_released", wish.author_id)
    return after


def release(principal: Principal, wish_id: str) -> dict:
    wish = load(principal, wish_id)
    _require_person(wish, "claimer_id", principal, "release")
    tx = check_active(Tx(), principal.user_id)
    answer = present_for(principal, release_step(tx, wish, principal.user_id, utcnow()))
    tx.commit(answer)
    metrics.count("wish_released")
    return answer


def fulfil(container: Container, principal: Principal, wish_id: str, note: str) -> dict:
    wish = load(principal, wish_id)
    _require_person(wish, "claimer_id", principal, "fulfil")
    if S(wish.status) not in rules.transition("fulfil")[0]:  # before WeChat's check is spent (the write's
        raise rules.invalid_state("fulfil", wish.status)     # condition is what holds it)
    content_check(container, current_user(principal), note, scene=Scene.COMMENT, what="fulfil note")
    now = utcnow()
    tx = check_active(Tx(), principal.user_id)
    after = step(tx, wish, "fulfil", {"fulfilled_at": now, "fulfil_note": note}, now=now,
                 by=("claimer_id", principal.user_id))
    notify(tx, wish, "wish_fulfilled", wish.author_id)
    answer = present_for(principal, after)
    tx.commit(answer)
    metrics.count("wish_fulfilled")
    return answer


class _CapReached(DomainError):
    """A fairness cap on wish points is reached (internal: the confirmation is rebuilt to credit 0)."""

    def __init__(self, which: str):
        super().__init__(rules.CAP_NOTES[which])
        self.which = which


def confirm(container: Container, principal: Principal, wish_id: str, rating: int, comment: str | None) -> dict:
    """The author confirms: status, the claimer's ledger entry (keyed by the wish) and balance, the fairness
    counters and the claimer's message commit together; a second confirm finds the state (and the entry) taken.
    Past a fairness cap the confirmation still stands but credits 0, with the reason in the passbook note."""
    community_id = require_member(principal)
    wish, community = batch.get_many((WishModel, wish_id), (CommunityModel, community_id))
    if wish is None or wish.community_id != community_id:
        raise WISH_NOT_FOUND
    _require_person(wish, "author_id", principal, "confirm")
    if S(wish.status) is not S.FULFILLED or not wish.claimer_id:
        raise rules.invalid_state("confirm", wish.status)
    content_check(container, current_user(principal), comment, scene=Scene.COMMENT, what="confirmation comment")
    claimer_id = wish.claimer_id
    base_points = setting(community, "wish_points", rules.DEFAULT_WISH_POINTS)
    now = utcnow()
    caps = {"daily": (rules.points_counter(claimer_id, now),
                      setting(community, "wish_points_daily_cap", rules.DEFAULT_POINTS_DAILY_CAP)),
            "pair": (rules.pair_counter(wish.author_id, claimer_id, now),
                     setting(community, "wish_points_pair_monthly_cap", rules.DEFAULT_POINTS_PAIR_MONTHLY_CAP))}
    answer: dict = {}

    def build(account: ledger.Account, capped: str | None) -> Tx:
        points = 0 if capped else base_points
        changes = {"confirmed_at": now, "rating": rating, "points_awarded": points}
        if comment:
            changes["comment"] = comment
        tx = check_active(Tx(), principal.user_id)
        after = step(tx, wish, "confirm", changes, now=now, by=("author_id", principal.user_id),
                     also=WishModel.claimer_id == claimer_id)
        if base_points > 0:
            note = f"微心愿圆梦：{wish.title}" + (f"（{rules.CAP_NOTES[capped]}）" if capped else "")
            ledger.append(tx, account=account, amount=points,
                          source_key=wish_confirm_source(wish.id), kind="wish", source=f"wish:{wish.id}",
                          note=note, community_id=wish.community_id,
                          duplicate_error=rules.invalid_state("confirm", S.CONFIRMED.value))
            if not capped:
                for which, ((key, expires_at), cap) in caps.items():
                    counters.bump(tx, key, cap=cap, expires_at=expires_at, error=_CapReached(which))
        # The claimer's service record (服务记录): one ``wish`` service, in the quarter the wish was fulfilled.
        service_record.add(tx, user_id=claimer_id, community_id=wish.community_id, at=wish.fulfilled_at or now,
                           kind="wish")
        notify(tx, wish, "wish_confirmed", claimer_id, rating=rating, points=points)
        answer.clear()
        answer.update(present_for(principal, after))
        return tx

    try:
        ledger.run_with_balance(claimer_id, lambda account: build(account, None), answer)
        capped = None
    except _CapReached as reached:
        capped = reached.which
        ledger.run_with_balance(claimer_id, lambda account: build(account, capped), answer)
    metrics.count("wish_confirmed")
    log.info("wish confirmed", extra={"wish_id": wish.id, "points": 0 if capped else base_points, "capped": capped})
    return answer


def cancel_step(tx: Tx, wish: WishModel, author_id: str, now: datetime, extra: dict | None = None) -> WishModel:
    same_claimer = (WishModel.claimer_id == wish.claimer_id) if wish.claimer_id else WishModel.claimer_id.does_not_exist()
    after = step(tx, wish, "cancel", {"cancelled_at": now, **(extra or {})}, now=now, by=("author_id", author_id),
                 also=same_claimer)
    notify(tx, wish, "wish_cancelled", wish.claimer_id)
    return after


def cancel(principal: Principal, wish_id: str) -> dict:
    wish = load(principal, wish_id)
    _require_person(wish, "author_id", principal, "cancel")
    tx = check_active(Tx(), principal.user_id)
    answer = present_for(principal, cancel_step(tx, wish, principal.user_id, utcnow()))
    tx.commit(answer)
    metrics.count("wish_cancelled")
    return answer
