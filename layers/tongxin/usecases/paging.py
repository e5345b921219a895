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


def _sign(payload: bytes) -> str:
    key = get_container().settings.token_secret.encode()
    return hmac.new(key, b"cursor:" + payload, hashlib.sha256).hexdigest()[:24]


def encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    payload = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(payload)


def decode_cursor(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        body, signature = cursor.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise BAD_CURSOR from None
    if not hmac.compare_digest(signature, _sign(payload)):
        raise BAD_CURSOR
    try:
        key = json.loads(payload)
    except ValueError:
        raise BAD_CURSOR from None
    return key


def page(query: Callable[..., Iterable], limit: int, cursor: str | None, present: Callable[[list], list]) -> dict:
    """Run ``query(limit=, last_evaluated_key=, page_size=)`` and shape one page."""
    results = query(limit=limit, last_evaluated_key=decode_cursor(cursor), page_size=limit)
    items = list(results)
    next_key = results.last_evaluated_key if len(items) == limit else None
    return {"items": present(items), "next_cursor": encode_cursor(next_key)}
