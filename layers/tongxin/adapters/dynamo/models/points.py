"""积分存折: the append-only ledger."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, LocalSecondaryIndex

from .base import BaseModel


class LedgerByTime(LocalSecondaryIndex):
    class Meta:
        index_name = "by_time"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class LedgerEntryModel(BaseModel):
    """Append-only. ``entry_key`` is derived from the source (``wish#<id>#confirm``), so a source can be
    credited only once: the Put carries ``attribute_not_exists``."""
    TABLE = "ledger"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "ledger"

    user_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    id = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount = NumberAttribute()
    balance_after = NumberAttribute()
    source = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    community_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    by_time = LedgerByTime()
