"""Issue 19, defects 1–3: an organiser cannot mint points, organiser rights end with the role, and 注销 gives up
every place — each as the sequence an attacker, a removed organiser or a deleted account would run, over HTTP
against moto, the clock driven by ``at`` (test_checkins.py)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.api.test_attendance import adjust, attend, me, month_of, run_scheduler
from tests.api.test_checkins import MIN, assert_refused, at, code_of, publish, roster, scan, sign_up, when
from tongxin.adapters.dynamo.models import OutboxModel
from tongxin.domain.clock import SHANGHAI, utcnow

REASON = "现场核实"
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def away_from_month_ends():
    """The export's month is a calendar bucket: near a month's end the test runs a week later (the clock)."""
    from tongxin.domain.clock import travel
    shift = timedelta(days=7) if utcnow().astimezone(SHANGHAI).day >= 25 else timedelta(0)
    with travel(shift):
        yield


def publish_raw(organiser, *, length: timedelta, **overrides):
    start = utcnow().astimezone(SHANGHAI).replace(microsecond=0) + HOUR
    body = {"title": "长时间活动", "kind": "activity", "starts_at": start.isoformat(),
            "ends_at": (start + length).isoformat(), "capacity": 10, "points_per_hour": 10, **overrides}
    return organiser.post("/v1/events", body)


def audit_page(admin, query: str = "") -> list[dict]:
    resp = admin.get("/v1/admin/audit" + query)
    assert resp.status == 200, resp.body
    return resp.json["items"]


# --- 1. the bounds of an event and of an adjustment ----------------------------------------------------------------

def test_an_event_lasts_at_most_24_hours_at_publication_and_after_a_change(community):
    admin = community.admin
    assert_refused(publish_raw(admin, length=timedelta(days=31)), 400, "VALIDATION_FAILED", "ends_at")
    assert_refused(publish_raw(admin, length=timedelta(hours=24, minutes=1)), 400, "VALIDATION_FAILED", "ends_at")
    day = publish_raw(admin, length=timedelta(hours=24))
    assert day.status == 201, day.body
    # A PATCH cannot stretch it either (the start kept, the end moved a minute further).
    longer = (when(day.json, "ends_at") + MIN).isoformat()
    assert_refused(admin.patch(f"/v1/events/{day.json['id']}", {"ends_at": longer}), 400, "VALIDATION_FAILED",
                   "ends_at")


def test_points_per_hour_is_capped_by_the_community_setting(community):
    admin = community.admin
    assert publish_raw(admin, length=HOUR, points_per_hour=20).status == 201  # the default cap, inclusive
    refused = publish_raw(admin, length=HOUR, points_per_hour=21)
    assert_refused(refused, 400, "VALIDATION_FAILED", "points_per_hour")
    assert refused.json["error"]["details"]["max"] == 20 and "20" in refused.json["error"]["message"]
    assert_refused(publish_raw(admin, length=HOUR, points_per_hour=100), 400, "VALIDATION_FAILED", "points_per_hour")
    community.set(points_per_hour_cap=50)  # the community raised its cap
    assert publish_raw(admin, length=HOUR, points_per_hour=50).status == 201
    assert_refused(publish_raw(admin, length=HOUR, points_per_hour=51), 400, "VALIDATION_FAILED", "points_per_hour")
    community.set(points_per_hour_cap=5)  # and lowered it below the default
    assert_refused(publish_raw(admin, length=HOUR, points_per_hour=6), 400, "VALIDATION_FAILED", "points_per_hour")
    assert publish_raw(admin, length=HOUR, points_per_hour=5).status == 201


def test_the_minting_attack_is_refused_and_an_admin_settles_the_organisers_own(community):
    """The reported attack: an organiser checks themselves in and out, then adjusts their own attendance to far
    more than the event lasted; a colluding volunteer is adjusted beyond the time that has passed."""
    organiser = community.grid_worker(0)
    friend = community.resident(0)
    event = publish(organiser, length=timedelta(hours=2), points_per_hour=20)
    for member in (organiser, friend):
        sign_up(member, event)
        attend(member, organiser, event, 0 * MIN, 10 * MIN + 20 * SECOND)  # in and out within the first 10 minutes
    # While the event runs, 30 minutes in: nobody may be credited for the 90 minutes still to come.
    with at(when(event) + 30 * MIN):
        refused = adjust(organiser, event, friend.id, {"minutes": 120, "reason": REASON})
        assert_refused(refused, 409, "ADJUSTMENT_OUT_OF_RANGE", "minutes")
        assert refused.json["error"]["details"]["max"] == 30
        assert_refused(adjust(organiser, event, friend.id, {"minutes": 31, "reason": REASON}), 409,
                       "ADJUSTMENT_OUT_OF_RANGE")
        assert adjust(organiser, event, friend.id, {"minutes": 30, "reason": REASON}).status == 200
        assert_refused(adjust(organiser, event, organiser.id, {"minutes": 20, "reason": REASON}), 409, "SELF_ADJUST")
    # After the end, the scheduled length is the bound; still never one's own.
    with at(when(event, "ends_at") + 10 * MIN):
        assert_refused(adjust(organiser, event, friend.id, {"minutes": 44640, "reason": REASON}), 409,
                       "ADJUSTMENT_OUT_OF_RANGE")
        assert_refused(adjust(organiser, event, friend.id, {"minutes": 121, "reason": REASON}), 409,
                       "ADJUSTMENT_OUT_OF_RANGE")
        assert_refused(adjust(organiser, event, organiser.id, {"minutes": 120, "reason": REASON}), 409, "SELF_ADJUST")
        assert me(organiser) == (10, 3)  # 10 minutes at 20 an hour, nothing more
        # The organiser's own record is the admin's to correct, within the same bounds.
        settled = adjust(community.admin, event, organiser.id, {"minutes": 120, "reason": "组织者全程在场"})
        assert settled.status == 200, settled.body
        assert (settled.json["minutes"], settled.json["points"]) == (120, 40)
        assert adjust(organiser, event, friend.id, {"minutes": 120, "reason": REASON}).status == 200
    assert me(organiser) == (120, 40) and me(friend) == (120, 40)  # at most the event's 2 hours at 20 an hour


def test_an_event_not_yet_started_has_nothing_to_adjust(community):
    organiser = community.grid_worker(0)
    member = community.resident(0)
    event = publish(organiser, starts_in=timedelta(minutes=20))
    sign_up(member, event)
    attend(member, organiser, event, -15 * MIN, -10 * MIN)  # in and out before the start: 0 minutes
    with at(when(event) - 5 * MIN):
        assert_refused(adjust(organiser, event, member.id, {"minutes": 1, "reason": REASON}), 409,
                       "ADJUSTMENT_OUT_OF_RANGE")
        assert adjust(organiser, event, member.id, {"minutes": 0, "reason": REASON}).status == 200


def test_every_adjustment_is_in_the_audit_log_and_the_statistics(community):
    organiser = community.grid_worker(0)
    admin = community.admin
    member = community.resident(0)
    event = publish(organiser, points_per_hour=12)  # 60 minutes
    sign_up(member, event)
    attend(member, organiser, event, 0 * MIN, 45 * MIN + 20 * SECOND)  # 45 minutes, 9 points
    started = utcnow()
    with at(when(event, "ends_at") + MIN):
        assert adjust(organiser, event, member.id, {"minutes": 60, "reason": "提前到场布置"}).status == 200
    with at(when(event, "ends_at") + 2 * MIN):
        assert adjust(admin, event, member.id, {"minutes": 50, "reason": "中途离开十分钟"}).status == 200
    items = audit_page(admin)
    assert [i["reason"] for i in items] == ["中途离开十分钟", "提前到场布置"]  # newest first
    latest, first = items
    assert first["kind"] == "attendance_adjusted"
    assert first["actor"]["id"] == organiser.id and first["subject"]["id"] == member.id
    assert first["target"] == {"id": event["id"], "title": event["title"]}
    assert first["before"] == {"status": "checked_out", "minutes": 45, "points": 9}
    assert first["after"] == {"status": "checked_out", "minutes": 60, "points": 12}
    assert latest["actor"]["id"] == admin.id and latest["before"]["minutes"] == 60 and latest["after"]["points"] == 10
    # The window and the page work on the log's keys; a refused adjustment leaves no trace.
    with at(when(event, "ends_at") + 3 * MIN):
        assert_refused(adjust(organiser, event, member.id, {"minutes": 61, "reason": REASON}), 409,
                       "ADJUSTMENT_OUT_OF_RANGE")
    assert len(audit_page(admin)) == 2
    assert len(audit_page(admin, "?limit=1")) == 1
    since = (when(event, "ends_at") + 90 * timedelta(seconds=1)).isoformat().replace("+", "%2B")
    assert [i["reason"] for i in audit_page(admin, f"?from={since}")] == ["中途离开十分钟"]
    assert audit_page(admin, f"?to={started.isoformat().replace('+', '%2B')}") == []
    # Admins only.
    for other in (organiser, member):
        assert_refused(other.get("/v1/admin/audit"), 403, "FORBIDDEN")
    events = admin.get("/v1/admin/stats").json["events"]
    assert (events["adjustments"], events["adjusted_minutes"], events["adjusted_points"]) == (2, 5, 1)


# --- 2. organiser rights end with the role --------------------------------------------------------------------------

def organiser_powers(organiser, event, member) -> list[tuple[int, str | None]]:
    """What each of the organiser's routes answers (status, error code)."""
    answers = [
        organiser.get(f"/v1/events/{event['id']}/qrcode?kind=rotating&format=json"),
        organiser.get(f"/v1/events/{event['id']}/roster"),
        organiser.patch(f"/v1/events/{event['id']}", {"title": "改个名字"}),
        adjust(organiser, event, member.id, {"minutes": 5, "reason": REASON}),
        organiser.post(f"/v1/events/{event['id']}/cancel", {"reason": "天气原因"}),
    ]
    return [(a.status, a.error_code if a.status >= 400 else None) for a in answers]


def test_a_creator_whose_role_was_removed_loses_every_organiser_power(community):
    creator = community.grid_worker(0)
    member = community.resident(0)
    event = publish(creator, starts_in=timedelta(minutes=20))
    sign_up(member, event)
    attend(member, creator, event, -15 * MIN, -10 * MIN)
    with at(when(event) + 10 * MIN):
        event_view = creator.get(f"/v1/events/{event['id']}").json
        assert event_view["can_manage"] is True
        community.with_roles(creator, [])  # the admin takes the grid worker role away
        assert organiser_powers(creator, event, member) == [(403, "FORBIDDEN")] * 5
        assert creator.get(f"/v1/events/{event['id']}").json["can_manage"] is False
        # Given back for another grid, the creator organises their event again (a grid worker of the community).
        community.with_roles(creator, ["grid_worker"], [1])
        powers = organiser_powers(creator, event, member)
        assert [status for status, _ in powers] == [200, 200, 200, 200, 200], powers


def test_an_admin_creator_demoted_loses_the_event_and_other_admins_keep_it(community):
    admin2 = community.with_roles(community.resident(0), ["admin"])
    member = community.resident(1)
    event = publish(admin2, starts_in=timedelta(minutes=20))
    sign_up(member, event)
    attend(member, admin2, event, -15 * MIN, -10 * MIN)
    with at(when(event) + 10 * MIN):
        community.with_roles(admin2, [])
        assert organiser_powers(admin2, event, member) == [(403, "FORBIDDEN")] * 5
        # The community's admin still organises it.
        assert [s for s, _ in organiser_powers(community.admin, event, member)] == [200] * 5


# --- 3. 注销 gives up every place ---------------------------------------------------------------------------------------

def test_a_deleted_account_gives_up_its_place_the_next_is_promoted_and_it_is_never_promoted(community):
    organiser = community.grid_worker(0)
    event = publish(organiser, capacity=1, starts_in=timedelta(hours=3))
    leaving, waiting, also_waiting = (community.resident(0) for _ in range(3))
    sign_up(leaving, event)
    for member in (waiting, also_waiting):
        assert member.post(f"/v1/events/{event['id']}/signup").json["status"] == "waitlisted"
    assert leaving.delete("/v1/me").status == 204
    # The next in line took the place and was told; the deleted account is shown as 已注销用户, given up.
    assert [e["user"]["id"] for e in roster(organiser, event, "signed")] == [waiting.id]
    assert [e["user"]["id"] for e in roster(organiser, event, "waitlisted")] == [also_waiting.id]
    [gone] = roster(organiser, event, "cancelled")
    assert gone["user"] == {"id": leaving.id, "nickname": "已注销用户"}
    promoted = [m for m in OutboxModel.scan(OutboxModel.recipient_id == waiting.id) if m.kind == "event_promoted"]
    assert len(promoted) == 1
    shown = organiser.get(f"/v1/events/{event['id']}").json
    assert (shown["signed_count"], shown["waitlist_count"]) == (1, 1)

    # A waitlisted account deleted leaves the queue: a place given up later promotes nobody gone.
    assert also_waiting.delete("/v1/me").status == 204
    assert roster(organiser, event, "waitlisted") == []
    assert waiting.delete(f"/v1/events/{event['id']}/signup").status == 200
    assert roster(organiser, event, "signed") == []
    for gone_id in (leaving.id, also_waiting.id):
        assert [m for m in OutboxModel.scan(OutboxModel.recipient_id == gone_id) if m.kind == "event_promoted"] == []
    shown = organiser.get(f"/v1/events/{event['id']}").json
    assert (shown["signed_count"], shown["waitlist_count"]) == (0, 0)
    names = {e["user"]["id"]: e["user"]["nickname"] for e in roster(organiser, event, "cancelled")}
    assert names[leaving.id] == names[also_waiting.id] == "已注销用户"
    assert names[waiting.id] != "已注销用户"


def test_a_deleted_volunteers_past_hours_show_as_deleted_in_the_roster_and_the_export(community):
    organiser = community.grid_worker(0)
    volunteer = community.volunteer(0)  # registered with the real name 王志愿
    earlier = publish(organiser)
    sign_up(volunteer, earlier)
    attend(volunteer, organiser, earlier, 0 * MIN, 30 * MIN)
    given_up = publish(organiser, starts_in=timedelta(hours=5))
    sign_up(volunteer, given_up)
    assert volunteer.delete(f"/v1/events/{given_up['id']}/signup").status == 200  # before the deletion
    upcoming = publish(organiser, starts_in=timedelta(hours=5))
    sign_up(volunteer, upcoming)
    month = month_of(when(earlier))

    def export_rows() -> list[list[str]]:
        resp = community.admin.get(f"/v1/admin/exports/volunteer-hours?month={month}")
        assert resp.status == 200, resp.body
        return list(csv.reader(io.StringIO(resp.body.decode("utf-8-sig"))))[1:]

    assert [r[0] for r in export_rows() if r[1] == volunteer.id] == ["王志愿", "王志愿"]  # the row and its 合计
    assert volunteer.delete("/v1/me").status == 204
    assert [r[0] for r in export_rows() if r[1] == volunteer.id] == ["已注销用户", "已注销用户"]
    assert [e["user"]["nickname"] for e in roster(organiser, earlier, "checked_out")] == ["已注销用户"]
    assert [e["user"]["nickname"] for e in roster(organiser, given_up, "cancelled")] == ["已注销用户"]
    assert [e["user"]["nickname"] for e in roster(organiser, upcoming, "cancelled")] == ["已注销用户"]
    assert organiser.get(f"/v1/events/{upcoming['id']}").json["signed_count"] == 0
    # Nobody is reminded: the 24 h reminder's roster no longer holds the account.
    run_scheduler(when(upcoming) - timedelta(hours=1))
    assert [m for m in OutboxModel.scan(OutboxModel.recipient_id == volunteer.id)
            if m.kind == "event_reminder" and m.status not in ("fanout", "expanded")] == []


def test_a_deleted_volunteers_attendance_can_no_longer_be_adjusted(community):
    """注销 keeps the anonymised history but credits nothing more: an adjustment with points, and one of minutes
    only (an event without points), are both refused, and nothing is written."""
    organiser = community.grid_worker(0)
    volunteer = community.volunteer(0)
    with_points, without = publish(organiser), publish(organiser, starts_in=timedelta(hours=3), points_per_hour=0)
    credited = {}
    for event in (with_points, without):
        sign_up(volunteer, event)
        credited[event["id"]] = attend(volunteer, organiser, event, 0 * MIN, 30 * MIN)["minutes"]
    assert volunteer.delete("/v1/me").status == 204
    audited = len(audit_page(community.admin))
    for event in (with_points, without):
        with at(when(event) + 3 * HOUR):
            resp = adjust(organiser, event, volunteer.id, {"minutes": 60, "reason": REASON})
        assert_refused(resp, 409, "INVALID_STATE")
        assert "注销" in resp.json["error"]["message"]
        [entry] = roster(organiser, event, "checked_out")
        assert entry["minutes"] == credited[event["id"]] and entry["user"]["nickname"] == "已注销用户"
    assert len(audit_page(community.admin)) == audited


def test_a_deleted_account_holding_a_place_in_a_started_event_keeps_the_count_and_loses_its_name(community):
    organiser = community.grid_worker(0)
    member = community.resident(0)
    event = publish(organiser, starts_in=timedelta(minutes=20))
    sign_up(member, event)
    with at(when(event) + 5 * MIN):
        assert scan(member, code_of(organiser, event)).status == 200  # checked in
        assert member.delete("/v1/me").status == 204
        [entry] = roster(organiser, event, "checked_in")
        assert entry["user"]["nickname"] == "已注销用户"
