"""PynamoDB models: one class per table, indexes declared next to the list they serve.

Table names are bound at start-up (``binding.bind``) to ``<prefix>-<name>``; ``TABLE`` below is the
``<name>`` part. Hot counters (points, stock, counts) live on items without a VersionAttribute (a
version-less update would reset it).
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, TTLAttribute,
    UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.models import Model


class BaseModel(Model):
    """Base for every table; ``binding.bind`` fills in region, host and the stage's table name."""
    TABLE = ""

    class Meta:
        abstract = True
        region = "cn-north-1"
        host = None


# --- identity ------------------------------------------------------------------------------------

class UserModel(BaseModel):
    TABLE = "users"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "users"

    id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(default="active")  # active | deleted (注销)
    nickname = UnicodeAttribute(null=True)
    avatar_url = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    real_name = UnicodeAttribute(null=True)
    skills = ListAttribute(of=UnicodeAttribute, null=True)
    community_id = UnicodeAttribute(null=True)
    grid_id = UnicodeAttribute(null=True)
    roles = UnicodeSetAttribute(null=True)
    grid_ids = UnicodeSetAttribute(null=True)
    store_ids = UnicodeSetAttribute(null=True)
    points_balance = NumberAttribute(default=0)
    earned_total = NumberAttribute(default=0)
    volunteer_minutes = NumberAttribute(default=0)
    # Never leaves the server: used only to address subscribe messages.
    openid = UnicodeAttribute(null=True)
    volunteer_since = UTCDateTimeAttribute(null=True)
    # Set when an admin takes ``volunteer`` away: self-registration may not give it back (an admin may).
    volunteer_revoked_at = UTCDateTimeAttribute(null=True)
    joined_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    deleted_at = UTCDateTimeAttribute(null=True)


class IdentityModel(BaseModel):
    """openid → user id. Its conditional Put is what makes concurrent first logins create one user."""
    TABLE = "identities"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "identities"

    openid = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    unionid = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


# --- communities, grids, invites -------------------------------------------------------------------

class CommunityModel(BaseModel):
    TABLE = "communities"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "communities"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    wish_review_required = BooleanAttribute(default=False)
    wish_points = NumberAttribute(default=20)
    # Fairness caps (None: the defaults in domain/wishes.py).
    wish_publish_daily_cap = NumberAttribute(null=True)
    wish_points_daily_cap = NumberAttribute(null=True)
    wish_points_pair_monthly_cap = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class GridModel(BaseModel):
    TABLE = "grids"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "grids"

    community_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    # Kept in the same transaction as role assignment: who is pushed this grid's tasks.
    worker_ids = UnicodeSetAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class InviteModel(BaseModel):
    TABLE = "invites"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "invites"

    code = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    grid_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


# --- wishes (微心愿) --------------------------------------------------------------------------------

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


# --- points (积分存折) --------------------------------------------------------------------------------

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


# --- push outbox (订阅消息) ---------------------------------------------------------------------------

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


# --- events (活动) and the points supermarket (积分超市): data only until their issues land ---------

class EventsByCommunity(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    community_id = UnicodeAttribute(hash_key=True)
    starts_at = UTCDateTimeAttribute(range_key=True)


class EventModel(BaseModel):
    TABLE = "events"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "events"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    title = UnicodeAttribute()
    kind = UnicodeAttribute()  # activity | volunteer_service
    description = UnicodeAttribute(null=True)
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    signup_deadline = UTCDateTimeAttribute(null=True)
    location = JSONAttribute(null=True)
    capacity = NumberAttribute()
    signed_count = NumberAttribute(default=0)
    waitlist_count = NumberAttribute(default=0)
    points_per_hour = NumberAttribute(default=0)
    allow_walk_ins = BooleanAttribute(default=False)
    organiser_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    by_community = EventsByCommunity()


class StoreModel(BaseModel):
    TABLE = "stores"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "stores"

    community_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class GoodsModel(BaseModel):
    TABLE = "goods"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "goods"

    store_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    community_id = UnicodeAttribute()
    name = UnicodeAttribute()
    price_points = NumberAttribute()
    stock = NumberAttribute()
    per_user_limit = NumberAttribute(null=True)
    on_shelf = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()


# --- infrastructure tables ----------------------------------------------------------------------------

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


class KeyValueModel(BaseModel):
    """Small shared values with expiry: the WeChat access_token shared by every Lambda instance."""
    TABLE = "kv"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "kv"

    key = UnicodeAttribute(hash_key=True)
    value = JSONAttribute()
    expires_at = TTLAttribute(null=True)


ALL_MODELS: tuple[type[BaseModel], ...] = (
    UserModel, IdentityModel, CommunityModel, GridModel, InviteModel, WishModel, LedgerEntryModel,
    OutboxModel, EventModel, StoreModel, GoodsModel, IdempotencyModel, CounterModel, KeyValueModel,
)
