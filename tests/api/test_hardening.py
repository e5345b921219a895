"""Issue 6: each defect found from outside, reproduced as the sequence that found it.

Every test here failed on the code before the fix (roles changed once, a far-future date poisoning lists,
deleted accounts reading, stale roles in a list, personal data left after 注销, revocation that did not stick,
500s from client input, grid scope, farming points, control characters).
"""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.http import ROUTES
from tongxin.adapters.dynamo.models import GridModel, LedgerEntryModel, UserModel, WishModel
from tongxin.domain.clock import utcnow

WISH = {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮", "category": "维修",
        "contact_phone": "13812345678", "address": "幸福小区3栋2单元501"}
CHECKS = "/wxa/msg_sec_check"


def publish(member, **overrides):
    resp = member.post("/v1/wishes", {**WISH, **overrides})
    assert resp.status == 201, resp.body
    return resp.json


# --- 2. roles change as often as needed -------------------------------------------------------------

def test_roles_change_again_and_again_in_any_order(community):
    member = community.resident(0)
    path = f"/v1/admin/members/{member.id}/roles"
    g0, g1 = community.grid_ids
    steps = [
        ({"roles": ["grid_worker", "admin"], "grid_ids": [g0]}, {"grid_worker", "admin"}, {g0}),
        ({"roles": ["grid_worker"], "grid_ids": [g1]}, {"grid_worker"}, {g1}),
        ({"roles": []}, set(), set()),  # the admin granted by mistake is removed
        ({"roles": []}, set(), set()),  # the same change twice
        ({"roles": ["admin"]}, {"admin"}, set()),
        ({"roles": ["grid_worker", "volunteer"], "grid_ids": [g0, g1]}, {"grid_worker", "volunteer"}, {g0, g1}),
        ({"roles": ["volunteer"]}, {"volunteer"}, set()),
    ]
    for body, roles, grids in steps:
        resp = community.admin.put(path, body)
        assert resp.status == 200, (body, resp.body)
        assert set(resp.json["roles"]) == roles | {"resident"} and set(resp.json["grid_ids"]) == grids
        stored = UserModel.get(member.id, consistent_read=True)
        assert set(stored.roles) == roles | {"resident"} and set(stored.grid_ids or ()) == grids
        for gid in (g0, g1):
            workers = GridModel.get(community.id, gid).worker_ids or set()
            assert (member.id in workers) == (gid in grids)
        assert set(member.get("/v1/me").json["roles"]) == roles | {"resident"}


def test_roles_as_read_from_me_can_be_written_back(community):
    member = community.resident(0)
    path = f"/v1/admin/members/{member.id}/roles"
    me = member.get("/v1/me").json
    assert "resident" in me["roles"]
    resp = community.admin.put(path, {"roles": me["roles"] + ["volunteer"]})
    assert resp.status == 200 and set(resp.json["roles"]) == {"resident", "volunteer"}
    back = community.admin.put(path, {"roles": [r for r in resp.json["roles"] if r != "volunteer"]})
    assert back.status == 200 and back.json["roles"] == ["resident"]


def test_scopes_are_bounded_so_the_transaction_stays_under_100_items(community):
    member = community.resident(0)
    resp = community.admin.put(f"/v1/admin/members/{member.id}/roles", {
        "roles": ["grid_worker", "store_keeper"], "grid_ids": [f"g_{i}" for i in range(50)],
        "store_ids": [f"s_{i}" for i in range(50)]})
    assert resp.status == 400 and resp.json["error"]["details"]["field"] in ("grid_ids", "store_ids")
    grids = [community.admin.post("/v1/admin/grids", {"name": f"网格{i}"}).json["id"] for i in range(20)]
    first = community.admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": ["grid_worker"], "grid_ids": grids})
    assert first.status == 200 and len(first.json["grid_ids"]) == 20
    # leave 20 grids and join 20 others in one change: 1 + 20 + 20 items, well inside the limit
    others = [community.admin.post("/v1/admin/grids", {"name": f"新网格{i}"}).json["id"] for i in range(20)]
    moved = community.admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": ["grid_worker"], "grid_ids": others})
    assert moved.status == 200 and set(moved.json["grid_ids"]) == set(others)


def test_roles_written_as_null_by_the_old_code_can_be_changed(community):
    member = community.resident(0)
    from pynamodb.expressions.operand import Path
    from pynamodb.expressions.update import SetAction
    from pynamodb.expressions.operand import Value
    from pynamodb.attributes import NullAttribute
    # the old code wrote NULL attributes; such members must not be stuck
    UserModel(member.id).update(actions=[SetAction(Path("grid_ids"), Value(None, attribute=NullAttribute())),
                                         SetAction(Path("store_ids"), Value(None, attribute=NullAttribute()))])
    resp = community.admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": ["volunteer"]})
    assert resp.status == 200, resp.body


# --- 3. far-future and far-past dates -------------------------------------------------------------------

@pytest.mark.parametrize("deadline", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00",
                                      "2100-01-01T00:00:00+08:00"])
def test_dates_at_the_edges_are_refused_and_nothing_is_stored(community, deadline):
    author = community.resident(0)
    key = str(uuid.uuid4())
    for _ in range(2):  # retried with the same key: the same answer, still nothing stored
        resp = author.post("/v1/wishes", {**WISH, "deadline": deadline}, headers={"Idempotency-Key": key})
        assert resp.status == 400 and resp.json["error"]["details"]["field"] == "deadline", resp.body
    assert author.get("/v1/wishes/mine").json["items"] == []


def test_a_deadline_more_than_a_year_ahead_is_refused(community):
    author = community.resident(0)
    too_far = (utcnow() + timedelta(days=400)).isoformat()
    resp = author.post("/v1/wishes", {**WISH, "deadline": too_far})
    assert resp.status == 400 and resp.json["error"]["details"]["field"] == "deadline"
    fine = (utcnow() + timedelta(days=300)).isoformat()
    assert author.post("/v1/wishes", {**WISH, "deadline": fine}).status == 201


def test_a_stored_far_future_date_does_not_poison_the_community(community):
    """Data written before the fix: lists, details and transitions still answer."""
    author, volunteer = community.resident(0), community.volunteer(0)
    wish = publish(author)
    WishModel(wish["id"]).update(actions=[WishModel.deadline.set(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc))])
    listed = volunteer.get("/v1/wishes")
    assert listed.status == 200 and listed.json["items"][0]["deadline"].startswith("9999-12-31")
    assert volunteer.get(f"/v1/wishes/{wish['id']}").status == 200
    assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    assert volunteer.post(f"/v1/wishes/{wish['id']}/release").status == 200


@pytest.mark.parametrize("query", ["from=0001-01-01T00:00:00Z", "to=9999-12-31T23:59:59Z",
                                   "from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59Z"])
def test_stats_window_at_the_edges_is_400(community, query):
    resp = community.admin.get(f"/v1/admin/stats?{query}")
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED"


# --- 4. a deleted account's token does nothing ------------------------------------------------------

def _concrete(path: str) -> str:
    return path.replace("{", "x").replace("}", "")


def test_a_deleted_accounts_token_is_refused_by_every_route(community, wechat):
    author, volunteer = community.resident(0), community.volunteer(0)
    wish = publish(author)
    assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    for member in (author, volunteer):
        token = member.token
        assert member.delete("/v1/me").status == 204
        checks_before = wechat.counters.get(CHECKS, 0)
        for route in ROUTES:
            if route.public:
                continue
            path = _concrete(route.path).replace("xwish_id", wish["id"])
            override = {"X-HTTP-Method-Override": route.override_of} if route.override_of else None
            resp = community.api.request(route.method, path, token=token, headers=override,
                                         json_body=WISH if route.method in ("POST", "PUT", "PATCH") else None)
            assert resp.status == 401 and resp.error_code == "UNAUTHENTICATED", (route.method, route.path, resp.body)
        assert wechat.counters.get(CHECKS, 0) == checks_before  # not one content check spent


# --- 5. a removed role stops showing unpublished wishes in every list ---------------------------------------

def test_removed_grid_worker_no_longer_lists_pending_wishes(community):
    worker = community.grid_worker(0)
    community.set(wish_review_required=True)
    pending = publish(community.resident(0))
    community.set(wish_review_required=False)
    assert pending["id"] in {w["id"] for w in worker.get("/v1/wishes").json["items"]}
    assert community.admin.put(f"/v1/admin/members/{worker.id}/roles", {"roles": []}).status == 200
    assert pending["id"] not in {w["id"] for w in worker.get("/v1/wishes").json["items"]}
    assert worker.get("/v1/wishes?status=pending_review").status == 403
    assert worker.get(f"/v1/wishes/{pending['id']}").status == 404


# --- 6. 注销 erases personal data from what the user wrote ----------------------------------------------

def test_deletion_erases_contact_and_address_from_every_wish_of_the_author(community):
    author, volunteer = community.resident(0), community.volunteer(0)
    open_wish = publish(author)
    done = publish(author)
    assert volunteer.post(f"/v1/wishes/{done['id']}/claim").status == 200
    assert volunteer.post(f"/v1/wishes/{done['id']}/fulfil", {"note": "好了"}).status == 200
    assert author.delete("/v1/me").status == 204
    for wish_id in (open_wish["id"], done["id"]):
        stored = WishModel.get(wish_id, consistent_read=True)
        assert stored.contact_phone is None and stored.address is None
        seen = community.admin.get(f"/v1/wishes/{wish_id}").json
        assert seen["contact_phone"] is None and seen["address"] is None
        assert seen["author"]["nickname"] == "已注销用户"
    assert WishModel.get(open_wish["id"]).status == "cancelled"
    assert volunteer.get(f"/v1/wishes/{done['id']}").json["contact_phone"] is None


# --- 7. a volunteer role an admin took away stays away -------------------------------------------------

def test_revoked_volunteer_cannot_register_again_until_an_admin_grants_it(community):
    member = community.volunteer(0)
    path = f"/v1/admin/members/{member.id}/roles"
    assert community.admin.put(path, {"roles": []}).status == 200
    again = member.post("/v1/me/volunteer", {"real_name": "王志愿", "skills": []})
    assert again.status == 403 and again.json["error"]["details"]["reason"] == "volunteer_revoked"
    assert "volunteer" not in member.get("/v1/me").json["roles"]
    assert community.admin.put(path, {"roles": ["volunteer"]}).status == 200
    update = member.post("/v1/me/volunteer", {"real_name": "王志愿", "skills": ["维修"]})
    assert update.status == 200 and "volunteer" in update.json["user"]["roles"]
    # a role change that keeps volunteer does not revoke it
    assert community.admin.put(path, {"roles": ["volunteer", "admin"]}).status == 200
    assert member.post("/v1/me/volunteer", {"real_name": "王志愿", "skills": []}).status == 200


# --- 8. client input that answered 500 ----------------------------------------------------------------

@pytest.mark.parametrize("invite", ["inv=", "inv=    ", "inv=ab", "inv=ABC$%^", "  "])
def test_malformed_invites_are_400(api, invite):
    member = api.login()
    resp = member.post("/v1/me/community", {"invite": invite})
    assert resp.status == 400 and resp.json["error"]["details"]["field"] == "invite", resp.body


@pytest.mark.parametrize("depth", [100, 1000, 5000])
def test_deeply_nested_bodies_with_an_idempotency_key_are_400(community, depth):
    author = community.resident(0)
    body = '{"title": ' + "[" * depth + "]" * depth + "}"
    for method, path in (("POST", "/v1/wishes"), ("POST", "/v1/me/volunteer"),
                         ("PUT", f"/v1/admin/members/{author.id}/roles")):
        resp = community.api.request(method, path, raw=body, token=author.token,
                                     headers={"Idempotency-Key": str(uuid.uuid4())})
        assert resp.status in (400, 403), (path, depth, resp.body[:200])


# --- 9. grid scope: list and detail follow one rule ----------------------------------------------------

def test_a_wish_with_no_grid_is_reviewed_by_admins_only(community):
    community.set(wish_review_required=True)
    gridless = publish(community.admin)  # the founding admin joined no grid
    assert gridless["grid_id"] is None and gridless["status"] == "pending_review"
    worker = community.grid_worker(0)
    refused = worker.post(f"/v1/wishes/{gridless['id']}/approve")
    assert refused.status in (403, 404)
    assert worker.get(f"/v1/wishes/{gridless['id']}").status == 404
    assert gridless["id"] not in {w["id"] for w in worker.get("/v1/wishes?status=pending_review").json["items"]}
    assert community.admin.post(f"/v1/wishes/{gridless['id']}/approve").status == 200


def test_grid_workers_list_exactly_the_unpublished_wishes_they_may_open(community):
    community.set(wish_review_required=True)
    mine, theirs = publish(community.resident(0)), publish(community.resident(1))
    worker = community.grid_worker(0)
    for query in ("", "?status=pending_review"):
        listed = {w["id"] for w in worker.get(f"/v1/wishes{query}").json["items"]}
        assert mine["id"] in listed and theirs["id"] not in listed, query
    assert worker.get(f"/v1/wishes/{mine['id']}").status == 200
    assert worker.get(f"/v1/wishes/{theirs['id']}").status == 404
    admin_listed = {w["id"] for w in community.admin.get("/v1/wishes?status=pending_review").json["items"]}
    assert {mine["id"], theirs["id"]} <= admin_listed


# --- 10. user text -------------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("title", "灯坏了\u202e87654321"), ("title", "灯\n坏了"), ("title", "灯\x07坏了"), ("content", "内容\x00"),
    ("content", "内容\u2066隔离"), ("content", "内容\x85C1"), ("address", "3栋\r\n2单元"), ("title", "\u3000 \t"),
])
def test_control_and_bidi_characters_are_refused(community, field, value):
    resp = community.resident(0).post("/v1/wishes", {**WISH, field: value})
    assert resp.status == 400 and resp.json["error"]["details"]["field"] == field, resp.body


def test_multi_line_text_keeps_newlines_and_tabs(community):
    wish = publish(community.resident(0), content="第一行\n第二行\t缩进\r\n第三行")
    assert wish["content"] == "第一行\n第二行\t缩进\r\n第三行"


def test_nickname_refuses_bidi_override(api):
    member = api.login()
    resp = member.patch("/v1/me", {"nickname": "管理员\u202e"})
    assert resp.status == 400 and resp.json["error"]["details"]["field"] == "nickname"


# --- 11. fairness: points farming --------------------------------------------------------------------

def _confirm_story(author, claimer):
    wish = publish(author)
    assert claimer.post(f"/v1/wishes/{wish['id']}/claim").status == 200, wish
    assert claimer.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "好了"}).status == 200
    resp = author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 5})
    assert resp.status == 200, resp.body
    return resp.json


def test_one_author_claimer_pair_earns_points_three_times_a_month(community):
    author, claimer = community.resident(0), community.volunteer(0)
    confirmed = [_confirm_story(author, claimer) for _ in range(4)]
    assert [w["points_awarded"] for w in confirmed] == [20, 20, 20, 0]
    assert UserModel.get(claimer.id, consistent_read=True).points_balance == 60
    notes = {e.entry_key: e for e in LedgerEntryModel.query(claimer.id)}
    last = notes[f"wish#{confirmed[-1]['id']}#confirm"]
    assert last.amount == 0 and "上限" in last.note
    assert sum(e.amount for e in notes.values()) == 60


def test_a_claimer_earns_wish_points_five_times_a_day(community):
    claimer = community.volunteer(0)
    authors = [community.resident(0) for _ in range(6)]
    confirmed = [_confirm_story(author, claimer) for author in authors]
    assert [w["points_awarded"] for w in confirmed] == [20] * 5 + [0]
    passbook = claimer.get("/v1/me").json
    assert passbook["points_balance"] == 100


def test_publishing_is_capped_per_day_before_wechat_is_asked(community, wechat):
    author = community.resident(0)
    community.set(wish_publish_daily_cap=3)
    for _ in range(3):
        publish(author)
    checks = wechat.counters.get(CHECKS, 0)
    resp = author.post("/v1/wishes", WISH)
    assert resp.status == 429 and resp.error_code == "RATE_LIMITED"
    assert wechat.counters.get(CHECKS, 0) == checks
    assert len(author.get("/v1/wishes/mine").json["items"]) == 3
    assert publish(community.resident(0))  # another resident is not affected
