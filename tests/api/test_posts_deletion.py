"""注销 (DELETE /v1/me) and what a person holds in 双报到's 领岗 and 群众评单: open post claims are given back as a
withdrawal gives them back (the count −1, a full post open again, the ``post`` service taken back); a claim on a
closed or past-due post stays counted under 已注销用户; a co-project rating stays counted and its comment goes. The
release steps are conditional writes of their own, safe to repeat (a DELETE that failed half-way completes)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_co_projects import World
from tests.api.test_posts import publish, services
from tongxin.adapters.dynamo.models import CoProjectModel, CoProjectRatingModel, PostClaimModel, PostModel
from tongxin.domain.clock import to_api, travel, utcnow
from tongxin.usecases import co_projects, posts


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    return World(api)


def stored(post_id: str) -> PostModel:
    return PostModel.get(post_id, consistent_read=True)


def test_deletion_gives_open_claims_back_and_keeps_served_ones_anonymised(w):
    c = w.c
    leaver, other = c.party_member(c.resident(0)), c.party_member(c.resident(0))
    full = publish(c, title="楼栋长", headcount=2)
    open_ = publish(c, title="政策宣传员", headcount=3)
    closed = publish(c, title="文明劝导员", headcount=2)
    for post in (full, open_, closed):
        assert leaver.post(f"/v1/posts/{post['id']}/claim").status == 200
    assert other.post(f"/v1/posts/{full['id']}/claim").json["status"] == "full"
    assert c.admin.post(f"/v1/admin/posts/{closed['id']}/close").status == 200
    assert services(leaver.id)["post"] == 3

    assert leaver.delete("/v1/me").status == 204

    # The full post has a place again; the open one is back to 0; both as a withdrawal leaves them.
    assert (stored(full["id"]).claimed_count, stored(full["id"]).status) == (1, "open")
    assert (stored(open_["id"]).claimed_count, stored(open_["id"]).status) == (0, "open")
    assert PostClaimModel.count(full["id"]) == 1 and PostClaimModel.count(open_["id"]) == 0
    assert full["id"] in {p["id"] for p in c.admin.get("/v1/posts?status=open").json["items"]}
    # The closed post's claim served: it stays counted, under 已注销用户, no name left.
    assert (stored(closed["id"]).claimed_count, stored(closed["id"]).status) == (1, "closed")
    claimants = c.admin.get(f"/v1/posts/{closed['id']}").json["claimants"]
    assert [x["user"]["nickname"] for x in claimants if x["user"]["id"] == leaver.id] == ["已注销用户"]
    assert PostClaimModel.get(closed["id"], leaver.id).nickname == "已注销用户"
    # The services given back are taken back from the record (the closed post's stays: it served).
    assert services(leaver.id)["post"] == 1 and services(leaver.id)["services"] == 1
    # The place freed is claimable: the next member fills the post again.
    late = c.party_member(c.resident(0))
    assert late.post(f"/v1/posts/{full['id']}/claim").json["status"] == "full"
    # The same DELETE again: the account is gone (401), nothing moves.
    assert leaver.delete("/v1/me").status == 401
    assert stored(full["id"]).claimed_count == 2


def test_a_claim_past_due_stays_and_the_release_is_safe_to_repeat(w):
    c = w.c
    leaver = c.party_member(c.resident(0))
    due = to_api(utcnow() + timedelta(days=2))
    past = publish(c, title="环境监督员", headcount=2, due=due)
    live = publish(c, title="宣传员", headcount=1)
    assert leaver.post(f"/v1/posts/{past['id']}/claim").status == 200
    assert leaver.post(f"/v1/posts/{live['id']}/claim").json["status"] == "full"
    with travel(timedelta(days=3)):
        # A DELETE that failed half-way: the release ran, the account was not closed; run again, then DELETE.
        posts.release_on_deletion(leaver.id)
        posts.release_on_deletion(leaver.id)
        assert (stored(live["id"]).claimed_count, stored(live["id"]).status) == (0, "open")
        assert stored(past["id"]).claimed_count == 1  # past due: it served
        assert PostClaimModel.get(past["id"], leaver.id).nickname == "已注销用户"
        assert leaver.delete("/v1/me").status == 204
        assert stored(live["id"]).claimed_count == 0 and stored(past["id"]).claimed_count == 1


def test_a_liaisons_claims_are_released_too(w):
    post = publish(w.c, title="共建岗位", headcount=1)
    liaison = w.liaison2
    assert liaison.post(f"/v1/posts/{post['id']}/claim").json["status"] == "full"
    assert liaison.delete("/v1/me").status == 204
    assert (stored(post["id"]).claimed_count, stored(post["id"]).status) == (0, "open")


def test_deletion_erases_rating_comments_and_keeps_the_ratings_counted(w):
    project = w.done(title="义诊进社区")
    pid = project["id"]
    leaver, stays = w.c.resident(0), w.c.resident(0)
    assert leaver.post(f"/v1/co-projects/{pid}/rating", {"rating": 2, "comment": "我家住 3 栋 201，医生来晚了"}).status == 201
    assert stays.post(f"/v1/co-projects/{pid}/rating", {"rating": 4, "comment": "很好"}).status == 201
    second = w.done(title="健康讲座")
    assert leaver.post(f"/v1/co-projects/{second['id']}/rating", {"rating": 5}).status == 201  # no comment

    assert leaver.delete("/v1/me").status == 204

    mine = CoProjectRatingModel.get(pid, leaver.id, consistent_read=True)
    assert mine.comment is None and mine.rating == 2  # the comment gone, the rating kept
    assert CoProjectRatingModel.get(pid, stays.id).comment == "很好"  # another's untouched
    counted = CoProjectModel.get(pid, consistent_read=True)
    assert (counted.ratings_count, counted.ratings_sum) == (2, 6)
    seen = stays.get(f"/v1/co-projects/{pid}").json
    assert (seen["ratings_count"], seen["rating_average"]) == (2, 3.0)
    assert CoProjectRatingModel.get(second["id"], leaver.id).rating == 5
    co_projects.forget_deleted_user(leaver.id)  # again: nothing left, nothing fails
    assert CoProjectRatingModel.get(pid, leaver.id).comment is None


def test_deletion_calls_stay_in_budget_with_claims_and_ratings(w):
    """DELETE /v1/me's budget holds with claims and ratings: one Query of each index and one BatchGetItem of the
    claims' posts, then one write per claim and per comment (counted exactly)."""
    c = w.c
    leaver = c.party_member(c.resident(0))
    for i in range(3):
        assert leaver.post(f"/v1/posts/{publish(c, title=f'岗位{i}', headcount=2)['id']}/claim").status == 200
    project = w.done(title="计数项目")
    assert leaver.post(f"/v1/co-projects/{project['id']}/rating", {"rating": 3, "comment": "一般"}).status == 201
    # Without the claims and the rating this DELETE would read and write less by exactly these.
    assert leaver.delete("/v1/me").status == 204
    calls = dict(leaver.api.last_meter.dynamo)
    baseline_leaver = c.party_member(c.resident(0))
    assert baseline_leaver.delete("/v1/me").status == 204
    base = dict(baseline_leaver.api.last_meter.dynamo)
    assert calls.get("Query", 0) - base.get("Query", 0) == 0  # the indexes are queried whatever they hold
    assert calls.get("BatchGetItem", 0) - base.get("BatchGetItem", 0) == 1  # the claims' posts, one call
    assert calls["TransactWriteItems"] - base["TransactWriteItems"] == 3 + 1  # a release a claim, a comment
