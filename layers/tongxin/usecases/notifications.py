"""Outbox items: messages to push (订阅消息), written inside the transaction of the change that causes them.

The sender (push issue) maps ``kind`` to a template and ``data`` to its fields. An item with a ``key``
derived from its cause (e.g. ``wish#<id>#overdue#<worker>``) can be written only once.
"""
from __future__ import annotations

from ..adapters.dynamo.models import OutboxModel
from ..adapters.dynamo.tx import Tx
from ..domain.clock import utcnow
from ..domain.errors import Conflict
from ..domain.ids import new_id

WISH_PAGE = "pages/wish/detail?id={id}"


def enqueue(tx: Tx, *, kind: str, recipient_id: str, data: dict, page: str | None = None,
            community_id: str | None = None, key: str | None = None,
            duplicate_error: Conflict | None = None) -> OutboxModel:
    item = OutboxModel(key or new_id("msg"), recipient_id=recipient_id, kind=kind, data=data, page=page,
                       status="pending", attempts=0, community_id=community_id, created_at=utcnow())
    tx.put(item, condition=OutboxModel.id.does_not_exist(), error=duplicate_error)
    return item

