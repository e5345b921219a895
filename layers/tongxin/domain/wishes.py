"""微心愿 wish lifecycle: states, who may do what from which state, and when the scheduler steps in.

    pending_review ──approve──▶ open ──claim──▶ claimed ──fulfil──▶ fulfilled ──confirm──▶ confirmed
         │ reject                 ▲  │            │ release (back to open)
         ▼                        └──┼────────────┘
      rejected            cancel (author, before fulfilled) ──▶ cancelled
                          deadline passed while pending_review/open ──▶ expired

Pure: every function takes the time it needs as an argument.
"""
from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from enum import Enum

from .clock import SHANGHAI
from .stats import bucket_names
from .errors import InvalidState, ValidationFailed

CATEGORIES = ("生活帮扶", "助老", "助残", "助学", "医疗健康", "维修", "物资", "其他")
TITLE_MAX, CONTENT_MAX, NOTE_MAX, COMMENT_MAX, REASON_MAX = 30, 500, 200, 200, 100
DEFAULT_WISH_POINTS = 20
# 吹哨: an unclaimed wish is raised to its grid worker this long after publishing,
ESCALATE_AFTER = timedelta(hours=72)
# or this long before its deadline, whichever comes first.
ESCALATE_BEFORE_DEADLINE = timedelta(hours=24)
DUE_SHARDS = 8
# A deadline further ahead than this is a typo, not a plan (and far-future dates overflow date arithmetic).
DEADLINE_MAX_AHEAD = timedelta(days=366)
DEADLINE_MIN_AHEAD = timedelta(hours=1)

# Fairness (community settings override these): publishing per resident per day (then 429), wish points per
# claimer per day and per author–claimer pair per month (beyond them a confirmation credits 0, with the reason).
DEFAULT_PUBLISH_DAILY_CAP = 10
DEFAULT_POINTS_DAILY_CAP = 5
DEFAULT_POINTS_PAIR_MONTHLY_CAP = 3


class WishStatus(str, Enum):
    PENDING_REVIEW = "pending_review"
    OPEN = "open"
    CLAIMED = "claimed"
    FULFILLED = "fulfilled"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


S = WishStatus
# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[WishStatus], WishStatus]] = {
    "approve": (frozenset({S.PENDING_REVIEW}), S.OPEN),
    "reject": (frozenset({S.PENDING_REVIEW}), S.REJECTED),
    "claim": (frozenset({S.OPEN}), S.CLAIMED),
    "release": (frozenset({S.CLAIMED}), S.OPEN),
    "fulfil": (frozenset({S.CLAIMED}), S.FULFILLED),
    "confirm": (frozenset({S.FULFILLED}), S.CONFIRMED),
    "cancel": (frozenset({S.PENDING_REVIEW, S.OPEN, S.CLAIMED}), S.CANCELLED),
    "expire": (frozenset({S.PENDING_REVIEW, S.OPEN}), S.EXPIRED),
}
TERMINAL = frozenset({S.CONFIRMED, S.REJECTED, S.CANCELLED, S.EXPIRED})
STATUS_LABELS = {
    S.PENDING_REVIEW: "待审核", S.OPEN: "待认领", S.CLAIMED: "已认领", S.FULFILLED: "已完成待确认",
    S.CONFIRMED: "已圆梦", S.REJECTED: "未通过审核", S.CANCELLED: "已撤销", S.EXPIRED: "已过期",
}


def transition(action: str) -> tuple[frozenset[WishStatus], WishStatus]:
    return TRANSITIONS[action]


def invalid_state(action: str, status: str) -> InvalidState:
    label = STATUS_LABELS.get(WishStatus(status), status)
    return InvalidState(f"心愿当前为“{label}”，不能进行此操作", details={"status": status, "action": action})


def initial_status(review_required: bool, content_suggest: str) -> WishStatus:
    """Start ``open``, unless the community reviews wishes or WeChat asked for a human look."""
    if review_required or content_suggest == "review":
        return S.PENDING_REVIEW
    return S.OPEN


def escalation_time(published_at: datetime, deadline: datetime | None) -> datetime:
    due = published_at + ESCALATE_AFTER
    if deadline is not None:
        due = min(due, deadline - ESCALATE_BEFORE_DEADLINE)
    return due


def next_due(status: WishStatus, published_at: datetime | None, deadline: datetime | None,
             escalated: bool) -> datetime | None:
    """When the scheduler must next look at a wish in ``status`` (None: never)."""
    if status is S.PENDING_REVIEW:
        return deadline
    if status is S.OPEN:
        if not escalated and published_at is not None:
            return escalation_time(published_at, deadline)
        return deadline
    return None


def scheduled_step(status: WishStatus, deadline: datetime | None, escalated: bool, now: datetime) -> str | None:
    """What the scheduler does to a wish that is due: ``expire``, ``escalate`` or nothing."""
    if status in (S.PENDING_REVIEW, S.OPEN) and deadline is not None and deadline <= now:
        return "expire"
    if status is S.OPEN and not escalated:
        return "escalate"
    return None


def needs_grid_worker(status: WishStatus, escalated: bool) -> bool:
    """Whether the wish shows in its grid's task list (审核 or 吹哨)."""
    return status is S.PENDING_REVIEW or (status is S.OPEN and escalated)


def due_shard(wish_id: str) -> str:
    return f"due#{zlib.crc32(wish_id.encode()) % DUE_SHARDS}"


def grid_task_key(community_id: str, grid_id: str | None) -> str:
    return f"{community_id}#{grid_id or '-'}"


def community_status_key(community_id: str, status: WishStatus | str) -> str:
    return f"{community_id}#{WishStatus(status).value}"


def check_deadline(deadline: datetime | None, now: datetime) -> None:
    if deadline is None:
        return
    if deadline <= now + DEADLINE_MIN_AHEAD:
        raise ValidationFailed("截止时间需晚于当前时间至少 1 小时", details={"field": "deadline"})
    if deadline > now + DEADLINE_MAX_AHEAD:
        raise ValidationFailed("截止时间不能晚于一年以后", details={"field": "deadline"})


# --- fairness counters (keys and periods in Asia/Shanghai, as the community lives them) ---------------------

def _day(now: datetime) -> str:
    return now.astimezone(SHANGHAI).strftime("%Y-%m-%d")


def _month(now: datetime) -> str:
    return now.astimezone(SHANGHAI).strftime("%Y-%m")


def publish_counter(user_id: str, now: datetime) -> tuple[str, datetime]:
    """Key of the author's publishing count today, and when the counter may be forgotten."""
    return f"wish-publish#{user_id}#{_day(now)}", now + timedelta(days=2)


def points_counter(claimer_id: str, now: datetime) -> tuple[str, datetime]:
    return f"wish-points#{claimer_id}#{_day(now)}", now + timedelta(days=2)


def pair_counter(author_id: str, claimer_id: str, now: datetime) -> tuple[str, datetime]:
    return f"wish-pair#{author_id}#{claimer_id}#{_month(now)}", now + timedelta(days=32)


CAP_NOTES = {
    "daily": "今日获得的心愿积分已达上限，本次不计积分",
    "pair": "本月与同一发布者之间的心愿积分已达上限，本次不计积分",
}


PUBLIC = frozenset({S.OPEN, S.CLAIMED, S.FULFILLED, S.CONFIRMED})  # published: the whole community's


def list_keys(community_id: str, grid_id: str | None, category: str, status: WishStatus | str) -> dict[str, str]:
    """The list keys a wish in ``status`` carries: only its partition in the community's status list
    (``by_community_status``). Grid and category are attributes of the list indexes' entries, not keys (a key per
    filter rewrote one more index entry with every status change); they stay parameters so every caller states
    the whole wish."""
    return {"community_status": community_status_key(community_id, status)}


def list_index(community_id: str, status: str | None) -> tuple[str, str]:
    """The index that serves a page of the community list, and its partition key: the status list when a status
    is asked, else every wish of the community; grid, category and the caller's visibility are tested on the
    entries (usecases/wishes/pages.py reads on within its budget)."""
    if status:
        return "by_community_status", community_status_key(community_id, status)
    return "by_community", community_id


def listed(status: str, grid_id: str | None, category: str, *, want_status: str | None, want_grid: str | None,
           want_category: str | None, sees_all: bool, own_grids: frozenset[str] | set[str]) -> bool:
    """Whether a wish (its status, grid and category) belongs on a page of the community list: it matches the
    filters asked, and the caller sees it there — a published wish everyone, an unpublished one an admin, or a
    grid worker of its grid (a user's own wishes in every state are in /v1/wishes/mine and /claimed)."""
    if (want_status and status != want_status) or (want_grid and grid_id != want_grid) \
            or (want_category and category != want_category):
        return False
    return sees_all or WishStatus(status) in PUBLIC or (grid_id is not None and grid_id in own_grids)


def stats_key(community_id: str, bucket: str) -> str:
    return f"stats#wishes#{community_id}#{bucket}"


def stats_keys(community_id: str, created_at: datetime) -> list[str]:
    """The statistics items a wish counts in: its creation day and month (Asia/Shanghai)."""
    return [stats_key(community_id, bucket) for bucket in bucket_names(created_at)]
