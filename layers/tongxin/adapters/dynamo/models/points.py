"""积分: the append-only ledger (积分存折), awards and leaderboard scores."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex

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


class AwardModel(BaseModel):
    """An award (雪中送炭 charity, 息事宁人 mediation, 锦上添花 participation): the audit record of who gave whom what,
    why and when, and of its reversal. Its ledger entry is ``award#<id>``."""
    TABLE = "awards"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "awards"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    user_nickname = UnicodeAttribute(null=True)
    grid_id = UnicodeAttribute(null=True)  # the awarded user's grid at the time: the grid leaderboard it went to
    category = UnicodeAttribute()  # charity | mediation | participation
    points = NumberAttribute()
    reason = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # active | reversed
    awarded_by = UnicodeAttribute()
    awarded_by_nickname = UnicodeAttribute(null=True)
    awarded_as = UnicodeAttribute()  # the role that allowed it: admin | grid_worker
    created_at = UTCDateTimeAttribute()
    reversed_at = UTCDateTimeAttribute(null=True)
    reversed_by = UnicodeAttribute(null=True)
    reverse_reason = UnicodeAttribute(null=True)


class ScoresByScore(GlobalSecondaryIndex):
    """A board's users by score: the leaderboard is one Query, descending."""
    class Meta:
        index_name = "by_score"
        projection = KeysOnlyProjection()
    board = UnicodeAttribute(hash_key=True)
    score = NumberAttribute(range_key=True)


class ScoreModel(BaseModel):
    """One user's score on one board (``points#community#<id>#2026-12``, ``minutes#grid#<id>#all``), added to in the
    transaction of every credit (``usecases/points/scores.py``)."""
    TABLE = "scores"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "scores"

    board = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    score = NumberAttribute(default=0)

    by_score = ScoresByScore()
