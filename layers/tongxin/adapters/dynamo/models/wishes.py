"""微心愿 wishes: the table and the indexes its lists and the scheduler read.

An index entry holds the keys and, for the two community lists, the three attributes their filters test (status,
grid, category): a page's entries are read from the index, then its wishes by key in one BatchGetItem. An entry is
then ~150 bytes instead of a copy of the wish, and a transition rewrites only the entries whose key or included
attribute it changes (docs/wishes.md, "Indexes").
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from .base import BaseModel

# What a list filters on (usecases/wishes/pages.py): carried by the list indexes' entries.
FILTERED = ["status", "grid_id", "category"]


class WishesByCommunity(GlobalSecondaryIndex):
    """Every wish of a community: the unfiltered list, and grid / category filters read on within a budget."""
    class Meta:
        index_name = "by_community"
        projection = IncludeProjection(FILTERED)
    community_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByCommunityStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_community_status"
        projection = IncludeProjection(FILTERED)
    community_status = UnicodeAttribute(hash_key=True)  # <community>#<status>
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByAuthor(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_author"
        projection = KeysOnlyProjection()
    author_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByClaimer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_claimer"
        projection = KeysOnlyProjection()
    claimer_id = UnicodeAttribute(hash_key=True)
    claimed_at = UTCDateTimeAttribute(range_key=True)


class WishesByGridTask(GlobalSecondaryIndex):
    """Sparse: only wishes that need their grid worker (to review, or overdue) carry ``grid_task``."""
    class Meta:
        index_name = "by_grid_task"
        projection = KeysOnlyProjection()
    grid_task = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByDue(GlobalSecondaryIndex):
    """Sparse: wishes with a pending scheduled step (escalation or expiry), sharded for the scheduler."""
    class Meta:
        index_name = "by_due"
        projection = KeysOnlyProjection()
    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class WishModel(BaseModel):
    TABLE = "wishes"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "wishes"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    grid_id = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute()
    title = UnicodeAttribute()
    content = UnicodeAttribute()
    category = UnicodeAttribute()
    status = UnicodeAttribute()
    # The status list's partition key (domain/wishes.list_keys), rewritten with every status change.
    community_status = UnicodeAttribute()
    # Names as they were when the person acted, so an answer needs no read of users ("已注销用户" after 注销).
    author_nickname = UnicodeAttribute(null=True)
    claimer_nickname = UnicodeAttribute(null=True)
    contact_phone = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    deadline = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True)
    claimer_id = UnicodeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute(null=True)
    first_claimed_at = UTCDateTimeAttribute(null=True)
    fulfilled_at = UTCDateTimeAttribute(null=True)
    fulfil_note = UnicodeAttribute(null=True)
    confirmed_at = UTCDateTimeAttribute(null=True)
    rating = NumberAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    points_awarded = NumberAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    expired_at = UTCDateTimeAttribute(null=True)
    escalated_at = UTCDateTimeAttribute(null=True)
    grid_task = UnicodeAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)

    by_community = WishesByCommunity()
    by_community_status = WishesByCommunityStatus()
    by_author = WishesByAuthor()
    by_claimer = WishesByClaimer()
    by_grid_task = WishesByGridTask()
    by_due = WishesByDue()
