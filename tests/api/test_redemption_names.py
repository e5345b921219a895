"""The store's staff see who redeemed (issue 23 leftovers): the redeemer's nickname and real name as they were at
redemption time, copied onto the redemption (the counter's queue reads no user per row); the owner's own views carry
none; 注销 replaces the copy with 已注销用户 and removes the real name."""
from __future__ import annotations

from tests.api.test_store import add_goods, grant, open_store
from tongxin.adapters.dynamo.models import RedemptionModel


def test_staff_views_show_the_redeemer_as_at_redemption_time_and_the_owner_sees_none(community):
    admin = community.admin
    store = open_store(admin)
    goods = add_goods(admin, store, price_points=5, stock=10)
    keeper = community.with_roles(community.resident(0), ["store_keeper"], store_ids=[store["id"]])
    buyer = community.volunteer(0)  # a volunteer: a registered real name (王志愿)
    assert buyer.patch("/v1/me", {"nickname": "张阿姨"}).status == 200
    grant(community, buyer, 20)
    made = buyer.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1})
    assert made.status == 201, made.body
    assert made.json["redeemer"] is None and made.json["pickup_code"]  # the owner's view
    assert buyer.get(f"/v1/redemptions/{made.json['id']}").json["redeemer"] is None
    assert all(r["redeemer"] is None for r in buyer.get("/v1/redemptions/mine").json["items"])
    # Renamed after redeeming: the staff see the name it was redeemed under.
    assert buyer.patch("/v1/me", {"nickname": "张奶奶"}).status == 200
    expected = {"id": buyer.id, "nickname": "张阿姨", "real_name": "王志愿"}
    for staff in (keeper, admin):
        queue = staff.get(f"/v1/stores/{store['id']}/redemptions?status=pending_pickup")
        assert queue.status == 200, queue.body
        assert [r["redeemer"] for r in queue.json["items"]] == [expected]
        assert dict(staff.api.last_meter.dynamo) == {"GetItem": 2, "Query": 1}  # no user read per row
        one = staff.get(f"/v1/redemptions/{made.json['id']}").json
        assert one["redeemer"] == expected and one["pickup_code"] is None
    picked = keeper.post("/v1/redemptions/verify", {"pickup_code": made.json["pickup_code"]})
    assert picked.status == 200 and picked.json["redeemer"] == expected
    # A resident with no real name: null, the nickname as set.
    plain = community.resident(0)
    grant(community, plain, 5)
    second = plain.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1}).json
    shown = keeper.get(f"/v1/redemptions/{second['id']}").json["redeemer"]
    assert shown["id"] == plain.id and shown["real_name"] is None and shown["nickname"] == plain.user["nickname"]


def test_deletion_erases_the_copied_names_of_every_redemption(community):
    admin = community.admin
    store = open_store(admin)
    goods = add_goods(admin, store, price_points=5, stock=10)
    keeper = community.with_roles(community.resident(0), ["store_keeper"], store_ids=[store["id"]])
    buyer = community.volunteer(0)
    grant(community, buyer, 20)
    picked = buyer.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1}).json
    assert keeper.post("/v1/redemptions/verify", {"pickup_code": picked["pickup_code"]}).status == 200
    pending = buyer.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1}).json
    assert buyer.delete("/v1/me").status == 204
    for rid, status in ((picked["id"], "picked_up"), (pending["id"], "cancelled")):
        shown = keeper.get(f"/v1/redemptions/{rid}").json
        assert shown["status"] == status
        assert shown["redeemer"] == {"id": buyer.id, "nickname": "已注销用户", "real_name": None}
        stored = RedemptionModel.get(rid, consistent_read=True)
        assert stored.redeemer_nickname == "已注销用户" and stored.redeemer_real_name is None
