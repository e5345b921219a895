"""Statistics arithmetic (pure): medians of durations and rates."""
from __future__ import annotations

from statistics import median


def median_hours(durations_seconds: list[float]) -> float | None:
    if not durations_seconds:
        return None
    return round(median(durations_seconds) / 3600, 2)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
