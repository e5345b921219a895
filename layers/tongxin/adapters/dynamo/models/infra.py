"""Infrastructure tables: Idempotency-Key records, counters, small shared values."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute

from .base import BaseModel


class IdempotencyModel(BaseModel):
    TABLE = "idempotency"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "idempotency"

    id = UnicodeAttribute(hash_key=True)  # <user id>#<Idempotency-Key>
    request_hash = UnicodeAttribute()
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    response_content_type = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class CounterModel(BaseModel):
    """A count within a period (``wish-publish#<user>#2026-12-01``), bumped inside the transaction of the change
    it counts, with its cap as the condition: fairness caps cost no extra write. Expires after its period."""
    TABLE = "counters"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "counters"

    key = UnicodeAttribute(hash_key=True)
    n = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)
    # 通报 (``bulletin#street|district#<id>#YYYY-MM``): the month's rows as final, JSON (usecases/bulletin.py).
    snapshot = UnicodeAttribute(null=True)


class KeyValueModel(BaseModel):
    """Small shared values with expiry: the WeChat access_token shared by every Lambda instance."""
    TABLE = "kv"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "kv"

    key = UnicodeAttribute(hash_key=True)
    value = JSONAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    # A renewal under way (the access_token: adapters/wechat/token_store.py): until when (epoch seconds) and by whom;
    # absent when nobody renews it. Taken by one conditional write, so one container of the fleet renews.
    lease_until = NumberAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
