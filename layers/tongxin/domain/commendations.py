"""微星光 commendations (表彰): pure rules, no I/O.

- A commendation names a member of the community, a ``title`` (≤ 30, one line), a ``story`` (≤ 1000) and the
  ``period`` it honours: a month ``YYYY-MM`` or a year ``YYYY`` (Shanghai), not in the future, not before 2000.
- Natural key: one person holds one standing commendation of one title for one period. The key item
  ``commendation#<community>#<user>#<period>#<sha256(title)>`` (a counter item) is Put with ``attribute_not_exists``
  in the commendation's own transaction (409 ALREADY_COMMENDED) and deleted by the revocation's, so a revoked
  commendation can be given again, and each commendation keeps its own id and record.
- ``commended#<community>#<user>#<period>`` counts the person's standing commendations of the period (the
  candidates' "already commended this month" read, one BatchGetItem for all of them).
- An admin does not commend themself (409 SELF_COMMENDATION): an honour comes from someone else.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime

from .clock import SHANGHAI
from .errors import AlreadyCommended, InvalidState, NotFound, SelfCommendation, ValidationFailed

TITLE_MAX = 30
STORY_MAX = 1000
REASON_MAX = 200
FIRST_YEAR = 2000
CANDIDATES = 10  # per board

ACTIVE, REVOKED = "active", "revoked"

COMMENDATION_NOT_FOUND = NotFound("表彰不存在")
PERSON_NOT_FOUND = NotFound("该居民不在本社区")
ALREADY_COMMENDED = AlreadyCommended()
SELF_COMMENDATION = SelfCommendation()
ALREADY_REVOKED = InvalidState("这项表彰已撤销")

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_YEAR = re.compile(r"([0-9]{4})")


def parse_period(period: str, now: datetime, *, field: str = "period", months_only: bool = False) -> str:
    """``period`` checked: ``YYYY-MM`` (or ``YYYY`` unless ``months_only``), from 2000 up to the current Shanghai
    month or year. 400 naming ``field`` otherwise; the period as given when good."""
    local = now.astimezone(SHANGHAI)
    month = _MONTH.fullmatch(period)
    year = None if months_only else _YEAR.fullmatch(period)
    wanted = "YYYY-MM 月份" if months_only else "YYYY-MM 月份或 YYYY 年份"
    if month is None and year is None:
        raise ValidationFailed(f"期次格式应为 {wanted}", details={"field": field})
    y = int((month or year).group(1))
    m = int(month.group(2)) if month else None
    if m is not None and not 1 <= m <= 12:
        raise ValidationFailed("月份应为 01–12", details={"field": field})
    if y < FIRST_YEAR:
        raise ValidationFailed(f"期次不能早于 {FIRST_YEAR} 年", details={"field": field})
    if (y, m or 1) > (local.year, local.month if m else 1):
        raise ValidationFailed("期次不能晚于当前月份（年份）", details={"field": field})
    return period


def month_anchor(month: str) -> datetime:
    """A moment inside the Shanghai month ``YYYY-MM`` (the leaderboards' board names are made from a moment)."""
    y, m = (int(part) for part in month.split("-"))
    return datetime(y, m, 15, 12, tzinfo=SHANGHAI)


def key_of(community_id: str, user_id: str, period: str, title: str) -> str:
    """The natural key's item: one standing commendation per person, period and title."""
    digest = hashlib.sha256(title.encode()).hexdigest()[:24]
    return f"commendation#{community_id}#{user_id}#{period}#{digest}"


def period_counter(community_id: str, user_id: str, period: str) -> str:
    return f"commended#{community_id}#{user_id}#{period}"


def person_key(community_id: str, user_id: str) -> str:
    """``by_person``'s partition: a person's commendations in one community."""
    return f"{community_id}#{user_id}"


__all__ = ["ACTIVE", "ALREADY_COMMENDED", "ALREADY_REVOKED", "CANDIDATES", "COMMENDATION_NOT_FOUND", "FIRST_YEAR",
           "PERSON_NOT_FOUND", "REASON_MAX", "REVOKED", "SELF_COMMENDATION", "STORY_MAX", "TITLE_MAX", "key_of",
           "month_anchor", "parse_period", "period_counter", "person_key"]
