"""Several items of several tables in ONE BatchGetItem call (consistent reads).

A request that needs the caller and something else (the Idempotency-Key record, a counter and the community's
settings) reads them together: one round trip instead of two. UnprocessedKeys (DynamoDB may return some under
load) are asked again, with backoff, until answered.
"""
from __future__ import annotations

import random
import time
from typing import Any

from pynamodb.models import Model

from ...domain.errors import StorageBusy
from . import binding

MAX_ROUNDS = 5
MAX_KEYS = 100


def _key(model_cls: type[Model], hash_key: Any, range_key: Any = None) -> dict:
    key = {}
    for attr, value in ((model_cls._hash_key_attribute(), hash_key), (model_cls._range_key_attribute(), range_key)):
        if attr is not None:
            key[attr.attr_name] = {attr.attr_type: attr.serialize(value)}
    return key


def _identity(model_cls: type[Model], key: dict) -> tuple:
    return model_cls.Meta.table_name, tuple(sorted((name, str(value)) for name, value in key.items()))


def get_many(*wanted: tuple, consistent: bool = True) -> list[Model | None]:
    """``wanted``: ``(model_cls, hash_key)`` or ``(model_cls, hash_key, range_key)``. Returns the items in the
    same order, None where absent. ``consistent=False`` (half the read units): a list page's items, as eventually
    consistent as the index entries that named them."""
    return [model_cls.from_raw_data(raw) if raw is not None else None
            for (model_cls, *_), raw in zip(wanted, _get_raw(wanted, consistent))]


def get_raw(*wanted: tuple) -> list[dict | None]:
    """As ``get_many`` (items of several tables, at most 100, one BatchGetItem), the raw items — every attribute,
    declared or not — in the same order, None where absent."""
    return _get_raw(wanted)


def get_raw_many(model_cls: type[Model], hash_keys: list) -> list[dict]:
    """The raw items (every attribute, declared or not) of ``model_cls`` under ``hash_keys`` that exist."""
    return [raw for raw in _get_raw([(model_cls, key) for key in hash_keys]) if raw is not None]


def _get_raw(wanted, consistent: bool = True) -> list[dict | None]:
    if len(wanted) > MAX_KEYS:
        raise ValueError(f"one BatchGetItem reads at most {MAX_KEYS} items")
    keys = [(spec[0], _key(*spec)) for spec in wanted]
    pending: dict[str, dict] = {}
    for model_cls, key in keys:
        table = pending.setdefault(model_cls.Meta.table_name, {"Keys": [], "ConsistentRead": consistent})
        if key not in table["Keys"]:
            table["Keys"].append(key)
    found: dict[tuple, dict] = {}
    by_table = {model_cls.Meta.table_name: model_cls for model_cls, _ in keys}
    client = binding.connection().client
    for attempt in range(MAX_ROUNDS):
        answer = client.batch_get_item(RequestItems=pending)
        for table_name, items in answer.get("Responses", {}).items():
            model_cls = by_table[table_name]
            key_names = [a.attr_name for a in (model_cls._hash_key_attribute(), model_cls._range_key_attribute()) if a]
            for item in items:
                found[_identity(model_cls, {name: item[name] for name in key_names})] = item
        pending = answer.get("UnprocessedKeys") or {}
        if not pending:
            break
        time.sleep(random.uniform(0, 0.05 * (2 ** attempt)))
    else:
        raise StorageBusy()
    return [found.get(_identity(model_cls, key)) for model_cls, key in keys]
