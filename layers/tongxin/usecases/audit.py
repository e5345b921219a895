"""The community's audit log (留痕) for its admins: every audited act, newest first, a page at a time.

An act writes its record in its own transaction (``AuditModel``); reading is one Query on the community's
partition, bounded by the window's keys, so a page costs ``limit`` items whatever the log's length.
"""
from __future__ import annotations

from datetime import datetime

from ..adapters.dynamo.models import AuditModel
from ..adapters.dynamo.models.audit import time_key
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api
from ..domain.errors import ValidationFailed
from . import paging
from ..domain.text import DEFAULT_NICKNAME


def present(record: AuditModel) -> dict:
    return {
        "id": record.id,
        "kind": record.kind,
        "at": to_api(record.at),
        "actor": {"id": record.actor_id, "nickname": record.actor_nickname or DEFAULT_NICKNAME},
        "subject": {"id": record.subject_id, "nickname": record.subject_nickname or DEFAULT_NICKNAME},
        "target": {"id": record.target_id, "title": record.target_title} if record.target_id else None,
        "before": record.before,
        "after": record.after,
        "reason": record.reason,
    }


def audit_log(principal: Principal, *, start: datetime | None, end: datetime | None, limit: int,
              cursor: str | None) -> dict:
    grant = require_role(principal, Role.ADMIN)
    if start is not None and end is not None and start >= end:
        raise ValidationFailed("开始时间必须早于结束时间", details={"field": "from"})
    # Keys begin with the UTC time in fixed-width ISO form: a window is a key range ("~" sorts after every id).
    low = time_key(start) if start is not None else None
    high = time_key(end) + "~" if end is not None else None
    key = AuditModel.audit_key
    condition = key.between(low, high) if low and high else key >= low if low else key <= high if high else None

    def query(**kwargs):
        return AuditModel.query(grant.community_id, condition, scan_index_forward=False, **kwargs)
    return paging.page(query, limit, cursor, lambda items: [present(r) for r in items],
                       scope=f"audit:{grant.community_id}:{low or ''}:{high or ''}", model=AuditModel)
