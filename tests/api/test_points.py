"""积分 (issue 10): awards and their caps, reversal, the 积分存折 (passbook) and its paging, leaderboards and their
periods — over HTTP against moto, as docs/points.md and docs/contract.md (积分) say.

Time is driven with ``tongxin.domain.clock.travel`` (never by sleeping). Tokens live two hours and invites some
days, so a test that jumps the clock far makes its community (or logs its members in again) at the moment it
jumps to. Days, months and years are Asia/Shanghai: the moments chosen lie where UTC would say otherwise (23:00 on
the last day of a month is still that day in UTC, and so is 07:00 on the first of the next), so a period computed
in UTC fails these tests.

The store's own rules (stock, limits, pickup, expiry) are tested elsewhere; here the store only spends points.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

import pytest

from tests.support import Member, make_community
from tongxin.adapters.dynamo.models import OutboxModel
from tongxin.domain.clock import SHANGHAI, travel, utcnow

AWARD_KEYS = {"id", "user", "category", "points", "reason", "status", "awarded_by", "created_at", "reversed_at",
              "reverse_reason"}
PASSBOOK_ITEM_KEYS = {"id", "kind", "amount", "balance_after", "source", "note", "created_at"}
BOARD_KEYS = {"period", "period_key", "scope", "metric", "items", "me"}
CAPS = {"charity": 50, "mediation": 30, "participation": 20}
REASON = "帮助独居老人买菜送药"


@pytest.fixture(autouse=True)
def away_from_month_ends():
    """The month's leaderboard is a calendar bucket: a test that credits and then reads it must not straddle a
    month's end. Near one, the whole test runs a week later (the clock, not the wall); autouse, so before the
    ``community`` fixture logs anyone in."""
    shift = timedelta(days=7) if utcnow().astimezone(SHANGHAI).day >= 25 else timedelta(0)
    with travel(shift):
        yield


# --- helpers -------------------------------------------------------------------------------------------------------

@contextmanager
def at(moment: datetime, *members: Member) -> Iterator[None]:
    """Every ``utcnow()`` of the process answers ``moment`` (then time runs on from it); ``members`` log in again
    there (a token lives two hours)."""
    with travel(moment - utcnow()):
        for member in members:
            member.relogin()
        yield


def shanghai_day(days_ahead: int, hour: int, minute: int = 0) -> datetime:
    today = utcnow().astimezone(SHANGHAI)
    return (today + timedelta(days=days_ahead)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def award(awarder: Member, user_id: str, points: int = 10, category: str = "charity", reason: str = REASON, **kw):
    return awarder.post("/v1/points/awards", {"user_id": user_id, "category": category, "points": points,
                                              "reason": reason}, **kw)


def awarded(awarder: Member, member: Member, points: int = 10, category: str = "charity") -> dict:
    resp = award(awarder, member.id, points, category)
    assert resp.status == 201, resp.body
    return resp.json


def give(awarder: Member, member: Member, total: int) -> None:
    """``total`` points in charity awards of at most the cap each."""
    while total > 0:
        awarded(awarder, member, min(total, CAPS["charity"]))
        total -= CAPS["charity"]


def reverse(admin: Member, award_id: str, reason: str = "核实后发现重复发放"):
    return admin.post(f"/v1/points/awards/{award_id}/reverse", {"reason": reason})


def assert_refused(resp, status: int, code: str, field: str | None = None) -> None:
    assert (resp.status, resp.error_code) == (status, code), resp.body
    if field is not None:
        assert resp.json["error"]["details"].get("field") == field, resp.body


def balance(member: Member) -> int:
    resp = member.get("/v1/me")
    assert resp.status == 200, resp.body
    return resp.json["points_balance"]


def passbook(member: Member, limit: int = 20) -> tuple[dict, list[dict]]:
    """The first page (for balance and earned_total) and every item, paged to the end."""
    first, items, cursor = None, [], None
    while True:
        resp = member.get(f"/v1/me/points?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert resp.status == 200, resp.body
        first = first or resp.json
        assert len(resp.json["items"]) <= limit
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return first, items


def messages(user_id: str, kind: str) -> list[OutboxModel]:
    # Test-only look at the outbox table (what the push sender would deliver).
    return [m for m in OutboxModel.scan(OutboxModel.recipient_id == user_id) if m.kind == kind]


def open_store(admin: Member, price: int, stock: int = 20) -> dict:
    store = admin.post("/v1/stores", {"name": "幸福积分超市", "address": "幸福小区3号楼底商"})
    assert store.status == 201, store.body
    goods = admin.post(f"/v1/stores/{store.json['id']}/goods", {"name": "洗衣液", "description": "2kg 装",
                                                                  "price_points": price, "stock": stock})
    assert goods.status == 201, goods.body
    return goods.json


def redeem(member: Member, goods: dict, quantity: int = 1) -> dict:
    resp = member.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": quantity})
    assert resp.status == 201, resp.body
    assert resp.json["points"] == goods["price_points"] * quantity, resp.body
    return resp.json


def board(member: Member, period: str = "month", scope: str = "community", metric: str = "points") -> dict:
    resp = member.get(f"/v1/leaderboard?period={period}&scope={scope}&metric={metric}")
    assert resp.status == 200, resp.body
    body = resp.json
    assert set(body) >= BOARD_KEYS, body
    assert (body["period"], body["scope"], body["metric"]) == (period, scope, metric)
    assert len(body["items"]) <= 50
    return body


def scores(body: dict) -> dict[str, int]:
    return {item["user"]["id"]: item["score"] for item in body["items"]}


def set_nickname(member: Member, nickname: str) -> None:
    resp = member.patch("/v1/me", {"nickname": nickname})
    assert resp.status == 200, resp.body


# --- awards: who may award whom ------------------------------------------------------------------------------------

def test_admin_awards_a_member_balance_passbook_and_message(community):
    admin, member = community.admin, community.resident(1)
    resp = award(admin, member.id, 30, "mediation", "调解邻里漏水纠纷")
    assert resp.status == 201, resp.body
    view = resp.json
    assert set(view) >= AWARD_KEYS, view
    assert view["user"]["id"] == member.id and view["awarded_by"]["id"] == admin.id
    assert (view["category"], view["points"], view["reason"], view["status"]) == \
           ("mediation", 30, "调解邻里漏水纠纷", "active")
    assert view["created_at"] and view["reversed_at"] is None and view["reverse_reason"] is None
    datetime.fromisoformat(view["created_at"])

    assert balance(member) == 30
    page, items = passbook(member)
    assert (page["balance"], page["earned_total"]) == (30, 30)
    [entry] = items
    assert set(entry) >= PASSBOOK_ITEM_KEYS, entry
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == ("award", 30, 30)
    assert view["id"] in entry["source"], entry
    assert len(messages(member.id, "points_awarded")) == 1
    assert messages(admin.id, "points_awarded") == []


def test_grid_worker_awards_residents_of_their_grid_only(community):
    worker = community.grid_worker(0)
    mine, theirs = community.resident(0), community.resident(1)
    view = awarded(worker, mine, 20, "participation")
    assert view["awarded_by"]["id"] == worker.id
    assert balance(mine) == 20
    assert_refused(award(worker, theirs.id), 403, "FORBIDDEN")
    assert balance(theirs) == 0 and messages(theirs.id, "points_awarded") == []
    # A worker of several grids awards in each.
    both = community.with_roles(community.resident(0), ["grid_worker"], [0, 1])
    assert award(both, theirs.id, 5).status == 201
    assert balance(theirs) == 5


def test_residents_volunteers_and_strangers_cannot_award(community, api):
    target = community.resident(0)
    for awarder in (community.resident(0), community.volunteer(0)):
        assert_refused(award(awarder, target.id), 403, "FORBIDDEN")
    other = make_community(api, grids=1)
    assert_refused(award(other.admin, target.id), 403, "FORBIDDEN")  # another community's admin
    assert_refused(award(community.admin, other.resident(0).id), 403, "FORBIDDEN")  # a member of another community
    assert_refused(award(api.login(), target.id), 409, "NOT_IN_COMMUNITY")  # joined no community
    assert api.post("/v1/points/awards", {"user_id": target.id, "category": "charity", "points": 10,
                                          "reason": REASON}).status == 401
    assert balance(target) == 0 and messages(target.id, "points_awarded") == []


def test_unknown_or_deleted_user_is_not_found_and_self_award_is_refused(community):
    admin = community.admin
    assert_refused(award(admin, f"u_{uuid.uuid4().hex[:22]}"), 404, "NOT_FOUND")
    gone = community.resident(0)
    assert gone.delete("/v1/me").status in (200, 204)
    assert_refused(award(admin, gone.id), 404, "NOT_FOUND")
    assert_refused(award(admin, admin.id), 409, "SELF_AWARD")
    worker = community.grid_worker(0)  # a resident of the grid they work: still not themselves
    assert_refused(award(worker, worker.id), 409, "SELF_AWARD")
    assert balance(admin) == 0 and balance(worker) == 0


# --- awards: caps and validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("category, cap", sorted(CAPS.items()))
def test_each_category_has_its_default_cap(community, category, cap):
    member = community.resident(0)
    assert_refused(award(community.admin, member.id, cap + 1, category), 409, "AWARD_CAP_EXCEEDED")
    assert balance(member) == 0
    assert awarded(community.admin, member, cap, category)["points"] == cap  # exactly at the cap is fine
    assert balance(member) == cap


def test_a_communitys_category_cap_setting_replaces_the_default(community):
    community.set(award_cap_mediation=5)
    member = community.resident(0)
    assert_refused(award(community.admin, member.id, 6, "mediation"), 409, "AWARD_CAP_EXCEEDED")
    awarded(community.admin, member, 5, "mediation")
    awarded(community.admin, member, 50, "charity")  # the other categories keep their defaults
    assert balance(member) == 55


def test_default_daily_cap_is_500_points_per_awarder(api):
    with at(shanghai_day(1, 12)):  # the whole test inside one Shanghai day, whenever it runs
        community = make_community(api)
        first, second = community.resident(0), community.resident(1)
        for member in (first, second):
            for _ in range(5):
                awarded(community.admin, member, 50)  # 10 × 50 = 500: exactly the cap
        third = community.resident(0)
        assert_refused(award(community.admin, third.id, 1), 409, "DAILY_CAP_EXCEEDED")
        assert balance(third) == 0 and passbook(third)[1] == [] and messages(third.id, "points_awarded") == []
        # It is the awarder's cap: another awarder may still award the same people.
        worker = community.grid_worker(0)
        assert award(worker, third.id, 1).status == 201


def test_daily_cap_setting_counts_a_shanghai_day_and_a_refusal_writes_nothing(api):
    # 07:00 and 23:00 Shanghai are on two UTC days; 23:00 and 01:00 the next day are on one.
    morning, night, next_day = shanghai_day(2, 7), shanghai_day(2, 23), shanghai_day(3, 1)
    with at(morning):
        community = make_community(api)
        community.set(award_daily_cap=100)
        admin, first, second = community.admin, community.resident(0), community.resident(1)
        awarded(admin, first, 50)
        awarded(admin, second, 30, "mediation")
    with at(night, admin, first, second):
        before = passbook(second)[1]
        resp = award(admin, second.id, 30, "mediation")  # 80 + 30 > 100
        assert_refused(resp, 409, "DAILY_CAP_EXCEEDED")
        assert balance(second) == 30 and passbook(second)[1] == before
        assert len(messages(second.id, "points_awarded")) == 1
        awarded(admin, second, 20, "participation")  # 80 + 20 = 100: exactly the cap
        assert_refused(award(admin, first.id, 1), 409, "DAILY_CAP_EXCEEDED")
    with at(next_day, admin, first):
        awarded(admin, first, 50)  # a new Shanghai day, a new allowance
        assert balance(first) == 100


@pytest.mark.parametrize("body, field", [
    ({"points": 0}, "points"),
    ({"points": -1}, "points"),
    ({"points": 10001}, "points"),
    ({"points": 2.5}, "points"),
    ({"reason": None}, "reason"),
    ({"reason": ""}, "reason"),
    ({"reason": "   \n\t "}, "reason"),
    ({"reason": "好" * 201}, "reason"),
    ({"category": "bravery"}, "category"),
    ({"category": None}, "category"),
    ({"user_id": None}, "user_id"),
], ids=["points-0", "points-negative", "points-10001", "points-fraction", "reason-missing", "reason-empty",
        "reason-blank", "reason-201", "category-unknown", "category-missing", "user-missing"])
def test_award_validation(community, body, field):
    member = community.resident(0)
    full = {"user_id": member.id, "category": "charity", "points": 10, "reason": REASON, **body}
    full = {k: v for k, v in full.items() if v is not None}
    assert_refused(community.admin.post("/v1/points/awards", full), 400, "VALIDATION_FAILED", field)
    assert balance(member) == 0


def test_reason_up_to_200_characters_is_accepted_trimmed(community):
    member = community.resident(0)
    assert awarded(community.admin, member, 1)["reason"] == REASON
    resp = award(community.admin, member.id, 1, reason="  " + "好" * 200 + "  ")
    assert resp.status == 201, resp.body
    assert resp.json["reason"].strip() == "好" * 200


# --- reversal ------------------------------------------------------------------------------------------------------

def test_admin_reverses_an_award_once(community):
    admin, member = community.admin, community.resident(0)
    kept = awarded(admin, member, 20)
    wrong = awarded(admin, member, 30, "mediation")
    resp = reverse(admin, wrong["id"], "重复发放")
    assert resp.status == 200, resp.body
    view = resp.json
    assert set(view) >= AWARD_KEYS, view
    assert (view["id"], view["status"], view["points"], view["reverse_reason"]) == \
           (wrong["id"], "reversed", 30, "重复发放")
    assert view["reversed_at"] is not None
    assert balance(member) == 20
    page, items = passbook(member)
    assert (page["balance"], page["earned_total"]) == (20, 20)  # a reversal lowers what was earned
    newest = items[0]
    assert (newest["kind"], newest["amount"], newest["balance_after"]) == ("reversal", -30, 20)
    assert wrong["id"] in newest["source"] and kept["id"] not in newest["source"]

    assert_refused(reverse(admin, wrong["id"]), 409, "INVALID_STATE")
    assert balance(member) == 20 and len(passbook(member)[1]) == 3
    assert_refused(reverse(admin, f"aw_{uuid.uuid4().hex[:20]}"), 404, "NOT_FOUND")
    assert_refused(admin.post(f"/v1/points/awards/{kept['id']}/reverse", {}), 400, "VALIDATION_FAILED", "reason")


def test_only_admins_of_the_community_reverse(community, api):
    worker = community.grid_worker(0)
    member = community.resident(0)
    view = awarded(worker, member, 10)
    for refused in (worker, member, community.resident(0)):
        assert_refused(reverse(refused, view["id"]), 403, "FORBIDDEN")
    stranger = make_community(api, grids=1).admin
    assert reverse(stranger, view["id"]).status in (403, 404)  # the contract names neither
    assert balance(member) == 10
    assert reverse(community.admin, view["id"]).status == 200


def test_reversal_of_spent_points_is_refused_and_moves_nothing(community):
    admin, member = community.admin, community.resident(0)
    view = awarded(admin, member, 30)
    goods = open_store(admin, price=25)
    redemption = redeem(member, goods)
    assert balance(member) == 5
    before = passbook(member)
    assert_refused(reverse(admin, view["id"]), 409, "INSUFFICIENT_POINTS")
    assert balance(member) == 5 and passbook(member) == before
    assert scores(board(member))[member.id] == 30
    # Once the points are back (the redemption cancelled), the award can be reversed.
    assert member.post(f"/v1/redemptions/{redemption['id']}/cancel").status == 200
    assert balance(member) == 30
    assert reverse(admin, view["id"]).status == 200
    assert balance(member) == 0


def test_a_reversal_does_not_give_back_the_awarders_day(api):
    with at(shanghai_day(1, 12)):
        community = make_community(api)
        community.set(award_daily_cap=60)
        member = community.resident(0)
        view = awarded(community.admin, member, 50)
        assert reverse(community.admin, view["id"]).status == 200
        assert_refused(award(community.admin, member.id, 20), 409, "DAILY_CAP_EXCEEDED")
        awarded(community.admin, member, 10)
        assert balance(member) == 10


# --- the passbook --------------------------------------------------------------------------------------------------

def test_passbook_pages_newest_first_with_chained_balances(community):
    admin, member = community.admin, community.resident(0)
    awarded(admin, member, 30, "charity")
    awarded(admin, member, 20, "participation")
    last_award = awarded(admin, member, 15, "mediation")
    goods = open_store(admin, price=10)
    cancelled = redeem(member, goods, quantity=2)
    assert member.post(f"/v1/redemptions/{cancelled['id']}/cancel").status == 200  # refund: not earned
    kept = redeem(member, goods)
    assert reverse(admin, last_award["id"]).status == 200

    page, items = passbook(member, limit=2)
    assert [i["kind"] for i in items] == ["reversal", "redeem", "refund", "redeem", "award", "award", "award"]
    assert [i["amount"] for i in items] == [-15, -10, 20, -20, 15, 20, 30]
    assert len({i["id"] for i in items}) == len(items)  # every item once
    assert all(set(i) >= PASSBOOK_ITEM_KEYS for i in items), items
    for newer, older in zip(items, items[1:]):
        assert newer["balance_after"] == older["balance_after"] + newer["amount"], (newer, older)
        assert datetime.fromisoformat(newer["created_at"]) >= datetime.fromisoformat(older["created_at"])
    assert items[-1]["balance_after"] == items[-1]["amount"]
    assert page["balance"] == sum(i["amount"] for i in items) == items[0]["balance_after"] == 40 == balance(member)
    assert page["earned_total"] == 30 + 20 + 15 - 15  # awards and their reversal; not redemptions nor refunds
    assert cancelled["id"] in items[2]["source"] and cancelled["id"] in items[3]["source"]
    assert kept["id"] in items[1]["source"]

    # Pages hold at most the limit; the first page's cursor leads to the second page's items.
    first = member.get("/v1/me/points?limit=2").json
    assert [i["id"] for i in first["items"]] == [i["id"] for i in items[:2]]
    second = member.get(f"/v1/me/points?limit=2&cursor={first['next_cursor']}").json
    assert [i["id"] for i in second["items"]] == [i["id"] for i in items[2:4]]


def test_passbook_cursors_are_checked_and_limits_bounded(community):
    admin, member, other = community.admin, community.resident(0), community.resident(0)
    for _ in range(3):
        awarded(admin, member, 1)
    awarded(admin, other, 1)
    cursor = member.get("/v1/me/points?limit=1").json["next_cursor"]
    assert cursor
    tampered = cursor[:-2] + ("00" if not cursor.endswith("00") else "11")
    assert_refused(member.get(f"/v1/me/points?limit=1&cursor={tampered}"), 400, "VALIDATION_FAILED", "cursor")
    assert_refused(member.get("/v1/me/points?cursor=not-a-cursor"), 400, "VALIDATION_FAILED", "cursor")
    # Another user's cursor does not open this user's passbook.
    assert_refused(other.get(f"/v1/me/points?limit=1&cursor={cursor}"), 400, "VALIDATION_FAILED", "cursor")
    assert member.get(f"/v1/me/points?limit=1&cursor={cursor}").status == 200
    for limit in (0, 101, "x"):
        assert_refused(member.get(f"/v1/me/points?limit={limit}"), 400, "VALIDATION_FAILED", "limit")
    empty = community.resident(0).get("/v1/me/points").json
    assert (empty["balance"], empty["earned_total"], empty["items"], empty["next_cursor"]) == (0, 0, [], None)


# --- leaderboards --------------------------------------------------------------------------------------------------

def test_leaderboard_order_ties_masking_and_me(community):
    admin = community.admin
    first, second, third, fourth, nobody = (community.resident(0) for _ in range(5))
    set_nickname(first, "张三丰")
    set_nickname(second, "李四")
    give(admin, first, 30)
    give(admin, second, 20)
    give(admin, third, 20)
    give(admin, fourth, 10)

    body = board(nobody)
    items = body["items"]
    assert [i["user"]["id"] for i in items[:1]] == [first.id]
    assert {i["user"]["id"] for i in items[1:3]} == {second.id, third.id}
    assert [i["user"]["id"] for i in items[3:]] == [fourth.id]
    assert [i["score"] for i in items] == [30, 20, 20, 10]
    assert [i["rank"] for i in items[:3]] == [1, 2, 2]  # ties share a rank
    assert items[3]["rank"] in (3, 4)  # dense or competition ranking: the contract does not say which
    assert body["me"] == {**body["me"], "score": 0, "rank": None}  # no score: no rank

    shown = {i["user"]["id"]: i["user"]["nickname"] for i in items}
    assert shown[first.id].startswith("张") and shown[first.id] != "张三丰" and "三丰" not in shown[first.id]
    assert shown[second.id].startswith("李") and shown[second.id] != "李四"
    for member in (third, fourth):  # the default nickname is masked too
        assert shown[member.id] != member.get("/v1/me").json["nickname"]

    assert board(third)["me"] == {**board(third)["me"], "score": 20, "rank": 2}
    assert board(first)["me"] == {**board(first)["me"], "score": 30, "rank": 1}


def test_leaderboard_is_the_top_50(community):
    community.set(award_daily_cap=5000)
    admin = community.admin
    scorers = [community.resident(i % 2) for i in range(52)]
    for points, member in enumerate(scorers, start=1):
        give(admin, member, points)
    body = board(scorers[-1])
    assert [i["score"] for i in body["items"]] == list(range(52, 2, -1))
    assert [i["rank"] for i in body["items"]] == list(range(1, 51))
    assert [i["user"]["id"] for i in body["items"]] == [m.id for m in reversed(scorers[2:])]
    assert body["me"] == {**body["me"], "score": 52, "rank": 1}
    assert board(scorers[2])["me"] == {**board(scorers[2])["me"], "score": 3, "rank": 50}
    outside = board(scorers[1])["me"]
    assert outside == {**outside, "score": 2, "rank": None}  # in no top 50: no rank, the score still told


def test_grid_scope_shows_my_grids_people_only(community):
    admin = community.admin
    near, neighbour, far = community.resident(0), community.resident(0), community.resident(1)
    give(admin, near, 30)
    give(admin, neighbour, 10)
    give(admin, far, 40)
    assert list(scores(board(near, scope="grid"))) == [near.id, neighbour.id]
    assert scores(board(near, scope="grid")) == {near.id: 30, neighbour.id: 10}
    assert scores(board(far, scope="grid")) == {far.id: 40}
    assert list(scores(board(near))) == [far.id, near.id, neighbour.id]
    mine = board(neighbour, scope="grid")["me"]
    assert mine == {**mine, "score": 10, "rank": 2}
    assert board(neighbour)["me"]["rank"] == 3
    # Awards earn points, not volunteer minutes (微星光).
    minutes = board(near, metric="minutes")
    assert minutes["items"] == [] and minutes["me"]["rank"] is None


def test_spending_does_not_lower_the_points_board_and_a_reversal_does(community):
    admin = community.admin
    spender, corrected = community.resident(0), community.resident(1)
    awarded(admin, spender, 30)
    awarded(admin, corrected, 20)
    wrong = awarded(admin, corrected, 15, "mediation")
    goods = open_store(admin, price=20)
    redeem(spender, goods)
    assert balance(spender) == 10
    assert reverse(admin, wrong["id"]).status == 200
    for period in ("month", "year", "all"):
        body = board(spender, period=period)
        assert scores(body) == {spender.id: 30, corrected.id: 20}, period
        assert [i["rank"] for i in body["items"]] == [1, 2]
    assert passbook(spender)[0]["earned_total"] == 30


def month_boundary(skip_new_year: bool) -> datetime:
    """00:00 Shanghai on the first of the coming month (of the month after, if that one is January and
    ``skip_new_year``)."""
    now = utcnow().astimezone(SHANGHAI)
    year, month = (now.year, now.month + 1) if now.month < 12 else (now.year + 1, 1)
    if month == 1 and skip_new_year:
        month = 2
    return datetime(year, month, 1, tzinfo=SHANGHAI)


def test_periods_across_a_month_boundary(api):
    boundary = month_boundary(skip_new_year=True)
    late, early = boundary - timedelta(minutes=30), boundary + timedelta(hours=7)  # 23:30 and 07:00 Shanghai
    with at(late):
        community = make_community(api)
        admin = community.admin
        old, new = community.resident(0), community.resident(0)
        awarded(admin, old, 30)
        wrong = awarded(admin, old, 20, "mediation")
        before = board(old)
        assert scores(before) == {old.id: 50}
    with at(early, admin, old, new):
        awarded(admin, new, 10)
        month = board(old)
        assert month["period_key"] != before["period_key"]
        assert scores(month) == {new.id: 10}  # last month's credit is not this month's
        assert month["me"]["rank"] is None
        assert scores(board(old, period="year")) == {old.id: 50, new.id: 10}
        assert scores(board(old, period="all")) == {old.id: 50, new.id: 10}
        # A reversal subtracts from the period of the credit it corrects: the year and all time, not this month.
        assert reverse(admin, wrong["id"]).status == 200
        month = board(old)
        assert scores(month) == {new.id: 10}
        assert month["me"] == {**month["me"], "score": 0, "rank": None}
        assert scores(board(old, period="year")) == {old.id: 30, new.id: 10}
        assert scores(board(old, period="all")) == {old.id: 30, new.id: 10}


def test_periods_across_a_year_boundary(api):
    now = utcnow().astimezone(SHANGHAI)
    boundary = datetime(now.year + 1, 1, 1, tzinfo=SHANGHAI)
    with at(boundary - timedelta(minutes=30)):
        community = make_community(api)
        admin, member = community.admin, community.resident(0)
        awarded(admin, member, 30)
        before = {period: board(member, period=period) for period in ("month", "year", "all")}
        assert all(scores(body) == {member.id: 30} for body in before.values())
    with at(boundary + timedelta(hours=7), admin, member):
        for period in ("month", "year"):
            body = board(member, period=period)
            assert body["items"] == [] and body["me"]["rank"] is None, period
            assert body["period_key"] != before[period]["period_key"]
        assert scores(board(member, period="all")) == {member.id: 30}


@pytest.mark.parametrize("query, field", [
    ("period=week&scope=community&metric=points", "period"),
    ("period=month&scope=city&metric=points", "scope"),
    ("period=month&scope=community&metric=stars", "metric"),
])
def test_leaderboard_refuses_unknown_period_scope_metric(community, query, field):
    assert_refused(community.resident(0).get(f"/v1/leaderboard?{query}"), 400, "VALIDATION_FAILED", field)
