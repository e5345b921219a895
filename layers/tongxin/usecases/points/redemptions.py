"""Redemptions (兑换) at the store: redeem and pickup (核销) — none oversold, none paid twice; cancel, expiry and an
account closed give back (``returns.py``).

A redemption is ONE transaction (see docs/points.md): the goods' stock taken (condition: on shelf, enough stock,
price and limit as read), the user's allowance of that goods counted (condition: within the per-user limit), the
points debited with their ledger entry (condition: the balance as read), the redemption and its pickup code's
uniqueness item put, and the request's Idempotency-Key record when it has one. A cancel or an expiry gives all of
it back in one transaction conditioned on the redemption still pending, so it happens once.

Pickup (核销) tells a keeper nothing about codes that are not theirs to verify: another store's code is 404 like an
unknown one, and a keeper's failed verifications are counted (a capped counter per 10-minute window, one
conditional write per failure): past ``VERIFY_FAILURES_MAX`` in a window every attempt is 429 until it ends, so
codes cannot be guessed at the counter.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from ... import metrics
from ...adapters.dynamo import batch, counters
from ...adapters.dynamo.guards import check_grant
from ...adapters.dynamo.models import CounterModel, GoodsModel, PickupCodeModel, RedemptionModel, UserModel
from ...adapters.dynamo.tx import Tx
from ...domain import links, points as rules
from ...domain.access import Principal, require_member, require_role
from ...domain.clock import to_api, utcnow
from ...domain.errors import (DomainError, InvalidState, LimitExceeded, NotFound, OffShelf, OutOfStock,
                              RateLimited, StorageBusy)
from ...domain.ids import new_id
from ...domain.text import DEFAULT_NICKNAME
from .. import ledger, paging
from ..access import current_user
from .store import GOODS_NOT_FOUND, STAFF_ROLES, is_staff, load_goods, load_store

log = logging.getLogger(__name__)

REDEMPTION_NOT_FOUND = NotFound("兑换记录不存在")
CODE_NOT_FOUND = NotFound("取货码不存在，请核对后重新输入")
PENDING = "pending_pickup"
REDEMPTION_PAGE = "pages/points/redemption?id={id}"
CODE_ATTEMPTS = 5
STATE_NAMES = {"picked_up": "已领取", "cancelled": "已取消", "expired": "已过期"}
# A keeper's (or admin's) failed verifications (unknown codes, other stores' codes, codes used up) per window: past
# the cap, every attempt is 429 until the window ends — guessing codes at the counter is not worth trying.
VERIFY_FAILURES_MAX = 20
VERIFY_WINDOW = timedelta(minutes=10)


class _CodeTaken(DomainError):
    """The pickup code drawn is held by another redemption of the community (internal: another is drawn)."""


def present(redemption: RedemptionModel, *, show_code: bool = True) -> dict:
    """``show_code``: the pickup code is the owner's to show; the counter's staff type it in, they do not read it.
    The staff's views (``show_code=False``) carry the redeemer as copied at redemption time (nickname and real
    name, as staff views of members show them: the admin's member list does); the owner's carry none."""
    redeemer = None if show_code else {
        "id": redemption.user_id, "nickname": redemption.redeemer_nickname or DEFAULT_NICKNAME,
        "real_name": redemption.redeemer_real_name}
    return {
        "id": redemption.id,
        "goods": {"id": redemption.goods_id, "name": redemption.goods_name},
        "store_id": redemption.store_id,
        "quantity": int(redemption.quantity),
        "points": int(redemption.points),
        "pickup_code": redemption.pickup_code if show_code else None,
        "status": redemption.status,
        "expires_at": to_api(redemption.expires_at),
        "created_at": to_api(redemption.created_at),
        "picked_up_at": to_api(redemption.picked_up_at),
        "cancelled_at": to_api(redemption.cancelled_at),
        "expired_at": to_api(redemption.expired_at),
        "redeemer": redeemer,
    }


def not_pending(redemption: RedemptionModel) -> InvalidState:
    return InvalidState(f"兑换{STATE_NAMES.get(redemption.status, '状态已变化')}，不能再操作",
                        details={"status": redemption.status})


def refused_by_state(current: RedemptionModel | None) -> DomainError:
    return not_pending(current) if current is not None else REDEMPTION_NOT_FOUND


def _goods_refusal(quantity: int):
    def classify(current: GoodsModel | None) -> DomainError:
        if current is None:
            return GOODS_NOT_FOUND
        if not current.on_shelf:
            return OffShelf()
        if int(current.stock) < quantity:
            return OutOfStock(details={"stock": int(current.stock)})
        return InvalidState("商品的积分或限兑数量刚刚调整，请刷新后重试")
    return classify


# --- redeem ------------------------------------------------------------------------------------------------

def redeem(principal: Principal, goods_id: str, quantity: int) -> dict:
    community_id = require_member(principal)
    me = current_user(principal)
    goods = load_goods(principal, goods_id)
    # Refusals the item as read already settles cost no write; the transaction's conditions decide the rest.
    if not goods.on_shelf:
        raise OffShelf()
    if int(goods.stock) < quantity:
        raise OutOfStock(details={"stock": int(goods.stock)})
    limit = int(goods.per_user_limit) if goods.per_user_limit is not None else None
    if limit is not None and quantity > limit:
        raise LimitExceeded(f"每人限兑 {limit} 件", details={"limit": limit})
    price = int(goods.price_points)
    total = price * quantity
    now = utcnow()
    expires_at = now + rules.REDEMPTION_TTL
    redemption_id = new_id("rd")
    allowance_full = LimitExceeded(f"每人限兑 {limit} 件（含待领取和已领取）", details={"limit": limit})
    same_terms = (GoodsModel.price_points == price) & (
        GoodsModel.per_user_limit == limit if limit is not None else GoodsModel.per_user_limit.does_not_exist())
    goods_condition = (GoodsModel.on_shelf == True) & (GoodsModel.stock >= quantity) & same_terms  # noqa: E712

    for _ in range(CODE_ATTEMPTS):
        code = rules.new_pickup_code()
        redemption = RedemptionModel(
            redemption_id, community_id=community_id, store_id=goods.store_id, goods_id=goods.id,
            goods_name=goods.name, user_id=me.id, redeemer_nickname=me.nickname or DEFAULT_NICKNAME,
            redeemer_real_name=me.real_name, quantity=quantity, price_points=price, points=total,
            pickup_code=code, status=PENDING, store_status=f"{goods.store_id}#{PENDING}", expires_at=expires_at,
            reminded=False, due_shard=rules.due_shard(redemption_id),
            due_at=rules.redemption_due(expires_at, reminded=False), created_at=now)
        answer = present(redemption)

        def build(account: ledger.Account, redemption=redemption, code=code) -> Tx:
            tx = Tx()
            tx.update(GoodsModel(goods.id), [GoodsModel.stock.add(-quantity)], condition=goods_condition,
                      error=_goods_refusal(quantity))
            # Every redemption is counted on the allowance (with or without a limit), so a limit set later counts
            # what is already held, and a refund always has a count to give back to.
            if limit is not None:
                counters.add_capped(tx, rules.allowance_counter(goods.id, me.id), quantity, cap=limit,
                                    expires_at=None, error=allowance_full)
            else:
                tx.update(CounterModel(rules.allowance_counter(goods.id, me.id)), [CounterModel.n.add(quantity)])
            ledger.append(tx, account=account, amount=-total, source_key=f"redeem#{redemption_id}", kind="redeem",
                          source=f"redemption:{redemption_id}", note=f"兑换：{goods.name} × {quantity}",
                          community_id=community_id, earns=False,
                          stats={"rd:created": 1, f"goods:{goods.id}": quantity},
                          duplicate_error=InvalidState("这次兑换已记账"),
                          user_condition=(UserModel.status == "active") & (UserModel.community_id == community_id))
            tx.put(redemption, condition=RedemptionModel.id.does_not_exist(), error=InvalidState("兑换已记录"))
            tx.put(PickupCodeModel(rules.pickup_key(community_id, code), redemption_id=redemption_id,
                                   store_id=goods.store_id, created_at=now),
                   condition=PickupCodeModel.key.does_not_exist(), error=_CodeTaken())
            return tx

        try:
            ledger.run_with_balance(me.id, build, answer, first=ledger.account_of(me))
        except _CodeTaken:  # one in a billion per draw at a community's scale; draw again
            continue
        metrics.count("redemption_created")
        log.info("redeemed", extra={"redemption_id": redemption_id, "goods_id": goods.id, "quantity": quantity,
                                    "points": total})
        return answer
    raise StorageBusy()


# --- reading -----------------------------------------------------------------------------------------------

def _load(redemption_id: str) -> RedemptionModel:
    try:
        return RedemptionModel.get(redemption_id, consistent_read=True)
    except RedemptionModel.DoesNotExist:
        raise REDEMPTION_NOT_FOUND from None


def load_visible(principal: Principal, redemption_id: str) -> tuple[RedemptionModel, bool]:
    """The redemption and whether the caller owns it; the store's staff see it too, nobody else (404)."""
    community_id = require_member(principal)
    redemption = _load(redemption_id)
    if redemption.community_id != community_id:
        raise REDEMPTION_NOT_FOUND
    if redemption.user_id == principal.user_id:
        return redemption, True
    if is_staff(principal, redemption.store_id):
        return redemption, False
    raise REDEMPTION_NOT_FOUND


def get(principal: Principal, redemption_id: str) -> dict:
    redemption, mine = load_visible(principal, redemption_id)
    return present(redemption, show_code=mine)


def list_mine(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    require_member(principal)
    return paging.page(lambda **kw: RedemptionModel.by_user.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present(r) for r in items], scope=f"redemptions:{principal.user_id}",
                       model=RedemptionModel)


def store_queue(principal: Principal, store_id: str, status: str, *, limit: int, cursor: str | None) -> dict:
    """The counter's queue: the store's redemptions in one status, newest first (one Query)."""
    load_store(principal, store_id)
    require_role(principal, *STAFF_ROLES, store_id=store_id)
    key = f"{store_id}#{status}"
    return paging.page(lambda **kw: RedemptionModel.by_store_status.query(key, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present(r, show_code=False) for r in items],
                       scope=f"queue:{key}", model=RedemptionModel)


def pickup_qrcode(principal: Principal, redemption_id: str, fmt: str, *, link_base: str):
    """The owner's pickup code to show at the counter: ``format=json`` → the answer dict (the code, and the link a
    QR of it carries); else ``(bytes, content_type)`` of a QR image of the link ``<link_base>/p/<code>``
    (普通链接二维码: the keeper's WeChat scanner opens the mini-program's pickup page)."""
    redemption, mine = load_visible(principal, redemption_id)
    if not mine:
        raise REDEMPTION_NOT_FOUND
    url = links.url(link_base, "pickup", redemption.pickup_code)
    if fmt == "json":
        expires_at = to_api(redemption.expires_at)
        return {"code": redemption.pickup_code, "url": url, "valid_until": expires_at,
                "pickup_code": redemption.pickup_code, "status": redemption.status, "expires_at": expires_at}
    from ...adapters import qr
    return qr.render(url, fmt)


# --- pickup --------------------------------------------------------------------------------------------------

def _too_many(window_ends: datetime, now: datetime) -> RateLimited:
    wait = max(1, math.ceil((window_ends - now).total_seconds()))
    return RateLimited(f"取货码核对失败次数过多，请 {math.ceil(wait / 60)} 分钟后再试",
                       details={"limit": VERIFY_FAILURES_MAX, "retry_after": wait})


def verify(principal: Principal, code_text: str, *, link_base: str) -> dict:
    """核销: the store's keeper (or an admin) types or scans the code the resident shows: the bare code, or the link
    its QR carries (``<link_base>/p/<code>``; a link of another base or letter is a code that is not found).

    A code the caller may not verify (another store's) is 404 like an unknown one: the answer never tells a keeper
    that a code exists elsewhere. Every refusal of a code counts one failure for the caller (one conditional write,
    capped); a caller at the cap is refused (429) before the code is looked at, until the window ends."""
    community_id = require_member(principal)
    require_role(principal, *STAFF_ROLES)  # who keeps no store is refused before any code is looked at
    now = utcnow()
    failures_key, window_ends = counters.window(f"verify-fail#{principal.user_id}", now, VERIFY_WINDOW)
    code = rules.normalise_pickup_code(links.code_in(link_base, "pickup", code_text) or "")
    well_formed = len(code) == rules.PICKUP_CODE_LENGTH and all(c in rules.PICKUP_ALPHABET for c in code)
    # The caller's failures and the code, in one read (a malformed code names no item: the failures alone).
    wanted = [(CounterModel, failures_key)]
    if well_formed:
        wanted.append((PickupCodeModel, rules.pickup_key(community_id, code)))
    failures, *found = batch.get_many(*wanted)
    if counters.current(failures, now) >= VERIFY_FAILURES_MAX:
        raise _too_many(window_ends, now)

    def refuse(error: DomainError) -> DomainError:
        """Count the failure (condition: below the cap; a caller who reached it meanwhile gets 429), then the
        refusal itself."""
        tx = counters.bump(Tx(), failures_key, cap=VERIFY_FAILURES_MAX, expires_at=window_ends,
                           error=_too_many(window_ends, now))
        tx.commit()
        return error

    taken = found[0] if found else None
    if taken is None or not is_staff(principal, taken.store_id):
        raise refuse(CODE_NOT_FOUND)
    grant = require_role(principal, *STAFF_ROLES, store_id=taken.store_id)
    redemption = _load(taken.redemption_id)
    if redemption.status != PENDING:
        raise refuse(not_pending(redemption))
    if redemption.expires_at <= now:
        raise refuse(InvalidState("兑换已过期，积分将自动退回", details={"status": "expired"}))
    after = redemption.changed(status="picked_up", store_status=f"{redemption.store_id}#picked_up",
                               picked_up_at=now, picked_up_by=principal.user_id, updated_at=now)
    answer = present(after, show_code=False)
    tx = check_grant(Tx(), grant)
    tx.update(RedemptionModel(redemption.id),
              [RedemptionModel.status.set("picked_up"), RedemptionModel.store_status.set(after.store_status),
               RedemptionModel.picked_up_at.set(now), RedemptionModel.picked_up_by.set(principal.user_id),
               RedemptionModel.updated_at.set(now), RedemptionModel.due_shard.remove(), RedemptionModel.due_at.remove()],
              condition=(RedemptionModel.status == PENDING) & (RedemptionModel.expires_at > now),
              error=refused_by_state)
    for key in ledger.points_stats_keys(redemption.community_id, now):
        counters.add(tx, key, {"rd:picked_up": 1})
    tx.commit(answer)
    metrics.count("redemption_picked_up")
    log.info("picked up", extra={"redemption_id": redemption.id, "store_id": redemption.store_id})
    return answer
