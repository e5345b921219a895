"""Sign-up and give-up under contention, on the real local stack over HTTP (issue 8): 50 concurrent sign-ups for
capacity 10 → exactly 10 signed and 40 waitlisted at positions 1..40, counters equal to the stored items; then 10
concurrent give-ups → exactly 10 promotions in position order, each promoted person told once."""
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from tests.stack import Client, answer_counts, in_parallel, in_threads, stack_fixture, volunteer

pytestmark = pytest.mark.slow

CAPACITY, PEOPLE, LEAVERS = 10, 50, 10
SHANGHAI = timezone(timedelta(hours=8))


stack = stack_fixture()  # at the end, every invariant of design.md over what the module's races left


def _signups(stack, event_id) -> dict[str, dict]:
    """The stored sign-up items of the event, by user id (a consistent read of the signups table)."""
    return {item["user_id"]["S"]: item for item in stack.query_all("signups", "event_id", event_id)}


def _stored_event(stack, event_id) -> dict:
    item = stack.dynamodb().get_item(TableName=stack.table("events"), Key={"id": {"S": event_id}},
                                     ConsistentRead=True)["Item"]
    return {"signed_count": int(item.get("signed_count", {"N": "0"})["N"]),
            "waitlist_count": int(item.get("waitlist_count", {"N": "0"})["N"]), "capacity": int(item["capacity"]["N"])}


def _of_status(items: dict[str, dict], status: str) -> dict[str, dict]:
    return {user: item for user, item in items.items() if item["status"]["S"] == status}


def _position(item: dict) -> int:
    return int(item["position"]["N"])


def _promoted_messages(stack) -> Counter:
    """event_promoted outbox items per recipient (the test-only look at what the push sender would deliver)."""
    client, counts, start = stack.dynamodb(), Counter(), None
    while True:
        page = client.scan(TableName=stack.table("outbox"), FilterExpression="#k = :k",
                           ExpressionAttributeNames={"#k": "kind"},
                           ExpressionAttributeValues={":k": {"S": "event_promoted"}}, ConsistentRead=True,
                           **({"ExclusiveStartKey": start} if start else {}))
        counts.update(item["recipient_id"]["S"] for item in page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return counts


def test_fifty_signups_for_ten_places_then_ten_give_ups_promote_in_position_order(stack):
    run = uuid.uuid4().hex[:6]
    people = in_threads(lambda i: volunteer(stack.api_url, f"signup{run}-{i}"), range(PEOPLE))
    admin = Client(stack.api_url).login("admin")
    starts = (datetime.now(SHANGHAI) + timedelta(days=3)).replace(microsecond=0)
    published = admin.call("POST", "/v1/events", {
        "title": "并发报名：社区清洁", "kind": "volunteer_service", "capacity": CAPACITY,
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "description": "五十人抢十个名额"})
    assert published.status_code == 201, published.text
    event_id = published.json()["id"]
    ids = [person.user["id"] for person in people]

    # --- 50 sign-ups at the same moment ------------------------------------------------------------
    results = in_parallel(lambda p: p.call("POST", f"/v1/events/{event_id}/signup"), people)
    assert [r.status_code for r in results] == [201] * PEOPLE, answer_counts(results)
    answers = [r.json() for r in results]
    assert Counter(a["status"] for a in answers) == {"signed": CAPACITY, "waitlisted": PEOPLE - CAPACITY}, answers
    assert all(a["event_id"] == event_id for a in answers)
    signed = {uid for uid, a in zip(ids, answers) if a["status"] == "signed"}
    assert all(a["position"] is None for a in answers if a["status"] == "signed")
    answered_position = {uid: a["position"] for uid, a in zip(ids, answers) if a["status"] == "waitlisted"}
    positions = sorted(answered_position.values())
    assert positions == list(range(1, PEOPLE - CAPACITY + 1)), positions
    assert max(a["event"]["signed_count"] for a in answers) == CAPACITY  # never above the capacity, in any answer

    items = _signups(stack, event_id)
    stored_signed, stored_waiting = _of_status(items, "signed"), _of_status(items, "waitlisted")
    event = _stored_event(stack, event_id)
    assert len(items) == PEOPLE, sorted(Counter(i["status"]["S"] for i in items.values()).items())
    assert len(stored_signed) == CAPACITY == event["signed_count"], (len(stored_signed), event)
    assert len(stored_waiting) == PEOPLE - CAPACITY == event["waitlist_count"], (len(stored_waiting), event)
    assert set(stored_signed) == signed and set(stored_waiting) == set(answered_position)
    stored_positions = [_position(item) for item in stored_waiting.values()]
    assert len(set(stored_positions)) == len(stored_positions), sorted(Counter(stored_positions).items())
    # The stored queue is the answered queue: ordered by stored position, the users come in answered order.
    assert sorted(stored_waiting, key=lambda u: _position(stored_waiting[u])) == \
        sorted(answered_position, key=answered_position.get)

    # --- 10 of the signed give up at the same moment ------------------------------------------------
    leavers = [p for p in people if p.user["id"] in signed][:LEAVERS]
    left = in_parallel(lambda p: p.call("DELETE", f"/v1/events/{event_id}/signup"), leavers)
    assert [r.status_code for r in left] == [200] * LEAVERS, answer_counts(left)
    assert [r.json()["status"] for r in left] == ["cancelled"] * LEAVERS

    first_ten = {uid for uid, position in answered_position.items() if position <= LEAVERS}
    still_waiting = {uid: position for uid, position in answered_position.items() if position > LEAVERS}
    items = _signups(stack, event_id)
    stored_signed, stored_waiting = _of_status(items, "signed"), _of_status(items, "waitlisted")
    event = _stored_event(stack, event_id)
    promoted = set(stored_signed) & set(answered_position)
    assert len(promoted) == LEAVERS, f"{len(promoted)} promotions for {LEAVERS} give-ups"
    assert promoted == first_ten, {"promoted_positions": sorted(answered_position[u] for u in promoted)}
    assert set(stored_signed) == (signed - {p.user["id"] for p in leavers}) | first_ten
    assert len(stored_signed) == CAPACITY == event["signed_count"], (len(stored_signed), event)
    assert set(stored_waiting) == set(still_waiting)
    assert len(stored_waiting) == PEOPLE - CAPACITY - LEAVERS == event["waitlist_count"], (len(stored_waiting), event)
    stored_positions = [_position(item) for item in stored_waiting.values()]
    assert len(set(stored_positions)) == len(stored_positions), sorted(Counter(stored_positions).items())
    for leaver in leavers:
        assert leaver.user["id"] not in stored_signed and leaver.user["id"] not in stored_waiting

    # Each promoted person is told exactly once; nobody else of this event is told of a promotion.
    messages = _promoted_messages(stack)
    assert {uid: messages[uid] for uid in promoted} == {uid: 1 for uid in promoted}, dict(messages)
    assert {uid: messages[uid] for uid in set(ids) - promoted if messages[uid]} == {}, dict(messages)

    # What the promoted and the still-waiting see over HTTP: signed; the queue moved up by ten (1 = next).
    by_id = {p.user["id"]: p for p in people}
    for uid in sorted(first_ten):
        view = by_id[uid].call("GET", f"/v1/events/{event_id}")
        assert view.status_code == 200 and (view.json()["my_status"], view.json()["position"]) == ("signed", None), \
            view.text[:300]
    seen = {}
    for uid, position in still_waiting.items():
        view = by_id[uid].call("GET", f"/v1/events/{event_id}")
        assert view.status_code == 200 and view.json()["my_status"] == "waitlisted", view.text[:300]
        seen[position] = view.json()["position"]
    assert seen == {position: position - LEAVERS for position in still_waiting.values()}, seen
