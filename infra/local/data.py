"""The local stack's tables kept across restarts: every item dumped to one JSON file on a clean stop, and
written back into the fresh (empty) tables on the next start.

moto keeps everything in memory and has no persistence of its own, so this goes through the DynamoDB API
(Scan, BatchWriteItem). It is development tooling, run at start and stop, never on a request path.
The file is replaced whole (temp file, fsync, rename): a crash while saving leaves the previous file as it was.

Beside it, ``endpoints.json`` names the running stack (its pid, the API, DynamoDB and WeChat stand-in URLs, the table
prefix and region): written when the stack is up, removed when it stops. The operator CLI (``python -m tongxin.cli``,
which reads it: ``tongxin.cli.running_local_stack``) and ``make invariants`` find the stack there, whatever its ports.
"""
from __future__ import annotations

import base64
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FORMAT = "tongxin-local-dynamodb/1"
BATCH = 25  # BatchWriteItem's limit


class DataFileError(Exception):
    """The saved file cannot be read: never overwritten silently, the developer decides."""


def _encode(value: dict) -> dict:
    """An AttributeValue as JSON: binary (bytes from boto3) as base64 text."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "M":
        return {"M": {k: _encode(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_encode(v) for v in inner]}
    return {kind: inner}


def _decode(value: dict) -> dict:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: _decode(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_decode(v) for v in inner]}
    return {kind: inner}


def table_names(client) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names


def dump(client, names: list[str] | None = None) -> dict[str, list[dict]]:
    """Every item of every table (or of ``names``), in DynamoDB's JSON (binary as base64)."""
    tables: dict[str, list[dict]] = {}
    for name in table_names(client) if names is None else names:
        items = tables.setdefault(name, [])
        for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items.extend({k: _encode(v) for k, v in item.items()} for item in page["Items"])
    return tables


def restore(client, tables: dict[str, list[dict]]) -> tuple[int, list[str]]:
    """Put the saved items back; returns (items written, saved tables that no longer exist)."""
    existing = set(table_names(client))
    written, skipped = 0, []
    for name, items in tables.items():
        if name not in existing:
            skipped.append(name)
            continue
        for start in range(0, len(items), BATCH):
            requests = [{"PutRequest": {"Item": {k: _decode(v) for k, v in item.items()}}}
                        for item in items[start:start + BATCH]]
            pending: dict[str, Any] = {name: requests}
            for _ in range(10):
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
            else:
                raise RuntimeError(f"could not restore every item of {name}")
            written += len(requests)
    return written, skipped


def load(path: Path) -> dict[str, list[dict]] | None:
    """The saved tables, or None when nothing was saved yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT or not isinstance(data.get("tables"), dict):
            raise ValueError(f"not a {FORMAT} file")
    except (ValueError, AttributeError) as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from None
    return data["tables"]


def _replace(path: Path, write) -> None:
    """Write a file whole: a temp file beside it, ``write(out)``, fsync, rename (then the directory, best effort)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def save(path: Path, tables: dict[str, list[dict]]) -> None:
    """Write ``tables`` to ``path`` atomically: the old file stays whole until the new one is complete."""
    payload = {"format": FORMAT, "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "tables": tables}
    _replace(path, lambda out: json.dump(payload, out, ensure_ascii=False, separators=(",", ":")))


def write_endpoints(path: Path, *, api: str, dynamodb: str, wechat: str, table_prefix: str, region: str) -> None:
    """Name this process's stack as the running one (``tongxin.cli.running_local_stack`` reads it)."""
    from tongxin.cli import ENDPOINTS_FORMAT
    payload = {"format": ENDPOINTS_FORMAT, "pid": os.getpid(), "api": api, "dynamodb": dynamodb, "wechat": wechat,
               "table_prefix": table_prefix, "region": region,
               "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _replace(path, lambda out: json.dump(payload, out, ensure_ascii=False, indent=2))


def remove_endpoints(path: Path) -> None:
    """Remove the endpoints file if it names this process (never another stack's)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") != os.getpid():
            return
        path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def count(tables: dict[str, list[dict]]) -> int:
    return sum(len(items) for items in tables.values())
