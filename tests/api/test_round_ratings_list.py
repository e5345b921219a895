"""微实事's 验收 read by the community's admins (GET /v1/projects/{project_id}/ratings) over HTTP: the residents'
ratings of a done project with their comments and raters, newest first, a page at a time (≤ 20); a rater who left
(注销) shows 已注销用户 and no comment; a non-admin 403, another community's admin 404 (as the project's other admin
routes); exact calls (4 reads, 3 for an empty page). The project is driven to done through the API, the clock moved
with ``travel``."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_project_rounds import HOUR, World, finalise, refused, votes
from tongxin.adapters.dynamo.models import RoundProjectModel
from tongxin.domain.clock import travel


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    return World(api)


def path(project_id: str) -> str:
    return f"/v1/projects/{project_id}/ratings"


def done_project(w: World) -> str:
    """A project proposed, approved, voted in (its round finalised) and reported 100 % after the 公示."""
    made = w.round()
    project = w.propose(made["id"], w.c.resident(0))
    with travel(HOUR + timedelta(minutes=1)):
        w.approve(project["id"])
    with travel(3 * HOUR + timedelta(minutes=1)):
        votes(made["id"], {project["id"]: 2})
        finalise(made["id"])
    with travel(3 * HOUR + timedelta(days=1, minutes=2)):  # after the one day of 公示
        w.admin.relogin()
        done = w.admin.post(f"/v1/projects/{project['id']}/progress", {"note": "完工", "percent": 100})
        assert done.status == 200, done.body
    w.admin.relogin()  # back in the present
    return project["id"]


def rate(member, project_id: str, rating: int, comment: str | None = None) -> dict:
    body = {"rating": rating, **({"comment": comment} if comment else {})}
    resp = member.post(f"/v1/projects/{project_id}/rate", body)
    assert resp.status == 201, resp.body
    return resp.json


def entry(member, rated: dict, nickname: str | None = None) -> dict:
    return {"rating": rated["rating"], "comment": rated["comment"], "created_at": rated["created_at"],
            "rater": {"id": member.id, "nickname": nickname or member.user["nickname"]}}


@pytest.fixture(scope="module")
def done(w):
    return done_project(w)


def test_ratings_newest_first_a_page_at_a_time_and_a_rater_who_left(w, done):
    a, b, c, leaver = (w.c.resident(0) for _ in range(4))
    assert w.admin.get(path(done)).json == {"items": [], "next_cursor": None}  # none yet
    first = rate(a, done, 3, "扶手高度偏低，老人用着不顺手")
    second = rate(b, done, 5)
    assert b.patch("/v1/me", {"nickname": "李大爷"}).status == 200
    third = rate(c, done, 4, "很实用")
    rate(leaver, done, 1, "没装到我们单元")
    assert leaver.delete("/v1/me").status == 204
    page = w.admin.get(path(done) + "?limit=2")
    assert page.status == 200, page.body
    gone = page.json["items"][0]
    assert gone == {"rating": 1, "comment": None, "created_at": gone["created_at"],
                    "rater": {"id": leaver.id, "nickname": "已注销用户"}}
    assert page.json["items"][1] == entry(c, third) and page.json["next_cursor"]
    last = w.admin.get(path(done) + f"?limit=2&cursor={page.json['next_cursor']}")
    assert last.json == {"items": [entry(b, second, "李大爷"), entry(a, first)], "next_cursor": None}
    project = RoundProjectModel.get(done, consistent_read=True)
    assert (project.ratings_count, project.ratings_sum) == (4, 13)  # the one who left still counted


def test_who_may_read_them(w, done, api):
    assert w.admin.get(path(done)).status == 200
    refused(w.residents[1].get(path(done)), 403, "FORBIDDEN")  # a member, not an admin
    refused(w.other.admin.get(path(done)), 404, "NOT_FOUND")  # another community's admin
    refused(w.stranger.get(path(done)), 403, "FORBIDDEN")  # not an admin, whatever the project
    refused(api.login().get(path(done)), 409, "NOT_IN_COMMUNITY")
    refused(w.admin.get(path("rpj_nothing")), 404, "NOT_FOUND")
    refused(w.admin.get(path(done) + "?limit=101"), 400, "VALIDATION_FAILED", "limit")
    refused(w.admin.get(path(done) + "?cursor=forged"), 400, "VALIDATION_FAILED", "cursor")


def test_an_empty_list_of_a_project_not_done(w):
    made = w.round()
    proposed = w.propose(made["id"], w.c.resident(0))
    assert w.admin.get(path(proposed["id"])).json == {"items": [], "next_cursor": None}


def test_exact_call_counts(w, done):
    """The caller (GetItem), the project (BatchGetItem), one Query of by_project_time, the page's raters (one
    BatchGetItem); an empty page reads no user."""
    made = w.round()
    empty = w.propose(made["id"], w.c.resident(0))["id"]
    w.admin.get(path(empty))
    assert w.admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
    rate(w.c.resident(0), done, 5, "好")
    w.admin.get(path(done) + "?limit=3")
    assert w.admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 2, "Query": 1}
