"""infra/local/moto_transactions.py: transactions that copy the items they write, not the tables they touch, must
answer and store exactly what moto's own implementation does — the same transactions are played against both
on twin tables and everything observable compared: the answer (success, or the cancellation reasons with the
item returned), the items, and the stream records."""
import uuid

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

from infra.local import moto_transactions


def _table(client, name):
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def _key(pk, sk="-"):
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _script(table):
    """Transactions of every kind: all good; a failed condition in the middle (with ALL_OLD); an update that
    fails while being applied, after a Put and an Update of the same transaction took effect; two operations on
    one item; a ConditionCheck with a Delete; an unknown table."""
    put = lambda pk, **extra: {"Put": {"TableName": table, "Item": {**_key(pk), **extra}}}  # noqa: E731
    return [
        [put("a", n={"N": "1"}, s={"S": "text"}), put("b", n={"N": "5"}),
         {"Update": {"TableName": table, "Key": _key("c"), "UpdateExpression": "ADD n :one",
                     "ExpressionAttributeValues": {":one": {"N": "1"}}}}],
        [put("d"),
         {"Update": {"TableName": table, "Key": _key("a"), "UpdateExpression": "ADD n :one",
                     "ConditionExpression": "n > :five", "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                     "ExpressionAttributeValues": {":one": {"N": "1"}, ":five": {"N": "5"}}}},
         put("e")],
        [put("f"),
         {"Update": {"TableName": table, "Key": _key("b"), "UpdateExpression": "ADD n :one",
                     "ExpressionAttributeValues": {":one": {"N": "1"}}}},
         {"Update": {"TableName": table, "Key": _key("a"), "UpdateExpression": "ADD s :one",
                     "ExpressionAttributeValues": {":one": {"N": "1"}}}}],
        [put("g"), {"Delete": {"TableName": table, "Key": _key("g")}}],
        [{"ConditionCheck": {"TableName": table, "Key": _key("a"), "ConditionExpression": "attribute_exists(pk)"}},
          {"Delete": {"TableName": table, "Key": _key("b"), "ConditionExpression": "n = :five",
                     "ExpressionAttributeValues": {":five": {"N": "5"}}}}],
        [{"ConditionCheck": {"TableName": table, "Key": _key("a"), "ConditionExpression": "attribute_exists(pk)"}},
         {"Delete": {"TableName": table, "Key": _key("c")}}],
        [put("h"), {"Put": {"TableName": "no-such-table-" + table, "Item": _key("x")}}],
    ]


def _play(client, table):
    answers = []
    for items in _script(table):
        try:
            client.transact_write_items(TransactItems=items)
            answers.append("ok")
        except ClientError as exc:
            error = exc.response["Error"]
            reasons = [(r.get("Code"), r.get("Item")) for r in exc.response.get("CancellationReasons", [])]
            answers.append((error["Code"], reasons))
    items = sorted(client.scan(TableName=table)["Items"], key=lambda i: i["pk"]["S"])
    return answers, items


def _stream(table_name, region):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables[table_name]
    return [(r.record["eventName"], r.record["dynamodb"]["Keys"]["pk"]["S"], r.record["dynamodb"].get("NewImage"))
            for r in table.stream_shard.items]


@pytest.fixture
def client(container):
    from tongxin.adapters.dynamo import binding
    return binding.connection().client


def test_the_same_transactions_answer_and_store_the_same_as_motos_own(client, container):
    ours, theirs = f"tx-ours-{uuid.uuid4().hex[:6]}", f"tx-moto-{uuid.uuid4().hex[:6]}"
    _table(client, ours)
    _table(client, theirs)
    installed = DynamoDBBackend.transact_write_items
    assert installed is moto_transactions.transact_write_items  # the suite runs on ours
    played_ours = _play(client, ours)
    DynamoDBBackend.transact_write_items = moto_transactions.MOTO_ORIGINAL
    try:
        played_theirs = _play(client, theirs)
    finally:
        DynamoDBBackend.transact_write_items = installed
    assert played_ours == played_theirs
    answers, items = played_ours
    # What the script means, so the comparison cannot pass on two equally wrong answers:
    assert answers[0] == "ok" and answers[3][0] == "ValidationException"
    assert [code for code, _ in answers[1][1]] == ["None", "ConditionalCheckFailed", "None"]
    assert answers[1][1][1][1]["n"] == {"N": "1"}  # ALL_OLD: the item as it stood
    assert answers[2][0] == "ValidationException"  # refused while applied: f and b's increment undone
    assert answers[4] == "ok" and answers[5] == "ok"  # b (still 5) and c deleted
    assert answers[6][0] == "ResourceNotFoundException"  # an unknown table: the whole request refused
    assert {i["pk"]["S"]: i.get("n") for i in items} == {"a": {"N": "1"}}
    region = container.settings.aws_region
    assert _stream(ours, region) == _stream(theirs, region)
    # moto records an update that creates its item as two INSERTs; undone writes leave no record
    assert [(event, pk) for event, pk, _ in _stream(ours, region)] == [
        ("INSERT", "a"), ("INSERT", "b"), ("INSERT", "c"), ("INSERT", "c"), ("REMOVE", "b"), ("REMOVE", "c")]
