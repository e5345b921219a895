"""Exact call counts of the routes that matter (issue 7): one write per change with the Idempotency-Key inside it,
no re-reads, a replay is one read; and proof that the budget check itself bites."""
import uuid

from tests import budget
from tests.budget import Meter

WISH = {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮", "category": "维修", "contact_phone": "13812345678"}


def metered(member, method, path, body=None, headers=None):
    """The request and the calls it made (the Api client checks the budget too; here we look at exact counts)."""
    resp = member.api.request(method, path, token=member.token, json_body=body, headers=headers)
    return resp, member.api.last_meter


def test_a_claim_is_two_reads_and_one_write_with_its_key_inside(community):
    author, volunteer = community.resident(0), community.volunteer(0)
    wish = author.post("/v1/wishes", WISH).json
    key = str(uuid.uuid4())
    resp, meter = metered(volunteer, "POST", f"/v1/wishes/{wish['id']}/claim", headers={"Idempotency-Key": key})
    assert resp.status == 200
    assert meter.dynamo == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1}, meter.dynamo
    replay, meter = metered(volunteer, "POST", f"/v1/wishes/{wish['id']}/claim", headers={"Idempotency-Key": key})
    assert replay.status == 200 and replay.json == resp.json and replay.headers.get("Idempotent-Replayed") == "true"
    assert meter.dynamo == {"BatchGetItem": 1}, meter.dynamo  # the caller and the record: one read, no write


def test_reads_are_the_caller_and_one_read(community):
    author = community.resident(0)
    wish = author.post("/v1/wishes", WISH).json
    for path in ("/v1/wishes", f"/v1/wishes/{wish['id']}", "/v1/wishes/mine", "/v1/wishes?grid_id="
                 + community.grid_ids[0] + "&category=维修", "/v1/wishes?status=open&category=维修"):
        resp, meter = metered(author, "GET", path)
        assert resp.status == 200 and meter.reads == 2 and meter.writes == 0, (path, meter.dynamo)


def test_publish_is_two_reads_one_content_check_and_one_write(community):
    author = community.resident(0)
    author.post("/v1/wishes", WISH)  # the deployment's access_token is fetched once, before
    resp, meter = metered(author, "POST", "/v1/wishes", WISH, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert resp.status == 201
    assert meter.dynamo == {"BatchGetItem": 2, "TransactWriteItems": 1}, meter.dynamo
    assert meter.wechat == {"wxa/msg_sec_check": 1}, meter.wechat


def test_a_refusal_under_a_key_is_stored_by_one_write_and_replayed(community):
    member = community.resident(0)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first, meter = metered(member, "POST", "/v1/wishes/w_nothing/claim", headers=key)
    assert first.status == 403 and meter.writes == 1
    again, meter = metered(member, "POST", "/v1/wishes/w_nothing/claim", headers=key)
    assert again.json == first.json and meter.writes == 0 and meter.reads == 1


def test_the_budget_check_names_the_route_and_what_it_overspent():
    meter = Meter()
    meter.dynamo.update({"GetItem": 3, "TransactWriteItems": 2})
    problem = budget.overspent("POST", "/v1/wishes/w_x/claim", meter)
    assert "POST /v1/wishes/{wish_id}/claim" in problem and "3 reads > 2" in problem and "2 writes > 1" in problem
    meter = Meter()
    meter.dynamo.update({"GetItem": 1, "Query": 1})
    assert budget.overspent("GET", "/v1/wishes?limit=5", meter) is None
    meter.wechat.update({"wxa/msg_sec_check": 1})
    assert "WeChat" in budget.overspent("GET", "/v1/wishes", meter)
