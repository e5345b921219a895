"""接诉即办 (issue 12) over HTTP: the whole loop grid → community → street with its timeline and messages, every
refusal (who, which grid, which state), privacy (404 for everyone who may not see a request), idempotency, 注销,
and the three rates on a known set of requests."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import OutboxModel, RequestModel
from tongxin.domain.clock import travel
from tongxin.usecases import notifications, streets

REQUEST = {"category": "环境卫生", "content": "3栋楼下垃圾三天没人清运，气味很大\n请尽快处理",
           "location": {"address": "幸福小区3栋", "lat": 30.66, "lng": 104.06}}


# --- people ----------------------------------------------------------------------------------------------------

class Town:
    """Community A (two grids, in a street, with a worker of each grid and the street's staff); community B (its
    admin and a grid worker) in another street with its own staff; someone in no community."""


def street_staff(api, street_id):
    member = api.login()
    streets.add_staff(street_id, member.id)
    return member.relogin()


@pytest.fixture(scope="module")
def town(api, fresh_tables_per_module):
    t = Town()
    t.a = make_community(api)
    t.admin = t.a.admin
    t.worker0, t.worker1 = t.a.grid_worker(0), t.a.grid_worker(1)
    t.street = streets.create_street("同心街道")["id"]
    streets.attach_community(t.street, t.a.id)
    t.staff = street_staff(api, t.street)
    t.b = make_community(api)
    t.b_admin = t.b.admin
    t.b_worker = t.b.grid_worker(0)
    t.other_street = streets.create_street("别的街道")["id"]
    streets.attach_community(t.other_street, t.b.id)
    t.other_staff = street_staff(api, t.other_street)
    t.outsider = api.login()
    return t


@pytest.fixture
def author(town):
    return town.a.resident(0)


def submit(member, **overrides):
    resp = member.post("/v1/requests", {**REQUEST, **overrides})
    assert resp.status == 201, resp.body
    return resp.json


def step(member, request_id, action, body=None, *, expect=200):
    resp = member.post(f"/v1/requests/{request_id}/{action}", body or {})
    assert resp.status == expect, (action, resp.status, resp.body)
    return resp.json


def escalated_to_street(town, author):
    """A request the grid and the community passed up: now the street's, waiting for its answer."""
    rid = submit(author)["id"]
    step(town.worker0, rid, "escalate", {"reason": "需要社区协调"})
    step(town.admin, rid, "escalate", {"reason": "需要街道协调城管"})
    return rid


def messages(user_id, kind=None):
    """What the sender would deliver to ``user_id`` (fan-outs expanded first), oldest first. Test-only scan."""
    notifications.expand_fanouts()
    found = [m for m in OutboxModel.scan(OutboxModel.recipient_id == user_id)
             if m.status not in ("fanout", "expanded") and (kind is None or m.kind == kind)]
    return sorted(found, key=lambda m: m.created_at)


def request_messages(user_id, request_id):
    return [m.kind for m in messages(user_id) if m.data.get("request_id") == request_id]


def all_pages(member, path):
    """Every item of a paged list, following next_cursor to the end."""
    items, cursor = [], None
    for _ in range(50):
        sep = "&" if "?" in path else "?"
        resp = member.get(path + (f"{sep}cursor={cursor}" if cursor else ""))
        assert resp.status == 200, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the list never ended")


def request_tasks(member, path):
    return {item["request"]["id"]: item["task"] for item in all_pages(member, path) if "request" in item}


# --- the whole loop ----------------------------------------------------------------------------------------------

def test_submitted_request_goes_to_the_authors_grid(town, author):
    made = author.post("/v1/requests", {**REQUEST, "urgent": True})
    assert made.status == 201, made.body
    request = made.json
    assert request["status"] == "submitted" and request["level"] == "grid" and request["levels_reached"] == ["grid"]
    assert request["grid_id"] == town.a.grid_ids[0] and request["community_id"] == town.a.id
    assert request["urgent"] is True and request["handler"] is None and request["outcome"] is None
    assert request["author"]["id"] == author.id and request["author"]["phone"] is None
    assert request["location"] == {"address": "幸福小区3栋", "lat": 30.66, "lng": 104.06}
    assert request["content"] == REQUEST["content"]  # a newline is fine in content
    assert request["created_at"].endswith("+08:00")
    [only] = request["timeline"]
    assert (only["action"], only["level"], only["actor"]["id"], only["actor"]["role"]) == \
        ("submit", "grid", author.id, "resident")
    due = datetime.fromisoformat(request["answer_due"]) - datetime.fromisoformat(request["created_at"])
    assert timedelta(minutes=29) < due <= timedelta(minutes=30)  # urgent: 30 minutes to answer
    normal = submit(author)
    due = datetime.fromisoformat(normal["answer_due"]) - datetime.fromisoformat(normal["created_at"])
    assert timedelta(minutes=119) < due <= timedelta(minutes=120)
    assert [r["id"] for r in author.get("/v1/requests/mine").json["items"]] == [normal["id"], request["id"]]
    assert town.worker0.get(f"/v1/requests/{request['id']}").status == 200
    # The grid's worker is told (one fan-out to the grid), nobody else.
    assert request_messages(town.worker0.id, request["id"]) == ["request_new"]
    assert request_messages(town.worker1.id, request["id"]) == []
    assert request_messages(town.admin.id, request["id"]) == []


def test_grid_worker_finds_requests_among_the_grid_tasks(town, author):
    rid = submit(author)["id"]
    accepted = submit(author)["id"]
    step(town.worker0, accepted, "accept")
    seen = request_tasks(town.worker0, "/v1/grid/tasks?limit=1")  # one item a page: every section, every grid
    assert seen[rid] == "answer_request" and seen[accepted] == "solve_request"
    assert rid not in request_tasks(town.worker1, "/v1/grid/tasks?limit=1")


def test_full_loop_up_to_the_street_reopened_once_then_closed_unsatisfied(town, author):
    rid = submit(author)["id"]
    accepted = step(town.worker0, rid, "accept")
    assert accepted["status"] == "accepted" and accepted["handler"]["id"] == town.worker0.id
    assert accepted["first_answered_at"] and accepted["solve_due"] and accepted["answer_due"] is None
    up = step(town.worker0, rid, "escalate", {"reason": "需要物业和社区协调"})
    assert (up["status"], up["level"], up["levels_reached"], up["handler"]) == \
        ("escalated", "community", ["grid", "community"], None)
    assert up["answer_due"] is not None
    assert request_tasks(town.admin, "/v1/admin/requests?view=queue")[rid] == "answer_request"
    assert rid not in request_tasks(town.worker0, "/v1/grid/tasks")
    assert town.worker0.get(f"/v1/requests/{rid}").status == 200  # the grid it reached still sees it
    assert town.worker0.post(f"/v1/requests/{rid}/accept").status == 403  # but no longer handles it

    step(town.admin, rid, "accept")
    up = step(town.admin, rid, "escalate", {"reason": "涉及城管执法，需街道协调"})
    assert (up["status"], up["level"], up["levels_reached"]) == ("escalated", "street", ["grid", "community", "street"])
    assert rid not in request_tasks(town.admin, "/v1/admin/requests?view=queue")
    assert request_tasks(town.staff, "/v1/street/tasks")[rid] == "answer_request"

    step(town.staff, rid, "accept")
    assert request_tasks(town.staff, "/v1/street/tasks")[rid] == "solve_request"
    done = step(town.staff, rid, "resolve", {"note": "已协调城管清运"})
    assert done["status"] == "resolved" and done["resolve_note"] == "已协调城管清运" and done["resolved_at"]
    assert rid not in request_tasks(town.staff, "/v1/street/tasks")
    back = step(author, rid, "rate", {"satisfaction": 1, "comment": "还是很臭"})
    assert (back["status"], back["level"], back["reopened"], back["outcome"]) == ("reopened", "street", True, None)
    assert request_tasks(town.staff, "/v1/street/tasks")[rid] == "solve_request"
    step(town.staff, rid, "resolve", {"note": "已冲洗消毒"})
    closed = step(author, rid, "rate", {"satisfaction": 2})
    assert (closed["status"], closed["outcome"], closed["rating"], closed["closed_at"] is not None) == \
        ("closed", "unsatisfied", 2, True)
    assert rid not in request_tasks(town.staff, "/v1/street/tasks")

    timeline = author.get(f"/v1/requests/{rid}").json["timeline"]
    assert [(e["action"], e["level"], e["actor"]["role"], e["actor"]["id"]) for e in timeline] == [
        ("submit", "grid", "resident", author.id),
        ("accept", "grid", "grid_worker", town.worker0.id),
        ("escalate", "grid", "grid_worker", town.worker0.id),
        ("accept", "community", "admin", town.admin.id),
        ("escalate", "community", "admin", town.admin.id),
        ("accept", "street", "street_staff", town.staff.id),
        ("resolve", "street", "street_staff", town.staff.id),
        ("reopen", "street", "resident", author.id),
        ("resolve", "street", "street_staff", town.staff.id),
        ("close", "street", "resident", author.id),
    ]
    assert [e["note"] for e in timeline] == [None, None, "需要物业和社区协调", None, "涉及城管执法，需街道协调", None,
                                             "已协调城管清运", "1 分：还是很臭", "已冲洗消毒", "2 分"]
    assert all(e["at"].endswith("+08:00") and e["action_label"] and e["level_label"] for e in timeline)

    assert request_messages(author.id, rid) == ["request_accepted", "request_accepted", "request_accepted",
                                                "request_resolved", "request_resolved"]
    assert request_messages(town.worker0.id, rid) == ["request_new"]
    assert request_messages(town.admin.id, rid) == ["request_escalated"]
    assert request_messages(town.staff.id, rid) == ["request_escalated", "request_reopened"]
    assert request_messages(town.worker1.id, rid) == [] and request_messages(town.other_staff.id, rid) == []
    reopened = next(m for m in messages(town.staff.id, "request_reopened") if m.data["request_id"] == rid)
    assert reopened.data["comment"] == "还是很臭" and reopened.page == f"pages/request/detail?id={rid}"


def test_good_rating_closes_satisfied_at_the_grid(town, author):
    rid = submit(author)["id"]
    step(town.worker0, rid, "accept")
    step(town.worker0, rid, "resolve", {"note": "已清运"})
    closed = step(author, rid, "rate", {"satisfaction": 4, "comment": "很及时"})
    assert (closed["status"], closed["outcome"], closed["rating"], closed["comment"]) == \
        ("closed", "satisfied", 4, "很及时")
    assert [e["action"] for e in closed["timeline"]] == ["submit", "accept", "resolve", "close"]
    assert request_messages(town.admin.id, rid) == [] and request_messages(town.staff.id, rid) == []
    assert rid not in request_tasks(town.worker0, "/v1/grid/tasks")


def test_admin_lists_every_request_of_the_community(town, author):
    rid = submit(author)["id"]
    listed = request_tasks(town.admin, "/v1/admin/requests?view=all&limit=3")
    assert listed[rid] == "answer_request"
    assert rid not in request_tasks(town.b_admin, "/v1/admin/requests?view=all")
    assert town.worker0.get("/v1/admin/requests?view=all").status == 403


def test_staff_of_two_streets_page_through_both(town, api):
    both = street_staff(api, town.street)
    streets.add_staff(town.other_street, both.id)
    both.relogin()
    here = escalated_to_street(town, town.a.resident(0))
    b_author = town.b.resident(0)
    there = submit(b_author)["id"]
    step(town.b_worker, there, "escalate", {"reason": "上报"})
    step(town.b_admin, there, "escalate", {"reason": "上报"})
    tasks = request_tasks(both, "/v1/street/tasks?limit=1")
    assert tasks[here] == "answer_request" and tasks[there] == "answer_request"
    assert there not in request_tasks(town.staff, "/v1/street/tasks") and \
        here not in request_tasks(town.other_staff, "/v1/street/tasks")
    for who in (town.admin, town.worker0, town.outsider):
        assert who.get("/v1/street/tasks").status == 403
    unnamed = both.get("/v1/admin/requests/stats")
    assert unnamed.status == 400 and unnamed.json["error"]["details"]["field"] == "street_id"
    named = both.get(f"/v1/admin/requests/stats?street_id={town.other_street}")
    assert named.status == 200 and named.json["by_community"][0]["community_id"] == town.b.id
    step(both, there, "accept")


# --- refusals --------------------------------------------------------------------------------------------------

def refused(member, request_id, action, body=None):
    resp = member.post(f"/v1/requests/{request_id}/{action}", body or {})
    return resp.status, resp.error_code


def test_only_the_handler_of_the_current_level_acts(town, author):
    rid = submit(author)["id"]
    assert refused(author, rid, "accept") == (403, "FORBIDDEN")
    assert refused(town.admin, rid, "accept") == (403, "FORBIDDEN")  # it is the grid's turn
    assert refused(town.staff, rid, "accept") == (404, "NOT_FOUND")  # the street has not been reached
    assert refused(town.worker1, rid, "accept") == (404, "NOT_FOUND")  # another grid's worker
    assert refused(town.worker0, rid, "resolve", {"note": "好了"}) == (409, "INVALID_STATE")  # not accepted yet
    step(town.worker0, rid, "accept")
    assert refused(town.worker0, rid, "accept") == (409, "INVALID_STATE")
    assert refused(author, rid, "resolve", {"note": "我自己修好了"}) == (403, "FORBIDDEN")
    assert refused(town.worker0, rid, "rate", {"satisfaction": 5}) == (403, "FORBIDDEN")  # before resolution too
    step(town.worker0, rid, "resolve", {"note": "已处理"})
    assert refused(town.worker0, rid, "rate", {"satisfaction": 5}) == (403, "FORBIDDEN")
    assert refused(town.admin, rid, "rate", {"satisfaction": 5}) == (403, "FORBIDDEN")
    assert refused(town.worker0, rid, "resolve", {"note": "再办一次"}) == (409, "INVALID_STATE")
    assert refused(town.worker0, rid, "escalate", {"reason": "晚了"}) == (409, "INVALID_STATE")
    step(author, rid, "rate", {"satisfaction": 5})
    assert refused(author, rid, "rate", {"satisfaction": 5}) == (409, "INVALID_STATE")
    assert refused(town.worker0, rid, "accept") == (409, "INVALID_STATE")
    assert refused(author, "rq_nothing", "rate", {"satisfaction": 5}) == (404, "NOT_FOUND")
    assert [e["action"] for e in author.get(f"/v1/requests/{rid}").json["timeline"]] == \
        ["submit", "accept", "resolve", "close"]


def test_rating_before_resolution_and_twice_after_a_reopen(town, author):
    rid = submit(author)["id"]
    assert refused(author, rid, "rate", {"satisfaction": 3}) == (409, "INVALID_STATE")
    step(town.worker0, rid, "accept")
    step(town.worker0, rid, "resolve", {"note": "已处理"})
    step(author, rid, "rate", {"satisfaction": 2})
    assert refused(author, rid, "rate", {"satisfaction": 2}) == (409, "INVALID_STATE")  # reopened: not rateable
    again = step(town.worker0, rid, "resolve", {"note": "再次处理"})  # back with the level that resolved it
    assert again["level"] == "grid" and again["status"] == "resolved"
    step(author, rid, "rate", {"satisfaction": 5})
    assert author.get(f"/v1/requests/{rid}").json["outcome"] == "satisfied"


def test_a_rating_read_before_the_reopen_cannot_reopen_it_twice(town, author, monkeypatch):
    """Two ratings racing (a double tap): the second was read while the request was first resolved, and lands
    after the handler resolved it again — the same state and level as it read. It must not reopen it again."""
    rid = submit(author)["id"]
    step(town.worker0, rid, "accept")
    step(town.worker0, rid, "resolve", {"note": "已处理"})
    as_first_read = RequestModel.get(rid)
    step(author, rid, "rate", {"satisfaction": 1})
    step(town.worker0, rid, "resolve", {"note": "重新处理"})
    real_get = RequestModel.get
    monkeypatch.setattr(RequestModel, "get", lambda key, *a, **kw: as_first_read if key == rid else
                        real_get(key, *a, **kw))
    late = author.post(f"/v1/requests/{rid}/rate", {"satisfaction": 1})
    monkeypatch.undo()
    assert late.status == 409 and late.error_code == "INVALID_STATE", late.body
    stored = author.get(f"/v1/requests/{rid}").json
    assert stored["status"] == "resolved" and [e["action"] for e in stored["timeline"]].count("reopen") == 1
    assert step(author, rid, "rate", {"satisfaction": 2})["outcome"] == "unsatisfied"


def test_a_stale_good_rating_cannot_close_the_second_resolution(town, author, monkeypatch):
    """The rating names the resolution it was read with: one read before the reopen lands after the handler
    resolved again — it must not close the new resolution the author has not seen."""
    rid = submit(author)["id"]
    step(town.worker0, rid, "accept")
    step(town.worker0, rid, "resolve", {"note": "已处理"})
    as_first_read = RequestModel.get(rid)
    step(author, rid, "rate", {"satisfaction": 1})
    step(town.worker0, rid, "resolve", {"note": "重新处理"})
    real_get = RequestModel.get
    monkeypatch.setattr(RequestModel, "get", lambda key, *a, **kw: as_first_read if key == rid else
                        real_get(key, *a, **kw))
    late = author.post(f"/v1/requests/{rid}/rate", {"satisfaction": 5})
    monkeypatch.undo()
    assert late.status == 409 and late.error_code == "INVALID_STATE", late.body
    stored = author.get(f"/v1/requests/{rid}").json
    assert (stored["status"], stored["outcome"], stored["resolve_note"]) == ("resolved", None, "重新处理")


def test_a_handler_cannot_answer_or_solve_their_own_request_but_may_pass_it_up(town):
    """A grid worker living in their grid raises a request: they would rate their own work. Not theirs to answer or
    solve; the whistle moves it to the community."""
    own = town.worker0
    rid = submit(own)["id"]
    assert refused(own, rid, "accept") == (403, "FORBIDDEN")
    moved = step(own, rid, "escalate", {"reason": "本人诉求，请社区办理"})
    assert (moved["level"], moved["status"]) == ("community", "escalated")
    step(town.admin, rid, "accept")
    done = step(town.admin, rid, "resolve", {"note": "已处理"})
    assert done["status"] == "resolved"
    assert step(own, rid, "rate", {"satisfaction": 5})["outcome"] == "satisfied"


def test_a_resident_with_no_grid_starts_at_the_community(town):
    rid = submit(town.admin)["id"]  # the founding admin joined with the community, not through a grid's invite
    made = town.admin.get(f"/v1/requests/{rid}").json
    assert (made["level"], made["grid_id"], made["levels_reached"]) == ("community", None, ["community"])
    assert town.worker0.get(f"/v1/requests/{rid}").status == 404
    assert request_tasks(town.admin, "/v1/admin/requests?view=queue")[rid] == "answer_request"
    assert request_messages(town.admin.id, rid) == ["request_new"]


def test_escalating_from_the_top_is_invalid_state(town, author):
    rid = escalated_to_street(town, author)
    assert refused(town.staff, rid, "escalate", {"reason": "再往上"}) == (409, "INVALID_STATE")
    step(town.staff, rid, "accept")
    assert refused(town.staff, rid, "escalate", {"reason": "再往上"}) == (409, "INVALID_STATE")
    assert refused(town.admin, rid, "accept") == (403, "FORBIDDEN")  # the community passed it on
    assert refused(town.other_staff, rid, "accept") == (404, "NOT_FOUND")  # another street


def test_escalating_from_a_community_with_no_street_is_invalid_state(api):
    lone = make_community(api)
    author, worker = lone.resident(0), lone.grid_worker(0)
    rid = submit(author)["id"]
    step(worker, rid, "escalate", {"reason": "需要社区"})
    resp = lone.admin.post(f"/v1/requests/{rid}/escalate", {"reason": "需要街道"})
    assert resp.status == 409 and resp.error_code == "INVALID_STATE"
    assert lone.admin.get(f"/v1/requests/{rid}").json["level"] == "community"


def test_removed_street_staff_cannot_act_at_once(town, api, author):
    leaving = street_staff(api, town.street)
    rid = escalated_to_street(town, author)
    assert leaving.get(f"/v1/requests/{rid}").status == 200
    streets.remove_staff(town.street, leaving.id)
    status, _ = refused(leaving, rid, "accept")  # the same token: the stored user decides
    assert status in (403, 404)
    assert leaving.get(f"/v1/requests/{rid}").status in (403, 404)
    assert leaving.get("/v1/street/tasks").status == 403
    assert author.get(f"/v1/requests/{rid}").json["status"] == "escalated"
    step(town.staff, rid, "accept")


def test_grid_worker_whose_grid_is_taken_away_cannot_act(town, author):
    worker = town.a.grid_worker(0)
    rid = submit(author)["id"]
    assert worker.get(f"/v1/requests/{rid}").status == 200
    resp = town.admin.put(f"/v1/admin/members/{worker.id}/roles", {"roles": ["grid_worker"],
                                                                  "grid_ids": [town.a.grid_ids[1]]})
    assert resp.status == 200, resp.body
    status, _ = refused(worker, rid, "accept")  # the token still names grid 0
    assert status in (403, 404)
    assert worker.get(f"/v1/requests/{rid}").status in (403, 404)
    assert author.get(f"/v1/requests/{rid}").json["status"] == "submitted"


def test_risky_content_is_rejected_and_nothing_is_written(town, author):
    resp = author.post("/v1/requests", {**REQUEST, "content": "这里有违禁内容"})
    assert resp.status == 400 and resp.error_code == "CONTENT_REJECTED"
    resp = author.post("/v1/requests", {**REQUEST, "location": {"address": "违禁路1号"}})
    assert resp.status == 400 and resp.error_code == "CONTENT_REJECTED"
    assert author.get("/v1/requests/mine").json["items"] == []


@pytest.mark.parametrize("body,field", [
    ({**REQUEST, "category": "火箭发射"}, "category"),
    ({k: v for k, v in REQUEST.items() if k != "category"}, "category"),
    ({**REQUEST, "content": ""}, "content"),
    ({**REQUEST, "content": "   \n\t "}, "content"),
    ({**REQUEST, "content": "垃圾\x07没人清"}, "content"),
    ({**REQUEST, "content": "垃圾\u202e没人清"}, "content"),
    ({**REQUEST, "content": "字" * 501}, "content"),
    ({**REQUEST, "content": 12345}, "content"),
    ({**REQUEST, "urgent": "yes"}, "urgent"),
    ({**REQUEST, "location": {"address": "幸福\n小区"}}, "address"),
    ({**REQUEST, "location": {"address": "幸福小区", "lat": 91}}, "lat"),
])
def test_bad_submissions_are_400_naming_the_field(town, author, body, field):
    resp = author.post("/v1/requests", body)
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert field in str(resp.json["error"]["details"].get("field")), resp.body


@pytest.mark.parametrize("action,body", [
    ("escalate", {"reason": " \n "}), ("escalate", {}), ("escalate", {"reason": "理由\x00"}),
    ("resolve", {"note": ""}), ("resolve", {"note": "好了\x1b"}),
    ("rate", {"satisfaction": 0}), ("rate", {"satisfaction": 6}), ("rate", {"satisfaction": "5"}),
    ("rate", {"satisfaction": 4, "comment": "好\u2066"}),
])
def test_bad_step_bodies_are_400(town, author, action, body):
    resp = town.worker0.post("/v1/requests/rq_any/" + action, body)
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body


def test_eleventh_request_of_a_day_is_rate_limited(town):
    busy = town.a.resident(0)
    for _ in range(10):
        submit(busy, content="路灯不亮")
    resp = busy.post("/v1/requests", REQUEST)
    assert resp.status == 429 and resp.error_code == "RATE_LIMITED"
    assert len(all_pages(busy, "/v1/requests/mine?limit=3")) == 10
    with travel(timedelta(days=1)):
        busy.relogin()  # a day later the mini-program is opened again (WeChat's content check wants a recent visit)
        submit(busy)  # a new day


def test_the_daily_cap_is_a_community_setting(api):
    strict = make_community(api)
    strict.set(request_submit_daily_cap=2)
    busy = strict.resident(0)
    submit(busy)
    submit(busy)
    resp = busy.post("/v1/requests", REQUEST)
    assert resp.status == 429 and resp.json["error"]["details"]["cap"] == 2


def test_outsiders_cannot_submit(town):
    resp = town.outsider.post("/v1/requests", REQUEST)
    assert resp.status == 409 and resp.error_code == "NOT_IN_COMMUNITY"
    resp = town.staff.post("/v1/requests", REQUEST)  # staff of a street, in no community
    assert resp.status == 409 and resp.error_code == "NOT_IN_COMMUNITY"


# --- privacy ---------------------------------------------------------------------------------------------------

def test_nobody_else_even_learns_a_request_exists(town, author):
    rid = submit(author)["id"]
    strangers = [town.a.resident(0), town.worker1, town.b_admin, town.b_worker, town.staff, town.other_staff,
                 town.outsider]
    for at in ("grid", "community", "street"):
        if at == "community":
            step(town.worker0, rid, "escalate", {"reason": "上报"})
            strangers.remove(town.staff)  # the street oversees the community level (延期, 督办): it sees it now
        if at == "street":
            step(town.admin, rid, "escalate", {"reason": "上报"})
        for who in strangers:
            where = (at, who.name)
            assert who.get(f"/v1/requests/{rid}").status == 404, where
            for action, body in (("accept", {}), ("escalate", {"reason": "x"}), ("resolve", {"note": "x"}),
                                 ("rate", {"satisfaction": 5})):
                assert refused(who, rid, action, body) == (404, "NOT_FOUND"), (where, action)
            assert rid not in [r["id"] for r in who.get("/v1/requests/mine").json["items"]], where
    step(town.staff, rid, "accept")
    step(town.staff, rid, "resolve", {"note": "已处理"})
    for who in strangers:
        assert who.get(f"/v1/requests/{rid}").status == 404
    for who in (author, town.worker0, town.admin, town.staff):  # the author and every level it reached
        assert who.get(f"/v1/requests/{rid}").status == 200


def test_the_authors_phone_is_shown_to_handlers(town, wechat):
    author = town.a.resident(0)
    assert author.post("/v1/me/phone", {"code": wechat.issue_phone_code("13912345678")}).status == 200
    rid = submit(author)["id"]
    for who in (author, town.worker0, town.admin):
        assert who.get(f"/v1/requests/{rid}").json["author"]["phone"] == "13912345678"
    step(town.worker0, rid, "escalate", {"reason": "上报"})
    step(town.admin, rid, "escalate", {"reason": "上报"})
    assert town.staff.get(f"/v1/requests/{rid}").json["author"]["phone"] == "13912345678"
    [item] = [t["request"] for t in all_pages(town.staff, "/v1/street/tasks") if t["request"]["id"] == rid]
    assert item["author"]["phone"] == "13912345678"


# --- idempotency, 注销 -------------------------------------------------------------------------------------------

def test_a_repeated_submission_returns_the_first_answer_and_writes_nothing(town, author):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = author.post("/v1/requests", REQUEST, headers=key)
    assert first.status == 201
    again = author.post("/v1/requests", REQUEST, headers=key)
    assert again.status == 201 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert author.api.last_meter.writes == 0 and sum(author.api.last_meter.wechat.values()) == 0
    assert [r["id"] for r in author.get("/v1/requests/mine").json["items"]] == [first.json["id"]]
    assert request_messages(town.worker0.id, first.json["id"]) == ["request_new"]


def test_a_repeated_step_returns_the_first_answer_and_writes_nothing(town, author):
    rid = submit(author)["id"]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = town.worker0.post(f"/v1/requests/{rid}/escalate", {"reason": "上报社区"}, headers=key)
    assert first.status == 200
    again = town.worker0.post(f"/v1/requests/{rid}/escalate", {"reason": "上报社区"}, headers=key)
    assert again.status == 200 and again.json == first.json and town.worker0.api.last_meter.writes == 0
    stored = author.get(f"/v1/requests/{rid}").json
    assert [e["action"] for e in stored["timeline"]] == ["submit", "escalate"] and stored["level"] == "community"
    assert request_messages(town.admin.id, rid) == ["request_escalated"]
    # A refusal under a key is replayed as well.
    key = {"Idempotency-Key": str(uuid.uuid4())}
    no = town.worker0.post(f"/v1/requests/{rid}/accept", headers=key)
    assert no.status == 403 and town.worker0.post(f"/v1/requests/{rid}/accept", headers=key).json == no.json


def test_a_leaving_author_is_erased_and_the_request_stays_with_its_handlers(town, wechat):
    author = town.a.resident(0)
    author.patch("/v1/me", {"nickname": "要走的人"})
    author.post("/v1/me/phone", {"code": wechat.issue_phone_code("13811112222")})
    rid = submit(author)["id"]
    step(town.worker0, rid, "accept")
    assert town.worker0.get(f"/v1/requests/{rid}").json["author"]["nickname"] == "要走的人"
    assert author.delete("/v1/me").status == 204
    seen = town.worker0.get(f"/v1/requests/{rid}").json
    assert seen["status"] == "accepted" and seen["author"]["phone"] is None
    assert seen["author"]["nickname"] != "要走的人" and seen["location"] is None
    assert "要走的人" not in town.admin.get(f"/v1/requests/{rid}").body.decode()  # nor in the timeline's steps
    submitted = seen["timeline"][0]
    assert submitted["action"] == "submit" and submitted["actor"]["id"] == author.id
    assert submitted["actor"]["nickname"] == seen["author"]["nickname"] == "已注销用户"
    assert seen["timeline"][1]["actor"]["id"] == town.worker0.id  # the handlers' steps are theirs, untouched
    stored = RequestModel.get(rid)
    assert stored.author_phone is None and stored.address is None
    assert "13811112222" not in str(stored.serialize())
    done = step(town.worker0, rid, "resolve", {"note": "已处理"})
    assert done["status"] == "resolved"
    assert rid in request_tasks(town.admin, "/v1/admin/requests?view=all")


# --- statistics ------------------------------------------------------------------------------------------------

class KnownSet:
    """Eight requests of community C (in street S with community D, which has one), each with a known fate:

    | id | category | grid | answered          | then                                      | facts                      |
    |----|----------|------|-------------------|-------------------------------------------|----------------------------|
    | r1 | 环境卫生  | g0   | at once           | resolved, rated 5                         | satisfied                  |
    | r2 | 设施维修  | g0   | at once           | resolved, 1 (reopened), resolved, 2       | reopened, unsatisfied      |
    | r3 | 环境卫生  | g1   | after 3 h (late)  | resolved after 3 h, never rated (7 days)  | late, unrated              |
    | r4 | 邻里纠纷  | g0   | never at the grid | auto-escalated after 2 h, admin answers, never solved | late, escalated, overdue |
    | r5 | 其他      | g1   | at once           | escalated, admin resolves, rated 3        | escalated, satisfied       |
    | r6 | 设施维修  | g1   | after 3 h (late)  | never solved                              | late, overdue              |
    | r7 | 环境卫生  | g0   | at once           | resolved, rated 4                         | satisfied                  |
    | r9 | 治安隐患  | g1   | at once           | escalated; the community never answers: auto-escalated (late); the street answers, resolves after 3 h, rated 5 | escalated, late, satisfied |
    | r8 | (D) 其他  | D    | at once           | resolved, rated 5                         | satisfied                  |
    """


@pytest.fixture(scope="module")
def known(api, town):
    from tongxin.usecases import requests as request_usecases
    k = KnownSet()
    k.c, k.d = make_community(api), make_community(api)
    k.street = streets.create_street("统计街道")["id"]
    streets.attach_community(k.street, k.c.id)
    streets.attach_community(k.street, k.d.id)
    k.staff = street_staff(api, k.street)
    w0, w1, admin = k.c.grid_worker(0), k.c.grid_worker(1), k.c.admin
    a0, a1 = k.c.resident(0), k.c.resident(1)
    k.ids = r = {}
    for name, who, category in (("r1", a0, "环境卫生"), ("r2", a0, "设施维修"), ("r3", a1, "环境卫生"),
                                ("r4", a0, "邻里纠纷"), ("r5", a1, "其他"), ("r6", a1, "设施维修"),
                                ("r7", a0, "环境卫生"), ("r9", a1, "治安隐患")):
        r[name] = submit(who, category=category)["id"]
    for name, worker in (("r1", w0), ("r2", w0), ("r5", w1), ("r7", w0), ("r9", w1)):
        step(worker, r[name], "accept")
    for name in ("r1", "r2", "r7"):
        step(w0, r[name], "resolve", {"note": "已处理"})
    step(a0, r["r1"], "rate", {"satisfaction": 5})
    step(a0, r["r7"], "rate", {"satisfaction": 4})
    step(a0, r["r2"], "rate", {"satisfaction": 1})
    step(w0, r["r2"], "resolve", {"note": "重新处理"})
    step(a0, r["r2"], "rate", {"satisfaction": 2})
    step(w1, r["r5"], "escalate", {"reason": "需社区出面"})
    step(admin, r["r5"], "accept")
    step(admin, r["r5"], "resolve", {"note": "社区已协调"})
    step(a1, r["r5"], "rate", {"satisfaction": 3})
    step(w1, r["r9"], "escalate", {"reason": "需社区出面"})  # answered in time at the grid
    d_author, d_worker = k.d.resident(0), k.d.grid_worker(0)
    r["r8"] = submit(d_author, category="其他")["id"]
    step(d_worker, r["r8"], "accept")
    step(d_worker, r["r8"], "resolve", {"note": "已处理"})
    step(d_author, r["r8"], "rate", {"satisfaction": 5})
    with travel(timedelta(hours=3)):
        for handler in (w1, k.staff):  # three hours on: they open the mini-program again (content checks want it)
            handler.relogin()
        step(w1, r["r3"], "accept")  # past the two hours: late
        step(w1, r["r6"], "accept")
        step(w1, r["r3"], "resolve", {"note": "已处理"})
        assert request_usecases.run_schedule()["auto_escalate"] >= 1  # r4: nobody answered at the grid
        assert author_view(a0, r["r4"])["level"] == "community"
        step(admin, r["r4"], "accept")
        assert author_view(a1, r["r9"])["level"] == "street"  # the community did not answer in two hours
        step(k.staff, r["r9"], "accept")
        step(k.staff, r["r9"], "resolve", {"note": "街道已协调派出所"})
        step(a1, r["r9"], "rate", {"satisfaction": 5})
    with travel(timedelta(hours=76)):
        request_usecases.run_schedule()  # r4 (community) and r6 (grid) past their three days
    with travel(timedelta(days=8)):
        request_usecases.run_schedule()  # r3 resolved and never rated
    k.final = {name: author_view(a0 if name in ("r1", "r2", "r4", "r7") else a1, rid)
               for name, rid in r.items() if name != "r8"}
    return k


def author_view(author, request_id):
    resp = author.get(f"/v1/requests/{request_id}")
    assert resp.status == 200, resp.body
    return resp.json


RATES = ("response_rate", "resolution_rate", "satisfaction_rate")


def counts(view, *names):
    return {name: view[name] for name in names}


def test_the_known_set_reached_the_fates_it_was_built_for(known):
    f = known.final
    assert {n: (v["status"], v["outcome"]) for n, v in f.items()} == {
        "r1": ("closed", "satisfied"), "r2": ("closed", "unsatisfied"), "r3": ("closed", "unrated"),
        "r4": ("accepted", None), "r5": ("closed", "satisfied"), "r6": ("accepted", None),
        "r7": ("closed", "satisfied"), "r9": ("closed", "satisfied")}
    assert {n for n, v in f.items() if v["late"]} == {"r3", "r4", "r6", "r9"}
    assert {n for n, v in f.items() if v["overdue"]} == {"r4", "r6"}
    assert f["r4"]["levels_reached"] == ["grid", "community"] and f["r4"]["level"] == "community"
    assert f["r9"]["levels_reached"] == ["grid", "community", "street"]


def test_community_rates_on_the_known_set(known):
    resp = known.c.admin.get("/v1/admin/requests/stats")
    assert resp.status == 200, resp.body
    s = resp.json
    assert (s["scope"], s["community_id"], s["street_id"], s["by_community"]) == ("community", known.c.id, None, None)
    assert counts(s, "received", "answered", "answered_on_time", "late", "escalated", "resolved", "overdue",
                  "reopened", "satisfied", "unsatisfied", "unrated") == {
        "received": 8, "answered": 8, "answered_on_time": 5, "late": 4, "escalated": 3, "resolved": 6,
        "overdue": 2, "reopened": 1, "satisfied": 4, "unsatisfied": 1, "unrated": 1}
    # 响应率: of the 8 requests' first answers, 5 came in time (r9's first answer, at the grid, was in time: the
    # community's lateness after it does not make it count twice).
    assert counts(s, *RATES) == {"response_rate": 0.625, "resolution_rate": 0.75, "satisfaction_rate": 0.8}
    # Answers: five within 5 minutes, three after 3 h (the 2–4 h bucket): the median, 4th of 8, interpolated in
    # the first bucket is 5 x 4/5 minutes. Resolutions: four within the hour, two at 3 h: 1 x 3/4 hours.
    assert (s["median_minutes_to_answer"], s["median_hours_to_resolve"]) == (4.0, 0.75)
    cat = s["by_category"]
    assert set(cat) == {"环境卫生", "设施维修", "邻里纠纷", "其他", "治安隐患"}
    assert counts(cat["环境卫生"], "received", "answered_on_time", "late", "resolved", "satisfied", "unrated",
                  *RATES) == {"received": 3, "answered_on_time": 2, "late": 1, "resolved": 3, "satisfied": 2,
                              "unrated": 1, "response_rate": 0.6667, "resolution_rate": 1.0,
                              "satisfaction_rate": 1.0}
    assert counts(cat["设施维修"], "received", "late", "resolved", "overdue", "reopened", "unsatisfied", *RATES) == {
        "received": 2, "late": 1, "resolved": 1, "overdue": 1, "reopened": 1, "unsatisfied": 1,
        "response_rate": 0.5, "resolution_rate": 0.5, "satisfaction_rate": 0.0}
    assert counts(cat["邻里纠纷"], "received", "answered", "late", "escalated", "overdue", *RATES) == {
        "received": 1, "answered": 1, "late": 1, "escalated": 1, "overdue": 1, "response_rate": 0.0,
        "resolution_rate": 0.0, "satisfaction_rate": None}
    assert counts(cat["其他"], "received", "escalated", "resolved", "satisfied", *RATES) == {
        "received": 1, "escalated": 1, "resolved": 1, "satisfied": 1, "response_rate": 1.0,
        "resolution_rate": 1.0, "satisfaction_rate": 1.0}
    assert counts(cat["治安隐患"], "received", "answered_on_time", "late", "escalated", "satisfied", *RATES) == {
        "received": 1, "answered_on_time": 1, "late": 1, "escalated": 1, "satisfied": 1, "response_rate": 1.0,
        "resolution_rate": 1.0, "satisfaction_rate": 1.0}
    g0, g1 = known.c.grid_ids
    assert set(s["by_grid"]) == {g0, g1}
    assert counts(s["by_grid"][g0], "received", "answered_on_time", "late", "resolved", "escalated", "overdue",
                  "satisfied", "unsatisfied", *RATES) == {
        "received": 4, "answered_on_time": 3, "late": 1, "resolved": 3, "escalated": 1, "overdue": 1,
        "satisfied": 2, "unsatisfied": 1, "response_rate": 0.75, "resolution_rate": 0.75,
        "satisfaction_rate": 0.6667}
    assert counts(s["by_grid"][g1], "received", "answered_on_time", "late", "resolved", "escalated", "overdue",
                  "satisfied", "unrated", *RATES) == {
        "received": 4, "answered_on_time": 2, "late": 3, "resolved": 3, "escalated": 2, "overdue": 1,
        "satisfied": 2, "unrated": 1, "response_rate": 0.5, "resolution_rate": 0.75, "satisfaction_rate": 1.0}


def test_street_rates_on_the_known_set_by_community(known):
    resp = known.staff.get("/v1/admin/requests/stats")
    assert resp.status == 200, resp.body
    s = resp.json
    assert (s["scope"], s["street_id"], s["community_id"], s["by_grid"]) == ("street", known.street, None, None)
    assert counts(s, "received", "answered_on_time", "late", "resolved", "satisfied", "unsatisfied", "unrated",
                  *RATES) == {"received": 9, "answered_on_time": 6, "late": 4, "resolved": 7, "satisfied": 5,
                              "unsatisfied": 1, "unrated": 1, "response_rate": 0.6667, "resolution_rate": 0.7778,
                              "satisfaction_rate": 0.8333}
    assert set(s["by_category"]) == {"环境卫生", "设施维修", "邻里纠纷", "其他", "治安隐患"}
    assert s["by_category"]["其他"]["received"] == 2  # r5 and D's r8
    by = {c["community_id"]: c for c in s["by_community"]}
    assert [c["community_id"] for c in s["by_community"]] == sorted(by)
    assert set(by) == {known.c.id, known.d.id} and by[known.d.id]["name"]
    assert counts(by[known.c.id], "received", *RATES) == {"received": 8, "response_rate": 0.625,
                                                            "resolution_rate": 0.75, "satisfaction_rate": 0.8}
    assert counts(by[known.d.id], "received", "satisfied", *RATES) == {
        "received": 1, "satisfied": 1, "response_rate": 1.0, "resolution_rate": 1.0, "satisfaction_rate": 1.0}
    named = known.staff.get(f"/v1/admin/requests/stats?street_id={known.street}")
    assert named.status == 200 and named.json["received"] == 9


def test_stats_are_refused_to_everyone_else(known, town):
    assert town.staff.get(f"/v1/admin/requests/stats?street_id={known.street}").status == 403  # another street
    assert known.c.admin.get(f"/v1/admin/requests/stats?street_id={known.street}").status == 403
    assert known.c.grid_worker(0).get("/v1/admin/requests/stats").status == 403
    assert town.outsider.get("/v1/admin/requests/stats").status == 403
    other = town.admin.get("/v1/admin/requests/stats").json  # another community's admin: their own numbers
    assert other["community_id"] == town.a.id


def test_stats_window_counts_by_submission_day(known):
    from tongxin.domain.clock import to_api, utcnow
    now = utcnow()
    assert known.c.admin.get("/v1/admin/requests/stats").json["received"] == 8
    past = known.c.admin.api.get(
        f"/v1/admin/requests/stats?from={to_api(now - timedelta(days=30))}&to={to_api(now - timedelta(days=2))}"
        .replace("+", "%2B"), token=known.c.admin.token)
    assert past.status == 200, past.body
    assert past.json["received"] == 0 and past.json["response_rate"] is None and past.json["by_grid"] == {}
    backwards = known.c.admin.get(f"/v1/admin/requests/stats?from={to_api(now)}&to={to_api(now - timedelta(days=1))}"
                                  .replace("+", "%2B"))
    assert backwards.status == 400 and backwards.error_code == "VALIDATION_FAILED"


def test_stats_cost_does_not_grow_with_the_number_of_requests(api):
    small = make_community(api)
    street = streets.create_street("计数街道")["id"]
    streets.attach_community(street, small.id)
    staff = street_staff(api, street)
    author = small.resident(0)

    def cost():
        spent = {}
        for who in (small.admin, staff):
            resp = who.get("/v1/admin/requests/stats")
            assert resp.status == 200, resp.body
            spent[who.id] = (dict(who.api.last_meter.dynamo), resp.json["received"])
        return spent

    submit(author)
    first = cost()
    for _ in range(6):
        submit(author)
    second = cost()
    assert [n for _, n in first.values()] == [1, 1] and [n for _, n in second.values()] == [7, 7]
    assert [calls for calls, _ in first.values()] == [calls for calls, _ in second.values()]
    admin_calls = first[small.admin.id][0]
    assert admin_calls.get("Query", 0) == 0 and admin_calls.get("Scan", 0) == 0
