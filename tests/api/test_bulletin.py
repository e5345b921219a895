"""通报 (the monthly bulletin, 街呼区应) over HTTP: ``GET /v1/street/bulletin`` and ``GET /v1/district/bulletin``
from the counters the request steps write — received, answered and resolved on time, overdue, extended, the three
rates, rank (ties share) and flags against the district's thresholds — as JSON and CSV; the Shanghai month edges;
the snapshot written once on the 1st with the staff's ``bulletin_ready`` once; who may read it.

The whole module lives in month M, the next Shanghai month (the clock is moved there and kept there by the module's
fixture), so that what it counts is its own and no month boundary of the real clock can cut through it."""
from __future__ import annotations

import codecs
import csv
import io
from contextlib import ExitStack
from datetime import datetime, timedelta

import pytest

from tests.api.requests_region import at_department, make_region, staff
from tests.api.test_requests import messages, step, submit
from tests.support import make_community
from tongxin.adapters.dynamo.models import CounterModel, DistrictModel
from tongxin.domain.clock import SHANGHAI, travel, utcnow
from tongxin.usecases import bulletin, districts, streets
from tongxin.usecases import requests as request_usecases


def shanghai_month_after(moment: datetime, months: int = 1) -> datetime:
    local = moment.astimezone(SHANGHAI).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months):
        local = (local + timedelta(days=32)).replace(day=1)
    return local


def go(stack: ExitStack, moment: datetime) -> None:
    """Move the clock to ``moment`` (kept until the module ends)."""
    stack.enter_context(travel(moment - utcnow()))


class World:
    """The region of requests_region (district D: street S with community A, departments 城管局 and 住建局; a
    lone street with no district) and street S2 of D with communities B and C; requests walked in month M."""


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    with ExitStack() as stack:
        w = World()
        w.m_start = shanghai_month_after(utcnow())          # the 1st of M, 00:00 Shanghai
        w.month = w.m_start.strftime("%Y-%m")
        w.next_start = shanghai_month_after(w.m_start)       # the 1st of M+1
        w.next_month = w.next_start.strftime("%Y-%m")
        go(stack, w.m_start + timedelta(days=9, hours=10))   # the 10th of M, 10:00
        r = w.r = make_region(api)
        w.s2 = streets.create_street("第二街道")["id"]
        districts.attach_street(r.district, w.s2)
        w.b, w.c = make_community(api), make_community(api)
        streets.attach_community(w.s2, w.b.id)
        streets.attach_community(w.s2, w.c.id)
        w.s2_staff = staff(api, streets.add_staff, w.s2)
        author, author2 = r.a.resident(0), r.a.resident(0)
        w.author = author

        def full_loop(worker, member, rating=5, extend=None):
            rid = submit(member)["id"]
            step(worker, rid, "accept")
            if extend:
                step(worker, rid, "extend", {"days": 3, "reason": "等待维修材料"})
                step(extend, rid, "extension/approve")
            step(worker, rid, "resolve", {"note": "已处理"})
            step(member, rid, "rate", {"satisfaction": rating})
            return rid

        full_loop(r.worker0, author)                                  # a1: all on time, satisfied
        full_loop(r.worker0, author, rating=4, extend=r.admin)        # a2: an extension approved
        w.a3 = submit(author)["id"]                                   # a3: answered late
        w.a4 = submit(author2)["id"]                                  # a4: overdue
        step(r.worker0, w.a4, "accept")
        a5 = at_department(r, author2, r.cg)                          # a5: sent to 城管局, which solves it
        step(r.cg_staff, a5, "accept")
        step(r.cg_staff, a5, "resolve", {"note": "城管已清理"})
        step(author2, a5, "rate", {"satisfaction": 5})
        full_loop(w.b.grid_worker(0), w.b.resident(0))                # b1, c1: all on time, satisfied
        full_loop(w.c.grid_worker(0), w.c.resident(0))
        go(stack, utcnow() + timedelta(minutes=121))                  # past a3's answer limit (120 minutes)
        step(r.worker0.relogin(), w.a3, "accept")
        step(r.worker0, w.a3, "resolve", {"note": "已处理"})
        go(stack, utcnow() + timedelta(hours=72))                     # past a4's solve limit (72 hours)
        assert request_usecases.run_schedule()["mark_overdue"] == 1
        step(r.worker0.relogin(), w.a4, "resolve", {"note": "终于处理好了"})
        for member in (r.street_staff, r.district_staff, r.lone_street_staff, w.s2_staff, r.admin, r.cg_staff,
                       r.other_district_staff, r.outsider):
            member.relogin()
        yield w


def get(member, path, expect=200):
    resp = member.get(path)
    assert resp.status == expect, (path, resp.status, resp.body)
    return resp


A_ROW = {"received": 5, "answered_on_time": 4, "resolved_on_time": 4, "overdue": 1, "extended": 1,
         "response_rate": 0.8, "resolve_rate": 0.8, "satisfaction_rate": 1.0}
PERFECT = {"response_rate": 1.0, "resolve_rate": 1.0, "satisfaction_rate": 1.0, "overdue": 0, "extended": 0}
DEFAULTS = {"satisfaction_rate": 85, "resolve_rate": 90, "response_rate": 95}


def figures(row):
    return {name: row[name] for name in A_ROW}


def test_the_street_bulletin_counts_ranks_and_flags_its_communities(w, api):
    r = w.r
    view = get(r.street_staff, "/v1/street/bulletin").json                  # default: the current month
    assert (view["month"], view["final"], view["thresholds"]) == (w.month, False, DEFAULTS)
    assert view["street"] == {"id": r.street, "name": "区测街道"}
    [a] = view["items"]
    assert a["community"]["id"] == r.a.id and figures(a) == A_ROW
    assert (a["rank"], a["flagged"], a["below"]) == (1, True, ["response_rate", "resolve_rate"])
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 2}, api.last_meter.dynamo
    assert get(r.street_staff, f"/v1/street/bulletin?month={w.month}").json == view


def test_the_district_bulletin_has_streets_departments_and_communities_ranked_with_ties(w, api):
    r = w.r
    view = get(r.district_staff, f"/v1/district/bulletin?month={w.month}").json
    assert view["district"] == {"id": r.district, "name": "同心区"} and view["final"] is False
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 3}, api.last_meter.dynamo
    streets_ = view["streets"]
    assert [(s["street"]["id"], s["rank"], s["flagged"]) for s in streets_] == [(w.s2, 1, False), (r.street, 2, True)]
    assert figures(streets_[1]) == A_ROW
    assert {**figures(streets_[0]), "received": 2} == {**A_ROW, **PERFECT, "received": 2, "answered_on_time": 2,
                                                       "resolved_on_time": 2}
    communities = view["communities"]
    assert [(c["community"]["id"], c["rank"]) for c in communities[:2]] in (
        [(w.b.id, 1), (w.c.id, 1)], [(w.c.id, 1), (w.b.id, 1)])                # a tie shares rank 1
    assert (communities[2]["community"]["id"], communities[2]["rank"], communities[2]["flagged"]) == (r.a.id, 3, True)
    departments = {d["department"]["name"]: d for d in view["departments"]}
    # 城管局 counts its own work from the street's escalation on: received there, answered in its own limit, solved
    # on time, rated (the grid's and the community's steps before are not its).
    assert figures(departments["城管局"]) == {"received": 1, "answered_on_time": 1, "resolved_on_time": 1,
                                             "overdue": 0, "extended": 0, "response_rate": 1.0,
                                             "resolve_rate": 1.0, "satisfaction_rate": 1.0}
    assert (departments["城管局"]["rank"], departments["城管局"]["flagged"]) == (1, False)
    assert (departments["住建局"]["received"], departments["住建局"]["rank"], departments["住建局"]["flagged"]) == (
        0, None, False)
    assert [d["department"]["name"] for d in view["departments"]] == ["城管局", "住建局"]


def test_the_districts_thresholds_decide_the_flags(w):
    r = w.r
    DistrictModel(r.district).update(actions=[DistrictModel.bulletin_response_min.set(80),
                                              DistrictModel.bulletin_resolution_min.set(80)])
    try:
        view = get(r.street_staff, "/v1/street/bulletin").json
        assert view["thresholds"] == {"satisfaction_rate": 85, "resolve_rate": 80, "response_rate": 80}
        assert (view["items"][0]["flagged"], view["items"][0]["below"]) == (False, [])  # 80 % is not under 80 %
    finally:
        DistrictModel(r.district).update(actions=[DistrictModel.bulletin_response_min.remove(),
                                                  DistrictModel.bulletin_resolution_min.remove()])


def test_csv_of_the_street_and_of_the_district(w):
    r = w.r
    resp = get(r.street_staff, f"/v1/street/bulletin?month={w.month}&format=csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert w.month in resp.headers["Content-Disposition"]
    raw = resp.body if isinstance(resp.body, bytes) else resp.body.encode("utf-8")
    assert raw.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0] == ["社区", "收到", "按时响应", "按时办结", "超期", "延期", "响应率", "解决率", "满意率", "排名", "是否通报"]
    assert lines[1][1:] == ["5", "4", "4", "1", "1", "80%", "80%", "100%", "1", "是"]
    resp = get(r.district_staff, "/v1/district/bulletin?format=csv")
    raw = resp.body if isinstance(resp.body, bytes) else resp.body.encode("utf-8")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0][:3] == ["层级", "名称", "收到"] and len(lines) == 1 + 2 + 2 + 3
    assert [line[0] for line in lines[1:]] == ["街道", "街道", "部门", "部门", "社区", "社区", "社区"]
    assert lines[1][1:] == ["第二街道", "2", "2", "2", "0", "0", "100%", "100%", "100%", "1", "否"]
    assert lines[4][1:] == ["住建局", "0", "0", "0", "0", "0", "", "", "", "", "否"]


def test_a_street_without_district_uses_the_default_thresholds(w):
    view = get(w.r.lone_street_staff, "/v1/street/bulletin").json
    assert view["thresholds"] == DEFAULTS
    assert [(c["community"]["id"], c["received"], c["rank"], c["flagged"]) for c in view["items"]] == [
        (w.r.lone.id, 0, None, False)]


@pytest.mark.parametrize("month", ["2026-13", "26-01", "2026-1", "abc"])
def test_a_malformed_month_is_400_naming_month(w, month):
    resp = get(w.r.street_staff, f"/v1/street/bulletin?month={month}", expect=400)
    assert resp.json["error"]["code"] == "VALIDATION_FAILED"
    assert resp.json["error"]["details"]["field"] == "month"


def test_a_future_month_is_400_naming_month(w):
    for who, path in ((w.r.street_staff, "/v1/street/bulletin"), (w.r.district_staff, "/v1/district/bulletin")):
        resp = get(who, f"{path}?month={w.next_month}", expect=400)
        assert (resp.json["error"]["code"], resp.json["error"]["details"]["field"]) == ("VALIDATION_FAILED", "month")
    assert get(w.r.street_staff, "/v1/street/bulletin?format=xml", expect=400).json["error"]["details"][
        "field"] == "format"


def test_only_the_units_staff_read_it(w):
    r = w.r
    for who in (r.admin, r.worker0, r.cg_staff, r.district_staff, r.outsider):
        assert get(who, "/v1/street/bulletin", expect=403).json["error"]["code"] == "FORBIDDEN", who.name
    for who in (r.admin, r.street_staff, r.cg_staff, r.outsider):
        assert get(who, "/v1/district/bulletin", expect=403).json["error"]["code"] == "FORBIDDEN", who.name
    assert get(r.street_staff, f"/v1/street/bulletin?street_id={w.s2}", expect=403).status == 403  # not theirs
    assert get(r.other_district_staff, f"/v1/district/bulletin?district_id={r.district}", expect=403)
    own = get(r.other_district_staff, "/v1/district/bulletin").json
    assert (own["streets"], own["communities"], [d["received"] for d in own["departments"]]) == ([], [], [0])


def test_month_edges_and_the_snapshot_written_once_on_the_first(w, api):
    """A request submitted at 23:30 on the last day of M (Shanghai) counts in M, one at 00:30 on the 1st in M+1;
    on the 1st the scheduler writes M's bulletins once, with their staff's message once; M is then answered from
    the snapshot, unchanged by what happens to its requests later."""
    r = w.r
    lone_author = r.lone.resident(0)
    with ExitStack() as stack:
        go(stack, w.next_start - timedelta(minutes=30))
        last_day = submit(lone_author.relogin())["id"]
        go(stack, w.next_start + timedelta(minutes=30))
        first_day = submit(lone_author.relogin())["id"]
        for member in (r.lone_street_staff, r.street_staff, r.district_staff, w.s2_staff, r.worker0):
            member.relogin()
        this = get(r.lone_street_staff, f"/v1/street/bulletin?month={w.month}").json["items"][0]
        after = get(r.lone_street_staff, "/v1/street/bulletin").json
        assert (this["received"], after["month"], after["items"][0]["received"]) == (1, w.next_month, 1)
        assert last_day != first_day
        live = get(r.district_staff, f"/v1/district/bulletin?month={w.month}").json

        done = bulletin.run_schedule()
        assert (done["month"], done["streets"], done["districts"]) == (w.month, 3, 2)
        assert bulletin.run_schedule() == {"month": w.month, "streets": 0, "districts": 0}  # once
        assert CounterModel.get(bulletin.snapshot_key("street", r.street, w.month)).snapshot
        final = get(r.district_staff, f"/v1/district/bulletin?month={w.month}").json
        assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1}, api.last_meter.dynamo
        assert final == {**live, "final": True}
        street_final = get(r.street_staff, f"/v1/street/bulletin?month={w.month}").json
        assert street_final["final"] is True and figures(street_final["items"][0]) == A_ROW
        # Later steps of M's requests count on, but the final bulletin stays as it was on the 1st.
        step(w.author.relogin(), w.a3, "rate", {"satisfaction": 5})
        assert get(r.street_staff, f"/v1/street/bulletin?month={w.month}").json == street_final
        assert get(r.street_staff, "/v1/street/bulletin").json["final"] is False  # M+1: live

        for member, unit in ((r.street_staff, r.street), (w.s2_staff, w.s2), (r.lone_street_staff, r.lone_street),
                             (r.district_staff, r.district)):
            told = messages(member.id, "bulletin_ready")
            assert len(told) == 1, (member.name, told)
            assert told[0].data["month"] == w.month and unit in told[0].data.values()
        assert messages(r.street_staff.id, "bulletin_ready")[0].data["flagged"] == 1
        assert messages(r.district_staff.id, "bulletin_ready")[0].data["flagged"] == 2  # street S, community A
        bulletin.run_schedule()
        assert len(messages(r.street_staff.id, "bulletin_ready")) == 1
