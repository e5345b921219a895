"""志愿服务记录更正: a volunteer's request to correct the minutes of one attendance, and its decision."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class CorrectionsByUser(GlobalSecondaryIndex):
    """A volunteer's corrections, newest first (``GET /v1/me/volunteer-record/corrections``: one Query a page)."""
    class Meta:
        index_name = "by_user"
        projection = AllProjection()
    user_key = UnicodeAttribute(hash_key=True)
    submitted_at = UTCDateTimeAttribute(range_key=True)


class CorrectionsByStatus(GlobalSecondaryIndex):
    """A community's corrections of one status (``status_key`` = ``<community_id>#<status>``): the admins' list."""
    class Meta:
        index_name = "by_status"
        projection = AllProjection()
    status_key = UnicodeAttribute(hash_key=True)
    submitted_at = UTCDateTimeAttribute(range_key=True)


class CorrectionsByEvent(GlobalSecondaryIndex):
    """An event's corrections of one status (``event_status_key`` = ``<event_id>#<status>``): the organiser's list
    (``GET /v1/admin/corrections?event_id=``)."""
    class Meta:
        index_name = "by_event"
        projection = AllProjection()
    event_status_key = UnicodeAttribute(hash_key=True)
    submitted_at = UTCDateTimeAttribute(range_key=True)


class CorrectionModel(BaseModel):
    """One correction request (``id`` ``vc_…``), ``pending → approved | refused``, and, on the same table, the lock
    item of an attendance's one pending correction (``id`` ``pending#<event_id>#<user_id>``, holding
    ``correction_id``; no index attribute, so it is in no list): the request's Put of the lock is conditioned on
    its absence (409 ``CORRECTION_PENDING``), and the decision deletes it in the decision's transaction."""
    TABLE = "corrections"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "corrections"

    id = UnicodeAttribute(hash_key=True)
    correction_id = UnicodeAttribute(null=True)  # the lock item: the pending correction
    community_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    nickname = UnicodeAttribute(null=True)  # the volunteer's, when asked (the lists read no user)
    event_id = UnicodeAttribute(null=True)
    event_title = UnicodeAttribute(null=True)
    grid_id = UnicodeAttribute(null=True)
    organiser_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # pending | approved | refused
    minutes = NumberAttribute(null=True)  # asked for
    minutes_before = NumberAttribute(null=True)  # the record's when asked
    reason = UnicodeAttribute(null=True)  # the volunteer's
    decided_by = JSONAttribute(null=True)  # {id, nickname}
    decided_at = UTCDateTimeAttribute(null=True)
    decision_reason = UnicodeAttribute(null=True)  # a refusal's, shown to the volunteer
    submitted_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    user_key = UnicodeAttribute(null=True)  # by_user
    status_key = UnicodeAttribute(null=True)  # by_status
    event_status_key = UnicodeAttribute(null=True)  # by_event

    by_user = CorrectionsByUser()
    by_status = CorrectionsByStatus()
    by_event = CorrectionsByEvent()
