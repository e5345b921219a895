"""The harness of the in-process benches: the real API (the Chalice app, its middleware included) on in-process moto,
with the DynamoDB calls and the items they read counted per request.

    from infra.proof.bench_moto import moto_api

    with moto_api() as api:                     # inside mock_aws, the tables created, the container set
        ...seed with the models...
        token = api.token("u_admin", community_id=cid, roles={"resident", "admin"})
        got = api.measure("GET", "/v1/wishes", token)
        got.status, got.calls, got.items_read, got.by_call, got.json()

Importing this module puts layers/ and functions/api/ on the path and sets the environment the app needs, before
anything imports the layer (the benches import it lazily, inside ``moto_api``).
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for sub in ("layers", "functions/api", ""):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "TONGXIN_STAGE": "test", "POWERTOOLS_LOG_LEVEL": "ERROR"})
os.environ.pop("AWS_PROFILE", None)


class Meter:
    """DynamoDB calls by operation and the items they read: what a Query or Scan examined (ScannedCount, which
    is what it is billed on, not what it returned), the item a GetItem found, the items a BatchGetItem returned."""

    def __init__(self):
        self.calls, self.items, self.score_writes = Counter(), 0, 0

    def reset(self) -> None:
        self.calls, self.items = Counter(), 0

    def figures(self) -> dict:
        return {"calls": sum(self.calls.values()), "items_read": self.items, "by_call": dict(self.calls)}

    def after_call(self, http_response, parsed, model, **kwargs):
        self.calls[model.name] += 1
        if model.name in ("Query", "Scan"):
            self.items += parsed.get("ScannedCount", 0)
        elif model.name == "GetItem":
            self.items += int("Item" in parsed)
        elif model.name == "BatchGetItem":
            self.items += sum(len(items) for items in parsed.get("Responses", {}).values())

    def before_transact_write(self, params, model, **kwargs):
        """The score items (tables ending ``-scores``) a TransactWriteItems writes, added to ``score_writes``."""
        for item in params.get("TransactItems", []):
            (op,) = item.values()
            self.score_writes += op.get("TableName", "").endswith("-scores")


@dataclass
class Measured:
    """One request's answer and what it cost."""
    status: int
    body: bytes
    calls: int
    items_read: int
    by_call: dict

    def json(self) -> dict:
        return json.loads(self.body)

    def row(self, **shown) -> dict:
        """status, calls, items_read, then ``shown`` (what the bench reads off the answer), then by_call: the
        order the benches' --json rows have always had."""
        return {"status": self.status, "calls": self.calls, "items_read": self.items_read, **shown,
                "by_call": self.by_call}


@dataclass
class MotoApi:
    settings: object
    app: object  # the Chalice app (functions/api/app.py)
    client: object  # chalice.test.Client around it
    meter: Meter

    def token(self, user_id: str, community_id: str | None, roles: set[str]) -> str:
        from tongxin.adapters import tokens
        return tokens.issue(self.settings, user_id=user_id, community_id=community_id, roles=roles,
                            grid_ids=(), store_ids=())[0]

    def measure(self, method: str, path: str, token: str) -> Measured:
        self.meter.reset()
        resp = getattr(self.client.http, method.lower())(path, headers={"authorization": f"Bearer {token}"})
        body = resp.body if isinstance(resp.body, bytes) else resp.body.encode()
        return Measured(status=resp.status_code, body=body, **self.meter.figures())


@contextmanager
def moto_api(count_score_writes: bool = False):
    """In-process moto with every table created and the container set, the meter registered on the shared DynamoDB
    client (every model's calls and the app's go through it), and a test client of the API (its use cases load on
    their first request, as on a cold Lambda, so seeding before the first request is what it was)."""
    from moto import mock_aws
    with mock_aws():
        from chalice.test import Client
        from tongxin.adapters.dynamo import binding
        from tongxin.config import Settings
        from tongxin.wiring import Container, set_container

        settings = Settings(stage="test", table_prefix="bench", dynamodb_endpoint=None, aws_region="us-east-1",
                            wechat_base_url="http://127.0.0.1:9/", token_secret="bench-" + "b" * 32)
        set_container(Container(settings))
        binding.create_tables(settings)
        meter = Meter()
        events = binding.connection().client.meta.events
        if count_score_writes:
            events.register("before-parameter-build.dynamodb.TransactWriteItems", meter.before_transact_write)
        events.register("after-call.dynamodb.*", meter.after_call)
        import app
        with Client(app.app, stage_name="dev") as client:
            yield MotoApi(settings=settings, app=app.app, client=client, meter=meter)
