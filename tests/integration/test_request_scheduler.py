"""接诉即办's scheduler step (``requests.run_schedule``) on a driven clock: late answers escalate (吹哨) up the levels
and are marked late, the top level is marked late once, unsolved requests are marked overdue once with the level
above told, resolved ones left unrated close after 7 days; every step runs once however often the scheduler runs,
and a handler who acts first wins."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import OutboxModel, RequestModel
from tongxin.domain.clock import travel, utcnow
from tongxin.domain.errors import DomainError
from tongxin.usecases import notifications, requests, streets
from tongxin.usecases.requests import upkeep

REQUEST = {"category": "设施维修", "content": "单元门门禁坏了，进出不方便"}
STEPS = ("auto_escalate", "mark_late", "mark_overdue", "close_unrated")


class Place:
    pass


@pytest.fixture(scope="module")
def town(api, fresh_tables_per_module):
    """A community in a street (two admins, a grid worker, the street's staff) and one in no street."""
    t = Place()
    t.c = make_community(api)
    t.admin2 = t.c.with_roles(t.c.resident(1), ["admin"])
    t.worker = t.c.grid_worker(0)
    t.street = streets.create_street("调度街道")["id"]
    streets.attach_community(t.street, t.c.id)
    t.staff = api.login()
    streets.add_staff(t.street, t.staff.id)
    t.staff.relogin()
    t.lone = make_community(api)
    t.lone_worker = t.lone.grid_worker(0)
    return t


def run(hours: float = 0, minutes: float = 0, days: float = 0) -> dict:
    """The scheduler's request step that far ahead of now, then the fan-outs it wrote."""
    with travel(timedelta(days=days, hours=hours, minutes=minutes)):
        done = requests.run_schedule()
        notifications.expand_fanouts()
    return done


def submit(member, **extra) -> dict:
    resp = member.post("/v1/requests", {**REQUEST, **extra})
    assert resp.status == 201, resp.body
    return resp.json


def step(member, request_id, action, body=None):
    resp = member.post(f"/v1/requests/{request_id}/{action}", body or {})
    assert resp.status == 200, (action, resp.body)
    return resp.json


def view(member, request_id) -> dict:
    resp = member.get(f"/v1/requests/{request_id}")
    assert resp.status == 200, resp.body
    return resp.json


def told(user_id, request_id, kind=None) -> list[str]:
    """The kinds of the per-person messages written for ``user_id`` about the request (fan-outs expanded)."""
    notifications.expand_fanouts()
    found = [m for m in OutboxModel.scan(OutboxModel.recipient_id == user_id)
             if m.status not in ("fanout", "expanded") and m.data.get("request_id") == request_id]
    return [m.kind for m in sorted(found, key=lambda m: m.created_at) if kind is None or m.kind == kind]


def fanouts(request_id, kind) -> list[dict]:
    return [m.audience for m in OutboxModel.scan(OutboxModel.kind == kind)
            if m.status in ("fanout", "expanded") and m.data.get("request_id") == request_id]


def timeline(member, request_id) -> list[tuple]:
    return [(e["action"], e["level"], e["actor"]["role"] if e["actor"] else None)
            for e in view(member, request_id)["timeline"]]


def grid_tasks(worker) -> dict[str, str]:
    """request id → task over every page of the worker's task list (requests are one of its sections)."""
    found, cursor = {}, None
    while True:
        resp = worker.get("/v1/grid/tasks" + (f"?cursor={cursor}" if cursor else ""))
        assert resp.status == 200, resp.body
        found.update({t["request"]["id"]: t["task"] for t in resp.json["items"] if "request" in t})
        cursor = resp.json["next_cursor"]
        if cursor is None:
            return found


def nothing_done(result: dict) -> bool:
    return all(result[name] == 0 for name in STEPS)


# --- answers: escalation and late marks ------------------------------------------------------------------------

def test_unanswered_past_the_limit_escalates_to_the_community_once(town):
    author = town.c.resident(0)
    rid = submit(author)["id"]
    run(minutes=119)
    assert view(author, rid)["level"] == "grid" and view(author, rid)["late"] is False
    first = run(minutes=121)
    assert first["auto_escalate"] >= 1
    seen = view(town.c.admin, rid)
    assert (seen["status"], seen["level"], seen["late"], seen["levels_reached"]) == \
        ("escalated", "community", True, ["grid", "community"])
    created = datetime.fromisoformat(seen["created_at"])
    # The community's own clock starts when it is reached (the run, 121 minutes in): two more hours to answer.
    assert timedelta(minutes=240) <= datetime.fromisoformat(seen["answer_due"]) - created <= timedelta(minutes=242)
    last = seen["timeline"][-1]
    assert (last["action"], last["level"], last["actor"]) == ("auto_escalate", "grid", None) and last["note"]
    assert fanouts(rid, "request_escalated") == [{"type": "community_admins", "community_id": town.c.id}]
    assert told(town.c.admin.id, rid) == ["request_escalated"] and told(town.admin2.id, rid) == ["request_escalated"]
    assert told(town.staff.id, rid) == []

    assert nothing_done(run(minutes=121))  # run twice: nothing more
    assert timeline(author, rid) == [("submit", "grid", "resident"), ("auto_escalate", "grid", None)]
    assert told(town.c.admin.id, rid) == ["request_escalated"] and len(fanouts(rid, "request_escalated")) == 1
    tasks = town.c.admin.get("/v1/admin/requests?view=queue").json["items"]
    assert {t["request"]["id"]: t["task"] for t in tasks}[rid] == "answer_request"
    assert rid not in grid_tasks(town.worker)
    with travel(timedelta(minutes=125)):  # the community answers in its own time: late stays, from the grid
        answered = step(town.c.admin, rid, "accept")
    assert answered["late"] is True and answered["status"] == "accepted"


def test_nobody_answering_climbs_to_the_street_which_is_marked_late_once(town):
    author = town.c.resident(0)
    rid = submit(author)["id"]
    run(minutes=121)
    run(minutes=242)
    at_street = view(author, rid)
    assert (at_street["level"], at_street["status"]) == ("street", "escalated")
    assert fanouts(rid, "request_escalated")[-1] == {"type": "street_staff", "street_id": town.street}
    assert told(town.staff.id, rid) == ["request_escalated"]
    assert run(minutes=363)["mark_late"] >= 1
    assert nothing_done(run(minutes=363))
    run(minutes=600)  # marked late once per level, however long it waits
    assert timeline(author, rid) == [("submit", "grid", "resident"), ("auto_escalate", "grid", None),
                                     ("auto_escalate", "community", None), ("mark_late", "street", None)]
    stored = view(town.staff, rid)
    assert (stored["level"], stored["status"], stored["late"]) == ("street", "escalated", True)
    assert told(town.staff.id, rid) == ["request_escalated"]  # a late mark tells nobody new
    step(town.staff, rid, "accept")  # still theirs to answer


def test_at_a_community_with_no_street_the_late_answer_is_only_marked_once(town):
    author = town.lone.resident(0)
    rid = submit(author)["id"]
    with travel(timedelta(minutes=5)):
        step(town.lone_worker, rid, "escalate", {"reason": "需要社区协调"})
    run(minutes=124)  # the community was reached 5 minutes in: its two hours have not passed
    assert view(author, rid)["late"] is False
    assert run(minutes=126)["mark_late"] >= 1
    assert nothing_done(run(minutes=126))
    run(hours=10)
    stored = view(town.lone.admin, rid)
    assert (stored["level"], stored["status"], stored["late"]) == ("community", "escalated", True)
    assert [a for a, _, _ in timeline(author, rid)] == ["submit", "escalate", "mark_late"]
    step(town.lone.admin, rid, "accept")


def test_urgent_requests_must_be_answered_in_30_minutes(town):
    author = town.c.resident(0)
    urgent, normal = submit(author, urgent=True)["id"], submit(author)["id"]
    run(minutes=29)
    assert view(author, urgent)["level"] == "grid"
    run(minutes=31)
    assert (view(author, urgent)["level"], view(author, urgent)["late"]) == ("community", True)
    assert view(author, normal)["level"] == "grid"
    # At the community, the urgent request's clock is 30 minutes again.
    escalated = view(author, urgent)
    room = datetime.fromisoformat(escalated["answer_due"]) - datetime.fromisoformat(escalated["created_at"])
    assert timedelta(minutes=60) <= room <= timedelta(minutes=62)
    run(minutes=121)
    assert view(author, normal)["level"] == "community"


def test_a_handler_who_answered_first_wins_over_the_selected_step(town):
    author = town.c.resident(0)
    rid = submit(author)["id"]
    selected = RequestModel.get(rid)  # the scheduler's read of the due index, before the grid worker answers
    with travel(timedelta(minutes=121)):
        step(town.worker, rid, "accept")  # just late: accepted, marked late by the answer itself
        with pytest.raises(DomainError):
            upkeep._step(selected, "auto_escalate", utcnow())
    stored = view(author, rid)
    assert (stored["status"], stored["level"], stored["late"]) == ("accepted", "grid", True)
    assert [a for a, _, _ in timeline(author, rid)] == ["submit", "accept"]
    assert told(town.c.admin.id, rid) == []


def test_a_stale_due_index_read_is_skipped_by_the_run(town, monkeypatch):
    """The due index is a GSI (eventually consistent): a run may select a request a handler has just answered."""
    author = town.c.resident(0)
    rid = submit(author)["id"]
    selected = RequestModel.get(rid)
    with travel(timedelta(minutes=121)):
        step(town.worker, rid, "accept")
        real = RequestModel.by_due.query
        monkeypatch.setattr(RequestModel.by_due, "query", lambda shard, *a, **kw: (
            [selected] if shard == selected.due_shard else real(shard, *a, **kw)))
        done = requests.run_schedule()
        monkeypatch.undo()
    assert done["skipped"] >= 1
    assert [a for a, _, _ in timeline(author, rid)] == ["submit", "accept"]
    assert view(author, rid)["level"] == "grid"


# --- solving: overdue marks ------------------------------------------------------------------------------------

def test_unsolved_past_three_days_is_overdue_once_and_the_community_is_told(town):
    author = town.c.resident(0)
    rid = submit(author)["id"]
    step(town.worker, rid, "accept")
    run(hours=71, minutes=59)
    assert view(author, rid)["overdue"] is False
    assert run(hours=72, minutes=1)["mark_overdue"] >= 1
    assert nothing_done(run(hours=72, minutes=1))
    run(hours=100)
    stored = view(town.worker, rid)
    assert (stored["status"], stored["level"], stored["overdue"]) == ("accepted", "grid", True)
    assert [a for a, _, _ in timeline(author, rid)] == ["submit", "accept", "mark_overdue"]
    assert fanouts(rid, "request_overdue") == [{"type": "community_admins", "community_id": town.c.id}]
    assert told(town.c.admin.id, rid) == ["request_overdue"] and told(town.admin2.id, rid) == ["request_overdue"]
    assert told(town.worker.id, rid) == ["request_new"]
    assert grid_tasks(town.worker)[rid] == "solve_request"  # still the grid's to solve
    with travel(timedelta(hours=100)):
        town.worker.relogin()  # days later the worker opens the mini-program again (content checks want a visit)
        assert step(town.worker, rid, "resolve", {"note": "门禁已修好"})["status"] == "resolved"


def test_overdue_at_the_street_tells_the_street(town):
    author = town.c.resident(0)
    rid = submit(author)["id"]
    step(town.worker, rid, "escalate", {"reason": "需要社区"})
    step(town.c.admin, rid, "escalate", {"reason": "需要街道"})
    step(town.staff, rid, "accept")
    run(hours=72, minutes=1)
    assert view(author, rid)["overdue"] is True
    assert fanouts(rid, "request_overdue") == [{"type": "street_staff", "street_id": town.street}]
    assert told(town.staff.id, rid, "request_overdue") == ["request_overdue"]


def test_a_reopened_request_gets_a_new_solve_clock(town):
    author = town.c.resident(0)
    rid = submit(author)["id"]
    step(town.worker, rid, "accept")
    with travel(timedelta(hours=70)):
        for person in (town.worker, author):  # days later both open the mini-program again
            person.relogin()
        step(town.worker, rid, "resolve", {"note": "修好了"})
        step(author, rid, "rate", {"satisfaction": 1, "comment": "没修好"})
    run(hours=73)  # past the first three days, within the new ones
    assert view(author, rid)["overdue"] is False
    run(hours=142, minutes=1)
    stored = view(author, rid)
    assert (stored["status"], stored["overdue"]) == ("reopened", True)
    assert told(town.worker.id, rid) == ["request_new", "request_reopened"]


# --- ratings --------------------------------------------------------------------------------------------------

def test_resolved_and_unrated_for_seven_days_closes_unrated_once(town):
    author = town.c.resident(0)
    rid = submit(author)["id"]
    step(town.worker, rid, "accept")
    step(town.worker, rid, "resolve", {"note": "已更换门禁"})
    run(days=6, hours=23, minutes=59)
    assert view(author, rid)["status"] == "resolved"
    assert run(days=7, minutes=1)["close_unrated"] >= 1
    assert nothing_done(run(days=7, minutes=1))
    stored = view(author, rid)
    assert (stored["status"], stored["outcome"], stored["rating"]) == ("closed", "unrated", None)
    assert [a for a, _, _ in timeline(author, rid)] == ["submit", "accept", "resolve", "close_unrated"]
    late_rating = author.post(f"/v1/requests/{rid}/rate", {"satisfaction": 5})
    assert late_rating.status == 409 and late_rating.error_code == "INVALID_STATE"
    assert RequestModel.get(rid).due_at is None  # nothing left for the scheduler


# --- community settings --------------------------------------------------------------------------------------------

def test_community_settings_set_the_limits_at_submission(api):
    c = make_community(api)
    worker, author = c.grid_worker(0), c.resident(0)
    before = submit(author)["id"]
    c.set(request_answer_minutes=10, request_answer_minutes_urgent=3, request_solve_hours=1)
    normal, urgent = submit(author)["id"], submit(author, urgent=True)["id"]
    for rid, minutes in ((before, 120), (normal, 10), (urgent, 3)):
        seen = view(author, rid)
        room = datetime.fromisoformat(seen["answer_due"]) - datetime.fromisoformat(seen["created_at"])
        assert timedelta(minutes=minutes - 1) < room <= timedelta(minutes=minutes), rid
    run(minutes=4)
    assert [view(author, r)["level"] for r in (before, normal, urgent)] == ["grid", "grid", "community"]
    run(minutes=11)
    assert [view(author, r)["level"] for r in (before, normal, urgent)] == ["grid", "community", "community"]
    solving = submit(author)["id"]
    step(worker, solving, "accept")
    run(minutes=59)
    assert view(author, solving)["overdue"] is False
    run(minutes=61)
    assert view(author, solving)["overdue"] is True
