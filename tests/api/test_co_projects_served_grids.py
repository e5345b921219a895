"""群众评单 "rated by the residents it served" over HTTP: a co-building project may name the grids it served
(``served_grid_ids``); then only the residents living in one of them rate it. Sequences: grids set and shown; a
resident of a served grid rates; one of another grid is refused with nothing written; a resident moved out of the
served grids between the read and the rating's transaction is refused by the transaction; none or [] is the whole
community, as before; a grid of another community, a repeated grid, too many grids; exact calls.
(tests/api/test_co_projects.py holds the rest of 共建项目; this module keeps both under ~400 lines.)"""
from __future__ import annotations

import pytest

from tests.api.test_co_projects import World, refused
from tongxin.adapters.dynamo.binding import connection
from tongxin.adapters.dynamo.models import CoProjectModel, CoProjectRatingModel, UserModel
from tongxin.domain import co_projects as rules


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    return World(api)


def served_by_first_grid(w) -> dict:
    return w.done(served_grid_ids=[w.c.grid_ids[0]])


def nothing_written(pid: str, user_id: str) -> None:
    assert CoProjectModel.get(pid, consistent_read=True).ratings_count == 0
    assert CoProjectRatingModel.count(pid, CoProjectRatingModel.user_id == user_id) == 0


def test_served_grids_are_stored_and_shown(w):
    first, second = w.c.grid_ids[:2]
    project = w.project(served_grid_ids=[second, first])
    assert project["served_grid_ids"] == sorted([first, second])  # a set: shown sorted
    pid = project["id"]
    assert w.c.resident(0).get(f"/v1/co-projects/{pid}").json["served_grid_ids"] == sorted([first, second])
    listed = {p["id"]: p for p in w.c.resident(1).get("/v1/co-projects?limit=100").json["items"]}
    assert listed[pid]["served_grid_ids"] == sorted([first, second])
    assert CoProjectModel.get(pid, consistent_read=True).served_grid_ids == {first, second}


def test_a_resident_of_a_served_grid_rates(w):
    pid = served_by_first_grid(w)["id"]
    rated = w.c.resident(0).post(f"/v1/co-projects/{pid}/rating", {"rating": 5, "comment": "服务到了我们网格"})
    assert rated.status == 201, rated.body
    assert (rated.json["ratings_count"], rated.json["rating_average"]) == (1, 5.0)


def test_a_resident_of_another_grid_is_refused_and_nothing_is_written(w):
    pid = served_by_first_grid(w)["id"]
    outsider = w.c.resident(1)
    resp = outsider.post(f"/v1/co-projects/{pid}/rating", {"rating": 2, "comment": "没有服务我们"})
    refused(resp, 403, "FORBIDDEN")
    assert resp.json["error"]["message"] == rules.GRID_NOT_SERVED.message
    assert "TransactWriteItems" not in outsider.api.last_meter.dynamo  # refused as read: no write tried
    assert sum(outsider.api.last_meter.wechat.values()) == 0  # nor the comment's content check
    nothing_written(pid, outsider.id)
    # Still shown to them (a member of the community), with no rating of theirs.
    seen = outsider.get(f"/v1/co-projects/{pid}").json
    assert seen["my_rating"] is None and seen["ratings_count"] == 0


def test_a_resident_moved_out_between_the_read_and_the_write_is_refused_by_the_transaction(w, monkeypatch):
    pid = served_by_first_grid(w)["id"]
    mover = w.c.resident(0)  # lives in the served grid when the rating reads the project and the caller
    events = connection().client.meta.events
    moved = []

    def move_once(**_kwargs):
        if not moved:  # the rating's transaction: the resident moves to the other grid just before it is sent
            moved.append(True)
            UserModel(mover.id).update(actions=[UserModel.grid_id.set(w.c.grid_ids[1])])
    events.register("before-call.dynamodb.TransactWriteItems", move_once)
    monkeypatch.setenv("CALL_REPORT_ONLY", "1")  # the move is the test's own write, made on the request's client
    try:
        resp = mover.post(f"/v1/co-projects/{pid}/rating", {"rating": 4})
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", move_once)
    assert moved
    refused(resp, 403, "FORBIDDEN")
    assert resp.json["error"]["message"] == rules.GRID_NOT_SERVED.message  # told why, not "role changed"
    calls = mover.api.last_meter.dynamo
    assert calls["TransactWriteItems"] == 1 and calls["UpdateItem"] == 1  # the read said yes; the condition no
    nothing_written(pid, mover.id)


@pytest.mark.parametrize("served", [None, []])
def test_no_grids_named_is_the_whole_community_as_before(w, served):
    body = {} if served is None else {"served_grid_ids": served}
    project = w.done(**body)
    assert project["served_grid_ids"] == []
    assert CoProjectModel.get(project["id"], consistent_read=True).served_grid_ids is None
    for grid_index in (0, 1):
        resp = w.c.resident(grid_index).post(f"/v1/co-projects/{project['id']}/rating", {"rating": 4})
        assert resp.status == 201, resp.body
    assert CoProjectModel.get(project["id"], consistent_read=True).ratings_count == 2


def test_grids_not_of_the_community_are_404_naming_the_field(w):
    admin = w.c.admin
    before = len(admin.get("/v1/co-projects?limit=100").json["items"])
    for served in ([w.other.grid_ids[0]], [w.c.grid_ids[0], w.other.grid_ids[1]], ["g_nothing"]):
        refused(admin.post("/v1/admin/co-projects", w.body(served_grid_ids=served)), 404, "NOT_FOUND",
                "served_grid_ids")
    assert len(admin.get("/v1/co-projects?limit=100").json["items"]) == before  # nothing written


@pytest.mark.parametrize("served", [
    "twice", "dup", "too_many", "not_a_list", "empty_id",
])
def test_repeated_or_too_many_grids_are_400_naming_the_field(w, served):
    first = w.c.grid_ids[0]
    value = {"twice": [first, first], "dup": [first, w.c.grid_ids[1], first],
             "too_many": [f"g_{i}" for i in range(rules.SERVED_GRIDS_MAX + 1)], "not_a_list": first,
             "empty_id": [""]}[served]
    resp = w.c.admin.post("/v1/admin/co-projects", w.body(served_grid_ids=value))
    assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED"), resp.body
    assert resp.json["error"]["details"]["field"].startswith("served_grid_ids"), resp.body


def test_exact_call_counts_with_served_grids(w):
    admin = w.c.admin
    resp = admin.post("/v1/admin/co-projects", w.body(served_grid_ids=w.c.grid_ids[:2]))
    assert resp.status == 201, resp.body
    # The grids are read in the one BatchGetItem with the unit, its agreement, the resource and the post.
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    pid = resp.json["id"]
    assert admin.post(f"/v1/admin/co-projects/{pid}/complete", {}).status == 200
    resident = w.c.resident(1)
    assert resident.post(f"/v1/co-projects/{pid}/rating", {"rating": 3}).status == 201
    # The caller's grid is the caller as read for the request: no read more; its condition rides in the grant.
    assert resident.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
