"""Invariants under concurrency, against moto's server over HTTP through the real local stack:
50 claims of one wish → one winner; concurrent confirms → one credit; balance == sum(ledger);
20 concurrent first logins of one openid → one user."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.stack import Client, start_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("stack") / "stack.log")
    yield running
    try:
        running.check_invariants()  # every invariant of design.md over what the module's races left
    finally:
        running.stop()


def _in_parallel(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _volunteer(stack, name):
    client = Client(stack.api_url).login(name)
    client.adopt(client.call("POST", "/v1/me/community", {"invite": "DEMOGRID1"}))
    return client.adopt(client.call("POST", "/v1/me/volunteer", {"real_name": "并发志愿者"}))


def _ledger_sum(stack, user_id):
    items = stack.dynamodb().query(TableName=stack.table("ledger"), KeyConditionExpression="user_id = :u",
                                   ExpressionAttributeValues={":u": {"S": user_id}}, ConsistentRead=True)["Items"]
    return sum(int(item["amount"]["N"]) for item in items), len(items)


def test_fifty_claims_of_one_wish_have_one_winner(stack):
    run = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(max_workers=8) as pool:
        volunteers = list(pool.map(lambda i: _volunteer(stack, f"claim{run}-{i}"), range(50)))
    author = Client(stack.api_url).login("res3")
    wish_id = author.call("POST", "/v1/wishes", {"title": "并发认领", "content": "五十人抢一个", "category": "其他"}).json()["id"]

    results = _in_parallel([lambda v=v: v.call("POST", f"/v1/wishes/{wish_id}/claim") for v in volunteers])
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * 49, statuses
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"ALREADY_CLAIMED"}
    winner = next(v for v, r in zip(volunteers, results) if r.status_code == 200)
    assert author.call("GET", f"/v1/wishes/{wish_id}").json()["claimer"]["id"] == winner.user["id"]

    # The winner fulfils; the author's confirm arrives ten times at once: one credit, once.
    assert winner.call("POST", f"/v1/wishes/{wish_id}/fulfil", {"note": "完成"}).status_code == 200
    confirms = _in_parallel([lambda: author.call("POST", f"/v1/wishes/{wish_id}/confirm", {"rating": 5})] * 10)
    assert sorted(r.status_code for r in confirms) == [200] + [409] * 9
    balance = winner.call("GET", "/v1/me").json()["points_balance"]
    total, entries = _ledger_sum(stack, winner.user["id"])
    assert balance == total == 20 and entries == 1


def test_concurrent_confirms_of_different_wishes_keep_balance_equal_to_ledger(stack):
    """One claimer, eight wishes confirmed at the same moment: every confirmation lands, none twice, and the
    daily cap on wish points (5) holds under concurrency: exactly five credit 20, the others 0 with the reason."""
    run = uuid.uuid4().hex[:6]
    claimer = _volunteer(stack, f"busy{run}")
    authors = [Client(stack.api_url).login(f"res{i}") for i in (1, 2, 3, 4)]
    wishes = []
    for index in range(8):
        author = authors[index % 4]
        wish_id = author.call("POST", "/v1/wishes", {"title": f"心愿{index}", "content": "并发确认",
                                                      "category": "其他"}).json()["id"]
        assert claimer.call("POST", f"/v1/wishes/{wish_id}/claim").status_code == 200
        assert claimer.call("POST", f"/v1/wishes/{wish_id}/fulfil", {"note": "好"}).status_code == 200
        wishes.append((author, wish_id))
    results = _in_parallel([lambda a=a, w=w: a.call("POST", f"/v1/wishes/{w}/confirm", {"rating": 4})
                            for a, w in wishes])
    assert [r.status_code for r in results] == [200] * 8
    total, entries = _ledger_sum(stack, claimer.user["id"])
    assert entries == 8 and total == 100 == claimer.call("GET", "/v1/me").json()["points_balance"]
    assert sorted(r.json()["points_awarded"] for r in results) == [0, 0, 0, 20, 20, 20, 20, 20]


def test_twenty_concurrent_first_logins_over_http_create_one_user(stack):
    name = f"burst{uuid.uuid4().hex[:6]}"
    results = _in_parallel([lambda: Client(stack.api_url).login(name)] * 20)
    assert len({c.user["id"] for c in results}) == 1
