"""Read and write request units per route, measured: every DynamoDB call a route makes (the API through the Chalice
test client on moto, as the test suite runs it) priced the way DynamoDB bills on-demand tables:

- GetItem: ceil(item / 4 KB) RRU (half when eventually consistent), a missing item the minimum;
- BatchGetItem: the same per key; Query: ceil(sum of the items read / 4 KB), half (an index is always eventual);
- TransactWriteItems: 2 WRU per 1 KB of each item (the larger of before and after), ConditionCheck included;
  a plain UpdateItem 1 WRU per KB;
- each global secondary index an item is in (before or after): its projected entry rewritten, 1 WRU per KB (2 when
  the index key changed: the old entry deleted, the new put);
- storage: each item + 100 bytes, each index entry (projection + keys) + 100 bytes.

    .venv/bin/python -m infra.proof.cost_units [--json out.json]      (docs/cost.md's per-route table)
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import sys
import threading
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

# The repository: this file's parent's parent once it lives in infra/; TONGXIN_ROOT when run from elsewhere.
ROOT = Path(os.environ.get("TONGXIN_ROOT") or Path(__file__).resolve().parents[2])
for sub in (ROOT, ROOT / "layers", ROOT / "functions" / "api"):
    sys.path.insert(0, str(sub))
os.environ.update({"AWS_ACCESS_KEY_ID": "cost", "AWS_SECRET_ACCESS_KEY": "cost", "AWS_DEFAULT_REGION": "us-east-1",
                   "TONGXIN_STAGE": "test", "POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true",
                   "CALL_REPORT_ONLY": "1"})
os.environ.pop("AWS_PROFILE", None)


# --- item sizes (DynamoDB's rules) -----------------------------------------------------------------------------

def value_size(value: dict) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(v)) if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in v)
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(e) for k, e in v.items())
    raise ValueError(kind)


def item_size(item: dict | None) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in (item or {}).items())


# --- the schema, from the models ---------------------------------------------------------------------------------

class Schema:
    def __init__(self, settings):
        from pynamodb.indexes import GlobalSecondaryIndex
        from tongxin.adapters.dynamo.models import ALL_MODELS
        self.tables: dict[str, dict] = {}
        for model in ALL_MODELS:
            keys = [a.attr_name for a in model.get_attributes().values() if a.is_hash_key or a.is_range_key]
            indexes = {}
            for index in model._indexes.values():
                if not isinstance(index, GlobalSecondaryIndex):
                    continue
                index_keys = [a.attr_name for a in index.Meta.attributes.values() if a.is_hash_key or a.is_range_key]
                projection = index.Meta.projection.projection_type
                included = list(getattr(index.Meta.projection, "non_key_attributes", None) or ())  # INCLUDE
                indexes[index.Meta.index_name] = (index_keys, projection, included)
            self.tables[model.Meta.table_name] = {"name": model.TABLE, "keys": keys, "indexes": indexes}

    def key_of(self, table: str, item: dict) -> dict:
        return {k: item[k] for k in self.tables[table]["keys"] if k in item}

    def entry(self, table: str, index: str, item: dict | None) -> dict | None:
        """The index entry ``item`` has (projected attributes), or None when it is not in the (sparse) index."""
        if item is None:
            return None
        keys, projection, included = self.tables[table]["indexes"][index]
        if not all(k in item for k in keys):
            return None
        if projection == "ALL":
            return item
        wanted = set(keys) | set(self.tables[table]["keys"]) | set(included)
        return {k: v for k, v in item.items() if k in wanted}


# --- the meter ---------------------------------------------------------------------------------------------------

class Meter:
    def __init__(self):
        self.label = None
        self.rows = defaultdict(lambda: defaultdict(float))  # label → field → value
        self.ops = defaultdict(lambda: defaultdict(int))  # label → operation → calls
        self.per_table = defaultdict(lambda: defaultdict(float))  # label → table:kind → units

    @contextlib.contextmanager
    def measuring(self, label):
        previous, self.label = self.label, label
        self.rows[label]["requests"] += 1
        try:
            yield
        finally:
            self.label = previous

    def add(self, field, value, table=None):
        if self.label is None:
            return
        self.rows[self.label][field] += value
        if table:
            self.per_table[self.label][f"{table}:{field}"] += value


def read_units(size_bytes: int, consistent: bool) -> float:
    units = max(1, math.ceil(size_bytes / 4096))
    return units if consistent else units / 2


def write_units(size_bytes: int) -> int:
    return max(1, math.ceil(size_bytes / 1024))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()

    from botocore.awsrequest import AWSResponse
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType
    from unittest import mock
    from infra.local.embedded_dynamodb import forget_model_instances
    from infra.local.wechat_standin import WeChatStandIn
    from tongxin.config import DEV_CHECKIN_SECRET, Settings

    wechat = WeChatStandIn().start()
    settings = Settings(stage="test", table_prefix="test", dynamodb_endpoint=None, aws_region="us-east-1",
                        wechat_base_url=wechat.base_url, token_secret="cost-signing-key-" + "x" * 32,
                        checkin_secret=DEV_CHECKIN_SECRET, wechat_timeout_seconds=1.0)
    meter = Meter()
    lock, handle = threading.Lock(), BotocoreStubber.__call__
    schema_holder = {}

    def backend_item(table: str, key: dict) -> dict | None:
        t = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
        names = schema_holder["s"].tables[table]["keys"]
        hash_key = DynamoType(key[t.hash_key_attr])
        range_key = DynamoType(key[t.range_key_attr]) if t.range_key_attr else None
        found = t.get_item(hash_key, range_key)
        return found.to_json()["Attributes"] if found is not None else None

    def write_keys(operation: str, body: dict) -> list[tuple[str, str, dict]]:
        """(kind, table, key) of each item a write touches."""
        s = schema_holder["s"]
        if operation == "TransactWriteItems":
            out = []
            for entry in body["TransactItems"]:
                (kind, spec), = entry.items()
                key = spec.get("Key") or s.key_of(spec["TableName"], spec["Item"])
                out.append((kind, spec["TableName"], key))
            return out
        if operation in ("UpdateItem", "DeleteItem"):
            return [(operation, body["TableName"], body["Key"])]
        if operation == "PutItem":
            return [(operation, body["TableName"], s.key_of(body["TableName"], body["Item"]))]
        return []

    def price_write(operation, body, before, after):
        s = schema_holder["s"]
        transactional = operation == "TransactWriteItems"
        for (kind, table, key), old, new in zip(write_keys(operation, body), before, after):
            name = s.tables[table]["name"]
            size = max(item_size(old), item_size(new))
            units = write_units(size) * (2 if transactional else 1)
            meter.add("wru_table", units, name)
            if kind == "ConditionCheck":
                meter.add("condition_checks", 1)
                continue
            meter.add("items_written", 1)
            meter.add("storage_delta", (item_size(new) + 100 if new else 0) - (item_size(old) + 100 if old else 0), name)
            for index in s.tables[table]["indexes"]:
                was, now = s.entry(table, index, old), s.entry(table, index, new)
                if was is None and now is None:
                    continue
                if was is not None and now is not None:
                    keys = s.tables[table]["indexes"][index][0]
                    if all(was.get(k) == now.get(k) for k in keys):
                        if was == now:
                            continue
                        gsi = write_units(max(item_size(was), item_size(now)))
                    else:
                        gsi = write_units(item_size(was)) + write_units(item_size(now))
                else:
                    gsi = write_units(item_size(was if was is not None else now))
                meter.add("wru_gsi", gsi, f"{name}.{index}")
                meter.add("gsi_writes", 1)
                meter.add("storage_delta", (item_size(now) + 100 if now else 0) - (item_size(was) + 100 if was else 0),
                          name)

    def price_read(operation, body, answer):
        s = schema_holder["s"]
        if operation == "GetItem":
            item = answer.get("Item")
            meter.add("rru", read_units(item_size(item), bool(body.get("ConsistentRead"))),
                      s.tables[body["TableName"]]["name"])
        elif operation == "BatchGetItem":
            for table, request in body["RequestItems"].items():
                found = answer.get("Responses", {}).get(table, [])
                consistent = bool(request.get("ConsistentRead"))
                units = sum(read_units(item_size(i), consistent) for i in found)
                units += read_units(0, consistent) * (len(request["Keys"]) - len(found))
                meter.add("rru", units, s.tables[table]["name"])
        elif operation == "Query":
            items = answer.get("Items")
            if items is None:  # Select=COUNT: the entries read are those counted (no filter here)
                size = answer.get("ScannedCount", 0) * 300
            else:
                size = sum(item_size(i) for i in items)
                if answer.get("ScannedCount", len(items)) > len(items) and items:
                    size = size * answer["ScannedCount"] / len(items)
            consistent = bool(body.get("ConsistentRead")) and "IndexName" not in body
            where = s.tables[body["TableName"]]["name"] + (f".{body['IndexName']}" if "IndexName" in body else "")
            meter.add("rru", read_units(size, consistent), where)

    def dynamodb(self, event_name, request, **kwargs):
        operation = event_name.rsplit(".", 1)[-1]
        if ".dynamodb." not in event_name:
            return handle(self, event_name, request, **kwargs)
        body = json.loads(request.body or b"{}")
        with lock:
            keys = write_keys(operation, body) if "s" in schema_holder else []
            before = [backend_item(t, k) for _, t, k in keys]
            response = handle(self, event_name, request, **kwargs)
            forget_model_instances()
            answer = response.content
            after = [backend_item(t, k) for _, t, k in keys]
        meter.ops[meter.label][operation] += 1 if meter.label else 0
        ok = response.status_code == 200
        if "s" in schema_holder and ok:
            if keys:
                price_write(operation, body, before, after)
            else:
                price_read(operation, body, json.loads(answer or b"{}"))
        elif not ok:
            meter.add("failed_calls", 1)
        return AWSResponse(request.url, response.status_code, response.headers, MockRawResponse(answer))

    with mock.patch.object(BotocoreStubber, "__call__", dynamodb), mock_aws():
        from tongxin.adapters.dynamo.binding import create_tables
        from tongxin.wiring import Container, set_container
        container = Container(settings)
        set_container(container)
        create_tables(settings)
        schema_holder["s"] = Schema(settings)
        results = scenario(container, meter, wechat)
    wechat.stop()
    report(meter, results, args.json)
    return 0


# --- what a month is made of -------------------------------------------------------------------------------------

def scenario(container, meter, wechat) -> dict:
    from chalice.test import Client
    import app as app_module
    from tests import budget
    from tests.support import Api, make_community
    from tongxin.domain.clock import to_api, travel, utcnow
    from tongxin.adapters.dynamo.models import OutboxModel
    from tongxin.usecases import notifications, push, schedule

    original = Api.request

    import uuid

    def labelled(self, method, path, **kw):
        if method.upper() in ("POST", "PUT", "PATCH", "DELETE") and path != "/v1/auth/login":
            # the mini-program sends a key with every change (api.md): its record is one more item of the write
            kw["headers"] = {"Idempotency-Key": str(uuid.uuid4()), **(kw.get("headers") or {})}
        if meter.label is not None:
            return original(self, method, path, **kw)
        route = budget.route_of(method.upper(), path)
        label = f"{route[0]} {route[1]}" if route else f"{method} {path}"
        with meter.measuring(label):
            return original(self, method, path, **kw)

    Api.request = labelled
    out = {}
    with Client(app_module.app, stage_name="dev") as client:
        api = Api(client)
        community = make_community(api, grids=2)
        admin = community.admin
        author, volunteer, volunteer2 = community.resident(0), community.volunteer(0), community.volunteer(0)
        worker = community.grid_worker(0)
        for member, kinds in ((author, ["wish_claimed", "wish_fulfilled", "points_awarded", "request_accepted",
                                        "request_resolved", "event_reminder"]),
                              (volunteer, ["wish_confirmed", "event_reminder", "points_awarded"]),
                              (worker, ["request_new", "wish_overdue"])):
            assert member.post("/v1/me/subscriptions", {"accepted": [f"tmpl_{k}" for k in kinds]}).status == 200
        for _ in range(3):
            with meter.measuring("POST /v1/auth/login (returning user)"):
                author.relogin()
        with meter.measuring("POST /v1/auth/login (new user)"):
            api.login()
        author.get("/v1/me")
        # 微心愿
        wish = author.post("/v1/wishes", {"title": "帮忙修水龙头", "content": "厨房水龙头漏水，需要有人帮忙看看",
                                          "category": "维修", "contact_phone": "13812345678"}).json
        volunteer.get("/v1/wishes")
        volunteer.get(f"/v1/wishes/{wish['id']}")
        assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
        assert volunteer.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "换了阀芯"}).status == 200
        assert author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 5}).status == 200
        author.get("/v1/wishes/mine")
        volunteer.get("/v1/wishes/claimed")
        second = author.post("/v1/requests", {"category": "环境卫生", "content": "楼下垃圾没人清运",
                                              "location": {"address": "5栋", "lat": 30.5, "lng": 103.8}}).json
        assert worker.post(f"/v1/requests/{second['id']}/escalate", {"reason": "需要物业配合"}).status == 200
        # 活动: sign-up, check-in, check-out
        start = utcnow() + timedelta(hours=2)
        event = admin.post("/v1/events", {"title": "社区清扫", "kind": "volunteer_service", "capacity": 1,
                                          "points_per_hour": 10, "starts_at": to_api(start),
                                          "ends_at": to_api(start + timedelta(hours=2))}).json
        volunteer.get("/v1/events")
        volunteer.get(f"/v1/events/{event['id']}")
        assert volunteer.post(f"/v1/events/{event['id']}/signup").json["status"] == "signed"
        assert volunteer2.post(f"/v1/events/{event['id']}/signup").json["status"] == "waitlisted"
        assert volunteer2.delete(f"/v1/events/{event['id']}/signup").status == 200  # leaves the waitlist
        assert volunteer2.post(f"/v1/events/{event['id']}/signup").json["status"] == "waitlisted"
        with travel(timedelta(hours=2)):
            code = admin.get(f"/v1/events/{event['id']}/qrcode").json["code"]
            assert volunteer.post("/v1/checkins", {"code": code}).json["action"] == "check_in"
        with travel(timedelta(hours=3, minutes=50)):
            code = admin.get(f"/v1/events/{event['id']}/qrcode").json["code"]
            assert volunteer.post("/v1/checkins", {"code": code}).json["action"] == "check_out"
        volunteer.get("/v1/me/volunteer-record")
        # 积分
        assert admin.post("/v1/points/awards", {"user_id": author.id, "category": "charity", "points": 30,
                                                 "reason": "捐赠衣物"}).status == 201
        author.get("/v1/me/points")
        author.get("/v1/leaderboard?period=month&scope=grid")
        # 积分超市
        store = admin.post("/v1/stores", {"name": "同心超市"}).json
        goods = admin.post(f"/v1/stores/{store['id']}/goods", {"name": "毛巾", "price_points": 5, "stock": 100}).json
        author.get(f"/v1/stores/{store['id']}/goods")
        redemption = author.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1}).json
        other = author.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1}).json
        author.get("/v1/redemptions/mine")
        author.get(f"/v1/redemptions/{redemption['id']}")
        volunteer.get("/v1/me/events")
        author.get("/v1/me/subscriptions")
        author.get("/v1/stores")
        assert admin.post("/v1/redemptions/verify", {"pickup_code": redemption["pickup_code"]}).status == 200
        assert author.post(f"/v1/redemptions/{other['id']}/cancel").status == 200
        # 接诉即办
        request = author.post("/v1/requests", {"category": "设施维修", "content": "3栋2单元楼道灯坏了",
                                               "location": {"address": "3栋2单元", "lat": 30.5, "lng": 103.8}}).json
        worker.get("/v1/grid/tasks")
        worker.get(f"/v1/requests/{request['id']}")
        assert worker.post(f"/v1/requests/{request['id']}/accept").status == 200
        assert worker.post(f"/v1/requests/{request['id']}/resolve", {"note": "换了灯泡"}).status == 200
        assert author.post(f"/v1/requests/{request['id']}/rate", {"satisfaction": 5}).status == 200
        author.get("/v1/requests/mine")
        admin.get("/v1/admin/requests?view=all")
        admin.get("/v1/admin/stats")
        admin.get("/v1/admin/requests/stats")

        # The sender: each pending message as the stream hands it over (its new image), fan-outs expanded first.
        for item in list(OutboxModel.scan(OutboxModel.status == "fanout")):
            with meter.measuring("sender: fan-out expanded"):
                notifications.expand(item)
        pending = [m for m in OutboxModel.scan(OutboxModel.status == "pending")]
        out["messages"] = len(pending)
        for message in pending:
            with meter.measuring("sender: one message"):
                push.deliver_written(container, message.serialize())
        # The scheduler with nothing due: what every 5-minute run costs at least.
        with meter.measuring("scheduler: an idle run"):
            schedule.run(utcnow() - timedelta(days=30))
    Api.request = original
    out["sent"] = sum(1 for m in OutboxModel.scan() if m.status == "sent")
    out["storage"] = storage()
    return out


def storage() -> dict:
    """Bytes billed per table now (items + 100 B each) and per index (entries + 100 B each), and item counts."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from tongxin.adapters.dynamo.models import ALL_MODELS
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    out = {}
    for model in ALL_MODELS:
        table = backend.get_table(model.Meta.table_name)
        items = [i.to_json()["Attributes"] for i in table.all_items()]
        billed = sum(item_size(i) + 100 for i in items)
        for index in model._indexes.values():
            keys = [a.attr_name for a in index.Meta.attributes.values() if a.is_hash_key or a.is_range_key]
            projection = index.Meta.projection.projection_type
            table_keys = [a.attr_name for a in model.get_attributes().values() if a.is_hash_key or a.is_range_key]
            wanted = set(keys) | set(table_keys) | set(getattr(index.Meta.projection, "non_key_attributes", None) or ())
            for i in items:
                if all(k in i for k in keys):
                    entry = i if projection == "ALL" else {k: v for k, v in i.items() if k in wanted}
                    billed += item_size(entry) + 100
        out[model.TABLE] = {"items": len(items), "bytes": billed,
                            "avg_item": round(sum(item_size(i) for i in items) / len(items)) if items else 0}
    return out


def report(meter: Meter, results: dict, path: str | None) -> None:
    rows = []
    for label, row in meter.rows.items():
        n = row["requests"]
        rows.append({"route": label, "requests": int(n),
                     "calls": {op: c / n for op, c in meter.ops[label].items()},
                     **{k: v / n for k, v in row.items() if k != "requests"},
                     "by_table": {k: v / n for k, v in meter.per_table[label].items()}})
    if path:
        Path(path).write_text(json.dumps({"rows": rows, "results": results}, ensure_ascii=False, indent=1))
    print(f"{'route':58} {'n':>3} {'RRU':>6} {'WRU':>6} {'GSI':>6} {'total W':>7} {'+bytes':>7}")
    for r in rows:
        print(f"{r['route'][:58]:58} {r['requests']:>3} {r.get('rru', 0):6.1f} {r.get('wru_table', 0):6.1f} "
              f"{r.get('wru_gsi', 0):6.1f} {r.get('wru_table', 0) + r.get('wru_gsi', 0):7.1f} "
              f"{r.get('storage_delta', 0):7.0f}")
    print(results)


if __name__ == "__main__":
    sys.exit(main())
