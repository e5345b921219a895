"""wechatpy ``SessionStorage`` on DynamoDB, so every Lambda instance shares one access_token.

WeChat rate-limits token fetches; a per-container cache would fetch one per cold start. Expiry is enforced
on read: DynamoDB's TTL deletes lazily, and a fresh container would otherwise trust a stale token.
"""
from __future__ import annotations

import time
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist
from wechatpy.session import SessionStorage

from ..dynamo.models import KeyValueModel

KEY_PREFIX = "wechat#"


class DynamoSessionStorage(SessionStorage):
    def get(self, key, default=None):
        try:
            item = KeyValueModel.get(KEY_PREFIX + key, consistent_read=True)
        except DoesNotExist:
            return default
        if item.expires_at is not None and item.expires_at.timestamp() <= time.time():
            return default
        return item.value

    def set(self, key, value, ttl=None):
        expires_at = timedelta(seconds=int(ttl)) if ttl else None
        KeyValueModel(KEY_PREFIX + key, value=value, expires_at=expires_at).save()

    def delete(self, key):
        KeyValueModel(KEY_PREFIX + key).delete()

    def __getitem__(self, key):  # wechatpy's base class forgets the ``return``
        return self.get(key)
