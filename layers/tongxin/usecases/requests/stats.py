"""接诉即办 statistics: 响应率, 解决率, 满意率, median times, late and overdue counts, by category and by grid (an
admin, for their community) or by community (street staff, for their street).

Read from the counters each step keeps in its own transaction, bucketed by the Shanghai day and month the request
was submitted: a community's window is at most 74 counter items, read by BatchGetItem (100 keys a call), so the
cost grows with the window and the number of communities, never with the number of requests. The same items give
the rates month by month (``by_month``, for charts): each bucket lies within one month, named by its key.

- 响应率 (response rate): of the requests whose first answer is decided (answered, or marked late), those whose
  first answer came within the limit: answered_on_time / (answered_on_time + first_answer_late), each request
  counted once (``late`` also counts a request answered in time and late at a level above).
- 解决率 (resolution rate): of the requests received, those resolved at least once.
- 满意率 (satisfaction rate): of the requests rated to a close, those closed satisfied (3–5).
"""
from __future__ import annotations

from datetime import datetime

from ...adapters.dynamo import batch, counters
from ...adapters.dynamo.models import CommunityModel, StreetModel
from ...domain import requests as rules
from ...domain.access import Principal, Role, require_role, require_street
from ...domain.clock import to_api
from ...domain.errors import Forbidden, NotFound, ValidationFailed
from ...domain.stats import HOUR_EDGES, add_up, by_month, median_from_histogram, rate, window_buckets
from ..stats import window

KEYS_PER_CALL = 100


def _view(sums: dict[str, int], prefix: str) -> dict:
    counted = {fact: sums.get(f"{prefix}{fact}", 0) for fact in rules.FACTS}
    first_late = sums.get(f"{prefix}{rules.FIRST_ANSWER_LATE}", 0)
    return {**counted,
            "response_rate": rate(counted["answered_on_time"], counted["answered_on_time"] + first_late),
            "resolution_rate": rate(counted["resolved"], counted["received"]),
            "satisfaction_rate": rate(counted["satisfied"], counted["satisfied"] + counted["unsatisfied"])}


def _groups(sums: dict[str, int], kind: str) -> list[str]:
    """The names seen under ``c:`` (categories) or ``g:`` (grids)."""
    return sorted({name.split(":")[1] for name in sums if name.startswith(f"{kind}:") and name.count(":") == 2})


def _section(sums: dict[str, int]) -> dict:
    histogram = lambda prefix: {int(name[len(prefix):]): n for name, n in sums.items()  # noqa: E731
                                if name.startswith(prefix)}
    return {**_view(sums, "n:"),
            "median_minutes_to_answer": median_from_histogram(histogram("h2a:"), rules.MINUTE_EDGES),
            "median_hours_to_resolve": median_from_histogram(histogram("h2r:"), HOUR_EDGES),
            "by_category": {category: _view(sums, f"c:{category}:") for category in _groups(sums, "c")}}


def _community_months(community_ids: list[str], start: datetime,
                      end: datetime) -> dict[str, dict[str, dict[str, int]]]:
    """Each community's sums over the window, month by month (a counter item's key names its community and its
    bucket, and each bucket lies within one month): one BatchGetItem per 100 keys."""
    buckets = window_buckets(start, end)
    items = counters.read_items([rules.stats_key(cid, bucket) for cid in community_ids for bucket in buckets])
    mine: dict[str, dict[str, dict[str, int]]] = {cid: {} for cid in community_ids}
    for key, counts in items.items():
        mine[key.split("#")[2]][key] = counts
    return {cid: by_month(found) for cid, found in mine.items()}


def _by_month(months: dict[str, dict[str, int]]) -> dict[str, dict]:
    """The rates of the requests submitted in each month that has any."""
    return {month: _view(sums, "n:") for month, sums in months.items()
            if any(n for name, n in sums.items() if name.startswith("n:"))}


def request_stats(principal: Principal, start: datetime | None, end: datetime | None,
                  street_id: str | None = None) -> dict:
    """An admin's community (per grid), or — for street staff, or with ``street_id`` — a street (per community)."""
    start, end = window(start, end)
    if street_id is None and not principal.has(Role.ADMIN):
        streets = sorted(principal.street_ids) if principal.has(Role.STREET_STAFF) else []
        if len(streets) > 1:
            raise ValidationFailed("您负责多个街道，请指定 street_id", details={"field": "street_id"})
        street_id = streets[0] if streets else None
        if street_id is None:
            raise Forbidden()
    period = {"from": to_api(start), "to": to_api(end)}
    if street_id is None:
        grant = require_role(principal, Role.ADMIN)
        months = _community_months([grant.community_id], start, end)[grant.community_id]
        sums = add_up(months.values())
        return {"scope": "community", "community_id": grant.community_id, "street_id": None, **period,
                **_section(sums), "by_grid": {grid: _view(sums, f"g:{grid}:") for grid in _groups(sums, "g")},
                "by_community": None, "by_month": _by_month(months)}
    require_street(principal, street_id)
    street = batch.get_many((StreetModel, street_id))[0]
    if street is None:
        raise NotFound("街道不存在")
    community_ids = sorted(street.community_ids or ())
    monthly = _community_months(community_ids, start, end) if community_ids else {}
    per_community = {cid: add_up(months.values()) for cid, months in monthly.items()}
    total = add_up(per_community.values())
    street_months: dict[str, list[dict[str, int]]] = {}
    for months in monthly.values():
        for month, sums in months.items():
            street_months.setdefault(month, []).append(sums)
    names = {}
    for first in range(0, len(community_ids), KEYS_PER_CALL):  # 100 keys a BatchGetItem
        chunk = community_ids[first:first + KEYS_PER_CALL]
        names.update({c.id: c.name for c in batch.get_many(*[(CommunityModel, cid) for cid in chunk]) if c})
    return {"scope": "street", "community_id": None, "street_id": street_id, **period, **_section(total),
            "by_grid": None, "by_community": [{"community_id": cid, "name": names.get(cid), **_view(per_community[cid], "n:")}
                             for cid in community_ids],
            "by_month": _by_month({month: add_up(street_months[month]) for month in sorted(street_months)})}
