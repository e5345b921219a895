"""The points supermarket (积分超市): stores and their goods (seed data until the points issue lands)."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

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
