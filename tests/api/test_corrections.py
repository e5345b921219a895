"""志愿服务记录更正 (issue 25, part H): a volunteer asks for the minutes of one attendance to be corrected, the event's
organiser (or a community admin) approves — applying the audited adjustment — or refuses; over HTTP against moto.

``attendance_id`` is ``<event_id>.<user_id>``: the ``event.id`` and ``user.id`` of a line of the volunteer record."""
from __future__ import annotations

from datetime import timedelta

from tests.api.test_attendance import adjust, attend, ledger, me, run_scheduler
from tests.api.test_checkins import MIN, assert_refused, at, publish, sign_up, when
from tests.support import make_community

PATH = "/v1/me/volunteer-record/corrections"


# --- fixtures the authorisation table and the fault module share (test-only writes) ----------------------------

def seed_attendance(event_id: str, user_id: str, community_id: str, minutes: int = 45) -> None:
    """Move a published event (two days ahead, as events must be) to yesterday and leave ``user_id`` checked out
    of it after ``minutes``, as a check-out would have (test-only writes)."""
    from tongxin.adapters.dynamo.models import EventModel, SignupModel
    from tongxin.domain.clock import utcnow
    start = utcnow().replace(microsecond=0) - timedelta(days=1)
    EventModel(event_id).update(actions=[EventModel.starts_at.set(start),
                                         EventModel.ends_at.set(start + timedelta(hours=2))])
    SignupModel(event_id, user_id, community_id=community_id, status="checked_out", event_starts_at=start,
                roster_key=f"{event_id}#checked_out", roster_order=1, created_at=start, updated_at=start,
                checked_in_at=start, attended_at=start, checked_out_at=start + timedelta(minutes=minutes),
                minutes=minutes, points=0, event_title="表格活动", event_kind="activity",
                attendee_key=user_id).save()


def seed_correction(event_id: str, user_id: str, community_id: str, minutes: int = 60) -> str:
    """A pending correction of ``user_id``'s attendance of ``event_id`` (and its lock), as a request leaves it."""
    from tongxin.adapters.dynamo.models import CorrectionModel, EventModel
    from tongxin.domain import corrections as rules
    from tongxin.domain.clock import utcnow
    from tongxin.domain.ids import new_id
    event, now = EventModel.get(event_id), utcnow()
    cid = rules.correction_id(event_id, new_id("vc"))
    CorrectionModel(cid, community_id=community_id, user_id=user_id, event_id=event_id, event_title=event.title,
                    grid_id=event.grid_id, organiser_id=event.organiser_id, status="pending", minutes=minutes,
                    minutes_before=45, reason="表格更正", submitted_at=now, updated_at=now, user_key=user_id,
                    status_key=f"{community_id}#pending", event_status_key=f"{event_id}#pending").save()
    CorrectionModel(rules.lock_key(event_id, user_id), correction_id=cid, user_id=user_id, submitted_at=now).save()
    return cid


def table_path(path: str, event_id: str, community_id: str, owner_id: str) -> str:
    """The authorisation table's (and the fault module's) cell: a pending correction of ``owner_id``'s attendance
    of a fresh event of the community's grid 0 (``event_id``, published by its admin)."""
    seed_attendance(event_id, owner_id, community_id)
    return path.replace("{correction_id}", seed_correction(event_id, owner_id, community_id))
REASON = "我 9 点就到了，签到码没扫上"


def aid(event: dict, member) -> str:
    return f"{event['id']}.{member.id}"


def ask(member, event, minutes: int = 60, reason: str = REASON, attendance_id: str | None = None):
    member.relogin()  # WeChat's content check wants a user seen in the last 2 h (the clock travels here)
    return member.post(PATH, {"attendance_id": attendance_id or aid(event, member), "minutes": minutes,
                              "reason": reason})


def attended(community, organiser, *, minutes_in: int = 45, points_per_hour: int = 12):
    """An event of 60 minutes, a member who checked out after ``minutes_in``, and the moment after it closed."""
    event = publish(organiser, points_per_hour=points_per_hour)
    member = community.volunteer(0)
    sign_up(member, event)
    attend(member, organiser, event, 0 * MIN, minutes_in * MIN + 20 * timedelta(seconds=1))
    after = when(event, "ends_at") + timedelta(hours=2) + MIN
    run_scheduler(after)
    return event, member, after


def mine(member) -> list[dict]:
    resp = member.get(PATH)
    assert resp.status == 200, resp.body
    return resp.json["items"]


def listed(caller, query: str = "") -> list[dict]:
    resp = caller.get("/v1/admin/corrections" + query)
    assert resp.status == 200, resp.body
    return resp.json["items"]


def test_ask_approve_applies_the_adjustment_in_the_record_ledger_and_audit(community):
    worker = community.grid_worker(0)
    event, member, after = attended(community, worker)
    assert me(member) == (45, 9)
    with at(after):
        resp = ask(member, event, 60)
        assert resp.status == 201, resp.body
        correction = resp.json
        assert (correction["status"], correction["minutes"], correction["minutes_before"]) == ("pending", 60, 45)
        assert correction["attendance_id"] == aid(event, member) and correction["event"]["id"] == event["id"]
        assert correction["decided_by"] is None and correction["submitted_at"].endswith("+08:00")
        # The same attendance again, while pending: 409, nothing more written.
        assert_refused(ask(member, event, 50), 409, "CORRECTION_PENDING")
        assert [c["id"] for c in mine(member)] == [correction["id"]]
        # The organiser sees it by event, the admin in the community's list; nothing changed yet.
        assert [c["id"] for c in listed(worker, f"?event_id={event['id']}")] == [correction["id"]]
        assert [c["id"] for c in listed(community.admin)] == [correction["id"]]
        assert me(member) == (45, 9)

        approved = worker.post(f"/v1/admin/corrections/{correction['id']}/approve")
        assert approved.status == 200, approved.body
        assert approved.json["status"] == "approved"
        assert approved.json["decided_by"] == {"id": worker.id, "nickname": worker.user["nickname"]}
        # Approving twice: the state's refusal, and the record unchanged.
        assert_refused(worker.post(f"/v1/admin/corrections/{correction['id']}/approve"), 409, "INVALID_STATE")
        assert_refused(worker.post(f"/v1/admin/corrections/{correction['id']}/refuse", {"reason": "重复"}), 409,
                       "INVALID_STATE")

    assert me(member) == (60, 12)  # 12 points an hour
    assert sorted(e.amount for e in ledger(member.id) if e.source == f"adjust:{event['id']}") == [3]
    assert sum(e.amount for e in ledger(member.id)) == 12
    [line] = member.get("/v1/me/volunteer-record").json["items"]
    assert (line["minutes"], line["points"]) == (60, 12)
    [entry] = line["adjustments"]
    assert entry["by"]["id"] == worker.id and entry["reason"] == f"居民申请更正：{REASON}"
    assert (entry["minutes_before"], entry["minutes_after"]) == (45, 60)
    audit = community.admin.get("/v1/admin/audit").json["items"]
    [logged] = [a for a in audit if a["subject"]["id"] == member.id]
    assert logged["actor"]["id"] == worker.id and logged["reason"] == f"居民申请更正：{REASON}"
    assert (logged["before"]["minutes"], logged["after"]["minutes"]) == (45, 60)
    assert [c["status"] for c in mine(member)] == ["approved"]
    assert listed(community.admin) == [] and [c["id"] for c in listed(community.admin, "?status=approved")] == \
        [correction["id"]]
    # Decided: the volunteer may ask again (a new correction, newest first).
    with at(after + MIN):
        again = ask(member, event, 55)
        assert again.status == 201, again.body
    assert [c["id"] for c in mine(member)] == [again.json["id"], correction["id"]]


def test_refuse_shows_the_reason_and_changes_nothing(community):
    admin = community.admin
    event, member, after = attended(community, admin)
    with at(after):
        cid = ask(member, event, 60).json["id"]
        for body in ({}, {"reason": "   "}, {"reason": "x" * 201}):
            assert_refused(admin.post(f"/v1/admin/corrections/{cid}/refuse", body), 400, "VALIDATION_FAILED",
                           "reason")
        refused = admin.post(f"/v1/admin/corrections/{cid}/refuse", {"reason": "签到记录显示 9:15 才到"})
        assert refused.status == 200, refused.body
        assert_refused(admin.post(f"/v1/admin/corrections/{cid}/approve"), 409, "INVALID_STATE")
    [shown] = mine(member)
    assert (shown["status"], shown["decision_reason"]) == ("refused", "签到记录显示 9:15 才到")
    assert shown["decided_by"]["id"] == admin.id
    assert me(member) == (45, 9)
    assert member.get("/v1/me/volunteer-record").json["items"][0]["adjustments"] == []


def test_minutes_and_reason_at_the_edges(community):
    admin = community.admin
    event, member, after = attended(community, admin)
    with at(after):
        assert_refused(ask(member, event, 61), 400, "VALIDATION_FAILED", "minutes")  # the event lasts 60
        assert_refused(ask(member, event, -1), 400, "VALIDATION_FAILED", "minutes")
        assert_refused(ask(member, event, 24 * 60 + 1), 400, "VALIDATION_FAILED", "minutes")
        for reason in ("", "  \n\t ", "x" * 201, "a\u202eb"):
            assert_refused(ask(member, event, 30, reason), 400, "VALIDATION_FAILED", "reason")
        assert_refused(ask(member, event, 30, "违禁内容"), 400, "CONTENT_REJECTED")
        assert mine(member) == []
        at_bound = ask(member, event, 60, "x" * 200)
        assert at_bound.status == 201, at_bound.body
        admin.post(f"/v1/admin/corrections/{at_bound.json['id']}/refuse", {"reason": "不符"})
        zero = ask(member, event, 0, "那天我其实没有服务")
        assert zero.status == 201, zero.body
        assert admin.post(f"/v1/admin/corrections/{zero.json['id']}/approve").status == 200
    assert me(member) == (0, 0)


def test_bound_while_the_event_runs_is_the_elapsed_minutes(community):
    admin = community.admin
    event = publish(admin)
    member = community.volunteer(0)
    sign_up(member, event)
    attend(member, admin, event, 0 * MIN, 20 * MIN + 20 * timedelta(seconds=1))  # left early
    with at(when(event) + 30 * MIN + 10 * timedelta(seconds=1)):
        assert_refused(ask(member, event, 31), 400, "VALIDATION_FAILED", "minutes")
        assert ask(member, event, 30).status == 201


def test_only_my_own_attendance_in_my_community(community, api):
    admin = community.admin
    event, member, after = attended(community, admin)
    other = community.volunteer(0)
    never = publish(admin)
    sign_up(other, never)  # signed, never attended: no line of a record
    elsewhere = make_community(api)
    stranger = elsewhere.volunteer(0)
    with at(after):
        for who, attendance_id in ((other, aid(event, member)), (other, aid(event, other)),
                                   (other, aid(never, other)), (member, f"{event['id']}.{other.id}"),
                                   (stranger, aid(event, member)), (stranger, aid(event, stranger)),
                                   (member, f"nope.{member.id}")):
            assert_refused(ask(who, event, 30, attendance_id=attendance_id), 404, "NOT_FOUND", "attendance_id")
        assert_refused(ask(member, event, 30, attendance_id="no-dot"), 400, "VALIDATION_FAILED", "attendance_id")
        cid = ask(member, event, 60).json["id"]
        # Another community's admin: not found; a resident or a worker of another grid: forbidden.
        assert_refused(elsewhere.admin.post(f"/v1/admin/corrections/{cid}/approve"), 404, "NOT_FOUND")
        assert_refused(elsewhere.admin.get(f"/v1/admin/corrections?event_id={event['id']}"), 404, "NOT_FOUND")
        assert listed(elsewhere.admin) == []
        for outsider in (member, community.resident(0), community.grid_worker(1)):
            assert_refused(outsider.post(f"/v1/admin/corrections/{cid}/approve"), 403, "FORBIDDEN")
            assert_refused(outsider.post(f"/v1/admin/corrections/{cid}/refuse", {"reason": "不行"}), 403, "FORBIDDEN")
            assert_refused(outsider.get(f"/v1/admin/corrections?event_id={event['id']}"), 403, "FORBIDDEN")
        assert_refused(community.grid_worker(0).get("/v1/admin/corrections"), 403, "FORBIDDEN")
        assert_refused(admin.post("/v1/admin/corrections/vc_missing/approve"), 404, "NOT_FOUND")
    assert [c["status"] for c in mine(member)] == ["pending"]


def test_organiser_who_lost_the_role_cannot_decide_and_the_adjustments_refusals_hold(community):
    worker = community.grid_worker(0)
    event, member, after = attended(community, worker)
    with at(after):
        cid = ask(member, event, 60).json["id"]
        # The worker's grid role is taken away between the request and the decision.
        resp = community.admin.put(f"/v1/admin/members/{worker.id}/roles", {"roles": ["resident"]})
        assert resp.status == 200, resp.body
        assert_refused(worker.post(f"/v1/admin/corrections/{cid}/approve"), 403, "FORBIDDEN")
        assert_refused(worker.get(f"/v1/admin/corrections?event_id={event['id']}"), 403, "FORBIDDEN")
    assert me(member) == (45, 9)


def test_an_admins_own_correction_is_decided_by_another_admin(community):
    admin = community.admin
    event = publish(admin)
    sign_up(admin, event)
    attend(admin, admin, event, 0 * MIN, 30 * MIN + 20 * timedelta(seconds=1))
    after = when(event, "ends_at") + timedelta(hours=2) + MIN
    run_scheduler(after)
    with at(after):
        cid = ask(admin, event, 60).json["id"]
        assert_refused(admin.post(f"/v1/admin/corrections/{cid}/approve"), 409, "SELF_ADJUST")
        assert [c["status"] for c in mine(admin)] == ["pending"]  # the refusal rolled everything back


def test_an_adjustment_in_between_and_a_closed_window_of_checkin(community):
    """The organiser adjusted meanwhile: the approval applies the asked minutes to the record as it is then. A
    volunteer still checked in cannot ask yet (409)."""
    admin = community.admin
    event, member, after = attended(community, admin)
    with at(after):
        cid = ask(member, event, 60).json["id"]
        assert adjust(admin, event, member.id, {"minutes": 50, "reason": "组织者核实"}).status == 200
        approved = admin.post(f"/v1/admin/corrections/{cid}/approve")
        assert approved.status == 200, approved.body
    [line] = member.get("/v1/me/volunteer-record").json["items"]
    assert [(a["minutes_before"], a["minutes_after"]) for a in line["adjustments"]] == [(45, 50), (50, 60)]
    assert me(member) == (60, 12)

    later = publish(admin)
    sign_up(member, later)
    with at(when(later) + MIN):
        from tests.api.test_checkins import check
        check(member, admin, later, "check_in")
        assert_refused(ask(member, later, 10), 409, "INVALID_STATE")


def test_lists_page_newest_first(community):
    admin = community.admin
    member = community.volunteer(0)
    events = []
    for i in range(3):
        event = publish(admin, starts_in=timedelta(hours=1 + 2 * i))
        sign_up(member, event)
        attend(member, admin, event, 0 * MIN, 30 * MIN + 20 * timedelta(seconds=1))
        events.append(event)
    after = when(events[-1], "ends_at") + timedelta(hours=2) + MIN
    run_scheduler(after)
    ids = []
    with at(after):
        for i, event in enumerate(events):
            with at(after + i * MIN):
                ids.append(ask(member, event, 40).json["id"])
    first = member.get(PATH + "?limit=2").json
    assert [c["id"] for c in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    second = member.get(PATH + f"?limit=2&cursor={first['next_cursor']}").json
    assert [c["id"] for c in second["items"]] == ids[:1] and second["next_cursor"] is None
    assert [c["id"] for c in listed(admin, "?limit=100")] == ids[::-1]
    assert [c["id"] for c in listed(admin, f"?event_id={events[1]['id']}")] == [ids[1]]
    assert_refused(admin.get("/v1/admin/corrections?status=done"), 400, "VALIDATION_FAILED", "status")
    assert_refused(admin.get("/v1/admin/corrections?limit=101"), 400, "VALIDATION_FAILED", "limit")


def test_exact_call_counts(community, api):
    admin = community.admin
    event, member, after = attended(community, admin)
    with at(after):
        member.relogin()
        first = member.post(PATH, {"attendance_id": aid(event, member), "minutes": 60, "reason": REASON})
        assert first.status == 201, first.body  # (its counts below, once the travelled clock's token is renewed)
        # Refused while pending: seen in the same BatchGetItem, before WeChat is asked and before any write.
        assert_refused(member.post(PATH, {"attendance_id": aid(event, member), "minutes": 50, "reason": REASON}),
                       409, "CORRECTION_PENDING")
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1} and not api.last_meter.wechat
        # Out of bounds: refused before WeChat is asked and before any write.
        assert_refused(member.post(PATH, {"attendance_id": aid(event, member), "minutes": 61, "reason": REASON}),
                       400, "VALIDATION_FAILED", "minutes")
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1} and not api.last_meter.wechat
        [correction] = mine(member)
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "Query": 1}
        listed(admin)
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "Query": 1}
        listed(admin, f"?event_id={event['id']}")
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
        assert admin.post(f"/v1/admin/corrections/{correction['id']}/approve").status == 200
        # the caller; the correction and its event; the attendance; the balance (a points correction); ONE write
        assert dict(api.last_meter.dynamo) == {"GetItem": 3, "BatchGetItem": 1, "TransactWriteItems": 1}
        member.relogin()
        second = member.post(PATH, {"attendance_id": aid(event, member), "minutes": 30, "reason": REASON}).json
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
        assert dict(api.last_meter.wechat) == {"wxa/msg_sec_check": 1}
        assert admin.post(f"/v1/admin/corrections/{second['id']}/refuse", {"reason": "不符"}).status == 200
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}


def test_deletion_refuses_a_pending_correction_and_frees_the_attendance(community):
    """注销: the pending correction is refused by the system (no organiser is asked to decide for someone gone), and
    the attendance's one-pending lock goes with it."""
    worker = community.grid_worker(0)
    event, member, after = attended(community, worker)
    with at(after):
        correction = ask(member, event, 60).json
        assert member.delete("/v1/me").status == 204
        assert [c["id"] for c in listed(worker, f"?event_id={event['id']}")] == []  # pending: none left
        refused = [c for c in listed(community.admin, "?status=refused") if c["id"] == correction["id"]]
        assert refused and refused[0]["decision_reason"] == "申请人已注销账号" and refused[0]["decided_by"] is None
