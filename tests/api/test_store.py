"""积分超市 (issue 10): stores and goods, redemption in one transaction, its refusals (after which nothing moved),
Idempotency-Key, my redemptions, cancel, pickup (核销) at the counter, the pickup QR, expiry by the scheduler,
注销 and the admin statistics — over HTTP against moto, as docs/points.md says. Points come from awards
(``POST /v1/points/awards``, the one earning path an admin controls); time moves with ``travel``.
"""
from __future__ import annotations

import re
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

import pytest

from tests.support import Community, Member, make_community
from tongxin.adapters.dynamo.models import CounterModel, LedgerEntryModel, OutboxModel
from tongxin.domain.clock import travel, utcnow

PICKUP_CODE = re.compile(r"^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{6}$")
PNG = b"\x89PNG\r\n\x1a\n"
MIN = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
STORE_KEYS = {"id", "name", "address"}
GOODS_KEYS = {"id", "store_id", "name", "description", "price_points", "stock", "per_user_limit", "on_shelf",
              "sponsor", "created_at"}  # sponsor: the 共建单位 sponsoring it, or null (tests/api/test_units_store.py)
REDEMPTION_KEYS = {"id", "goods", "store_id", "quantity", "points", "pickup_code", "status", "expires_at",
                   "created_at", "picked_up_at", "cancelled_at", "expired_at", "redeemer"}
ENTRY_KEYS = {"id", "kind", "amount", "balance_after", "source", "note", "created_at"}
AWARD_CHUNK = 50  # the default cap of one charity award


# --- helpers ---------------------------------------------------------------------------------------------------

def assert_refused(resp, status: int, code: str, field: str | None = None) -> None:
    assert (resp.status, resp.error_code) == (status, code), resp.body
    if field is not None:
        assert resp.json["error"]["details"].get("field") == field, resp.body


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Every ``utcnow()`` of the process answers ``moment`` (then the time running on from it)."""
    with travel(moment - utcnow()):
        yield


def open_store(admin: Member, **overrides) -> dict:
    body = {"name": "幸福积分超市", "address": "幸福小区3栋底商"}
    body.update(overrides)
    resp = admin.post("/v1/stores", body)
    assert resp.status == 201, resp.body
    return resp.json


def add_goods(admin: Member, store: dict, **overrides) -> dict:
    body = {"name": "洗衣液", "description": "2kg 装", "price_points": 10, "stock": 5}
    body.update(overrides)
    resp = admin.post(f"/v1/stores/{store['id']}/goods", body)
    assert resp.status == 201, resp.body
    return resp.json


def grant(community: Community, member: Member, points: int) -> None:
    """Points through awards by the community's admin (default caps: 50 a charity award, 500 an awarder a day)."""
    while points > 0:
        chunk = min(points, AWARD_CHUNK)
        resp = community.admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity",
                                                          "points": chunk, "reason": "楼道义务清扫"})
        assert resp.status == 201, resp.body
        points -= chunk


def goods_list(member: Member, store: dict, limit: int | None = None) -> list[dict]:
    items, cursor = [], None
    while True:
        query = "&".join(f"{k}={v}" for k, v in (("limit", limit), ("cursor", cursor)) if v)
        resp = member.get(f"/v1/stores/{store['id']}/goods" + (f"?{query}" if query else ""))
        assert resp.status == 200, resp.body
        assert limit is None or len(resp.json["items"]) <= limit, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return items


def goods_now(admin: Member, goods: dict) -> dict:
    [found] = [g for g in goods_list(admin, {"id": goods["store_id"]}) if g["id"] == goods["id"]]
    return found


def stock_of(admin: Member, goods: dict) -> int:
    return goods_now(admin, goods)["stock"]


def passbook(member: Member) -> dict:
    resp = member.get("/v1/me/points?limit=100")
    assert resp.status == 200, resp.body
    return resp.json


def balance(member: Member) -> int:
    return passbook(member)["balance"]


def redeem(member: Member, goods: dict, quantity: int | None = 1, **kw):
    body = {"goods_id": goods["id"]}
    if quantity is not None:
        body["quantity"] = quantity
    return member.post("/v1/redemptions", body, **kw)


def redeemed(member: Member, goods: dict, quantity: int = 1) -> dict:
    resp = redeem(member, goods, quantity)
    assert resp.status == 201, resp.body
    return resp.json


def mine(member: Member, limit: int | None = None) -> list[dict]:
    items, cursor = [], None
    while True:
        query = "&".join(f"{k}={v}" for k, v in (("limit", limit), ("cursor", cursor)) if v)
        resp = member.get("/v1/redemptions/mine" + (f"?{query}" if query else ""))
        assert resp.status == 200, resp.body
        assert limit is None or len(resp.json["items"]) <= limit, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return items


def view(member: Member, redemption: dict) -> dict:
    resp = member.get(f"/v1/redemptions/{redemption['id']}")
    assert resp.status == 200, resp.body
    return resp.json


def verify(member: Member, redemption: dict):
    return member.post("/v1/redemptions/verify", {"pickup_code": redemption["pickup_code"]})


def cancel(member: Member, redemption: dict):
    return member.post(f"/v1/redemptions/{redemption['id']}/cancel")


def queue(member: Member, store: dict, status: str) -> list[dict]:
    items, cursor = [], None
    while True:
        resp = member.get(f"/v1/stores/{store['id']}/redemptions?status={status}"
                          + (f"&cursor={cursor}" if cursor else ""))
        assert resp.status == 200, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return items


def state(member: Member, admin: Member, goods: dict) -> dict:
    """What a refusal must leave as it was: the balance, the passbook, the stock, my redemptions."""
    book = passbook(member)
    return {"balance": book["balance"], "earned_total": book["earned_total"],
            "entries": [(e["id"], e["amount"]) for e in book["items"]], "stock": stock_of(admin, goods),
            "mine": [(r["id"], r["status"]) for r in mine(member)]}


def entries(member: Member, kind: str) -> list[dict]:
    return [e for e in passbook(member)["items"] if e["kind"] == kind]


def messages(user_id: str, kind: str) -> list[OutboxModel]:
    # Test-only look at the outbox table (what the push sender would deliver); fan-out items are no messages.
    return [m for m in OutboxModel.scan(OutboxModel.recipient_id == user_id)
            if m.kind == kind and m.status not in ("fanout", "expanded")]


def run_scheduler(moment: datetime) -> None:
    """The scheduler's redemption step (``schedule.run`` calls it; running every area's steps days ahead would
    also close every event the session's other tests made, for nothing but time)."""
    from tongxin.usecases import points
    with at(moment):
        points.run_schedule(moment)


def when(redemption: dict, field: str = "expires_at") -> datetime:
    return datetime.fromisoformat(redemption[field])


@dataclass
class Shop:
    community: Community
    store: dict
    keeper: Member

    @property
    def admin(self) -> Member:
        return self.community.admin

    def goods(self, **overrides) -> dict:
        return add_goods(self.admin, self.store, **overrides)

    def resident(self, points: int = 0, grid: int = 0) -> Member:
        member = self.community.resident(grid)
        if points:
            grant(self.community, member, points)
        return member

    def another_store(self) -> tuple[dict, Member]:
        store = open_store(self.admin, name="第二积分超市")
        return store, keeper_of(self.community, store)

    def stock(self, goods: dict) -> int:
        return stock_of(self.admin, goods)


def keeper_of(community: Community, store: dict) -> Member:
    return community.with_roles(community.resident(0), ["store_keeper"], store_ids=[store["id"]])


@pytest.fixture
def shop(community) -> Shop:
    store = open_store(community.admin)
    return Shop(community, store, keeper_of(community, store))


# --- stores and goods ---------------------------------------------------------------------------------------------

def test_admin_opens_a_store_and_adds_goods_with_their_shapes(community):
    admin = community.admin
    store = open_store(admin, name="幸福积分超市", address="幸福小区3栋底商")
    assert set(store) == STORE_KEYS and store["id"]
    assert (store["name"], store["address"]) == ("幸福积分超市", "幸福小区3栋底商")
    bare = open_store(admin, name="流动超市", address=None)
    assert bare["address"] is None

    goods = add_goods(admin, store, name="洗衣液", description="2kg 装", price_points=30, stock=5, per_user_limit=2,
                      on_shelf=True)
    assert set(goods) == GOODS_KEYS, goods
    assert {k: goods[k] for k in GOODS_KEYS - {"id", "created_at"}} == {
        "store_id": store["id"], "name": "洗衣液", "description": "2kg 装", "price_points": 30, "stock": 5,
        "per_user_limit": 2, "on_shelf": True, "sponsor": None}
    assert abs(datetime.fromisoformat(goods["created_at"]) - utcnow()) < 10 * SECOND
    assert goods["created_at"].endswith("+08:00")
    # Defaults: on shelf, no per-user limit, no description.
    made = admin.post(f"/v1/stores/{store['id']}/goods", {"name": "挂面", "price_points": 5, "stock": 0})
    assert made.status == 201, made.body
    plain = made.json
    assert plain == {**plain, "on_shelf": True, "per_user_limit": None, "stock": 0}
    assert plain["description"] in (None, "")  # the contract names no default for an absent description
    assert {g["id"] for g in goods_list(admin, store)} == {goods["id"], plain["id"]}

    resident = community.resident()
    listed = resident.get("/v1/stores")
    assert listed.status == 200, listed.body
    assert sorted(listed.json["items"], key=lambda s: s["name"]) == sorted([store, bare], key=lambda s: s["name"])


def test_residents_list_the_stores_of_their_community_only(api):
    here, there = make_community(api), make_community(api)
    mine_ = open_store(here.admin, name="本社区超市")
    theirs = open_store(there.admin, name="别的社区超市")
    theirs_goods = add_goods(there.admin, theirs)
    resident = here.resident()
    assert [s["id"] for s in resident.get("/v1/stores").json["items"]] == [mine_["id"]]
    assert [s["id"] for s in here.admin.get("/v1/stores").json["items"]] == [mine_["id"]]
    # Another community's store is not found, to read or to stock.
    assert_refused(resident.get(f"/v1/stores/{theirs['id']}/goods"), 404, "NOT_FOUND")
    assert_refused(here.admin.get(f"/v1/stores/{theirs['id']}/goods"), 404, "NOT_FOUND")
    assert_refused(here.admin.post(f"/v1/stores/{theirs['id']}/goods",
                                   {"name": "洗衣液", "price_points": 10, "stock": 5}), 404, "NOT_FOUND")
    assert_refused(here.admin.patch(f"/v1/goods/{theirs_goods['id']}", {"price_points": 1}), 404, "NOT_FOUND")
    assert stock_of(there.admin, theirs_goods) == 5 and goods_now(there.admin, theirs_goods)["price_points"] == 10
    assert_refused(here.admin.post("/v1/stores/s_nosuchstore/goods",
                                   {"name": "洗衣液", "price_points": 10, "stock": 5}), 404, "NOT_FOUND")
    # A member of no community has no stores (the platform's answer to a user in none).
    assert_refused(api.login().get("/v1/stores"), 409, "NOT_IN_COMMUNITY")


def test_residents_see_goods_on_shelf_while_the_keeper_and_admins_see_all(shop):
    on = [shop.goods(name=f"上架{i}") for i in range(3)]
    off = shop.goods(name="下架", on_shelf=False)
    everything = {g["id"] for g in on} | {off["id"]}
    resident = shop.resident()
    assert {g["id"] for g in goods_list(resident, shop.store)} == {g["id"] for g in on}
    assert {g["id"] for g in goods_list(resident, shop.store, limit=2)} == {g["id"] for g in on}  # paged too
    assert {g["id"] for g in goods_list(shop.keeper, shop.store)} == everything
    assert {g["id"] for g in goods_list(shop.admin, shop.store, limit=1)} == everything
    shown = {g["id"]: g for g in goods_list(shop.keeper, shop.store)}
    assert shown[off["id"]]["on_shelf"] is False and set(shown[off["id"]]) == GOODS_KEYS
    # A keeper of another store is a resident here.
    _, other_keeper = shop.another_store()
    assert {g["id"] for g in goods_list(other_keeper, shop.store)} == {g["id"] for g in on}


def test_only_admins_open_stores_and_add_goods(shop):
    body = {"name": "洗衣液", "price_points": 10, "stock": 5}
    resident = shop.resident()
    for member in (resident, shop.keeper, shop.community.grid_worker(0)):
        assert_refused(member.post(f"/v1/stores/{shop.store['id']}/goods", body), 403, "FORBIDDEN")
        assert_refused(member.post("/v1/stores", {"name": "私开超市"}), 403, "FORBIDDEN")
    assert goods_list(shop.admin, shop.store) == []
    assert [s["id"] for s in resident.get("/v1/stores").json["items"]] == [shop.store["id"]]


def test_admin_changes_name_description_price_limit_and_shelf(shop):
    goods = shop.goods(per_user_limit=2)
    resp = shop.admin.patch(f"/v1/goods/{goods['id']}", {"name": "大瓶洗衣液", "description": "3kg 装",
                                                          "price_points": 25, "per_user_limit": 5,
                                                          "on_shelf": False})
    assert resp.status == 200, resp.body
    assert set(resp.json) == GOODS_KEYS
    assert resp.json == {**goods, "name": "大瓶洗衣液", "description": "3kg 装", "price_points": 25,
                         "per_user_limit": 5, "on_shelf": False}
    assert goods_now(shop.admin, goods) == resp.json
    again = shop.admin.patch(f"/v1/goods/{goods['id']}", {"per_user_limit": None, "on_shelf": True})
    assert again.status == 200, again.body
    assert (again.json["per_user_limit"], again.json["on_shelf"], again.json["price_points"]) == (None, True, 25)
    assert_refused(shop.admin.patch("/v1/goods/gd_nosuchgoods", {"price_points": 3}), 404, "NOT_FOUND")


def test_keeper_restocks_and_shelves_but_may_not_reprice(shop):
    goods = shop.goods(stock=5, price_points=10)
    restocked = shop.keeper.patch(f"/v1/goods/{goods['id']}", {"restock": 3})
    assert restocked.status == 200, restocked.body
    assert restocked.json["stock"] == 8 and set(restocked.json) == GOODS_KEYS
    off = shop.keeper.patch(f"/v1/goods/{goods['id']}", {"on_shelf": False})
    assert off.status == 200 and off.json["on_shelf"] is False, off.body
    both = shop.keeper.patch(f"/v1/goods/{goods['id']}", {"on_shelf": True, "restock": 2})
    assert both.status == 200 and (both.json["on_shelf"], both.json["stock"]) == (True, 10), both.body
    for body in ({"price_points": 1}, {"name": "改名"}, {"description": "改"}, {"per_user_limit": 9},
                 {"restock": 1, "price_points": 1}):
        assert_refused(shop.keeper.patch(f"/v1/goods/{goods['id']}", body), 403, "FORBIDDEN")
    _, other_keeper = shop.another_store()
    resident = shop.resident()
    for outsider in (other_keeper, resident):
        for body in ({"restock": 1}, {"on_shelf": False}):
            assert_refused(outsider.patch(f"/v1/goods/{goods['id']}", body), 403, "FORBIDDEN")
    assert goods_now(shop.admin, goods) == {**goods, "stock": 10, "on_shelf": True}


def test_restock_adds_to_the_stock_and_a_negative_one_never_goes_below_zero(shop):
    goods = shop.goods(stock=5, price_points=10)
    resident = shop.resident(points=20)
    redeemed(resident, goods, 2)  # committed before the restock: an add keeps it (5 - 2 + 3)
    assert shop.keeper.patch(f"/v1/goods/{goods['id']}", {"restock": 3}).json["stock"] == 6
    assert_refused(shop.keeper.patch(f"/v1/goods/{goods['id']}", {"restock": -7}), 409, "OUT_OF_STOCK")
    assert shop.stock(goods) == 6
    lost = shop.admin.patch(f"/v1/goods/{goods['id']}", {"restock": -6})
    assert lost.status == 200 and lost.json["stock"] == 0, lost.body
    assert_refused(shop.admin.patch(f"/v1/goods/{goods['id']}", {"restock": -1}), 409, "OUT_OF_STOCK")
    assert shop.stock(goods) == 0


def test_goods_and_store_validation(shop):
    admin, store = shop.admin, shop.store
    goods = shop.goods()
    base = {"name": "洗衣液", "price_points": 10, "stock": 5}
    cases = [({**base, "name": ""}, "name"), ({**base, "name": "洗" * 41}, "name"),
             ({k: v for k, v in base.items() if k != "name"}, "name"),
             ({**base, "description": "长" * 501}, "description"),
             ({**base, "price_points": 0}, "price_points"), ({**base, "price_points": 100001}, "price_points"),
             ({k: v for k, v in base.items() if k != "price_points"}, "price_points"),
             ({**base, "stock": -1}, "stock"), ({**base, "stock": 100001}, "stock"),
             ({**base, "per_user_limit": 0}, "per_user_limit"), ({**base, "per_user_limit": 101}, "per_user_limit")]
    for body, field in cases:
        assert_refused(admin.post(f"/v1/stores/{store['id']}/goods", body), 400, "VALIDATION_FAILED", field)
    assert [g["id"] for g in goods_list(admin, store)] == [goods["id"]]
    # Both bounds are allowed.
    edge = add_goods(admin, store, name="洗" * 40, description="长" * 500, price_points=100000, stock=100000,
                     per_user_limit=100)
    assert (edge["price_points"], edge["stock"], edge["per_user_limit"]) == (100000, 100000, 100)
    assert add_goods(admin, store, price_points=1, stock=0, per_user_limit=1)["per_user_limit"] == 1

    assert_refused(admin.patch(f"/v1/goods/{goods['id']}", {}), 400, "VALIDATION_FAILED")
    assert_refused(shop.keeper.patch(f"/v1/goods/{goods['id']}", {}), 400, "VALIDATION_FAILED")
    patches = [({"restock": 0}, "restock"), ({"restock": 100001}, "restock"), ({"restock": -100001}, "restock"),
               ({"price_points": 0}, "price_points"), ({"name": ""}, "name"), ({"name": "洗" * 41}, "name"),
               ({"per_user_limit": 101}, "per_user_limit"), ({"description": "长" * 501}, "description")]
    for body, field in patches:
        assert_refused(admin.patch(f"/v1/goods/{goods['id']}", body), 400, "VALIDATION_FAILED", field)
    assert goods_now(admin, goods) == goods

    for body, field in (({"name": ""}, "name"), ({"name": "超" * 41}, "name"), ({}, "name"),
                        ({"name": "超市", "address": "路" * 101}, "address")):
        assert_refused(admin.post("/v1/stores", body), 400, "VALIDATION_FAILED", field)
    assert [s["id"] for s in admin.get("/v1/stores").json["items"]] == [store["id"]]


# --- redemption ---------------------------------------------------------------------------------------------------

def test_a_redemption_takes_the_points_and_the_stock_and_gives_a_pickup_code(shop):
    goods = shop.goods(name="食用油", price_points=30, stock=5)
    resident = shop.resident(points=100)
    resp = redeem(resident, goods, 2)
    assert resp.status == 201, resp.body
    r = resp.json
    assert set(r) == REDEMPTION_KEYS, r
    assert r["goods"] == {"id": goods["id"], "name": "食用油"} and r["store_id"] == shop.store["id"]
    assert (r["quantity"], r["points"], r["status"]) == (2, 60, "pending_pickup")
    assert PICKUP_CODE.match(r["pickup_code"]), r["pickup_code"]
    created = datetime.fromisoformat(r["created_at"])
    assert abs(created - utcnow()) < 10 * SECOND and r["expires_at"].endswith("+08:00")
    assert abs(when(r) - (created + timedelta(days=7))) < 2 * SECOND
    assert (r["picked_up_at"], r["cancelled_at"], r["expired_at"]) == (None, None, None)

    book = passbook(resident)
    assert (book["balance"], book["earned_total"]) == (40, 100)  # spending does not lower what was earned
    newest = book["items"][0]
    assert set(newest) == ENTRY_KEYS
    assert (newest["kind"], newest["amount"], newest["balance_after"]) == ("redeem", -60, 40)
    assert resident.get("/v1/me").json["points_balance"] == 40
    assert shop.stock(goods) == 3
    assert view(resident, r) == r
    assert [x["id"] for x in mine(resident)] == [r["id"]]
    # quantity defaults to 1
    one = redeem(resident, goods, None)
    assert one.status == 201 and (one.json["quantity"], one.json["points"]) == (1, 30), one.body
    assert one.json["pickup_code"] != r["pickup_code"]
    assert balance(resident) == 10 and shop.stock(goods) == 2


def test_insufficient_points_moves_nothing(shop):
    goods = shop.goods(price_points=30, stock=5)
    resident = shop.resident(points=50)
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods, 2), 409, "INSUFFICIENT_POINTS")
    assert state(resident, shop.admin, goods) == before
    poor = shop.resident()
    before_poor = state(poor, shop.admin, goods)
    assert_refused(redeem(poor, goods, 1), 409, "INSUFFICIENT_POINTS")
    assert state(poor, shop.admin, goods) == before_poor
    # Exactly the balance is enough.
    exact = shop.goods(price_points=25, stock=5)
    assert redeem(resident, exact, 2).status == 201 and balance(resident) == 0


def test_more_than_the_stock_is_out_of_stock_and_moves_nothing(shop):
    goods = shop.goods(price_points=1, stock=3)
    resident = shop.resident(points=20)
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods, 4), 409, "OUT_OF_STOCK")
    assert state(resident, shop.admin, goods) == before
    assert redeemed(resident, goods, 3)["quantity"] == 3  # the whole stock
    assert shop.stock(goods) == 0
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods, 1), 409, "OUT_OF_STOCK")
    assert state(resident, shop.admin, goods) == before


def test_off_shelf_goods_are_refused_and_nothing_moves(shop):
    goods = shop.goods(price_points=5, stock=3, on_shelf=False)
    resident = shop.resident(points=20)
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods), 409, "OFF_SHELF")
    assert state(resident, shop.admin, goods) == before
    assert shop.keeper.patch(f"/v1/goods/{goods['id']}", {"on_shelf": True}).status == 200
    assert redeem(resident, goods).status == 201
    assert shop.keeper.patch(f"/v1/goods/{goods['id']}", {"on_shelf": False}).status == 200
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods), 409, "OFF_SHELF")
    assert state(resident, shop.admin, goods) == before


def test_per_user_limit_counts_pending_and_picked_up_and_a_cancel_gives_it_back(shop):
    goods = shop.goods(price_points=1, stock=20, per_user_limit=2)
    resident = shop.resident(points=20)
    first = redeemed(resident, goods)
    assert verify(shop.keeper, first).json["status"] == "picked_up"
    second = redeemed(resident, goods)  # pending
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods), 409, "LIMIT_EXCEEDED")  # one picked up + one pending
    assert state(resident, shop.admin, goods) == before
    assert cancel(resident, second).status == 200
    third = redeemed(resident, goods)  # the cancelled one's allowance is back
    assert_refused(redeem(resident, goods), 409, "LIMIT_EXCEEDED")
    assert [r["id"] for r in mine(resident)] == [third["id"], second["id"], first["id"]]
    # One request beyond the limit at once; the allowance is per user.
    other = shop.resident(points=20)
    before = state(other, shop.admin, goods)
    assert_refused(redeem(other, goods, 3), 409, "LIMIT_EXCEEDED")
    assert state(other, shop.admin, goods) == before
    assert redeemed(other, goods, 2)["quantity"] == 2
    assert shop.stock(goods) == 20 - 2 - 2


def test_a_limit_set_later_counts_what_is_already_held(shop):
    goods = shop.goods(price_points=1, stock=20)  # no limit
    resident = shop.resident(points=20)
    redeemed(resident, goods, 2)
    assert shop.admin.patch(f"/v1/goods/{goods['id']}", {"per_user_limit": 2}).status == 200
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods), 409, "LIMIT_EXCEEDED")
    assert state(resident, shop.admin, goods) == before
    assert redeemed(shop.resident(points=5), goods, 2)["quantity"] == 2  # another resident: the whole limit


def test_unknown_goods_and_another_communitys_goods_are_not_found(shop, api):
    resident = shop.resident(points=50)
    goods = shop.goods()
    elsewhere = make_community(api)
    theirs = add_goods(elsewhere.admin, open_store(elsewhere.admin), price_points=1, stock=5)
    before = state(resident, shop.admin, goods)
    assert_refused(resident.post("/v1/redemptions", {"goods_id": "gd_nosuchgoods", "quantity": 1}), 404,
                   "NOT_FOUND")
    assert_refused(redeem(resident, theirs), 404, "NOT_FOUND")
    assert state(resident, shop.admin, goods) == before
    assert stock_of(elsewhere.admin, theirs) == 5


def test_redemption_validation(shop):
    resident = shop.resident(points=50)
    goods = shop.goods()
    before = state(resident, shop.admin, goods)
    for body, field in (({}, "goods_id"), ({"goods_id": goods["id"], "quantity": 0}, "quantity"),
                        ({"goods_id": goods["id"], "quantity": 100}, "quantity"),
                        ({"goods_id": goods["id"], "quantity": -1}, "quantity"),
                        ({"goods_id": goods["id"], "quantity": "两个"}, "quantity")):
        assert_refused(resident.post("/v1/redemptions", body), 400, "VALIDATION_FAILED", field)
    assert state(resident, shop.admin, goods) == before


def test_a_member_of_no_community_cannot_redeem(shop, api):
    goods = shop.goods()
    stranger = api.login()
    assert_refused(redeem(stranger, goods), 409, "NOT_IN_COMMUNITY")
    assert shop.stock(goods) == 5


# --- Idempotency-Key ----------------------------------------------------------------------------------------------

def test_a_replayed_redemption_gets_the_first_answer_and_moves_nothing_twice(shop):
    goods = shop.goods(price_points=10, stock=5)
    resident = shop.resident(points=50)
    key = str(uuid.uuid4())
    first = redeem(resident, goods, 2, headers={"Idempotency-Key": key})
    again = redeem(resident, goods, 2, headers={"Idempotency-Key": key})
    assert first.status == again.status == 201, (first.body, again.body)
    assert again.json == first.json
    assert (again.json["id"], again.json["pickup_code"]) == (first.json["id"], first.json["pickup_code"])
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert balance(resident) == 30 and shop.stock(goods) == 3
    assert [r["id"] for r in mine(resident)] == [first.json["id"]]
    assert len(entries(resident, "redeem")) == 1
    # The same key for another body is refused; nothing moves.
    before = state(resident, shop.admin, goods)
    assert_refused(redeem(resident, goods, 1, headers={"Idempotency-Key": key}), 409, "IDEMPOTENCY_KEY_REUSED")
    assert state(resident, shop.admin, goods) == before
    # Another key is another redemption.
    other = redeem(resident, goods, 2, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert other.status == 201 and other.json["id"] != first.json["id"]
    assert balance(resident) == 10 and shop.stock(goods) == 1


def test_a_redemption_whose_answer_was_lost_is_201_once(shop, dynamodb_faults):
    goods = shop.goods(price_points=10, stock=5)
    resident = shop.resident(points=50)
    dynamodb_faults.time_out_after("TransactWriteItems")
    resp = redeem(resident, goods, 1)
    assert resp.status == 201, resp.body
    assert not dynamodb_faults.timeouts_after_write["TransactWriteItems"]  # the fault did fire
    assert balance(resident) == 40 and shop.stock(goods) == 4 and len(mine(resident)) == 1


# --- reading ------------------------------------------------------------------------------------------------------

def test_my_redemptions_newest_first_and_paged(shop):
    goods = [shop.goods(name=f"商品{i}", price_points=1, stock=10) for i in range(3)]
    resident, other = shop.resident(points=20), shop.resident(points=20)
    made = []
    for i in range(5):
        with travel(i * SECOND):
            made.append(redeemed(resident, goods[i % 3]))
    redeemed(other, goods[0])
    newest_first = [r["id"] for r in reversed(made)]
    assert [r["id"] for r in mine(resident)] == newest_first
    first = resident.get("/v1/redemptions/mine?limit=2")
    assert first.status == 200 and [r["id"] for r in first.json["items"]] == newest_first[:2]
    assert first.json["next_cursor"]
    assert [r["id"] for r in mine(resident, limit=2)] == newest_first
    assert all(set(r) == REDEMPTION_KEYS for r in first.json["items"])
    assert [r["id"] for r in mine(shop.resident())] == []
    assert_refused(resident.get("/v1/redemptions/mine?limit=0"), 400, "VALIDATION_FAILED", "limit")


def test_a_redemption_is_seen_by_its_owner_the_stores_keepers_and_admins(shop):
    goods = shop.goods()
    owner = shop.resident(points=20)
    r = redeemed(owner, goods)
    assert view(owner, r) == r
    assert view(shop.keeper, r)["id"] == r["id"]
    assert view(shop.admin, r)["id"] == r["id"]
    _, other_keeper = shop.another_store()
    for outsider in (shop.resident(), other_keeper):
        assert_refused(outsider.get(f"/v1/redemptions/{r['id']}"), 404, "NOT_FOUND")
    assert_refused(owner.get("/v1/redemptions/rd_nosuchredemption"), 404, "NOT_FOUND")


# --- cancel -------------------------------------------------------------------------------------------------------

def test_cancel_gives_back_stock_points_and_allowance_once(shop):
    goods = shop.goods(price_points=15, stock=4, per_user_limit=2)
    resident = shop.resident(points=50)
    r = redeemed(resident, goods, 2)
    assert (balance(resident), shop.stock(goods)) == (20, 2)
    resp = cancel(resident, r)
    assert resp.status == 200, resp.body
    assert resp.json["status"] == "cancelled" and resp.json["cancelled_at"] and resp.json["id"] == r["id"]
    assert view(resident, r)["status"] == "cancelled"
    book = passbook(resident)
    assert (book["balance"], book["earned_total"]) == (50, 50)  # a refund is no earning
    [refund] = [e for e in book["items"] if e["kind"] == "refund"]
    assert (refund["amount"], refund["balance_after"]) == (30, 50)
    assert book["items"][0]["id"] == refund["id"]  # newest first
    assert shop.stock(goods) == 4

    before = state(resident, shop.admin, goods)
    assert_refused(cancel(resident, r), 409, "INVALID_STATE")
    assert state(resident, shop.admin, goods) == before
    # The allowance is back: the whole limit again.
    assert redeemed(resident, goods, 2)["quantity"] == 2


def test_only_the_owner_cancels_and_not_after_pickup(shop):
    goods = shop.goods(price_points=5, stock=5)
    owner = shop.resident(points=20)
    r = redeemed(owner, goods)
    before = state(owner, shop.admin, goods)
    assert_refused(cancel(shop.resident(), r), 404, "NOT_FOUND")
    assert_refused(shop.resident().post("/v1/redemptions/rd_nosuchredemption/cancel"), 404, "NOT_FOUND")
    assert state(owner, shop.admin, goods) == before and view(owner, r)["status"] == "pending_pickup"
    assert verify(shop.keeper, r).status == 200
    before = state(owner, shop.admin, goods)
    assert_refused(cancel(owner, r), 409, "INVALID_STATE")
    assert state(owner, shop.admin, goods) == before and view(owner, r)["status"] == "picked_up"


# --- pickup (核销) --------------------------------------------------------------------------------------------------

def test_the_stores_keeper_verifies_a_code_once(shop):
    goods = shop.goods(price_points=5, stock=5)
    owner = shop.resident(points=20)
    r = redeemed(owner, goods)
    resp = verify(shop.keeper, r)
    assert resp.status == 200, resp.body
    assert resp.json["id"] == r["id"] and resp.json["status"] == "picked_up"
    assert abs(datetime.fromisoformat(resp.json["picked_up_at"]) - utcnow()) < 10 * SECOND
    assert view(owner, r)["status"] == "picked_up"
    assert_refused(verify(shop.keeper, r), 409, "INVALID_STATE")
    assert_refused(verify(shop.admin, r), 409, "INVALID_STATE")
    # Picking up moves no points and no stock.
    assert balance(owner) == 15 and shop.stock(goods) == 4


def test_who_may_verify_and_unknown_codes(shop, api):
    goods = shop.goods(price_points=5, stock=5)
    owner = shop.resident(points=20)
    r = redeemed(owner, goods)
    _, other_keeper = shop.another_store()
    assert_refused(verify(other_keeper, r), 404, "NOT_FOUND")  # another store's code: as if it did not exist
    assert_refused(verify(owner, r), 403, "FORBIDDEN")
    assert_refused(verify(shop.resident(), r), 403, "FORBIDDEN")
    elsewhere = make_community(api)
    assert_refused(verify(elsewhere.admin, r), 404, "NOT_FOUND")  # codes are unique within a community
    assert view(owner, r)["status"] == "pending_pickup"
    unknown = next(c for c in ("222222", "ZZZZZZ", "23456A") if c != r["pickup_code"])
    assert_refused(shop.keeper.post("/v1/redemptions/verify", {"pickup_code": unknown}), 404, "NOT_FOUND")
    assert_refused(shop.keeper.post("/v1/redemptions/verify", {}), 400, "VALIDATION_FAILED", "pickup_code")
    # An admin may verify.
    resp = verify(shop.admin, r)
    assert resp.status == 200 and resp.json["status"] == "picked_up", resp.body


def test_a_cancelled_redemptions_code_is_invalid_state(shop):
    goods = shop.goods(price_points=5, stock=5)
    owner = shop.resident(points=20)
    r = redeemed(owner, goods)
    assert cancel(owner, r).status == 200
    assert_refused(verify(shop.keeper, r), 409, "INVALID_STATE")
    assert view(owner, r)["status"] == "cancelled" and balance(owner) == 20 and shop.stock(goods) == 5


def test_the_counters_queue_by_status(shop):
    goods = shop.goods(price_points=1, stock=20)
    residents = [shop.resident(points=10) for _ in range(2)]
    waiting = [redeemed(m, goods) for m in residents for _ in range(2)]
    picked, dropped = waiting[0], waiting[1]
    assert verify(shop.keeper, picked).status == 200
    assert cancel(residents[0], dropped).status == 200
    pending = {r["id"] for r in waiting[2:]}
    other_store, other_keeper = shop.another_store()
    redeemed(residents[1], add_goods(shop.admin, other_store, price_points=1))  # another store's queue
    for staff in (shop.keeper, shop.admin):
        assert {r["id"] for r in queue(staff, shop.store, "pending_pickup")} == pending
        assert [r["id"] for r in queue(staff, shop.store, "picked_up")] == [picked["id"]]
        assert [r["id"] for r in queue(staff, shop.store, "cancelled")] == [dropped["id"]]
        assert queue(staff, shop.store, "expired") == []
    shown = queue(shop.keeper, shop.store, "pending_pickup")
    assert all(set(r) == REDEMPTION_KEYS and r["status"] == "pending_pickup" for r in shown)
    first = shop.keeper.get(f"/v1/stores/{shop.store['id']}/redemptions?status=pending_pickup&limit=1")
    assert first.status == 200 and len(first.json["items"]) == 1 and first.json["next_cursor"]
    for outsider in (other_keeper, residents[0]):
        assert_refused(outsider.get(f"/v1/stores/{shop.store['id']}/redemptions?status=pending_pickup"), 403,
                       "FORBIDDEN")
    assert_refused(shop.keeper.get(f"/v1/stores/{shop.store['id']}/redemptions?status=lost"), 400,
                   "VALIDATION_FAILED", "status")


# --- the pickup QR ------------------------------------------------------------------------------------------------

def test_the_pickup_qrcode_as_png_svg_and_json_for_its_owner_only(shop):
    goods = shop.goods(price_points=5, stock=5)
    owner = shop.resident(points=20)
    r = redeemed(owner, goods)
    png = owner.get(f"/v1/redemptions/{r['id']}/qrcode?format=png")
    assert png.status == 200 and png.body.startswith(PNG), png.body[:100]
    assert png.headers.get("Content-Type", png.headers.get("content-type", "")).startswith("image/png")
    svg = owner.get(f"/v1/redemptions/{r['id']}/qrcode?format=svg")
    assert svg.status == 200 and b"<svg" in svg.body
    as_json = owner.get(f"/v1/redemptions/{r['id']}/qrcode?format=json")
    assert as_json.status == 200 and as_json.json["pickup_code"] == r["pickup_code"], as_json.body
    assert as_json.json["code"] == r["pickup_code"] and as_json.json["valid_until"] == r["expires_at"]
    assert as_json.json["url"] == "http://127.0.0.1:8000/p/" + r["pickup_code"]  # the test stage's QR_LINK_BASE
    assert_refused(shop.resident().get(f"/v1/redemptions/{r['id']}/qrcode?format=json"), 404, "NOT_FOUND")
    assert_refused(shop.resident().get(f"/v1/redemptions/{r['id']}/qrcode?format=png"), 404, "NOT_FOUND")
    assert_refused(owner.get(f"/v1/redemptions/{r['id']}/qrcode?format=gif"), 400, "VALIDATION_FAILED", "format")


# --- expiry -------------------------------------------------------------------------------------------------------

def test_an_unpicked_redemption_expires_once_after_7_days_and_is_announced_a_day_before(shop):
    goods = shop.goods(price_points=20, stock=3, per_user_limit=1)
    resident = shop.resident(points=50)
    r = redeemed(resident, goods)
    expires = when(r)
    assert (balance(resident), shop.stock(goods)) == (30, 2)

    run_scheduler(expires - timedelta(days=2))
    assert messages(resident.id, "redemption_expiring") == []
    for moment in (expires - timedelta(days=1) + MIN, expires - timedelta(days=1) + 2 * MIN,
                   expires - timedelta(hours=1)):
        run_scheduler(moment)
    assert len(messages(resident.id, "redemption_expiring")) == 1
    assert messages(resident.id, "redemption_expired") == []
    assert view(resident, r)["status"] == "pending_pickup" and balance(resident) == 30

    after = expires + MIN
    run_scheduler(after)
    run_scheduler(after + MIN)  # safe to run twice
    with at(after + 2 * MIN):
        shown = view(resident, r)
        assert shown["status"] == "expired" and shown["expired_at"]
        assert abs(datetime.fromisoformat(shown["expired_at"]) - after) < 2 * MIN
        book = passbook(resident)
        assert (book["balance"], book["earned_total"]) == (50, 50)
        [refund] = [e for e in book["items"] if e["kind"] == "refund"]
        assert refund["amount"] == 20
        assert shop.stock(goods) == 3
        assert len(messages(resident.id, "redemption_expired")) == 1
        assert len(messages(resident.id, "redemption_expiring")) == 1
        assert [x["id"] for x in queue(shop.keeper, shop.store, "expired")] == [r["id"]]
        assert queue(shop.keeper, shop.store, "pending_pickup") == []
        # Gone for good: no pickup, no cancel; the allowance is back.
        assert_refused(verify(shop.keeper, r), 409, "INVALID_STATE")
        assert_refused(cancel(resident, r), 409, "INVALID_STATE")
        again = redeemed(resident, goods)
        assert again["status"] == "pending_pickup" and balance(resident) == 30


def test_picked_up_and_cancelled_redemptions_do_not_expire(shop):
    goods = shop.goods(price_points=10, stock=5)
    resident = shop.resident(points=50)
    picked, dropped = redeemed(resident, goods), redeemed(resident, goods)
    assert verify(shop.keeper, picked).status == 200 and cancel(resident, dropped).status == 200
    after = when(picked) + MIN
    run_scheduler(after)
    run_scheduler(after + MIN)
    with at(after + 2 * MIN):
        assert [view(resident, x)["status"] for x in (picked, dropped)] == ["picked_up", "cancelled"]
        assert balance(resident) == 40 and shop.stock(goods) == 4
    assert len(entries(resident, "refund")) == 1
    assert messages(resident.id, "redemption_expired") == []
    assert messages(resident.id, "redemption_expiring") == []


# --- 注销 -------------------------------------------------------------------------------------------------------

def test_deleting_the_account_cancels_its_pending_redemptions(shop):
    limited = shop.goods(name="限购", price_points=5, stock=3, per_user_limit=1)
    other = shop.goods(name="不限", price_points=5, stock=3)
    resident = shop.resident(points=50)
    pending = redeemed(resident, limited)
    picked = redeemed(resident, other)
    assert verify(shop.keeper, picked).status == 200
    assert (shop.stock(limited), shop.stock(other)) == (2, 2)
    assert resident.delete("/v1/me").status == 204
    assert (shop.stock(limited), shop.stock(other)) == (3, 2)
    assert view(shop.keeper, pending)["status"] == "cancelled"
    assert view(shop.keeper, picked)["status"] == "picked_up"
    assert [x["id"] for x in queue(shop.keeper, shop.store, "cancelled")] == [pending["id"]]
    assert queue(shop.keeper, shop.store, "pending_pickup") == []
    # The code no longer picks anything up.
    assert_refused(verify(shop.keeper, pending), 409, "INVALID_STATE")
    # The allowance is back (test-only look at the `allow#<goods>#<user>` counter of docs/points.md: the closed
    # account can no longer redeem to show it).
    held = CounterModel.get(f"allow#{limited['id']}#{resident.id}", consistent_read=True)
    assert int(held.n) == 0
    # The ledger stays (test-only look: the account can no longer read its passbook), refund included.
    ledger = list(LedgerEntryModel.query(resident.id))
    assert sorted(e.kind for e in ledger) == ["award", "redeem", "redeem", "refund"]
    assert sum(e.amount for e in ledger) == 45


# --- admin statistics ---------------------------------------------------------------------------------------------

def test_admin_stats_count_redemptions_cancels_and_expiry(shop):
    soap = shop.goods(name="肥皂", price_points=10, stock=10)
    oil = shop.goods(name="食用油", price_points=15, stock=10)
    resident = shop.resident(points=100)
    picked = redeemed(resident, soap, 2)  # 20
    dropped = redeemed(resident, oil, 1)  # 15
    assert verify(shop.keeper, picked).status == 200
    points = shop.admin.get("/v1/admin/stats").json["points"]
    assert points["issued_by_source"] == {"wish": 0, "volunteer": 0, "award": 100}
    assert points["issued_by_category"] == {"charity": 100, "mediation": 0, "participation": 0}
    assert (points["reversed"], points["redeemed"], points["refunded"]) == (0, 35, 0)
    assert points["redemptions"] == {"created": 2, "picked_up": 1, "cancelled": 0, "expired": 0}
    assert {g["goods_id"]: g["quantity"] for g in points["by_goods"]} == {soap["id"]: 2, oil["id"]: 1}

    assert cancel(resident, dropped).status == 200
    left = redeemed(resident, soap, 1)  # 10, left to expire
    after = when(left) + MIN
    run_scheduler(after)
    run_scheduler(after + MIN)
    with at(after + 2 * MIN):
        resp = shop.admin.get("/v1/admin/stats")
    assert resp.status == 200, resp.body
    points = resp.json["points"]
    assert (points["reversed"], points["redeemed"], points["refunded"]) == (0, 45, 25)
    assert points["redemptions"] == {"created": 3, "picked_up": 1, "cancelled": 1, "expired": 1}
    assert points["issued_by_source"] == {"wish": 0, "volunteer": 0, "award": 100}
    by_goods = {g["goods_id"]: g["quantity"] for g in points["by_goods"]}
    # Redemptions per goods: the contract does not say whether a cancel or an expiry takes its quantity back.
    assert by_goods in ({soap["id"]: 3, oil["id"]: 1}, {soap["id"]: 2}, {soap["id"]: 2, oil["id"]: 0}), by_goods
    assert all(isinstance(v, int) for v in (points["redeemed"], points["refunded"], *by_goods.values()))
    assert balance(resident) == 100 - 20 - 10 - 15 + 15 + 10



# --- one popular item under DynamoDB's conflicts ------------------------------------------------------------------

def _conflicts(pattern):
    """From now on, TransactWriteItems calls fail with TransactionConflict (as DynamoDB cancels concurrent
    transactions on one item — moto never does) wherever ``pattern(n)`` is true for the n-th call."""
    from botocore.exceptions import ClientError
    from tongxin.adapters.dynamo import binding
    client, calls = binding.connection().client, [0]

    def before_call(params, model, **kwargs):
        calls[0] += 1
        if pattern(calls[0]):
            reasons = [{"Code": "TransactionConflict", "Message": "injected"} for _ in params["TransactItems"]]
            raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "injected conflict"},
                               "CancellationReasons": reasons}, "TransactWriteItems")

    event = "before-parameter-build.dynamodb.TransactWriteItems"
    client.meta.events.register_first(event, before_call)
    return lambda: client.meta.events.unregister(event, before_call)


def test_a_burst_on_one_item_under_conflicts_ends_in_201_or_409_and_sells_the_stock_exactly(shop, monkeypatch):
    from tongxin.adapters.dynamo import tx as txmod
    monkeypatch.setattr(txmod, "BACKOFF_BASE_SECONDS", 0.001)
    goods = shop.goods(price_points=1, stock=10)
    people = [shop.resident(points=3) for _ in range(10)]
    remove = _conflicts(lambda n: n % 3 != 0)  # every transaction conflicts twice, then goes through
    try:
        answers = [redeem(person, goods) for person in people for _ in range(3)]
    finally:
        remove()
    codes = Counter((a.status, a.error_code) for a in answers)
    assert codes == {(201, None): 10, (409, "OUT_OF_STOCK"): 20}, codes
    assert shop.stock(goods) == 0
    for person in people:  # balance == sum(ledger) ≥ 0, one debit per 201
        book = passbook(person)
        assert book["balance"] == sum(item["amount"] for item in book["items"]) >= 0


def test_conflicts_that_do_not_end_are_a_503_with_retry_after_and_move_nothing(shop, monkeypatch):
    from tongxin.adapters.dynamo import tx as txmod
    monkeypatch.setattr(txmod, "BACKOFF_BASE_SECONDS", 0.001)
    goods = shop.goods(price_points=5, stock=4)
    resident = shop.resident(points=20)
    remove = _conflicts(lambda n: True)
    try:
        resp = redeem(resident, goods)
    finally:
        remove()
    assert (resp.status, resp.error_code, resp.headers.get("Retry-After")) == (503, "UPSTREAM_UNAVAILABLE", "1")
    assert (balance(resident), shop.stock(goods), mine(resident)) == (20, 4, [])
