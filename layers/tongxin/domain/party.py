"""双报到 (party registration) and the party member's service record (服务记录): pure rules, no I/O.

- Quarters are Shanghai quarters (``2026Q4`` = 1 Oct 2026 00:00 to 1 Jan 2027 00:00, Asia/Shanghai): a service
  counts in the quarter of the moment it was served, as the community's calendar reads it.
- A service is one of the credits a member already earns (``SERVICE_KINDS``): an event attendance settled with
  minutes, a wish confirmed by its author, a post claimed (领岗), a request answered as staff. Never typed twice.
- The assessment (考核) compares a quarter's services and the year's minutes with the community's rules
  (``party_services_per_quarter_min``, ``party_hours_per_year_min``; defaults in ``domain/settings``).
- A registration (党员报到) is ``pending → approved | rejected``, ``approved → ended``; a rejected or ended one
  may be submitted again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from .clock import SHANGHAI
from .errors import ValidationFailed

SERVICE_KINDS = ("event", "wish", "post", "request")
# The counted names on a quarter's item (counters table): services, one per kind, minutes.
SERVICES = "services"
MINUTES = "minutes"

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")

PENDING, APPROVED, REJECTED, ENDED = "pending", "approved", "rejected", "ended"
# ``ended``: an approved registration whose member left (注销) or lost the role (an admin took it away).
STATUSES = (PENDING, APPROVED, REJECTED, ENDED)

# Registration text bounds (characters after trimming).
REAL_NAME_MAX = 20
WORK_UNIT_MAX = 60
PARTY_BRANCH_MAX = 60
REASON_MAX = 200


def quarter_of(moment: datetime) -> str:
    """The Shanghai quarter holding ``moment`` (an aware datetime): ``2026Q4``."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year:04d}Q{(local.month - 1) // 3 + 1}"


def quarter_parts(quarter: str) -> tuple[int, int]:
    found = QUARTER.fullmatch(quarter or "")
    if not found:
        raise ValueError(quarter)
    return int(found.group(1)), int(found.group(2))


def quarter_bounds(quarter: str) -> tuple[datetime, datetime | None]:
    """[start, end) of ``quarter`` in UTC (end None for 9999Q4: its end is past what datetime holds)."""
    year, n = quarter_parts(quarter)
    start = datetime(year, 3 * (n - 1) + 1, 1, tzinfo=SHANGHAI)
    if n == 4:
        end = datetime(year + 1, 1, 1, tzinfo=SHANGHAI) if year < 9999 else None
    else:
        end = datetime(year, 3 * n + 1, 1, tzinfo=SHANGHAI)
    try:
        first = start.astimezone(timezone.utc)
    except OverflowError:  # 0001Q1 starts 8 hours before datetime's first moment in UTC
        first = datetime.min.replace(tzinfo=timezone.utc)
    return first, (end.astimezone(timezone.utc) if end is not None else None)


def year_quarters(quarter: str) -> list[str]:
    """The four quarters of ``quarter``'s year, Q1 first."""
    year, _ = quarter_parts(quarter)
    return [f"{year:04d}Q{n}" for n in (1, 2, 3, 4)]


def quarters_to(quarter: str) -> list[str]:
    """The quarters of ``quarter``'s year up to and including it (the year's minutes so far)."""
    year, n = quarter_parts(quarter)
    return [f"{year:04d}Q{k}" for k in range(1, n + 1)]


def parse_quarter(text: str | None, now: datetime) -> str:
    """The quarter asked (default: the current Shanghai quarter). 400 naming ``quarter`` when malformed or to come."""
    current = quarter_of(now)
    if text is None or text == "":
        return current
    if not QUARTER.fullmatch(text) or text.startswith("0000"):
        raise ValidationFailed("季度格式应为 YYYYQn，例如 2026Q4", details={"field": "quarter"})
    if quarter_parts(text) > quarter_parts(current):
        raise ValidationFailed("不能查看尚未到来的季度", details={"field": "quarter"})
    return text


@dataclass(frozen=True)
class Rules:
    """The community's assessment rules (考核标准)."""
    services_per_quarter_min: int = 1
    hours_per_year_min: int = 20


@dataclass(frozen=True)
class Quarter:
    services: int = 0
    events: int = 0
    wishes: int = 0
    posts: int = 0
    requests: int = 0
    minutes: int = 0

    @classmethod
    def of(cls, counts: dict[str, int] | None) -> "Quarter":
        counts = counts or {}
        return cls(services=max(0, counts.get(SERVICES, 0)), events=max(0, counts.get("event", 0)),
                   wishes=max(0, counts.get("wish", 0)), posts=max(0, counts.get("post", 0)),
                   requests=max(0, counts.get("request", 0)), minutes=max(0, counts.get(MINUTES, 0)))

    def to_api(self) -> dict:
        return {"services": self.services, "events": self.events, "wishes": self.wishes, "posts": self.posts,
                "requests": self.requests, "minutes": self.minutes}


def assess(quarter: Quarter, year_minutes: int, rules: Rules) -> tuple[bool, list[str]]:
    """Whether a member meets the rules, and what is missing (``services`` / ``hours``).

    The year's hours are judged on the year so far: a member short of 20 hours in Q1 is reported as missing hours
    (they are, so far) — the list is a to-do, not a verdict before the year ends."""
    missing = []
    if quarter.services < rules.services_per_quarter_min:
        missing.append("services")
    if year_minutes < rules.hours_per_year_min * 60:
        missing.append("hours")
    return not missing, missing


def registration_key(community_id: str, user_id: str) -> str:
    """The id of a person's registration in a community: one per person per community, by its key."""
    return f"{community_id}.{user_id}"
