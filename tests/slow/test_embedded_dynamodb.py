"""The embedded DynamoDB applies each request atomically, as DynamoDB does (moto's own server does not)."""
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.embedded_dynamodb import EmbeddedDynamoDB
from infra.local_stack import free_port

pytestmark = pytest.mark.slow


def test_fifty_conditional_updates_of_one_item_have_one_winner():
    server = EmbeddedDynamoDB(port=free_port()).start()
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="cn-north-1",
                              aws_access_key_id="x", aws_secret_access_key="x")
        client.create_table(TableName="race", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        client.put_item(TableName="race", Item={"id": {"S": "one"}, "state": {"S": "open"}})
        barrier = threading.Barrier(50)

        def claim(n):
            barrier.wait()
            try:
                client.update_item(TableName="race", Key={"id": {"S": "one"}},
                                   UpdateExpression="SET #s = :c, claimer = :n", ConditionExpression="#s = :o",
                                   ExpressionAttributeNames={"#s": "state"},
                                   ExpressionAttributeValues={":c": {"S": "claimed"}, ":o": {"S": "open"},
                                                              ":n": {"N": str(n)}})
                return n
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
                return None

        with ThreadPoolExecutor(max_workers=50) as pool:
            winners = [n for n in pool.map(claim, range(50)) if n is not None]
        assert len(winners) == 1
        item = client.get_item(TableName="race", Key={"id": {"S": "one"}}, ConsistentRead=True)["Item"]
        assert item["claimer"]["N"] == str(winners[0])
    finally:
        server.stop()
