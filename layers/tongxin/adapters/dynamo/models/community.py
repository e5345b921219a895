"""Streets (街道), communities (社区), their grids (网格) and invites."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute

from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

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
    # Events: the most points an hour of service may earn (None: the default in domain/events.py).
    points_per_hour_cap = NumberAttribute(null=True)
    # 接诉即办 time limits (None: the defaults in domain/requests.py).
    request_answer_minutes = NumberAttribute(null=True)
    request_answer_minutes_urgent = NumberAttribute(null=True)
    request_solve_hours = NumberAttribute(null=True)
    request_submit_daily_cap = NumberAttribute(null=True)
    # 双报到 考核 rules (None: the defaults in domain/party.py).
    party_services_per_quarter_min = NumberAttribute(null=True)
    party_hours_per_year_min = NumberAttribute(null=True)
    # The street above (接诉即办 escalates to its staff); set by the operator.
    street_id = UnicodeAttribute(null=True)
    # The street's district (区), kept by the operator's commands with the street's: requests fix it at submission.
    district_id = UnicodeAttribute(null=True)
    # Kept in the same transaction as role assignment: who is pushed what reaches the community level.
    admin_ids = UnicodeSetAttribute(null=True)
    # 志愿服务记录证明: the 负责人 its certificates name (usecases/certificates.py; "—" when unset).
    certificate_signatory = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class StreetsRegistry(GlobalSecondaryIndex):
    """Every street, oldest first (``registry`` is the same on all: one partition). The bulletin's monthly
    finalisation (usecases/bulletin.run_schedule) pages through it — a Query, since no function of ours may Scan
    (template.yaml) — never a request's path."""
    class Meta:
        index_name = "by_registry"
        projection = AllProjection()
    registry = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


STREET_REGISTRY = "street"


class StreetModel(BaseModel):
    """A street (街道) above communities: its staff answer the requests its communities escalate (吹哨报到).
    Created, attached and staffed by the platform operator (command line)."""
    TABLE = "streets"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "streets"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    community_ids = UnicodeSetAttribute(null=True)
    district_id = UnicodeAttribute(null=True)  # the district above (区): its departments answer what 吹哨 sends up
    # Kept in the same transaction as naming staff: who is pushed what reaches the street.
    staff_ids = UnicodeSetAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    registry = UnicodeAttribute(default=STREET_REGISTRY)  # by_registry: every street (written with its Put)

    by_registry = StreetsRegistry()


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
