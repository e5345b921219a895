"""Cursor pagination over one Query: ``?limit=&cursor=`` → ``{"items", "next_cursor"}``.

The cursor is DynamoDB's LastEvaluatedKey, signed so a client cannot steer a Query into another
partition (a forged start key would also make DynamoDB answer ValidationException, a 500).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Callable

from ..domain.errors import ValidationFailed
from ..wiring import get_container

BAD_CURSOR = ValidationFailed("cursor 无效或已过期，请从第一页重新加载", details={"field": "cursor"})


def _sign(payload: bytes, scope: str, key: str | None = None) -> str:
    key = key or get_container().settings.token_secret
    return hmac.new(key.encode(), f"cursor:{scope}:".encode() + payload, hashlib.sha256).hexdigest()[:24]


def encode_cursor(key: dict | None, scope: str) -> str | None:
    """``scope`` names the list (index and partition): a cursor works only for the list that made it."""
    if not key:
        return None
    payload = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(payload, scope)


def decode_cursor(cursor: str | None, scope: str) -> dict | None:
    if not cursor:
        return None
    try:
        body, signature = cursor.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise BAD_CURSOR from None
    # the previous key too while a rotation's grace period lasts: a page half read stays readable
    if not any(hmac.compare_digest(signature, _sign(payload, scope, key))
               for key in get_container().settings.token_secrets):
        raise BAD_CURSOR
    try:
        key = json.loads(payload)
    except ValueError:
        raise BAD_CURSOR from None
    return key


def page(query: Callable[..., Any], limit: int, cursor: str | None, present: Callable[[list], list], *,
         scope: str, model: type) -> dict:
    """ONE Query call: ``query(last_evaluated_key=, page_size=limit)`` reads at most ``limit`` items, and the
    page holds those that pass its filter (if any) — fewer than ``limit`` when a filter dropped some, with a
    cursor to go on. So a page costs one call and ``limit`` items read, whatever the size of the list."""
    results = query(last_evaluated_key=decode_cursor(cursor, scope), page_size=limit)
    raw = next(results.page_iter, None) or {}
    items = [model.from_raw_data(item) for item in raw.get("Items", [])]
    return {"items": present(items), "next_cursor": encode_cursor(results.page_iter.last_evaluated_key, scope)}
