"""双报到 from the outside (issue 23, "Done when"): an outside client registers a co-building unit (共建单位) and its
liaison, signs the community's agreement with it, has 20 residents report as party members (党员报到) of that unit and
approves them, publishes a post (岗位) of headcount 5 that fills exactly at its headcount under concurrent claims,
credits the first member's service through an event check-out and a wish, and reads the quarter's assessment (考核)
and the unit's service cards (服务卡) with exactly those services.

The real local stack (``make dev``'s entry point, ``tests/stack.py``) in a subprocess with its demo seed
(``infra/local/seed.py``), driven over HTTP as the mini-program and the console drive it: ``dev:<name>`` logins of the demo
users (street1, admin, res3, unit1) and of fresh users (the liaison, the 20 members). The tests below are the walk's
steps in order and share the module's state (``walk``).

One thing the API cannot make: an event that is running with a check-in old enough to check out (the API refuses to
publish an event that has started, and a second scan within 2 minutes of the check-in is ``ALREADY_CHECKED_IN``). The
stack is another process, whose clock cannot be moved from here. So, as ``tests/slow/test_checkin_contention.py``
does, the event's times are moved in the stack's DynamoDB after the sign-up (started 5 minutes ago), and after the
check-in (made over HTTP) the check-in's time is moved back to the start, in the shape the API writes them; the
check-out that credits the service is over HTTP. Nothing waits on a wall clock: the pushes are polled.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.outside import (accept_template, check_in_at, keyword, messages, move_event, need, ok, only,
                                read_csv, refused, wait_for)
from tests.stack import Client, answer_counts, in_parallel, in_threads, stack_fixture

pytestmark = pytest.mark.e2e

SHANGHAI = timezone(timedelta(hours=8))
COMMUNITY_ID, COMMUNITY = "c_demo", "同心示范社区"
SEED_UNIT = "unit_demo_hospital"  # the demo street's unit of infra/local/seed.py, with its liaison unit1
MEMBERS = 20
HEADCOUNT = 5
FIRST_NAME = "张建国"
RUN = uuid.uuid4().hex[:6]  # fresh dev users of this module


# --- helpers -------------------------------------------------------------------------------------------------

def quarter_now() -> str:
    now = datetime.now(SHANGHAI)
    return f"{now.year:04d}Q{(now.month - 1) // 3 + 1}"


def all_pages(client: Client, path: str, params: dict | None = None) -> list[dict]:
    items, cursor = [], None
    while True:
        page = ok(client.call("GET", path, params={**(params or {}), **({"cursor": cursor} if cursor else {})}))
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def join(stack, name: str, invite: str) -> Client:
    """A fresh user who joins the demo community by the admin's invite (grid 1)."""
    client = Client(stack.api_url).login(name)
    assert client.user["community_id"] is None
    client.adopt(client.call("POST", "/v1/me/community", {"invite": invite}))
    assert (client.user["community_id"], client.user["roles"]) == (COMMUNITY_ID, ["resident"]), client.user
    return client


def registration_body(real_name: str, unit_id: str) -> dict:
    return {"real_name": real_name, "work_unit": "同心区第一中学", "party_branch": "一中教工党支部",
            "unit_id": unit_id}


# --- the module's stack, people and state ----------------------------------------------------------------------

stack = stack_fixture("party-walk")


@pytest.fixture(scope="module")
def people(stack) -> dict[str, Client]:
    return {name: Client(stack.api_url).login(name) for name in ("street1", "admin", "res3", "unit1")}


@pytest.fixture(scope="module")
def walk() -> dict:
    return {"quarter": quarter_now()}


# --- the walk ----------------------------------------------------------------------------------------------------

def test_the_street_registers_a_unit_and_its_liaison_joins_by_invite(stack, people, walk):
    street1 = people["street1"]
    unit = ok(street1.call("POST", "/v1/street/units", {"name": "同心区第一中学", "kind": "学校",
                                                        "contact_name": "李老师", "contact_phone": "13800138000"}), 201)
    assert (unit["name"], unit["kind"], unit["street_id"]) == ("同心区第一中学", "学校", street1.user["street_ids"][0])
    assert (unit["liaison_count"], unit["agreement_count"], unit["resource_count"]) == (0, 0, 0)
    assert unit["id"] in [u["id"] for u in all_pages(street1, "/v1/street/units")]

    invite = ok(street1.call("POST", f"/v1/street/units/{unit['id']}/invites"), 201)
    assert invite["unit_id"] == unit["id"] and invite["url"].endswith(f"/u/{invite['code']}")
    liaison = Client(stack.api_url).login(f"liaison-{RUN}")
    joined = ok(liaison.call("POST", "/v1/me/unit", {"invite": invite["url"]}))  # the whole link, as scanned
    assert joined["unit"] == {"id": unit["id"], "name": "同心区第一中学"}
    me = ok(liaison.call("GET", "/v1/me"))
    assert "unit_liaison" in me["roles"] and me["unit_ids"] == [unit["id"]] and me["community_id"] is None
    # one use: the same invite again (by anyone) is no invite
    late = Client(stack.api_url).login(f"late-{RUN}")
    refused(late.call("POST", "/v1/me/unit", {"invite": invite["code"]}), 404, "INVITE_INVALID")
    refused(liaison.call("POST", "/v1/me/unit", {"invite": invite["code"]}), 404, "INVITE_INVALID")
    assert ok(liaison.call("GET", f"/v1/units/{unit['id']}"))["liaison_count"] == 1
    walk.update(unit=unit, liaison=liaison)


def test_the_community_signs_a_co_building_agreement_with_the_unit(people, walk):
    need(walk, "unit", "liaison")
    admin, unit_id = people["admin"], walk["unit"]["id"]
    valid_until = (datetime.now(SHANGHAI) + timedelta(days=365)).date().isoformat()
    agreement = ok(admin.call("POST", f"/v1/admin/units/{unit_id}/agreement", {
        "pledges": ["每季度开展一次党员志愿服务", "开放学校操场供居民周末锻炼"], "activities_per_quarter": 1,
        "valid_until": valid_until}), 201)
    assert (agreement["unit_id"], agreement["community"], agreement["activities_per_quarter"],
            agreement["valid_until"], agreement["valid"], agreement["renewed"]) == (
        unit_id, {"id": COMMUNITY_ID, "name": COMMUNITY}, 1, valid_until, True, False)
    seen = ok(walk["liaison"].call("GET", f"/v1/units/{unit_id}/agreements"))["items"]
    assert [(a["community"]["id"], a["activities_per_quarter"]) for a in seen] == [(COMMUNITY_ID, 1)]
    assert ok(admin.call("GET", f"/v1/units/{unit_id}"))["agreement_count"] == 1
    walk["agreement"] = agreement


def test_a_resident_reports_as_a_party_member_of_the_unit_and_the_admin_approves(stack, people, walk):
    need(walk, "unit")
    admin, unit_id = people["admin"], walk["unit"]["id"]
    invite = ok(admin.call("POST", "/v1/admin/invites", {"grid_id": "g_demo1"}), 201)
    submitted_template = accept_template(stack, "admin", admin, "party_registration_submitted")
    first = join(stack, f"party-{RUN}-0", invite["code"])
    decided_template = accept_template(stack, f"party-{RUN}-0", first, "party_registration_decided")
    refused(first.call("GET", "/v1/me/party-registration"), 404, "NOT_FOUND")  # never reported here

    registration = ok(first.call("POST", "/v1/me/party-registration", registration_body(FIRST_NAME, unit_id)), 201)
    assert registration["id"] == f"{COMMUNITY_ID}.{first.user['id']}"
    assert (registration["status"], registration["real_name"], registration["unit_id"]) == (
        "pending", FIRST_NAME, unit_id)
    assert ok(first.call("GET", "/v1/me/party-registration"))["status"] == "pending"
    # the same person reports again: one registration per person per community
    error = refused(first.call("POST", "/v1/me/party-registration", registration_body(FIRST_NAME, unit_id)),
                    409, "ALREADY_REGISTERED")
    assert error["details"]["status"] == "pending"
    # an unknown unit is named as such (and nothing is written: the first registration stands)
    other = join(stack, f"stray-{RUN}", invite["code"])
    error = refused(other.call("POST", "/v1/me/party-registration", registration_body("王小明", "unit_nope")),
                    404, "NOT_FOUND")
    assert error["details"]["field"] == "unit_id"

    # the admin is told, the name masked
    [told] = wait_for("the admin's party_registration_submitted in /__dev/messages",
                      lambda: messages(stack, "admin", submitted_template, "pages/admin/party-registrations"), stack)
    title = told["data"][keyword("party_registration_submitted", "title")]["value"]
    assert title == "党员报到：张**" and FIRST_NAME not in str(told["data"])

    pending = all_pages(admin, "/v1/admin/party-registrations", {"status": "pending"})
    assert registration["id"] in [r["id"] for r in pending]
    approved = ok(admin.call("POST", f"/v1/admin/party-registrations/{registration['id']}/approve"))
    assert (approved["status"], approved["unit_id"]) == ("approved", unit_id) and approved["decided_at"]
    me = ok(first.call("GET", "/v1/me"))  # the role works at once, with the same token
    assert "party_member" in me["roles"] and "resident" in me["roles"]
    assert ok(first.call("GET", "/v1/me/party-registration"))["status"] == "approved"
    refused(admin.call("POST", f"/v1/admin/party-registrations/{registration['id']}/approve"), 409, "INVALID_STATE")
    error = refused(first.call("POST", "/v1/me/party-registration", registration_body(FIRST_NAME, unit_id)),
                    409, "ALREADY_REGISTERED")
    assert error["details"]["status"] == "approved"
    approved_list = all_pages(admin, "/v1/admin/party-registrations", {"status": "approved"})
    assert registration["id"] in [r["id"] for r in approved_list]
    assert registration["id"] not in [r["id"] for r in all_pages(admin, "/v1/admin/party-registrations")]

    # the member is told
    [decided] = wait_for("the member's party_registration_decided in /__dev/messages",
                         lambda: messages(stack, f"party-{RUN}-0", decided_template, "pages/party/registration"),
                         stack)
    assert decided["data"][keyword("party_registration_decided", "note")]["value"] == "审核通过，已登记为党员"
    walk.update(invite=invite["code"], first=first, members=[first])


def test_nineteen_more_residents_report_and_are_approved(stack, people, walk):
    need(walk, "invite", "members")
    admin, unit_id = people["admin"], walk["unit"]["id"]

    def member(index: int) -> Client:
        client = join(stack, f"party-{RUN}-{index}", walk["invite"])
        registration = ok(client.call("POST", "/v1/me/party-registration",
                                      registration_body(f"党员{index:02d}号", unit_id)), 201)
        assert ok(admin.call("POST", f"/v1/admin/party-registrations/{registration['id']}/approve"))[
            "status"] == "approved"
        return client

    others = in_threads(member, range(1, MEMBERS), threads=4)
    for client in others:
        assert "party_member" in ok(client.call("GET", "/v1/me"))["roles"]
    walk["members"] = walk["members"] + others
    assert len({m.user["id"] for m in walk["members"]}) == MEMBERS


def test_the_first_member_claims_a_place_alone_and_a_second_claim_is_refused(stack, people, walk):
    need(walk, "first")
    admin, first = people["admin"], walk["first"]
    walk["post_full_template"] = accept_template(stack, "admin", admin, "post_full", times=2)  # a second would show
    post = ok(admin.call("POST", "/v1/admin/posts", {
        "title": "楼栋长", "description": "负责3号楼的政策宣传和邻里联系", "skills": ["沟通", "组织"],
        "headcount": HEADCOUNT}), 201)
    assert (post["status"], post["headcount"], post["claimed_count"], post["places_left"]) == (
        "open", HEADCOUNT, 0, HEADCOUNT)
    claimed = ok(first.call("POST", f"/v1/posts/{post['id']}/claim"))
    assert (claimed["mine"], claimed["claimed_count"], claimed["places_left"], claimed["status"]) == (
        True, 1, HEADCOUNT - 1, "open")
    refused(first.call("POST", f"/v1/posts/{post['id']}/claim"), 409, "ALREADY_CLAIMED")
    # a resident who is not a party member may not claim
    refused(people["res3"].call("POST", f"/v1/posts/{post['id']}/claim"), 403, "FORBIDDEN")
    assert ok(first.call("GET", f"/v1/posts/{post['id']}"))["claimed_count"] == 1
    walk["post"] = post


def test_nineteen_members_race_for_the_four_places_left(stack, people, walk):
    need(walk, "post", "members")
    admin, post_id = people["admin"], walk["post"]["id"]
    racers = walk["members"][1:]
    results = in_parallel(lambda m: m.call("POST", f"/v1/posts/{post_id}/claim"), racers)
    summary = answer_counts(results)
    assert summary == {"200": HEADCOUNT - 1, "409 POST_FULL": MEMBERS - HEADCOUNT}, summary
    winners = {m.user["id"] for m, r in zip(racers, results) if r.status_code == 200}
    answers = [r.json() for r in results if r.status_code == 200]
    assert all(a["mine"] and 2 <= a["claimed_count"] <= HEADCOUNT for a in answers), answers
    # the claim that took the last place knows the exact count
    assert [(a["status"], a["claimed_count"]) for a in answers if a["status"] == "full"] == [("full", HEADCOUNT)]
    for r in results:
        if r.status_code == 409:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["error"]["message"]), r.text

    post = ok(admin.call("GET", f"/v1/posts/{post_id}"))
    assert (post["status"], post["claimed_count"], post["places_left"]) == ("full", HEADCOUNT, 0)
    claimants = [c["user"]["id"] for c in post["claimants"]]
    assert claimants[0] == walk["first"].user["id"]  # earliest first
    assert set(claimants) == winners | {walk["first"].user["id"]} and len(claimants) == HEADCOUNT
    assert all(c["role"] == "party_member" for c in post["claimants"])
    # a loser, seen by the post, holds nothing; a claim after the fill is refused the same way
    loser = next(m for m in racers if m.user["id"] not in winners)
    assert ok(loser.call("GET", f"/v1/posts/{post_id}"))["mine"] is False
    refused(loser.call("POST", f"/v1/posts/{post_id}/claim"), 409, "POST_FULL")
    full = [p for p in all_pages(admin, "/v1/posts", {"status": "full"}) if p["id"] == post_id]
    assert [(p["claimed_count"], p["places_left"]) for p in full] == [(HEADCOUNT, 0)]

    template_id = walk["post_full_template"]
    [message] = wait_for("the admin's post_full message in /__dev/messages",
                         lambda: messages(stack, "admin", template_id), stack)
    assert message["page"] == f"pages/post/detail?id={post_id}"
    assert message["data"][keyword("post_full", "title")]["value"] == "楼栋长"
    assert message["data"][keyword("post_full", "state")]["value"] == "已满员"
    walk.update(winners=winners, post_full_page=message["page"])


def test_the_first_member_is_credited_an_event_by_checking_out(stack, people, walk):
    need(walk, "first")
    admin, first = people["admin"], walk["first"]
    later = (datetime.now(SHANGHAI) + timedelta(days=2)).replace(microsecond=0)
    event = ok(admin.call("POST", "/v1/events", {
        "title": "共建单位党员义诊服务", "kind": "volunteer_service", "capacity": 5, "points_per_hour": 10,
        "starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat(),
        "location": {"address": "同心社区服务中心", "lat": 30.0, "lng": 103.8, "radius_m": 200}}), 201)
    signed = ok(first.call("POST", f"/v1/events/{event['id']}/signup"), 201)
    assert signed["status"] == "signed"  # a party member may sign up for a 招募令

    starts = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)
    move_event(stack, event["id"], first.user["id"], starts, starts + timedelta(hours=1))
    code = ok(admin.call("GET", f"/v1/events/{event['id']}/qrcode", params={"format": "json"}))["code"]
    checked_in = ok(first.call("POST", "/v1/checkins", {"code": code}))
    assert checked_in["action"] == "check_in" and checked_in["attendance"]["status"] == "checked_in"
    refused(first.call("POST", "/v1/checkins", {"code": code}), 409, "ALREADY_CHECKED_IN")  # a double scan
    check_in_at(stack, event["id"], first.user["id"], starts)

    code = ok(admin.call("GET", f"/v1/events/{event['id']}/qrcode", params={"format": "json"}))["code"]
    out = ok(first.call("POST", "/v1/checkins", {"code": code}))
    attendance = out["attendance"]
    assert out["action"] == "check_out" and attendance["status"] == "checked_out"
    checked_out_at = datetime.fromisoformat(attendance["checked_out_at"])
    minutes = int((checked_out_at - starts).total_seconds()) // 60
    assert attendance["minutes"] == minutes and minutes >= 5, attendance
    refused(first.call("POST", "/v1/checkins", {"code": code}), 409, "ALREADY_CHECKED_OUT")
    quarter = walk["quarter"]
    assert f"{starts.astimezone(SHANGHAI).year:04d}Q{(starts.astimezone(SHANGHAI).month - 1) // 3 + 1}" == quarter, \
        "the walk straddles a quarter: run it again"
    walk.update(event_minutes=minutes, event=event)


def test_the_first_member_fulfils_a_residents_wish(people, walk):
    need(walk, "first")
    res3, first = people["res3"], walk["first"]
    wish = ok(res3.call("POST", "/v1/wishes", {"title": "帮忙修自行车", "content": "孩子的自行车链条掉了，想请人帮忙修一下",
                                                "category": "维修"}), 201)
    claimed = ok(first.call("POST", f"/v1/wishes/{wish['id']}/claim"))  # a party member may claim a wish
    assert claimed["status"] == "claimed"
    ok(first.call("POST", f"/v1/wishes/{wish['id']}/fulfil", {"note": "链条装好了，也上了油"}))
    confirmed = ok(res3.call("POST", f"/v1/wishes/{wish['id']}/confirm", {"rating": 5}))
    assert confirmed["points_awarded"] == 20
    assert quarter_now() == walk["quarter"], "the walk straddles a quarter: run it again"
    walk["wish_done"] = True


def _assessment(admin: Client, quarter: str) -> tuple[dict, dict[str, dict]]:
    items, cursor, view = [], None, None
    while True:
        view = ok(admin.call("GET", "/v1/admin/party-members",
                             params={"quarter": quarter, **({"cursor": cursor} if cursor else {})}))
        assert len(view["items"]) <= 20
        items += view["items"]
        cursor = view["next_cursor"]
        if cursor is None:
            break
    by_user = {item["user"]["id"]: item for item in items}
    assert len(by_user) == len(items), "a party member listed twice"
    return view, by_user


def test_the_quarter_assessment_shows_exactly_those_services(people, walk):
    need(walk, "winners", "event_minutes", "wish_done")
    admin, quarter, unit_id, minutes = people["admin"], walk["quarter"], walk["unit"]["id"], walk["event_minutes"]
    view, by_user = _assessment(admin, quarter)
    assert view["quarter"] == quarter
    assert view["rules"] == {"services_per_quarter_min": 1, "hours_per_year_min": 20}  # the defaults
    first = by_user[walk["first"].user["id"]]
    assert first["user"]["real_name"] == FIRST_NAME and first["unit_id"] == unit_id
    assert first["quarter"] == {"services": 3, "events": 1, "wishes": 1, "posts": 1, "requests": 0,
                                "minutes": minutes}
    assert first["year_minutes"] == minutes
    assert (first["meets_rules"], first["missing"]) == (False, ["hours"])  # minutes, not 20 hours
    for member in walk["members"][1:]:
        item = by_user[member.user["id"]]
        won = member.user["id"] in walk["winners"]
        assert item["unit_id"] == unit_id
        assert item["quarter"] == {"services": int(won), "events": 0, "wishes": 0, "posts": int(won), "requests": 0,
                                   "minutes": 0}, item
        assert (item["meets_rules"], item["missing"]) == (False, ["hours"] if won else ["services", "hours"])
    # the seed's party members (the admin, vol1) are listed too, nobody else
    assert {m.user["id"] for m in walk["members"]} | {"u_demo_admin", "u_demo_vol1"} == set(by_user)
    # the quarter before holds nothing of the walk; one to come is refused
    _, before = _assessment(admin, "0001Q1")
    assert before[walk["first"].user["id"]]["quarter"]["services"] == 0
    refused(admin.call("GET", "/v1/admin/party-members", params={"quarter": "9999Q4"}), 400, "VALIDATION_FAILED")

    table = read_csv(admin.call("GET", "/v1/admin/party-members", params={"quarter": quarter, "format": "csv"}))
    assert table[0] == ["成员ID", "昵称", "姓名", "共建单位ID", "季度", "服务次数", "参加活动", "圆梦心愿", "领岗", "响应诉求",
                        "本季度服务分钟", "本年服务分钟", "是否达标", "未达标项"]
    line = only([row for row in table[1:] if row[0] == walk["first"].user["id"]], "the first member's CSV line")
    assert line[2:12] == [FIRST_NAME, unit_id, quarter, "3", "1", "1", "1", "0", str(minutes), str(minutes)]
    assert len(table) - 1 == len(by_user)
    walk["assessed"] = by_user


def _cards(client: Client, unit_id: str, quarter: str) -> dict:
    view = ok(client.call("GET", f"/v1/units/{unit_id}/service-cards", params={"quarter": quarter}))
    items, cursor = list(view["items"]), view.get("next_cursor")
    while cursor:
        page = ok(client.call("GET", f"/v1/units/{unit_id}/service-cards", params={"quarter": quarter,
                                                                                 "cursor": cursor}))
        items += page["items"]
        cursor = page.get("next_cursor")
    return {**view, "items": items}


def test_the_units_service_cards_show_the_same_services(people, walk):
    need(walk, "assessed", "agreement")
    liaison, street1 = walk["liaison"], people["street1"]
    unit_id, quarter, minutes = walk["unit"]["id"], walk["quarter"], walk["event_minutes"]
    view = _cards(liaison, unit_id, quarter)
    assert view["quarter"] == quarter
    assert view["unit"] == {"id": unit_id, "name": "同心区第一中学", "kind": "学校"}
    cards = {card["member"]["id"]: card for card in view["items"]}
    assert len(cards) == len(view["items"]) == MEMBERS
    assert set(cards) == {m.user["id"] for m in walk["members"]}  # the unit's approved party members, all of them
    card = cards[walk["first"].user["id"]]
    assert card["member"] == {"id": walk["first"].user["id"], "name": FIRST_NAME,
                              "community": {"id": COMMUNITY_ID, "name": COMMUNITY}, "party_branch": "一中教工党支部"}
    assert card["quarter"] == {"services": 3, "events": 1, "wishes": 1, "posts": 1, "requests": 0,
                               "minutes": minutes}
    assert (card["year_minutes"], card["meets_rules"], card["missing"]) == (minutes, False, ["hours"])
    for member in walk["members"]:  # every card agrees with the community's assessment
        assessed = walk["assessed"][member.user["id"]]
        mine = cards[member.user["id"]]
        assert (mine["quarter"], mine["year_minutes"], mine["meets_rules"], mine["missing"]) == (
            assessed["quarter"], assessed["year_minutes"], assessed["meets_rules"], assessed["missing"]), mine
    # the unit's own pledge: 1 activity a quarter, none held yet (it ran no event of its own)
    assert view["agreements"] == [{"community": {"id": COMMUNITY_ID, "name": COMMUNITY}, "activities_per_quarter": 1,
                                   "activities_done": 0, "met": False,
                                   "valid_until": walk["agreement"]["valid_until"]}]
    # the street's staff read the same cards
    assert _cards(street1, unit_id, quarter)["items"] == view["items"]

    table = read_csv(liaison.call("GET", f"/v1/units/{unit_id}/service-cards",
                                  params={"quarter": quarter, "format": "csv"}))
    assert table[0] == ["单位", "成员ID", "姓名", "社区", "所在党组织", "季度", "服务次数", "参加活动", "圆梦心愿", "领岗",
                        "响应诉求", "本季度服务分钟", "本年服务分钟", "是否达标", "未达标项"]
    assert sorted(row[1] for row in table[1:]) == sorted(cards)
    assert only([row for row in table[1:] if row[1] == walk["first"].user["id"]], "the first member's CSV line") == [
        "同心区第一中学", walk["first"].user["id"], FIRST_NAME, COMMUNITY, "一中教工党支部", quarter,
        "3", "1", "1", "1", "0", str(minutes), str(minutes), "否", "服务时长"]


def test_no_one_else_reads_the_units_cards(stack, people, walk):
    need(walk, "unit", "liaison")
    liaison, unit1, unit_id = walk["liaison"], people["unit1"], walk["unit"]["id"]
    quarter = walk["quarter"]
    # a liaison sees their own unit only: another unit is not there for them (docs/api.md, units: 404)
    refused(liaison.call("GET", f"/v1/units/{SEED_UNIT}/service-cards", params={"quarter": quarter}),
            404, "NOT_FOUND")
    refused(unit1.call("GET", f"/v1/units/{unit_id}/service-cards", params={"quarter": quarter}), 404, "NOT_FOUND")
    # a party member of the unit, a resident: no unit at all
    refused(walk["first"].call("GET", f"/v1/units/{unit_id}/service-cards", params={"quarter": quarter}),
            403, "FORBIDDEN")
    refused(people["res3"].call("GET", f"/v1/units/{unit_id}/service-cards"), 403, "FORBIDDEN")


def test_a_member_whose_role_is_taken_away_leaves_the_lists_and_may_report_again(people, walk):
    """Last but one (it changes the lists asserted above): the admin takes ``party_member`` away from a member who
    won no place — the registration ends, the member leaves the assessment and the unit's cards at once, claims
    nothing more, and may report again."""
    need(walk, "winners", "assessed")
    admin, unit_id, quarter = people["admin"], walk["unit"]["id"], walk["quarter"]
    member = next(m for m in walk["members"][1:] if m.user["id"] not in walk["winners"])
    changed = ok(admin.call("PUT", f"/v1/admin/members/{member.user['id']}/roles", {"roles": ["resident"]}))
    assert "party_member" not in changed["roles"]
    mine = ok(member.call("GET", "/v1/me/party-registration"))
    assert (mine["status"], mine["reason"]) == ("ended", "管理员取消了党员身份")
    _, by_user = _assessment(admin, quarter)
    assert set(by_user) == set(walk["assessed"]) - {member.user["id"]}
    cards = _cards(walk["liaison"], unit_id, quarter)["items"]
    assert {c["member"]["id"] for c in cards} == {m.user["id"] for m in walk["members"]} - {member.user["id"]}
    post = ok(admin.call("POST", "/v1/admin/posts", {"title": "文明劝导员", "description": "周末在小区门口劝导文明养犬",
                                                     "skills": [], "headcount": 2}), 201)
    refused(member.call("POST", f"/v1/posts/{post['id']}/claim"), 403, "FORBIDDEN")  # at once, same token
    again = ok(member.call("POST", "/v1/me/party-registration", registration_body("党员重报", unit_id)), 201)
    assert (again["id"], again["status"], again["reason"]) == (mine["id"], "pending", None)
    # the first member, still a party member, takes a place on the new post
    assert ok(walk["first"].call("POST", f"/v1/posts/{post['id']}/claim"))["claimed_count"] == 1


def test_exactly_one_post_full_reached_the_admin(stack, walk):
    """Last (the walk's other steps took their time meanwhile): the admin accepted two sends of post_full, one was
    used — the post filled once."""
    need(walk, "post_full_page")
    sent = messages(stack, "admin", walk["post_full_template"])
    assert [m["page"] for m in sent] == [walk["post_full_page"]]
