"""Statistics arithmetic (pure): the counters a change adds to, the buckets a window reads, rates, and medians
estimated from hour histograms.

Wish statistics are counted by the day (and the month) the wish was created, in Asia/Shanghai: a stats window
reads its whole months from month buckets and its edge days from day buckets — at most 12 + 62 items, one
BatchGetItem, whatever the number of wishes. Each bucket lies within one month, so the same items answer a window
month by month (``month_of_bucket``, ``by_month``): a chart's months cost no read of their own.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from datetime import date, datetime, timedelta
from typing import Iterable

from .clock import SHANGHAI

# Upper edges (hours) of the duration histograms; the last bucket is open.
HOUR_EDGES = (1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 336, 720, 2160)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def hour_bucket(seconds: float) -> int:
    return bisect_left(HOUR_EDGES, seconds / 3600)


def median_from_histogram(counts: dict[int, int], edges: tuple[int, ...] = HOUR_EDGES) -> float | None:
    """The median of a histogram over ``edges`` (``HOUR_EDGES`` unless told), interpolated linearly within its
    bucket, in the edges' unit."""
    total = sum(n for n in counts.values() if n > 0)
    if not total:
        return None
    half, seen = total / 2, 0
    for bucket in range(len(edges) + 1):
        n = max(counts.get(bucket, 0), 0)
        if n and seen + n >= half:
            low = edges[bucket - 1] if bucket else 0
            high = edges[bucket] if bucket < len(edges) else low * 2
            return round(low + (high - low) * (half - seen) / n, 2)
        seen += n
    return None


def day_of(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def bucket_names(created_at: datetime) -> tuple[str, str]:
    """The day and month buckets a wish created at ``created_at`` counts in."""
    day = day_of(created_at)
    return f"d#{day.isoformat()}", f"m#{day.strftime('%Y-%m')}"


def window_buckets(start: datetime, end: datetime) -> list[str]:
    """The buckets covering the Shanghai days from ``start``'s to ``end``'s (both included): whole months as
    month buckets, the days before the first and after the last whole month as day buckets."""
    first, last = day_of(start), day_of(end)
    names, day = [], first
    while day <= last:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if day.day == 1 and month_end <= last:
            names.append(f"m#{day.strftime('%Y-%m')}")
            day = month_end + timedelta(days=1)
        else:
            names.append(f"d#{day.isoformat()}")
            day += timedelta(days=1)
    return names


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")


def month_of_bucket(key: str) -> str:
    """The Shanghai month (``YYYY-MM``) a statistics item counts in, read from its key (or a bare bucket name): a
    day bucket (``…#d#2026-11-22``) is in its day's month, a month bucket (``…#m#2026-11``) is that month. Anything
    else is not a bucket: ValueError."""
    parts = key.rsplit("#", 2)
    kind, value = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", key)
    if kind == "d" and _DAY.fullmatch(value):
        return value[:7]
    if kind == "m" and _MONTH.fullmatch(value):
        return value
    raise ValueError(f"not a statistics bucket: {key!r}")


def add_up(sums: Iterable[dict[str, int]]) -> dict[str, int]:
    """The name-by-name total of several items' counts."""
    total: dict[str, int] = {}
    for counts in sums:
        for name, n in counts.items():
            total[name] = total.get(name, 0) + n
    return total


def by_month(items: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counter items (key → counts), added up per month of their bucket (``month_of_bucket``), in month order."""
    months: dict[str, list[dict[str, int]]] = {}
    for key, counts in items.items():
        months.setdefault(month_of_bucket(key), []).append(counts)
    return {month: add_up(months[month]) for month in sorted(months)}


def wish_deltas(before: dict | None, after: dict) -> dict[str, int]:
    """What one change of a wish adds to its buckets. ``before``/``after`` hold ``status``, ``category``,
    ``grid_id``, ``published_at``, ``first_claimed_at``, ``confirmed_at`` (``before`` None: just published)."""
    deltas: dict[str, int] = {}
    if before is None:
        deltas.update({"total": 1, f"c:{after['category']}": 1, f"g:{after['grid_id'] or '-'}": 1,
                       f"s:{after['status']}": 1})
    elif before["status"] != after["status"]:
        deltas[f"s:{before['status']}"] = -1
        deltas[f"s:{after['status']}"] = 1
    published = after.get("published_at")
    if published and after.get("first_claimed_at") and not (before or {}).get("first_claimed_at"):
        deltas[f"h2c:{hour_bucket((after['first_claimed_at'] - published).total_seconds())}"] = 1
    if published and after.get("confirmed_at") and not (before or {}).get("confirmed_at"):
        deltas[f"h2f:{hour_bucket((after['confirmed_at'] - published).total_seconds())}"] = 1
    return deltas
