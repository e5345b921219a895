"""Units (共建单位/驻区单位) registered by a street, their invites (how a liaison is named), their co-building
agreements with communities (共建协议) and their resources (资源清单)."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class UnitsByStreet(GlobalSecondaryIndex):
    """A street's units, oldest first (``GET /v1/street/units``, ``GET /v1/admin/units``: one Query a page)."""
    class Meta:
        index_name = "by_street"
        projection = AllProjection()
    street_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class UnitsRegistry(GlobalSecondaryIndex):
    """Every unit, oldest first (``registry`` is the same on all: one partition). The scheduler's quarter close
    (usecases/service_cards.run_schedule) pages through it once a quarter — a Query, since no function of ours may
    Scan (template.yaml) — never a request's path: a district's units are hundreds."""
    class Meta:
        index_name = "by_registry"
        projection = AllProjection()
    registry = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


REGISTRY = "unit"


class UnitModel(BaseModel):
    """A unit (共建单位/驻区单位) of a street: 机关, 企业, 事业单位, 学校, 医院 or 社会组织. Its liaisons
    (``unit_liaison``, ``users.unit_ids``) act for it; ``liaison_ids`` is kept in the same transaction as the user's
    side (whom the unit's messages reach; a liaison's 注销 leaves the set, see usecases/units/upkeep.py)."""
    TABLE = "units"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "units"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    street_id = UnicodeAttribute()
    contact_name = UnicodeAttribute()
    contact_phone = UnicodeAttribute()
    liaison_ids = UnicodeSetAttribute(null=True)
    # Counters kept in the transactions that add agreements and resources (the unit's card reads no list).
    agreement_count = NumberAttribute(default=0)
    resource_count = NumberAttribute(default=0)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    registry = UnicodeAttribute(default=REGISTRY)  # by_registry: every unit (written with the unit's Put)

    by_street = UnitsByStreet()
    by_registry = UnitsRegistry()


class UnitInviteModel(BaseModel):
    """A one-time, time-limited invite to become a unit's liaison (``POST /v1/me/unit``); ``used_by`` is set by the
    transaction that consumes it, conditioned on its absence and on ``expires_at`` in the future."""
    TABLE = "unit_invites"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "unit_invites"

    code = UnicodeAttribute(hash_key=True)
    unit_id = UnicodeAttribute()
    unit_name = UnicodeAttribute()  # as it was when invited: the answer of the join needs no read of the unit
    street_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    used_by = UnicodeAttribute(null=True)
    used_at = UTCDateTimeAttribute(null=True)


class UnitAgreementModel(BaseModel):
    """A unit's co-building agreement (共建协议) with one community: one item per (unit, community); posting again
    replaces it while it is valid (the write is conditioned on it being absent, expired or the same community's)."""
    TABLE = "unit_agreements"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "unit_agreements"

    unit_id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute(range_key=True)
    community_name = UnicodeAttribute()
    street_id = UnicodeAttribute()
    pledges = ListAttribute(of=UnicodeAttribute)
    activities_per_quarter = NumberAttribute()
    valid_until = UnicodeAttribute()  # YYYY-MM-DD, Asia/Shanghai
    signed_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class UnitResourceModel(BaseModel):
    """An item of a unit's 资源清单 (what it offers the communities it co-builds with), oldest first."""
    TABLE = "unit_resources"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "unit_resources"

    unit_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)  # time-ordered (ids.new_id)
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    capacity = NumberAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class UnitLiaisonModel(BaseModel):
    """A unit's liaison (联络员) as the street sees them: the name copied when they joined, and since when. Put by the
    invite's transaction (``POST /v1/me/unit``), deleted by the removal's (``DELETE
    /v1/street/units/{unit_id}/liaisons/{user_id}``) and by 注销 — in the same transactions as ``users.unit_ids``
    and ``units.liaison_ids``. ``GET /v1/street/units/{unit_id}/liaisons`` is one Query a page."""
    TABLE = "unit_liaisons"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "unit_liaisons"

    unit_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    nickname = UnicodeAttribute(null=True)
    since = UTCDateTimeAttribute()
    invite_code = UnicodeAttribute(null=True)
