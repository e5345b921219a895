"""群众评单 read by the staff who act on it (GET /v1/admin/co-projects/{project_id}/ratings) over HTTP: the residents'
ratings of a co-project with their comments and raters, newest first, a page at a time (≤ 20); a rater who left
(注销) shows 已注销用户 and no comment; the community's admins and the liaisons of the project's unit read it, another
member 403, anyone else 404 as the detail; exact calls (4 reads, 3 for an empty page)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_co_projects import World, refused
from tongxin.adapters.dynamo.models import CoProjectModel, CoProjectRatingModel
from tongxin.domain.clock import to_api, utcnow


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    return World(api)


def path(project_id: str) -> str:
    return f"/v1/admin/co-projects/{project_id}/ratings"


def rate(member, project_id: str, rating: int, comment: str | None = None) -> dict:
    body = {"rating": rating, **({"comment": comment} if comment else {})}
    resp = member.post(f"/v1/co-projects/{project_id}/rating", body)
    assert resp.status == 201, resp.body
    return resp.json


def entry(member, rated: dict, nickname: str | None = None) -> dict:
    """The list's entry of ``rated`` (the rating's answer) by ``member``."""
    return {"rating": rated["rating"], "comment": rated["comment"], "created_at": rated["created_at"],
            "rater": {"id": member.id, "nickname": nickname or member.user["nickname"]}}


def test_ratings_with_and_without_comments_newest_first_a_page_at_a_time(w):
    pid = w.done()["id"]
    a, b, c = (w.c.resident(0) for _ in range(3))
    first = rate(a, pid, 2, "排队太久，医生只来了一个上午")
    second = rate(b, pid, 5)
    renamed = b.patch("/v1/me", {"nickname": "张阿姨"})  # the rater's name as it is now, not as it was
    assert renamed.status == 200, renamed.body
    third = rate(c, pid, 4, "医生很耐心")
    page = w.c.admin.get(path(pid) + "?limit=2")
    assert page.status == 200, page.body
    assert page.json["items"] == [entry(c, third), entry(b, second, "张阿姨")]
    assert page.json["items"][1]["comment"] is None and page.json["next_cursor"]
    last = w.c.admin.get(path(pid) + f"?limit=2&cursor={page.json['next_cursor']}")
    assert last.status == 200 and last.json == {"items": [entry(a, first)], "next_cursor": None}
    whole = w.c.admin.get(path(pid))  # default limit: all three, the end reached
    assert [i["rating"] for i in whole.json["items"]] == [4, 5, 2] and whole.json["next_cursor"] is None
    # The unit's liaison reads the same list (the detail is theirs too).
    assert w.liaison.get(path(pid)).json == whole.json
    # The project's count and average are the ratings listed.
    assert CoProjectModel.get(pid, consistent_read=True).ratings_count == 3


def test_a_page_holds_at_most_twenty(w):
    """21 ratings (test-only writes of rating items: the raters are not users here, so they read 已注销用户): a limit
    of 100 is served 20 at a time, newest first."""
    pid = w.done()["id"]
    start = utcnow() - timedelta(hours=1)
    for i in range(21):
        CoProjectRatingModel(pid, f"u_gone{i:02d}", community_id=w.c.id, rating=1 + i % 5, comment=f"第{i}条",
                             created_at=start + timedelta(minutes=i)).save()
    page = w.c.admin.get(path(pid) + "?limit=100")
    assert page.status == 200 and len(page.json["items"]) == 20 and page.json["next_cursor"]
    assert page.json["items"][0] == {"rating": 1 + 20 % 5, "comment": None,
                                     "created_at": to_api(start + timedelta(minutes=20)),
                                     "rater": {"id": "u_gone20", "nickname": "已注销用户"}}
    assert [i["rater"]["id"] for i in page.json["items"]] == [f"u_gone{i:02d}" for i in range(20, 0, -1)]
    rest = w.c.admin.get(path(pid) + f"?limit=100&cursor={page.json['next_cursor']}")
    assert [i["rater"]["id"] for i in rest.json["items"]] == ["u_gone00"] and rest.json["next_cursor"] is None


def test_a_rater_who_left_shows_as_deleted_without_the_comment(w):
    pid = w.done()["id"]
    leaver, stayer = w.c.resident(0), w.c.resident(0)
    rate(leaver, pid, 1, "我家门口根本没来")
    kept = rate(stayer, pid, 3, "还可以")
    assert leaver.delete("/v1/me").status == 204
    items = w.c.admin.get(path(pid)).json["items"]
    assert items == [entry(stayer, kept), {"rating": 1, "comment": None, "created_at": items[1]["created_at"],
                                           "rater": {"id": leaver.id, "nickname": "已注销用户"}}]
    project = CoProjectModel.get(pid, consistent_read=True)
    assert (project.ratings_count, project.ratings_sum) == (2, 4)  # still counted


def test_an_empty_list(w):
    planned = w.project()
    assert w.c.admin.get(path(planned["id"])).json == {"items": [], "next_cursor": None}
    assert w.liaison.get(path(w.done()["id"])).json == {"items": [], "next_cursor": None}


def test_who_may_read_them(w, api):
    pid = w.done()["id"]
    rate(w.c.resident(0), pid, 4, "好")
    assert w.c.admin.get(path(pid)).status == 200
    assert w.liaison.get(path(pid)).status == 200
    refused(w.c.resident(0).get(path(pid)), 403, "FORBIDDEN")  # a member who is neither admin nor its liaison
    refused(w.other.admin.get(path(pid)), 404, "NOT_FOUND")  # another community's admin: not theirs to see
    refused(w.liaison2.get(path(pid)), 404, "NOT_FOUND")  # another unit's liaison
    refused(w.other_staff.get(path(pid)), 409, "NOT_IN_COMMUNITY")  # street staff: in no community, no unit
    refused(api.login().get(path(pid)), 409, "NOT_IN_COMMUNITY")
    refused(w.c.admin.get(path("cop_nothing")), 404, "NOT_FOUND")
    refused(w.c.admin.get(path(pid) + "?limit=0"), 400, "VALIDATION_FAILED", "limit")
    refused(w.c.admin.get(path(pid) + "?limit=101"), 400, "VALIDATION_FAILED", "limit")
    refused(w.c.admin.get(path(pid) + "?cursor=forged"), 400, "VALIDATION_FAILED", "cursor")
    # A cursor of another project's list is refused, not followed into that list.
    other = w.done()["id"]
    for _ in range(2):
        rate(w.c.resident(0), other, 5)
    cursor = w.c.admin.get(path(other) + "?limit=1").json["next_cursor"]
    refused(w.c.admin.get(path(pid) + f"?cursor={cursor}"), 400, "VALIDATION_FAILED", "cursor")


def test_exact_call_counts(w):
    """The caller (GetItem), the project (BatchGetItem), one Query of by_project_time, the page's raters (one
    BatchGetItem); an empty page reads no user."""
    pid = w.done()["id"]
    admin = w.c.admin
    admin.get(path(pid))
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
    for _ in range(3):
        rate(w.c.resident(0), pid, 5, "很好")
    admin.get(path(pid))
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 2, "Query": 1}
    w.liaison.get(path(pid) + "?limit=2")
    assert w.liaison.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 2, "Query": 1}
