"""The leaderboards' items (issue 27): one score item per period serves the community's board and the grid's, carries
the name the boards show, and follows the member (a new nickname, another grid, 注销) in the transaction that
changes them — so a board is one Query whose every entry is a row, full while more scorers exist. Over HTTP
against moto; the invariant checker (``infra/proof/invariants/scores.py``) holds over what each test leaves.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import Member, make_community
from tongxin.adapters.dynamo.binding import connection
from tongxin.adapters.dynamo.models import ScoreModel
from tongxin.domain.clock import SHANGHAI, travel, utcnow

REASON = "帮助独居老人买菜送药"


@pytest.fixture(autouse=True)
def away_from_month_ends():
    """A month's board is a calendar bucket: near a month's end the whole test runs a week later."""
    shift = timedelta(days=7) if utcnow().astimezone(SHANGHAI).day >= 25 else timedelta(0)
    with travel(shift):
        yield


def give(admin: Member, member: Member, points: int) -> None:
    while points > 0:
        resp = admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity",
                                                "points": min(points, 50), "reason": REASON})
        assert resp.status == 201, resp.body
        points -= 50


def board(member: Member, scope: str = "community", period: str = "month", metric: str = "points") -> dict:
    resp = member.get(f"/v1/leaderboard?period={period}&scope={scope}&metric={metric}")
    assert resp.status == 200, resp.body
    return resp.json


def rows(body: dict) -> dict[str, int]:
    return {item["user"]["id"]: item["score"] for item in body["items"]}


def items_of(user_id: str) -> list[ScoreModel]:
    # Test-only look at the scores table: which items a credit wrote.
    return sorted((s for s in ScoreModel.scan(ScoreModel.user_id == user_id)), key=lambda s: s.board)


def invariants(container, *ids: str) -> list[str]:
    from infra.proof.invariants import check
    found = check(connection().client, container.settings.table_name)
    return [v for v in found if v.startswith(("[scores]", "[score-copies]")) and any(i in v for i in ids)]


def test_a_credit_writes_one_item_a_period_standing_on_both_boards(community, container):
    member = community.resident(1)
    member.patch("/v1/me", {"nickname": "张三丰"})
    give(community.admin, member, 30)
    found = items_of(member.id)
    assert len(found) == 3  # month, year, all time: not six
    grid = community.grid_ids[1]
    for item in found:
        metric, scope, scope_id, period = item.board.split("#")
        assert (metric, scope, scope_id, int(item.score)) == ("points", "community", community.id, 30)
        assert item.grid_board == f"points#grid#{grid}#{period}"
        assert item.nickname == "张三丰"
    for scope in ("community", "grid"):
        for period in ("month", "year", "all"):
            body = board(member, scope, period)
            assert rows(body) == {member.id: 30}, (scope, period)
            assert body["items"][0]["user"]["nickname"].startswith("张") and "三丰" not in str(body)
            assert body["me"] == {**body["me"], "score": 30, "rank": 1}
    assert invariants(container, member.id) == []


def test_a_new_nickname_shows_on_the_boards_without_a_new_credit(community, container):
    member, reader = community.resident(0), community.resident(0)
    member.patch("/v1/me", {"nickname": "张三丰"})
    give(community.admin, member, 20)
    assert member.patch("/v1/me", {"nickname": "王小二"}).status == 200
    for scope in ("community", "grid"):
        for period in ("month", "year", "all"):
            shown = board(reader, scope, period)["items"][0]["user"]
            assert shown["id"] == member.id and shown["nickname"].startswith("王"), (scope, period, shown)
    assert invariants(container, member.id, reader.id) == []


def test_a_member_moving_grid_takes_the_periods_scores_along(community, container):
    mover, stayer, neighbour = community.resident(0), community.resident(0), community.resident(1)
    give(community.admin, mover, 30)
    give(community.admin, stayer, 10)
    give(community.admin, neighbour, 20)
    # Joining again through the other grid's invite moves the member (the directory follows; so do the boards).
    assert mover.post("/v1/me/community", {"invite": community.invite(1)}).status == 200
    mover.relogin()
    assert rows(board(stayer, "grid")) == {stayer.id: 10}
    for period in ("month", "year", "all"):
        assert rows(board(neighbour, "grid", period)) == {mover.id: 30, neighbour.id: 20}, period
    assert board(mover, "grid")["me"] == {**board(mover, "grid")["me"], "score": 30, "rank": 1}
    assert rows(board(stayer)) == {mover.id: 30, neighbour.id: 20, stayer.id: 10}  # the community's: unchanged
    give(community.admin, mover, 5)  # a later credit lands on the new grid's board with the rest
    assert rows(board(neighbour, "grid")) == {mover.id: 35, neighbour.id: 20}
    assert invariants(container, mover.id, stayer.id, neighbour.id) == []


def test_a_closed_account_leaves_the_boards_and_the_page_stays_full(community, container):
    """51 scorers, the best closes the account: the board still shows 50, the 51st now among them; each row is
    one entry of the index read (no entries read past the page, no names read elsewhere)."""
    community.set(award_daily_cap=5000)
    scorers = [community.resident(i % 2) for i in range(51)]
    for points, member in enumerate(scorers, start=1):
        give(community.admin, member, points)
    best, last = scorers[-1], scorers[0]
    assert best.delete("/v1/me").status == 204
    assert items_of(best.id) == []  # the current periods' items went with the account
    reader = scorers[1]
    client = connection().client
    scanned: list[int] = []

    def count(parsed, model, **kwargs):
        if model.name == "Query":
            scanned.append(parsed.get("ScannedCount", 0))
    client.meta.events.register("after-call.dynamodb.Query", count)
    try:
        body = board(reader)
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", count)
    assert [i["score"] for i in body["items"]] == list(range(50, 0, -1))
    assert best.id not in rows(body) and last.id in rows(body)
    assert scanned == [50]
    for period in ("year", "all"):
        assert best.id not in rows(board(reader, period=period)) and len(board(reader, period=period)["items"]) == 50
    assert invariants(container, *(m.id for m in scorers)) == []


def test_a_closed_accounts_reversed_award_stays_off_the_boards(community, container):
    member, reader = community.resident(0), community.resident(0)
    resp = community.admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity", "points": 30,
                                                      "reason": REASON})
    assert resp.status == 201
    assert member.delete("/v1/me").status == 204
    assert community.admin.post(f"/v1/points/awards/{resp.json['id']}/reverse", {"reason": "核实后撤销"}).status == 200
    assert items_of(member.id) == []
    assert rows(board(reader)) == {}
    assert invariants(container, member.id) == []


def test_closing_an_account_erases_its_items_of_past_periods_too(api, container):
    """The score items carry the nickname: 注销 deletes every one the account may hold since it joined (here a month
    and more ago), not only the current periods'."""
    with travel(timedelta(days=-40)):
        community = make_community(api)
        member = community.resident(0)
        member.patch("/v1/me", {"nickname": "张三丰"})
        give(community.admin, member, 30)
    assert {s.board.rsplit("#", 1)[1] for s in items_of(member.id)} == {
        (utcnow() - timedelta(days=40)).astimezone(SHANGHAI).strftime("%Y-%m"),
        (utcnow() - timedelta(days=40)).astimezone(SHANGHAI).strftime("%Y"), "all"}
    member.relogin()
    give(community.admin.relogin(), member, 10)
    assert member.delete("/v1/me").status == 204
    assert items_of(member.id) == []
    assert invariants(container, member.id) == []
