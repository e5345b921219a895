"""Goods of the 积分超市 sponsored by a 共建单位: the sponsor must exist and have an agreement in force with the
community (checked in the goods' own transaction), its name stored with the goods and shown in the store's lists
with no extra read."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_store import add_goods, open_store
from tests.api.test_units import Region, assert_refused, days_ahead
from tongxin.adapters.dynamo.models import UnitAgreementModel, UnitModel
from tongxin.domain.clock import travel


@pytest.fixture
def r(api):
    return Region(api)


def test_sponsored_goods_show_their_sponsor_in_the_store_without_an_extra_read(r):
    unit = r.unit()
    r.agreement(unit["id"])
    store = open_store(r.c.admin)
    goods = add_goods(r.c.admin, store, sponsor_unit_id=unit["id"])
    assert goods["sponsor"] == {"id": unit["id"], "name": unit["name"]}
    assert r.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}, \
        r.api.last_meter.dynamo
    plain = add_goods(r.c.admin, store, name="毛巾")
    assert plain["sponsor"] is None
    resident = r.c.resident()
    shelf = resident.get(f"/v1/stores/{store['id']}/goods").json["items"]
    assert r.api.last_meter.dynamo == {"GetItem": 2, "Query": 1}, r.api.last_meter.dynamo  # as without sponsors
    assert {g["id"]: g["sponsor"] for g in shelf} == {goods["id"]: goods["sponsor"], plain["id"]: None}


def test_a_sponsor_without_an_agreement_in_force_is_refused(r, api):
    store = open_store(r.c.admin)
    unit = r.unit()
    body = {"name": "体检券", "price_points": 50, "stock": 5, "sponsor_unit_id": unit["id"]}
    assert_refused(r.c.admin.post(f"/v1/stores/{store['id']}/goods", body), 404, "NOT_FOUND", "sponsor_unit_id")
    assert_refused(r.c.admin.post(f"/v1/stores/{store['id']}/goods", {**body, "sponsor_unit_id": "unit_nothing"}),
                   404, "NOT_FOUND", "sponsor_unit_id")
    r.agreement(unit["id"], admin=None, valid_until=days_ahead(1))
    other_store = open_store(r.other.admin)  # another community (of another street): no agreement there
    assert_refused(r.other.admin.post(f"/v1/stores/{other_store['id']}/goods", body), 404, "NOT_FOUND",
                   "sponsor_unit_id")
    assert r.c.admin.post(f"/v1/stores/{store['id']}/goods", body).status == 201
    with travel(timedelta(days=2)):  # the agreement lapsed
        assert_refused(r.c.admin.relogin().post(f"/v1/stores/{store['id']}/goods", body), 404, "NOT_FOUND",
                       "sponsor_unit_id")
    assert_refused(r.c.resident().post(f"/v1/stores/{store['id']}/goods", body), 403, "FORBIDDEN")


def test_an_agreement_that_lapses_between_the_read_and_the_write_is_caught_by_the_transaction(r, monkeypatch):
    """The goods' transaction carries the agreement's condition: a sponsor read as valid whose agreement is gone
    by the write is refused, nothing written."""
    from tongxin.usecases import units
    unit = r.unit()
    r.agreement(unit["id"])
    store = open_store(r.c.admin)
    real = units.sponsor_of

    def then_lapsed(*args):
        answer = real(*args)
        UnitAgreementModel(unit["id"], r.c.id).update(actions=[UnitAgreementModel.valid_until.set("2000-01-01")])
        return answer
    monkeypatch.setattr(units, "sponsor_of", then_lapsed)
    body = {"name": "体检券", "price_points": 50, "stock": 5, "sponsor_unit_id": unit["id"]}
    assert_refused(r.c.admin.post(f"/v1/stores/{store['id']}/goods", body), 404, "NOT_FOUND", "sponsor_unit_id")
    assert r.c.admin.get(f"/v1/stores/{store['id']}/goods").json["items"] == []


def test_the_sponsor_is_changed_and_removed_by_a_patch_and_its_name_kept_as_written(r):
    first, second = r.unit(name="甲医院"), r.unit(name="乙学校", kind="学校")
    for unit in (first, second):
        r.agreement(unit["id"])
    store = open_store(r.c.admin)
    goods = add_goods(r.c.admin, store, sponsor_unit_id=first["id"])
    keeper = r.c.with_roles(r.c.resident(), ["store_keeper"], store_ids=[store["id"]])
    changed = keeper.patch(f"/v1/goods/{goods['id']}", {"sponsor_unit_id": second["id"]})
    assert changed.status == 200 and changed.json["sponsor"] == {"id": second["id"], "name": "乙学校"}
    assert r.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    UnitModel(second["id"]).update(actions=[UnitModel.name.set("乙学校（改名）")])
    shelf = keeper.get(f"/v1/stores/{store['id']}/goods").json["items"]
    assert shelf[0]["sponsor"]["name"] == "乙学校"  # as written with the goods: no read of the unit per list
    removed = r.c.admin.patch(f"/v1/goods/{goods['id']}", {"sponsor_unit_id": None})
    assert removed.status == 200 and removed.json["sponsor"] is None
    assert keeper.get(f"/v1/stores/{store['id']}/goods").json["items"][0]["sponsor"] is None
    assert_refused(keeper.patch(f"/v1/goods/{goods['id']}", {"sponsor_unit_id": "unit_nothing"}), 404, "NOT_FOUND",
                   "sponsor_unit_id")
    via_post = keeper.post(f"/v1/goods/{goods['id']}", {"sponsor_unit_id": first["id"]},
                           headers={"X-HTTP-Method-Override": "PATCH"})
    assert via_post.status == 200 and via_post.json["sponsor"]["id"] == first["id"]
