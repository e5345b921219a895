"""Events (活动 / 招募令): the rules of publishing, signing up, the waitlist and the event's phases.

    publish ──▶ open ──(signup deadline)──▶ closed ──(start)──▶ ongoing ──(end)──▶ ended
                  └──────────── cancel (organiser, before the end) ──────────────▶ cancelled

A sign-up is ``signed`` while places are left, else ``waitlisted`` with a ticket (its position); giving up a
place promotes the first ticket still waiting. Pure: every function takes the time it needs as an argument.
"""
from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from enum import Enum

from .errors import InvalidState, SignupClosed, ValidationFailed
from .stats import bucket_names

KINDS = ("activity", "volunteer_service")
TITLE_MAX, DESCRIPTION_MAX, REASON_MAX, ADDRESS_MAX = 40, 2000, 200, 100
CAPACITY_MAX = 5000
POINTS_PER_HOUR_MAX = 100  # the most a community's cap may be set to
POINTS_PER_HOUR_CAP_DEFAULT = 20  # a community's cap unless its settings say otherwise
RADIUS_MIN, RADIUS_MAX, RADIUS_DEFAULT = 50, 5000, 200
START_MAX_AHEAD = timedelta(days=366)
# Hours are credited for time inside the event's window: a window of days would let an organiser mint points for
# time nobody served. A longer activity is published as one event a day.
LONGEST = timedelta(hours=24)
REMIND_BEFORE = timedelta(hours=24)
CLOSE_AFTER_END = timedelta(hours=2)  # check-out is open this long after the end; then attendance is closed
DUE_SHARDS = 4
# Promotions in one transaction: two items each (the sign-up and its message) under DynamoDB's 100 items.
PROMOTIONS_PER_TRANSACTION = 40


class SignupStatus(str, Enum):
    SIGNED = "signed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    NO_SHOW = "no_show"
    UNSETTLED = "unsettled"


# The roster's sections, in the order an organiser reads them.
ROSTER_ORDER = ("signed", "waitlisted", "checked_in", "checked_out", "no_show", "unsettled", "cancelled")
# Statuses that hold a place or a ticket: a second sign-up is ALREADY_SIGNED_UP.
STANDING = frozenset({"signed", "waitlisted", "checked_in", "checked_out", "no_show", "unsettled"})


CANCELLED_CLOSED = SignupClosed("活动已取消")
STARTED_CLOSED = SignupClosed("活动已开始，不能再报名或取消报名")


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field})


def check_times(starts_at: datetime, ends_at: datetime, signup_deadline: datetime | None, now: datetime, *,
                starts_changed: bool = True, deadline_changed: bool = True) -> None:
    """The time rules of an event (creation, and a PATCH for the times it changes)."""
    if starts_changed and starts_at <= now:
        raise invalid("starts_at", "开始时间必须晚于现在")
    if starts_changed and starts_at - now > START_MAX_AHEAD:
        raise invalid("starts_at", "开始时间不能超过一年以后")
    if ends_at <= starts_at:
        raise invalid("ends_at", "结束时间必须晚于开始时间")
    if ends_at - starts_at > LONGEST:
        raise invalid("ends_at", "活动时长不能超过 24 小时，更长的活动请按天分别发布")
    if signup_deadline is not None:
        if signup_deadline > starts_at:
            raise invalid("signup_deadline", "报名截止时间不能晚于开始时间")
        if deadline_changed and signup_deadline <= now:
            raise invalid("signup_deadline", "报名截止时间必须晚于现在")


def points_per_hour_cap(setting: int | None) -> int:
    return POINTS_PER_HOUR_CAP_DEFAULT if setting is None else int(setting)


def check_points_per_hour(points_per_hour: int, cap: int) -> None:
    if points_per_hour > cap:
        raise ValidationFailed(f"每小时积分不能超过本社区的上限 {cap}",
                               details={"field": "points_per_hour", "max": cap})


def adjustment_limit(starts_at: datetime, ends_at: datetime, now: datetime) -> int:
    """The most minutes an adjustment may set: the event's scheduled minutes, and no more than have passed since
    its start (nobody is credited for time that has not happened)."""
    scheduled = int((ends_at - starts_at).total_seconds() // 60)
    elapsed = max(0, int((now - starts_at).total_seconds() // 60))
    return min(scheduled, elapsed)


def signup_closes_at(starts_at: datetime, signup_deadline: datetime | None) -> datetime:
    return min(signup_deadline, starts_at) if signup_deadline is not None else starts_at


def phase(status: str, starts_at: datetime, ends_at: datetime, closes_at: datetime, now: datetime) -> str:
    """open | closed | ongoing | ended | cancelled, as the event stands at ``now``."""
    if status == "cancelled":
        return "cancelled"
    if now >= ends_at:
        return "ended"
    if now >= starts_at:
        return "ongoing"
    return "open" if now < closes_at else "closed"


def signup_refusal(status: str, starts_at: datetime, ends_at: datetime, closes_at: datetime, now: datetime):
    """Why no sign-up is taken now (None: it is)."""
    current = phase(status, starts_at, ends_at, closes_at, now)
    if current == "cancelled":
        return CANCELLED_CLOSED
    if current in ("ongoing", "ended"):
        return STARTED_CLOSED
    if current == "closed":
        return SignupClosed()
    return None


def give_up_refusal(status: str, starts_at: datetime, now: datetime):
    """A place may be given up until the start (after the deadline too: people fall ill)."""
    if status == "cancelled":
        return CANCELLED_CLOSED
    if now >= starts_at:
        return STARTED_CLOSED
    return None


def manage_refusal(status: str, ends_at: datetime, now: datetime):
    """An organiser may change or cancel an event until it ends, and not once cancelled."""
    if status == "cancelled":
        return InvalidState("活动已取消")
    if now >= ends_at:
        return InvalidState("活动已结束")
    return None


# --- keys -------------------------------------------------------------------------------------------

def roster_key(event_id: str, status: str) -> str:
    return f"{event_id}#{status}"


def roster_order(status: str, position: int | None, at: datetime) -> int:
    """Waitlisted by ticket; every other section by when the person got there (ms)."""
    if status == SignupStatus.WAITLISTED.value:
        return int(position or 0)
    return int(at.timestamp() * 1000)


def roster_sort(status: str, position: int | None, at: datetime) -> str:
    """The whole roster in one order (sections in ``ROSTER_ORDER``, then as ``roster_order``): one Query walks it."""
    section = ROSTER_ORDER.index(status) if status in ROSTER_ORDER else len(ROSTER_ORDER)
    return f"{section}#{roster_order(status, position, at):015d}"


def roster_fields(event_id: str, status: str, at: datetime, position: int | None = None) -> dict:
    """The status and the roster's keys that go with it (every status change writes all of them)."""
    return {"status": status, "roster_key": roster_key(event_id, status),
            "roster_order": roster_order(status, position, at), "roster_sort": roster_sort(status, position, at)}


def cancelled_mine_key(user_id: str) -> str:
    """Where a given-up sign-up sits in the user index: out of the user's list, still findable by them."""
    return f"{user_id}#cancelled"


def due_shard(event_id: str) -> str:
    return f"due#{zlib.crc32(event_id.encode()) % DUE_SHARDS}"


def reminder_due(starts_at: datetime, reminded_for: datetime | None, now: datetime) -> datetime | None:
    """When the scheduler should send the 24 h reminder (None: sent for this start already, or too late to be
    worth it — an event published less than an hour before it starts is its own reminder)."""
    if reminded_for is not None and reminded_for == starts_at:
        return None
    if starts_at - now < timedelta(hours=1):
        return None
    return max(starts_at - REMIND_BEFORE, now)


def stats_key(community_id: str, bucket: str) -> str:
    return f"stats#events#{community_id}#{bucket}"


def stats_keys(community_id: str, created_at: datetime) -> list[str]:
    """Event statistics count by the day and month (Asia/Shanghai) the event was published."""
    return [stats_key(community_id, bucket) for bucket in bucket_names(created_at)]


def stats_deltas(deltas: dict[str, int]) -> dict[str, int]:
    """Counter names of the event statistics (``ev:signed``): counted names carry their area's prefix."""
    return {f"ev:{name}": amount for name, amount in deltas.items() if amount}
