"""Statistics month by month, for the console's charts: ``wishes.by_month`` of GET /v1/admin/stats and ``by_month``
of GET /v1/admin/requests/stats (both scopes).

Over HTTP against moto. The months come from the very counter items the totals are read from (each bucket lies in
one Shanghai month, named by its key), so every answer here is also checked to cost what it did before: the caller
and one BatchGetItem per area (a street: its item, its counters, its communities' names). A window over two months is
made by moving the clock (``travel``) forty days on, past the end of the current month.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support import make_community
from tongxin.domain.clock import SHANGHAI, to_api, travel, utcnow
from tongxin.usecases import streets

WISH = {"title": "换个灯泡", "content": "楼道灯不亮了，晚上看不见台阶", "category": "维修"}
REQUEST = {"category": "环境卫生", "content": "小区门口垃圾没人清运"}
LATER = timedelta(days=40)  # always in another month, never past the default 90-day window


def month(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def query(start: datetime, end: datetime) -> str:
    return f"?from={to_api(start)}&to={to_api(end)}".replace("+", "%2B")


def publish(member, **overrides) -> dict:
    resp = member.post("/v1/wishes", {**WISH, **overrides})
    assert resp.status == 201, resp.body
    return resp.json


def submit(member) -> str:
    resp = member.post("/v1/requests", REQUEST)
    assert resp.status == 201, resp.body
    return resp.json["id"]


def step(member, request_id: str, action: str, body: dict | None = None) -> None:
    resp = member.post(f"/v1/requests/{request_id}/{action}", body or {})
    assert resp.status == 200, (action, resp.body)


def wish_stats(admin, api, path: str = "/v1/admin/stats") -> dict:
    resp = admin.get(path)
    assert resp.status == 200, resp.body
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 4}  # no read of its own for the months
    return resp.json["wishes"]


# --- wishes ------------------------------------------------------------------------------------------------------

def test_a_wish_created_now_counts_in_this_shanghai_month(community, api):
    author = community.resident(0)
    assert wish_stats(community.admin, api)["by_month"] == {}  # no wish yet: no month at all
    publish(author)
    publish(author, category="助老")
    now = utcnow()
    wishes = wish_stats(community.admin, api)
    assert wishes["by_month"] == {month(now): 2} and wishes["total"] == 2
    # a window that ended before the wishes were created holds none of them
    past = wish_stats(community.admin, api,
                      "/v1/admin/stats" + query(now - timedelta(days=30), now - timedelta(days=2)))
    assert past["by_month"] == {} and past["total"] == 0


def test_a_window_over_two_months_splits_the_wishes_by_month(community, api):
    author, admin = community.resident(0), community.admin
    publish(author)
    first = utcnow()
    with travel(LATER):
        for member in (author, admin):  # forty days on: signed in again (and seen by WeChat again)
            member.relogin()
        publish(author)
        publish(author, category="助老")
        second = utcnow()
        wishes = wish_stats(admin, api)
        assert wishes["by_month"] == {month(first): 1, month(second): 2}
        assert list(wishes["by_month"]) == sorted(wishes["by_month"]) and wishes["total"] == 3
        assert sum(wishes["by_month"].values()) == sum(wishes["by_status"].values())
        # the window's edges cut the months: only the second month's wishes from a day before them
        recent = wish_stats(admin, api, "/v1/admin/stats" + query(second - timedelta(days=1), second))
        assert recent["by_month"] == {month(second): 2}


# --- requests ----------------------------------------------------------------------------------------------------

class Street:
    """Two communities in one street, its staff, a resident and a grid worker of the first community."""


@pytest.fixture
def street(api):
    s = Street()
    s.a, s.b = make_community(api), make_community(api)
    s.id = streets.create_street("月度街道")["id"]
    for community in (s.a, s.b):
        streets.attach_community(s.id, community.id)
    s.staff = api.login()
    streets.add_staff(s.id, s.staff.id)
    s.staff.relogin()
    s.author, s.worker = s.a.resident(0), s.a.grid_worker(0)
    s.b_author = s.b.resident(0)
    return s


def request_stats(member, api, expected_calls: dict, path: str = "/v1/admin/requests/stats") -> dict:
    resp = member.get(path)
    assert resp.status == 200, resp.body
    assert dict(api.last_meter.dynamo) == expected_calls  # the months cost no call of their own
    return resp.json


ADMIN_CALLS = {"GetItem": 1, "BatchGetItem": 1}
STREET_CALLS = {"GetItem": 1, "BatchGetItem": 3}  # the street, its communities' counters, their names
COUNTS = ("received", "answered", "answered_on_time", "resolved", "satisfied", "unrated")
RATES = ("response_rate", "resolution_rate", "satisfaction_rate")


def rates(view: dict) -> dict:
    return {name: view[name] for name in COUNTS + RATES}


def test_requests_count_in_the_month_they_were_submitted(street, api):
    s = street
    solved, waiting = submit(s.author), submit(s.author)
    step(s.worker, solved, "accept")
    step(s.worker, solved, "resolve", {"note": "已清运"})
    step(s.author, solved, "rate", {"satisfaction": 5})
    now = month(utcnow())
    stats = request_stats(s.a.admin, api, ADMIN_CALLS)
    assert list(stats["by_month"]) == [now]
    assert rates(stats["by_month"][now]) == {
        "received": 2, "answered": 1, "answered_on_time": 1, "resolved": 1, "satisfied": 1, "unrated": 0,
        "response_rate": 1.0, "resolution_rate": 0.5, "satisfaction_rate": 1.0}
    assert rates(stats["by_month"][now]) == rates(stats)  # one month: the window's own numbers
    assert waiting  # still waiting for its answer: received, not answered
    # the street: both communities' requests of the month, added up
    submit(s.b_author)
    street_stats = request_stats(s.staff, api, STREET_CALLS)
    assert street_stats["scope"] == "street" and list(street_stats["by_month"]) == [now]
    assert rates(street_stats["by_month"][now]) == {
        "received": 3, "answered": 1, "answered_on_time": 1, "resolved": 1, "satisfied": 1, "unrated": 0,
        "response_rate": 1.0, "resolution_rate": 0.3333, "satisfaction_rate": 1.0}


def test_a_window_over_two_months_splits_the_requests_by_month(street, api):
    s = street
    answered = submit(s.author)
    step(s.worker, answered, "accept")
    first = month(utcnow())
    with travel(LATER):
        for member in (s.author, s.worker, s.a.admin, s.staff, s.b_author):
            member.relogin()
        for member in (s.author, s.author, s.b_author):
            submit(member)
        later = submit(s.author)
        step(s.worker, later, "accept")
        step(s.worker, later, "resolve", {"note": "已处理"})
        second = month(utcnow())
        stats = request_stats(s.a.admin, api, ADMIN_CALLS)
        assert list(stats["by_month"]) == [first, second]
        assert rates(stats["by_month"][first]) == {
            "received": 1, "answered": 1, "answered_on_time": 1, "resolved": 0, "satisfied": 0, "unrated": 0,
            "response_rate": 1.0, "resolution_rate": 0.0, "satisfaction_rate": None}
        assert rates(stats["by_month"][second]) == {
            "received": 3, "answered": 1, "answered_on_time": 1, "resolved": 1, "satisfied": 0, "unrated": 0,
            "response_rate": 1.0, "resolution_rate": 0.3333, "satisfaction_rate": None}
        assert sum(m["received"] for m in stats["by_month"].values()) == stats["received"] == 4
        street_stats = request_stats(s.staff, api, STREET_CALLS)
        assert {m: v["received"] for m, v in street_stats["by_month"].items()} == {first: 1, second: 4}
        # a window of the second month's last days only
        recent = request_stats(s.a.admin, api, ADMIN_CALLS, "/v1/admin/requests/stats" + query(
            utcnow() - timedelta(days=1), utcnow()))
        assert list(recent["by_month"]) == [second] and recent["by_month"][second]["received"] == 3
