"""The store (积分超市): stores and their goods, the shelf residents see and the stock keepers keep.

Stock only moves by atomic adds: a redemption takes (conditioned on enough stock), a cancel or expiry gives back,
a keeper restocks (``stock = stock + n``; a negative n, goods damaged or lost, conditioned on the stock covering
it). Nothing ever writes a stock figure read earlier, so no change can undo a redemption committed meanwhile.
"""
from __future__ import annotations

import logging

from ...adapters.dynamo import batch
from ...adapters.dynamo.guards import check_grant
from ...adapters.dynamo.models import GoodsModel, StoreModel, UnitAgreementModel, UnitModel
from ...adapters.dynamo.tx import Tx
from ...domain.access import Principal, Role, require_member, require_role
from ...domain.clock import to_api, utcnow
from ...domain.errors import DomainError, Forbidden, NotFound, OutOfStock
from ...domain.ids import new_id
from ...wiring import Container
from .. import paging, units
from ..access import current_user
from ..content import Scene, check as content_check

log = logging.getLogger(__name__)

STORE_NOT_FOUND = NotFound("积分超市不存在")
GOODS_NOT_FOUND = NotFound("商品不存在")
STAFF_ROLES = (Role.ADMIN, Role.STORE_KEEPER)
# What a store keeper may change (the shelf, the stock, the sponsor: 共建单位 goods); the rest is the admins'.
KEEPER_FIELDS = frozenset({"on_shelf", "restock", "sponsor_unit_id"})


def present_store(store: StoreModel) -> dict:
    return {"id": store.id, "name": store.name, "address": store.address}


def present_goods(goods: GoodsModel) -> dict:
    return {"id": goods.id, "store_id": goods.store_id, "name": goods.name, "description": goods.description,
            "price_points": int(goods.price_points), "stock": int(goods.stock),
            "per_user_limit": int(goods.per_user_limit) if goods.per_user_limit is not None else None,
            "on_shelf": bool(goods.on_shelf),
            "sponsor": {"id": goods.sponsor_unit_id, "name": goods.sponsor_name} if goods.sponsor_unit_id else None,
            "created_at": to_api(goods.created_at)}


def load_store(principal: Principal, store_id: str) -> StoreModel:
    community_id = require_member(principal)
    try:
        return StoreModel.get(community_id, store_id, consistent_read=True)
    except StoreModel.DoesNotExist:
        raise STORE_NOT_FOUND from None


def load_goods(principal: Principal, goods_id: str) -> GoodsModel:
    community_id = require_member(principal)
    try:
        goods = GoodsModel.get(goods_id, consistent_read=True)
    except GoodsModel.DoesNotExist:
        raise GOODS_NOT_FOUND from None
    if goods.community_id != community_id:
        raise GOODS_NOT_FOUND
    return goods


def is_staff(principal: Principal, store_id: str) -> bool:
    try:
        require_role(principal, *STAFF_ROLES, store_id=store_id)
        return True
    except Forbidden:
        return False


def list_stores(principal: Principal) -> dict:
    community_id = require_member(principal)
    # A community has a handful of stores: one Query, no paging needed (bounded by the admins who create them).
    return {"items": [present_store(s) for s in StoreModel.query(community_id, limit=100, page_size=100)]}


def create_store(principal: Principal, name: str, address: str | None) -> dict:
    grant = require_role(principal, Role.ADMIN)
    store = StoreModel(grant.community_id, new_id("store"), name=name, address=address, created_at=utcnow())
    answer = present_store(store)
    check_grant(Tx(), grant).put(store, condition=StoreModel.id.does_not_exist()).commit(answer)
    return answer


def list_goods(principal: Principal, store_id: str, *, limit: int, cursor: str | None) -> dict:
    """Residents see what is on the shelf; the store's keepers and the admins see everything."""
    load_store(principal, store_id)
    staff = is_staff(principal, store_id)
    condition = None if staff else GoodsModel.on_shelf == True  # noqa: E712 (a PynamoDB condition)
    return paging.page(lambda **kw: GoodsModel.by_store.query(store_id, filter_condition=condition, **kw),
                       limit, cursor, lambda items: [present_goods(g) for g in items],
                       scope=f"goods:{store_id}:{int(staff)}", model=GoodsModel)


def _with_sponsor(first: tuple, community_id: str, sponsor_id: str | None, missing: DomainError, now):
    """``first`` (the store, or the goods) read together with the sponsor's unit and its agreement with the
    community (one BatchGetItem), and a function answering the sponsor as the goods will carry it (404 unless the
    agreement is in force; called after the role is checked)."""
    if not sponsor_id:
        return None, lambda: None
    item, unit, agreement = batch.get_many(first, (UnitModel, sponsor_id),
                                           (UnitAgreementModel, sponsor_id, community_id))
    if item is None:
        raise missing
    return item, lambda: units.sponsor_of(unit, agreement, now)


def create_goods(container: Container, principal: Principal, store_id: str, fields: dict) -> dict:
    """An admin puts goods in a store; a sponsor (``sponsor_unit_id``, 共建单位) must exist and have an agreement in
    force with the community: read with the store, and conditions of the same transaction."""
    now, sponsor_id = utcnow(), fields.pop("sponsor_unit_id", None)
    community_id = require_member(principal)
    store, sponsor = _with_sponsor((StoreModel, community_id, store_id), community_id, sponsor_id, STORE_NOT_FOUND,
                                   now)
    store = store or load_store(principal, store_id)
    grant = require_role(principal, Role.ADMIN)
    sponsor = sponsor()
    content_check(container, current_user(principal), fields.get("name"), fields.get("description"),
                  scene=Scene.FORUM, what="goods")
    goods = GoodsModel(new_id("goods"), store_id=store.id, community_id=store.community_id, created_at=now,
                       sponsor_unit_id=sponsor["id"] if sponsor else None,
                       sponsor_name=sponsor["name"] if sponsor else None, **fields)
    answer = present_goods(goods)
    tx = check_grant(Tx(), grant)
    if sponsor:
        units.sponsor_checks(tx, sponsor["id"], community_id, now)
    tx.put(goods, condition=GoodsModel.id.does_not_exist()).commit(answer)
    log.info("goods created", extra={"goods_id": goods.id, "store_id": store.id})
    return answer


def update_goods(container: Container, principal: Principal, goods_id: str, changes: dict) -> dict:
    """Admins change anything; the store's keepers only the shelf and the stock (by ``restock``). A new name or
    description passes WeChat's content check. A new sponsor (``sponsor_unit_id``) must exist and have an agreement
    in force with the community (read with the goods; conditions of the same transaction); null removes it."""
    now = utcnow()
    community_id = require_member(principal)
    sponsoring = "sponsor_unit_id" in changes
    sponsor_id = changes.pop("sponsor_unit_id", None)
    goods, sponsor = _with_sponsor((GoodsModel, goods_id), community_id, sponsor_id, GOODS_NOT_FOUND, now)
    if goods is not None and goods.community_id != community_id:
        raise GOODS_NOT_FOUND
    goods = goods or load_goods(principal, goods_id)
    if set(changes) | ({"sponsor_unit_id"} if sponsoring else set()) <= KEEPER_FIELDS:
        grant = require_role(principal, *STAFF_ROLES, store_id=goods.store_id)
    else:
        grant = require_role(principal, Role.ADMIN)
    sponsor = sponsor()
    content_check(container, current_user(principal), changes.get("name"), changes.get("description"),
                  scene=Scene.FORUM, what="goods")
    restock = changes.pop("restock", None)
    actions = [getattr(GoodsModel, name).set(value) if value is not None else getattr(GoodsModel, name).remove()
               for name, value in changes.items()]
    actions.append(GoodsModel.updated_at.set(now))
    if sponsoring:  # the unit's name stored with the goods: the shelf shows it without reading the unit
        changes.update(sponsor_unit_id=sponsor["id"] if sponsor else None,
                       sponsor_name=sponsor["name"] if sponsor else None)
        actions += [GoodsModel.sponsor_unit_id.set(sponsor["id"]), GoodsModel.sponsor_name.set(sponsor["name"])] \
            if sponsor else [GoodsModel.sponsor_unit_id.remove(), GoodsModel.sponsor_name.remove()]
    condition = GoodsModel.id.exists()
    if restock:
        actions.append(GoodsModel.stock.add(restock))
        if restock < 0:
            condition &= GoodsModel.stock >= -restock

    def refused(current: GoodsModel | None) -> DomainError:
        if current is None:
            return GOODS_NOT_FOUND
        return OutOfStock(f"库存只有 {int(current.stock)} 件，不能减少 {-restock} 件",
                          details={"stock": int(current.stock)})

    # The answer shows the stock as this change leaves it relative to the read: concurrent redemptions may move
    # it further, which the next read shows.
    after = goods.changed(**changes, updated_at=now, stock=int(goods.stock) + (restock or 0))
    answer = present_goods(after)
    tx = check_grant(Tx(), grant)
    if sponsor:
        units.sponsor_checks(tx, sponsor["id"], community_id, now)
    tx.update(GoodsModel(goods.id), actions, condition=condition, error=refused).commit(answer)
    log.info("goods changed", extra={"goods_id": goods.id, "fields": sorted(changes), "restock": restock})
    return answer
