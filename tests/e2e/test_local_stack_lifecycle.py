"""The local stack as a developer runs it: it stops on SIGINT and SIGTERM even when started with SIGINT
ignored (nohup, CI), keeps its tables across a restart (demo seed written once), starts empty on request,
and refuses a taken port with one line and a non-zero exit. Every wait here is bounded."""
import json
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from infra.local import data as local_data
from infra.local.stack import free_port
from tests.stack import ROOT, Client, stack_command, stack_env, start_stack

pytestmark = pytest.mark.e2e

STOP_SECONDS = 30


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stops_on_signal_even_when_started_with_sigint_ignored(tmp_path, signum):
    stack = start_stack(tmp_path / "stack.log", ignore_sigint=True)
    try:
        code, output = stack.stop(signum, timeout=STOP_SECONDS)
    finally:
        if stack.process.poll() is None:
            stack.process.kill()
    assert code == 0 and output.rstrip().endswith("stopped"), output


def _community_created_at(stack) -> str:
    item = stack.dynamodb().get_item(TableName=stack.table("communities"), Key={"id": {"S": "c_demo"}})
    return item["Item"]["created_at"]["S"]


def test_data_survives_a_restart_and_fresh_starts_empty(tmp_path):
    data = tmp_path / "data"
    first = start_stack(tmp_path / "first.log", data_dir=data)
    try:
        author = Client(first.api_url).login("persist-author")
        author.adopt(author.call("POST", "/v1/me/community", {"invite": "DEMOGRID1"}))
        wish = author.call("POST", "/v1/wishes", {"title": "重启后还在", "content": "本地数据要保留", "category": "维修"})
        assert wish.status_code == 201, wish.text
        wish_id = wish.json()["id"]
        seeded_at = _community_created_at(first)
        code, output = first.stop(signal.SIGINT, timeout=STOP_SECONDS)
    finally:
        if first.process.poll() is None:
            first.process.kill()
    assert code == 0 and "saved" in output, output
    assert json.loads((data / "dynamodb.json").read_text("utf-8"))["format"] == local_data.FORMAT
    assert not list(data.glob("*.tmp"))

    second = start_stack(tmp_path / "second.log", data_dir=data)
    try:
        assert "loaded" in second.output()
        assert _community_created_at(second) == seeded_at  # the demo seed was not written again
        again = Client(second.api_url).login("persist-author")
        assert again.user["community_id"] == "c_demo"
        got = again.call("GET", f"/v1/wishes/{wish_id}")
        assert got.status_code == 200 and got.json()["title"] == "重启后还在"
        assert Client(second.api_url).login("res1").call("GET", "/v1/me").json()["points_balance"] == 200
        second.stop(signal.SIGTERM, timeout=STOP_SECONDS)
    finally:
        if second.process.poll() is None:
            second.process.kill()

    fresh = start_stack(tmp_path / "fresh.log", data_dir=data, extra_args=("--fresh",))
    try:
        assert "started empty" in fresh.output()
        assert Client(fresh.api_url).login("persist-author").user["community_id"] is None
        assert Client(fresh.api_url).login("res1").user["community_id"] == "c_demo"  # the demo seed is there
    finally:
        fresh.process.kill()  # no clean stop: the saved file must be left as it was
        fresh.process.wait(timeout=STOP_SECONDS)
    assert wish_id in (data / "dynamodb.json").read_text("utf-8")


def _run(tmp_path: Path, *extra: str, ports=None) -> subprocess.CompletedProcess:
    api, dynamodb, wechat = ports or (free_port(), free_port(), free_port())
    return subprocess.run(stack_command(api, dynamodb, wechat, tmp_path / "data", *extra), cwd=ROOT,
                          env=stack_env(), capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("which, option", [(0, "--api-port"), (1, "--dynamodb-port"), (2, "--wechat-port")])
def test_a_taken_port_is_one_line_and_a_nonzero_exit(tmp_path, which, option):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        ports = [free_port(), free_port(), free_port()]
        ports[which] = taken.getsockname()[1]
        result = _run(tmp_path, ports=ports)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0] and option in lines[0], result.stderr
    assert str(ports[which]) in lines[0]
    assert not (tmp_path / "data").exists()  # nothing was started, nothing saved


def test_an_unreadable_data_file_stops_start_up_and_is_kept(tmp_path):
    saved = tmp_path / "data" / "dynamodb.json"
    saved.parent.mkdir()
    saved.write_text("{not json", encoding="utf-8")
    result = _run(tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "dynamodb.json" in result.stderr and "--fresh" in result.stderr
    assert saved.read_text(encoding="utf-8") == "{not json"


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path):
    path = tmp_path / "dynamodb.json"
    local_data.save(path, {"t": [{"id": {"S": "yesterday"}, "blob": {"B": "AP8="}}]})
    before = path.read_bytes()
    with pytest.raises(TypeError):  # fails part-way through writing the new file
        local_data.save(path, {"t": [{"id": {"S": "today"}}, {"id": {"SS": {"not", "json"}}}]})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["dynamodb.json"]
    assert local_data.load(path) == {"t": [{"id": {"S": "yesterday"}, "blob": {"B": "AP8="}}]}


def test_make_dev_passes_ports_and_fresh_through():
    result = subprocess.run(["make", "-n", "dev", "API_PORT=8100", "DYNAMODB_PORT=8102", "WECHAT_PORT=8181",
                             "FRESH=1", "ARGS=--tick 5"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert ("-m infra.local.stack --api-port 8100 --dynamodb-port 8102 --wechat-port 8181 --fresh --tick 5"
            in result.stdout), result.stdout


def test_every_attribute_type_survives_dump_save_load_restore(tmp_path):
    import boto3
    from infra.local.embedded_dynamodb import EmbeddedDynamoDB

    item = {"id": {"S": "k"}, "n": {"N": "12.5"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01", b"\x02"]},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "null": {"NULL": True}, "bool": {"BOOL": False},
            "m": {"M": {"inner": {"B": b"\x03"}, "l": {"L": [{"S": "x"}, {"B": b"\x04"}]}}}}
    server = EmbeddedDynamoDB(port=0).start()  # moto's backend is per process: one server, table made twice
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="cn-north-1",
                              aws_access_key_id="x", aws_secret_access_key="x")

        def create():
            client.create_table(TableName="roundtrip", BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        create()
        client.put_item(TableName="roundtrip", Item=item)
        local_data.save(tmp_path / "d.json", local_data.dump(client, ["roundtrip"]))
        client.delete_table(TableName="roundtrip")
        create()
        assert local_data.restore(client, local_data.load(tmp_path / "d.json")) == (1, [])
        got = client.get_item(TableName="roundtrip", Key={"id": {"S": "k"}})["Item"]
        client.delete_table(TableName="roundtrip")
    finally:
        server.stop()
    normalise = lambda d: json.dumps(local_data._encode({"M": d}), sort_keys=True)  # noqa: E731 (sets: any order)
    assert sorted(got) == sorted(item)
    for key in item:
        if key in ("bs", "ss", "ns"):
            assert sorted(next(iter(got[key].values()))) == sorted(next(iter(item[key].values())))
        else:
            assert normalise({key: got[key]}) == normalise({key: item[key]})
