"""Push outbox (订阅消息)."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.constants import STREAM_NEW_IMAGE

from .base import BaseModel


class OutboxModel(BaseModel):
    """A message to push, written in the transaction of the change that causes it; the stream feeds the sender."""
    TABLE = "outbox"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "outbox"
        stream_view_type = STREAM_NEW_IMAGE

    id = UnicodeAttribute(hash_key=True)
    recipient_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    data = JSONAttribute()
    page = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="pending")  # pending | sent | skipped | failed
    attempts = NumberAttribute(default=0)
    community_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
