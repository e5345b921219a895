"""活动 / 招募令 (issue 8): publishing and every validation rule, the list and the detail, sign-up and the fair
waitlist, giving up and promotion, the organiser's changes and cancellation, the roster, my events, reminders,
statistics and Idempotency-Key — over HTTP against moto, as docs/events.md and docs/api.md (活动) say.

Times that must lie in the past (a sign-up deadline passed, an event started) are made by real time passing:
the API refuses a deadline or a start in the past (creation and PATCH alike), and writing the stored event
directly would skip the copies the implementation keeps of those times (the sign-ups' copy of the start, the
time sign-up closes). So ``past_world`` publishes its events a few seconds ahead and waits once for them.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import OutboxModel
from tongxin.domain.clock import SHANGHAI

EVENT_KEYS = {"id", "title", "kind", "description", "status", "starts_at", "ends_at", "signup_deadline", "location",
              "capacity", "signed_count", "waitlist_count", "points_per_hour", "allow_walk_ins", "grid_id",
              "organiser", "unit", "cancel_reason", "cancelled_at", "created_at", "my_status", "position",
              "can_manage"}
SIGNUP_KEYS = {"event_id", "status", "position", "event"}
ROSTER_KEYS = {"user", "status", "position", "signed_at", "updated_at", "checked_in_at", "checked_out_at", "minutes",
               "points", "walk_in"}
LOCATION = {"address": "幸福小区中心广场", "lat": 31.2304, "lng": 121.4737, "radius_m": 300}


# --- helpers ---------------------------------------------------------------------------------------------

def shanghai_now() -> datetime:
    return datetime.now(SHANGHAI).replace(microsecond=0)


def at(**delta) -> str:
    """A moment from now, ISO 8601 with +08:00 (as the mini-program sends it)."""
    return (shanghai_now() + timedelta(**delta)).isoformat()


def q(moment: str) -> str:
    return quote(moment, safe="")


def event_body(**overrides) -> dict:
    body = {"title": "周末楼道清扫", "kind": "activity", "starts_at": at(days=2), "ends_at": at(days=2, hours=2),
            "capacity": 10, "location": dict(LOCATION), "points_per_hour": 10,
            "description": "带上手套\n九点在中心广场集合"}
    body.update(overrides)
    return body


def publish(member, **overrides) -> dict:
    resp = member.post("/v1/events", event_body(**overrides))
    assert resp.status == 201, resp.body
    return resp.json


def sign_up(member, event) -> dict:
    resp = member.post(f"/v1/events/{event['id']}/signup")
    assert resp.status == 201, resp.body
    return resp.json


def give_up(member, event) -> dict:
    resp = member.delete(f"/v1/events/{event['id']}/signup")
    assert resp.status == 200, resp.body
    return resp.json


def view(member, event) -> dict:
    resp = member.get(f"/v1/events/{event['id']}")
    assert resp.status == 200, resp.body
    return resp.json


def mine(member, event) -> tuple[str, int | None]:
    body = view(member, event)
    return body["my_status"], body["position"]


def counts(member, event) -> tuple[int, int]:
    body = view(member, event)
    return body["signed_count"], body["waitlist_count"]


def roster(member, event, status: str | None = None) -> list[dict]:
    items, cursor = [], None
    while True:
        query = [f"status={status}"] if status else []
        query += [f"cursor={cursor}"] if cursor else []
        resp = member.get(f"/v1/events/{event['id']}/roster" + ("?" + "&".join(query) if query else ""))
        assert resp.status == 200, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return items


def messages(user_id: str, kind: str, event_id: str) -> list[OutboxModel]:
    # Test-only look at the outbox table (what the push sender would deliver): the per-person messages of one
    # kind about one event (fan-out items, status fanout/expanded, are not messages to a person).
    return [m for m in OutboxModel.scan(OutboxModel.recipient_id == user_id)
            if m.kind == kind and m.status not in ("fanout", "expanded") and (m.data or {}).get("event_id") == event_id]


def run_scheduler(now=None):
    """The scheduler's event step and the fan-outs it wrote (the whole ``schedule.run`` would also work through
    every other test's wishes, redemptions and messages)."""
    from tongxin.usecases import events, notifications
    return {"events": events.run_schedule(now), "fanouts": notifications.expand_fanouts()}


def assert_refused(resp, status: int, code: str, field: str | None = None) -> None:
    assert (resp.status, resp.error_code) == (status, code), resp.body
    if field is not None:
        assert resp.json["error"]["details"].get("field") == field, resp.body


@pytest.fixture
def people(community):
    """Residents of grid 0 made on demand: ``people(3)``."""
    return lambda n, grid=0: [community.resident(grid) for _ in range(n)]


@pytest.fixture(scope="module")
def town(api):
    """One community for the tests that only publish (validation): nothing they do changes what others see."""
    return make_community(api)


# --- publishing: who ------------------------------------------------------------------------------------

def test_admin_publishes_with_every_key_and_the_defaults(community):
    body = event_body()
    body.pop("location")
    body.pop("points_per_hour")
    body.pop("description")
    resp = community.admin.post("/v1/events", body)
    assert resp.status == 201, resp.body
    event = resp.json
    assert set(event) == EVENT_KEYS
    assert event["status"] == "open" and event["kind"] == "activity" and event["title"] == "周末楼道清扫"
    assert event["grid_id"] is None and event["location"] is None and event["description"] is None
    assert event["points_per_hour"] == 0 and event["allow_walk_ins"] is False and event["capacity"] == 10
    assert event["signup_deadline"] == event["starts_at"] == body["starts_at"]  # default deadline = the start
    assert event["ends_at"] == body["ends_at"] and event["created_at"].endswith("+08:00")
    assert (event["signed_count"], event["waitlist_count"]) == (0, 0)
    assert event["organiser"] == {"id": community.admin.id, "nickname": community.admin.user["nickname"]}
    assert (event["cancel_reason"], event["cancelled_at"], event["unit"]) == (None, None, None)
    assert (event["my_status"], event["position"], event["can_manage"]) == ("none", None, True)
    assert view(community.admin, event) == event


def test_times_are_answered_in_shanghai_whatever_offset_was_sent(community):
    start = shanghai_now() + timedelta(days=3)
    event = publish(community.admin, starts_at=start.astimezone(timezone.utc).isoformat(),
                    ends_at=(start + timedelta(hours=1)).astimezone(timezone.utc).isoformat())
    assert event["starts_at"] == start.isoformat() and event["starts_at"].endswith("+08:00")
    assert event["ends_at"] == (start + timedelta(hours=1)).isoformat()


def test_admin_may_name_any_grid_and_location_radius_defaults_to_200(community):
    event = publish(community.admin, grid_id=community.grid_ids[1],
                    location={"address": "幸福小区3栋", "lat": 31.2, "lng": 121.4})
    assert event["grid_id"] == community.grid_ids[1]
    assert event["location"] == {"address": "幸福小区3栋", "lat": 31.2, "lng": 121.4, "radius_m": 200}


def test_grid_worker_publishes_for_their_grid_only(community):
    worker = community.grid_worker(0)
    event = publish(worker)
    assert event["grid_id"] == community.grid_ids[0] and event["organiser"]["id"] == worker.id
    assert event["can_manage"] is True
    named = publish(worker, grid_id=community.grid_ids[0])
    assert named["grid_id"] == community.grid_ids[0]
    assert_refused(worker.post("/v1/events", event_body(grid_id=community.grid_ids[1])), 403, "FORBIDDEN")
    # An unknown grid is bad input (for a worker it is also a grid they do not work: the admin shows the rule).
    assert_refused(community.admin.post("/v1/events", event_body(grid_id="g_nope")), 400, "VALIDATION_FAILED",
                   "grid_id")


def test_worker_of_two_grids_must_name_one(community):
    worker = community.with_roles(community.resident(0), ["grid_worker"], [0, 1])
    assert_refused(worker.post("/v1/events", event_body()), 400, "VALIDATION_FAILED", "grid_id")
    assert publish(worker, grid_id=community.grid_ids[1])["grid_id"] == community.grid_ids[1]


def test_residents_volunteers_and_outsiders_cannot_publish(community, api):
    assert_refused(community.resident(0).post("/v1/events", event_body()), 403, "FORBIDDEN")
    assert_refused(community.volunteer(0).post("/v1/events", event_body()), 403, "FORBIDDEN")
    assert community.admin.get("/v1/events").json["items"] == []
    outsider = api.login()
    assert outsider.post("/v1/events", event_body()).status in (403, 409)


# --- publishing: validation ------------------------------------------------------------------------------

def _location(**changes):
    return {"location": {**LOCATION, **changes}}


def _iso(base: datetime, **delta) -> str:
    return (base + timedelta(**delta)).isoformat()


# Each case is a function of one "now" (times built from one reading of the clock cannot straddle a second).
BAD = [
    ("end equal to start", lambda t: {"starts_at": _iso(t, days=2), "ends_at": _iso(t, days=2)}, "ends_at"),
    ("end before start", lambda t: {"starts_at": _iso(t, days=2), "ends_at": _iso(t, days=1)}, "ends_at"),
    ("longer than 24 hours", lambda t: {"starts_at": _iso(t, days=2), "ends_at": _iso(t, days=3, seconds=1)},
     "ends_at"),
    ("deadline after start", lambda t: {"signup_deadline": _iso(t, days=2, seconds=1), "starts_at": _iso(t, days=2)},
     "signup_deadline"),
    ("deadline already past", lambda t: {"signup_deadline": _iso(t, minutes=-5)}, "signup_deadline"),
    ("capacity 0", lambda t: {"capacity": 0}, "capacity"),
    ("capacity 5001", lambda t: {"capacity": 5001}, "capacity"),
    ("capacity missing", lambda t: {"capacity": None}, "capacity"),
    ("lat 91", lambda t: _location(lat=91), "location.lat"),
    ("lat -91", lambda t: _location(lat=-91), "location.lat"),
    ("lng 181", lambda t: _location(lng=181), "location.lng"),
    ("lng -181", lambda t: _location(lng=-181), "location.lng"),
    ("radius 49", lambda t: _location(radius_m=49), "location.radius_m"),
    ("radius 5001", lambda t: _location(radius_m=5001), "location.radius_m"),
    ("address empty", lambda t: _location(address=""), "location.address"),
    ("address 101", lambda t: _location(address="址" * 101), "location.address"),
    ("points -1", lambda t: {"points_per_hour": -1}, "points_per_hour"),
    ("points 101", lambda t: {"points_per_hour": 101}, "points_per_hour"),
    ("points above the community's default cap", lambda t: {"points_per_hour": 21}, "points_per_hour"),
    ("start more than 366 days ahead",
     lambda t: {"starts_at": _iso(t, days=367), "ends_at": _iso(t, days=367, hours=2)}, "starts_at"),
    ("start in the past", lambda t: {"starts_at": _iso(t, hours=-1), "ends_at": _iso(t, hours=1)}, "starts_at"),
    ("start without offset", lambda t: {"starts_at": _iso(t, days=2)[:19]}, "starts_at"),
    ("start not a time", lambda t: {"starts_at": "下周二"}, "starts_at"),
    ("title empty after trimming", lambda t: {"title": "   "}, "title"),
    ("title empty", lambda t: {"title": ""}, "title"),
    ("title 41", lambda t: {"title": "题" * 41}, "title"),
    ("title two lines", lambda t: {"title": "周末\n清扫"}, "title"),
    ("kind unknown", lambda t: {"kind": "party"}, "kind"),
    ("description 2001", lambda t: {"description": "述" * 2001}, "description"),
]


@pytest.mark.parametrize("changes,field", [pytest.param(c, f, id=name) for name, c, f in BAD])
def test_publish_bad_input_is_400_naming_the_field(town, changes, field):
    body = {k: v for k, v in event_body(**changes(shanghai_now())).items() if v is not None}
    resp = town.admin.post("/v1/events", body)
    assert_refused(resp, 400, "VALIDATION_FAILED", field)


GOOD = [
    ("capacity 1", lambda t: {"capacity": 1}),
    ("capacity 5000", lambda t: {"capacity": 5000}),
    ("radius 50", lambda t: _location(radius_m=50)),
    ("radius 5000", lambda t: _location(radius_m=5000)),
    ("points 0", lambda t: {"points_per_hour": 0}),
    ("points 20, the default cap", lambda t: {"points_per_hour": 20}),
    ("lat/lng at a pole and the date line", lambda t: _location(lat=90, lng=-180)),
    ("lat/lng the other way", lambda t: _location(lat=-90, lng=180)),
    ("title 40 after trimming", lambda t: {"title": "  " + "题" * 40 + " "}),
    ("24 hours long", lambda t: {"starts_at": _iso(t, days=2), "ends_at": _iso(t, days=3)}),
    ("365 days ahead", lambda t: {"starts_at": _iso(t, days=365), "ends_at": _iso(t, days=365, hours=1)}),
    ("deadline equal to start", lambda t: {"starts_at": _iso(t, days=2), "signup_deadline": _iso(t, days=2)}),
    ("volunteer service", lambda t: {"kind": "volunteer_service"}),
    ("description 2000", lambda t: {"description": "述" * 2000}),
]


@pytest.mark.parametrize("changes", [pytest.param(c, id=name) for name, c in GOOD])
def test_publish_edges_that_pass(town, changes):
    change = changes(shanghai_now())
    body = event_body(**change)
    event = publish(town.admin, **change)
    for key in ("capacity", "points_per_hour", "kind", "description", "location"):
        assert event[key] == body[key], key
    assert event["title"] == body["title"].strip()
    for key in ("starts_at", "ends_at", "signup_deadline"):
        if key in change:
            assert event[key] == change[key], key


# --- list and detail ---------------------------------------------------------------------------------

def test_list_by_start_time_with_from_to_and_paging(community):
    admin, reader = community.admin, community.resident(1)
    third = publish(admin, title="第三天", starts_at=at(days=3), ends_at=at(days=3, hours=1))
    first = publish(admin, title="第一天", starts_at=at(days=1), ends_at=at(days=1, hours=1))
    second = publish(admin, title="第二天", starts_at=at(days=2), ends_at=at(days=2, hours=1))
    ids = lambda resp: [e["id"] for e in resp.json["items"]]  # noqa: E731

    everything = reader.get("/v1/events")
    assert everything.status == 200 and ids(everything) == [first["id"], second["id"], third["id"]]
    assert all(set(e) == EVENT_KEYS and e["my_status"] == "none" and not e["can_manage"]
               for e in everything.json["items"])
    assert ids(reader.get(f"/v1/events?from={q(at(days=1, hours=12))}")) == [second["id"], third["id"]]
    assert ids(reader.get(f"/v1/events?to={q(at(days=2, hours=12))}")) == [first["id"], second["id"]]
    window = f"/v1/events?from={q(at(days=1, hours=12))}&to={q(at(days=2, hours=12))}"
    assert ids(reader.get(window)) == [second["id"]]
    # The offset counts: 2 days + 12 h in Shanghai is 2 days + 4 h in UTC.
    utc_moment = (shanghai_now() + timedelta(days=1, hours=12)).astimezone(timezone.utc).isoformat()
    assert ids(reader.get(f"/v1/events?from={q(utc_moment)}")) == [second["id"], third["id"]]

    seen, cursor = [], None
    while True:
        page = reader.get("/v1/events?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200 and len(page.json["items"]) <= 1
        seen += ids(page)
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert seen == [first["id"], second["id"], third["id"]]

    assert_refused(reader.get(f"/v1/events?from={q(at(days=2))}&to={q(at(days=1))}"), 400, "VALIDATION_FAILED")
    assert_refused(reader.get(f"/v1/events?from={q(at(days=2))}&to={q(at(days=2))}"), 400, "VALIDATION_FAILED")
    assert_refused(reader.get("/v1/events?from=yesterday"), 400, "VALIDATION_FAILED", "from")


def test_another_communitys_event_is_404_everywhere(community, api):
    event = publish(community.admin)
    sign_up(community.resident(0), event)
    other = make_community(api)
    stranger = other.resident(0)
    path = f"/v1/events/{event['id']}"
    for member in (other.admin, stranger):
        assert_refused(member.get(path), 404, "NOT_FOUND")
        assert_refused(member.post(f"{path}/signup"), 404, "NOT_FOUND")
        assert_refused(member.delete(f"{path}/signup"), 404, "NOT_FOUND")
        assert_refused(member.get(f"{path}/roster"), 404, "NOT_FOUND")
    assert_refused(other.admin.patch(path, {"title": "改个名"}), 404, "NOT_FOUND")
    assert_refused(other.admin.post(f"{path}/cancel", {"reason": "不是我们的"}), 404, "NOT_FOUND")
    assert event["id"] not in [e["id"] for e in other.admin.get("/v1/events").json["items"]]
    assert counts(community.admin, event) == (1, 0)
    assert view(community.admin, event)["status"] == "open" and view(community.admin, event)["title"] == "周末楼道清扫"
    assert_refused(community.admin.get("/v1/events/e_nope"), 404, "NOT_FOUND")


# --- sign-up -------------------------------------------------------------------------------------------

def test_signed_while_places_are_left_then_waitlisted_in_order(community, people):
    event = publish(community.admin, capacity=2)
    a, b, c, d, e = people(5)
    first = sign_up(a, event)
    assert set(first) == SIGNUP_KEYS and set(first["event"]) == EVENT_KEYS
    assert (first["event_id"], first["status"], first["position"]) == (event["id"], "signed", None)
    assert (first["event"]["signed_count"], first["event"]["my_status"]) == (1, "signed")
    assert sign_up(b, event)["status"] == "signed"
    waiting = [sign_up(m, event) for m in (c, d, e)]
    assert [(s["status"], s["position"]) for s in waiting] == [("waitlisted", 1), ("waitlisted", 2), ("waitlisted", 3)]
    assert waiting[-1]["event"]["waitlist_count"] == 3 and waiting[-1]["event"]["my_status"] == "waitlisted"
    assert waiting[-1]["event"]["position"] == 3
    assert counts(community.admin, event) == (2, 3)
    assert [mine(m, event) for m in (a, b, c, d, e)] == [
        ("signed", None), ("signed", None), ("waitlisted", 1), ("waitlisted", 2), ("waitlisted", 3)]
    assert mine(community.resident(0), event) == ("none", None)
    listed = next(x for x in d.get("/v1/events").json["items"] if x["id"] == event["id"])
    assert (listed["my_status"], listed["signed_count"], listed["waitlist_count"]) == ("waitlisted", 2, 3)


def test_already_signed_up_when_signed_or_waitlisted(community, people):
    event = publish(community.admin, capacity=1)
    a, b = people(2)
    sign_up(a, event)
    assert_refused(a.post(f"/v1/events/{event['id']}/signup"), 409, "ALREADY_SIGNED_UP")
    assert sign_up(b, event)["status"] == "waitlisted"
    assert_refused(b.post(f"/v1/events/{event['id']}/signup"), 409, "ALREADY_SIGNED_UP")
    assert counts(community.admin, event) == (1, 1)
    assert [mine(a, event), mine(b, event)] == [("signed", None), ("waitlisted", 1)]


def test_volunteer_service_is_for_volunteers_and_party_members(community):
    service = publish(community.admin, kind="volunteer_service")
    activity = publish(community.admin, kind="activity")
    resident, volunteer = community.resident(0), community.volunteer(0)
    party = community.with_roles(community.resident(0), ["party_member"])
    assert_refused(resident.post(f"/v1/events/{service['id']}/signup"), 403, "FORBIDDEN")
    assert sign_up(volunteer, service)["status"] == "signed"
    assert sign_up(party, service)["status"] == "signed"
    assert sign_up(resident, activity)["status"] == "signed"
    assert counts(community.admin, service) == (2, 0)
    assert mine(resident, service) == ("none", None)


def test_a_cancelled_event_takes_no_sign_up_and_no_giving_up(community, people):
    event = publish(community.admin)
    a, b = people(2)
    sign_up(a, event)
    assert community.admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "下雨"}).status == 200
    assert_refused(b.post(f"/v1/events/{event['id']}/signup"), 409, "SIGNUP_CLOSED")
    assert_refused(a.delete(f"/v1/events/{event['id']}/signup"), 409, "SIGNUP_CLOSED")
    assert mine(b, event) == ("none", None)


# --- giving up -------------------------------------------------------------------------------------------

def test_giving_up_without_a_sign_up_is_not_signed_up(community, people):
    event = publish(community.admin)
    a, b = people(2)
    assert_refused(a.delete(f"/v1/events/{event['id']}/signup"), 409, "NOT_SIGNED_UP")
    sign_up(b, event)
    left = give_up(b, event)
    assert set(left) == SIGNUP_KEYS
    assert (left["status"], left["position"], left["event"]["my_status"]) == ("cancelled", None, "cancelled")
    assert left["event"]["signed_count"] == 0
    assert_refused(b.delete(f"/v1/events/{event['id']}/signup"), 409, "NOT_SIGNED_UP")
    assert counts(community.admin, event) == (0, 0)
    assert mine(b, event) == ("cancelled", None)


def test_leaving_the_waitlist_just_leaves_it(community, people):
    event = publish(community.admin, capacity=1)
    a, b, c, d = people(4)
    for m in (a, b, c, d):
        sign_up(m, event)
    left = give_up(c, event)
    assert (left["status"], left["position"]) == ("cancelled", None)
    assert (left["event"]["signed_count"], left["event"]["waitlist_count"]) == (1, 2)
    assert counts(community.admin, event) == (1, 2)
    assert [mine(m, event)[0] for m in (a, b, c, d)] == ["signed", "waitlisted", "cancelled", "waitlisted"]
    assert [e["user"]["id"] for e in roster(community.admin, event, "waitlisted")] == [b.id, d.id]
    assert all(messages(m.id, "event_promoted", event["id"]) == [] for m in (a, b, c, d))


def test_position_is_the_place_in_the_queue(community, people):
    """position: 1 = next to be promoted; right after a sign-up it is waitlist_count before + 1."""
    event = publish(community.admin, capacity=1)
    a, b, c, d, e = people(5)
    for m in (a, b, c, d):
        sign_up(m, event)
    give_up(c, event)
    assert mine(d, event) == ("waitlisted", 2)
    joined = sign_up(e, event)
    assert (joined["status"], joined["position"]) == ("waitlisted", 3)
    give_up(a, event)
    assert [mine(m, event) for m in (b, d, e)] == [("signed", None), ("waitlisted", 1), ("waitlisted", 2)]


def test_a_signed_user_leaving_promotes_the_first_waitlisted(community, people):
    event = publish(community.admin, capacity=1)
    a, b, c = people(3)
    for m in (a, b, c):
        sign_up(m, event)
    left = give_up(a, event)
    assert left["status"] == "cancelled" and left["event"]["my_status"] == "cancelled"
    assert (left["event"]["signed_count"], left["event"]["waitlist_count"]) == (1, 1)
    assert counts(community.admin, event) == (1, 1)
    assert mine(b, event) == ("signed", None)
    assert mine(c, event) == ("waitlisted", 1)
    promoted = messages(b.id, "event_promoted", event["id"])
    assert len(promoted) == 1 and promoted[0].status == "pending"
    assert messages(a.id, "event_promoted", event["id"]) == messages(c.id, "event_promoted", event["id"]) == []
    assert [e["user"]["id"] for e in roster(community.admin, event, "signed")] == [b.id]


def test_the_next_is_promoted_when_the_first_gave_up_meanwhile(community, people):
    event = publish(community.admin, capacity=1)
    a, b, c = people(3)
    for m in (a, b, c):
        sign_up(m, event)
    give_up(b, event)
    give_up(a, event)
    assert [mine(m, event)[0] for m in (a, b, c)] == ["cancelled", "cancelled", "signed"]
    assert counts(community.admin, event) == (1, 0)
    assert len(messages(c.id, "event_promoted", event["id"])) == 1
    assert messages(b.id, "event_promoted", event["id"]) == []


def test_signing_up_again_after_giving_up_goes_to_the_end_of_the_queue(community, people):
    event = publish(community.admin, capacity=1)
    a, b, c = people(3)
    for m in (a, b, c):
        sign_up(m, event)
    give_up(b, event)
    again = sign_up(b, event)
    assert (again["status"], again["position"]) == ("waitlisted", 2)
    assert_refused(b.post(f"/v1/events/{event['id']}/signup"), 409, "ALREADY_SIGNED_UP")
    give_up(a, event)
    assert mine(c, event) == ("signed", None) and mine(b, event) == ("waitlisted", 1)
    back = sign_up(a, event)
    assert (back["status"], back["position"]) == ("waitlisted", 2)
    assert [e["user"]["id"] for e in roster(community.admin, event, "waitlisted")] == [b.id, a.id]
    assert counts(community.admin, event) == (1, 2)
    # With a place free, signing up again is signed at once.
    roomy = publish(community.admin, capacity=3)
    sign_up(a, roomy)
    give_up(a, roomy)
    assert sign_up(a, roomy)["status"] == "signed" and counts(community.admin, roomy) == (1, 0)


# --- PATCH ------------------------------------------------------------------------------------------------

def test_only_organisers_change_an_event(community):
    creator = community.grid_worker(0)
    event = publish(creator)
    colleague, other_grid = community.grid_worker(0), community.grid_worker(1)
    resident, volunteer = community.resident(0), community.volunteer(0)
    path = f"/v1/events/{event['id']}"
    changed = creator.patch(path, {"title": "改期通知", "description": "改到下午"})
    assert changed.status == 200 and set(changed.json) == EVENT_KEYS
    assert (changed.json["title"], changed.json["description"]) == ("改期通知", "改到下午")
    assert colleague.patch(path, {"title": "同网格也能改"}).status == 200
    assert community.admin.patch(path, {"title": "管理员改"}).status == 200
    for outsider in (other_grid, resident, volunteer):
        assert_refused(outsider.patch(path, {"title": "不该改"}), 403, "FORBIDDEN")
    assert view(resident, event)["title"] == "管理员改"
    assert [view(m, event)["can_manage"] for m in (creator, colleague, community.admin, other_grid, resident)] == \
        [True, True, True, False, False]


def test_no_grid_event_is_managed_by_its_creator_and_admins_only(community):
    creator = community.with_roles(community.resident(0), ["admin"])
    event = publish(creator)
    assert event["grid_id"] is None
    assert community.admin.patch(f"/v1/events/{event['id']}", {"capacity": 20}).status == 200
    assert_refused(community.grid_worker(0).patch(f"/v1/events/{event['id']}", {"capacity": 30}), 403, "FORBIDDEN")


def test_raising_capacity_promotes_in_position_order(community, people):
    event = publish(community.admin, capacity=1)
    a, b, c, d = people(4)
    for m in (a, b, c, d):
        sign_up(m, event)
    resp = community.admin.patch(f"/v1/events/{event['id']}", {"capacity": 3})
    assert resp.status == 200, resp.body
    assert (resp.json["capacity"], resp.json["signed_count"], resp.json["waitlist_count"]) == (3, 3, 1)
    assert counts(community.admin, event) == (3, 1)
    assert [mine(m, event) for m in (a, b, c, d)] == [
        ("signed", None), ("signed", None), ("signed", None), ("waitlisted", 1)]
    assert [len(messages(m.id, "event_promoted", event["id"])) for m in (a, b, c, d)] == [0, 1, 1, 0]


def test_capacity_not_below_signed_count(community, people):
    event = publish(community.admin, capacity=3)
    a, b, c = people(3)
    sign_up(a, event)
    sign_up(b, event)
    path = f"/v1/events/{event['id']}"
    assert_refused(community.admin.patch(path, {"capacity": 1}), 409, "CAPACITY_BELOW_SIGNED")
    assert view(community.admin, event)["capacity"] == 3
    exact = community.admin.patch(path, {"capacity": 2})
    assert exact.status == 200 and (exact.json["capacity"], exact.json["signed_count"]) == (2, 2)
    assert sign_up(c, event)["status"] == "waitlisted"
    assert_refused(community.admin.patch(path, {"capacity": 0}), 400, "VALIDATION_FAILED", "capacity")
    assert_refused(community.admin.patch(path, {"capacity": 5001}), 400, "VALIDATION_FAILED", "capacity")


def test_patch_times_are_checked_against_the_stored_ones(community):
    start = shanghai_now() + timedelta(days=2)
    event = publish(community.admin, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=2)).isoformat())
    path = f"/v1/events/{event['id']}"
    assert_refused(community.admin.patch(path, {"ends_at": start.isoformat()}), 400, "VALIDATION_FAILED", "ends_at")
    assert_refused(community.admin.patch(path, {"ends_at": (start - timedelta(hours=1)).isoformat()}),
                   400, "VALIDATION_FAILED", "ends_at")
    assert_refused(community.admin.patch(path, {"starts_at": (start + timedelta(hours=3)).isoformat()}),
                   400, "VALIDATION_FAILED", "ends_at")
    assert_refused(community.admin.patch(path, {"signup_deadline": (start + timedelta(minutes=1)).isoformat()}),
                   400, "VALIDATION_FAILED", "signup_deadline")
    assert_refused(community.admin.patch(path, {"starts_at": at(hours=-1)}), 400, "VALIDATION_FAILED", "starts_at")
    assert_refused(community.admin.patch(path, {"title": "  "}), 400, "VALIDATION_FAILED", "title")
    assert view(community.admin, event)["starts_at"] == start.isoformat()
    later = start + timedelta(days=1)
    moved = community.admin.patch(path, {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat(),
                                         "signup_deadline": (later - timedelta(hours=2)).isoformat()})
    assert moved.status == 200, moved.body
    assert (moved.json["starts_at"], moved.json["ends_at"], moved.json["signup_deadline"]) == (
        later.isoformat(), (later + timedelta(hours=1)).isoformat(), (later - timedelta(hours=2)).isoformat())


# --- cancel ------------------------------------------------------------------------------------------------

def test_only_organisers_cancel_and_only_once(community):
    creator = community.grid_worker(0)
    event = publish(creator)
    path = f"/v1/events/{event['id']}/cancel"
    assert_refused(community.grid_worker(1).post(path, {"reason": "不是我的"}), 403, "FORBIDDEN")
    assert_refused(community.resident(0).post(path, {"reason": "不想去"}), 403, "FORBIDDEN")
    assert view(creator, event)["status"] == "open"
    cancelled = creator.post(path, {"reason": "暴雨预警"})
    assert cancelled.status == 200 and set(cancelled.json) == EVENT_KEYS
    assert (cancelled.json["status"], cancelled.json["cancel_reason"]) == ("cancelled", "暴雨预警")
    assert cancelled.json["cancelled_at"].endswith("+08:00")
    assert_refused(community.admin.post(path, {"reason": "再取消一次"}), 409, "INVALID_STATE")
    assert_refused(creator.patch(f"/v1/events/{event['id']}", {"title": "取消了还改"}), 409, "INVALID_STATE")
    assert view(community.resident(0), event)["status"] == "cancelled"


def test_cancelling_tells_everyone_signed_or_waiting_once(community, people):
    event = publish(community.admin, capacity=2)
    a, gone, b, c = people(4)
    sign_up(a, event)
    sign_up(gone, event)
    give_up(gone, event)
    sign_up(b, event)
    assert sign_up(c, event)["status"] == "waitlisted"
    assert community.admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "场地维修"}).status == 200
    run_scheduler()
    told = {m.name: len(messages(m.id, "event_cancelled", event["id"])) for m in (a, b, c, gone, community.admin)}
    assert told == {a.name: 1, b.name: 1, c.name: 1, gone.name: 0, community.admin.name: 0}
    run_scheduler()
    again = {m.name: len(messages(m.id, "event_cancelled", event["id"])) for m in (a, b, c, gone, community.admin)}
    assert again == told


# --- roster ------------------------------------------------------------------------------------------------

def test_roster_per_role_and_by_status(community, people):
    worker = community.grid_worker(0)
    event = publish(worker, capacity=2)
    a, b, c, d, e = people(5)
    for m in (a, b, c, d, e):
        sign_up(m, event)
    give_up(d, event)
    expected = [(a.id, "signed"), (b.id, "signed"), (c.id, "waitlisted"), (e.id, "waitlisted"),
                (d.id, "cancelled")]
    for organiser in (worker, community.admin, community.grid_worker(0)):
        entries = roster(organiser, event)
        assert [(x["user"]["id"], x["status"]) for x in entries] == expected
    entries = roster(worker, event)
    assert all(set(x) == ROSTER_KEYS for x in entries)
    assert entries[0]["user"] == {"id": a.id, "nickname": a.user["nickname"]}
    positions = [x["position"] for x in entries]
    assert positions[:2] == [None, None] and positions[4] is None
    assert all(isinstance(p, int) for p in positions[2:4]) and positions[2] < positions[3]
    assert entries[0]["signed_at"].endswith("+08:00") and entries[2]["signed_at"] is None
    assert all(x["updated_at"].endswith("+08:00") for x in entries)
    assert [x["user"]["id"] for x in roster(worker, event, "signed")] == [a.id, b.id]
    assert [x["user"]["id"] for x in roster(worker, event, "waitlisted")] == [c.id, e.id]
    assert [x["user"]["id"] for x in roster(worker, event, "cancelled")] == [d.id]
    paged, cursor = [], None
    while True:
        page = worker.get(f"/v1/events/{event['id']}/roster?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200 and len(page.json["items"]) <= 2
        paged += [x["user"]["id"] for x in page.json["items"]]
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert paged == [uid for uid, _ in expected]
    for outsider in (a, community.resident(0), community.grid_worker(1), community.volunteer(0)):
        assert_refused(outsider.get(f"/v1/events/{event['id']}/roster"), 403, "FORBIDDEN")
    assert_refused(worker.get(f"/v1/events/{event['id']}/roster?status=vip"), 400, "VALIDATION_FAILED", "status")


# --- the past: deadline passed, event started -----------------------------------------------------------------

@pytest.fixture(scope="module")
def past_world(api):
    """Events whose sign-up deadline or start passes a few seconds after they are published (see the module
    docstring for why time really passes here), the sign-ups made while they were open, then one wait."""
    town = make_community(api)
    admin = town.admin
    r1, r2, r3, r4, r5 = (town.resident(0) for _ in range(5))
    world = {"town": town, "r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5, "published_from": at(minutes=-1)}
    world["soon"] = publish(admin, title="两小时后", starts_at=at(hours=2), ends_at=at(hours=3))
    world["later"] = publish(admin, title="五小时后", starts_at=at(hours=5), ends_at=at(hours=6))
    world["gone"] = publish(admin, title="不去了", starts_at=at(hours=4), ends_at=at(hours=5))
    for event in ("later", "soon", "gone"):
        sign_up(r1, world[event])
    give_up(r1, world["gone"])
    # Only what must happen before the moment is timed: three events and their sign-ups (nine requests).
    moment = shanghai_now() + timedelta(seconds=5)
    world["deadline"] = publish(admin, title="截止已过", capacity=1, signup_deadline=moment.isoformat(),
                                starts_at=at(hours=6), ends_at=at(hours=7))
    world["started"] = publish(admin, title="已开始", capacity=5, starts_at=moment.isoformat(),
                               ends_at=(moment + timedelta(hours=2)).isoformat())
    world["past"] = publish(admin, title="刚开始", capacity=5, starts_at=(moment + timedelta(seconds=1)).isoformat(),
                            ends_at=(moment + timedelta(hours=1)).isoformat())
    sign_up(r5, world["deadline"])
    sign_up(r2, world["deadline"])
    for event in ("started", "past"):
        sign_up(r1, world[event])
    sign_up(r3, world["started"])
    assert datetime.now(SHANGHAI) < moment, "setting up took longer than the events' few seconds: move them later"
    time.sleep((moment + timedelta(seconds=1.5) - datetime.now(SHANGHAI)).total_seconds())
    return world


def test_sign_up_past_the_deadline_is_closed(past_world):
    w = past_world
    assert_refused(w["r4"].post(f"/v1/events/{w['deadline']['id']}/signup"), 409, "SIGNUP_CLOSED")
    body = view(w["r4"], w["deadline"])
    assert (body["status"], body["my_status"], body["signed_count"]) == ("closed", "none", 1)


def test_giving_up_after_the_deadline_is_allowed_and_promotes(past_world):
    w = past_world
    assert give_up(w["r5"], w["deadline"])["status"] == "cancelled"
    assert mine(w["r2"], w["deadline"]) == ("signed", None)
    assert len(messages(w["r2"].id, "event_promoted", w["deadline"]["id"])) == 1
    assert counts(w["town"].admin, w["deadline"]) == (1, 0)


def test_after_the_start_neither_sign_up_nor_giving_up(past_world):
    w = past_world
    assert_refused(w["r3"].delete(f"/v1/events/{w['started']['id']}/signup"), 409, "SIGNUP_CLOSED")
    assert_refused(w["r4"].post(f"/v1/events/{w['started']['id']}/signup"), 409, "SIGNUP_CLOSED")
    body = view(w["r3"], w["started"])
    assert (body["status"], body["my_status"], body["signed_count"]) == ("ongoing", "signed", 2)


def test_the_list_starts_from_now_by_default(past_world):
    w = past_world
    listed = [e["id"] for e in w["r4"].get("/v1/events").json["items"]]
    assert listed == [w[k]["id"] for k in ("soon", "gone", "later", "deadline")]
    everything = [e["id"] for e in w["r4"].get(f"/v1/events?from={q(w['published_from'])}").json["items"]]
    assert everything == [w[k]["id"] for k in ("started", "past", "soon", "gone", "later", "deadline")]


def _walk(member, path: str, limit: int | None = None) -> list[dict]:
    """Every item of a list, page by page (a page may be short: only the cursor says whether more follow)."""
    items, cursor = [], None
    path += f"?limit={limit}" if limit else ""
    while True:
        page = member.get(path + (("&" if "?" in path else "?") + f"cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        assert limit is None or len(page.json["items"]) <= limit
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if not cursor:
            return items


def test_my_events_upcoming_first_then_past(past_world):
    w = past_world
    expected = [w[k]["id"] for k in ("soon", "later", "past", "started")]
    items = _walk(w["r1"], "/v1/me/events")
    assert [e["id"] for e in items] == expected
    assert all(set(e) == EVENT_KEYS and e["my_status"] == "signed" for e in items)
    assert [e["id"] for e in _walk(w["r1"], "/v1/me/events", limit=1)] == expected
    assert _walk(w["r4"], "/v1/me/events") == []


# --- reminders ------------------------------------------------------------------------------------------------

def test_reminders_once_per_signed_person(community, people):
    event = publish(community.admin, capacity=3, starts_at=at(hours=3), ends_at=at(hours=4))
    far = publish(community.admin, capacity=3, starts_at=at(hours=30), ends_at=at(hours=31))
    a, x, b, y, c, d = people(6)
    sign_up(a, event)
    sign_up(x, event)
    give_up(x, event)  # cancelled, and nobody waiting: no promotion
    for m in (b, y):
        sign_up(m, event)
    assert sign_up(c, event)["status"] == "waitlisted"
    assert sign_up(d, event)["status"] == "waitlisted"
    give_up(d, event)
    sign_up(a, far)
    run_scheduler()
    run_scheduler()
    reminded = {m.name: len(messages(m.id, "event_reminder", event["id"])) for m in (a, b, y, c, x, d)}
    assert reminded == {a.name: 1, b.name: 1, y.name: 1, c.name: 0, x.name: 0, d.name: 0}
    assert messages(a.id, "event_reminder", far["id"]) == []  # 30 h ahead: not yet


# --- statistics ----------------------------------------------------------------------------------------------

def test_admin_stats_count_events(community, people):
    one = publish(community.admin, capacity=2)
    two = publish(community.admin, capacity=3)
    dropped = publish(community.admin, capacity=4)
    a, b, c = people(3)
    for m in (a, b, c):
        sign_up(m, one)
    give_up(a, one)  # c promoted
    sign_up(a, two)
    assert community.admin.post(f"/v1/events/{dropped['id']}/cancel", {"reason": "取消"}).status == 200
    resp = community.admin.get("/v1/admin/stats")
    assert resp.status == 200, resp.body
    stats = resp.json["events"]
    assert {"published", "cancelled", "capacity", "signed", "signups", "waitlisted", "promotions",
            "fill_rate"} <= set(stats)
    assert (stats["published"], stats["cancelled"], stats["signed"], stats["promotions"]) == (3, 1, 3, 1)
    assert stats["fill_rate"] == round(3 / 5, 4)
    assert_refused(community.grid_worker(0).get("/v1/admin/stats"), 403, "FORBIDDEN")


# --- Idempotency-Key -----------------------------------------------------------------------------------------

def test_the_same_sign_up_with_the_same_key_is_answered_once(community, people):
    event = publish(community.admin, capacity=5)
    (a,) = people(1)
    key = str(uuid.uuid4())
    first = a.post(f"/v1/events/{event['id']}/signup", headers={"Idempotency-Key": key})
    second = a.post(f"/v1/events/{event['id']}/signup", headers={"Idempotency-Key": key})
    assert first.status == second.status == 201, (first.body, second.body)
    assert first.json == second.json and second.headers.get("Idempotent-Replayed") == "true"
    assert counts(community.admin, event) == (1, 0)
    assert Counter(x["user"]["id"] for x in roster(community.admin, event)) == {a.id: 1}
    assert_refused(a.post(f"/v1/events/{event['id']}/signup"), 409, "ALREADY_SIGNED_UP")


# --- saved local data of earlier versions ------------------------------------------------------------------

def test_an_event_seeded_by_an_earlier_version_takes_sign_ups(community, people):
    """`make dev` keeps its tables across restarts: events the demo seed wrote before sign-up existed have no
    `status`, `signup_closes_at`, `waitlist_seq` or `organiser_nickname`. They must work, not loop into 503s."""
    from tongxin.adapters.dynamo import binding
    from tongxin.adapters.dynamo.models import EventModel
    from tongxin.domain.clock import utcnow
    now = utcnow()
    starts = now + timedelta(days=2)
    item = EventModel("ev_legacy_" + uuid.uuid4().hex[:8], community_id=community.id, title="旧版示范活动",
                      kind="activity", starts_at=starts, ends_at=starts + timedelta(hours=2),
                      signup_deadline=starts - timedelta(hours=12), capacity=1, signed_count=0, waitlist_count=0,
                      points_per_hour=0, allow_walk_ins=True, organiser_id=community.admin.id,
                      created_at=now).serialize()
    for added_since in ("status", "waitlist_seq", "promotions", "signup_closes_at", "organiser_nickname"):
        item.pop(added_since, None)  # as the old seed wrote it: absent, not defaulted
    binding.connection().client.put_item(TableName=EventModel.Meta.table_name, Item=item)
    legacy = [e for e in community.admin.get("/v1/events").json["items"] if e["title"] == "旧版示范活动"][0]
    first, second = people(2)
    assert sign_up(first, legacy)["status"] == "signed"
    assert (sign_up(second, legacy)["status"], view(second, legacy)["position"]) == ("waitlisted", 1)
    give_up(first, legacy)
    assert view(second, legacy)["my_status"] == "signed"
