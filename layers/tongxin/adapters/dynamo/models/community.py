"""Communities (社区), their grids (网格) and invites."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute

from .base import BaseModel


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
    # Award caps (None: the defaults in domain/points.py): one award per category, one awarder per day.
    award_cap_charity = NumberAttribute(null=True)
    award_cap_mediation = NumberAttribute(null=True)
    award_cap_participation = NumberAttribute(null=True)
    award_daily_cap = NumberAttribute(null=True)
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
