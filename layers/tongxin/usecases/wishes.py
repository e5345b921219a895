"""微心愿 wishes: publish, review, claim, release, fulfil, confirm, cancel, and the scheduler's
escalation (吹哨) and expiry.

Every transition is ONE transaction whose conditions carry the rule (e.g. claim only if ``open``), the
acting user's current role, and the outbox messages it causes. A failed condition is classified from
the item as it stood (``ALREADY_CLAIMED``, ``INVALID_STATE``, ``FORBIDDEN``), never retried.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo import counters
from ..adapters.dynamo.guards import check_active, check_grant
from ..adapters.dynamo.models import CommunityModel, GridModel, UserModel, WishModel
from ..adapters.dynamo.tx import Tx, conditional_update
from ..domain import wishes as rules
from ..domain.access import Principal, Role, require_member, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import (
    AlreadyClaimed, ContentRejected, DomainError, Forbidden, NotFound, OwnWish, RateLimited,
)
from ..domain.ids import new_id
from ..domain.masking import mask_address, mask_phone
from ..domain.points import wish_confirm_source
from ..domain.wishes import WishStatus as S
from ..wiring import Container
from . import ledger, notifications, paging
from .access import current_user

log = logging.getLogger(__name__)

PUBLIC_STATUSES = (S.OPEN, S.CLAIMED, S.FULFILLED, S.CONFIRMED)
CLAIMER_ROLES = (Role.VOLUNTEER, Role.PARTY_MEMBER)
STAFF_ROLES = (Role.GRID_WORKER, Role.ADMIN)
DELETED_NICKNAME = "已注销用户"
WISH_NOT_FOUND = NotFound("心愿不存在")


# --- reading and presenting ---------------------------------------------------------------------

def _load(principal: Principal, wish_id: str) -> WishModel:
    community_id = require_member(principal)
    try:
        wish = WishModel.get(wish_id, consistent_read=True)
    except DoesNotExist:
        raise WISH_NOT_FOUND from None
    if wish.community_id != community_id:  # another community's wish is not even acknowledged
        raise WISH_NOT_FOUND
    return wish


def _names(user_ids: set[str]) -> dict[str, str]:
    ids = sorted(i for i in user_ids if i)
    if not ids:
        return {}
    names = {}
    for user in UserModel.batch_get(ids, attributes_to_get=["id", "nickname", "status"]):
        names[user.id] = DELETED_NICKNAME if user.status == "deleted" else (user.nickname or "微信用户")
    return names


def _person(user_id: str | None, names: dict[str, str]) -> dict | None:
    if not user_id:
        return None
    return {"id": user_id, "nickname": names.get(user_id, DELETED_NICKNAME)}


def present(wish: WishModel, names: dict[str, str], *, contact_visible: bool) -> dict:
    return {
        "id": wish.id,
        "title": wish.title,
        "content": wish.content,
        "category": wish.category,
        "status": wish.status,
        "status_label": rules.STATUS_LABELS[S(wish.status)],
        "grid_id": wish.grid_id,
        "author": _person(wish.author_id, names),
        "claimer": _person(wish.claimer_id, names),
        "contact_phone": wish.contact_phone if contact_visible else mask_phone(wish.contact_phone),
        "address": wish.address if contact_visible else mask_address(wish.address),
        "contact_visible": contact_visible,
        "deadline": to_api(wish.deadline),
        "created_at": to_api(wish.created_at),
        "published_at": to_api(wish.published_at),
        "claimed_at": to_api(wish.claimed_at),
        "fulfilled_at": to_api(wish.fulfilled_at),
        "fulfil_note": wish.fulfil_note,
        "confirmed_at": to_api(wish.confirmed_at),
        "rating": int(wish.rating) if wish.rating is not None else None,
        "comment": wish.comment,
        "points_awarded": int(wish.points_awarded) if wish.points_awarded is not None else None,
        "reject_reason": wish.reject_reason,
        "escalated": wish.escalated_at is not None,
        "escalated_at": to_api(wish.escalated_at),
    }


def _present_all(wishes: list[WishModel], contact_visible) -> list[dict]:
    names = _names({w.author_id for w in wishes} | {w.claimer_id for w in wishes if w.claimer_id})
    return [present(w, names, contact_visible=contact_visible(w)) for w in wishes]


def _is_staff_for(principal: Principal, wish: WishModel) -> bool:
    """Admin, or grid worker of the wish's grid (a wish with no grid is the admins' alone)."""
    try:
        require_role(principal, *STAFF_ROLES, community_id=wish.community_id, grid_id=wish.grid_id)
        return True
    except Forbidden:
        return False


def _contact_visible(principal: Principal, wish: WishModel) -> bool:
    return principal.user_id in (wish.author_id, wish.claimer_id) or _is_staff_for(principal, wish)


def _visible(principal: Principal, wish: WishModel) -> bool:
    """THE rule of who sees a wish at all, for the detail and the lists alike: a published wish is the
    community's; an unpublished or withdrawn one is its author's, its claimer's and its staff's business."""
    return S(wish.status) in PUBLIC_STATUSES or _contact_visible(principal, wish)


def _visible_condition(principal: Principal):
    """``_visible`` as a filter of the community's lists (None: everything is visible, i.e. an admin)."""
    if principal.has(Role.ADMIN):
        return None
    condition = WishModel.status.is_in(*[s.value for s in PUBLIC_STATUSES]) \
        | (WishModel.author_id == principal.user_id) | (WishModel.claimer_id == principal.user_id)
    if principal.has(Role.GRID_WORKER) and principal.grid_ids:
        condition |= WishModel.grid_id.is_in(*sorted(principal.grid_ids))
    return condition


def get(principal: Principal, wish_id: str) -> dict:
    wish = _load(principal, wish_id)
    if not _visible(principal, wish):
        raise WISH_NOT_FOUND
    return present(wish, _names({wish.author_id, wish.claimer_id}), contact_visible=_contact_visible(principal, wish))


def list_community(principal: Principal, *, status: str | None, grid_id: str | None, category: str | None,
                   limit: int, cursor: str | None) -> dict:
    """The community's wishes, newest first; contact and address always masked in lists. Everyone sees the
    published ones; unpublished or withdrawn ones only whoever may open them (``_visible``)."""
    community_id = require_member(principal)
    if status is not None and S(status) not in PUBLIC_STATUSES:
        require_role(principal, *STAFF_ROLES)
    filters = []
    if grid_id:
        filters.append(WishModel.grid_id == grid_id)
    if category:
        filters.append(WishModel.category == category)
    if status is None or S(status) not in PUBLIC_STATUSES:
        visible = _visible_condition(principal)
        if visible is not None:
            filters.append(visible)
    condition = None
    for f in filters:
        condition = f if condition is None else condition & f

    def query(**kwargs):
        if status is not None:
            return WishModel.by_community_status.query(rules.community_status_key(community_id, status),
                                                       filter_condition=condition, scan_index_forward=False, **kwargs)
        return WishModel.by_community.query(community_id, filter_condition=condition, scan_index_forward=False,
                                            **kwargs)

    scope = f"wishes:{community_id}:{status or '*'}:{grid_id or '*'}:{category or '*'}:{principal.user_id}"
    return paging.page(query, limit, cursor, lambda items: _present_all(items, lambda w: False), scope=scope)


def list_mine(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    return paging.page(lambda **kw: WishModel.by_author.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: _present_all(items, lambda w: True),
                       scope=f"wishes-by-author:{principal.user_id}")


def list_claimed(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    return paging.page(lambda **kw: WishModel.by_claimer.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: _present_all(items, lambda w: True),
                       scope=f"wishes-by-claimer:{principal.user_id}")


# --- publishing ----------------------------------------------------------------------------------

def _grid_workers(community_id: str, grid_id: str | None) -> list[str]:
    if not grid_id:
        return []
    try:
        return sorted(GridModel.get(community_id, grid_id).worker_ids or ())
    except DoesNotExist:
        return []


def _message_data(wish: WishModel, **extra: Any) -> dict:
    return {"wish_id": wish.id, "title": wish.title, "category": wish.category, **extra}


def _notify_grid(tx: Tx, wish: WishModel, kind: str, *, keyed: bool) -> None:
    for worker_id in _grid_workers(wish.community_id, wish.grid_id):
        notifications.enqueue(tx, kind=kind, recipient_id=worker_id, data=_message_data(wish),
                              page=notifications.WISH_PAGE.format(id=wish.id), community_id=wish.community_id,
                              key=f"wish#{wish.id}#{kind}#{worker_id}" if keyed else None)


def _notify(tx: Tx, wish: WishModel, kind: str, recipient_id: str | None, **extra: Any) -> None:
    if recipient_id:
        notifications.enqueue(tx, kind=kind, recipient_id=recipient_id, data=_message_data(wish, **extra),
                              page=notifications.WISH_PAGE.format(id=wish.id), community_id=wish.community_id)


def _schedule_actions(wish: WishModel, status: S, *, escalated: bool) -> list:
    """Index attributes that follow from the new status: grid task list and the scheduler's due time."""
    actions = [WishModel.status.set(status.value),
               WishModel.community_status.set(rules.community_status_key(wish.community_id, status))]
    if rules.needs_grid_worker(status, escalated):
        actions.append(WishModel.grid_task.set(rules.grid_task_key(wish.community_id, wish.grid_id)))
    else:
        actions.append(WishModel.grid_task.remove())
    due = rules.next_due(status, wish.published_at or utcnow(), wish.deadline, escalated)
    if due is None:
        actions += [WishModel.due_shard.remove(), WishModel.due_at.remove()]
    else:
        actions += [WishModel.due_shard.set(rules.due_shard(wish.id)), WishModel.due_at.set(due)]
    return actions


def _community(community_id: str) -> CommunityModel:
    try:
        return CommunityModel.get(community_id)
    except DoesNotExist:
        raise NotFound("社区不存在") from None


def _setting(community: CommunityModel, name: str, default: int) -> int:
    value = getattr(community, name)
    return int(default if value is None else value)


def _publish_cap_reached(cap: int) -> RateLimited:
    return RateLimited(f"今天发布的心愿已达上限（{cap} 条），请明天再来", details={"cap": cap})


def publish(container: Container, principal: Principal, *, title: str, content: str, category: str,
            deadline: datetime | None, contact_phone: str | None, address: str | None) -> dict:
    grant = require_role(principal, Role.RESIDENT)
    now = utcnow()
    rules.check_deadline(deadline, now)
    author = current_user(principal)
    community = _community(grant.community_id)
    cap = _setting(community, "wish_publish_daily_cap", rules.DEFAULT_PUBLISH_DAILY_CAP)
    counter_key, counter_expiry = rules.publish_counter(author.id, now)
    # Refused before WeChat's content check is spent; the transaction's own condition is what holds the cap.
    if counters.value(counter_key, now) >= cap:
        raise _publish_cap_reached(cap)
    suggest = container.wechat.check_text(f"{title}\n{content}", author.openid or "")
    if suggest == "risky":
        raise ContentRejected()
    status = rules.initial_status(bool(community.wish_review_required), suggest)
    wish = WishModel(new_id("w"), community_id=grant.community_id, grid_id=author.grid_id, author_id=author.id,
                     title=title, content=content, category=category, status=status.value,
                     community_status=rules.community_status_key(grant.community_id, status),
                     contact_phone=contact_phone, address=address, deadline=deadline, created_at=now,
                     updated_at=now, published_at=now if status is S.OPEN else None)
    if rules.needs_grid_worker(status, escalated=False):
        wish.grid_task = rules.grid_task_key(wish.community_id, wish.grid_id)
    due = rules.next_due(status, wish.published_at, deadline, escalated=False)
    if due is not None:
        wish.due_shard, wish.due_at = rules.due_shard(wish.id), due
    tx = check_grant(Tx(), grant).put(wish, condition=WishModel.id.does_not_exist())
    counters.bump(tx, counter_key, cap=cap, expires_at=counter_expiry, error=_publish_cap_reached(cap))
    if status is S.PENDING_REVIEW:
        _notify_grid(tx, wish, "wish_to_review", keyed=True)
    tx.commit()
    log.info("wish published", extra={"wish_id": wish.id, "status": status.value})
    return present(wish, {author.id: author.nickname or "微信用户"}, contact_visible=True)


# --- transitions ---------------------------------------------------------------------------------

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


def _in_states(action: str):
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


def _step(tx: Tx, wish: WishModel, action: str, changes: list, *, now: datetime,
          by: tuple[str, str] | None = None, also=None, escalated: bool = False, error=None) -> Tx:
    """Add to ``tx`` the one update that performs ``action``: the new status with its index attributes,
    ``changes``, and as conditions the states the action starts from, the acting person (``by`` =
    (field, user id)) and ``also``."""
    _, target = rules.transition(action)
    condition = _in_states(action)
    if by is not None:
        condition &= getattr(WishModel, by[0]) == by[1]
    if also is not None:
        condition &= also
    actions = _schedule_actions(wish, target, escalated=escalated) + changes + [WishModel.updated_at.set(now)]
    return tx.update(wish, actions, condition=condition, error=error or _refusal(action, *(by or (None, None))))


def review(principal: Principal, wish_id: str, *, approve: bool, reason: str | None = None) -> dict:
    wish = _load(principal, wish_id)
    grant = require_role(principal, *STAFF_ROLES, grid_id=wish.grid_id)
    now = utcnow()
    if approve:
        wish.published_at = now  # escalation counts from publication
        changes = [WishModel.published_at.set(now)]
    else:
        changes = [WishModel.reject_reason.set(reason)]
    tx = _step(check_grant(Tx(), grant), wish, "approve" if approve else "reject",
               changes + [WishModel.reviewed_by.set(principal.user_id)], now=now)
    _notify(tx, wish, "wish_reviewed", wish.author_id, result="approved" if approve else "rejected",
            reason=reason)
    tx.commit()
    return get(principal, wish_id)


def claim(principal: Principal, wish_id: str) -> dict:
    grant = require_role(principal, *CLAIMER_ROLES)
    wish = _load(principal, wish_id)
    if wish.author_id == principal.user_id:
        raise OwnWish()
    now = utcnow()

    def refused(current: WishModel | None) -> DomainError:
        if current is None:
            return WISH_NOT_FOUND
        if current.status == S.CLAIMED.value or current.claimer_id:
            return AlreadyClaimed()
        return rules.invalid_state("claim", current.status)

    actions = _schedule_actions(wish, S.CLAIMED, escalated=wish.escalated_at is not None) + [
        WishModel.claimer_id.set(principal.user_id), WishModel.claimed_at.set(now),
        WishModel.first_claimed_at.set(WishModel.first_claimed_at | now), WishModel.updated_at.set(now)]
    tx = check_grant(Tx(), grant).update(
        wish, actions, condition=_in_states("claim") & WishModel.claimer_id.does_not_exist()
        & (WishModel.author_id != principal.user_id), error=refused)
    _notify(tx, wish, "wish_claimed", wish.author_id)
    tx.commit()
    log.info("wish claimed", extra={"wish_id": wish.id})
    return get(principal, wish_id)


def _release_tx(wish: WishModel, claimer_id: str, now: datetime) -> Tx:
    tx = _step(Tx(), wish, "release", [WishModel.claimer_id.remove(), WishModel.claimed_at.remove()], now=now,
               by=("claimer_id", claimer_id), escalated=wish.escalated_at is not None)
    _notify(tx, wish, "wish_released", wish.author_id)
    return tx


def release(principal: Principal, wish_id: str) -> dict:
    wish = _load(principal, wish_id)
    _require_person(wish, "claimer_id", principal, "release")
    check_active(_release_tx(wish, principal.user_id, utcnow()), principal.user_id).commit()
    return get(principal, wish_id)


def fulfil(principal: Principal, wish_id: str, note: str) -> dict:
    wish = _load(principal, wish_id)
    _require_person(wish, "claimer_id", principal, "fulfil")
    now = utcnow()
    tx = _step(check_active(Tx(), principal.user_id), wish, "fulfil",
               [WishModel.fulfilled_at.set(now), WishModel.fulfil_note.set(note)], now=now,
               by=("claimer_id", principal.user_id))
    _notify(tx, wish, "wish_fulfilled", wish.author_id)
    tx.commit()
    return get(principal, wish_id)


class _CapReached(DomainError):
    """A fairness cap on wish points is reached (internal: the confirmation is rebuilt to credit 0)."""

    def __init__(self, which: str):
        super().__init__(rules.CAP_NOTES[which])
        self.which = which


def confirm(principal: Principal, wish_id: str, rating: int, comment: str | None) -> dict:
    """The author confirms: status, the claimer's ledger entry (keyed by the wish) and balance, the fairness
    counters and the claimer's message commit together; a second confirm finds the state (and the entry) taken.
    Past a fairness cap the confirmation still stands but credits 0, with the reason in the passbook note."""
    wish = _load(principal, wish_id)
    _require_person(wish, "author_id", principal, "confirm")
    if S(wish.status) is not S.FULFILLED or not wish.claimer_id:
        raise rules.invalid_state("confirm", wish.status)
    claimer_id = wish.claimer_id
    community = _community(wish.community_id)
    base_points = _setting(community, "wish_points", rules.DEFAULT_WISH_POINTS)
    caps = {"daily": (rules.points_counter(claimer_id, utcnow()),
                      _setting(community, "wish_points_daily_cap", rules.DEFAULT_POINTS_DAILY_CAP)),
            "pair": (rules.pair_counter(wish.author_id, claimer_id, utcnow()),
                     _setting(community, "wish_points_pair_monthly_cap", rules.DEFAULT_POINTS_PAIR_MONTHLY_CAP))}

    def build(balance: int, capped: str | None) -> Tx:
        now = utcnow()
        points = 0 if capped else base_points
        changes = [WishModel.confirmed_at.set(now), WishModel.rating.set(rating), WishModel.points_awarded.set(points)]
        if comment:
            changes.append(WishModel.comment.set(comment))
        tx = _step(check_active(Tx(), principal.user_id), wish, "confirm", changes, now=now,
                   by=("author_id", principal.user_id), also=WishModel.claimer_id == claimer_id)
        if base_points > 0:
            note = f"微心愿圆梦：{wish.title}" + (f"（{rules.CAP_NOTES[capped]}）" if capped else "")
            ledger.append(tx, user_id=claimer_id, balance_before=balance, amount=points,
                          source_key=wish_confirm_source(wish.id), kind="wish", source=f"wish:{wish.id}",
                          note=note, community_id=wish.community_id,
                          duplicate_error=rules.invalid_state("confirm", S.CONFIRMED.value))
            if not capped:
                for which, ((key, expires_at), cap) in caps.items():
                    counters.bump(tx, key, cap=cap, expires_at=expires_at, error=_CapReached(which))
        _notify(tx, wish, "wish_confirmed", claimer_id, rating=rating, points=points)
        return tx

    try:
        ledger.run_with_balance(claimer_id, lambda balance: build(balance, None))
        capped = None
    except _CapReached as reached:
        capped = reached.which
        ledger.run_with_balance(claimer_id, lambda balance: build(balance, capped))
    log.info("wish confirmed", extra={"wish_id": wish.id, "points": 0 if capped else base_points, "capped": capped})
    return get(principal, wish_id)


def _cancel_tx(wish: WishModel, author_id: str, now: datetime, also_changes: list = ()) -> Tx:
    same_claimer = (WishModel.claimer_id == wish.claimer_id) if wish.claimer_id else WishModel.claimer_id.does_not_exist()
    tx = _step(Tx(), wish, "cancel", [WishModel.cancelled_at.set(now), *also_changes], now=now,
               by=("author_id", author_id), also=same_claimer)
    _notify(tx, wish, "wish_cancelled", wish.claimer_id)
    return tx


def cancel(principal: Principal, wish_id: str) -> dict:
    wish = _load(principal, wish_id)
    _require_person(wish, "author_id", principal, "cancel")
    check_active(_cancel_tx(wish, principal.user_id, utcnow()), principal.user_id).commit()
    return get(principal, wish_id)


def _erase_contact() -> list:
    return [WishModel.contact_phone.remove(), WishModel.address.remove()]


def release_for_deleted_user(user_id: str) -> None:
    """注销: give back what the user claimed, withdraw what they asked for but nobody fulfilled yet, and erase
    the contact phone and address from every wish they wrote (one write per wish). A wish that changed
    meanwhile is skipped (its condition fails); a repeated DELETE finishes the job."""
    now = utcnow()
    for wish in WishModel.by_claimer.query(user_id, filter_condition=WishModel.status == S.CLAIMED.value):
        try:
            _release_tx(wish, user_id, now).commit()
        except DomainError:
            log.info("claim changed during account deletion", extra={"wish_id": wish.id})
    cancellable = rules.transition("cancel")[0]
    for wish in WishModel.by_author.query(user_id):
        try:
            if S(wish.status) in cancellable:
                _cancel_tx(wish, user_id, now, _erase_contact()).commit()
            elif wish.contact_phone is not None or wish.address is not None:
                conditional_update(WishModel(wish.id), _erase_contact(), condition=WishModel.author_id == user_id,
                                   error=None)
        except DomainError:
            log.info("wish changed during account deletion", extra={"wish_id": wish.id})


# --- grid tasks and the scheduler -------------------------------------------------------------------

def grid_tasks(principal: Principal) -> list[dict]:
    """Wishes that need the caller as grid worker: to review, or unclaimed past due (吹哨), in the
    grids they work now (``principal`` is read per request: a grid taken away drops out at once)."""
    grant = require_role(principal, Role.GRID_WORKER)
    wishes: list[WishModel] = []
    for grid_id in sorted(principal.grid_ids):
        wishes += list(WishModel.by_grid_task.query(rules.grid_task_key(grant.community_id, grid_id),
                                                    scan_index_forward=False, limit=100))
    items = _present_all(wishes, lambda w: True)
    for item in items:
        item["task"] = "review" if item["status"] == S.PENDING_REVIEW.value else "overdue"
    return items


def run_schedule(now: datetime | None = None) -> dict:
    """Escalate unclaimed wishes and expire those past their deadline. Safe to run twice: each step is
    conditioned on the due time it was selected by, and escalation messages have cause-derived keys."""
    now = now or utcnow()
    done = {"escalated": 0, "expired": 0, "skipped": 0}
    for shard in range(rules.DUE_SHARDS):
        for wish in WishModel.by_due.query(f"due#{shard}", WishModel.due_at <= now):
            step = rules.scheduled_step(S(wish.status), wish.deadline, wish.escalated_at is not None, now)
            try:
                if step == "expire":
                    _expire(wish, now)
                elif step == "escalate":
                    _escalate(wish, now)
                else:
                    done["skipped"] += 1
                    continue
                done["escalated" if step == "escalate" else "expired"] += 1
            except DomainError:  # changed since selected (claimed, or another run did it)
                done["skipped"] += 1
    if done["escalated"] or done["expired"]:
        log.info("wish schedule run", extra=done)
    return done


def _expire(wish: WishModel, now: datetime) -> None:
    tx = _step(Tx(), wish, "expire", [WishModel.expired_at.set(now)], now=now, also=WishModel.due_at == wish.due_at,
               error=rules.invalid_state("expire", wish.status))
    _notify(tx, wish, "wish_expired", wish.author_id)
    tx.commit()


def _escalate(wish: WishModel, now: datetime) -> None:
    wish_after = WishModel(wish.id, community_id=wish.community_id, grid_id=wish.grid_id,
                           published_at=wish.published_at, deadline=wish.deadline)
    actions = _schedule_actions(wish_after, S.OPEN, escalated=True) + [
        WishModel.escalated_at.set(now), WishModel.updated_at.set(now)]
    tx = Tx().update(wish, actions, condition=(WishModel.status == S.OPEN.value) & WishModel.escalated_at.does_not_exist()
                     & (WishModel.due_at == wish.due_at), error=rules.invalid_state("escalate", wish.status))
    _notify_grid(tx, wish, "wish_overdue", keyed=True)
    tx.commit()
