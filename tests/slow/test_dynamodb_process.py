"""The local stack's embedded DynamoDB in a process of its own (infra/local/dynamodb_process.py): it serves on the port
the stack bound, keeps connections alive, no signal to the stack's group reaches it, and it never outlives the
stack. Its answers are moto's, byte for byte, with attribute values written as stored."""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection

import boto3
import pytest

from infra.local.dynamodb_process import DynamoDBProcess
from infra.local.stack import ROOT

pytestmark = pytest.mark.slow
SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/cn-north-1/dynamodb/aws4_request, "
                           "SignedHeaders=host, Signature=0", "Content-Type": "application/x-amz-json-1.0"}


def _client(url: str):
    return boto3.client("dynamodb", endpoint_url=url, region_name="cn-north-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_it_serves_on_one_kept_connection_apart_from_the_group_and_ends_when_stopped():
    dynamodb = DynamoDBProcess(port=0).start().wait_ready()
    try:
        child = dynamodb.process.pid
        assert os.getsid(child) != os.getsid(0)  # Ctrl-C and kill -- -<pgid> reach the stack only
        client = _client(dynamodb.url)
        client.create_table(TableName="kept", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        connection = HTTPConnection("127.0.0.1", dynamodb.port, timeout=10)
        for n in range(3):  # one connection, three answers
            connection.request("POST", "/", body=json.dumps({"TableName": "kept", "Item": {"id": {"S": f"k{n}"}}}),
                               headers={**SIGNED, "X-Amz-Target": "DynamoDB_20120810.PutItem"})
            answer = connection.getresponse()
            assert answer.status == 200 and answer.getheader("Connection") != "close", answer.read()
            answer.read()
        assert client.scan(TableName="kept")["Count"] == 3
        connection.close()
    finally:
        dynamodb.stop()
    assert _gone(child, 1)
    with pytest.raises(ConnectionRefusedError):  # the port is free again
        socket.create_connection(("127.0.0.1", dynamodb.port), timeout=2)


def test_a_taken_port_is_refused_in_the_stack_before_any_child_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(OSError):
            DynamoDBProcess(port=taken.getsockname()[1])


def test_a_stack_killed_without_a_word_takes_its_dynamodb_along(tmp_path):
    script = ("import sys; from infra.local.dynamodb_process import DynamoDBProcess;"
              "d = DynamoDBProcess(port=0).start().wait_ready(); print(d.process.pid, flush=True);"
              "import time; time.sleep(60)")
    stack = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        child = int(stack.stdout.readline())
        os.kill(stack.pid, signal.SIGKILL)
        stack.wait(timeout=10)
        assert _gone(child), "the embedded DynamoDB outlived its stack"
    finally:
        if stack.poll() is None:
            stack.kill()


def test_attribute_values_are_answered_as_moto_answers_them():
    """Written as stored (S, N, BOOL, NULL) or through moto's model (binary, sets, maps, lists): the same bytes."""
    from moto.core.serialize import JSONSerializer

    from infra.local.embedded_dynamodb import EmbeddedDynamoDB
    server = EmbeddedDynamoDB(port=0).start()
    shortcut = JSONSerializer._serialize_type_structure
    try:
        client = _client(server.url)
        client.create_table(TableName="kinds", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        item = {"id": {"S": "k"}, "s": {"S": "社区"}, "empty": {"S": ""}, "n": {"N": "12.5"}, "t": {"BOOL": True},
                "f": {"BOOL": False}, "null": {"NULL": True}, "b": {"B": b"\x00\xff"}, "ss": {"SS": ["a", "b"]},
                "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01"]},
                "m": {"M": {"inner": {"S": "x"}, "l": {"L": [{"N": "1"}, {"B": b"\x02"}, {"M": {}}]}}}}
        client.put_item(TableName="kinds", Item=item)
        bodies = []
        client.meta.events.register("after-call.dynamodb", lambda http_response, **_: bodies.append(
            http_response.content))

        def answers() -> list[bytes]:
            bodies.clear()
            client.get_item(TableName="kinds", Key={"id": {"S": "k"}})
            client.scan(TableName="kinds")
            client.batch_get_item(RequestItems={"kinds": {"Keys": [{"id": {"S": "k"}}]}})
            return list(bodies)

        written = answers()
        JSONSerializer._serialize_type_structure = shortcut.modelled
        modelled = answers()
    finally:
        JSONSerializer._serialize_type_structure = shortcut
        server.stop()
    assert written == modelled
    got = json.loads(written[0])["Item"]
    assert got["b"] == {"B": base64.b64encode(b"\x00\xff").decode()} and got["null"] == {"NULL": True}
