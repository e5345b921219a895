"""Export and import of one community against the real local stack (``make dev``'s, over HTTP and moto's server):
the operator's commands as the README runs them (no endpoint named: found in the stack's endpoints file), the
stack's tables emptied through DynamoDB's API in between, the same reads over HTTP before and after, importing
twice refused. tests/integration/test_community_export.py covers every area in-process; this is the path an
operator takes."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from tests.stack import ROOT, Client, stack_env, stack_fixture
from tongxin.adapters.dynamo.models import ALL_MODELS
from tongxin.export.wire import key_names

pytestmark = pytest.mark.e2e

stack = stack_fixture("community-export")
SHANGHAI = timezone(timedelta(hours=8))


def cli(stack, *argv: str) -> subprocess.CompletedProcess:
    env = {**stack_env(), "TONGXIN_STAGE": "dev", "TONGXIN_LOCAL_DATA": str(stack.log.parent / "data")}
    return subprocess.run([sys.executable, "-m", "tongxin.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def items_of(stack) -> dict[str, list[dict]]:
    client, found = stack.dynamodb(), {}
    for model in ALL_MODELS:
        kwargs, items = {"TableName": stack.table(model.TABLE), "ConsistentRead": True}, []
        while True:
            page = client.scan(**kwargs)
            items += page["Items"]
            if not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found[model.TABLE] = items
    return found


def settled(stack, timeout: float = 20) -> None:
    """The stack's sender (the outbox stream's handler, a thread of the stack) done with every message: an export
    taken while it still writes would race it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(m.get("status", {}).get("S") not in ("pending", "sending") for m in items_of(stack)["outbox"]):
            return
        time.sleep(0.5)
    raise AssertionError("the local stack's sender did not finish its messages")


def reads(stack, wish_id: str) -> dict:
    today = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    window = urlencode({"from": (today - timedelta(days=30)).isoformat(),
                        "to": (today + timedelta(days=2)).isoformat()})
    asks = {"res1": ["/v1/me", "/v1/wishes", f"/v1/wishes/{wish_id}", "/v1/me/points", "/v1/redemptions/mine"],
            "vol1": ["/v1/me", "/v1/wishes/claimed", "/v1/me/points", "/v1/leaderboard?period=all"],
            "admin": ["/v1/admin/members", f"/v1/admin/stats?{window}", "/v1/events/ev_demo3/roster"]}
    answers = {}
    for name, paths in asks.items():
        person = Client(stack.api_url).login(name)
        for path in paths:
            resp = person.call("GET", path)
            assert resp.status_code == 200, (name, path, resp.text)
            answers[f"{name} GET {path}"] = resp.json()
    return answers


def test_export_wipe_import_through_the_operators_commands(stack, tmp_path):
    res1, vol1, vol2 = (Client(stack.api_url).login(name) for name in ("res1", "vol1", "vol2"))
    wish = res1.call("POST", "/v1/wishes", {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮", "category": "维修"})
    assert wish.status_code == 201, wish.text
    wish_id = wish.json()["id"]
    for path, who, body in ((f"/v1/wishes/{wish_id}/claim", vol1, None),
                            (f"/v1/wishes/{wish_id}/fulfil", vol1, {"note": "换了新灯泡"}),
                            (f"/v1/wishes/{wish_id}/confirm", res1, {"rating": 5})):
        assert who.call("POST", path, body).status_code == 200
    for who in (vol1, vol2):
        assert who.call("POST", "/v1/events/ev_demo3/signup").status_code == 201
    assert res1.call("POST", "/v1/redemptions", {"goods_id": "goods_demo3", "quantity": 1}).status_code == 201
    settled(stack)
    before = reads(stack, wish_id)

    target = tmp_path / "c_demo.jsonl"
    exported = cli(stack, "export-community", "c_demo", "--out", str(target))
    assert exported.returncode == 0, exported.stderr
    header = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    assert header["community_id"] == "c_demo" and header["counts"]["wishes"] == 1
    assert json.loads(exported.stdout)["items"] == header["items"]
    again = cli(stack, "export-community", "c_demo", "--out", str(target))  # never over an earlier export
    assert again.returncode == 1 and "File exists" in again.stderr

    client = stack.dynamodb()
    for table, items in items_of(stack).items():
        deletes = [{"DeleteRequest": {"Key": {k: item[k] for k in key_names(table)}}} for item in items]
        for start in range(0, len(deletes), 25):
            client.batch_write_item(RequestItems={stack.table(table): deletes[start:start + 25]})
    assert not any(items_of(stack).values())

    imported = cli(stack, "import-community", str(target))
    assert imported.returncode == 0, imported.stderr
    assert sum(json.loads(imported.stdout)["written"].values()) == header["items"]
    twice = cli(stack, "import-community", str(target))
    assert twice.returncode == 1 and "community c_demo already exists" in twice.stderr
    settled(stack)
    assert stack.invariant_violations() == []
    assert reads(stack, wish_id) == before
