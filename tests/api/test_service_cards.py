"""双报到 服务卡 over HTTP against moto: a unit's service cards count what its party members already do — a real
check-out settled, a real wish confirmed, a post claimed, a request accepted — each judged by THEIR community's
rules; the unit's pledged activities are the events it ran that were held; the quarter's close tells the unit's
liaisons once, also when the scheduler runs twice or is killed half-way. Who may read them; quarter edges; the CSV;
exact call counts."""
from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta

import pytest

from tests.api.test_checkins import at, publish, when
from tests.api.test_party_assessment import REPORT, attend, fulfil_a_wish
from tests.api.test_requests import messages
from tests.api.test_units import AGREEMENT, Region, assert_refused, days_ahead
from tests.support import make_community
from tongxin.adapters.dynamo.models import CommunityModel, CounterModel, EventModel
from tongxin.domain import service_cards as rules
from tongxin.domain.clock import SHANGHAI, travel, utcnow
from tongxin.domain.party import quarter_bounds, quarter_of
from tongxin.usecases import events as event_usecases
from tongxin.usecases import service_cards, streets

POST = {"title": "文明劝导员", "description": "周末在小区门口劝导不文明养犬行为", "skills": ["沟通"], "headcount": 5}
ZERO = {"services": 0, "events": 0, "wishes": 0, "posts": 0, "requests": 0, "minutes": 0}


def cards_path(unit_id: str, query: str = "") -> str:
    return f"/v1/units/{unit_id}/service-cards" + (f"?{query}" if query else "")


class World:
    """A street with two communities (C and C2) that both co-build with one unit (its liaison named); a second
    street (its staff) for the refusals."""

    def __init__(self, api):
        self.api = api
        self.r = Region(api)
        self.c = self.r.c
        self.c2 = make_community(api)
        streets.attach_community(self.r.street_id, self.c2.id)
        self.unit = self.r.unit()
        self.unit_id = self.unit["id"]
        self.liaison = self.r.liaison(self.unit_id)
        self.r.agreement(self.unit_id)  # C: 2 activities a quarter
        self.r.agreement(self.unit_id, admin=self.c2.admin, activities_per_quarter=1)

    def member(self, community, grid_index: int = 0, name: str = "李党员", unit_id: str | None = None):
        """A resident who reported naming the unit, approved by their community's admin."""
        person = community.resident(grid_index)
        reg = person.post("/v1/me/party-registration", {**REPORT, "real_name": name,
                                                         "unit_id": unit_id or self.unit_id})
        assert reg.status == 201, reg.body
        assert community.admin.post(f"/v1/admin/party-registrations/{reg.json['id']}/approve").status == 200
        return person.relogin()

    def cards(self, reader=None, query: str = ""):
        resp = (reader or self.liaison).get(cards_path(self.unit_id, query))
        assert resp.status == 200, resp.body
        return resp.json


@pytest.fixture
def w(api):
    return World(api)


def name_of(community) -> str:
    return CommunityModel.get(community.id).name


def by_member(page: dict) -> dict[str, dict]:
    return {card["member"]["id"]: card for card in page["items"]}


# --- the cards from real credits -----------------------------------------------------------------------------------

def test_members_of_two_communities_on_one_card_from_real_credits(w):
    c, c2 = w.c, w.c2
    m1 = w.member(c, name="李党员")
    m2 = w.member(c2, name="王党员")
    other_unit = w.r.unit(name="同心区第一中学", kind="学校")
    elsewhere = w.member(c, 1, name="赵党员", unit_id=other_unit["id"])  # another unit's member: not on this card
    plain = w.member(c, 1, name="钱党员")  # on the card, with nothing done
    # m1: a check-out settled (60 min), a wish confirmed, a post claimed, a request accepted as staff.
    attend(c, m1, 60)
    fulfil_a_wish(c, m1)
    post = c.admin.post("/v1/admin/posts", POST)
    assert post.status == 201, post.body
    assert m1.post(f"/v1/posts/{post.json['id']}/claim").status == 200
    m1 = c.with_roles(m1, ["party_member", "grid_worker"], [0])
    request = c.resident(0).post("/v1/requests", {"category": "设施维修", "content": "楼道灯坏了"})
    assert request.status == 201, request.body
    assert m1.post(f"/v1/requests/{request.json['id']}/accept").status == 200
    # m2 (C2): one check-out of 30 minutes.
    attend(c2, m2, 30)
    # C2's rules ask for no hours: m2 meets them; C keeps the defaults (1 service, 20 h a year): m1 misses hours.
    assert c2.admin.patch("/v1/admin/community", {"party_hours_per_year_min": 0}).status == 200

    page = w.cards()
    assert page["quarter"] == quarter_of(utcnow())
    assert page["unit"] == {"id": w.unit_id, "name": w.unit["name"], "kind": w.unit["kind"]}
    cards = by_member(page)
    assert set(cards) == {m1.id, m2.id, plain.id} and elsewhere.id not in cards
    assert cards[m1.id]["member"] == {"id": m1.id, "name": "李党员", "community": {"id": c.id, "name": name_of(c)},
                                      "party_branch": REPORT["party_branch"]}
    assert cards[m1.id]["quarter"] == {"services": 4, "events": 1, "wishes": 1, "posts": 1, "requests": 1,
                                       "minutes": 60}
    assert (cards[m1.id]["year_minutes"], cards[m1.id]["meets_rules"], cards[m1.id]["missing"]) == (60, False, ["hours"])
    assert cards[m2.id]["member"]["community"] == {"id": c2.id, "name": name_of(c2)}
    assert cards[m2.id]["quarter"] == {**ZERO, "services": 1, "events": 1, "minutes": 30}
    assert (cards[m2.id]["meets_rules"], cards[m2.id]["missing"]) == (True, [])
    assert (cards[plain.id]["quarter"], cards[plain.id]["missing"]) == (ZERO, ["services", "hours"])
    # The same cards for the street's staff; the other unit's card holds only its member.
    assert by_member(w.cards(w.r.staff)) == cards
    other = w.r.liaison(other_unit["id"])
    assert [x["member"]["id"] for x in other.get(cards_path(other_unit["id"])).json["items"]] == [elsewhere.id]
    # A member whose party role an admin takes away leaves the card at once (the registration ended).
    c.with_roles(plain, [])
    assert plain.id not in by_member(w.cards())
    # The same read twice: the same answer, nothing counted twice.
    assert w.cards() == w.cards()


def test_pages_of_at_most_20_the_csv_and_exact_calls(w):
    members = [w.member(w.c if i % 2 else w.c2, i % 2, name=f"党员{i:02d}") for i in range(20)]
    members.append(w.member(w.c, name="=1+2"))  # a name a spreadsheet would run
    first = w.liaison.get(cards_path(w.unit_id, "limit=100"))
    assert first.status == 200 and len(first.json["items"]) == 20 and first.json["next_cursor"]
    # The caller, the unit; its agreements and the page (two Queries); the page's service records (≤ 80 keys) and
    # its communities with the unit's activity counters: two BatchGetItems.
    assert dict(w.api.last_meter.dynamo) == {"GetItem": 2, "Query": 2, "BatchGetItem": 2}, w.api.last_meter.dynamo
    rest = w.liaison.get(cards_path(w.unit_id, f"limit=100&cursor={first.json['next_cursor']}")).json
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    seen = [x["member"]["id"] for x in first.json["items"] + rest["items"]]
    assert seen == [m.id for m in members]  # oldest approval first, each once
    assert [a["community"]["id"] for a in rest["agreements"]] == sorted([w.c.id, w.c2.id])
    assert len(w.liaison.get(cards_path(w.unit_id, "limit=5")).json["items"]) == 5
    # A cursor of another unit's list is refused.
    other = w.r.unit(name="别的单位")
    staff_other = w.r.staff.get(cards_path(other["id"], f"cursor={first.json['next_cursor']}"))
    assert_refused(staff_other, 400, "VALIDATION_FAILED", "cursor")

    csv = w.liaison.get(cards_path(w.unit_id, "format=csv"))
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert csv.body.startswith(b"\xef\xbb\xbf")
    assert f"service-cards-{w.unit_id}-{quarter_of(utcnow())}.csv" in csv.headers["Content-Disposition"]
    lines = csv.body.decode("utf-8-sig").strip().split("\r\n")
    assert lines[0] == ",".join(service_cards.CSV_HEADER) and len(lines) == 22
    assert lines[-1].split(",")[:3] == [w.unit["name"], members[-1].id, "'=1+2"]
    assert lines[1].split(",")[3] == name_of(w.c2) and lines[1].split(",")[-2:] == ["否", "服务次数、服务时长"]
    # The caller and the unit, then two pages: a Query and the service records each, the two communities once.
    assert dict(w.api.last_meter.dynamo) == {"GetItem": 2, "Query": 2, "BatchGetItem": 3}, w.api.last_meter.dynamo


# --- quarters -------------------------------------------------------------------------------------------------------

def test_quarter_edges_and_malformed_quarters(w):
    member = w.member(w.c)
    event, start = attend(w.c, member, 45)
    this = quarter_of(start)
    year = int(this[:4])
    assert by_member(w.cards(query=f"quarter={this}"))[member.id]["quarter"]["minutes"] == 45
    # The quarter before: nothing served then; the agreements signed since are not shown for it.
    before = f"{year - 1}Q4" if this.endswith("Q1") else f"{year}Q{int(this[-1]) - 1}"
    old = w.cards(query=f"quarter={before}")
    assert by_member(old)[member.id]["quarter"] == ZERO and old["agreements"] == []
    # Year 1: a valid quarter, nothing in it.
    first = w.cards(query="quarter=0001Q1")
    assert first["quarter"] == "0001Q1" and by_member(first)[member.id]["year_minutes"] == 0
    for bad in ("9999Q4", "2026Q0", "2026Q5", "2026-Q1", "26Q1", "2026q1", "0000Q1", "Q1"):
        resp = w.liaison.get(cards_path(w.unit_id, f"quarter={bad}"))
        assert_refused(resp, 400, "VALIDATION_FAILED", "quarter")
    assert_refused(w.liaison.get(cards_path(w.unit_id, "format=pdf")), 400, "VALIDATION_FAILED", "format")
    assert_refused(w.liaison.get(cards_path(w.unit_id, "limit=0")), 400, "VALIDATION_FAILED", "limit")
    assert_refused(w.liaison.get(cards_path(w.unit_id, "limit=101")), 400, "VALIDATION_FAILED", "limit")


# --- who may read them ------------------------------------------------------------------------------------------------

def test_who_reads_a_units_cards(w):
    member = w.member(w.c)
    path = cards_path(w.unit_id)
    assert w.liaison.get(path).status == 200 and w.r.staff.get(path).status == 200
    other_liaison = w.r.liaison(w.r.unit(name="别的单位")["id"])
    assert_refused(other_liaison.get(path), 404, "NOT_FOUND")  # another unit's liaison
    assert_refused(w.r.other_staff.get(path), 404, "NOT_FOUND")  # another street's staff
    assert_refused(w.r.staff.get(cards_path("unit_nothing")), 404, "NOT_FOUND")
    for refused in (w.c.admin, w.c2.admin, member, w.c.resident(), w.api.login()):  # see no unit's cards at all
        assert_refused(refused.get(path), 403, "FORBIDDEN")
        assert_refused(refused.get(path + "?format=csv"), 403, "FORBIDDEN")
    assert w.api.request("GET", path).status == 401


# --- pledged activities: events a unit runs --------------------------------------------------------------------------

def agreement_row(page: dict, community_id: str) -> dict:
    return next(a for a in page["agreements"] if a["community"]["id"] == community_id)


def test_an_event_run_by_the_unit_counts_once_it_was_held(w):
    admin = w.c.admin
    event = publish(admin, unit_id=w.unit_id)
    assert event["unit"] == {"id": w.unit_id, "name": w.unit["name"]}
    listed = admin.get("/v1/events").json["items"]
    assert next(e for e in listed if e["id"] == event["id"])["unit"] == {"id": w.unit_id, "name": w.unit["name"]}
    assert admin.get(f"/v1/events/{event['id']}").json["unit"]["id"] == w.unit_id
    plain = publish(admin)
    assert plain["unit"] is None
    # A grid worker may name the unit too; a cancelled event of the unit is never counted.
    worker = w.c.grid_worker(0)
    cancelled = publish(worker, unit_id=w.unit_id)
    assert worker.post(f"/v1/events/{cancelled['id']}/cancel", {"reason": "下雨"}).status == 200
    row = agreement_row(w.cards(), w.c.id)
    assert row == {"community": {"id": w.c.id, "name": name_of(w.c)}, "activities_per_quarter": AGREEMENT[
        "activities_per_quarter"], "activities_done": 0, "met": False, "valid_until": row["valid_until"]}

    closed = when(event, "ends_at") + timedelta(hours=2, minutes=1)
    with at(closed):
        event_usecases.run_schedule()
        event_usecases.run_schedule()  # twice: counted once
    assert EventModel.get(event["id"]).closed_at is not None
    page = w.cards()
    assert (agreement_row(page, w.c.id)["activities_done"], agreement_row(page, w.c.id)["met"]) == (1, False)
    assert agreement_row(page, w.c2.id)["activities_done"] == 0  # another community's count

    second = publish(admin, unit_id=w.unit_id, starts_in=timedelta(hours=3))
    with at(when(second, "ends_at") + timedelta(hours=2, minutes=1)):
        event_usecases.run_schedule()
    row = agreement_row(w.cards(), w.c.id)
    assert (row["activities_done"], row["met"]) == (2, True)  # 2 of 2 pledged


def test_a_unit_without_an_agreement_in_force_cannot_run_an_event(w):
    admin = w.c.admin
    lonely = w.r.unit(name="无协议单位")
    for unit_id in (lonely["id"], "unit_nothing"):
        resp = admin.post("/v1/events", {"title": "x", "kind": "activity", "starts_at": _in(1), "ends_at": _in(2),
                                         "capacity": 5, "unit_id": unit_id})
        assert_refused(resp, 404, "NOT_FOUND", "unit_id")
    # Another community's agreement does not count: the other street's admin cannot name the unit.
    resp = w.r.other.admin.post("/v1/events", {"title": "x", "kind": "activity", "starts_at": _in(1),
                                               "ends_at": _in(2), "capacity": 5, "unit_id": w.unit_id})
    assert_refused(resp, 404, "NOT_FOUND", "unit_id")
    # An agreement that lapsed (valid through tomorrow; three days on): 409 naming the field, nothing written.
    short = w.r.unit(name="短期单位")
    w.r.agreement(short["id"], valid_until=days_ahead(1))
    with ExitStack() as stack:
        stack.enter_context(travel(timedelta(days=3)))
        admin = admin.relogin()
        resp = admin.post("/v1/events", {"title": "x", "kind": "activity", "starts_at": _in(1), "ends_at": _in(2),
                                         "capacity": 5, "unit_id": short["id"]})
        assert_refused(resp, 409, "CONFLICT", "unit_id")
        assert not [e for e in admin.get("/v1/events").json["items"] if e["title"] == "x"]
    for bad in ("", " ", "a" * 200):
        resp = w.c.admin.relogin().post("/v1/events", {"title": "x", "kind": "activity", "starts_at": _in(1),
                                                        "ends_at": _in(2), "capacity": 5, "unit_id": bad})
        assert resp.status in (400, 404), resp.body


def _in(hours: int) -> str:
    return (utcnow().astimezone(SHANGHAI).replace(microsecond=0) + timedelta(hours=hours)).isoformat()


def test_an_event_across_the_quarters_edge_counts_in_the_quarter_of_its_start(w):
    """Starting 23:30 on the last day of a quarter (Shanghai), ending 00:30 the next day: the quarter it started in."""
    next_start = quarter_bounds(quarter_of(utcnow()))[1]
    start = next_start.astimezone(SHANGHAI) - timedelta(minutes=30)
    with at(start - timedelta(hours=2)):
        admin = w.c.admin.relogin()
        event = admin.post("/v1/events", {"title": "跨季度活动", "kind": "activity", "starts_at": start.isoformat(),
                                          "ends_at": (start + timedelta(hours=1)).isoformat(), "capacity": 5,
                                          "unit_id": w.unit_id})
        assert event.status == 201, event.body
    with at(start + timedelta(hours=3, minutes=1)):
        event_usecases.run_schedule()
        liaison = w.liaison.relogin()
        this, after = quarter_of(start), quarter_of(start + timedelta(hours=1))
        assert this != after
        done = {q: agreement_row(liaison.get(cards_path(w.unit_id, f"quarter={q}")).json, w.c.id)["activities_done"]
                for q in (this, after)}
    assert done == {this: 1, after: 0}


# --- the quarter's close ------------------------------------------------------------------------------------------------

def test_the_quarters_close_tells_each_units_liaisons_once(w):
    m1, m2 = w.member(w.c), w.member(w.c2)
    assert w.c2.admin.patch("/v1/admin/community", {"party_hours_per_year_min": 0}).status == 200
    attend(w.c2, m2, 30)  # m2 meets C2's rules; m1 meets nothing
    quarter = quarter_of(utcnow())
    next_start = quarter_bounds(quarter)[1]
    with at(next_start - timedelta(minutes=1)):  # the quarter's last minute: not closed yet
        assert service_cards.run_schedule()["quarter"] != quarter
    with at(next_start + timedelta(minutes=10)):
        done = service_cards.run_schedule()
        assert done["quarter"] == quarter and done["units"] >= 1
        assert service_cards.run_schedule() == {"quarter": quarter, "units": 0}  # the done marker: once
    told = messages(w.liaison.id, "unit_service_cards_ready")
    assert len(told) == 1, told
    assert {k: told[0].data[k] for k in ("unit_id", "quarter", "members", "meeting")} == \
        {"unit_id": w.unit_id, "quarter": quarter, "members": 2, "meeting": 1}
    assert told[0].page == f"pages/unit/detail?id={w.unit_id}"
    assert not messages(m1.id, "unit_service_cards_ready") and not messages(w.r.staff.id, "unit_service_cards_ready")


def test_the_quarters_close_killed_half_way_is_finished_once(w, api):
    from tests.integration.test_killed_runs import Run
    second = w.r.unit(name="第二单位")
    second_liaison = w.r.liaison(second["id"])
    w.member(w.c)
    quarter = quarter_of(utcnow())
    # A quarter of its own: the earlier tests' close does not interfere (their units are told in this run too).
    moment = quarter_bounds(quarter)[1] + timedelta(days=95)
    asked = rules.previous_quarter(moment)

    def handler(event, context):
        return service_cards.run_schedule()

    first = Run(handler, {}, kill_after=1).go(moment)
    assert first.killed and first.where == "usecases/service_cards.py"
    Run(handler, {}, kill_after=None).go(moment + timedelta(minutes=5))
    Run(handler, {}, kill_after=None).go(moment + timedelta(minutes=10))
    for liaison, unit_id in ((w.liaison, w.unit_id), (second_liaison, second["id"])):
        told = [m for m in messages(liaison.id, "unit_service_cards_ready") if m.data["quarter"] == asked]
        assert len(told) == 1 and told[0].data["unit_id"] == unit_id, told
    assert CounterModel.get(rules.close_done_key(asked))


def test_previous_quarter_and_keys():
    def sh(*parts):
        return datetime(*parts, tzinfo=SHANGHAI)
    assert rules.previous_quarter(sh(2027, 1, 1, 0, 0)) == "2026Q4"
    assert rules.previous_quarter(sh(2026, 12, 31, 23, 59)) == "2026Q3"
    assert rules.previous_quarter(sh(2026, 4, 1, 0, 0, 1)) == "2026Q1"
    assert rules.previous_quarter(sh(9999, 12, 31, 23, 0)) == "9999Q3"
    assert rules.activity_key("u", "c", "2026Q4") == "unit-activities#u#c#2026Q4"
    assert rules.pledge_met(2, 2) and not rules.pledge_met(1, 2)


def test_the_agreement_is_the_publications_condition_not_only_its_pre_read(w):
    """The pre-read may be stale: the ConditionCheck in the event's own transaction decides (an agreement that lapsed
    or vanished between the read and the write refuses the whole publication, nothing written)."""
    from tongxin.adapters.dynamo.models import UnitAgreementModel
    from tongxin.adapters.dynamo.tx import Tx
    from tongxin.domain.errors import Conflict, NotFound

    now = utcnow()
    lonely = w.r.unit(name="无协议单位")
    for unit_id, refusal in ((w.unit_id, None), (lonely["id"], NotFound)):
        tx = service_cards.agreement_checks(Tx(), unit_id, w.c.id, now)
        if refusal is None:
            tx.commit()
        else:
            with pytest.raises(refusal) as raised:
                tx.commit()
            assert raised.value.details == {"field": "unit_id"}
    UnitAgreementModel(w.unit_id, w.c.id).update(actions=[UnitAgreementModel.valid_until.set("2000-01-01")])
    with pytest.raises(Conflict) as raised:
        service_cards.agreement_checks(Tx(), w.unit_id, w.c.id, now).commit()
    assert raised.value.details == {"field": "unit_id"}
    before = len(w.c.admin.get("/v1/events").json["items"])
    resp = w.c.admin.post("/v1/events", {"title": "x", "kind": "activity", "starts_at": _in(1), "ends_at": _in(2),
                                         "capacity": 5, "unit_id": w.unit_id})
    assert_refused(resp, 409, "CONFLICT", "unit_id")
    assert len(w.c.admin.get("/v1/events").json["items"]) == before
