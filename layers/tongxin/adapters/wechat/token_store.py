"""wechatpy ``SessionStorage`` on DynamoDB, so every Lambda instance shares one access_token, with the token
also kept in the container's memory until it expires (no read of DynamoDB before every WeChat call).

WeChat rate-limits token fetches; a per-container cache alone would fetch one per cold start. Expiry is enforced
on read: DynamoDB's TTL deletes lazily, and a fresh container would otherwise trust a stale token. A token WeChat
rejects is deleted (``MiniProgramClient._call``), from memory and from DynamoDB.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist
from wechatpy.session import SessionStorage

from ..dynamo.models import KeyValueModel

KEY_PREFIX = "wechat#"


class DynamoSessionStorage(SessionStorage):
    def __init__(self) -> None:
        self._memory: dict[str, tuple[object, float | None]] = {}
        self._lock = threading.Lock()

    def _remembered(self, key):
        with self._lock:
            value, expires_at = self._memory.get(key, (None, None))
        if value is not None and (expires_at is None or expires_at > time.time()):
            return value
        return None

    def _remember(self, key, value, expires_at: float | None) -> None:
        with self._lock:
            self._memory[key] = (value, expires_at)

    def get(self, key, default=None):
        remembered = self._remembered(key)
        if remembered is not None:
            return remembered
        try:
            item = KeyValueModel.get(KEY_PREFIX + key, consistent_read=True)
        except DoesNotExist:
            return default
        expires_at = item.expires_at.timestamp() if item.expires_at is not None else None
        if expires_at is not None and expires_at <= time.time():
            return default
        self._remember(key, item.value, expires_at)
        return item.value

    def set(self, key, value, ttl=None):
        expires_at = timedelta(seconds=int(ttl)) if ttl else None
        KeyValueModel(KEY_PREFIX + key, value=value, expires_at=expires_at).save()
        self._remember(key, value, time.time() + int(ttl) if ttl else None)

    def delete(self, key):
        with self._lock:
            self._memory.pop(key, None)
        KeyValueModel(KEY_PREFIX + key).delete()

    def __getitem__(self, key):  # wechatpy's base class forgets the ``return``
        return self.get(key)
