"""Admin statistics (社区统计), one section per area: wishes, events, volunteer hours, points.

Read from counters that every change keeps in its own transaction (``counters.add``), bucketed by the Shanghai
day and month the wish or event was created: one BatchGetItem of at most 74 buckets per area, the same cost for
100 wishes as for 100,000. The window is whole days (Asia/Shanghai), at most a year. Wishes are also told month by
month (``by_month``, for charts) from the same items: each bucket lies within one month, named by its key.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..adapters.dynamo import batch, counters
from ..adapters.dynamo.models import CounterModel
from ..domain import events as event_rules, wishes as wish_rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import ValidationFailed
from ..domain.points import AWARD_CATEGORIES
from ..domain.stats import add_up, by_month, median_from_histogram, rate, window_buckets
from ..domain.wishes import WishStatus as S
from .checkins import attendance

DEFAULT_WINDOW = timedelta(days=90)
MAX_WINDOW = timedelta(days=366)
FULFILLED = {S.FULFILLED.value, S.CONFIRMED.value}
NOT_PUBLISHED = {S.PENDING_REVIEW.value, S.REJECTED.value}
EVENT_COUNTS = ("published", "cancelled", "capacity", "signed", "signups", "waitlisted", "promotions", "left",
                "checked_in", "walk_ins", "no_show", "unsettled",
                # the organisers' attendance adjustments (each also in GET /v1/admin/audit), and their net effect
                "adjustments", "adjusted_minutes", "adjusted_points")


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = end or utcnow()
    start = start or end - DEFAULT_WINDOW
    if start >= end:
        raise ValidationFailed("开始时间必须早于结束时间", details={"field": "from"})
    if end - start > MAX_WINDOW:
        raise ValidationFailed("统计区间不能超过一年", details={"field": "from"})
    return start, end


def _group(sums: dict[str, int], prefix: str) -> dict[str, int]:
    return {name[len(prefix):]: n for name, n in sorted(sums.items()) if name.startswith(prefix) and n}


def _created(counts: dict[str, int]) -> int:
    """Wishes created, from one bucket's counts: each is in exactly one status."""
    return sum(n for name, n in counts.items() if name.startswith("s:"))


def wish_stats(community_id: str, start: datetime, end: datetime) -> dict:
    items = counters.read_items([wish_rules.stats_key(community_id, b) for b in window_buckets(start, end)])
    sums = add_up(items.values())
    monthly = {month: _created(counts) for month, counts in by_month(items).items()}
    by_status = _group(sums, "s:")
    published = sum(n for status, n in by_status.items() if status not in NOT_PUBLISHED)
    fulfilled = sum(n for status, n in by_status.items() if status in FULFILLED)
    histogram = lambda prefix: {int(bucket): n for bucket, n in _group(sums, prefix).items()}  # noqa: E731
    return {
        "total": sum(by_status.values()),
        "by_category": _group(sums, "c:"),
        "by_status": by_status,
        "by_grid": _group(sums, "g:"),
        "published": published,
        "fulfilled": fulfilled,
        "fulfilment_rate": rate(fulfilled, published),
        "median_hours_to_claim": median_from_histogram(histogram("h2c:")),
        "median_hours_to_confirm": median_from_histogram(histogram("h2f:")),
        "by_month": {month: n for month, n in monthly.items() if n},
    }


def event_stats(community_id: str, start: datetime, end: datetime) -> dict:
    """Events published in the window: places and sign-ups of those not cancelled, and the waitlist's work."""
    sums = _group(counters.read_sums([event_rules.stats_key(community_id, b) for b in window_buckets(start, end)]),
                  "ev:")
    counted = {name: sums.get(name, 0) for name in EVENT_COUNTS}
    return {**counted, "fill_rate": rate(counted["signed"], counted["capacity"]),
            "attendance_rate": rate(counted["checked_in"], counted["signed"]),
            "no_show_rate": rate(counted["no_show"], counted["signed"])}


def volunteer_hours(community_id: str, start: datetime, end: datetime) -> dict:
    """Minutes credited to attendances checked in during each month of the window (one BatchGetItem)."""
    months = attendance.month_names(start, end)
    keys = {attendance.hours_key(community_id, month): month for month in months}
    found = {item["key"]["S"]: int(item.get("m:minutes", {}).get("N", 0))
             for item in batch.get_raw_many(CounterModel, list(keys))}
    by_month = {month: found.get(key, 0) for key, month in keys.items() if found.get(key)}
    return {"by_month": by_month, "total_minutes": sum(by_month.values())}


def points_stats(community_id: str, start: datetime, end: datetime) -> dict:
    """Every ledger entry written in the window, by kind (``k:``), award category (``cat:``), redemption outcome
    (``rd:``) and goods (``goods:``), from the counters ``ledger.append`` keeps (one BatchGetItem)."""
    sums = counters.read_sums([f"points-stats#{community_id}#{b}" for b in window_buckets(start, end)])
    kinds = _group(sums, "k:")
    return {
        "issued_by_source": {source: kinds.get(source, 0) + (kinds.get("reversal", 0) if source == "award" else 0)
                             for source in ("wish", "volunteer", "award")},
        "issued_by_category": {category: sums.get(f"cat:{category}", 0) for category in AWARD_CATEGORIES},
        "reversed": -kinds.get("reversal", 0),
        "redeemed": -kinds.get("redeem", 0),
        "refunded": kinds.get("refund", 0),
        "redemptions": {outcome: sums.get(f"rd:{outcome}", 0)
                        for outcome in ("created", "picked_up", "cancelled", "expired")},
        "by_goods": [{"goods_id": goods_id, "quantity": n} for goods_id, n in _group(sums, "goods:").items()],
    }


def community_stats(principal: Principal, start: datetime | None, end: datetime | None) -> dict:
    grant = require_role(principal, Role.ADMIN)
    start, end = window(start, end)
    return {"from": to_api(start), "to": to_api(end), "wishes": wish_stats(grant.community_id, start, end),
            "events": event_stats(grant.community_id, start, end),
            "volunteer_hours": volunteer_hours(grant.community_id, start, end),
            "points": points_stats(grant.community_id, start, end)}
