"""Point-in-time restore, last step: make a stage's live tables hold exactly what the restored copies hold.

    python -m infra.deploy.restore_tables --from tongxin-prod-r202612061000 --to tongxin-prod --region cn-north-1
    python -m infra.deploy.restore_tables --from … --to … --region … --yes      # writes (without --yes: counts only)

DynamoDB restores a table only into a NEW table (``restore-table-to-point-in-time``: docs/deploy.md, "Restoring a
point in time"), while the stack's tables have fixed names, their stream (the sender's trigger), TTL, PITR and
alarms. So the restored copies ``<from>-<table>`` are not swapped in: their items are copied into the live tables
``<to>-<table>``, and live items the copy does not hold are deleted. The live tables keep their settings and their
own PITR history (the copy itself can be undone by restoring again to just before it). Run it with the functions
stopped (docs/deploy.md): it is not atomic across items, and a write racing it would be lost or half-undone.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3

_LAYERS = str(Path(__file__).resolve().parents[2] / "layers")
if _LAYERS not in sys.path:
    sys.path.insert(0, _LAYERS)

from tongxin.adapters.dynamo.models import ALL_MODELS  # noqa: E402

BATCH = 25  # BatchWriteItem's limit
RETRY_PAUSE_SECONDS = 0.5


def table_names() -> list[str]:
    return sorted(model.TABLE for model in ALL_MODELS)


def _scan(client, table: str, **kwargs) -> Iterator[dict]:
    request = {"TableName": table, "ConsistentRead": True, **kwargs}
    while True:
        page = client.scan(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _write(client, table: str, requests: list[dict]) -> None:
    """BatchWriteItem in chunks, re-sending what DynamoDB left unprocessed (throttling) until none is left."""
    for start in range(0, len(requests), BATCH):
        pending = {table: requests[start:start + BATCH]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                time.sleep(RETRY_PAUSE_SECONDS)


def _key_names(client, table: str) -> list[str]:
    return [key["AttributeName"] for key in client.describe_table(TableName=table)["Table"]["KeySchema"]]


def _key(item: dict, names: list[str]) -> tuple:
    return tuple(sorted((name, repr(item[name])) for name in names))


def plan(client, source: str, target: str) -> dict[str, tuple[int, int]]:
    """Per table: (items to copy, live items to delete)."""
    counts = {}
    for name in table_names():
        keys = _key_names(client, f"{target}-{name}")
        projection = {"ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(keys))),
                      "ExpressionAttributeNames": {f"#k{i}": key for i, key in enumerate(keys)}}
        restored = {_key(item, keys) for item in _scan(client, f"{source}-{name}", **projection)}
        live = {_key(item, keys) for item in _scan(client, f"{target}-{name}", **projection)}
        counts[name] = (len(restored), len(live - restored))
    return counts


def copy(client, source: str, target: str) -> dict[str, tuple[int, int]]:
    """Make every ``<target>-<table>`` hold exactly the items of ``<source>-<table>``; (copied, deleted) per table."""
    done = {}
    for name in table_names():
        source_table, target_table = f"{source}-{name}", f"{target}-{name}"
        keys = _key_names(client, target_table)
        restored = list(_scan(client, source_table))
        kept = {_key(item, keys) for item in restored}
        stale = [{name_: item[name_] for name_ in keys} for item in _scan(client, target_table)
                 if _key(item, keys) not in kept]
        _write(client, target_table, [{"DeleteRequest": {"Key": key}} for key in stale])
        _write(client, target_table, [{"PutRequest": {"Item": item}} for item in restored])
        done[name] = (len(restored), len(stale))
    return done


def missing_tables(client, prefixes: list[str]) -> list[str]:
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    return [f"{prefix}-{name}" for prefix in prefixes for name in table_names() if f"{prefix}-{name}" not in existing]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy.restore_tables", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True, help="the restored tables' prefix (<from>-users, …)")
    parser.add_argument("--to", dest="target", required=True, help="the live tables' prefix, such as tongxin-prod")
    parser.add_argument("--region", required=True, help="cn-north-1 or cn-northwest-1")
    parser.add_argument("--endpoint", default=None, help="a DynamoDB endpoint other than AWS's (tests)")
    parser.add_argument("--yes", action="store_true", help="write; without it, print what would change")
    args = parser.parse_args(argv)
    if args.source == args.target:
        print("restore_tables: --from and --to name the same tables", file=sys.stderr)
        return 2
    client = boto3.client("dynamodb", region_name=args.region, endpoint_url=args.endpoint)
    missing = missing_tables(client, [args.source, args.target])
    if missing:
        print(f"restore_tables: no table {', '.join(missing)} in {args.region}", file=sys.stderr)
        return 2
    counts = copy(client, args.source, args.target) if args.yes else plan(client, args.source, args.target)
    verb = ("copied", "deleted") if args.yes else ("to copy", "to delete")
    for name, (copied, deleted) in counts.items():
        print(f"{args.target}-{name}: {copied} {verb[0]}, {deleted} {verb[1]}")
    if not args.yes:
        print("nothing written: add --yes, with the functions stopped (docs/deploy.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
