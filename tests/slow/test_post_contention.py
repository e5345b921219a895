"""领岗 under contention, on the real local stack over HTTP (issue 23, part C): 20 party members claim a post of headcount
5 (and one of headcount 1) at the same moment → exactly the headcount succeed, the rest 409 POST_FULL, never a 5xx;
``claimed_count`` equals the headcount and the stored claims, the post is ``full``, the community's admins are told
once (one ``post_full`` fan-out), and each successful claimer's service record counts one ``post``."""
import json
import uuid

import pytest

from tests.stack import Client, answer_counts, in_parallel, in_threads, party_member, stack_fixture
from tongxin.domain.clock import utcnow
from tongxin.domain.party import quarter_of

pytestmark = pytest.mark.slow

PEOPLE = 20


stack = stack_fixture()


def _stored(stack, post_id):
    db = stack.dynamodb()
    post = db.get_item(TableName=stack.table("posts"), Key={"id": {"S": post_id}}, ConsistentRead=True)["Item"]
    claims = db.query(TableName=stack.table("post_claims"), KeyConditionExpression="post_id = :p",
                      ExpressionAttributeValues={":p": {"S": post_id}}, ConsistentRead=True)["Items"]
    return post, {item["user_id"]["S"] for item in claims}


def _full_messages(stack, post_id) -> int:
    client, found, start = stack.dynamodb(), 0, None
    while True:
        page = client.scan(TableName=stack.table("outbox"), FilterExpression="#k = :k",
                           ExpressionAttributeNames={"#k": "kind"}, ExpressionAttributeValues={":k": {"S": "post_full"}},
                           ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {}))
        found += sum(1 for item in page["Items"] if item["recipient_id"]["S"] == "*"
                     and json.loads(item["data"]["S"]).get("post_id") == post_id)
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def _post_services(stack, user_ids) -> dict[str, int]:
    quarter = quarter_of(utcnow())
    db = stack.dynamodb()
    counted = {}
    for user_id in user_ids:
        item = db.get_item(TableName=stack.table("counters"), Key={"key": {"S": f"service#{user_id}#{quarter}"}},
                           ConsistentRead=True).get("Item", {})
        counted[user_id] = int(item.get("post", {"N": "0"})["N"])
    return counted


@pytest.fixture(scope="module")
def people(stack):
    admin = Client(stack.api_url).login("admin")
    run = uuid.uuid4().hex[:6]
    members = in_threads(lambda i: party_member(stack.api_url, admin, f"claim{run}-{i}"), range(PEOPLE), threads=4)
    return admin, members


@pytest.mark.parametrize("headcount", [5, 1])
def test_twenty_claims_fill_a_post_exactly_at_its_headcount(stack, people, headcount):
    admin, members = people
    published = admin.call("POST", "/v1/admin/posts", {"title": f"并发领岗{headcount}", "description": "二十人抢名额",
                                                       "skills": ["沟通"], "headcount": headcount})
    assert published.status_code == 201, published.text
    post_id = published.json()["id"]
    ids = [m.user["id"] for m in members]
    before = _post_services(stack, ids)

    results = in_parallel(lambda m: m.call("POST", f"/v1/posts/{post_id}/claim"), members)
    summary = answer_counts(results)
    assert all(r.status_code < 500 for r in results), summary
    assert summary == {"200": headcount, "409 POST_FULL": PEOPLE - headcount}, summary
    winners = {uid for uid, r in zip(ids, results) if r.status_code == 200}
    answers = [r.json() for r in results if r.status_code == 200]
    assert all(a["mine"] and 1 <= a["claimed_count"] <= headcount for a in answers), answers
    # The claim that took the last place knows it exactly (its condition named the count) and says full; the others
    # answer the count as they read it plus their own place (claims that do not fill commute: no rebuild round).
    assert [(a["status"], a["claimed_count"]) for a in answers if a["status"] == "full"] == [("full", headcount)]

    post, claimants = _stored(stack, post_id)
    assert int(post["claimed_count"]["N"]) == headcount and post["status"]["S"] == "full"
    assert claimants == winners
    assert _full_messages(stack, post_id) == 1
    after = _post_services(stack, ids)
    assert {uid: after[uid] - before[uid] for uid in ids} == {uid: int(uid in winners) for uid in ids}
    view = admin.call("GET", f"/v1/posts/{post_id}")
    assert view.status_code == 200 and {c["user"]["id"] for c in view.json()["claimants"]} == winners
