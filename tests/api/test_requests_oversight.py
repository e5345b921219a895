"""延期 and 督办 (issue 22, part A) over HTTP: the current level's handler asks the level above for more days, once
per level (409 EXTENSION_USED), and that level approves (the solve limit moves) or rejects it; the level above
supervises (督办) the current handlers; every request carries its card (none, yellow, red) in lists and detail.
Sequences twice, out of order, by the wrong level, after a role was removed, and values at the edges."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from tests.api.requests_region import at_department, at_street, make_region, staff
from tests.api.test_requests import all_pages, messages, refused, request_messages, step, submit
from tongxin.adapters.dynamo.models import RequestModel
from tongxin.domain.clock import travel
from tongxin.usecases import districts, streets
from tongxin.usecases import requests as request_usecases


@pytest.fixture(scope="module")
def r(api, fresh_tables_per_module):
    return make_region(api)


@pytest.fixture
def author(r):
    return r.a.resident(0)


def accepted_at_grid(r, author) -> str:
    rid = submit(author)["id"]
    step(r.worker0, rid, "accept")
    return rid


def days_between(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() / 86400


def view(who, rid) -> dict:
    resp = who.get(f"/v1/requests/{rid}")
    assert resp.status == 200, resp.body
    return resp.json


# --- 延期 ---------------------------------------------------------------------------------------------------------

def test_the_grid_asks_and_the_community_approves(r, author):
    rid = accepted_at_grid(r, author)
    before = view(author, rid)
    asked = step(r.worker0, rid, "extend", {"days": 3, "reason": "需要等物业的维修材料"})
    assert asked["extension"]["level"] == "grid" and asked["extension"]["days"] == 3
    assert asked["extension"]["reason"] == "需要等物业的维修材料"
    assert asked["extension"]["asked_by"] == {"id": r.worker0.id, "nickname": asked["handler"]["nickname"]}
    assert asked["extensions_used"] == ["grid"] and asked["solve_due"] == before["solve_due"]  # the clock runs on
    assert request_messages(r.admin.id, rid) == ["request_extension_asked"]
    asked_msg = next(m for m in messages(r.admin.id, "request_extension_asked") if m.data["request_id"] == rid)
    assert asked_msg.data["days"] == 3 and asked_msg.data["reason"] == "需要等物业的维修材料"
    done = step(r.admin, rid, "extension/approve")
    assert done["extension"] is None and done["extensions_used"] == ["grid"]
    assert abs(days_between(done["solve_due"], before["solve_due"]) - 3) < 1e-6
    assert done["status"] == "accepted" and done["level"] == "grid"
    assert [(e["action"], e["actor"]["role"], e["note"]) for e in done["timeline"][-2:]] == [
        ("extend", "grid_worker", "申请延期 3 天：需要等物业的维修材料"), ("extension_approved", "admin", "同意延期 3 天")]
    assert sorted(request_messages(r.worker0.id, rid)) == ["request_extension_approved", "request_new"]
    # One per level: asked again (after the approval) is EXTENSION_USED.
    assert refused(r.worker0, rid, "extend", {"days": 1, "reason": "还要一天"}) == (409, "EXTENSION_USED")


def test_the_community_asks_and_the_street_rejects(r, author):
    rid = submit(author)["id"]
    step(r.worker0, rid, "escalate", {"reason": "上报"})
    step(r.admin, rid, "accept")
    before = view(author, rid)["solve_due"]
    step(r.admin, rid, "extend", {"days": 10, "reason": "需要业主大会表决"})
    assert request_messages(r.street_staff.id, rid) == ["request_extension_asked"]
    done = step(r.street_staff, rid, "extension/reject", {"reason": "三天内可以协调完"})
    assert done["extension"] is None and done["solve_due"] == before and done["extensions_used"] == ["community"]
    assert (done["timeline"][-1]["action"], done["timeline"][-1]["note"]) == ("extension_rejected", "驳回延期：三天内可以协调完")
    assert "request_extension_rejected" in request_messages(r.admin.id, rid)
    rejected = next(m for m in messages(r.admin.id, "request_extension_rejected") if m.data["request_id"] == rid)
    assert rejected.data["reason"] == "三天内可以协调完"
    assert refused(r.admin, rid, "extend", {"days": 2, "reason": "再申请一次"}) == (409, "EXTENSION_USED")
    # Each level has its own: passed up to the street, the street may ask the district.
    step(r.admin, rid, "escalate", {"reason": "社区协调不了"})
    step(r.street_staff, rid, "accept")
    asked = step(r.street_staff, rid, "extend", {"days": 5, "reason": "需要区里审批"})
    assert asked["extensions_used"] == ["community", "street"]
    assert request_messages(r.district_staff.id, rid) == ["request_extension_asked"]
    assert step(r.district_staff, rid, "extension/approve")["extension"] is None


def test_a_department_asks_the_district(r, author):
    rid = at_department(r, author)
    step(r.cg_staff, rid, "accept")
    before = view(author, rid)["solve_due"]
    step(r.cg_staff, rid, "extend", {"days": 1, "reason": "执法需要两天取证"})
    assert refused(r.street_staff, rid, "extension/approve") == (403, "FORBIDDEN")  # the street is below
    assert refused(r.other_district_staff, rid, "extension/approve") == (404, "NOT_FOUND")
    done = step(r.district_staff, rid, "extension/approve")
    assert abs(days_between(done["solve_due"], before) - 1) < 1e-6
    assert done["timeline"][-1]["actor"]["role"] == "district_staff"
    assert "request_extension_approved" in request_messages(r.cg_staff.id, rid)
    # the department's own record (its 通报 row): answered in its limit, extended there
    assert RequestModel.get(rid, consistent_read=True).department_facts == {"answered_on_time", "extended"}


@pytest.mark.parametrize("days,status", [(0, 400), (1, 200), (10, 200), (11, 400), (-1, 400), ("3", 400),
                                         (2.5, 400), (None, 400)])
def test_days_at_the_edges(r, author, days, status):
    rid = accepted_at_grid(r, author)
    body = {"reason": "等材料"} if days is None else {"days": days, "reason": "等材料"}
    resp = r.worker0.post(f"/v1/requests/{rid}/extend", body)
    assert resp.status == status, resp.body
    if status == 400:
        assert resp.error_code == "VALIDATION_FAILED" and resp.json["error"]["details"]["field"] == "days"
        assert view(author, rid)["extensions_used"] == []
    else:
        assert resp.json["extension"]["days"] == days


@pytest.mark.parametrize("path,body,field", [
    ("extend", {"days": 2, "reason": "  \n\t "}, "reason"), ("extend", {"days": 2}, "reason"),
    ("extend", {"days": 2, "reason": "字" * 201}, "reason"), ("extend", {"days": 2, "reason": "理由\x00"}, "reason"),
    ("extension/reject", {"reason": " "}, "reason"), ("extension/reject", {}, "reason"),
    ("supervise", {"note": "   "}, "note"), ("supervise", {}, "note"), ("supervise", {"note": "快\u202e办"}, "note"),
])
def test_empty_or_bad_text_is_400(r, author, path, body, field):
    rid = accepted_at_grid(r, author)
    resp = r.worker0.post(f"/v1/requests/{rid}/{path}", body)
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert resp.json["error"]["details"]["field"] == field


def test_only_the_handler_who_answered_asks_in_hand(r, author):
    rid = submit(author)["id"]
    assert refused(r.worker0, rid, "extend", {"days": 2, "reason": "等材料"}) == (409, "INVALID_STATE")  # unanswered
    step(r.worker0, rid, "accept")
    assert refused(r.colleague0, rid, "extend", {"days": 2, "reason": "等材料"}) == (403, "FORBIDDEN")
    assert refused(author, rid, "extend", {"days": 2, "reason": "等材料"}) == (403, "FORBIDDEN")
    assert refused(r.admin, rid, "extend", {"days": 2, "reason": "等材料"}) == (403, "FORBIDDEN")
    assert refused(r.worker1, rid, "extend", {"days": 2, "reason": "等材料"}) == (404, "NOT_FOUND")
    assert refused(r.street_staff, rid, "extend", {"days": 2, "reason": "等材料"}) == (404, "NOT_FOUND")
    step(r.worker0, rid, "resolve", {"note": "已处理"})
    assert refused(r.worker0, rid, "extend", {"days": 2, "reason": "等材料"}) == (409, "INVALID_STATE")
    step(author, rid, "rate", {"satisfaction": 1})  # reopened: the one who resolved it may ask
    assert step(r.worker0, rid, "extend", {"days": 2, "reason": "重新安排"})["extension"]["days"] == 2
    assert view(author, rid)["status"] == "reopened"


def test_twice_while_pending_and_decisions_out_of_order(r, author):
    rid = accepted_at_grid(r, author)
    assert refused(r.admin, rid, "extension/approve") == (409, "INVALID_STATE")  # nothing asked
    assert refused(r.admin, rid, "extension/reject", {"reason": "不行"}) == (409, "INVALID_STATE")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = r.worker0.post(f"/v1/requests/{rid}/extend", {"days": 4, "reason": "等材料"}, headers=key)
    again = r.worker0.post(f"/v1/requests/{rid}/extend", {"days": 4, "reason": "等材料"}, headers=key)
    assert first.status == again.status == 200 and again.json == first.json
    assert refused(r.worker0, rid, "extend", {"days": 4, "reason": "等材料"}) == (409, "EXTENSION_USED")  # pending
    assert refused(r.worker0, rid, "extension/approve") == (403, "FORBIDDEN")  # not the level above
    assert refused(author, rid, "extension/approve") == (403, "FORBIDDEN")
    assert refused(r.street_staff, rid, "extension/approve") == (404, "NOT_FOUND")  # does not see the grid level
    step(r.admin, rid, "extension/approve")
    assert refused(r.admin, rid, "extension/approve") == (409, "INVALID_STATE")  # decided already
    assert refused(r.admin, rid, "extension/reject", {"reason": "改主意了"}) == (409, "INVALID_STATE")
    assert [e["action"] for e in view(author, rid)["timeline"]].count("extend") == 1
    assert request_messages(r.admin.id, rid) == ["request_extension_asked"]


def test_a_pending_extension_lapses_when_the_request_moves_up_or_is_resolved(r, author):
    rid = accepted_at_grid(r, author)
    step(r.worker0, rid, "extend", {"days": 2, "reason": "等材料"})
    up = step(r.worker0, rid, "escalate", {"reason": "网格办不了"})
    assert up["extension"] is None and up["extensions_used"] == ["grid"]
    assert refused(r.admin, rid, "extension/approve") == (403, "FORBIDDEN")  # the community handles it now
    assert refused(r.street_staff, rid, "extension/approve") == (409, "INVALID_STATE")  # the grid's lapsed
    step(r.admin, rid, "accept")
    step(r.admin, rid, "extend", {"days": 2, "reason": "等业委会"})
    done = step(r.admin, rid, "resolve", {"note": "已协调"})
    assert done["extension"] is None
    assert refused(r.street_staff, rid, "extension/approve") == (409, "INVALID_STATE")


def test_no_level_above_to_ask(r, api):
    from tests.support import make_community
    lone = make_community(api, grids=1)  # a community in no street
    author, worker = lone.resident(0), lone.grid_worker(0)
    rid = submit(author)["id"]
    step(worker, rid, "escalate", {"reason": "上报"})
    step(lone.admin, rid, "accept")
    assert refused(lone.admin, rid, "extend", {"days": 2, "reason": "等"}) == (409, "INVALID_STATE")
    lone_author, lone_worker = r.lone.resident(0), r.lone.grid_worker(0)  # a street in no district
    rid = submit(lone_author)["id"]
    step(lone_worker, rid, "escalate", {"reason": "上报"})
    step(r.lone.admin, rid, "escalate", {"reason": "上报"})
    step(r.lone_street_staff, rid, "accept")
    assert refused(r.lone_street_staff, rid, "extend", {"days": 2, "reason": "等"}) == (409, "INVALID_STATE")
    assert view(lone_author, rid)["extensions_used"] == []


def test_nobody_approves_their_own_extension(r, author):
    both = r.a.with_roles(r.a.resident(0), ["admin", "grid_worker"], [0])  # an admin who also works grid 0
    rid = submit(author)["id"]
    step(both, rid, "accept")
    step(both, rid, "extend", {"days": 2, "reason": "等材料"})
    assert refused(both, rid, "extension/approve") == (403, "FORBIDDEN")
    step(r.admin, rid, "extension/approve")


def test_an_approver_whose_role_was_removed_cannot_decide(r, api, author):
    leaving = staff(api, districts.add_district_staff, r.district)
    rid = at_street(r, author)
    step(r.street_staff, rid, "accept")
    step(r.street_staff, rid, "extend", {"days": 3, "reason": "等区里"})
    districts.remove_district_staff(r.district, leaving.id)
    assert refused(leaving, rid, "extension/approve")[0] in (403, 404)
    assert refused(leaving, rid, "supervise", {"note": "快办"})[0] in (403, 404)
    assert view(author, rid)["extension"]["days"] == 3
    leaving_street = staff(api, streets.add_staff, r.street)
    rid2 = submit(author)["id"]
    step(r.worker0, rid2, "escalate", {"reason": "上报"})
    step(r.admin, rid2, "accept")
    step(r.admin, rid2, "extend", {"days": 3, "reason": "等街道"})
    streets.remove_staff(r.street, leaving_street.id)
    assert refused(leaving_street, rid2, "extension/reject", {"reason": "不行"})[0] in (403, 404)
    step(r.district_staff, rid, "extension/approve")


def test_a_pending_extension_does_not_stop_the_clock(r, author):
    rid = accepted_at_grid(r, author)
    step(r.worker0, rid, "extend", {"days": 5, "reason": "等材料"})
    with travel(timedelta(hours=73)):
        assert request_usecases.run_schedule()["mark_overdue"] >= 1
        seen = view(author, rid)
        assert seen["overdue"] and seen["card"] == "red" and seen["extension"]["days"] == 5
        r.admin.relogin()
        approved = step(r.admin, rid, "extension/approve")  # still decidable: the limit moves past now
        assert approved["card"] == "red"  # it was overdue: the mark stays


# --- 督办 and cards --------------------------------------------------------------------------------------------------

def test_the_community_supervises_the_grid(r, author):
    rid = submit(author)["id"]
    assert view(author, rid)["card"] == "none" and view(author, rid)["supervised"] is False
    pressed = step(r.admin, rid, "supervise", {"note": "居民反映多次，请今天处理"})
    assert (pressed["card"], pressed["supervised"], pressed["status"]) == ("yellow", True, "submitted")
    assert (pressed["timeline"][-1]["action"], pressed["timeline"][-1]["actor"]["role"],
            pressed["timeline"][-1]["note"]) == ("supervise", "admin", "居民反映多次，请今天处理")
    assert sorted(request_messages(r.worker0.id, rid)) == ["request_new", "request_supervised"]
    assert sorted(request_messages(r.colleague0.id, rid)) == ["request_new", "request_supervised"]  # the level's
    told = next(m for m in messages(r.worker0.id, "request_supervised") if m.data["request_id"] == rid)
    assert told.data["note"] == "居民反映多次，请今天处理" and told.data["by"] == "社区"
    again = step(r.admin, rid, "supervise", {"note": "再次督办"})  # twice: each pressed and recorded
    assert [e["action"] for e in again["timeline"]].count("supervise") == 2
    assert request_messages(r.worker0.id, rid).count("request_supervised") == 2
    # The card in every list: mine, the grid's tasks, the admin's.
    mine = [i for i in all_pages(author, "/v1/requests/mine") if i["id"] == rid]
    assert mine[0]["card"] == "yellow"
    tasks = [t["request"] for t in all_pages(r.worker0, "/v1/grid/tasks") if t.get("request", {}).get("id") == rid]
    assert tasks[0]["card"] == "yellow"
    listed = [t["request"] for t in all_pages(r.admin, "/v1/admin/requests?view=all") if t["request"]["id"] == rid]
    assert listed[0]["card"] == "yellow"


def test_only_the_level_above_supervises(r, author):
    rid = submit(author)["id"]
    for who, expected in ((r.worker0, (403, "FORBIDDEN")), (author, (403, "FORBIDDEN")),
                          (r.street_staff, (404, "NOT_FOUND")), (r.district_staff, (404, "NOT_FOUND")),
                          (r.cg_staff, (404, "NOT_FOUND")), (r.outsider, (404, "NOT_FOUND"))):
        assert refused(who, rid, "supervise", {"note": "快办"}) == expected, who.name
    step(r.worker0, rid, "escalate", {"reason": "上报"})
    assert refused(r.admin, rid, "supervise", {"note": "快办"}) == (403, "FORBIDDEN")  # its own level now
    step(r.street_staff, rid, "supervise", {"note": "街道督办"})
    assert "request_supervised" in request_messages(r.admin.id, rid)
    step(r.admin, rid, "escalate", {"reason": "上报"})
    assert refused(r.street_staff, rid, "supervise", {"note": "快办"}) == (403, "FORBIDDEN")
    step(r.district_staff, rid, "supervise", {"note": "区里督办"})
    assert "request_supervised" in request_messages(r.street_staff.id, rid)
    step(r.street_staff, rid, "escalate", {"reason": "城管", "department_id": r.cg})
    assert refused(r.street_staff, rid, "supervise", {"note": "快办"}) == (403, "FORBIDDEN")  # below a department
    step(r.district_staff, rid, "supervise", {"note": "区里督办城管"})
    assert sorted(request_messages(r.cg_staff.id, rid)) == ["request_escalated", "request_supervised"]
    step(r.cg_staff, rid, "accept")
    step(r.cg_staff, rid, "resolve", {"note": "已处理"})
    assert refused(r.district_staff, rid, "supervise", {"note": "快办"}) == (409, "INVALID_STATE")
    step(author, rid, "rate", {"satisfaction": 5})
    assert refused(r.district_staff, rid, "supervise", {"note": "快办"}) == (409, "INVALID_STATE")
    assert view(author, rid)["card"] == "yellow"  # supervised: the mark stays


def test_cards_late_answers_are_yellow_and_past_the_solve_limit_red(r, author):
    late = submit(author)["id"]
    past = submit(author)["id"]
    step(r.worker0, past, "accept")
    with travel(timedelta(hours=3)):
        r.worker1.relogin()
        r.worker0.relogin()
        assert step(r.worker0, late, "accept")["card"] == "yellow"  # answered past its two hours
        assert view(author, past)["card"] == "none"
    with travel(timedelta(hours=72, minutes=1)):  # past the solve limit, before the scheduler looks: red already
        assert view(author, past)["card"] == "red"
        listed = [i for i in all_pages(author, "/v1/requests/mine") if i["id"] == past]
        assert listed[0]["card"] == "red"
        r.worker0.relogin()
        done = step(r.worker0, past, "resolve", {"note": "终于修好了"})
        assert done["card"] == "none"  # resolved: no limit to be past, never marked overdue
