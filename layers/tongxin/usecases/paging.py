"""Cursor pagination over one Query: ``?limit=&cursor=`` → ``{"items", "next_cursor"}``.

The cursor is DynamoDB's LastEvaluatedKey, signed so a client cannot steer a Query into another
partition (a forged start key would also make DynamoDB answer ValidationException, a 500).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Callable, Iterable

from ..domain.errors import ValidationFailed
from ..wiring import get_container

BAD_CURSOR = ValidationFailed("cursor 无效或已过期，请从第一页重新加载", details={"field": "cursor"})


def _sign(payload: bytes, scope: str) -> str:
    key = get_container().settings.token_secret.encode()
    return hmac.new(key, f"cursor:{scope}:".encode() + payload, hashlib.sha256).hexdigest()[:24]


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
    if not hmac.compare_digest(signature, _sign(payload, scope)):
        raise BAD_CURSOR
    try:
        key = json.loads(payload)
    except ValueError:
        raise BAD_CURSOR from None
    return key


def page(query: Callable[..., Iterable], limit: int, cursor: str | None, present: Callable[[list], list], *,
         scope: str) -> dict:
    """Run ``query(limit=, last_evaluated_key=, page_size=)`` and shape one page of the list ``scope``."""
    results = query(limit=limit, last_evaluated_key=decode_cursor(cursor, scope), page_size=limit)
    items = list(results)
    next_key = results.last_evaluated_key if len(items) == limit else None
    return {"items": present(items), "next_cursor": encode_cursor(next_key, scope)}
