"""No false 409 after a retried write (issue 7): a write takes effect, its answer is lost (the client times out)
and botocore sends it again. Every write is a transaction with a ClientRequestToken, which DynamoDB (and, in
the tests, the harness that gives moto DynamoDB's semantics) answers from the first attempt: the user gets the
success, and nothing happens twice."""
from tongxin.adapters.dynamo.models import GridModel, OutboxModel, WishModel

WISH = {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮", "category": "维修"}


def _outbox(wish_id, kind):
    return [m for m in OutboxModel.scan() if m.kind == kind and m.data.get("wish_id") == wish_id]


def test_a_claim_whose_answer_was_lost_is_200_not_409(community, dynamodb_faults):
    author, volunteer = community.resident(0), community.volunteer(0)
    wish = author.post("/v1/wishes", WISH).json
    dynamodb_faults.time_out_after("TransactWriteItems")
    resp = volunteer.post(f"/v1/wishes/{wish['id']}/claim")
    assert resp.status == 200 and resp.json["status"] == "claimed", resp.body
    assert not dynamodb_faults.timeouts_after_write["TransactWriteItems"]  # the fault did fire
    assert WishModel.get(wish["id"], consistent_read=True).claimer_id == volunteer.id
    assert len(_outbox(wish["id"], "wish_claimed")) == 1


def test_a_retried_single_item_write_does_not_fail_its_own_condition(community, dynamodb_faults):
    """Creating a grid is one conditional Put (id must not exist): re-executed, it would refuse itself."""
    dynamodb_faults.time_out_after("TransactWriteItems")
    resp = community.admin.post("/v1/admin/grids", {"name": "重试网格"})
    assert resp.status == 201, resp.body
    assert [g.name for g in GridModel.query(community.id)].count("重试网格") == 1


def test_a_second_identical_request_is_not_a_retry(community):
    """Only botocore's re-send of the same attempt shares the token: a user's second claim is a new request."""
    author, volunteer = community.resident(0), community.volunteer(0)
    wish = author.post("/v1/wishes", WISH).json
    assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    again = volunteer.post(f"/v1/wishes/{wish['id']}/claim")
    assert again.status == 409 and again.error_code == "ALREADY_CLAIMED"
