"""The community's audit log (留痕): who changed what for whom, before and after, and why.

One item per audited act, written in the act's own transaction; the community's log is one partition read newest
first (``GET /v1/admin/audit``), a page at a time. Today: attendance adjustments (志愿时长更正).
"""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from .base import BaseModel


class AuditModel(BaseModel):
    TABLE = "audit"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "audit"

    community_id = UnicodeAttribute(hash_key=True)
    audit_key = UnicodeAttribute(range_key=True)  # <UTC time, ISO, sortable>#<id>: newest first by key
    id = UnicodeAttribute()
    kind = UnicodeAttribute()  # attendance_adjusted
    at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute()
    actor_nickname = UnicodeAttribute(null=True)
    subject_id = UnicodeAttribute()  # whose record changed
    subject_nickname = UnicodeAttribute(null=True)
    target_id = UnicodeAttribute(null=True)  # what it concerns (the event)
    target_title = UnicodeAttribute(null=True)
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    reason = UnicodeAttribute(null=True)


def time_key(moment: datetime) -> str:
    """The sortable prefix of ``audit_key``: UTC, fixed width (microseconds always written)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
