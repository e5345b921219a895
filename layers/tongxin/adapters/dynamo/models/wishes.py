"""微心愿 wishes: the table and one index per list it serves."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class WishesByCommunity(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    community_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByCommunityStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_community_status"
        projection = AllProjection()
    community_status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByPublic(GlobalSecondaryIndex):
    """Sparse: only published wishes carry ``public_key`` (the community): a resident's home list."""
    class Meta:
        index_name = "by_public"
        projection = AllProjection()
    public_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByGrid(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_grid"
        projection = AllProjection()
    grid_key = UnicodeAttribute(hash_key=True)  # <community>#<grid>
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByGridStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_grid_status"
        projection = AllProjection()
    grid_status = UnicodeAttribute(hash_key=True)  # <community>#<grid>#<status>
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByCategory(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_category"
        projection = AllProjection()
    category_key = UnicodeAttribute(hash_key=True)  # <community>#<category>
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByCategoryStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_category_status"
        projection = AllProjection()
    category_status = UnicodeAttribute(hash_key=True)  # <community>#<category>#<status>
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByAuthor(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_author"
        projection = AllProjection()
    author_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByClaimer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_claimer"
        projection = AllProjection()
    claimer_id = UnicodeAttribute(hash_key=True)
    claimed_at = UTCDateTimeAttribute(range_key=True)


class WishesByGridTask(GlobalSecondaryIndex):
    """Sparse: only wishes that need their grid worker (to review, or overdue) carry ``grid_task``."""
    class Meta:
        index_name = "by_grid_task"
        projection = AllProjection()
    grid_task = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WishesByDue(GlobalSecondaryIndex):
    """Sparse: wishes with a pending scheduled step (escalation or expiry), sharded for the scheduler."""
    class Meta:
        index_name = "by_due"
        projection = AllProjection()
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
    # One partition key per list filter (domain/wishes.list_keys), rewritten with every status change.
    community_status = UnicodeAttribute()
    grid_key = UnicodeAttribute(null=True)
    grid_status = UnicodeAttribute(null=True)
    category_key = UnicodeAttribute(null=True)
    category_status = UnicodeAttribute(null=True)
    public_key = UnicodeAttribute(null=True)
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
    by_public = WishesByPublic()
    by_grid = WishesByGrid()
    by_grid_status = WishesByGridStatus()
    by_category = WishesByCategory()
    by_category_status = WishesByCategoryStatus()
    by_author = WishesByAuthor()
    by_claimer = WishesByClaimer()
    by_grid_task = WishesByGridTask()
    by_due = WishesByDue()
