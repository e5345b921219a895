"""微实事 票选: one ballot per voter per round (its conditional Put is the once-only rule). The counts are not here:
they are sharded CounterModel items (``round-votes#<round>#<project>#<shard>``, ``round-turnout#<round>#<shard>``)
added to in the ballot's own transaction (usecases/ballots.py)."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from .base import BaseModel


class BallotsByUser(GlobalSecondaryIndex):
    """A person's ballots across rounds (keys only): 绑定 refuses an account that voted (usecases/binding.py) — kept
    beside the managed account's own ballot in the same round, it would be the same person's second vote."""
    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()
    user_id = UnicodeAttribute(hash_key=True)
    round_id = UnicodeAttribute(range_key=True)


class BallotModel(BaseModel):
    """A resident's ballot in a round: what they chose (ids, and titles as they were, for the receipt), when, the
    counter shard it added to, and — for 代办 (issue 25) — the staff member who cast it for them."""
    TABLE = "ballots"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "ballots"

    round_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    community_id = UnicodeAttribute()
    project_ids = ListAttribute(of=UnicodeAttribute)
    project_titles = ListAttribute(of=UnicodeAttribute)
    shard = NumberAttribute()
    cast_at = UTCDateTimeAttribute()
    proxy_by = UnicodeAttribute(null=True)

    by_user = BallotsByUser()
