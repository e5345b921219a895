"""三张清单's 岗位/需求清单 and 领岗 (issue 23, part C) over HTTP: an admin publishes posts with a headcount; party
members of the community and liaisons of units co-building with it claim them, one transaction each (the headcount
held, one claim per person, the grant re-checked); the claim counts a ``post`` service on the claimer's record; a
claimant may give the post back before its due date; the admin closes it. Edges: headcount 1 and 100 (0 and 101
refused), due in the past / beyond a year / year 1 and 9999, text empty after trimming and at its maximum."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api.test_requests import all_pages, messages
from tests.support import make_community
from tongxin.adapters.dynamo.models import PostClaimModel, PostModel
from tongxin.domain.clock import to_api, travel, utcnow
from tongxin.domain.party import quarter_of
from tongxin.usecases import service_record, streets

POST = {"title": "文明劝导员", "description": "周末在小区门口劝导不文明养犬行为", "skills": ["沟通"], "headcount": 5}


@pytest.fixture(scope="module")
def c(api, fresh_tables_per_module):
    return make_community(api)


@pytest.fixture(scope="module")
def other(api, fresh_tables_per_module):
    return make_community(api)


def party_member(community):
    return community.with_roles(community.resident(0), ["party_member"])


def publish(community, **changes):
    resp = community.admin.post("/v1/admin/posts", {**POST, **changes})
    assert resp.status == 201, resp.body
    return resp.json


def services(user_id: str, at=None) -> dict:
    """The member's service record of the quarter of ``at`` (now): part A's counters, read as the assessment reads."""
    quarter = quarter_of(at or utcnow())
    return service_record.read([(user_id, quarter)]).get((user_id, quarter), {})


# --- publishing -------------------------------------------------------------------------------------------------

def test_an_admin_publishes_a_post_and_members_see_it(c):
    post = publish(c, title="楼栋长", headcount=2, skills=["沟通", "组织", "沟通"])
    assert (post["status"], post["headcount"], post["claimed_count"], post["places_left"]) == ("open", 2, 0, 2)
    assert post["skills"] == ["沟通", "组织"] and post["due"] is None and post["past_due"] is False
    assert post["mine"] is False and post["created_by"]["id"] == c.admin.id and post["community_id"] == c.id
    resident = c.resident(1)
    listed = resident.get("/v1/posts")
    assert listed.status == 200 and listed.json["items"][0]["id"] == post["id"]
    detail = resident.get(f"/v1/posts/{post['id']}")
    assert detail.status == 200 and detail.json["claimants"] == [] and detail.json["title"] == "楼栋长"


@pytest.mark.parametrize("headcount, status", [(1, 201), (100, 201), (0, 400), (101, 400), (-1, 400)])
def test_headcount_edges(c, headcount, status):
    resp = c.admin.post("/v1/admin/posts", {**POST, "headcount": headcount})
    assert resp.status == status, resp.body
    if status == 400:
        assert resp.error_code == "VALIDATION_FAILED" and resp.json["error"]["details"]["field"] == "headcount"


@pytest.mark.parametrize("field, value", [
    ("title", "   "), ("title", "\u200b \u3000"), ("title", "岗" * 31), ("title", "两\n行"),
    ("description", ""), ("description", "述" * 501), ("skills", ["技能" * 6]), ("skills", ["能"] * 11),
    ("headcount", "5"), ("due", "0001-01-01T00:00:00+08:00"), ("due", "9999-12-31T23:59:59+08:00"),
    ("due", "2026-13-45"), ("due", "2027-01-01"),
])
def test_bad_input_is_400_naming_the_field(c, field, value):
    resp = c.admin.post("/v1/admin/posts", {**POST, field: value})
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert resp.json["error"]["details"]["field"].split(".")[0] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json["error"]["message"])  # told in Chinese


def test_text_at_its_maximum_is_taken(c):
    post = publish(c, title="岗" * 30, description="述" * 500, skills=["能" * 10] * 1 + [f"技{i}" for i in range(9)])
    assert len(post["title"]) == 30 and len(post["skills"]) == 10


@pytest.mark.parametrize("ahead, status", [(timedelta(seconds=-1), 400), (timedelta(days=367), 400),
                                           (timedelta(minutes=5), 201), (timedelta(days=365), 201)])
def test_due_must_be_after_now_and_within_a_year(c, ahead, status):
    resp = c.admin.post("/v1/admin/posts", {**POST, "due": to_api(utcnow() + ahead)})
    assert resp.status == status, resp.body
    if status == 400:
        assert resp.json["error"]["details"]["field"] == "due"


def test_risky_text_is_refused_before_anything_is_written(c):
    before = c.admin.get("/v1/posts").json["items"]
    resp = c.admin.post("/v1/admin/posts", {**POST, "description": "这里有违禁内容"})
    assert resp.status == 400 and resp.error_code == "CONTENT_REJECTED"
    assert c.admin.get("/v1/posts").json["items"] == before


def test_only_the_admin_publishes(c, other):
    for who in (c.resident(0), party_member(c), c.grid_worker(0)):
        assert who.post("/v1/admin/posts", POST).status == 403
    assert c.api.login().post("/v1/admin/posts", POST).error_code == "NOT_IN_COMMUNITY"
    mine = publish(other)  # another community's admin publishes in their own community only
    assert mine["community_id"] == other.id


# --- claiming ---------------------------------------------------------------------------------------------------

def test_the_flow_claim_fill_withdraw_close(c):
    post = publish(c, title="政策宣传员", headcount=2)
    pid = post["id"]
    a, b, late = party_member(c), party_member(c), party_member(c)
    first = a.post(f"/v1/posts/{pid}/claim")
    assert first.status == 200, first.body
    assert (first.json["claimed_count"], first.json["status"], first.json["mine"]) == (1, "open", True)
    assert services(a.id) == {"services": 1, "post": 1}
    again = a.post(f"/v1/posts/{pid}/claim")  # the same call twice
    assert again.status == 409 and again.error_code == "ALREADY_CLAIMED" and "岗位" in again.json["error"]["message"]
    second = b.post(f"/v1/posts/{pid}/claim")
    assert (second.json["claimed_count"], second.json["status"], second.json["places_left"]) == (2, "full", 0)
    full = late.post(f"/v1/posts/{pid}/claim")
    assert full.status == 409 and full.error_code == "POST_FULL"
    told = messages(c.admin.id, "post_full")
    assert [m.data["post_id"] for m in told] == [pid] and told[0].data["title"] == "政策宣传员"
    assert not messages(a.id, "post_full")  # the admins only
    assert services(late.id) == {}
    # The claimants: masked for members, whole for the admin and for oneself; the list says mine.
    seen = late.get(f"/v1/posts/{pid}").json
    assert [x["user"]["id"] for x in seen["claimants"]] == [a.id, b.id] and seen["mine"] is False
    assert all(x["user"]["nickname"].endswith("*") and x["role"] == "party_member" for x in seen["claimants"])
    admin_view = c.admin.get(f"/v1/posts/{pid}").json
    assert [x["user"]["nickname"] for x in admin_view["claimants"]] == [a.user["nickname"], b.user["nickname"]]
    own = a.get(f"/v1/posts/{pid}").json
    assert own["mine"] is True and own["claimants"][0]["user"]["nickname"] == a.user["nickname"]
    listed = {p["id"]: p for p in a.get("/v1/posts").json["items"]}
    assert listed[pid]["mine"] is True and listed[pid]["claimed_count"] == 2
    assert {p["id"] for p in a.get("/v1/posts?status=full").json["items"]} == {pid}
    # A withdrawal frees the place (full → open) and takes the service back; the late one then gets it and the
    # post fills again: the admins are told again.
    back = a.post(f"/v1/posts/{pid}/withdraw")
    assert (back.status, back.json["status"], back.json["claimed_count"], back.json["mine"]) == (200, "open", 1, False)
    assert services(a.id) == {"services": 0, "post": 0}
    assert a.post(f"/v1/posts/{pid}/withdraw").error_code == "INVALID_STATE"  # twice: holds no claim now
    assert pid in {p["id"] for p in a.get("/v1/posts?status=open").json["items"]}
    assert late.post(f"/v1/posts/{pid}/claim").json["status"] == "full"
    assert len(messages(c.admin.id, "post_full")) == 2
    # Closed: no claims, no withdrawals; the claims stay.
    closed = c.admin.post(f"/v1/admin/posts/{pid}/close")
    assert closed.status == 200 and closed.json["status"] == "closed"
    assert c.admin.post(f"/v1/admin/posts/{pid}/close").error_code == "INVALID_STATE"
    assert a.post(f"/v1/posts/{pid}/claim").error_code == "INVALID_STATE"
    assert b.post(f"/v1/posts/{pid}/withdraw").error_code == "INVALID_STATE"
    assert len(c.admin.get(f"/v1/posts/{pid}").json["claimants"]) == 2
    assert {p["id"] for p in a.get("/v1/posts?status=closed").json["items"]} == {pid}
    assert PostClaimModel.count(pid) == 2 and PostModel.get(pid).claimed_count == 2


def test_headcount_one_and_a_hundred(c):
    one = publish(c, headcount=1)
    a, b = party_member(c), party_member(c)
    assert a.post(f"/v1/posts/{one['id']}/claim").json["status"] == "full"
    assert b.post(f"/v1/posts/{one['id']}/claim").error_code == "POST_FULL"
    hundred = publish(c, headcount=100)
    assert a.post(f"/v1/posts/{hundred['id']}/claim").json["places_left"] == 99


def test_a_claim_after_the_due_date_is_refused(c):
    post = publish(c, due=to_api(utcnow() + timedelta(hours=1)))
    a, b = party_member(c), party_member(c)
    assert a.post(f"/v1/posts/{post['id']}/claim").status == 200
    with travel(timedelta(hours=2)):
        late = b.post(f"/v1/posts/{post['id']}/claim")
        assert late.status == 409 and late.error_code == "INVALID_STATE"
        assert a.post(f"/v1/posts/{post['id']}/withdraw").error_code == "INVALID_STATE"
        assert b.get(f"/v1/posts/{post['id']}").json["past_due"] is True
    assert services(a.id)["post"] == 1


def test_a_party_member_whose_role_was_taken_in_between_is_refused(c):
    post = publish(c)
    member = party_member(c)
    # The role is taken away after the member signed in; the token still says party_member.
    resp = c.admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": ["volunteer"]})
    assert resp.status == 200, resp.body
    refused = member.post(f"/v1/posts/{post['id']}/claim")
    assert refused.status == 403 and refused.error_code == "FORBIDDEN"
    assert PostModel.get(post["id"]).claimed_count == 0 and services(member.id) == {}
    # Given back: the same person claims.
    c.with_roles(member, ["party_member"])
    assert member.post(f"/v1/posts/{post['id']}/claim").status == 200


def test_who_may_claim(c, other):
    post = publish(c)
    for who in (c.resident(0), c.volunteer(0), c.grid_worker(0)):
        assert who.post(f"/v1/posts/{post['id']}/claim").status == 403, who.user["roles"]
    stranger = party_member(other)  # a party member of another community: the post does not exist for them
    assert stranger.post(f"/v1/posts/{post['id']}/claim").status == 404
    assert stranger.get(f"/v1/posts/{post['id']}").status == 404
    assert stranger.post(f"/v1/posts/{post['id']}/withdraw").status == 404
    assert other.admin.post(f"/v1/admin/posts/{post['id']}/close").status == 404
    assert stranger.post("/v1/posts/pst_nothing/claim").status == 404
    assert c.api.login().post(f"/v1/posts/{post['id']}/claim").error_code == "NOT_IN_COMMUNITY"
    assert post["id"] not in {p["id"] for p in all_pages(other.admin, "/v1/posts")}


def test_the_list_is_newest_first_in_pages(c):
    fresh = make_community(c.api)
    made = [publish(fresh, title=f"岗位{i}")["id"] for i in range(5)]
    member = fresh.resident(0)
    first = member.get("/v1/posts?limit=2")
    assert first.status == 200 and len(first.json["items"]) == 2 and first.json["next_cursor"]
    assert member.api.last_meter.reads <= 3
    assert [p["id"] for p in all_pages(member, "/v1/posts?limit=2")] == made[::-1]
    assert member.get("/v1/posts?status=full").json == {"items": [], "next_cursor": None}
    assert member.get("/v1/posts?status=taken").status == 400
    forged = member.get(f"/v1/posts?cursor={first.json['next_cursor']}x")
    assert forged.status == 400 and forged.json["error"]["details"]["field"] == "cursor"


# --- call counts ------------------------------------------------------------------------------------------------

def test_exact_calls(c):
    admin = c.admin
    resp = admin.post("/v1/admin/posts", {**POST, "headcount": 2})
    pid = resp.json["id"]
    assert (admin.api.last_meter.reads, admin.api.last_meter.writes) == (1, 1)  # the caller; the Put
    a, b = party_member(c), party_member(c)
    a.post(f"/v1/posts/{pid}/claim")
    assert (a.api.last_meter.reads, a.api.last_meter.writes) == (2, 1)  # the caller, post + claim; one transaction
    b.post(f"/v1/posts/{pid}/claim")  # the filling claim: the same
    assert (b.api.last_meter.reads, b.api.last_meter.writes) == (2, 1)
    b.get("/v1/posts")
    assert (b.api.last_meter.reads, b.api.last_meter.writes) == (3, 0)  # the caller, one Query, my claims
    b.get(f"/v1/posts/{pid}")
    assert (b.api.last_meter.reads, b.api.last_meter.writes) == (3, 0)  # the caller, the post, its claims
    b.post(f"/v1/posts/{pid}/withdraw")
    assert (b.api.last_meter.reads, b.api.last_meter.writes) == (2, 1)
    admin.post(f"/v1/admin/posts/{pid}/close")
    assert (admin.api.last_meter.reads, admin.api.last_meter.writes) == (2, 1)


def test_a_replayed_claim_answers_the_first_answer_and_counts_once(c):
    post = publish(c)
    member = party_member(c)
    key = {"Idempotency-Key": "3f0c1c2e-8a0f-4a53-9a55-2f1d5d6f8a11"}
    first = member.post(f"/v1/posts/{post['id']}/claim", headers=key)
    again = member.post(f"/v1/posts/{post['id']}/claim", headers=key)
    assert first.status == again.status == 200 and first.json == again.json
    assert PostModel.get(post["id"]).claimed_count == 1 and services(member.id)["post"] == 1


# --- unit liaisons (共建单位联络员) -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def liaison_world(api, c):
    """A street above ``c``, a unit of the street and its liaison (part B's HTTP flow), no agreement yet."""
    street = streets.create_street("领岗街道")["id"]
    streets.attach_community(street, c.id)
    staff = api.login()
    streets.add_staff(street, staff.id)
    staff.relogin()
    unit = staff.post("/v1/street/units", {"name": "同心供电所", "kind": "企业", "contact_name": "李经理",
                                           "contact_phone": "13800001111"})
    assert unit.status == 201, unit.body
    unit_id = unit.json["id"]
    code = staff.post(f"/v1/street/units/{unit_id}/invites")
    assert code.status == 201, code.body
    liaison = api.login()
    joined = liaison.post("/v1/me/unit", {"invite": code.json["code"]})
    assert joined.status == 200, joined.body
    liaison.relogin()
    return {"unit_id": unit_id, "liaison": liaison, "staff": staff}


def test_a_liaison_claims_only_with_an_agreement_in_force(c, liaison_world):
    liaison, unit_id = liaison_world["liaison"], liaison_world["unit_id"]
    post = publish(c, title="共建志愿岗")
    refused = liaison.post(f"/v1/posts/{post['id']}/claim")
    assert refused.status == 403, refused.body  # no agreement with the community yet
    assert liaison.get(f"/v1/posts?community_id={c.id}").status == 403
    assert liaison.get("/v1/posts").error_code == "NOT_IN_COMMUNITY"
    until = (date.today() + timedelta(days=365)).isoformat()
    signed = c.admin.post(f"/v1/admin/units/{unit_id}/agreement",
                          {"pledges": ["每季度开展一次义务维修"], "activities_per_quarter": 1, "valid_until": until})
    assert signed.status == 201, signed.body
    listed = liaison.get(f"/v1/posts?community_id={c.id}")
    assert listed.status == 200 and post["id"] in {p["id"] for p in listed.json["items"]}
    claimed = liaison.post(f"/v1/posts/{post['id']}/claim")
    assert claimed.status == 200 and claimed.json["mine"] is True, claimed.body
    detail = c.admin.get(f"/v1/posts/{post['id']}").json
    assert detail["claimants"][0]["role"] == "unit_liaison" and detail["claimants"][0]["unit_id"] == unit_id
    assert liaison.post(f"/v1/posts/{post['id']}/claim").error_code == "ALREADY_CLAIMED"
    assert liaison.post(f"/v1/posts/{post['id']}/claim", {"unit_id": "u_notmine"}).status == 403
    assert services(liaison.id)["post"] == 1
    # Past the agreement's last day the unit no longer co-builds: no claim, no list.
    later = publish(c, title="下一季岗位")
    with travel(timedelta(days=367)):
        assert liaison.post(f"/v1/posts/{later['id']}/claim").status == 403
        assert liaison.get(f"/v1/posts?community_id={c.id}").status == 403
