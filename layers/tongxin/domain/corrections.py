"""志愿服务记录更正 (corrections of the volunteer record): pure rules, no I/O.

民政部's rule (志愿服务记录与证明出具办法): a volunteer who finds an error in their record asks, and the recorder
checks and corrects it. Here the volunteer asks for the minutes an attendance should have; the event's organiser
(or a community admin) approves — which applies the organiser's audited adjustment (补录/更正) with those minutes —
or refuses with a reason.

``attendance_id`` names one line of ``GET /v1/me/volunteer-record``: the sign-up's key ``<event_id>.<user_id>``
(the record shows ``event_id`` and ``user.id`` on each line; ids never hold a dot)."""
from __future__ import annotations

from .errors import NotFound

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
STATUSES = (PENDING, APPROVED, REFUSED)
REASON_MAX = 200
APPROVAL_REASON = "居民申请更正：{reason}"

ATTENDANCE_NOT_FOUND = NotFound("没有找到这条志愿服务记录", details={"field": "attendance_id"})
CORRECTION_NOT_FOUND = NotFound("没有找到这条更正申请")


def attendance_id(event_id: str, user_id: str) -> str:
    return f"{event_id}.{user_id}"


def parse_attendance_id(value: str, user_id: str) -> str:
    """The event id of one of ``user_id``'s own attendances; 404 (naming ``attendance_id``) for anything else —
    another person's attendance is not told apart from one that does not exist."""
    event_id, dot, owner = (value or "").partition(".")
    if not dot or not event_id or owner != user_id:
        raise ATTENDANCE_NOT_FOUND
    return event_id


def lock_key(event_id: str, user_id: str) -> str:
    """The item that holds the attendance's one pending correction (its Put's condition: absent)."""
    return f"pending#{event_id}#{user_id}"


def status_key(scope: str, status: str) -> str:
    """``<community_id>#<status>`` (the admins' list) or ``<event_id>#<status>`` (an organiser's, by event)."""
    return f"{scope}#{status}"


def correction_id(event_id: str, nonce: str) -> str:
    """``<event_id>.<nonce>``: the id names its event, so a decision reads both in one BatchGetItem."""
    return f"{event_id}.{nonce}"


def event_of(correction_id: str) -> str:
    """The event a correction id names; 404 for an id of no such shape."""
    event_id, dot, nonce = correction_id.partition(".")
    if not dot or not event_id or not nonce.startswith("vc_"):
        raise CORRECTION_NOT_FOUND
    return event_id
