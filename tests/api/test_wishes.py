"""微心愿: every transition and refusal of the contract, masking, lists, points and messages."""
from datetime import timedelta

import pytest

from tongxin.adapters.dynamo.models import LedgerEntryModel, OutboxModel, UserModel, WishModel
from tongxin.domain.clock import utcnow
from tongxin.usecases import notifications

WISH = {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮，老人晚上下楼不方便", "category": "维修",
        "contact_phone": "13812345678", "address": "幸福小区3栋2单元501"}


@pytest.fixture
def cast(community):
    """The people of one wish story: author, two volunteers, the grid worker, a plain resident."""
    class Cast:
        pass
    c = Cast()
    c.community = community
    c.author = community.resident(0)
    c.vol = community.volunteer(0)
    c.vol2 = community.volunteer(0)
    c.worker = community.grid_worker(0)
    c.resident = community.resident(0)
    return c


def publish(member, **overrides):
    resp = member.post("/v1/wishes", {**WISH, **overrides})
    assert resp.status == 201, resp.body
    return resp.json


def outbox_for(user_id, kind):
    # Test-only look at the outbox table: what the push sender would deliver.
    return [m for m in OutboxModel.scan(OutboxModel.recipient_id == user_id) if m.kind == kind]


# --- publishing ----------------------------------------------------------------------------------

def test_publish_open_by_default(cast):
    wish = publish(cast.author)
    assert wish["status"] == "open" and wish["grid_id"] == cast.community.grid_ids[0]
    assert wish["author"] == {"id": cast.author.id, "nickname": cast.author.user["nickname"]}
    assert wish["claimer"] is None and wish["contact_phone"] == "13812345678"
    assert wish["created_at"].endswith("+08:00")


def test_publish_pending_review_when_community_reviews(cast):
    cast.community.set(wish_review_required=True)
    wish = publish(cast.author)
    assert wish["status"] == "pending_review"
    assert outbox_for(cast.worker.id, "wish_to_review") == []  # one fan-out item, expanded by the scheduler
    notifications.expand_fanouts()
    notifications.expand_fanouts()  # a second expansion adds nothing
    assert [m.data["wish_id"] for m in outbox_for(cast.worker.id, "wish_to_review")] == [wish["id"]]
    tasks = cast.worker.get("/v1/grid/tasks").json["items"]
    assert [(t["id"], t["task"]) for t in tasks] == [(wish["id"], "review")]


def test_risky_text_is_rejected_and_nothing_is_written(cast):
    resp = cast.author.post("/v1/wishes", {**WISH, "content": "这里有违禁内容"})
    assert resp.status == 400 and resp.error_code == "CONTENT_REJECTED"
    assert cast.author.get("/v1/wishes/mine").json["items"] == []


def test_text_wechat_wants_reviewed_waits_for_review_even_without_the_setting(cast):
    wish = publish(cast.author, content="这条内容待审一下")
    assert wish["status"] == "pending_review"


def test_content_check_down_is_503(cast, wechat):
    wechat.set_fault("error", ["wxa/msg_sec_check"])
    resp = cast.author.post("/v1/wishes", WISH)
    assert resp.status == 503 and resp.error_code == "UPSTREAM_UNAVAILABLE"


def test_user_outside_a_community_cannot_publish(api):
    outsider = api.login()
    resp = outsider.post("/v1/wishes", WISH)
    assert resp.status == 409 and resp.error_code == "NOT_IN_COMMUNITY"


@pytest.mark.parametrize("body,field", [
    ({**WISH, "title": "题" * 31}, "title"),
    ({**WISH, "content": "字" * 501}, "content"),
    ({**WISH, "title": ""}, "title"),
    ({**WISH, "title": 123}, "title"),
    ({k: v for k, v in WISH.items() if k != "title"}, "title"),
    ({k: v for k, v in WISH.items() if k != "content"}, "content"),
    ({k: v for k, v in WISH.items() if k != "category"}, "category"),
    ({**WISH, "category": "火箭发射"}, "category"),
    ({**WISH, "contact_phone": "12345"}, "contact_phone"),
    ({**WISH, "contact_phone": 13812345678}, "contact_phone"),
    ({**WISH, "address": "址" * 101}, "address"),
    ({**WISH, "deadline": "2020-01-01T00:00:00+08:00"}, "deadline"),
    ({**WISH, "deadline": "next tuesday"}, "deadline"),
    ({**WISH, "deadline": "2030-01-01T00:00:00"}, "deadline"),
])
def test_publish_bad_input_is_400_naming_the_field(cast, body, field):
    resp = cast.author.post("/v1/wishes", body)
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert resp.json["error"]["details"]["field"] == field


# --- review --------------------------------------------------------------------------------------

def test_grid_worker_approves_and_rejects(cast):
    cast.community.set(wish_review_required=True)
    first, second = publish(cast.author), publish(cast.author)
    approved = cast.worker.post(f"/v1/wishes/{first['id']}/approve")
    assert approved.status == 200 and approved.json["status"] == "open" and approved.json["published_at"]
    rejected = cast.worker.post(f"/v1/wishes/{second['id']}/reject", {"reason": "信息不完整"})
    assert rejected.status == 200 and rejected.json["status"] == "rejected"
    assert rejected.json["reject_reason"] == "信息不完整"
    again = cast.worker.post(f"/v1/wishes/{first['id']}/approve")
    assert again.status == 409 and again.error_code == "INVALID_STATE"
    assert cast.worker.get("/v1/grid/tasks").json["items"] == []
    assert len(outbox_for(cast.author.id, "wish_reviewed")) == 2


def test_review_refusals(cast, api):
    from tests.support import make_community
    cast.community.set(wish_review_required=True)
    wish = publish(cast.author)
    other_grid_worker = cast.community.grid_worker(1)
    assert other_grid_worker.post(f"/v1/wishes/{wish['id']}/approve").status == 403
    assert cast.vol.post(f"/v1/wishes/{wish['id']}/approve").status == 403
    other_admin = make_community(api).admin
    assert other_admin.post(f"/v1/wishes/{wish['id']}/approve").status == 404
    assert cast.worker.post(f"/v1/wishes/{wish['id']}/reject", {}).status == 400
    assert cast.community.admin.post(f"/v1/wishes/{wish['id']}/approve").status == 200


# --- claim ---------------------------------------------------------------------------------------

def test_claim_then_everyone_else_gets_already_claimed(cast):
    wish = publish(cast.author)
    claimed = cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    assert claimed.status == 200 and claimed.json["status"] == "claimed"
    assert claimed.json["claimer"]["id"] == cast.vol.id
    late = cast.vol2.post(f"/v1/wishes/{wish['id']}/claim")
    assert late.status == 409 and late.error_code == "ALREADY_CLAIMED"
    assert [m.data["wish_id"] for m in outbox_for(cast.author.id, "wish_claimed")] == [wish["id"]]
    assert [w["id"] for w in cast.vol.get("/v1/wishes/claimed").json["items"]] == [wish["id"]]


def test_claim_refusals(cast):
    wish = publish(cast.author)
    volunteer_author = cast.community.volunteer(0)
    own = publish(volunteer_author)
    resp = volunteer_author.post(f"/v1/wishes/{own['id']}/claim")
    assert resp.status == 409 and resp.error_code == "OWN_WISH"
    not_volunteer = cast.resident.post(f"/v1/wishes/{wish['id']}/claim")
    assert not_volunteer.status == 403 and not_volunteer.error_code == "FORBIDDEN"
    assert cast.vol.post("/v1/wishes/w_nope/claim").status == 404
    cast.community.set(wish_review_required=True)
    pending = publish(cast.author)
    resp = cast.vol.post(f"/v1/wishes/{pending['id']}/claim")
    assert resp.status == 409 and resp.error_code == "INVALID_STATE"


def test_party_member_may_claim(cast):
    party = cast.community.with_roles(cast.community.resident(0), ["party_member"])
    wish = publish(cast.author)
    assert party.post(f"/v1/wishes/{wish['id']}/claim").status == 200


# --- release, fulfil, confirm, cancel -----------------------------------------------------------------

def test_release_returns_wish_to_open(cast):
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    assert cast.vol2.post(f"/v1/wishes/{wish['id']}/release").status == 403
    released = cast.vol.post(f"/v1/wishes/{wish['id']}/release")
    assert released.status == 200 and released.json["status"] == "open" and released.json["claimer"] is None
    assert cast.vol.post(f"/v1/wishes/{wish['id']}/release").error_code == "INVALID_STATE"
    assert cast.vol2.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    assert cast.vol.get("/v1/wishes/claimed").json["items"] == []


def test_full_story_credits_claimer_exactly_once(cast):
    before = UserModel.get(cast.vol.id).points_balance
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    assert cast.vol2.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "修好了"}).status == 403
    assert cast.author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 5}).error_code == "INVALID_STATE"
    fulfilled = cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "换了新灯泡"})
    assert fulfilled.status == 200 and fulfilled.json["status"] == "fulfilled"
    assert fulfilled.json["fulfil_note"] == "换了新灯泡"
    assert cast.author.post(f"/v1/wishes/{wish['id']}/cancel").error_code == "INVALID_STATE"
    assert cast.vol.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 5}).status == 403
    confirmed = cast.author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 5, "comment": "谢谢小伙子"})
    assert confirmed.status == 200 and confirmed.json["status"] == "confirmed"
    assert confirmed.json["rating"] == 5 and confirmed.json["points_awarded"] == 20
    again = cast.author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 4})
    assert again.status == 409 and again.error_code == "INVALID_STATE"
    user = UserModel.get(cast.vol.id)
    assert user.points_balance == before + 20 and user.earned_total >= 20
    entries = list(LedgerEntryModel.query(cast.vol.id))
    assert [(e.entry_key, e.amount, e.balance_after) for e in entries] == [(f"wish#{wish['id']}#confirm", 20, 20)]
    assert sum(e.amount for e in entries) == user.points_balance
    assert [m.data["wish_id"] for m in outbox_for(cast.author.id, "wish_fulfilled")] == [wish["id"]]
    assert [m.data["points"] for m in outbox_for(cast.vol.id, "wish_confirmed")] == [20]


def test_wish_points_follow_the_community_setting(cast):
    cast.community.set(wish_points=35)
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "好了"})
    assert cast.author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 4}).json["points_awarded"] == 35
    assert UserModel.get(cast.vol.id).points_balance == 35


@pytest.mark.parametrize("rating", [0, 6, "5", 4.5, None])
def test_confirm_rating_must_be_1_to_5(cast, rating):
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "好了"})
    resp = cast.author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": rating})
    assert resp.status == 400 and resp.json["error"]["details"]["field"] == "rating"


def test_fulfil_note_and_comment_limits(cast):
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    assert cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "长" * 201}).status == 400
    assert cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {}).status == 400
    cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "好"})
    assert cast.author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 3, "comment": "评" * 201}).status == 400


def test_cancel_by_author_notifies_claimer(cast):
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    assert cast.vol.post(f"/v1/wishes/{wish['id']}/cancel").status == 403
    cancelled = cast.author.post(f"/v1/wishes/{wish['id']}/cancel")
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled"
    assert [m.data["wish_id"] for m in outbox_for(cast.vol.id, "wish_cancelled")] == [wish["id"]]
    assert cast.author.post(f"/v1/wishes/{wish['id']}/cancel").error_code == "INVALID_STATE"
    assert cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "x"}).status in (403, 409)


# --- who sees what ----------------------------------------------------------------------------------

def test_contact_masking_by_viewer(cast, api):
    from tests.support import make_community
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    path = f"/v1/wishes/{wish['id']}"
    for viewer in (cast.author, cast.vol, cast.worker, cast.community.admin):
        body = viewer.get(path).json
        assert (body["contact_phone"], body["address"]) == ("13812345678", "幸福小区3栋2单元501"), viewer.name
    for viewer in (cast.vol2, cast.resident, cast.community.grid_worker(1)):
        body = viewer.get(path).json
        assert body["contact_phone"] == "138****5678" and body["address"].endswith("****"), viewer.name
        assert "501" not in body["address"]
    assert make_community(api).admin.get(path).status == 404


def test_lists_mask_contact_and_go_newest_first(cast):
    first, second = publish(cast.author, title="第一个"), publish(cast.author, title="第二个")
    items = cast.author.get("/v1/wishes").json["items"]
    ids = [w["id"] for w in items]
    assert ids.index(second["id"]) < ids.index(first["id"])
    assert all(w["contact_phone"] in (None, "138****5678") for w in items)
    mine = cast.author.get("/v1/wishes/mine").json["items"]
    assert [w["id"] for w in mine] == [second["id"], first["id"]] and mine[0]["contact_phone"] == "13812345678"


def test_list_filters_and_pagination(cast):
    other_grid_author = cast.community.resident(1)
    made = [publish(cast.author, category="助老"), publish(cast.author, category="维修"),
            publish(other_grid_author, category="助老")]
    cast.vol.post(f"/v1/wishes/{made[1]['id']}/claim")
    by_status = cast.resident.get("/v1/wishes?status=claimed").json["items"]
    assert [w["id"] for w in by_status] == [made[1]["id"]]
    by_category = cast.resident.get("/v1/wishes?category=助老").json["items"]
    assert {w["id"] for w in by_category} == {made[0]["id"], made[2]["id"]}
    by_grid = cast.resident.get(f"/v1/wishes?grid_id={cast.community.grid_ids[1]}").json["items"]
    assert [w["id"] for w in by_grid] == [made[2]["id"]]
    seen, cursor = [], None
    while True:
        page = cast.resident.get("/v1/wishes?limit=1" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [made[2]["id"], made[1]["id"], made[0]["id"]]


def test_residents_do_not_see_unpublished_wishes(cast):
    cast.community.set(wish_review_required=True)
    pending = publish(cast.author)
    assert pending["id"] not in [w["id"] for w in cast.resident.get("/v1/wishes").json["items"]]
    assert cast.resident.get(f"/v1/wishes/{pending['id']}").status == 404
    assert cast.resident.get("/v1/wishes?status=pending_review").status == 403
    staff_view = cast.worker.get("/v1/wishes?status=pending_review").json["items"]
    assert [w["id"] for w in staff_view] == [pending["id"]]


def test_cursor_from_another_list_is_refused(cast):
    for _ in range(2):
        publish(cast.author)
    cursor = cast.author.get("/v1/wishes/mine?limit=1").json["next_cursor"]
    resp = cast.resident.get(f"/v1/wishes?status=open&cursor={cursor}")
    assert resp.status == 400 and resp.json["error"]["details"]["field"] == "cursor"
    assert cast.author.get(f"/v1/wishes/mine?cursor={cursor}").status == 200
    tampered = cursor[:-2] + ("00" if not cursor.endswith("00") else "11")
    assert cast.author.get(f"/v1/wishes/mine?cursor={tampered}").status == 400


# --- 注销 releases claims and withdraws wishes --------------------------------------------------------------

def test_delete_me_releases_claims_and_cancels_open_wishes(cast):
    mine = publish(cast.vol)
    theirs = publish(cast.author)
    cast.vol2.post(f"/v1/wishes/{mine['id']}/claim")
    cast.vol.post(f"/v1/wishes/{theirs['id']}/claim")
    assert cast.vol.delete("/v1/me").status == 204
    assert WishModel.get(mine["id"]).status == "cancelled"
    released = WishModel.get(theirs["id"])
    assert released.status == "open" and released.claimer_id is None
    assert outbox_for(cast.vol2.id, "wish_cancelled")
    seen_by_author = cast.author.get(f"/v1/wishes/{mine['id']}")
    assert seen_by_author.status == 404  # cancelled wishes are not public
    seen = cast.vol2.get(f"/v1/wishes/{theirs['id']}").json
    assert seen["status"] == "open"


def test_deleted_authors_name_is_not_shown(cast):
    wish = publish(cast.author)
    cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    cast.vol.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "好了"})
    assert cast.author.delete("/v1/me").status == 204
    body = cast.vol.get(f"/v1/wishes/{wish['id']}").json
    assert body["author"]["nickname"] == "已注销用户" and body["status"] == "fulfilled"


# --- statistics -------------------------------------------------------------------------------------------

def test_admin_wish_stats(cast):
    a = publish(cast.author, category="助老")
    b = publish(cast.author, category="维修")
    publish(cast.author, category="维修")
    for wish in (a, b):
        cast.vol.post(f"/v1/wishes/{wish['id']}/claim")
    cast.vol.post(f"/v1/wishes/{a['id']}/fulfil", {"note": "好"})
    cast.author.post(f"/v1/wishes/{a['id']}/confirm", {"rating": 5})
    resp = cast.community.admin.get("/v1/admin/stats")
    assert resp.status == 200
    stats = resp.json["wishes"]
    assert stats["total"] == 3 and stats["by_category"] == {"助老": 1, "维修": 2}
    assert stats["by_status"] == {"confirmed": 1, "claimed": 1, "open": 1}
    assert stats["by_grid"] == {cast.community.grid_ids[0]: 3}
    assert stats["fulfilment_rate"] == round(1 / 3, 4)
    assert stats["median_hours_to_claim"] is not None and stats["median_hours_to_confirm"] is not None
    assert cast.worker.get("/v1/admin/stats").status == 403
    start = (utcnow() + timedelta(days=1)).isoformat()
    assert cast.community.admin.get(f"/v1/admin/stats?from={start.replace('+', '%2B')}").status == 400


# --- a value outside a closed set names the allowed ones ------------------------------------------------------

def test_an_unknown_category_is_refused_with_the_allowed_values(cast):
    categories = ["生活帮扶", "助老", "助残", "助学", "医疗健康", "维修", "物资", "其他"]
    resp = cast.author.post("/v1/wishes", {**WISH, "category": "foo"})
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED"
    error = resp.json["error"]
    assert error["details"]["field"] == "category" and error["details"]["allowed"] == categories
    assert error["details"]["errors"][0]["allowed"] == categories
    assert error["message"] == "category：取值不在允许范围内，可选：" + "、".join(categories)
    # the same for the list's filter (a query string) and for a request's categories
    listed = cast.author.get("/v1/wishes?category=foo")
    assert listed.status == 400 and listed.json["error"]["details"]["allowed"] == categories
    request = cast.author.post("/v1/requests", {"category": "foo", "content": "路灯不亮"})
    assert request.status == 400 and request.json["error"]["details"]["allowed"] == [
        "环境卫生", "设施维修", "邻里纠纷", "治安隐患", "物业服务", "其他"]
    assert "环境卫生、设施维修" in request.json["error"]["message"]
    # a value of the wrong type in a closed set is refused the same way, not as a type error
    wrong_type = cast.author.post("/v1/wishes", {**WISH, "category": 3})
    assert wrong_type.status == 400 and wrong_type.json["error"]["details"]["allowed"] == categories
