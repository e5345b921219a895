"""签到/签退 (issue 9), what a check-out credits and what follows: minutes clipped to the event, points floored,
credited once; the scheduler's unsettled and no-show closing; the organiser's audited adjustments; the 志愿服务记录;
the monthly CSV export; admin statistics — over HTTP against moto, clock driven by ``travel`` (test_checkins.py).

Not tested here: 409 INSUFFICIENT_POINTS on an adjustment. Taking back an event's points can only make a balance
negative once points were spent elsewhere, and nothing spends points yet (no redemption or award reversal route);
another event's adjustment cannot do it either (each event only ever takes back what it credited).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from tests.api.test_checkins import (LOCATION, MIN, assert_refused, at, check, code_of, publish, roster, scan,
                                     sign_up, when)
from tongxin.adapters.dynamo.models import LedgerEntryModel, OutboxModel
from tongxin.domain.clock import SHANGHAI

@pytest.fixture(autouse=True)
def away_from_month_ends():
    """The record's "this year", the export's month and the stats' months are calendar buckets: tests that check
    them must not straddle a month's end. Near one, the whole test runs a week later (the clock, not the wall)."""
    from tongxin.domain.clock import travel, utcnow
    shift = timedelta(days=7) if utcnow().astimezone(SHANGHAI).day >= 25 else timedelta(0)
    with travel(shift):
        yield


HEADER = ["志愿者", "用户ID", "活动", "地点", "组织者", "签到时间", "签退时间", "时长(分钟)", "积分", "状态"]
SECONDS = timedelta(seconds=1)


def ledger(user_id: str) -> list[LedgerEntryModel]:
    # Test-only look at the 积分存折 table (no passbook route exists yet).
    return list(LedgerEntryModel.query(user_id))


def unsettled_messages(user_id: str) -> list[OutboxModel]:
    # Test-only look at the outbox table (what the push sender would deliver); fan-out items are no messages.
    return [m for m in OutboxModel.scan(OutboxModel.recipient_id == user_id)
            if m.kind == "checkin_unsettled" and m.status not in ("fanout", "expanded")]


def me(member) -> tuple[int, int]:
    body = member.get("/v1/me").json
    return body["volunteer_minutes"], body["points_balance"]


def run_scheduler(moment: datetime) -> None:
    """The scheduler's event step and the fan-outs it wrote (the whole ``schedule.run``, days ahead, would also
    work through every other test's wishes, redemptions and messages)."""
    from tongxin.usecases import events, notifications
    with at(moment):
        events.run_schedule(moment)
        notifications.expand_fanouts()


def settle_tasks(worker) -> list[dict]:
    items, cursor = [], None
    while True:
        resp = worker.get("/v1/grid/tasks" + (f"?cursor={cursor}" if cursor else ""))
        assert resp.status == 200, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return [task for task in items if task.get("task") == "settle_checkin"]


def adjust(organiser, event, user_id: str, body: dict):
    return organiser.post(f"/v1/events/{event['id']}/attendance/{user_id}/adjust", body)


def month_of(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def attend(member, organiser, event, came: timedelta, left: timedelta | None) -> dict:
    """Check in ``came`` after the start (negative: before) and out ``left`` after it (None: never)."""
    with at(when(event) + came):
        attendance = check(member, organiser, event, "check_in")
    if left is not None:
        with at(when(event) + left):
            attendance = check(member, organiser, event, "check_out")
    return attendance


# --- minutes and points -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("came, left, minutes", [
    (-10 * MIN, 45 * MIN + 20 * SECONDS, 45),  # early arrival: in before the start, out mid-event
    (14 * MIN + 40 * SECONDS, 90 * MIN, 45),  # late departure: in mid-event, out after the end
    (-20 * MIN, 120 * MIN, 60),  # both: the whole event and no more
], ids=["early-arrival", "late-departure", "both"])
def test_check_out_credits_the_overlap_with_the_event_and_floored_points_once(community, came, left, minutes):
    admin = community.admin
    event = publish(admin, points_per_hour=10)  # 60 minutes
    member = community.resident(0)
    sign_up(member, event)
    attendance = attend(member, admin, event, came, left)
    points = minutes * 10 // 60  # 45 min → 7 (7.5 floored), 60 min → 10
    assert (attendance["status"], attendance["minutes"], attendance["points"]) == ("checked_out", minutes, points)
    assert abs(datetime.fromisoformat(attendance["checked_in_at"]) - (when(event) + came)) < 5 * SECONDS
    assert abs(datetime.fromisoformat(attendance["checked_out_at"]) - (when(event) + left)) < 5 * SECONDS
    assert me(member) == (minutes, points)
    credits = [e for e in ledger(member.id) if e.source.startswith("checkout:")]
    assert [(e.source, e.kind, e.amount) for e in credits] == [(f"checkout:{event['id']}", "volunteer", points)]
    # A repeated check-out scan credits nothing more.
    with at(when(event) + left + MIN):
        assert_refused(scan(member, code_of(admin, event)), 409, "ALREADY_CHECKED_OUT")
    assert me(member) == (minutes, points)
    entries = ledger(member.id)
    assert len([e for e in entries if e.source.startswith("checkout:")]) == 1
    assert sum(e.amount for e in entries) == me(member)[1]


# --- the scheduler: unsettled and no-shows --------------------------------------------------------------------------

def test_scheduler_closes_open_check_ins_as_unsettled_and_marks_no_shows(community):
    worker = community.grid_worker(0)
    event = publish(worker)
    forgot, absent, done = (community.resident(0) for _ in range(3))
    for member in (forgot, absent, done):
        sign_up(member, event)
    attend(forgot, worker, event, 5 * MIN, None)
    attend(done, worker, event, 0 * MIN, 30 * MIN + 20 * SECONDS)  # 30 minutes
    end = when(event, "ends_at")
    run_scheduler(end + timedelta(hours=2) - 5 * MIN)  # not yet: the check-out window is still open
    assert [x["user"]["id"] for x in roster(worker, event, "checked_in")] == [forgot.id]
    assert [x["user"]["id"] for x in roster(worker, event, "signed")] == [absent.id]
    run_scheduler(end + timedelta(hours=2) + MIN)
    run_scheduler(end + timedelta(hours=2) + 2 * MIN)  # safe to run twice
    unsettled = roster(worker, event, "unsettled")
    assert [x["user"]["id"] for x in unsettled] == [forgot.id]
    assert [x["user"]["id"] for x in roster(worker, event, "no_show")] == [absent.id]
    assert [x["user"]["id"] for x in roster(worker, event, "checked_out")] == [done.id]
    assert roster(worker, event, "checked_in") == [] and roster(worker, event, "signed") == []
    entry = unsettled[0]
    assert {"checked_in_at", "checked_out_at", "minutes", "points"} <= set(entry)
    assert entry["checked_in_at"] is not None and entry["checked_out_at"] is None
    assert entry["minutes"] in (None, 0) and entry["points"] in (None, 0)  # no minutes, no points
    assert roster(worker, event, "checked_out")[0]["minutes"] == 30
    assert me(forgot) == (0, 0) and me(absent) == (0, 0)
    assert [len(unsettled_messages(m.id)) for m in (forgot, absent, done)] == [1, 0, 0]
    # The grid's worker is asked to settle it; a worker of another grid is not.
    tasks = settle_tasks(worker)
    assert len(tasks) == 1, tasks
    assert tasks[0]["attendance"]["user"]["id"] == forgot.id and tasks[0]["attendance"]["status"] == "unsettled"
    shown = tasks[0]["event"]
    assert shown == {**shown, "id": event["id"], "title": event["title"], "starts_at": event["starts_at"],
                     "ends_at": event["ends_at"]}
    assert settle_tasks(community.grid_worker(1)) == []
    # Once settled, it is no longer a task.
    with at(when(event, "ends_at") + timedelta(hours=2) + 2 * MIN):
        assert adjust(worker, event, forgot.id, {"minutes": 40, "reason": "核实后补签退"}).status == 200
    assert settle_tasks(worker) == []


# --- adjustments -----------------------------------------------------------------------------------------------

def test_adjustment_bounds_who_and_states(community):
    worker = community.grid_worker(0)
    event = publish(worker, length=timedelta(minutes=90))
    forgot, open_, stranger = (community.resident(0) for _ in range(3))
    for member in (forgot, open_):
        sign_up(member, event)
    attend(forgot, worker, event, 5 * MIN, None)
    after = when(event, "ends_at") + timedelta(hours=2) + MIN
    run_scheduler(after)
    reason = "忘记签退，组织者核实"
    with at(after):
        for minutes in (-1, 91):  # outside 0 … the event's 90 minutes (test_trust_events: the elapsed bound)
            assert_refused(adjust(worker, event, forgot.id, {"minutes": minutes, "reason": reason}), 409,
                           "ADJUSTMENT_OUT_OF_RANGE", "minutes")
        assert_refused(adjust(worker, event, forgot.id, {"minutes": "六十", "reason": reason}), 400,
                       "VALIDATION_FAILED", "minutes")
        for body in ({"minutes": 30}, {"minutes": 30, "reason": ""}):
            assert_refused(adjust(worker, event, forgot.id, body), 400, "VALIDATION_FAILED", "reason")
        for outsider in (forgot, community.resident(0), community.volunteer(0), community.grid_worker(1)):
            assert_refused(adjust(outsider, event, forgot.id, {"minutes": 30, "reason": reason}), 403, "FORBIDDEN")
        assert_refused(adjust(worker, event, stranger.id, {"minutes": 30, "reason": reason}), 409, "NOT_SIGNED_UP")
        assert roster(worker, event, "unsettled")[0]["user"]["id"] == forgot.id  # nothing above changed it
        for minutes in (0, 90):  # both bounds are allowed
            assert adjust(worker, event, forgot.id, {"minutes": minutes, "reason": reason}).status == 200

    # An open check-in is not settled by an adjustment (the volunteer may still check out).
    later = publish(worker)
    sign_up(open_, later)
    attend(open_, worker, later, 5 * MIN, None)
    with at(when(later) + 30 * MIN):
        assert_refused(adjust(worker, later, open_.id, {"minutes": 30, "reason": reason}), 409, "INVALID_STATE")


def test_adjustments_are_audited_and_credit_the_difference(community):
    worker = community.grid_worker(0)
    event = publish(worker, points_per_hour=12)  # 60 minutes, 1 point per 5 minutes
    done, absent = community.resident(0), community.resident(0)
    for member in (done, absent):
        sign_up(member, event)
    attend(done, worker, event, 0 * MIN, 45 * MIN + 20 * SECONDS)  # 45 minutes, 9 points
    run_scheduler(when(event, "ends_at") + timedelta(hours=2) + MIN)
    assert me(done) == (45, 9)

    with at(when(event, "ends_at") + timedelta(hours=2) + 2 * MIN):
        first = adjust(worker, event, done.id, {"minutes": 60, "reason": "提前到场布置，补记"})
        assert first.status == 200, first.body
        assert (first.json["status"], first.json["minutes"], first.json["points"]) == ("checked_out", 60, 12)
        [entry] = first.json["adjustments"]
        assert entry["by"] == {"id": worker.id, "nickname": worker.user["nickname"]}
        assert (entry["minutes_before"], entry["minutes_after"], entry["points_before"], entry["points_after"]) == \
            (45, 60, 9, 12)
        assert entry["reason"] == "提前到场布置，补记" and entry["at"].endswith("+08:00")
        second = community.admin.post(f"/v1/events/{event['id']}/attendance/{done.id}/adjust",
                                      {"minutes": 30, "reason": "中途离开一个半小时\n已核实"})
        assert second.status == 200, second.body
        assert (second.json["minutes"], second.json["points"]) == (30, 6)
        assert second.json["adjustments"][0] == entry  # appended, the first kept as it was
        latest = second.json["adjustments"][1]
        assert latest["by"]["id"] == community.admin.id
        assert (latest["minutes_before"], latest["minutes_after"], latest["points_before"], latest["points_after"]) == \
            (60, 30, 12, 6)
        assert me(done) == (30, 6)
        entries = ledger(done.id)
        assert sorted(e.amount for e in entries if e.source == f"adjust:{event['id']}") == [-6, 3]
        assert [e.amount for e in entries if e.source.startswith("checkout:")] == [9]
        assert sum(e.amount for e in entries) == 6

        # A no-show who did come after all.
        settled = adjust(worker, event, absent.id, {"minutes": 50, "reason": "签到码没扫上，现场确认到场"})
        assert settled.status == 200, settled.body
        assert (settled.json["status"], settled.json["minutes"], settled.json["points"]) == ("checked_out", 50, 10)
        assert settled.json["adjustments"][0]["minutes_before"] in (None, 0)
        assert me(absent) == (50, 10)
        assert sum(e.amount for e in ledger(absent.id)) == 10
        assert {x["user"]["id"] for x in roster(worker, event, "checked_out")} == {done.id, absent.id}
        assert roster(worker, event, "no_show") == []


# --- the volunteer record ---------------------------------------------------------------------------------------------

def test_volunteer_record_newest_first_with_event_and_totals(community):
    admin = community.admin
    first = publish(admin, title="第一场义诊", points_per_hour=10)
    second = publish(admin, title="第二场清扫", starts_in=timedelta(hours=4), points_per_hour=20)
    too_early = publish(admin, title="来早走早", starts_in=timedelta(hours=7))
    member = community.volunteer(0)
    for event in (first, second, too_early):
        sign_up(member, event)
    attend(member, admin, first, -5 * MIN, 45 * MIN + 20 * SECONDS)  # 45 min, 7 points
    attend(member, admin, second, 0 * MIN, 30 * MIN + 20 * SECONDS)  # 30 min, 10 points
    attend(member, admin, too_early, -20 * MIN, -10 * MIN)  # left before the start: 0 minutes

    resp = member.get("/v1/me/volunteer-record")
    assert resp.status == 200, resp.body
    record = resp.json
    items = record["items"]
    assert [x["event"]["id"] for x in items] == [too_early["id"], second["id"], first["id"]]
    assert [(x["minutes"], x["points"]) for x in items] == [(0, 0), (30, 10), (45, 7)]
    for item, event in zip(items, (too_early, second, first)):
        assert set(item) >= {"event"} | {"status", "checked_in_at", "checked_out_at", "minutes", "points"}
        assert item["status"] == "checked_out" and item["user"]["id"] == member.id
        assert item["attendance_id"] == f"{event['id']}.{member.id}"  # what a correction of the line names
        assert item["event"] == {**item["event"], "id": event["id"], "title": event["title"], "kind": "activity",
                                 "address": LOCATION["address"], "starts_at": event["starts_at"],
                                 "ends_at": event["ends_at"],
                                 "organiser": {"id": admin.id, "nickname": admin.user["nickname"]}}
    asked = member.post("/v1/me/volunteer-record/corrections", {"attendance_id": items[1]["attendance_id"],
                                                                  "minutes": 0, "reason": "那天临时有事没有参加"})
    assert asked.status == 201 and asked.json["attendance_id"] == items[1]["attendance_id"], asked.body
    everything = {"minutes": 75, "points": 17, "count": 2}  # count: attendances with minutes > 0
    assert record["totals"]["all_time"] == everything
    assert record["totals"]["this_year"] == everything  # all of them today
    assert record["next_cursor"] is None

    paged, cursor = [], None
    while True:
        page = member.get("/v1/me/volunteer-record?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200 and len(page.json["items"]) <= 1, page.body
        paged += [x["event"]["id"] for x in page.json["items"]]
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert paged == [x["event"]["id"] for x in items]
    nobody = community.resident(0).get("/v1/me/volunteer-record").json
    assert nobody["items"] == [] and nobody["totals"]["all_time"] == {"minutes": 0, "points": 0, "count": 0}


# --- the monthly export ----------------------------------------------------------------------------------------------

def test_volunteer_hours_csv_for_a_month(community):
    admin = community.admin
    clinic = publish(admin, title="义诊", points_per_hour=10)
    sweep = publish(admin, title="清扫", starts_in=timedelta(hours=4), points_per_hour=10)
    one, two = community.volunteer(0), community.volunteer(0)
    for member, event in ((one, clinic), (one, sweep), (two, clinic)):
        sign_up(member, event)
    attend(one, admin, clinic, 0 * MIN, 45 * MIN + 20 * SECONDS)  # 45 min, 7 points
    attend(one, admin, sweep, 0 * MIN, 30 * MIN + 20 * SECONDS)  # 30 min, 5 points
    attend(two, admin, clinic, -10 * MIN, 61 * MIN)  # 60 min, 10 points
    month = month_of(when(clinic))
    assert month_of(when(sweep)) == month, "the events straddle a month's end: run again in a minute"

    resp = admin.get(f"/v1/admin/exports/volunteer-hours?month={month}")
    assert resp.status == 200, resp.body
    content_type = resp.headers.get("Content-Type", resp.headers.get("content-type", "")).lower()
    assert content_type.startswith("text/csv") and "charset=utf-8" in content_type
    assert resp.body.startswith(b"\xef\xbb\xbf"), resp.body[:20]
    rows = list(csv.reader(io.StringIO(resp.body[3:].decode("utf-8"))))
    assert rows[0] == HEADER
    details = [r for r in rows[1:] if "合计" not in r]
    totals = [r for r in rows[1:] if "合计" in r]
    assert sorted((r[1], r[2], int(r[7]), int(r[8])) for r in details) == sorted([
        (one.id, "义诊", 45, 7), (one.id, "清扫", 30, 5), (two.id, "义诊", 60, 10)])
    assert all(r[4] == admin.user["nickname"] and r[5] and r[6] for r in details), details
    assert rows.index(totals[0]) > rows.index(details[-1]), rows  # the totals follow the rows
    # One 合计 row per volunteer, equal to the sums of their rows (both volunteers share a real name: where the
    # row names the user id, it must be the right one).
    sums = {m.id: (sum(int(r[7]) for r in details if r[1] == m.id), sum(int(r[8]) for r in details if r[1] == m.id))
            for m in (one, two)}
    assert sorted((int(r[7]), int(r[8])) for r in totals) == sorted(sums.values()) == [(60, 10), (75, 12)], totals
    for r in totals:
        assert not r[1] or sums[r[1]] == (int(r[7]), int(r[8])), r

    following = (when(clinic).astimezone(SHANGHAI).replace(day=28) + timedelta(days=5)).strftime("%Y-%m")
    empty = admin.get(f"/v1/admin/exports/volunteer-hours?month={following}")
    assert empty.status == 200
    assert list(csv.reader(io.StringIO(empty.body.decode("utf-8-sig")))) == [HEADER]
    for bad in ("2026-13", "2026-1", "202612", "12-2026", "abc", ""):
        assert_refused(admin.get(f"/v1/admin/exports/volunteer-hours?month={bad}"), 400, "VALIDATION_FAILED")
    assert_refused(admin.get("/v1/admin/exports/volunteer-hours"), 400, "VALIDATION_FAILED")
    for outsider in (community.grid_worker(0), one):
        assert_refused(outsider.get(f"/v1/admin/exports/volunteer-hours?month={month}"), 403, "FORBIDDEN")


# --- admin statistics ---------------------------------------------------------------------------------------------

def test_admin_stats_attendance_and_volunteer_hours(community):
    admin = community.admin
    event = publish(admin, capacity=5)
    came, forgot, absent = (community.resident(0) for _ in range(3))
    for member in (came, forgot, absent):
        sign_up(member, event)
    attend(came, admin, event, -5 * MIN, 45 * MIN + 20 * SECONDS)  # 45 minutes
    attend(forgot, admin, event, 5 * MIN, None)
    after = when(event, "ends_at") + timedelta(hours=2) + MIN
    run_scheduler(after)
    with at(after):
        resp = admin.get("/v1/admin/stats")
    assert resp.status == 200, resp.body
    events = resp.json["events"]
    assert (events["signed"], events["checked_in"], events["no_show"]) == (3, 2, 1)
    assert events["attendance_rate"] == round(2 / 3, 4) and events["no_show_rate"] == round(1 / 3, 4)
    hours = resp.json["volunteer_hours"]
    assert {m: n for m, n in hours["by_month"].items() if n} == {month_of(when(event)): 45}
    assert hours["total_minutes"] == 45


def test_a_rename_racing_a_minutes_only_check_out_leaves_no_stale_name_on_the_minutes_board(community, monkeypatch):
    """A check-out that credits minutes and no points (an activity of 0 points an hour) carries the copies' condition
    as a points credit does: a rename landing between its read and its write makes it rebuild from a fresh read, and
    the minutes board shows the new name (not the one read before)."""
    from tongxin.adapters.dynamo.binding import connection
    from tongxin.adapters.dynamo.models import ScoreModel, UserModel
    organiser = community.admin
    member = community.volunteer(0)
    event = publish(organiser, points_per_hour=0)
    sign_up(member, event)
    with at(when(event) - 5 * MIN):
        check(member, organiser, event, "check_in")
    events = connection().client.meta.events
    renamed = []

    def rename_once(**_kwargs):
        if not renamed:  # the check-out's first transaction: the member renamed just before it is sent
            renamed.append(True)
            UserModel(member.id).update(actions=[UserModel.nickname.set("改名后的志愿者")])
    events.register("before-call.dynamodb.TransactWriteItems", rename_once)
    # The rename is the test's own write, made on the request's client: the route's budget is checked below.
    monkeypatch.setenv("CALL_REPORT_ONLY", "1")
    try:
        with at(when(event) + 40 * MIN):
            out = check(member, organiser, event, "check_out")
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", rename_once)
    assert renamed and out["minutes"] == 40 and out["points"] == 0
    calls = community.api.last_meter.dynamo
    assert calls["TransactWriteItems"] == 2 and calls["UpdateItem"] == 1  # refused once, rebuilt once; the rename
    copies = {item.nickname for item in ScoreModel.scan() if item.user_id == member.id and int(item.score or 0) > 0}
    assert copies == {"改名后的志愿者"}, copies
