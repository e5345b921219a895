"""签到/签退 (issue 9), the codes and the scan: the qrcode route, every refusal of POST /v1/checkins, walk-ins —
over HTTP against moto, as docs/contract.md (活动) and docs/checkins.md say.

Time is driven with ``tongxin.domain.clock.travel`` (never by sleeping): events are published an hour or more
ahead (the API refuses a past start) and ``at(moment)`` moves the whole process's clock, the in-process API
included, to the moment a scan must happen. Minutes are credited in whole minutes and real time keeps running
for the few milliseconds a request takes, so the moments chosen leave a margin of 20 s on the side that counts.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from tests.support import make_community
from tongxin.domain.clock import SHANGHAI, travel, utcnow

LOCATION = {"address": "幸福小区中心广场", "lat": 31.2304, "lng": 121.4737, "radius_m": 300}
CENTRE = {"lat": LOCATION["lat"], "lng": LOCATION["lng"]}
CODE = re.compile(r"^[A-Z2-7-]{1,32}$")
PNG = b"\x89PNG\r\n\x1a\n"
METRES_PER_DEGREE_OF_LATITUDE = 111_195
ATTENDANCE_KEYS = {"event_id", "user", "status", "checked_in_at", "checked_out_at", "minutes", "points", "walk_in",
                   "adjustments"}
MIN = timedelta(minutes=1)


# --- helpers (test_attendance.py uses them too) ----------------------------------------------------------------

@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Every ``utcnow()`` of the process answers ``moment`` (then the time running on from it)."""
    with travel(moment - utcnow()):
        yield


def when(event: dict, field: str = "starts_at") -> datetime:
    return datetime.fromisoformat(event[field])


def publish(organiser, *, starts_in: timedelta = timedelta(hours=1), length: timedelta = timedelta(hours=1),
            **overrides) -> dict:
    start = utcnow().astimezone(SHANGHAI).replace(microsecond=0) + starts_in
    body = {"title": "社区义诊志愿服务", "kind": "activity", "starts_at": start.isoformat(),
            "ends_at": (start + length).isoformat(), "capacity": 10, "location": dict(LOCATION),
            "points_per_hour": 10}
    body.update(overrides)
    if body["location"] is None:
        body.pop("location")
    resp = organiser.post("/v1/events", body)
    assert resp.status == 201, resp.body
    return resp.json


def sign_up(member, event) -> None:
    resp = member.post(f"/v1/events/{event['id']}/signup")
    assert resp.status == 201 and resp.json["status"] == "signed", resp.body


def qr(organiser, event, kind: str = "rotating", fmt: str = "json"):
    return organiser.get(f"/v1/events/{event['id']}/qrcode?kind={kind}&format={fmt}")


def code_of(organiser, event, kind: str = "rotating") -> str:
    resp = qr(organiser, event, kind)
    assert resp.status == 200, resp.body
    return resp.json["code"]


def scan(member, code: str, **where):
    return member.post("/v1/checkins", {"code": code, **where})


def check(member, organiser, event, action: str) -> dict:
    """A scan of the rotating code the organiser's screen shows now; answers the attendance."""
    resp = scan(member, code_of(organiser, event))
    assert resp.status == 200, resp.body
    assert resp.json["action"] == action, resp.body
    attendance = resp.json["attendance"]
    assert set(attendance) >= ATTENDANCE_KEYS, attendance
    assert attendance["event_id"] == event["id"] and attendance["user"]["id"] == member.id
    return attendance


def north(metres: float) -> dict:
    """A point ``metres`` due north of the event's centre."""
    return {"lat": LOCATION["lat"] + metres / METRES_PER_DEGREE_OF_LATITUDE, "lng": LOCATION["lng"]}


def roster(organiser, event, status: str) -> list[dict]:
    items, cursor = [], None
    while True:
        resp = organiser.get(f"/v1/events/{event['id']}/roster?status={status}" + (f"&cursor={cursor}" if cursor
                                                                                     else ""))
        assert resp.status == 200, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return items


def assert_refused(resp, status: int, code: str, field: str | None = None) -> None:
    assert (resp.status, resp.error_code) == (status, code), resp.body
    if field is not None:
        assert resp.json["error"]["details"].get("field") == field, resp.body


# --- the qrcode route --------------------------------------------------------------------------------------------

def test_qrcode_is_for_the_organisers_only(community):
    worker = community.grid_worker(0)
    event = publish(worker)
    signed = community.resident(0)
    sign_up(signed, event)  # signed up is not enough: a code of their own would let them check themselves in
    for organiser in (worker, community.admin):
        assert qr(organiser, event).status == 200
    for outsider in (signed, community.volunteer(0), community.grid_worker(1)):
        assert_refused(qr(outsider, event), 403, "FORBIDDEN")
        assert_refused(qr(outsider, event, "poster"), 403, "FORBIDDEN")


def test_another_communitys_event_is_not_found_for_its_codes_and_its_scans(community, api):
    event = publish(community.admin)
    other = make_community(api, grids=1)
    assert_refused(qr(other.admin, event), 404, "NOT_FOUND")
    stranger = other.resident(0)
    with at(when(event) + 5 * MIN):
        assert_refused(scan(stranger, code_of(community.admin, event)), 404, "NOT_FOUND")
        assert_refused(scan(stranger, code_of(community.admin, event, "poster"), **CENTRE), 404, "NOT_FOUND")


def test_rotating_code_json_changes_every_30_seconds(community):
    admin = community.admin
    event = publish(admin)
    shown_at = when(event) - 10 * MIN
    with at(shown_at):
        first = qr(admin, event).json
        with travel(timedelta(seconds=30)):
            later = qr(admin, event).json
    assert set(first) >= {"code", "kind", "valid_until"} and first["kind"] == "rotating"
    for body in (first, later):
        assert CODE.fullmatch(body["code"]), body
        assert body["valid_until"].endswith("+08:00")
    until = datetime.fromisoformat(first["valid_until"])
    began = until - timedelta(seconds=60)  # accepted until 60 s after the start of its 30-s step
    assert began <= shown_at < began + timedelta(seconds=31), first
    assert later["code"] != first["code"]
    assert datetime.fromisoformat(later["valid_until"]) == until + timedelta(seconds=30)
    # Both name the same event: only the step and the signature differ.
    assert later["code"].split("-")[0] == first["code"].split("-")[0]


def test_poster_code_is_static_and_its_images(community, wechat):
    import io

    import qrcode
    import qrcode.image.svg

    from infra.local.wechat_images import _render_jpeg

    admin = community.admin
    event = publish(admin)
    poster = qr(admin, event, "poster").json
    assert (poster["kind"], poster["valid_until"]) == ("poster", None)
    assert CODE.fullmatch(poster["code"]), poster
    with at(when(event) + 30 * MIN):
        assert code_of(admin, event, "poster") == poster["code"]
    for kind in ("rotating", "poster"):
        png = qr(admin, event, kind, "png")
        assert png.status == 200 and png.body.startswith(PNG), png.body[:40]
        assert png.headers.get("Content-Type", png.headers.get("content-type", "")).startswith("image/png")
        svg = qr(admin, event, kind, "svg")
        assert svg.status == 200 and b"<svg" in svg.body and svg.body.decode("utf-8")
    # The printed poster carries exactly the code's link (普通链接二维码: the same image as a reference QR of it).
    assert poster["url"] == "http://127.0.0.1:8000/c/" + poster["code"]  # the test stage's QR_LINK_BASE
    reference = io.BytesIO()
    qrcode.make(poster["url"], image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4).save(reference)
    assert qr(admin, event, "poster", "svg").body == reference.getvalue()
    # A mini-program code from WeChat (the stand-in draws its scene): the scene is the poster code, the image the
    # JPEG WeChat answers, with its content type.
    wxacode = qr(admin, event, "wxacode", "png")
    assert wxacode.status == 200 and wxacode.headers["Content-Type"] == "image/jpeg"
    assert wxacode.body == _render_jpeg(poster["code"].encode("utf-8"))
    for fmt in ("json", "svg"):
        assert_refused(qr(admin, event, "wxacode", fmt), 400, "VALIDATION_FAILED")
    for bad in ("kind=banner", "format=gif"):
        assert_refused(admin.get(f"/v1/events/{event['id']}/qrcode?{bad}"), 400, "VALIDATION_FAILED")


def test_poster_and_wxacode_need_a_location(community):
    admin = community.admin
    body = publish(admin, location=None)
    assert body["location"] is None
    for kind, fmt in (("poster", "json"), ("poster", "png"), ("wxacode", "png")):
        assert_refused(qr(admin, body, kind, fmt), 409, "INVALID_STATE")
    assert CODE.fullmatch(code_of(admin, body, "rotating"))  # a screen needs no geofence


# --- refusals of POST /v1/checkins --------------------------------------------------------------------------------

def test_altered_spliced_and_garbage_codes_are_code_invalid(community):
    admin = community.admin
    mine, theirs = publish(admin), publish(admin)
    member = community.resident(0)
    sign_up(member, mine)
    with at(when(mine) + 5 * MIN):
        good, other = code_of(admin, mine), code_of(admin, theirs)
        poster, other_poster = code_of(admin, mine, "poster"), code_of(admin, theirs, "poster")
        for i, char in enumerate(good):  # every single changed character
            if char != "-":
                altered = good[:i] + ("B" if char == "A" else "A") + good[i + 1:]
                assert_refused(scan(member, altered), 400, "CODE_INVALID")
        # Another event's code with this event's characters swapped in (and the reverse): its signature does
        # not sign this event, so it must never check anyone in to either.
        spliced = [good.split("-")[0] + "-" + other.split("-")[1], other.split("-")[0] + "-" + good.split("-")[1],
                   poster.split("-")[0] + "-" + other_poster.split("-")[1]]
        for forged in spliced:
            assert_refused(scan(member, forged, **CENTRE), 400, "CODE_INVALID")
        garbage = ["HELLO", "R-", "P-", "签到码", mine["id"], "R" + "A" * 40, "A" * 32, "P" + poster[1:-1],
                   good + "A", good.replace("-", "")]
        for code in garbage:
            assert_refused(scan(member, code, **CENTRE), 400, "CODE_INVALID")
        assert scan(member, None).status == 400  # no code at all: bad input
        # None of that checked anyone in: the genuine code is a first scan.
        assert check(member, admin, mine, "check_in")["status"] == "checked_in"
    assert roster(admin, theirs, "checked_in") == []


def test_an_empty_code_is_a_missing_field_and_garbage_is_code_invalid(community):
    """An empty (or blank) code is a field left out (VALIDATION_FAILED naming it); text that is not a code, however
    long, is CODE_INVALID."""
    admin = community.admin
    event = publish(admin)
    member = community.resident(0)
    sign_up(member, event)
    with at(when(event) + 5 * MIN):
        for empty in ("", " "):
            assert_refused(scan(member, empty), 400, "VALIDATION_FAILED")
        assert_refused(scan(member, "R" * 200), 400, "CODE_INVALID")


def test_rotating_code_is_accepted_59_s_after_its_step_began_and_expired_at_61(community):
    admin = community.admin
    event = publish(admin)
    late, on_time = community.resident(0), community.resident(0)
    for member in (late, on_time):
        sign_up(member, event)
    with at(when(event) + 5 * MIN):
        shown = qr(admin, event).json
    began = datetime.fromisoformat(shown["valid_until"]) - timedelta(seconds=60)
    with at(began + timedelta(seconds=61)):
        assert_refused(scan(late, shown["code"]), 409, "CODE_EXPIRED")
    with at(began + timedelta(seconds=59)):
        resp = scan(on_time, shown["code"])
        assert resp.status == 200 and resp.json["action"] == "check_in", resp.body
    with at(began + 20 * MIN):
        assert_refused(scan(late, shown["code"]), 409, "CODE_EXPIRED")
        # The expired scans changed nothing: a code shown now checks them in.
        assert check(late, admin, event, "check_in")["status"] == "checked_in"


def test_check_in_from_30_minutes_before_the_start_until_the_end_check_out_until_2_hours_after(community):
    admin = community.admin
    event = publish(admin)
    start, end = when(event), when(event, "ends_at")
    early, late, stays, leaves = (community.resident(0) for _ in range(4))
    for member in (early, late, stays, leaves):
        sign_up(member, event)
    with at(start - 31 * MIN):
        assert_refused(scan(early, code_of(admin, event)), 409, "OUTSIDE_TIME_WINDOW")
    with at(start - 29 * MIN):
        check(early, admin, event, "check_in")
        check(stays, admin, event, "check_in")
        check(leaves, admin, event, "check_in")
    with at(end + MIN):
        assert_refused(scan(late, code_of(admin, event)), 409, "OUTSIDE_TIME_WINDOW")
        assert_refused(scan(late, code_of(admin, event, "poster"), **CENTRE), 409, "OUTSIDE_TIME_WINDOW")
    with at(end + timedelta(hours=2) - MIN):
        assert check(leaves, admin, event, "check_out")["status"] == "checked_out"
    with at(end + timedelta(hours=2) + MIN):
        assert_refused(scan(stays, code_of(admin, event)), 409, "OUTSIDE_TIME_WINDOW")
    assert [x["user"]["id"] for x in roster(admin, event, "checked_in")] == [early.id, stays.id]


def test_poster_code_counts_only_inside_the_geofence(community):
    admin = community.admin
    event = publish(admin)  # radius 300 m
    inside, outside, nowhere = (community.resident(0) for _ in range(3))
    for member in (inside, outside, nowhere):
        sign_up(member, event)
    poster = code_of(admin, event, "poster")
    with at(when(event) + 5 * MIN):
        assert_refused(scan(outside, poster, **north(305)), 409, "OUTSIDE_GEOFENCE")
        assert_refused(scan(nowhere, poster), 400, "VALIDATION_FAILED")
        assert_refused(scan(nowhere, poster, lat=LOCATION["lat"]), 400, "VALIDATION_FAILED")
        resp = scan(inside, poster, **north(295))
        assert resp.status == 200 and resp.json["action"] == "check_in", resp.body
        # The rotating code on the organiser's screen needs no location.
        check(nowhere, admin, event, "check_in")
    assert {x["user"]["id"] for x in roster(admin, event, "checked_in")} == {inside.id, nowhere.id}


def test_not_signed_up_when_the_event_takes_no_walk_ins(community):
    admin = community.admin
    event = publish(admin)
    stranger, quitter = community.resident(0), community.resident(0)
    sign_up(quitter, event)
    assert quitter.delete(f"/v1/events/{event['id']}/signup").status == 200
    with at(when(event) + 5 * MIN):
        for member in (stranger, quitter):
            assert_refused(scan(member, code_of(admin, event)), 409, "NOT_SIGNED_UP")
            assert_refused(scan(member, code_of(admin, event, "poster"), **CENTRE), 409, "NOT_SIGNED_UP")
    assert roster(admin, event, "checked_in") == []


def test_walk_in_signs_up_and_checks_in_while_a_place_is_left(community):
    admin = community.admin
    event = publish(admin, capacity=2, allow_walk_ins=True)
    signed, walker, too_late = (community.resident(0) for _ in range(3))
    sign_up(signed, event)
    with at(when(event) + 10 * MIN):  # sign-up closed at the start; a walk-in still comes in
        attendance = check(walker, admin, event, "check_in")
        assert (attendance["walk_in"], attendance["status"]) == (True, "checked_in")
        assert attendance["user"] == {"id": walker.id, "nickname": walker.user["nickname"]}
        assert admin.get(f"/v1/events/{event['id']}").json["signed_count"] == 2
        assert_refused(scan(too_late, code_of(admin, event)), 409, "EVENT_FULL")
        assert check(signed, admin, event, "check_in")["walk_in"] is False
        assert walker.get(f"/v1/events/{event['id']}").json["my_status"] == "checked_in"
    assert admin.get(f"/v1/events/{event['id']}").json["signed_count"] == 2
    assert [x["user"]["id"] for x in roster(admin, event, "checked_in")] == [walker.id, signed.id]


def test_a_second_scan_within_2_minutes_is_a_double_scan_then_checked_out_once(community):
    admin = community.admin
    event = publish(admin)
    member = community.resident(0)
    sign_up(member, event)
    start = when(event)
    with at(start + 10 * MIN):
        attendance = check(member, admin, event, "check_in")
    assert attendance["status"] == "checked_in" and attendance["walk_in"] is False
    assert (attendance["checked_out_at"], attendance["minutes"], attendance["points"]) == (None, None, None)
    assert attendance["adjustments"] == []
    assert abs(datetime.fromisoformat(attendance["checked_in_at"]) - (start + 10 * MIN)) < timedelta(seconds=5)
    with at(start + 11 * MIN + timedelta(seconds=50)):
        assert_refused(scan(member, code_of(admin, event)), 409, "ALREADY_CHECKED_IN")
    with at(start + 12 * MIN + timedelta(seconds=30)):
        out = check(member, admin, event, "check_out")
    assert out["status"] == "checked_out" and out["checked_in_at"] == attendance["checked_in_at"]
    assert (out["minutes"], out["points"]) == (2, 0)  # 2 whole minutes at 10 points an hour: 0 points
    with at(start + 20 * MIN):
        assert_refused(scan(member, code_of(admin, event)), 409, "ALREADY_CHECKED_OUT")
        assert_refused(scan(member, code_of(admin, event, "poster"), **CENTRE), 409, "ALREADY_CHECKED_OUT")
    assert member.get("/v1/me").json["volunteer_minutes"] == 2


def test_volunteer_service_takes_scans_from_volunteers_only(community):
    admin = community.admin
    event = publish(admin, kind="volunteer_service", allow_walk_ins=True)
    resident, volunteer, walk_in_volunteer = community.resident(0), community.volunteer(0), community.volunteer(0)
    sign_up(volunteer, event)
    with at(when(event) + 5 * MIN):
        assert_refused(scan(resident, code_of(admin, event)), 403, "FORBIDDEN")  # not even as a walk-in
        check(volunteer, admin, event, "check_in")
        assert check(walk_in_volunteer, admin, event, "check_in")["walk_in"] is True
    assert {x["user"]["id"] for x in roster(admin, event, "checked_in")} == {volunteer.id, walk_in_volunteer.id}
