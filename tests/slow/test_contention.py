"""Invariants under concurrency, against moto's server over HTTP through the real local stack:
50 claims of one wish → one winner; concurrent confirms → one credit; balance == sum(ledger);
20 concurrent first logins of one openid → one user."""
import uuid

import pytest

from tests.stack import Client, in_parallel, in_threads, stack_fixture, volunteer

pytestmark = pytest.mark.slow


stack = stack_fixture()  # at the end, every invariant of design.md over what the module's races left


def _ledger_sum(stack, user_id):
    items = stack.query_all("ledger", "user_id", user_id)
    return sum(int(item["amount"]["N"]) for item in items), len(items)


def test_fifty_claims_of_one_wish_have_one_winner(stack):
    run = uuid.uuid4().hex[:6]
    volunteers = in_threads(lambda i: volunteer(stack.api_url, f"claim{run}-{i}"), range(50))
    author = Client(stack.api_url).login("res3")
    wish_id = author.call("POST", "/v1/wishes", {"title": "并发认领", "content": "五十人抢一个", "category": "其他"}).json()["id"]

    results = in_parallel(lambda v: v.call("POST", f"/v1/wishes/{wish_id}/claim"), volunteers)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * 49, statuses
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"ALREADY_CLAIMED"}
    winner = next(v for v, r in zip(volunteers, results) if r.status_code == 200)
    assert author.call("GET", f"/v1/wishes/{wish_id}").json()["claimer"]["id"] == winner.user["id"]

    # The winner fulfils; the author's confirm arrives ten times at once: one credit, once.
    assert winner.call("POST", f"/v1/wishes/{wish_id}/fulfil", {"note": "完成"}).status_code == 200
    confirms = in_parallel(lambda _: author.call("POST", f"/v1/wishes/{wish_id}/confirm", {"rating": 5}), range(10))
    assert sorted(r.status_code for r in confirms) == [200] + [409] * 9
    balance = winner.call("GET", "/v1/me").json()["points_balance"]
    total, entries = _ledger_sum(stack, winner.user["id"])
    assert balance == total == 20 and entries == 1


def test_concurrent_confirms_of_different_wishes_keep_balance_equal_to_ledger(stack):
    """One claimer, eight wishes confirmed at the same moment: every confirmation lands, none twice, and the
    daily cap on wish points (5) holds under concurrency: exactly five credit 20, the others 0 with the reason."""
    run = uuid.uuid4().hex[:6]
    claimer = volunteer(stack.api_url, f"busy{run}")
    authors = [Client(stack.api_url).login(f"res{i}") for i in (1, 2, 3, 4)]
    wishes = []
    for index in range(8):
        author = authors[index % 4]
        wish_id = author.call("POST", "/v1/wishes", {"title": f"心愿{index}", "content": "并发确认",
                                                      "category": "其他"}).json()["id"]
        assert claimer.call("POST", f"/v1/wishes/{wish_id}/claim").status_code == 200
        assert claimer.call("POST", f"/v1/wishes/{wish_id}/fulfil", {"note": "好"}).status_code == 200
        wishes.append((author, wish_id))
    results = in_parallel(lambda wish: wish[0].call("POST", f"/v1/wishes/{wish[1]}/confirm", {"rating": 4}), wishes)
    assert [r.status_code for r in results] == [200] * 8
    total, entries = _ledger_sum(stack, claimer.user["id"])
    assert entries == 8 and total == 100 == claimer.call("GET", "/v1/me").json()["points_balance"]
    assert sorted(r.json()["points_awarded"] for r in results) == [0, 0, 0, 20, 20, 20, 20, 20]


def test_twenty_concurrent_first_logins_over_http_create_one_user(stack):
    name = f"burst{uuid.uuid4().hex[:6]}"
    results = in_parallel(lambda _: Client(stack.api_url).login(name), range(20))
    assert len({c.user["id"] for c in results}) == 1
