"""Reading a stack for the checker: ``TABLES`` (every table it reads, and the model that reads its items), the
paginated consistent Scan of one table, ``_load`` (every table's items as the models declare them, an unreadable
table or item a ``[table]`` finding rather than a crash), and the small readers of numbers every area uses (``_n``
of a model's attribute, ``_raw_number`` of a raw counter item)."""
from __future__ import annotations

from typing import Callable, Iterable

from tongxin.adapters.dynamo import models as m

# Every table the checker reads, and the model that reads its items (None: raw items, names are data).
TABLES: dict[str, type | None] = {model.TABLE: model for model in m.ALL_MODELS}
TABLES["counters"] = None


def _scan(client, table: str) -> Iterable[dict]:
    kwargs = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        yield from page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _load(client, table_name: Callable[[str], str]) -> tuple[dict[str, list], list[str]]:
    data: dict[str, list] = {}
    problems: list[str] = []
    for name, model in TABLES.items():
        physical = table_name(name)
        try:
            raw = list(_scan(client, physical))
        except Exception as exc:  # a missing table is a finding, not a crash
            problems.append(f"[table] {physical}: cannot be read ({type(exc).__name__}: {exc})")
            data[name] = []
            continue
        if model is None:
            data[name] = raw
            continue
        items = []
        for item in raw:
            try:
                items.append(model.from_raw_data(item))
            except Exception as exc:
                problems.append(f"[table] {physical} {_raw_key(item)}: unreadable item ({type(exc).__name__}: {exc})")
        data[name] = items
    return data, problems


def _raw_key(item: dict) -> str:
    return "/".join(str(next(iter(v.values()))) for k, v in sorted(item.items()) if k in ("id", "key", "openid"))


def _n(value) -> int:
    return int(value or 0)


def _raw_number(item: dict, name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value and "N" in value else 0
