"""The raw storage ceiling measured in the same run as a burst: one TransactWriteItems per request of the burst,
each one of the burst's committed transactions (cycled, ``shape_of``) — the API's own items, update expressions
and values — under new keys in scratch copies of the tables (``table_schemas``; dropped afterwards), sent straight
to the embedded DynamoDB by as many threads as the burst's clients (``raw_ceiling``). An item several committed
transactions wrote keeps one key, and the API's condition on it becomes ``GUARD``, which lets through as many as
the burst committed on it; a double tap replays its twin's keys and is refused (``_raw_item``).
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from infra.proof.bench_runs import _percentile

from .serve import BACKGROUND
from .stack import TABLE_PREFIX, BurstStack, new_dynamodb_client

_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b")
_TOKEN = re.compile(r"[#:][A-Za-z0-9_]+")
GUARD = "attribute_not_exists(#burst_n) OR #burst_n < :burst_limit"


def _item_key(op: str, body: dict, schema: dict) -> tuple:
    attrs = body["Item"] if op == "Put" else body["Key"]
    return tuple(json.dumps(attrs.get(name), sort_keys=True) for name, _ in schema[body["TableName"]])


def shape_of(transactions: list[dict], schema: dict) -> list[list[dict]]:
    """The burst's committed transactions (those the API's request threads sent: not the sender's or the
    scheduler's), each item as {op, body, table, shared, times}: ``shared`` is an index for an item several
    committed transactions wrote (an event's counters, the item's stock), None for one written once (a fresh key
    in the replay); ``times`` how many committed transactions wrote it."""
    committed = [t["items"] for t in transactions if t["outcome"] == "ok" and t.get("thread") not in BACKGROUND]
    seen = Counter()
    for items in committed:
        for entry in items:
            (op, body), = entry.items()
            seen[(body["TableName"], _item_key(op, body, schema))] += 1
    shared = {key: index for index, key in enumerate(k for k, n in seen.items() if n > 1)}
    shapes = []
    for items in committed:
        shape = []
        for entry in items:
            (op, body), = entry.items()
            key = (body["TableName"], _item_key(op, body, schema))
            shape.append({"op": op, "body": body, "table": body["TableName"], "shared": shared.get(key),
                          "times": seen[key], "position": len(shape)})
        shapes.append(shape)
    return shapes


def describe_shapes(shapes: list[list[dict]]) -> list[str]:
    """``n × [Put signups, Update events (shared) ...]`` for each distinct shape, most frequent first."""
    def one(shape):
        return ", ".join(f"{s['op']} {s['table'].removeprefix(TABLE_PREFIX + '-')}"
                         + (" (shared)" if s["shared"] is not None else "") for s in shape)
    counted = Counter(one(shape) for shape in shapes)
    return [f"{n} × [{text}]" for text, n in counted.most_common()]


def table_schemas(client, transactions: list[dict]) -> tuple[dict, dict]:
    """Per table the burst wrote: [(key attribute, type)], and the create_table arguments of a scratch copy (its
    keys and stream setting; no indexes: moto maintains none on write)."""
    tables = {body["TableName"] for t in transactions for entry in t["items"] for body in entry.values()}
    schema, create = {}, {}
    for name in tables:
        table = client.describe_table(TableName=name)["Table"]
        types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
        keys = sorted(table["KeySchema"], key=lambda k: k["KeyType"])  # HASH before RANGE
        schema[name] = [(k["AttributeName"], types[k["AttributeName"]]) for k in keys]
        args = {"KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys],
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in schema[name]],
                "BillingMode": "PAY_PER_REQUEST"}
        if table.get("StreamSpecification", {}).get("StreamEnabled"):
            args["StreamSpecification"] = table["StreamSpecification"]
        create[name] = args
    return schema, create


def _raw_key(schema: list[tuple[str, str]], token: str) -> dict:
    return {name: ({"S": f"raw-{token}"} if kind == "S" else {"N": str(abs(hash(token)) % 10 ** 12)}
                   if kind == "N" else {"B": token.encode()}) for name, kind in schema}


def _with_counter(expression: str) -> str:
    """The update expression, also adding 1 to ``#burst_n`` (in its ADD clause: one clause of a kind)."""
    parts = _CLAUSE.split(expression)
    clauses = [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts), 2)]
    if any(kind == "ADD" for kind, _ in clauses):
        clauses = [(kind, f"{text}, #burst_n :burst_one" if kind == "ADD" else text) for kind, text in clauses]
    else:
        clauses.append(("ADD", "#burst_n :burst_one"))
    return " ".join(f"{kind} {text}" for kind, text in clauses)


def _raw_item(slot: dict, scratch: dict, schema: dict, run: str, seed: str) -> dict:
    """The item as the API sent it — same update expression, values and item — on a scratch table under a new
    key (the same new key for a shared item). A condition of the API's (which reads the real item) becomes
    ``GUARD``, which holds until the item was written ``times`` times, as many as the burst committed on it."""
    op, body = slot["op"], json.loads(json.dumps(slot["body"]))
    table = slot["table"]
    token = f"shared-{slot['shared']}" if slot["shared"] is not None else f"{seed}-{slot['position']}"
    key = _raw_key(schema[table], f"{run}-{token}")
    body["TableName"] = scratch[table]
    if op == "Put":
        body["Item"].update(key)
    else:
        body["Key"] = key
    names, values = dict(body.pop("ExpressionAttributeNames", {})), dict(body.pop("ExpressionAttributeValues", {}))
    guarded = body.pop("ConditionExpression", None) is not None
    if op == "Update":
        body["UpdateExpression"] = _with_counter(body["UpdateExpression"])
        values[":burst_one"] = {"N": "1"}
    if guarded and op == "Put":
        body["ConditionExpression"] = f"attribute_not_exists(#burst_k)"
        names["#burst_k"] = schema[table][0][0]
    elif guarded:
        body["ConditionExpression"] = GUARD
        values[":burst_limit"] = {"N": str(slot["times"] if op == "Update" else 10 ** 9)}
    if op in ("Update", "ConditionCheck"):
        names["#burst_n"] = "burst_n"
    used = set(_TOKEN.findall(" ".join(body.get(k, "") for k in ("UpdateExpression", "ConditionExpression"))))
    if names := {k: v for k, v in names.items() if k in used}:
        body["ExpressionAttributeNames"] = names
    if values := {k: v for k, v in values.items() if k in used}:
        body["ExpressionAttributeValues"] = values
    return {op: body}


def raw_ceiling(stack: BurstStack, transactions: list[dict], owners: list[str], clients: int) -> dict:
    """One TransactWriteItems per request of the burst (``owners``: the user of each, in order), of the burst's
    committed ones (cycled), from ``clients`` threads with a boto3 client each, into scratch tables with the same
    key schemas (dropped afterwards). A user's second request (a double tap) replays the same items as the first,
    so its guards refuse it as the API refused the second scan."""
    count = len(owners)
    from botocore.exceptions import ClientError
    client = stack.dynamodb()
    schema, create = table_schemas(client, transactions)
    shapes = shape_of(transactions, schema)
    if not shapes:
        return {"transactions": 0, "note": "the burst committed no transaction"}
    run = uuid.uuid4().hex[:8]
    scratch = {name: f"burstraw-{run}-{name.removeprefix(TABLE_PREFIX + '-')}" for name in create}
    for name, args in create.items():
        client.create_table(TableName=scratch[name], **args)
    try:
        planned, first = [], {}
        for owner in owners:
            if owner not in first:
                first[owner] = (shapes[len(first) % len(shapes)], uuid.uuid4().hex)
            shape, seed = first[owner]
            planned.append([_raw_item(slot, scratch, schema, run, seed) for slot in shape])
        clients = max(1, min(clients, count))
        own = [new_dynamodb_client(stack.dynamodb_url) for _ in range(clients)]
        ready, go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
        latencies: list[float] = []
        outcome: Counter = Counter()
        lock = threading.Lock()

        def worker(index: int) -> None:
            mine = own[index]
            mine.describe_table(TableName=next(iter(scratch.values())))  # open the connection first
            ready.wait()
            go.wait()
            for items in planned[index::clients]:
                started = time.perf_counter()
                try:
                    mine.transact_write_items(TransactItems=items)
                    result = "committed"
                except ClientError as exc:
                    error = exc.response.get("Error", {})
                    result = "cancelled (condition)" if error.get("Code") == "TransactionCanceledException" \
                        else f"{error.get('Code')}: {error.get('Message', '')[:100]}"
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    outcome[result] += 1

        with ThreadPoolExecutor(max_workers=clients) as pool:
            futures = [pool.submit(worker, i) for i in range(clients)]
            ready.wait()
            go.wait()
            started = time.perf_counter()
            for future in futures:
                future.result()
            wall = time.perf_counter() - started
    finally:
        for name in scratch.values():
            client.delete_table(TableName=name)
    return {"transactions": count, "seconds": round(wall, 3), "per_second": round(count / wall, 1),
            "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
            "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1), "outcome": dict(outcome),
            "items_per_transaction": dict(Counter(len(s) for s in shapes)), "shapes": describe_shapes(shapes)}
