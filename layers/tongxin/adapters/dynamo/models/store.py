"""The points supermarket (积分超市): stores, their goods, redemptions and their pickup codes."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


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


class GoodsByStore(GlobalSecondaryIndex):
    """A store's goods, oldest first (GET /v1/stores/{id}/goods)."""
    class Meta:
        index_name = "by_store"
        projection = AllProjection()
    store_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class GoodsModel(BaseModel):
    """An item of a store. ``stock`` only ever moves by atomic adds (a redemption's ``- quantity`` conditioned on
    ``stock ≥ quantity``, a refund's ``+ quantity``, a keeper's restock), never by an overwrite."""
    TABLE = "goods"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "goods"

    id = UnicodeAttribute(hash_key=True)
    store_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    price_points = NumberAttribute()
    stock = NumberAttribute()
    per_user_limit = NumberAttribute(null=True)  # None: no limit
    on_shelf = BooleanAttribute(default=True)
    # 共建单位 sponsoring the goods (units.py): its name stored with it at write time, so lists read nothing more.
    sponsor_unit_id = UnicodeAttribute(null=True)
    sponsor_name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)

    by_store = GoodsByStore()


class RedemptionsByUser(GlobalSecondaryIndex):
    """My redemptions, newest first (GET /v1/redemptions/mine)."""
    class Meta:
        index_name = "by_user"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RedemptionsByStoreStatus(GlobalSecondaryIndex):
    """The counter's queue: a store's redemptions in one status (GET /v1/stores/{id}/redemptions?status=)."""
    class Meta:
        index_name = "by_store_status"
        projection = AllProjection()
    store_status = UnicodeAttribute(hash_key=True)  # <store id>#<status>
    created_at = UTCDateTimeAttribute(range_key=True)


class RedemptionsByDue(GlobalSecondaryIndex):
    """Sparse: pending redemptions by their next scheduled step (the day-before reminder, then the expiry)."""
    class Meta:
        index_name = "by_due"
        projection = AllProjection()
    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class RedemptionModel(BaseModel):
    """A redemption (兑换): ``pending_pickup`` → ``picked_up`` | ``cancelled`` | ``expired``."""
    TABLE = "redemptions"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "redemptions"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    goods_id = UnicodeAttribute()
    goods_name = UnicodeAttribute()
    user_id = UnicodeAttribute()
    # The redeemer's names as they were at redemption time, for the store's staff (their queue reads no user);
    # 注销 replaces the nickname with 已注销用户 and removes the real name.
    redeemer_nickname = UnicodeAttribute(null=True)
    redeemer_real_name = UnicodeAttribute(null=True)
    quantity = NumberAttribute()
    price_points = NumberAttribute()
    points = NumberAttribute()
    pickup_code = UnicodeAttribute()
    status = UnicodeAttribute()
    store_status = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    reminded = BooleanAttribute(default=False)
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    picked_up_at = UTCDateTimeAttribute(null=True)
    picked_up_by = UnicodeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    expired_at = UTCDateTimeAttribute(null=True)

    by_user = RedemptionsByUser()
    by_store_status = RedemptionsByStoreStatus()
    by_due = RedemptionsByDue()


class PickupCodeModel(BaseModel):
    """A pickup code taken in a community (``<community>#<code>``): its uniqueness is this item's existence, put in
    the redemption's own transaction. Kept after pickup, so a second verify is told "already picked up"."""
    TABLE = "pickup_codes"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "pickup_codes"

    key = UnicodeAttribute(hash_key=True)
    redemption_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
