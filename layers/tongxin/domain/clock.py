"""Time helpers. Stored times are UTC; the community sees Asia/Shanghai (UTC+8, no DST)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

SHANGHAI = timezone(timedelta(hours=8), name="Asia/Shanghai")

# Moved only by ``travel`` (in-process tests that must be at a check-in window, or two hours after an event):
# never set in a deployed function.
_shift = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(timezone.utc) + _shift


@contextmanager
def travel(delta: timedelta) -> Iterator[None]:
    """Tests: every ``utcnow()`` of this process answers ``delta`` later until the block ends."""
    global _shift
    before, _shift = _shift, _shift + delta
    try:
        yield
    finally:
        _shift = before


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
