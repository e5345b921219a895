"""``Idempotency-Key`` records: same key + same user within 24 h → the first response, nothing changed.

``begin`` is one conditional Put that claims the key (or finds it); the response is stored after the
route ran. A claim left by a crashed request is a lease: after ``LEASE_SECONDS`` a retry may run again,
and the route's own conditional writes keep that second run from doing anything twice.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PutError

from ...domain.errors import IdempotencyKeyReused, RequestInProgress
from .models import IdempotencyModel

LEASE_SECONDS = 30


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    content_type: str | None


def _record_id(user_id: str, key: str) -> str:
    return f"{user_id}#{key}"


def begin(user_id: str, key: str, request_hash: str, ttl_seconds: int) -> StoredResponse | None:
    """Claim ``key`` for this request. Returns the stored response of a finished first request, or None
    when the caller should run the request now. Raises on a different body or a request still running."""
    now = int(time.time())
    record = IdempotencyModel(_record_id(user_id, key), request_hash=request_hash, state="in_progress",
                              lease_until=now + LEASE_SECONDS, expires_at=timedelta(seconds=ttl_seconds))
    free = IdempotencyModel.id.does_not_exist() | (IdempotencyModel.expires_at < datetime.fromtimestamp(now, timezone.utc)) | (
        (IdempotencyModel.state == "in_progress") & (IdempotencyModel.lease_until < now)
        & (IdempotencyModel.request_hash == request_hash))
    try:
        record.save(condition=free)
        return None
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        existing = IdempotencyModel.get(record.id, consistent_read=True)
    except DoesNotExist:  # expired and removed in between: treat as in progress, the client retries
        raise RequestInProgress() from None
    if existing.request_hash != request_hash:
        raise IdempotencyKeyReused()
    if existing.state != "done":
        raise RequestInProgress()
    return StoredResponse(int(existing.response_status), existing.response_body or "",
                          existing.response_content_type)


def complete(user_id: str, key: str, status: int, body: str, content_type: str | None) -> None:
    IdempotencyModel(_record_id(user_id, key)).update(actions=[
        IdempotencyModel.state.set("done"),
        IdempotencyModel.response_status.set(status),
        IdempotencyModel.response_body.set(body),
        IdempotencyModel.response_content_type.set(content_type),
    ])


def abandon(user_id: str, key: str) -> None:
    """Forget a claim whose request failed on our side (5xx), so the client's retry runs again."""
    IdempotencyModel(_record_id(user_id, key)).delete()
