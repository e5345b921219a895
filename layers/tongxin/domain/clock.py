"""Time helpers. Stored times are UTC; the community sees Asia/Shanghai (UTC+8, no DST)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), name="Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_api(dt: datetime | None) -> str | None:
    """ISO 8601 in Asia/Shanghai with offset, seconds precision: ``2026-11-22T09:30:00+08:00``."""
    if dt is None:
        return None
    try:
        return dt.astimezone(SHANGHAI).isoformat(timespec="seconds")
    except OverflowError:  # the last hours of year 9999 have no +08:00 form: never fail a whole list on it
        return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def to_epoch(dt: datetime) -> int:
    return int(dt.timestamp())
