"""The bursts of issue 13 on the real local stack over HTTP (infra/proof/burst/), at a scale the suite can afford: an
event opening for sign-up, volunteers checking in and out of one event (every third scan sent twice at once), a
popular item redeemed by many at once. Each ends with its invariant read from the stored data and with
infra.proof.invariants.check over every table; every answer must be a documented status of its route with the error
envelope (no 5xx). Times are printed by ``python -m infra.proof.burst`` (``make burst``), never asserted here. The
last two tests (pure, in the fast suite) hold the raw ceiling's replay to what it claims.

SCALE: the issue's counts (300 sign-ups for 100 places, 300 volunteers, 200 redemptions of stock 20) took
3.5 minutes without the raw ceiling on a busy 2-core machine (load 6-7) — the waitlist's sign-ups alone ~45 s,
as each queued sign-up retries on the event's waitlist ticket — more than the suite's room (~2 min). Half of them
(150 sign-ups for 50 places, 150 volunteers with 50 double taps, 100 redemptions of stock 10) took 88 s on the
same machine (a third: 67 s): every invariant is checked the same way, on the same code paths, with 16 concurrent
clients; the full scale is ``make burst``'s.
"""
from __future__ import annotations

import uuid

import pytest

from infra.proof import burst

SCALE = 0.5
CLIENTS = 16


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = burst.BurstStack(tmp_path_factory.mktemp("burst"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def people(stack):
    return burst.People(stack, uuid.uuid4().hex[:6])


def _statuses(result: dict) -> set[int]:
    return {int(label.split()[0]) for b in result["bursts"].values() for label in b["histogram"]}


def _no_violation(result: dict) -> None:
    assert all(status < 500 for status in _statuses(result)), result["bursts"]
    assert result["invariants"] in ([], None), result["invariants"]  # None: the checker is not there
    assert result["problems"] == [], result["problems"]


@pytest.mark.slow
def test_signup_burst_fills_the_places_and_queues_the_rest_in_order(stack, people):
    result = burst.signup(stack, people, SCALE, CLIENTS, raw=False)
    people_, places = result["people"], result["places"]
    assert (people_, places) == (burst._scaled(300, SCALE), burst._scaled(100, SCALE))
    assert result["bursts"]["signup"]["histogram"] == {"201 signed": places, "201 waitlisted": people_ - places}
    stored = result["stored"]
    assert stored["by_status"] == {"signed": places, "waitlisted": people_ - places}
    assert (stored["signed_count"], stored["waitlist_count"], stored["capacity"]) == \
        (places, people_ - places, places)
    assert stored["positions_distinct"] and stored["positions"] == [1, people_ - places]
    _no_violation(result)


@pytest.mark.slow
def test_checkin_burst_credits_every_attendance_once_with_minutes_clipped(stack, people):
    result = burst.checkin(stack, people, SCALE, CLIENTS, raw=False)
    volunteers, doubles = result["volunteers"], result["double_scans"]
    assert volunteers == burst._scaled(300, SCALE) and doubles == -(-volunteers // burst.DOUBLE_EVERY)
    assert result["bursts"]["check-in"]["histogram"] == {"200 check_in": volunteers,
                                                         "409 ALREADY_CHECKED_IN": doubles}
    assert result["bursts"]["check-out"]["histogram"] == {"200 check_out": volunteers,
                                                          "409 ALREADY_CHECKED_OUT": doubles}
    stored = result["stored"]
    assert stored["checked_out"] == stored["credited_once"] == volunteers
    assert stored["clipped_at_start"] == (volunteers + 1) // 2
    assert stored["balance_is_sum_of_ledger"] == volunteers
    assert stored["points"] > 0 and stored["minutes"] > 0
    _no_violation(result)


@pytest.mark.slow
def test_redeem_burst_sells_exactly_the_stock_and_refuses_the_rest(stack, people):
    result = burst.redeem(stack, people, SCALE, CLIENTS, raw=False)
    residents, stock = result["residents"], result["stock"]
    assert (residents, stock) == (burst._scaled(200, SCALE), burst._scaled(20, SCALE))
    assert result["bursts"]["redeem"]["histogram"] == {"201 pending_pickup": stock,
                                                       "409 OUT_OF_STOCK": residents - stock}
    assert result["stored"]["stock"] == 0
    assert result["stored"]["redemptions"] == result["stored"]["pending_pickup"] == stock
    assert result["stored"]["balance_is_sum_of_ledger"] == residents
    _no_violation(result)


# --- the raw ceiling's replay (pure: runs in the fast suite) -------------------------------------------------

def _recorded(goods_id: str, user: str) -> dict:
    """A redemption's transaction as the stack's client sends it (abridged): a fresh put, a guarded update of the
    item's stock, an unguarded counter."""
    return {"outcome": "ok", "thread": "Thread-7 (process_request_thread)", "items": [
        {"Put": {"TableName": "tongxin-dev-redemptions", "Item": {"id": {"S": f"rd_{user}"}, "note": {"S": "x" * 50}},
                 "ConditionExpression": "attribute_not_exists (#0)", "ExpressionAttributeNames": {"#0": "id"}}},
        {"Update": {"TableName": "tongxin-dev-goods", "Key": {"id": {"S": goods_id}},
                    "UpdateExpression": "SET #1 = :1 ADD #0 :0", "ConditionExpression": "#0 >= :2",
                    "ExpressionAttributeNames": {"#0": "stock", "#1": "updated_at"},
                    "ExpressionAttributeValues": {":0": {"N": "-1"}, ":1": {"S": "now"}, ":2": {"N": "1"}}}},
        {"Update": {"TableName": "tongxin-dev-counters", "Key": {"key": {"S": f"allow#{user}"}},
                    "UpdateExpression": "ADD #0 :0", "ExpressionAttributeNames": {"#0": "n"},
                    "ExpressionAttributeValues": {":0": {"N": "1"}}}}]}


def test_raw_replay_is_the_api_items_under_new_keys_with_guards_for_what_was_shared():
    schema = {"tongxin-dev-redemptions": [("id", "S")], "tongxin-dev-goods": [("id", "S")],
              "tongxin-dev-counters": [("key", "S")]}
    recorded = [_recorded("g1", "u1"), _recorded("g1", "u2"), {**_recorded("g1", "u3"), "outcome": "Cancelled"},
                {**_recorded("g2", "u4"), "thread": "sender"}]
    shapes = burst.shape_of(recorded, schema)
    assert len(shapes) == 2  # the cancelled one and the sender's are not the burst's committed work
    assert [(s["op"], s["shared"], s["times"]) for s in shapes[0]] == [("Put", None, 1), ("Update", 0, 2),
                                                                      ("Update", None, 1)]
    assert burst.describe_shapes(shapes) == ["2 × [Put redemptions, Update goods (shared), Update counters]"]

    scratch = {name: f"raw-{name}" for name in schema}
    first = [burst._raw_item(slot, scratch, schema, "r", "seed1") for slot in shapes[0]]
    again = [burst._raw_item(slot, scratch, schema, "r", "seed1") for slot in shapes[0]]
    other = [burst._raw_item(slot, scratch, schema, "r", "seed2") for slot in shapes[1]]
    put, goods, counter = (next(iter(item.values())) for item in first)
    # The API's item and expressions, on the scratch table under a new key.
    assert put["TableName"] == "raw-tongxin-dev-redemptions" and put["Item"]["note"] == {"S": "x" * 50}
    assert put["Item"]["id"] != {"S": "rd_u1"} and put["ConditionExpression"] == "attribute_not_exists(#burst_k)"
    assert goods["UpdateExpression"] == "SET #1 = :1 ADD #0 :0, #burst_n :burst_one"
    # The API's condition read the real item; the guard lets through as many as the burst committed on it (2).
    assert goods["ConditionExpression"] == burst.GUARD and goods["ExpressionAttributeValues"][":burst_limit"] == \
        {"N": "2"}
    assert ":2" not in goods["ExpressionAttributeValues"]  # the API condition's value, now unused, is dropped
    assert "ConditionExpression" not in counter and counter["UpdateExpression"] == "ADD #0 :0, #burst_n :burst_one"
    # A shared item keeps one key across transactions; the others are new for each, but a twin (same seed: a
    # double tap) replays the same keys, so its guards refuse it.
    assert goods["Key"] == next(iter(other[1].values()))["Key"]
    assert put["Item"]["id"] != next(iter(other[0].values()))["Item"]["id"]
    assert first == again


def test_an_update_without_add_gets_one():
    assert burst._with_counter("SET #0 = :1 REMOVE #2") == "SET #0 = :1 REMOVE #2 ADD #burst_n :burst_one"
