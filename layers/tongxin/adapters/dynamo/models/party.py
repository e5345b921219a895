"""双报到: a party member's registration (党员报到) with the community they live in."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class RegistrationsByStatus(GlobalSecondaryIndex):
    """A community's registrations of one status, newest submitted first (``GET /v1/admin/party-registrations
    ?status=``: one Query a page). ``status_key`` is ``<community_id>#<status>``."""
    class Meta:
        index_name = "by_status"
        projection = AllProjection()
    status_key = UnicodeAttribute(hash_key=True)
    submitted_at = UTCDateTimeAttribute(range_key=True)


class RegistrationsByUnit(GlobalSecondaryIndex):
    """Sparse: the approved registrations that name a unit (``unit_key`` = the unit id, set on approval, removed when
    the registration ends): a unit's party members, by approval time (the service cards of a unit, O(page))."""
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()
    unit_key = UnicodeAttribute(hash_key=True)
    decided_at = UTCDateTimeAttribute(range_key=True)


class PartyRegistrationModel(BaseModel):
    """One per person per community, by its key: ``id`` is ``<community_id>.<user_id>``
    (``domain/party.registration_key``), so a second submission is refused by the Put's condition (409
    ``ALREADY_REGISTERED``) unless the first was rejected or has ended, which it then replaces.

    ``pending → approved | rejected``; ``approved → ended`` (the member's 注销, or an admin taking the
    ``party_member`` role away). The approval's transaction gives the user ``party_member`` and ``party_unit_id``."""
    TABLE = "party_registrations"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "party_registrations"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | approved | rejected | ended
    status_key = UnicodeAttribute()  # <community_id>#<status>: by_status
    real_name = UnicodeAttribute(null=True)  # erased when the registration ends by 注销
    work_unit = UnicodeAttribute(null=True)
    party_branch = UnicodeAttribute(null=True)
    unit_id = UnicodeAttribute(null=True)  # a registered unit (共建单位) the member works for, if any
    nickname = UnicodeAttribute(null=True)  # as it was when submitted: the admin's list reads no user
    reason = UnicodeAttribute(null=True)  # a rejection's, or why it ended
    submitted_at = UTCDateTimeAttribute()
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)
    unit_key = UnicodeAttribute(null=True)  # sparse by_unit: the unit id while approved with a unit
    updated_at = UTCDateTimeAttribute()

    by_status = RegistrationsByStatus()
    by_unit = RegistrationsByUnit()
