"""A unit's liaisons as its street manages them (共建单位联络员): the list (names, since when) and the removal — ONE
transaction taking the unit from the person's ``unit_ids`` and the role ``unit_liaison`` with their last unit; the
unit's ``liaison_ids`` follow. Sequences: the same removal twice, removal of one unit of two, invited again after,
removal by another street's staff, removal of a non-liaison, 注销 after; the open post claims they made as the
unit's liaison stay (they are the person's). Also the invite's answer as every invite code answers."""
from __future__ import annotations

import pytest

from tests.api.test_units import BASE, Region, assert_refused
from tongxin.adapters.dynamo.models import PostClaimModel, PostModel, UnitLiaisonModel, UnitModel, UserModel

LIAISONS = "/v1/street/units/{}/liaisons"


@pytest.fixture
def r(api):
    return Region(api)


def roles(user_id: str) -> set[str]:
    return set(UserModel.get(user_id, consistent_read=True).roles or ())


def test_the_street_lists_its_units_liaisons_with_names_and_since_when(r):
    unit = r.unit()
    assert r.staff.get(LIAISONS.format(unit["id"])).json == {"items": [], "next_cursor": None}
    first = r.liaison(unit["id"])
    second = r.liaison(unit["id"])
    page = r.staff.get(LIAISONS.format(unit["id"]) + "?limit=1")
    assert page.status == 200, page.body
    rest = r.staff.get(LIAISONS.format(unit["id"]) + f"?limit=1&cursor={page.json['next_cursor']}")
    items = page.json["items"] + rest.json["items"]
    assert sorted(x["user"]["id"] for x in items) == sorted([first.id, second.id])
    by_id = {x["user"]["id"]: x for x in items}
    assert by_id[first.id]["user"]["nickname"] == first.user["nickname"]  # staff see the name whole
    assert by_id[first.id]["since"] and by_id[first.id]["unit_id"] == unit["id"]
    # One read of the unit and one Query a page, besides the caller.
    assert dict(r.staff.api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
    # Who else: another street's staff 404, a liaison or a resident 403.
    assert_refused(r.other_staff.get(LIAISONS.format(unit["id"])), 404, "NOT_FOUND")
    assert_refused(first.get(LIAISONS.format(unit["id"])), 403, "FORBIDDEN")
    assert_refused(r.c.resident(0).get(LIAISONS.format(unit["id"])), 403, "FORBIDDEN")
    assert_refused(r.staff.get(LIAISONS.format("unit_nothing")), 404, "NOT_FOUND")


def test_removing_the_last_unit_takes_the_role_and_the_same_call_twice_is_404(r):
    unit = r.unit()
    person = r.liaison(unit["id"])
    path = LIAISONS.format(unit["id"]) + f"/{person.id}"
    resp = r.staff.delete(path)
    assert resp.status == 204, resp.body
    assert dict(r.staff.api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    stored = UserModel.get(person.id, consistent_read=True)
    assert "unit_liaison" not in (stored.roles or ()) and not stored.unit_ids
    assert not UnitModel.get(unit["id"], consistent_read=True).liaison_ids
    assert r.staff.get(LIAISONS.format(unit["id"])).json["items"] == []
    # At once: the removed liaison acts no more.
    assert_refused(person.post(f"/v1/units/{unit['id']}/resources",
                               {"title": "义诊", "description": "周六", "capacity": 5}), 403, "FORBIDDEN")
    again = r.staff.delete(path)  # the same call twice
    assert_refused(again, 404, "NOT_FOUND", "user_id")
    assert "联络员" in again.json["error"]["message"]
    # Invited again: a liaison again, listed again.
    r.liaison(unit["id"], person)
    assert "unit_liaison" in roles(person.id)
    assert [x["user"]["id"] for x in r.staff.get(LIAISONS.format(unit["id"])).json["items"]] == [person.id]


def test_removing_one_unit_of_two_keeps_the_role_and_the_other_unit(r):
    x, y = r.unit(name="甲单位"), r.unit(name="乙单位", kind="学校")
    person = r.liaison(x["id"])
    r.liaison(y["id"], person)
    assert r.staff.delete(LIAISONS.format(x["id"]) + f"/{person.id}").status == 204
    stored = UserModel.get(person.id, consistent_read=True)
    assert stored.unit_ids == {y["id"]} and "unit_liaison" in stored.roles
    assert person.post(f"/v1/units/{y['id']}/resources", {"title": "场地", "description": "礼堂", "capacity": 100}).status == 201
    assert_refused(person.post(f"/v1/units/{x['id']}/resources", {"title": "场地", "description": "礼堂",
                                                                   "capacity": 100}), 403, "FORBIDDEN")
    # Then the other: the role goes with the last unit.
    assert r.staff.delete(LIAISONS.format(y["id"]) + f"/{person.id}").status == 204
    assert "unit_liaison" not in roles(person.id)


def test_who_may_remove_and_whom(r, api):
    unit = r.unit()
    person = r.liaison(unit["id"])
    path = LIAISONS.format(unit["id"]) + f"/{person.id}"
    assert_refused(r.other_staff.delete(path), 404, "NOT_FOUND")  # another street's staff: no such unit for them
    assert_refused(person.delete(path), 403, "FORBIDDEN")  # the liaison themself is no street staff
    assert_refused(r.c.admin.delete(path), 403, "FORBIDDEN")
    stranger = api.login()
    assert_refused(r.staff.delete(LIAISONS.format(unit["id"]) + f"/{stranger.id}"), 404, "NOT_FOUND", "user_id")
    assert_refused(r.staff.delete(LIAISONS.format(unit["id"]) + "/u_nobody"), 404, "NOT_FOUND", "user_id")
    assert "unit_liaison" in roles(person.id)  # nothing changed
    # A street staff member whose role was taken in between is refused by the transaction's grant check.
    UserModel(r.staff.id).update(actions=[UserModel.street_ids.delete({r.street_id})])
    assert r.staff.delete(path).status == 403
    assert "unit_liaison" in roles(person.id)


def test_a_deleted_liaison_leaves_the_list_and_cannot_be_removed(r):
    unit = r.unit()
    person = r.liaison(unit["id"])
    assert person.delete("/v1/me").status == 204
    assert r.staff.get(LIAISONS.format(unit["id"])).json["items"] == []
    assert_refused(r.staff.delete(LIAISONS.format(unit["id"]) + f"/{person.id}"), 404, "NOT_FOUND")


def test_open_claims_made_as_the_units_liaison_stay_after_the_removal(r):
    unit = r.unit()
    person = r.liaison(unit["id"])
    r.agreement(unit["id"])
    post = r.c.admin.post("/v1/admin/posts", {"title": "共建岗位", "description": "周末值守", "headcount": 2}).json
    claimed = person.post(f"/v1/posts/{post['id']}/claim")
    assert claimed.status == 200, claimed.body
    assert r.staff.delete(LIAISONS.format(unit["id"]) + f"/{person.id}").status == 204
    claim = PostClaimModel.get(post["id"], person.id, consistent_read=True)
    assert claim.unit_id == unit["id"] and PostModel.get(post["id"]).claimed_count == 1  # the person's, kept
    # No longer a liaison: claiming more is refused; giving the kept claim back is still theirs to do.
    other = r.c.admin.post("/v1/admin/posts", {"title": "另一岗位", "description": "周末值守", "headcount": 2}).json
    assert_refused(person.post(f"/v1/posts/{other['id']}/claim"), 409, "NOT_IN_COMMUNITY")  # in no community
    back = person.post(f"/v1/posts/{post['id']}/withdraw")
    assert back.status == 200, back.body
    assert PostModel.get(post["id"]).claimed_count == 0


def test_the_invite_answers_code_url_and_valid_until_and_the_whole_link_is_accepted(r):
    unit = r.unit()
    invite = r.invite(unit["id"])
    assert invite["url"] == f"{BASE}/u/{invite['code']}"
    assert invite["valid_until"] == invite["expires_at"]
    person = r.api.login()
    assert person.post("/v1/me/unit", {"invite": invite["url"]}).status == 200
    record = UnitLiaisonModel.get(unit["id"], person.id)
    assert record.invite_code == invite["code"]


def test_the_invite_as_a_qr_like_the_other_invite_codes(r):
    unit = r.unit()
    invite = r.invite(unit["id"])
    path = f"/v1/street/units/{unit['id']}/invites/{invite['code']}/qrcode"
    as_json = r.staff.get(path + "?format=json")
    assert as_json.status == 200, as_json.body
    assert as_json.json == {"code": invite["code"], "unit_id": unit["id"], "url": invite["url"],
                            "valid_until": invite["valid_until"]}
    assert dict(r.staff.api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1}  # the caller, the invite
    png = r.staff.get(path, headers={"Accept": "image/png"})
    assert png.status == 200 and png.body.startswith(b"\x89PNG")
    svg = r.staff.get(path + "?format=svg", headers={"Accept": "*/*"})
    assert svg.status == 200 and b"<svg" in svg.body
    assert_refused(r.other_staff.get(path + "?format=json"), 404, "NOT_FOUND")  # another street's staff
    other_unit = r.unit(name="别的单位")
    assert_refused(r.staff.get(f"/v1/street/units/{other_unit['id']}/invites/{invite['code']}/qrcode?format=json"),
                   404, "NOT_FOUND", "code")  # not that unit's code
    assert_refused(r.staff.get(path + "?format=gif"), 400, "VALIDATION_FAILED", "format")
    assert_refused(r.c.resident(0).get(path + "?format=json"), 403, "FORBIDDEN")
    # Used (through the whole link its QR carries): no invite any more.
    assert r.api.login().post("/v1/me/unit", {"invite": as_json.json["url"]}).status == 200
    assert_refused(r.staff.get(path + "?format=json"), 404, "NOT_FOUND", "code")


def test_the_demo_seed_lists_its_units_liaison(api):
    """`make dev`: street1 sees unit1 as the liaison of 同心区人民医院."""
    from infra.local import seed
    seed.seed()
    street1, unit1 = api.login("street1"), api.login("unit1")
    items = street1.get(f"/v1/street/units/{seed.UNIT_ID}/liaisons").json["items"]
    assert [(x["user"]["id"], x["user"]["nickname"]) for x in items] == [(unit1.id, "人民医院联络员小陈")]


def test_a_liaisons_roles_read_from_get_me_are_written_back_by_the_admin_and_the_liaison_kept(r):
    """The roles route takes back the list GET /v1/me shows (the liaison's role, not the admin's to give, kept as
    it is); naming a role the admin may not give to someone who does not hold it is refused (400, named)."""
    unit = r.unit()
    person = r.c.resident(0)
    r.liaison(unit["id"], person)
    shown = person.get("/v1/me").json["roles"]
    assert "unit_liaison" in shown
    path = f"/v1/admin/members/{person.id}/roles"
    resp = r.c.admin.put(path, {"roles": shown + ["volunteer"]})
    assert resp.status == 200, resp.body
    assert roles(person.id) >= {"unit_liaison", "volunteer", "resident"}
    resp = r.c.admin.put(path, {"roles": ["resident"]})  # not named: kept all the same (the street's to take)
    assert resp.status == 200 and "unit_liaison" in roles(person.id) and "volunteer" not in roles(person.id)
    other = r.c.resident(0)
    for role in ("unit_liaison", "street_staff"):
        refused = r.c.admin.put(f"/v1/admin/members/{other.id}/roles", {"roles": ["resident", role]})
        assert_refused(refused, 400, "VALIDATION_FAILED", "roles")
        assert refused.json["error"]["details"]["not_assignable"] == [role]
    assert roles(other.id) == {"resident"}
