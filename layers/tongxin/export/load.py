"""Loading a community export into a stack (the import's side), and the batched reads and writes both sides use.

Fail closed, nothing half-written that could pass for whole:

1. The file is read whole and checked before anything is written: the header's format, one line per item of a
   known table with its key, no item twice, and the header's counts equal to the lines (a truncated file is refused).
2. The stack is read before anything is written (BatchGetItem of every key): refused if the community's item is
   there (it was imported, or never left), or if any other item of the community is there and differs from the
   file's. An item already there and identical is a previous import that stopped part-way: it is written again.
   Context items (the street, district, departments, units and their staff) already there are kept as they are:
   the target's levels above win, so the communities of one street can be imported one after another.
3. BatchWriteItem in chunks of 25, unprocessed items sent again with backoff; the community's own item is written
   last, so a community is there only once every other item of it is.
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Callable, Iterable

from .wire import COMMUNITY, CONTEXT, FORMAT, MODELS, canonical, from_wire, key_names

BATCH_WRITE = 25  # BatchWriteItem's limit
BATCH_GET = 100  # BatchGetItem's limit
MAX_ROUNDS = 8  # attempts for the unprocessed part of one batch (backoff up to ≈ 6 s)


class ImportRefused(Exception):
    """The file or the stack does not allow the import: the one-line reason. Nothing was written."""


class StackBusy(Exception):
    """DynamoDB left items unprocessed after every retry."""


def _backoff(attempt: int, sleep: Callable[[float], None]) -> None:
    sleep(random.uniform(0, 0.05 * (2 ** attempt)))


def batched_get(client, table: str, keys: list[dict], sleep=time.sleep) -> list[dict]:
    """The items of ``keys`` in the physical ``table`` that exist (consistent reads, 100 a call)."""
    found: list[dict] = []
    for start in range(0, len(keys), BATCH_GET):
        pending = {table: {"Keys": keys[start:start + BATCH_GET], "ConsistentRead": True}}
        for attempt in range(MAX_ROUNDS):
            answer = client.batch_get_item(RequestItems=pending)
            found.extend(answer.get("Responses", {}).get(table, []))
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            _backoff(attempt, sleep)
        else:
            raise StackBusy(f"{table}: keys still unprocessed after {MAX_ROUNDS} rounds")
    return found


def batched_put(client, puts: list[tuple[str, dict]], sleep=time.sleep) -> None:
    """Put every ``(physical table, item)``, 25 a BatchWriteItem, what DynamoDB leaves unprocessed sent again."""
    for start in range(0, len(puts), BATCH_WRITE):
        pending: dict[str, list] = {}
        for table, item in puts[start:start + BATCH_WRITE]:
            pending.setdefault(table, []).append({"PutRequest": {"Item": item}})
        for attempt in range(MAX_ROUNDS):
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            _backoff(attempt, sleep)
        else:
            raise StackBusy(f"items still unprocessed after {MAX_ROUNDS} rounds")


def read_export(lines: Iterable[str]) -> tuple[dict, list[tuple[str, str, dict]]]:
    """The header and ``(table, scope, item as the client writes it)`` of every line; ImportRefused when malformed."""
    header, records, seen = None, [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise ImportRefused(f"line {number}: not JSON ({exc})") from None
        if header is None:
            if not isinstance(data, dict) or data.get("format") != FORMAT or not data.get("community_id"):
                raise ImportRefused(f"line {number}: not a {FORMAT} header")
            header = data
            continue
        table, scope, item = data.get("table"), data.get("scope"), data.get("item")
        if table not in MODELS or scope not in (COMMUNITY, CONTEXT) or not isinstance(item, dict):
            raise ImportRefused(f"line {number}: not an item line of a known table")
        if any(name not in item for name in key_names(table)):
            raise ImportRefused(f"line {number}: a {table} item without its key {key_names(table)}")
        identity = (table, json.dumps([item[name] for name in key_names(table)], sort_keys=True))
        if identity in seen:
            raise ImportRefused(f"line {number}: {table} {identity[1]} is in the file twice")
        seen.add(identity)
        records.append((table, scope, from_wire(item)))
    if header is None:
        raise ImportRefused("an empty file")
    counts = Counter(table for table, _, _ in records)
    if dict(counts) != {t: n for t, n in (header.get("counts") or {}).items() if n}:
        raise ImportRefused("the items do not match the header's counts (a truncated or edited file)")
    mine = [item for table, scope, item in records if table == "communities" and scope == COMMUNITY]
    if len(mine) != 1 or mine[0]["id"].get("S") != header["community_id"]:
        raise ImportRefused(f"the file does not hold community {header['community_id']}'s own item")
    return header, records


def import_records(client, table_name: Callable[[str], str], header: dict,
                   records: list[tuple[str, str, dict]], sleep=time.sleep) -> dict:
    """Load the records (``read_export``) into the stack; ImportRefused (nothing written) when it may not."""
    community_id = header["community_id"]
    community_key = {"id": {"S": community_id}}
    if client.get_item(TableName=table_name("communities"), Key=community_key, ConsistentRead=True).get("Item"):
        raise ImportRefused(f"community {community_id} already exists in this stack")  # at once: no key read
    present: dict[tuple[str, str], dict] = {}
    by_table: dict[str, list[dict]] = {}
    for table, _, item in records:
        by_table.setdefault(table, []).append({name: item[name] for name in key_names(table)})
    for table, keys in by_table.items():
        for item in batched_get(client, table_name(table), keys, sleep):
            present[(table, _identity(table, item))] = item

    if ("communities", _identity("communities", community_key)) in present:  # it came meanwhile
        raise ImportRefused(f"community {community_id} already exists in this stack")
    puts, last, written, kept, resumed = [], None, Counter(), Counter(), 0
    for table, scope, item in records:
        there = present.get((table, _identity(table, item)))
        if scope == CONTEXT and there is not None:
            kept[table] += 1  # the target's own street, district, unit or staff member stays as it is
            continue
        if there is not None:
            if canonical(there) != canonical(item):
                raise ImportRefused(f"{table} {_identity(table, item)} already exists with other data: this stack "
                                    f"holds some of community {community_id} or of another one")
            resumed += 1
        written[table] += 1
        if table == "communities" and scope == COMMUNITY:
            last = (table_name(table), item)
        else:
            puts.append((table_name(table), item))
    batched_put(client, puts, sleep)
    batched_put(client, [last], sleep)  # the community last: it is there only once the rest is
    return {"community_id": community_id, "written": dict(sorted(written.items())),
            "kept": dict(sorted(kept.items())), "already_there": resumed}


def _identity(table: str, item: dict) -> str:
    return json.dumps([item[name] for name in key_names(table)], sort_keys=True)
