"""共建单位/驻区单位 over HTTP: the street registers units and invites their liaisons, a community's admin signs the
unit's agreement, the liaison publishes the 资源清单; who sees what; the sequences (an invite used twice, expired, by
someone who left; an agreement signed twice; dates at their edges); exact call counts."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.api.test_requests import messages
from tests.support import make_community
from tongxin.adapters.dynamo.models import UnitModel, UserModel
from tongxin.domain import units as unit_rules
from tongxin.domain.clock import travel, utcnow
from tongxin.usecases import streets

BASE = "http://127.0.0.1:8000"  # the test stage's QR_LINK_BASE
UNIT = {"name": "同心区人民医院", "kind": "医院", "contact_name": "李主任", "contact_phone": "13800001111"}
AGREEMENT = {"pledges": ["每季度义诊一次", "为社区老人提供健康讲座"], "activities_per_quarter": 2}
RESOURCE = {"title": "义诊", "description": "内科、外科医生各一名，周六上午", "capacity": 50}


def assert_refused(resp, status: int, code: str, field: str | None = None) -> None:
    assert (resp.status, resp.error_code) == (status, code), resp.body
    if field is not None:
        assert resp.json["error"]["details"].get("field") == field, resp.body


def days_ahead(days: int) -> str:
    return unit_rules.today(utcnow() + timedelta(days=days)).isoformat()


class Region:
    """A street with a community (its admin), its staff; a second street with its own community and staff."""

    def __init__(self, api):
        self.api = api
        self.street_id = streets.create_street(f"共建街道{uuid.uuid4().hex[:4]}")["id"]
        self.c = make_community(api)
        streets.attach_community(self.street_id, self.c.id)
        self.staff = self.street_staff(self.street_id)
        self.other_street_id = streets.create_street("别的街道")["id"]
        self.other = make_community(api)
        streets.attach_community(self.other_street_id, self.other.id)
        self.other_staff = self.street_staff(self.other_street_id)

    def street_staff(self, street_id):
        person = self.api.login()
        streets.add_staff(street_id, person.id)
        return person.relogin()

    def unit(self, **overrides) -> dict:
        resp = self.staff.post("/v1/street/units", {**UNIT, **overrides})
        assert resp.status == 201, resp.body
        return resp.json

    def invite(self, unit_id: str) -> dict:
        resp = self.staff.post(f"/v1/street/units/{unit_id}/invites")
        assert resp.status == 201, resp.body
        return resp.json

    def liaison(self, unit_id: str, person=None):
        person = person or self.api.login()
        resp = person.post("/v1/me/unit", {"invite": self.invite(unit_id)["code"]})
        assert resp.status == 200, resp.body
        return person

    def agreement(self, unit_id: str, admin=None, **overrides) -> dict:
        resp = (admin or self.c.admin).post(f"/v1/admin/units/{unit_id}/agreement",
                                            {**AGREEMENT, "valid_until": days_ahead(365), **overrides})
        assert resp.status == 201, resp.body
        return resp.json


@pytest.fixture
def r(api):
    return Region(api)


# --- the whole flow --------------------------------------------------------------------------------------------

def test_a_unit_registered_by_the_street_gets_a_liaison_an_agreement_and_resources(r):
    unit = r.unit()
    assert {k: unit[k] for k in UNIT} == UNIT
    assert (unit["street_id"], unit["liaison_count"], unit["agreement_count"], unit["resource_count"]) == \
        (r.street_id, 0, 0, 0)
    assert [u["id"] for u in r.staff.get("/v1/street/units").json["items"]] == [unit["id"]]

    invite = r.invite(unit["id"])
    assert invite["url"] == f"{BASE}/u/{invite['code']}" and invite["unit_id"] == unit["id"]
    person = r.api.login()  # in no community
    joined = person.post("/v1/me/unit", {"invite": invite["url"]})  # the whole link a QR carries
    assert joined.status == 200, joined.body
    assert joined.json["unit"] == {"id": unit["id"], "name": UNIT["name"]}
    assert "unit_liaison" in joined.json["user"]["roles"] and joined.json["user"]["unit_ids"] == [unit["id"]]
    me = person.get("/v1/me").json
    assert me["unit_ids"] == [unit["id"]] and "unit_liaison" in me["roles"] and me["community_id"] is None
    assert person.get(f"/v1/units/{unit['id']}").json["liaison_count"] == 1

    signed = r.agreement(unit["id"])
    assert (signed["renewed"], signed["valid"], signed["community"]["id"]) == (False, True, r.c.id)
    told = messages(person.id, "unit_agreement_signed")
    assert len(told) == 1 and told[0].data["unit_id"] == unit["id"]

    listed = r.c.admin.get("/v1/admin/units").json["items"]
    assert [(u["id"], u["agreement"]["pledges"]) for u in listed] == [(unit["id"], AGREEMENT["pledges"])]
    agreements = person.get(f"/v1/units/{unit['id']}/agreements").json["items"]
    assert [a["community"]["id"] for a in agreements] == [r.c.id]

    resource = person.post(f"/v1/units/{unit['id']}/resources", RESOURCE)
    assert resource.status == 201, resource.body
    assert {k: resource.json[k] for k in RESOURCE} == RESOURCE
    for reader in (person, r.staff, r.c.admin):  # its liaison, its street's staff, its community's admin
        page = reader.get(f"/v1/units/{unit['id']}/resources")
        assert page.status == 200 and [x["id"] for x in page.json["items"]] == [resource.json["id"]]
    detail = r.c.admin.get(f"/v1/units/{unit['id']}").json
    assert (detail["liaison_count"], detail["agreement_count"], detail["resource_count"]) == (1, 1, 1)


# --- invites ---------------------------------------------------------------------------------------------------

def test_an_invite_is_used_once(r):
    unit = r.unit()
    code = r.invite(unit["id"])["code"]
    first, second = r.api.login(), r.api.login()
    assert first.post("/v1/me/unit", {"invite": code}).status == 200
    assert_refused(first.post("/v1/me/unit", {"invite": code}), 404, "INVITE_INVALID")  # the same person again
    assert_refused(second.post("/v1/me/unit", {"invite": code.lower()}), 404, "INVITE_INVALID")
    assert "unit_liaison" not in second.get("/v1/me").json["roles"]
    assert UnitModel.get(unit["id"]).liaison_ids == {first.id}


def test_an_expired_invite_and_links_that_are_not_ours_are_refused(r):
    unit = r.unit()
    code = r.invite(unit["id"])["code"]
    person = r.api.login()
    for text in (f"{BASE}/i/{code}", f"https://tongxin.example.cn/u/{code}", f"{BASE}/u/{code}?x", "NOSUCHCODE"):
        assert_refused(person.post("/v1/me/unit", {"invite": text}), 404, "INVITE_INVALID")
    assert_refused(person.post("/v1/me/unit", {"invite": "  "}), 400, "VALIDATION_FAILED", "invite")
    with travel(timedelta(days=unit_rules.INVITE_TTL_DAYS, seconds=1)):
        assert_refused(person.relogin().post("/v1/me/unit", {"invite": code}), 404, "INVITE_INVALID")
    with travel(timedelta(days=unit_rules.INVITE_TTL_DAYS, seconds=-60)):
        assert person.relogin().post("/v1/me/unit", {"invite": code}).status == 200


def test_a_liaison_of_one_unit_joining_another_keeps_both(r):
    x, y = r.unit(name="甲单位"), r.unit(name="乙单位", kind="学校")
    person = r.liaison(x["id"])
    r.liaison(y["id"], person)
    assert person.get("/v1/me").json["unit_ids"] == sorted([x["id"], y["id"]])
    for unit in (x, y):
        assert person.post(f"/v1/units/{unit['id']}/resources", RESOURCE).status == 201


def test_a_user_deleted_between_invite_and_use_cannot_use_it_and_a_liaison_deleted_leaves_the_unit(r):
    unit = r.unit()
    code = r.invite(unit["id"])["code"]
    leaving = r.api.login()
    assert leaving.delete("/v1/me").status == 204
    assert_refused(leaving.post("/v1/me/unit", {"invite": code}), 401, "UNAUTHENTICATED")
    liaison = r.api.login()
    assert liaison.post("/v1/me/unit", {"invite": code}).status == 200  # still unused
    assert UnitModel.get(unit["id"]).liaison_ids == {liaison.id}
    assert liaison.delete("/v1/me").status == 204
    assert not UnitModel.get(unit["id"]).liaison_ids  # whom the unit's messages reach: nobody now
    assert not UserModel.get(liaison.id).unit_ids


def test_a_liaison_whose_role_was_taken_acts_no_more_until_invited_again(r):
    unit = r.unit()
    person = r.liaison(unit["id"])
    UserModel(person.id).update(actions=[UserModel.roles.delete({"unit_liaison"})])  # the operator took it
    assert_refused(person.post(f"/v1/units/{unit['id']}/resources", RESOURCE), 403, "FORBIDDEN")
    assert_refused(person.get(f"/v1/units/{unit['id']}"), 403, "FORBIDDEN")
    r.liaison(unit["id"], person)
    assert person.post(f"/v1/units/{unit['id']}/resources", RESOURCE).status == 201


def test_only_the_units_street_staff_invite(r):
    unit = r.unit()
    assert_refused(r.other_staff.post(f"/v1/street/units/{unit['id']}/invites"), 404, "NOT_FOUND")
    assert_refused(r.c.admin.post(f"/v1/street/units/{unit['id']}/invites"), 403, "FORBIDDEN")
    liaison = r.liaison(unit["id"])
    assert_refused(liaison.post(f"/v1/street/units/{unit['id']}/invites"), 403, "FORBIDDEN")


# --- registering units -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("kind", "公司"), ("kind", None), ("name", "   "), ("name", "a" * 41), ("name", "甲"), ("name", "两行\n名称"),
    ("contact_phone", "12345"), ("contact_name", ""),
])
def test_a_unit_with_bad_fields_is_refused(r, field, value):
    assert_refused(r.staff.post("/v1/street/units", {**UNIT, field: value}), 400, "VALIDATION_FAILED", field)


def test_a_unit_name_at_its_limit_is_kept_and_a_risky_one_refused(r):
    assert r.unit(name="名" * 40)["name"] == "名" * 40
    assert r.unit(name="  前后空格  ")["name"] == "前后空格"
    assert_refused(r.staff.post("/v1/street/units", {**UNIT, "name": "违禁单位"}), 400, "CONTENT_REJECTED")


def test_staff_of_several_streets_name_the_street(r):
    both = r.street_staff(r.street_id)
    streets.add_staff(r.other_street_id, both.id)
    both.relogin()
    assert_refused(both.post("/v1/street/units", UNIT), 400, "VALIDATION_FAILED", "street_id")
    assert_refused(both.get("/v1/street/units"), 400, "VALIDATION_FAILED", "street_id")
    made = both.post("/v1/street/units", {**UNIT, "street_id": r.other_street_id})
    assert made.status == 201 and made.json["street_id"] == r.other_street_id
    assert [u["id"] for u in both.get(f"/v1/street/units?street_id={r.other_street_id}").json["items"]] == \
        [made.json["id"]]
    assert_refused(r.staff.post("/v1/street/units", {**UNIT, "street_id": r.other_street_id}), 403, "FORBIDDEN")


def test_the_street_list_pages(r):
    made = [r.unit(name=f"单位{i}")["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = r.staff.get("/v1/street/units?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200 and len(page.json["items"]) <= 2
        assert r.api.last_meter.dynamo == {"GetItem": 1, "Query": 1}, r.api.last_meter.dynamo
        seen += [u["id"] for u in page.json["items"]]
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert seen == made
    assert r.other_staff.get("/v1/street/units").json["items"] == []
    assert_refused(r.other_staff.get(f"/v1/street/units?cursor={cursor or 'x.y'}"), 400, "VALIDATION_FAILED")


# --- agreements ------------------------------------------------------------------------------------------------

def test_an_agreement_posted_twice_is_renewed_once_counted_and_told_twice(r):
    unit = r.unit()
    liaison = r.liaison(unit["id"])
    first = r.agreement(unit["id"])
    second = r.agreement(unit["id"], pledges=["每月开放停车场"], activities_per_quarter=4,
                         valid_until=days_ahead(30))
    assert (second["renewed"], second["pledges"], second["activities_per_quarter"], second["valid_until"]) == \
        (True, ["每月开放停车场"], 4, days_ahead(30))
    assert second["created_at"] == first["created_at"]
    assert r.c.admin.get(f"/v1/units/{unit['id']}").json["agreement_count"] == 1
    assert len(messages(liaison.id, "unit_agreement_signed")) == 2
    items = liaison.get(f"/v1/units/{unit['id']}/agreements").json["items"]
    assert [(a["community"]["id"], a["pledges"]) for a in items] == [(r.c.id, ["每月开放停车场"])]


def test_two_communities_of_the_street_each_sign_their_own(r, api):
    unit = r.unit()
    neighbour = make_community(api)
    streets.attach_community(r.street_id, neighbour.id)
    r.agreement(unit["id"])
    r.agreement(unit["id"], admin=neighbour.admin)
    assert r.staff.get(f"/v1/units/{unit['id']}").json["agreement_count"] == 2
    assert sorted(a["community"]["id"] for a in r.staff.get(f"/v1/units/{unit['id']}/agreements").json["items"]) \
        == sorted([r.c.id, neighbour.id])


def test_an_admin_of_a_community_of_another_street_or_of_none_is_told_the_unit_does_not_exist(r, api):
    unit = r.unit()
    body = {**AGREEMENT, "valid_until": days_ahead(100)}
    assert_refused(r.other.admin.post(f"/v1/admin/units/{unit['id']}/agreement", body), 404, "NOT_FOUND")
    streetless = make_community(api)
    assert_refused(streetless.admin.post(f"/v1/admin/units/{unit['id']}/agreement", body), 404, "NOT_FOUND")
    assert streetless.admin.get("/v1/admin/units").json == {"items": [], "next_cursor": None}
    assert_refused(r.c.admin.post("/v1/admin/units/unit_nothing/agreement", body), 404, "NOT_FOUND")
    assert_refused(r.c.resident().post(f"/v1/admin/units/{unit['id']}/agreement", body), 403, "FORBIDDEN")
    assert [u["id"] for u in r.other.admin.get("/v1/admin/units").json["items"]] == []


@pytest.mark.parametrize("valid_until", ["today", "yesterday", "0001-01-01", "9999-12-31", "2026-02-30",
                                         "2026-1-01", "five_years_and_a_day", ""])
def test_valid_until_out_of_range_is_refused(r, valid_until):
    unit = r.unit()
    value = {"today": days_ahead(0), "yesterday": days_ahead(-1),
             "five_years_and_a_day": (unit_rules.latest_valid_until(utcnow()) + timedelta(days=1)).isoformat()
             }.get(valid_until, valid_until)
    resp = r.c.admin.post(f"/v1/admin/units/{unit['id']}/agreement", {**AGREEMENT, "valid_until": value})
    assert_refused(resp, 400, "VALIDATION_FAILED", "valid_until")


def test_valid_until_at_its_edges_is_kept(r):
    unit = r.unit()
    assert r.agreement(unit["id"], valid_until=days_ahead(1))["valid_until"] == days_ahead(1)
    furthest = unit_rules.latest_valid_until(utcnow()).isoformat()
    assert r.agreement(unit["id"], valid_until=furthest)["valid_until"] == furthest


@pytest.mark.parametrize("field, value", [
    ("pledges", []), ("pledges", ["承诺"] * 11), ("pledges", ["   "]), ("pledges", ["长" * 101]), ("pledges", "一条"),
    ("activities_per_quarter", 0), ("activities_per_quarter", 21), ("activities_per_quarter", "2"),
])
def test_an_agreement_with_bad_fields_is_refused(r, field, value):
    unit = r.unit()
    body = {**AGREEMENT, "valid_until": days_ahead(10), field: value}
    resp = r.c.admin.post(f"/v1/admin/units/{unit['id']}/agreement", body)
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert resp.json["error"]["details"]["field"].startswith(field)


def test_an_agreement_at_its_limits_is_kept_and_risky_pledges_refused(r):
    unit = r.unit()
    signed = r.agreement(unit["id"], pledges=["长" * 100] * 10, activities_per_quarter=20)
    assert len(signed["pledges"]) == 10 and signed["activities_per_quarter"] == 20
    assert r.agreement(unit["id"], activities_per_quarter=1)["activities_per_quarter"] == 1
    resp = r.c.admin.post(f"/v1/admin/units/{unit['id']}/agreement",
                          {**AGREEMENT, "pledges": ["违禁承诺"], "valid_until": days_ahead(10)})
    assert_refused(resp, 400, "CONTENT_REJECTED")


def test_an_agreement_lapses_after_its_last_day(r):
    unit = r.unit()
    r.agreement(unit["id"], valid_until=days_ahead(1))
    assert r.c.admin.get("/v1/admin/units").json["items"][0]["agreement"]["valid"] is True
    with travel(timedelta(days=2)):
        admin = r.c.admin.relogin()
        assert admin.get("/v1/admin/units").json["items"][0]["agreement"]["valid"] is False
        assert admin.get(f"/v1/units/{unit['id']}").status == 200  # the community's record of it stays


# --- who sees a unit -------------------------------------------------------------------------------------------

def test_who_sees_a_unit_and_its_resources(r):
    unit, other_unit = r.unit(), r.unit(name="别的单位")
    liaison, other_liaison = r.liaison(unit["id"]), r.liaison(other_unit["id"])
    for path in (f"/v1/units/{unit['id']}", f"/v1/units/{unit['id']}/resources"):
        assert liaison.get(path).status == 200 and r.staff.get(path).status == 200
        assert_refused(other_liaison.get(path), 404, "NOT_FOUND")
        assert_refused(r.other_staff.get(path), 404, "NOT_FOUND")
        assert_refused(r.c.admin.get(path), 404, "NOT_FOUND")  # no agreement yet
        assert_refused(r.c.resident().get(path), 403, "FORBIDDEN")
        assert_refused(r.api.login().get(path), 403, "FORBIDDEN")
    r.agreement(unit["id"])
    assert r.c.admin.get(f"/v1/units/{unit['id']}/resources").status == 200
    assert_refused(r.other.admin.get(f"/v1/units/{unit['id']}"), 404, "NOT_FOUND")
    assert_refused(other_liaison.post(f"/v1/units/{unit['id']}/resources", RESOURCE), 403, "FORBIDDEN")
    assert_refused(r.staff.post(f"/v1/units/{unit['id']}/resources", RESOURCE), 403, "FORBIDDEN")
    assert_refused(r.c.admin.get(f"/v1/units/{unit['id']}/agreements"), 403, "FORBIDDEN")
    assert_refused(other_liaison.get(f"/v1/units/{unit['id']}/agreements"), 404, "NOT_FOUND")
    assert_refused(r.other_staff.get(f"/v1/units/{unit['id']}/agreements"), 404, "NOT_FOUND")


# --- 资源清单 -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [("capacity", 0), ("capacity", -1), ("capacity", "5"), ("title", " "),
                                          ("title", "t" * 41), ("description", ""), ("description", "d" * 501)])
def test_a_resource_with_bad_fields_is_refused(r, field, value):
    unit = r.unit()
    liaison = r.liaison(unit["id"])
    assert_refused(liaison.post(f"/v1/units/{unit['id']}/resources", {**RESOURCE, field: value}), 400,
                   "VALIDATION_FAILED", field)


def test_resources_at_their_limits_page_and_risky_ones_are_refused(r):
    unit = r.unit()
    liaison = r.liaison(unit["id"])
    edge = {"title": "t" * 40, "description": "第一行\n第二行" + "d" * 490, "capacity": 1}
    made = [liaison.post(f"/v1/units/{unit['id']}/resources", edge).json["id"] for _ in range(3)]
    assert_refused(liaison.post(f"/v1/units/{unit['id']}/resources", {**RESOURCE, "title": "违禁"}), 400,
                   "CONTENT_REJECTED")
    first = liaison.get(f"/v1/units/{unit['id']}/resources?limit=2").json
    assert r.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}, r.api.last_meter.dynamo
    rest = liaison.get(f"/v1/units/{unit['id']}/resources?limit=2&cursor={first['next_cursor']}").json
    assert [x["id"] for x in first["items"] + rest["items"]] == made and rest["next_cursor"] is None
    assert r.staff.get(f"/v1/units/{unit['id']}").json["resource_count"] == 3


# --- exact call counts -----------------------------------------------------------------------------------------

def test_call_counts(r):
    api = r.api
    key = {"Idempotency-Key": str(uuid.uuid4())}
    resp = r.staff.post("/v1/street/units", UNIT, headers=key)
    assert resp.status == 201
    assert api.last_meter.dynamo == {"BatchGetItem": 1, "TransactWriteItems": 1}, api.last_meter.dynamo
    assert sum(api.last_meter.wechat.values()) == 1
    unit_id = resp.json["id"]
    r.staff.post(f"/v1/street/units/{unit_id}/invites")
    assert api.last_meter.dynamo == {"GetItem": 2, "TransactWriteItems": 1}, api.last_meter.dynamo
    code = r.invite(unit_id)["code"]
    person = api.login()
    person.post("/v1/me/unit", {"invite": code})
    assert api.last_meter.dynamo == {"GetItem": 2, "TransactWriteItems": 1}, api.last_meter.dynamo
    r.agreement(unit_id)
    assert api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}, api.last_meter.dynamo
    r.c.admin.get("/v1/admin/units")
    assert api.last_meter.dynamo == {"GetItem": 2, "Query": 1, "BatchGetItem": 1}, api.last_meter.dynamo
    person.post(f"/v1/units/{unit_id}/resources", RESOURCE)
    assert api.last_meter.dynamo == {"GetItem": 1, "TransactWriteItems": 1}, api.last_meter.dynamo
    person.get(f"/v1/units/{unit_id}")
    assert api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1}, api.last_meter.dynamo
    person.get(f"/v1/units/{unit_id}/agreements")
    assert api.last_meter.dynamo == {"GetItem": 1, "Query": 1}, api.last_meter.dynamo
    r.staff.get(f"/v1/units/{unit_id}/agreements")
    assert api.last_meter.dynamo == {"GetItem": 2, "Query": 1}, api.last_meter.dynamo


def test_the_demo_seed_has_a_unit_with_its_liaison_agreement_and_resources(api):
    """infra/local/seed.py: 同心区人民医院 of the demo street, unit1 its liaison, an agreement with the demo community."""
    from infra.local import seed
    seed.seed()
    unit1, admin, street1 = api.login("unit1"), api.login("admin"), api.login("street1")
    assert unit1.user["unit_ids"] == [seed.UNIT_ID] and unit1.user["community_id"] is None
    for reader in (unit1, admin, street1):
        unit = reader.get(f"/v1/units/{seed.UNIT_ID}").json
        assert (unit["name"], unit["kind"], unit["agreement_count"], unit["resource_count"]) == \
            ("同心区人民医院", "医院", 1, 2)
        assert len(reader.get(f"/v1/units/{seed.UNIT_ID}/resources").json["items"]) == 2
    listed = admin.get("/v1/admin/units").json["items"]
    assert [(u["id"], u["agreement"]["valid"]) for u in listed] == [(seed.UNIT_ID, True)]
    assert unit1.post(f"/v1/units/{seed.UNIT_ID}/resources", RESOURCE).status == 201
