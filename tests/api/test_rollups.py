"""The street's statistics (GET /v1/street/stats, 街呼区应) and the volunteers counter they show — over HTTP against
moto.

A street of two communities, each with its own life: wishes published and one confirmed (wish points), an event with
check-ins and check-outs (minutes and points), an award and redemptions (one picked up, one cancelled: refunded),
requests resolved and rated. The street's rows must be what each community's admin reads in GET /v1/admin/stats and
GET /v1/admin/requests/stats — the same counter items — and its total their sum, with rates from the summed counts
(the street staff's GET /v1/admin/requests/stats). Every answer costs exactly the caller, the street and
⌈communities × keys / 100⌉ BatchGetItems (``rollups.calls_for``): all communities' keys of all areas in one list.

The volunteers counter is kept by whatever gives or takes the role, once per real change: registering (twice), an
admin taking the role and giving it back (each twice), 注销; a registration racing another counts once; the
operator's ``rebuild-directory`` puts a wrong count right.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.api.test_checkins import MIN, at, check, publish as publish_event, sign_up, when
from tests.support import make_community
from tongxin.adapters.dynamo import batch
from tongxin.adapters.dynamo.models import CounterModel, UserModel
from tongxin.adapters.dynamo.tx import Tx
from tongxin.domain.clock import to_api, utcnow
from tongxin.domain.errors import Conflict
from tongxin.usecases import districts, identity, rollups, streets, volunteer_count

WISH = {"title": "帮忙修水龙头", "content": "厨房水龙头一直滴水", "category": "维修"}
REQUEST = {"category": "环境卫生", "content": "楼下垃圾桶满了没人清运"}
FIGURES = ("wishes", "volunteers", "volunteer_minutes", "events", "events_cancelled", "points_issued",
           "points_redeemed", "points_refunded", "requests")
RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
SECOND = timedelta(seconds=1)


def ok(resp, status: int = 200):
    assert resp.status == status, resp.body
    return resp.json


def staff_of(api, *street_ids: str):
    member = api.login()
    for street_id in street_ids:
        streets.add_staff(street_id, member.id)
    return member.relogin()


def window_query(start: datetime, end: datetime) -> str:
    return f"from={to_api(start)}&to={to_api(end)}".replace("+", "%2B")


# --- a community's life -----------------------------------------------------------------------------------------

def wishes(community, *, published: int, confirmed: bool) -> None:
    author, volunteer = community.resident(0), community.volunteer(0)
    made = [ok(author.post("/v1/wishes", {**WISH, "title": f"心愿{i}"}), 201) for i in range(published)]
    if confirmed:
        wish_id = made[0]["id"]
        ok(volunteer.post(f"/v1/wishes/{wish_id}/claim"))
        ok(volunteer.post(f"/v1/wishes/{wish_id}/fulfil", {"note": "换了新的阀芯"}))
        ok(author.post(f"/v1/wishes/{wish_id}/confirm", {"rating": 5}))


def event_with_checkins(community, *, attendees: int, cancelled_too: bool) -> None:
    admin = community.admin
    event = publish_event(admin)
    people = [community.volunteer(0) for _ in range(attendees)]
    for person in people:
        sign_up(person, event)
    with at(when(event) + 5 * MIN):
        for person in people:
            check(person, admin, event, "check_in")
    with at(when(event) + 35 * MIN + 20 * SECOND):  # 30 whole minutes, with a margin for the time running on
        for person in people:
            check(person, admin, event, "check_out")
    if cancelled_too:
        other = publish_event(admin, title="社区运动会")
        ok(admin.post(f"/v1/events/{other['id']}/cancel", {"reason": "天气原因"}))


def points(community, *, awarded: int, redeemed: int, cancelled: int) -> None:
    admin, member = community.admin, community.resident(0)
    ok(admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity", "points": awarded,
                                        "reason": "楼道义务清扫"}), 201)
    store = ok(admin.post("/v1/stores", {"name": "积分超市", "address": "服务中心"}), 201)
    goods = ok(admin.post(f"/v1/stores/{store['id']}/goods", {"name": "毛巾", "price_points": 1, "stock": 100}), 201)
    ok(member.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": redeemed}), 201)
    if cancelled:
        taken = ok(member.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": cancelled}), 201)
        ok(member.post(f"/v1/redemptions/{taken['id']}/cancel"))


def requests(community, worker, *, ratings: list[list[int]], untouched: int) -> None:
    """A request per entry of ``ratings``, answered and resolved at the grid and rated in turn (a first 1–2 reopens
    it: resolved again before the next rating); ``untouched`` more left unanswered."""
    author = community.resident(0)
    for scores in ratings:
        request_id = ok(author.post("/v1/requests", REQUEST), 201)["id"]
        ok(worker.post(f"/v1/requests/{request_id}/accept"))
        for score in scores:
            ok(worker.post(f"/v1/requests/{request_id}/resolve", {"note": "已清运"}))
            ok(author.post(f"/v1/requests/{request_id}/rate", {"satisfaction": score}))
    for _ in range(untouched):
        ok(author.post("/v1/requests", REQUEST), 201)


class Street:
    """Community A and B in one street, with its staff; the window every statistics call here uses."""


@pytest.fixture(scope="module")
def street(api, fresh_tables_per_module):
    s = Street()
    s.a, s.b = make_community(api), make_community(api)
    s.id = streets.create_street("同心街道")["id"]
    for community in (s.a, s.b):
        streets.attach_community(s.id, community.id)
    s.staff = staff_of(api, s.id)
    s.start, s.end = utcnow() - timedelta(days=10), utcnow() + timedelta(days=3)
    s.query = window_query(s.start, s.end)
    wishes(s.a, published=3, confirmed=True)
    wishes(s.b, published=1, confirmed=False)
    event_with_checkins(s.a, attendees=2, cancelled_too=True)
    event_with_checkins(s.b, attendees=1, cancelled_too=False)
    points(s.a, awarded=30, redeemed=4, cancelled=2)
    points(s.b, awarded=10, redeemed=1, cancelled=0)
    requests(s.a, s.a.grid_worker(0), ratings=[[5], [2, 1]], untouched=1)
    requests(s.b, s.b.grid_worker(0), ratings=[[1, 4]], untouched=0)
    return s


def street_stats(member, api, query: str, communities: int, start: datetime, end: datetime) -> dict:
    """The answer, held to its exact calls: the caller, the street, and ``calls_for`` BatchGetItems."""
    body = ok(member.get(f"/v1/street/stats?{query}"))
    calls = rollups.calls_for(communities, start, end)
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1 + calls}, api.last_meter.dynamo
    return body


def own_figures(admin, query: str) -> dict:
    """What the community's admin reads of the same window, in the street row's terms."""
    stats = ok(admin.get(f"/v1/admin/stats?{query}"))
    rates = ok(admin.get(f"/v1/admin/requests/stats?{query}"))
    volunteers = ok(admin.get("/v1/admin/members?role=volunteer&limit=100"))["items"]
    return {"wishes": stats["wishes"]["total"], "volunteers": len(volunteers),
            "volunteer_minutes": stats["volunteer_hours"]["total_minutes"],
            "events": stats["events"]["published"], "events_cancelled": stats["events"]["cancelled"],
            "points_issued": sum(stats["points"]["issued_by_source"].values()),
            "points_redeemed": stats["points"]["redeemed"], "points_refunded": stats["points"]["refunded"],
            "requests": rates["received"], **{rate: rates[rate] for rate in RATES}}


# --- the street's rows ------------------------------------------------------------------------------------------

def test_each_row_is_what_the_communitys_admin_reads_and_the_total_is_their_sum(street, api):
    body = street_stats(street.staff, api, street.query, 2, street.start, street.end)
    assert body["street"] == {"id": street.id, "name": "同心街道"}
    assert (body["from"], body["to"]) == (to_api(street.start), to_api(street.end))
    ids = sorted([street.a.id, street.b.id])
    assert [row["community"]["id"] for row in body["items"]] == ids
    rows = {row["community"]["id"]: row for row in body["items"]}
    for community in (street.a, street.b):
        name = ok(community.admin.get("/v1/admin/community"))["name"]
        assert rows[community.id] == {"community": {"id": community.id, "name": name},
                                      **own_figures(community.admin, street.query)}
    # Each community's life, as made: nothing is zero where something happened.
    a, b = rows[street.a.id], rows[street.b.id]
    assert (a["wishes"], b["wishes"]) == (3, 1)
    assert (a["volunteers"], b["volunteers"]) == (3, 2)  # the wish's claimer and the event's attendees
    assert (a["events"], a["events_cancelled"], b["events"], b["events_cancelled"]) == (2, 1, 1, 0)
    assert a["volunteer_minutes"] == 2 * 30 and b["volunteer_minutes"] == 30
    assert a["points_issued"] == 20 + 2 * 5 + 30 and b["points_issued"] == 5 + 10  # wish, check-outs, award
    assert (a["points_redeemed"], a["points_refunded"], b["points_redeemed"], b["points_refunded"]) == (6, 2, 1, 0)
    assert (a["requests"], b["requests"]) == (3, 1)
    assert (a["resolution_rate"], a["satisfaction_rate"]) == (round(2 / 3, 4), 0.5)
    assert (b["resolution_rate"], b["satisfaction_rate"]) == (1.0, 1.0)
    # The total: the counts added up; the rates from the sums — the street's own request statistics.
    total = body["total"]
    assert {name: total[name] for name in FIGURES} == {name: a[name] + b[name] for name in FIGURES}
    whole = ok(street.staff.get(f"/v1/admin/requests/stats?street_id={street.id}&{street.query}"))
    assert {rate: total[rate] for rate in RATES} == {rate: whole[rate] for rate in RATES}
    assert total["resolution_rate"] == 0.75 and total["satisfaction_rate"] == round(2 / 3, 4)


def test_all_communities_keys_of_all_areas_are_read_together_100_a_call(street, api):
    """The default window (90 days) and the longest (366 days): the keys of both communities and every area in one
    list — the calls are ⌈2 × keys / 100⌉, far fewer than a call per community per area (2 × 5)."""
    end = utcnow()
    for query in ("", window_query(end - timedelta(days=366), end)):
        body = ok(street.staff.get(f"/v1/street/stats?{query}"))
        start, stop = datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["to"])
        keys = rollups.keys_per_community(start, stop)
        calls = -(-2 * keys // 100)
        assert rollups.calls_for(2, start, stop) == calls < 2 * 5
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1 + calls}
        assert body["total"]["wishes"] == 4  # the same life, whatever the window that holds it


def test_a_street_of_several_communities_over_a_year_stays_within_its_budget(api):
    """Five communities (the number tests/budget.py names for a year) and an empty street."""
    street_id = streets.create_street("大街道")["id"]
    made = [make_community(api) for _ in range(5)]
    for community in made:
        streets.attach_community(street_id, community.id)
    staff = staff_of(api, street_id)
    end = utcnow()
    start = end - timedelta(days=366)
    body = street_stats(staff, api, window_query(start, end), 5, start, end)
    assert len(body["items"]) == 5 and body["total"]["volunteers"] == 0
    assert rollups.calls_for(5, start, end) <= 10
    empty = streets.create_street("空街道")["id"]
    alone = staff_of(api, empty)
    body = street_stats(alone, api, "", 0, start, end)
    assert body["items"] == [] and body["total"] == {**{name: 0 for name in FIGURES}, **{rate: None for rate in RATES}}


def test_rollup_is_ready_for_the_district(street):
    """What the district's statistics will call: the rows and total of any communities, and any group's total."""
    start, end = street.start, street.end
    result = rollups.rollup(sorted([street.a.id, street.b.id]), start, end)
    rows, total = result
    assert [row["community"]["id"] for row in rows] == sorted([street.a.id, street.b.id])
    assert result.total_of([street.a.id, street.b.id]) == total
    only_a = result.total_of([street.a.id])
    assert only_a == {k: v for k, v in rows[[r["community"]["id"] for r in rows].index(street.a.id)].items()
                      if k != "community"}


# --- the district's rows ----------------------------------------------------------------------------------------

def test_the_districts_rows_are_its_streets_totals_and_its_total_theirs(street, api):
    """A district of the street above and a second street of one community: each street's row is what its own staff
    read as their total; the district's total adds the streets up; the calls are the caller, the district, its
    streets and ⌈all communities × keys / 100⌉ BatchGetItems."""
    other = streets.create_street("第二街道")["id"]
    c = make_community(api)
    streets.attach_community(other, c.id)
    wishes(c, published=2, confirmed=False)
    district = districts.create_district("同心区")["id"]
    for street_id in (street.id, other):
        districts.attach_street(district, street_id)
    staff = api.login()
    districts.add_district_staff(district, staff.id)
    staff = staff.relogin()
    body = ok(staff.get(f"/v1/district/stats?{street.query}"))
    calls = rollups.calls_for(3, street.start, street.end)
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 2 + calls}, api.last_meter.dynamo
    assert body["district"] == {"id": district, "name": "同心区"}
    rows = {row["street"]["id"]: row for row in body["items"]}
    assert set(rows) == {street.id, other} and rows[street.id]["communities"] == 2 and rows[other]["communities"] == 1
    own = ok(street.staff.get(f"/v1/street/stats?{street.query}"))["total"]
    assert {k: v for k, v in rows[street.id].items() if k not in ("street", "communities")} == own
    assert rows[other]["wishes"] == 2
    assert {name: body["total"][name] for name in FIGURES} == {
        name: rows[street.id][name] + rows[other][name] for name in FIGURES}
    # Only the district's staff; one of several districts must be named.
    assert street.staff.get("/v1/district/stats").status == 403
    assert staff.get("/v1/district/stats?district_id=ds_other").status == 403
    second = districts.create_district("邻区")["id"]
    districts.add_district_staff(second, staff.id)
    staff = staff.relogin()
    refused = staff.get("/v1/district/stats")
    assert refused.status == 400 and refused.json["error"]["details"]["field"] == "district_id"
    assert ok(staff.get(f"/v1/district/stats?district_id={second}"))["items"] == []


# --- who may ask --------------------------------------------------------------------------------------------------

def test_who_may_ask_and_what_is_refused(street, api):
    for member in (street.a.admin, street.a.resident(0), api.login()):
        resp = member.get("/v1/street/stats")
        assert (resp.status, resp.error_code) == (403, "FORBIDDEN"), resp.body
    other = streets.create_street("别的街道")["id"]
    both = staff_of(api, street.id, other)
    unnamed = both.get("/v1/street/stats")
    assert (unnamed.status, unnamed.json["error"]["details"].get("field")) == (400, "street_id"), unnamed.body
    assert ok(both.get(f"/v1/street/stats?street_id={other}"))["items"] == []
    assert len(ok(both.get(f"/v1/street/stats?street_id={street.id}&{street.query}"))["items"]) == 2
    stranger = staff_of(api, other)
    assert stranger.get(f"/v1/street/stats?street_id={street.id}").status == 403  # not their street
    end = utcnow()
    for query, field in ((window_query(end, end - timedelta(days=1)), "from"),
                         (window_query(end - timedelta(days=400), end), "from"), ("street_id=a%20b", "street_id")):
        resp = street.staff.get(f"/v1/street/stats?{query}")
        assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED"), resp.body
        assert resp.json["error"]["details"]["field"] == field
    UserModel(stranger.id).update(actions=[UserModel.street_ids.add({"st_gone"})])  # a street of theirs is gone
    gone = stranger.get("/v1/street/stats?street_id=st_gone")
    assert (gone.status, gone.error_code) == (404, "NOT_FOUND"), gone.body


# --- the volunteers counter ---------------------------------------------------------------------------------------

def _raw(community_id: str) -> int:
    """The counter as stored (0 when there is no item)."""
    found = batch.get_raw_many(CounterModel, [volunteer_count.key(community_id)])
    return int(found[0][volunteer_count.VOLUNTEERS]["N"]) if found else 0


@pytest.fixture
def lone(api):
    """A community alone in a street, with its staff: the counter seen through the street's row and as stored."""
    community = make_community(api)
    street_id = streets.create_street("志愿街道")["id"]
    streets.attach_community(street_id, community.id)
    community.staff = staff_of(api, street_id)
    return community


def volunteers(community) -> int:
    [row] = ok(community.staff.get("/v1/street/stats"))["items"]
    directory = ok(community.admin.get("/v1/admin/members?role=volunteer&limit=100"))["items"]
    assert row["volunteers"] == _raw(community.id) == len(directory)
    return row["volunteers"]


def test_the_count_moves_once_per_real_change_of_the_role(lone):
    admin, member = lone.admin, lone.resident(0)
    assert volunteers(lone) == 0
    for _ in range(2):  # registering again updates the name and skills: counted once
        ok(member.post("/v1/me/volunteer", {"real_name": "李志愿", "skills": ["维修"]}))
        assert volunteers(lone) == 1
    roles = f"/v1/admin/members/{member.id}/roles"
    for _ in range(2):  # taken away (twice: the second changes nothing)
        ok(admin.put(roles, {"roles": []}))
        assert volunteers(lone) == 0
    refused = member.post("/v1/me/volunteer", {"real_name": "李志愿", "skills": []})
    assert refused.status == 403 and volunteers(lone) == 0  # self-registration does not give it back
    for _ in range(2):  # given back
        ok(admin.put(roles, {"roles": ["volunteer"]}))
        assert volunteers(lone) == 1
    other = lone.volunteer(1)
    assert volunteers(lone) == 2
    assert member.delete("/v1/me").status == 204  # 注销
    assert volunteers(lone) == 1
    ok(admin.put(f"/v1/admin/members/{admin.id}/roles", {"roles": ["admin", "volunteer"]}))  # an admin, themself
    assert volunteers(lone) == 2
    assert other.delete("/v1/me").status == 204
    assert volunteers(lone) == 1


def test_a_registration_racing_another_counts_once(lone, monkeypatch):
    """Two registrations read the member before either wrote: the second finds the role there and is refused by
    its condition (409, read again) instead of counting the volunteer twice."""
    member = lone.resident(0)
    stale = UserModel.get(member.id, consistent_read=True)
    ok(member.post("/v1/me/volunteer", {"real_name": "张志愿", "skills": []}))
    monkeypatch.setattr(identity, "current_user", lambda principal: stale)
    resp = member.post("/v1/me/volunteer", {"real_name": "张志愿", "skills": []})
    assert (resp.status, resp.error_code) == (409, "CONFLICT"), resp.body
    monkeypatch.undo()
    assert volunteers(lone) == 1


def test_the_operators_rebuild_puts_a_wrong_count_right(lone, capsys):
    """Tables written before the counter existed (or a count gone wrong): ``rebuild-directory`` recounts every
    community from its directory; a second run finds nothing to fix. ``recount`` is what the demo seed calls."""
    from tongxin import cli
    lone.volunteer(0)
    lone.volunteer(1)
    CounterModel(volunteer_count.key(lone.id)).delete()  # as before the counter existed
    assert _raw(lone.id) == 0
    assert cli.main(["rebuild-directory"]) == 0
    assert '"volunteer_counts_fixed": 0' not in capsys.readouterr().out
    assert volunteers(lone) == 2
    assert cli.main(["rebuild-directory"]) == 0
    assert '"volunteer_counts_fixed": 0' in capsys.readouterr().out
    assert volunteer_count.recount(lone.id) == {"community_id": lone.id, "volunteers": 2, "was": 2}
    lone.volunteer(0)  # and the count goes on from there
    assert volunteers(lone) == 3


def test_the_counters_own_condition_refuses_a_change_read_before_another(lone):
    """Whatever else a change conditions on, the counter's own condition holds the count: a change read before
    the role moved (given, then taken) fails instead of counting again."""
    member = lone.resident(0)
    before = UserModel.get(member.id, consistent_read=True)
    ok(member.post("/v1/me/volunteer", {"real_name": "赵志愿", "skills": []}))
    registered = UserModel.get(member.id, consistent_read=True)
    for stale, roles in ((before, set(before.roles) | {"volunteer"}), (registered, {"resident"})):
        if stale is registered:
            ok(lone.admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": []}))
        tx = Tx()
        condition = volunteer_count.sync(tx, stale, stale.changed(roles=roles))
        assert condition is not None
        tx.update(UserModel(member.id), [UserModel.updated_at.set(utcnow())], condition=condition, error=Conflict())
        with pytest.raises(Conflict):
            tx.commit()
        assert volunteers(lone) == (1 if stale is before else 0)
