"""The embedded DynamoDB applies each request atomically, as DynamoDB does. moto's own server, on a table of
this size, gives two winners of the same race and 500s ("dictionary changed size during iteration") because
a cancelled transaction restores deep-copied table snapshots taken while other threads write."""
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.embedded_dynamodb import EmbeddedDynamoDB
from infra.local.stack import free_port

pytestmark = pytest.mark.slow
CLAIMS = 50


def _with_table(server: EmbeddedDynamoDB, name: str):
    """A boto3 client of ``server``, with a new table ``name`` (its key: the string ``id``) created there."""
    client = boto3.client("dynamodb", endpoint_url=server.url, region_name="cn-north-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    return client


def test_concurrent_claim_transactions_have_one_winner_and_lose_nothing():
    server = EmbeddedDynamoDB(port=free_port()).start()
    try:
        client = _with_table(server, "race")
        with ThreadPoolExecutor(max_workers=8) as pool:  # a table big enough for moto's copies to take time
            list(pool.map(lambda i: client.put_item(TableName="race", Item={"id": {"S": f"filler{i}"},
                                                                            "pad": {"S": "x" * 200}}), range(1500)))
        client.put_item(TableName="race", Item={"id": {"S": "wish"}, "state": {"S": "open"}})
        barrier = threading.Barrier(CLAIMS)

        def claim(n):
            barrier.wait()
            try:
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": "race", "Key": {"id": {"S": "wish"}},
                                "UpdateExpression": "SET #s = :c, claimer = :n", "ConditionExpression": "#s = :o",
                                "ExpressionAttributeNames": {"#s": "state"},
                                "ExpressionAttributeValues": {":c": {"S": "claimed"}, ":o": {"S": "open"},
                                                              ":n": {"N": str(n)}}}},
                    {"Put": {"TableName": "race", "Item": {"id": {"S": f"message{n}"}}}},
                ])
                return n
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "TransactionCanceledException", exc.response["Error"]
                return None

        with ThreadPoolExecutor(max_workers=CLAIMS) as pool:
            winners = [n for n in pool.map(claim, range(CLAIMS)) if n is not None]
        assert len(winners) == 1
        wish = client.get_item(TableName="race", Key={"id": {"S": "wish"}}, ConsistentRead=True)["Item"]
        assert wish["state"]["S"] == "claimed" and wish["claimer"]["N"] == str(winners[0])
        messages = [n for n in range(CLAIMS)
                    if "Item" in client.get_item(TableName="race", Key={"id": {"S": f"message{n}"}})]
        assert messages == winners
    finally:
        server.stop()


def test_a_transaction_sent_again_with_its_token_is_answered_from_the_first():
    """DynamoDB's ClientRequestToken: the re-send of a transaction that took effect (botocore retries one whose
    answer timed out) succeeds without applying it again; another request under the same token is refused."""
    server = EmbeddedDynamoDB(port=free_port()).start()
    try:
        client = _with_table(server, "tokens")
        put = {"Put": {"TableName": "tokens", "Item": {"id": {"S": "grid"}}, "ConditionExpression": "attribute_not_exists(id)"}}
        client.transact_write_items(TransactItems=[put], ClientRequestToken="t-1")
        client.transact_write_items(TransactItems=[put], ClientRequestToken="t-1")  # the re-send: success
        with pytest.raises(ClientError) as refused:  # a new request: its own condition decides
            client.transact_write_items(TransactItems=[put], ClientRequestToken="t-2")
        assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
        other = {"Put": {"TableName": "tokens", "Item": {"id": {"S": "other"}}}}
        with pytest.raises(ClientError) as mismatch:
            client.transact_write_items(TransactItems=[other], ClientRequestToken="t-1")
        assert "IdempotentParameterMismatch" in mismatch.value.response["Error"]["Code"]
        assert client.scan(TableName="tokens")["Count"] == 1
    finally:
        server.stop()


def test_stream_records_once_read_are_dropped_and_later_ones_keep_their_order():
    """The local stack's stream reader reads each record once; the embedded DynamoDB then drops it (moto would keep
    it, and copy it in every later transaction on the table). Later records still come, in order, with rising
    sequence numbers, and a reader that starts at LATEST afterwards sees only what follows."""
    from moto.dynamodb.models import dynamodb_backends
    server = EmbeddedDynamoDB(port=free_port()).start()
    try:
        kw = dict(endpoint_url=server.url, region_name="cn-north-1", aws_access_key_id="x", aws_secret_access_key="x")
        client, streams = boto3.client("dynamodb", **kw), boto3.client("dynamodbstreams", **kw)
        arn = client.create_table(
            TableName="outbox_trim", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        stored = dynamodb_backends["123456789012"]["cn-north-1"].tables["outbox_trim"].stream_shard

        def read():
            nonlocal iterator
            answer = streams.get_records(ShardIterator=iterator)
            iterator = answer["NextShardIterator"]
            return [(r["dynamodb"]["Keys"]["id"]["S"], int(r["dynamodb"]["SequenceNumber"])) for r in answer["Records"]]

        for n in range(3):
            client.put_item(TableName="outbox_trim", Item={"id": {"S": f"m{n}"}})
        first = read()
        assert [key for key, _ in first] == ["m0", "m1", "m2"]
        assert stored.items == []  # read, so dropped
        assert read() == []  # an empty read keeps the position
        client.put_item(TableName="outbox_trim", Item={"id": {"S": "m3"}})
        client.put_item(TableName="outbox_trim", Item={"id": {"S": "m4"}})
        second = read()
        assert [key for key, _ in second] == ["m3", "m4"]
        assert [seq for _, seq in first + second] == list(range(first[0][1], first[0][1] + 5))
        late = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        client.put_item(TableName="outbox_trim", Item={"id": {"S": "m5"}})
        assert [r["dynamodb"]["Keys"]["id"]["S"] for r in streams.get_records(ShardIterator=late)["Records"]] == ["m5"]
    finally:
        server.stop()
