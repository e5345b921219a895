"""街呼区应 (issue 22, part A): the fourth level over HTTP — a street 吹哨 to a department of its district, which answers
and solves by its own limits; the departments a street may choose; who sees a request up there (department staff
once it reached their department, the district's staff once it reached the street) and who acts; the scheduler at
the department; the operator's removal and 注销 of department staff."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from tests.api.requests_region import at_department, at_street, make_region, staff
from tests.api.test_requests import all_pages, refused, request_messages, request_tasks, step, submit
from tongxin.adapters.dynamo.models import DepartmentModel, DistrictModel, RequestModel
from tongxin.domain.clock import SHANGHAI, travel, utcnow
from tongxin.usecases import districts, streets
from tongxin.usecases import requests as request_usecases


@pytest.fixture(scope="module")
def r(api, fresh_tables_per_module):
    return make_region(api)


@pytest.fixture
def author(r):
    return r.a.resident(0)


def shanghai_month(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m")


def minutes_between(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() / 60


# --- the departments a street may choose -------------------------------------------------------------------------

def test_street_staff_list_the_departments_of_their_district(r, api):
    resp = r.street_staff.get("/v1/street/departments")
    assert resp.status == 200, resp.body
    assert resp.json == {"street_id": r.street, "district_id": r.district,
                         "items": sorted([{"id": r.cg, "name": "城管局"}, {"id": r.zj, "name": "住建局"}],
                                         key=lambda d: d["name"])}
    assert r.lone_street_staff.get("/v1/street/departments").json == {"street_id": r.lone_street,
                                                                     "district_id": None, "items": []}
    for who in (r.admin, r.worker0, r.cg_staff, r.district_staff, r.outsider):
        assert who.get("/v1/street/departments").status == 403, who.name
    assert r.street_staff.get(f"/v1/street/departments?street_id={r.lone_street}").status == 403  # not theirs
    both = staff(api, streets.add_staff, r.street)
    streets.add_staff(r.lone_street, both.id)
    unnamed = both.get("/v1/street/departments")
    assert unnamed.status == 400 and unnamed.json["error"]["details"]["field"] == "street_id"
    named = both.get(f"/v1/street/departments?street_id={r.street}")
    assert named.status == 200 and len(named.json["items"]) == 2


# --- the fourth level ------------------------------------------------------------------------------------------

def test_the_street_escalates_to_a_department_which_answers_and_solves(r, author):
    rid = at_street(r, author)
    step(r.street_staff, rid, "accept")
    up = step(r.street_staff, rid, "escalate", {"reason": "占道经营，需城管执法", "department_id": r.cg})
    assert (up["status"], up["level"], up["level_label"], up["levels_reached"]) == \
        ("escalated", "department", "区直部门", ["grid", "community", "street", "department"])
    assert up["department"] == {"id": r.cg, "name": "城管局"} and up["district_id"] == r.district
    # The department's own clock: the district's defaults, 240 minutes to answer and 5 days to solve.
    assert (up["answer_minutes"], up["solve_minutes"]) == (240, 5 * 24 * 60)
    assert 239 < minutes_between(up["answer_due"], up["timeline"][-1]["at"]) <= 240
    assert request_tasks(r.cg_staff, "/v1/department/tasks")[rid] == "answer_request"
    assert rid not in request_tasks(r.street_staff, "/v1/street/tasks")
    assert rid not in request_tasks(r.zj_staff, "/v1/department/tasks")
    accepted = step(r.cg_staff, rid, "accept")
    assert accepted["handler"]["id"] == r.cg_staff.id and accepted["status"] == "accepted"
    assert request_tasks(r.cg_staff, "/v1/department/tasks")[rid] == "solve_request"
    done = step(r.cg_staff, rid, "resolve", {"note": "城管已清理占道摊位"})
    assert done["status"] == "resolved" and rid not in request_tasks(r.cg_staff, "/v1/department/tasks")
    back = step(author, rid, "rate", {"satisfaction": 1, "comment": "第二天又摆回来了"})
    assert (back["status"], back["level"]) == ("reopened", "department")
    assert 5 * 24 * 60 - 1 < minutes_between(back["solve_due"], back["timeline"][-1]["at"]) <= 5 * 24 * 60
    step(r.cg_staff, rid, "resolve", {"note": "已安排每日巡查"})
    closed = step(author, rid, "rate", {"satisfaction": 4})
    assert (closed["status"], closed["outcome"]) == ("closed", "satisfied")
    assert [(e["action"], e["level"], e["actor"]["role"]) for e in closed["timeline"]][3:] == [
        ("accept", "street", "street_staff"), ("escalate", "street", "street_staff"),
        ("accept", "department", "department_staff"), ("resolve", "department", "department_staff"),
        ("reopen", "department", "resident"), ("resolve", "department", "department_staff"),
        ("close", "department", "resident")]
    assert all(e["level_label"] for e in closed["timeline"])
    assert request_messages(r.cg_staff.id, rid) == ["request_escalated", "request_reopened"]
    assert request_messages(r.zj_staff.id, rid) == [] and request_messages(r.district_staff.id, rid) == []
    assert request_messages(author.id, rid).count("request_accepted") == 2  # by the street, by the department


def test_a_department_works_by_its_own_limits(r, author):
    rid = at_street(r, author)
    up = step(r.street_staff, rid, "escalate", {"reason": "楼体外墙脱落", "department_id": r.zj})
    assert (up["answer_minutes"], up["solve_minutes"]) == (60, 2 * 24 * 60)
    assert up["department"]["name"] == "住建局"


def test_a_districts_own_settings_are_its_departments_defaults(api):
    from tests.support import make_community
    c = make_community(api, grids=1)
    street = streets.create_street("设置街道")["id"]
    streets.attach_community(street, c.id)
    district = districts.create_district("设置区", answer_minutes=120, solve_days=3)["id"]
    districts.attach_street(district, street)
    department = districts.add_department(district, "水务局")["id"]
    street_staff = staff(api, streets.add_staff, street)
    author, worker = c.resident(0), c.grid_worker(0)
    rid = submit(author)["id"]
    step(worker, rid, "escalate", {"reason": "上报"})
    step(c.admin, rid, "escalate", {"reason": "上报"})
    up = step(street_staff, rid, "escalate", {"reason": "管道破裂", "department_id": department})
    assert (up["answer_minutes"], up["solve_minutes"]) == (120, 3 * 24 * 60)


@pytest.mark.parametrize("level", ["grid", "community"])
def test_naming_a_department_below_the_street_is_400(r, author, level):
    rid = submit(author)["id"]
    who = r.worker0
    if level == "community":
        step(r.worker0, rid, "escalate", {"reason": "上报"})
        who = r.admin
    resp = who.post(f"/v1/requests/{rid}/escalate", {"reason": "直接找城管", "department_id": r.cg})
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert resp.json["error"]["details"]["field"] == "department_id"
    assert author.get(f"/v1/requests/{rid}").json["level"] == level


def test_the_street_must_name_a_department_of_its_own_district(r, author):
    rid = at_street(r, author)
    missing = r.street_staff.post(f"/v1/requests/{rid}/escalate", {"reason": "需要区里协调"})
    assert missing.status == 400 and missing.error_code == "VALIDATION_FAILED"
    assert missing.json["error"]["details"]["field"] == "department_id"
    elsewhere = r.street_staff.post(f"/v1/requests/{rid}/escalate", {"reason": "需要区里协调",
                                                                    "department_id": r.other_dept})
    assert elsewhere.status == 400 and elsewhere.json["error"]["details"]["field"] == "department_id"
    unknown = r.street_staff.post(f"/v1/requests/{rid}/escalate", {"reason": "需要区里协调",
                                                                  "department_id": "dp_nothing"})
    assert unknown.status == 404 and unknown.error_code == "NOT_FOUND"
    bad = r.street_staff.post(f"/v1/requests/{rid}/escalate", {"reason": "需要区里协调", "department_id": "坏 id"})
    assert bad.status == 400 and bad.json["error"]["details"]["field"] == "department_id"
    stored = author.get(f"/v1/requests/{rid}").json
    assert (stored["level"], stored["status"], stored["department"]) == ("street", "escalated", None)
    assert [e["action"] for e in stored["timeline"]] == ["submit", "escalate", "escalate"]


def test_no_level_above_a_department_and_no_department_for_a_street_in_no_district(r, author):
    rid = at_department(r, author)
    resp = r.cg_staff.post(f"/v1/requests/{rid}/escalate", {"reason": "再往上", "department_id": r.zj})
    assert resp.status == 409 and resp.error_code == "INVALID_STATE"
    step(r.cg_staff, rid, "accept")
    assert refused(r.cg_staff, rid, "escalate", {"reason": "再往上"}) == (409, "INVALID_STATE")
    lone_author, lone_worker = r.lone.resident(0), r.lone.grid_worker(0)
    lone = submit(lone_author)["id"]
    step(lone_worker, lone, "escalate", {"reason": "上报"})
    step(r.lone.admin, lone, "escalate", {"reason": "上报"})
    resp = r.lone_street_staff.post(f"/v1/requests/{lone}/escalate", {"reason": "找区里", "department_id": r.cg})
    assert resp.status == 409 and resp.error_code == "INVALID_STATE"


def test_escalating_twice_and_replaying_the_first_answer(r, author):
    rid = at_street(r, author)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"reason": "需城管执法", "department_id": r.cg}
    first = r.street_staff.post(f"/v1/requests/{rid}/escalate", body, headers=key)
    assert first.status == 200, first.body
    again = r.street_staff.post(f"/v1/requests/{rid}/escalate", body, headers=key)
    assert again.status == 200 and again.json == first.json and r.street_staff.api.last_meter.writes == 0
    # Without the key the second is a new request: the street no longer handles it.
    assert refused(r.street_staff, rid, "escalate", body) == (403, "FORBIDDEN")
    assert request_messages(r.cg_staff.id, rid) == ["request_escalated"]


# --- who sees, who acts --------------------------------------------------------------------------------------

def test_who_sees_a_request_on_its_way_up(r, author):
    rid = submit(author)["id"]
    above = (r.street_staff, r.district_staff, r.cg_staff, r.other_district_staff, r.other_dept_staff)
    assert [w.get(f"/v1/requests/{rid}").status for w in above] == [404, 404, 404, 404, 404]
    step(r.worker0, rid, "escalate", {"reason": "上报"})  # the community: the street oversees it
    assert [w.get(f"/v1/requests/{rid}").status for w in above] == [200, 404, 404, 404, 404]
    assert refused(r.street_staff, rid, "accept") == (403, "FORBIDDEN")  # sees it, not its handler
    step(r.admin, rid, "escalate", {"reason": "上报"})  # the street: the district oversees it
    assert [w.get(f"/v1/requests/{rid}").status for w in above] == [200, 200, 404, 404, 404]
    assert refused(r.district_staff, rid, "accept") == (403, "FORBIDDEN")
    assert refused(r.cg_staff, rid, "accept") == (404, "NOT_FOUND")  # not yet the department's
    step(r.street_staff, rid, "escalate", {"reason": "需城管", "department_id": r.cg})
    assert [w.get(f"/v1/requests/{rid}").status for w in above] == [200, 200, 200, 404, 404]
    assert r.zj_staff.get(f"/v1/requests/{rid}").status == 404  # another department of the district
    for who in (r.street_staff, r.district_staff, r.admin, r.worker0, author):
        assert refused(who, rid, "accept") == (403, "FORBIDDEN"), who.name
    for who in (r.zj_staff, r.other_dept_staff, r.other_district_staff, r.outsider, r.worker1):
        assert refused(who, rid, "accept") == (404, "NOT_FOUND"), who.name
    for who in (author, r.admin, r.worker0):
        assert who.get(f"/v1/requests/{rid}").json["department"]["name"] == "城管局"
    assert r.cg_staff.post("/v1/requests", {"category": "其他", "content": "x"}).error_code == "NOT_IN_COMMUNITY"


def test_department_tasks_are_department_staffs_only_and_page_through_departments(r, api, author):
    for who in (r.street_staff, r.district_staff, r.admin, r.worker0, author, r.outsider):
        assert who.get("/v1/department/tasks").status == 403, who.name
    both = staff(api, districts.add_department_staff, r.cg)
    districts.add_department_staff(r.zj, both.id)
    here, there = at_department(r, author, r.cg), at_department(r, r.a.resident(0), r.zj)
    tasks = request_tasks(both, "/v1/department/tasks?limit=1")
    assert tasks[here] == "answer_request" and tasks[there] == "answer_request"
    assert there not in request_tasks(r.cg_staff, "/v1/department/tasks")
    [item] = [t["request"] for t in all_pages(both, "/v1/department/tasks") if t["request"]["id"] == here]
    assert item["department"]["id"] == r.cg and item["card"] == "none" and "timeline" not in item
    bad = both.get("/v1/department/tasks?cursor=not-a-cursor")
    assert bad.status == 400 and bad.json["error"]["details"]["field"] == "cursor"


def test_removed_department_staff_cannot_act_at_once(r, api, author):
    leaving = staff(api, districts.add_department_staff, r.cg)
    rid = at_department(r, author)
    assert leaving.get(f"/v1/requests/{rid}").status == 200
    districts.remove_department_staff(r.cg, leaving.id)
    assert refused(leaving, rid, "accept")[0] in (403, 404)  # the same token: the stored user decides
    assert leaving.get(f"/v1/requests/{rid}").status == 404
    assert leaving.get("/v1/department/tasks").status == 403
    assert leaving.id not in DepartmentModel.get(r.cg).staff_ids
    step(r.cg_staff, rid, "accept")


def test_a_request_submitted_before_its_street_joined_a_district_stays_below(api):
    from tests.support import make_community
    c = make_community(api, grids=1)
    street = streets.create_street("后入区街道")["id"]
    streets.attach_community(street, c.id)
    street_staff = staff(api, streets.add_staff, street)
    author, worker = c.resident(0), c.grid_worker(0)
    old = submit(author)["id"]
    district = districts.create_district("后来的区")["id"]
    districts.attach_street(district, street)
    department = districts.add_department(district, "城管局")["id"]
    new = submit(author)["id"]
    for rid in (old, new):
        step(worker, rid, "escalate", {"reason": "上报"})
        step(c.admin, rid, "escalate", {"reason": "上报"})
    resp = street_staff.post(f"/v1/requests/{old}/escalate", {"reason": "找区里", "department_id": department})
    assert resp.status == 409 and resp.error_code == "INVALID_STATE"  # its district was fixed when submitted
    assert step(street_staff, new, "escalate", {"reason": "找区里", "department_id": department})["level"] == \
        "department"


# --- the scheduler at the department, 注销 -------------------------------------------------------------------------

def department_row(r, month: str, department_id: str) -> dict:
    """The department's figures on the district's bulletin of ``month`` (live)."""
    resp = r.district_staff.relogin().get(f"/v1/district/bulletin?month={month}")
    assert resp.status == 200, resp.body
    [row] = [d for d in resp.json["departments"] if d["department"]["id"] == department_id]
    return row


COUNTED = ("received", "answered_on_time", "resolved_on_time", "overdue", "extended")


def test_the_scheduler_marks_a_department_late_and_overdue_and_tells_the_district(r, author):
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    before = department_row(r, month, r.cg)
    rid = at_department(r, author)
    assert shanghai_month(author.get(f"/v1/requests/{rid}").json["created_at"]) == month
    with travel(timedelta(minutes=241)):
        done = request_usecases.run_schedule()
        assert done["mark_late"] >= 1
        seen = author.get(f"/v1/requests/{rid}").json
        assert (seen["level"], seen["status"], seen["late"], seen["card"]) == \
            ("department", "escalated", True, "yellow")
        assert seen["timeline"][-1]["action"] == "mark_late"
        r.cg_staff.relogin()
        step(r.cg_staff, rid, "accept")
    with travel(timedelta(days=5, minutes=1)):
        assert request_usecases.run_schedule()["mark_overdue"] >= 1
        seen = author.get(f"/v1/requests/{rid}").json
        assert (seen["overdue"], seen["card"], seen["level"]) == (True, "red", "department")
    assert request_messages(r.district_staff.id, rid) == ["request_overdue"]
    assert request_messages(r.street_staff.id, rid) == ["request_escalated"]  # from the community, not overdue
    with travel(timedelta(days=5, minutes=2)):
        step(r.cg_staff.relogin(), rid, "resolve", {"note": "已处理"})
    # the department's own record: received, its first answer late (marked before it came), overdue, resolved late
    assert RequestModel.get(rid, consistent_read=True).department_facts == {"first_answer_late", "overdue",
                                                                              "resolved"}
    after = department_row(r, month, r.cg)
    added = {name: after[name] - before[name] for name in COUNTED}
    assert added["overdue"] >= 1  # the scheduler's run marked the module's other requests there overdue too
    assert {**added, "overdue": 1} == {"received": 1, "answered_on_time": 0, "resolved_on_time": 0, "overdue": 1,
                                       "extended": 0}


def test_a_street_overdue_tells_the_district(r, author):
    rid = at_street(r, author)
    step(r.street_staff, rid, "accept")
    with travel(timedelta(hours=73)):
        assert request_usecases.run_schedule()["mark_overdue"] >= 1
    assert request_messages(r.district_staff.id, rid) == ["request_overdue"]


def test_leaving_department_and_district_staff_leave_the_lists_whom_messages_reach(r, api):
    dept, district = staff(api, districts.add_department_staff, r.zj), staff(api, districts.add_district_staff,
                                                                               r.district)
    assert dept.id in DepartmentModel.get(r.zj).staff_ids and district.id in DistrictModel.get(r.district).staff_ids
    for who in (dept, district):
        assert who.delete("/v1/me").status == 204
        assert who.get("/v1/department/tasks").status == 401
    assert dept.id not in (DepartmentModel.get(r.zj, consistent_read=True).staff_ids or set())
    assert district.id not in (DistrictModel.get(r.district, consistent_read=True).staff_ids or set())


def test_a_request_counts_in_the_statistics_through_the_department(r, api):
    from tests.support import make_community
    c = make_community(api, grids=1)
    streets.attach_community(r.street, c.id)
    author, worker = c.resident(0), c.grid_worker(0)
    rid = submit(author)["id"]
    step(worker, rid, "escalate", {"reason": "上报"})
    step(c.admin, rid, "escalate", {"reason": "上报"})
    step(r.street_staff, rid, "escalate", {"reason": "城管", "department_id": r.cg})
    step(r.cg_staff, rid, "accept")
    step(r.cg_staff, rid, "resolve", {"note": "已处理"})
    step(author, rid, "rate", {"satisfaction": 5})
    s = c.admin.get("/v1/admin/requests/stats").json
    assert (s["received"], s["answered"], s["escalated"], s["resolved"], s["satisfied"]) == (1, 1, 1, 1, 1)


def test_the_demo_district_walks_a_request_to_its_department(api):
    """The local stack's demo (infra/local/seed.py): district1 and dept1 log in with dev:district1 / dev:dept1 like street1,
    and a request of res1 goes grid → community → street → 城管局, pressed by the district on the way."""
    from infra.local import seed
    seed.seed()
    res1, grid1, admin, street1, district1, dept1 = (api.login(name) for name in
                                                     ("res1", "grid1", "admin", "street1", "district1", "dept1"))
    assert (district1.user["roles"], district1.user["nickname"], district1.user["community_id"]) == \
        (["district_staff"], "区指挥中心小赵", None)
    assert (dept1.user["roles"], dept1.user["nickname"]) == (["department_staff"], "城管局老孙")
    departments = street1.get("/v1/street/departments").json
    assert departments["district_id"] == seed.DISTRICT_ID
    assert {d["name"]: d["id"] for d in departments["items"]} == seed.DEPARTMENT_IDS
    rid = submit(res1)["id"]
    assert view_of(res1, rid)["district_id"] == seed.DISTRICT_ID
    step(grid1, rid, "escalate", {"reason": "需要社区协调"})
    step(admin, rid, "escalate", {"reason": "需要街道协调"})
    step(district1, rid, "supervise", {"note": "请街道今天派单"})
    up = step(street1, rid, "escalate", {"reason": "占道经营需执法", "department_id": seed.DEPARTMENT_IDS["城管局"]})
    assert up["department"]["name"] == "城管局" and up["card"] == "yellow"
    assert request_tasks(dept1, "/v1/department/tasks")[rid] == "answer_request"
    step(dept1, rid, "accept")
    assert step(dept1, rid, "resolve", {"note": "已清理"})["status"] == "resolved"


def view_of(who, rid):
    resp = who.get(f"/v1/requests/{rid}")
    assert resp.status == 200, resp.body
    return resp.json
