"""积分: the append-only ledger (积分存折), awards and leaderboard scores."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, LocalSecondaryIndex

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
    grid_id = UnicodeAttribute(null=True)  # the awarded user's grid at the time
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
    """A community's board by score: the leaderboard is one Query, descending, each entry carrying the name shown."""
    class Meta:
        index_name = "by_score"
        projection = IncludeProjection(["nickname"])
    board = UnicodeAttribute(hash_key=True)
    score = NumberAttribute(range_key=True)


class ScoresByGridScore(GlobalSecondaryIndex):
    """A grid's board by score: the same items as the community's board, keyed by the grid board they carry."""
    class Meta:
        index_name = "by_grid_score"
        projection = IncludeProjection(["nickname"])
    grid_board = UnicodeAttribute(hash_key=True)
    score = NumberAttribute(range_key=True)


class ScoreModel(BaseModel):
    """One user's score of one metric and period (``points#community#<id>#2026-12``, ``minutes#community#<id>#all``),
    added to in the transaction of every credit (``adapters/dynamo/scores.py``). The same item stands on the
    user's grid's board of that period (``grid_board``, index ``by_grid_score``), and carries the user's nickname for
    the boards to show: both copies follow the user item in the transactions that change it (a nickname, a move to
    another grid, 注销 — ``scores.follow``)."""
    TABLE = "scores"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "scores"

    board = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    score = NumberAttribute(default=0)
    grid_board = UnicodeAttribute(null=True)  # ``<metric>#grid#<grid>#<period>``: absent outside a grid
    nickname = UnicodeAttribute(null=True)  # absent: the default nickname is shown

    by_score = ScoresByScore()
    by_grid_score = ScoresByGridScore()
