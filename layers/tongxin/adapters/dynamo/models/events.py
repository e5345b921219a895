"""Events (活动) and the points supermarket (积分超市): data only until their issues land."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


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
