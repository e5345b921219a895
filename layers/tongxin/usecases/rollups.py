"""Statistics above communities (街呼区应): ``GET /v1/street/stats`` — one row per community of a street and the
street's total — and ``GET /v1/district/stats`` — one row per street of a district and the district's total — both
from ``rollup``, the per-community computation (a street's row is the sum of its communities').

A row is the community's own statistics, read from the same counter items as ``GET /v1/admin/stats``
(``usecases/stats.py``) and ``GET /v1/admin/requests/stats`` (``usecases/requests/stats.py``), so the two always
agree: for the Shanghai days of the window, wishes created, events published (and cancelled), volunteer minutes
credited, points issued, redeemed (and refunded), requests received and the three rates of those requests; plus
``volunteers``, the community's registered volunteers as it stands now (``volunteer_count``). The total adds the
communities' counts up and computes its rates from the sums (never an average of rates).

Cost: O(communities) items and no more. Every key of every area of every community — the wish, event, points and
request buckets of the window (≤ 74 each), its months of volunteer hours (≤ 13), the volunteers counter and the
community's item (its name) — goes into ONE list read by BatchGetItem in chunks of 100 keys: ⌈communities × keys
per community / 100⌉ calls, never a call per community or per area (``keys_per_community`` says how many).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Callable, Iterable, Iterator

from ..adapters.dynamo import batch
from ..adapters.dynamo.models import CommunityModel, CounterModel, DistrictModel, StreetModel
from ..domain import events as event_rules, requests as request_rules, wishes as wish_rules
from ..domain.access import Principal, district_asked, street_asked
from ..domain.clock import to_api
from ..domain.errors import NotFound
from ..domain.stats import add_up, rate, window_buckets
from . import volunteer_count
from .checkins import attendance
from .stats import window

KEYS_PER_CALL = batch.MAX_KEYS  # one BatchGetItem reads at most 100 keys
ISSUED_KINDS = ("wish", "volunteer", "award", "reversal")  # GET /v1/admin/stats: issued_by_source, reversals netted
REQUEST_COUNTS = ("received", "answered_on_time", request_rules.FIRST_ANSWER_LATE, "resolved", "satisfied",
                  "unsatisfied")
# The counts a row is made of (addable: a total is their sum).
COUNTS = ("wishes", "volunteers", "volunteer_minutes", "events", "events_cancelled", "points_issued",
          "points_redeemed", "points_refunded", *(f"requests_{name}" for name in REQUEST_COUNTS))
Counts = Callable[[dict[str, int]], dict[str, int]]  # what one counter item adds to its community's counts


# --- what each counter item adds to a community's counts --------------------------------------------------------

def _wishes(item: dict[str, int]) -> dict[str, int]:
    return {"wishes": sum(n for name, n in item.items() if name.startswith("s:"))}  # each wish in one status


def _events(item: dict[str, int]) -> dict[str, int]:
    return {"events": item.get("ev:published", 0), "events_cancelled": item.get("ev:cancelled", 0)}


def _points(item: dict[str, int]) -> dict[str, int]:
    return {"points_issued": sum(item.get(f"k:{kind}", 0) for kind in ISSUED_KINDS),
            "points_redeemed": -item.get("k:redeem", 0), "points_refunded": item.get("k:refund", 0)}


def _requests(item: dict[str, int]) -> dict[str, int]:
    return {f"requests_{name}": item.get(f"n:{name}", 0) for name in REQUEST_COUNTS}


def _hours(item: dict[str, int]) -> dict[str, int]:
    return {"volunteer_minutes": item.get("m:minutes", 0)}


def _volunteers(item: dict[str, int]) -> dict[str, int]:
    return {"volunteers": item.get(volunteer_count.VOLUNTEERS, 0)}


def community_keys(community_id: str, start: datetime, end: datetime) -> list[tuple[str, Counts]]:
    """Every counter key the community's row reads over the window, each with what its item adds."""
    buckets = window_buckets(start, end)
    keys = [(wish_rules.stats_key(community_id, b), _wishes) for b in buckets]
    keys += [(event_rules.stats_key(community_id, b), _events) for b in buckets]
    keys += [(f"points-stats#{community_id}#{b}", _points) for b in buckets]  # usecases/ledger.points_stats_keys
    keys += [(request_rules.stats_key(community_id, b), _requests) for b in buckets]
    keys += [(attendance.hours_key(community_id, month), _hours) for month in attendance.month_names(start, end)]
    keys.append((volunteer_count.key(community_id), _volunteers))
    return keys


def keys_per_community(start: datetime, end: datetime) -> int:
    """Keys one community costs over the window: its counters and its own item (the name)."""
    return len(community_keys("c", start, end)) + 1


def calls_for(communities: int, start: datetime, end: datetime) -> int:
    """BatchGetItem calls ``rollup`` makes for that many communities over the window."""
    return ceil(communities * keys_per_community(start, end) / KEYS_PER_CALL)


def _numbers(raw: dict) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in raw.items() if "N" in value}


def read_counts(community_ids: list[str], start: datetime,
                end: datetime) -> tuple[dict[str, dict[str, int]], dict[str, str | None]]:
    """(each community's counts, each community's name): every key of every area of every community, and the
    communities' items, in ONE list read 100 keys a BatchGetItem."""
    wanted: list[tuple] = []
    meaning: list[tuple[str, Counts | None]] = []
    for cid in community_ids:
        wanted.append((CommunityModel, cid))
        meaning.append((cid, None))
        for key, counts in community_keys(cid, start, end):
            wanted.append((CounterModel, key))
            meaning.append((cid, counts))
    found: list[dict | None] = []
    for first in range(0, len(wanted), KEYS_PER_CALL):
        found += batch.get_raw(*wanted[first:first + KEYS_PER_CALL])
    parts: dict[str, list[dict[str, int]]] = {cid: [] for cid in community_ids}
    names: dict[str, str | None] = {cid: None for cid in community_ids}
    for (cid, counts), raw in zip(meaning, found):
        if raw is None:
            continue
        if counts is None:
            names[cid] = raw.get("name", {}).get("S")
        else:
            parts[cid].append(counts(_numbers(raw)))
    return {cid: {name: add_up(parts[cid]).get(name, 0) for name in COUNTS} for cid in community_ids}, names


def present(counts: dict[str, int]) -> dict:
    """A row's figures from its counts (a community's, or a sum of them)."""
    answered_on_time = counts["requests_answered_on_time"]
    first_late = counts[f"requests_{request_rules.FIRST_ANSWER_LATE}"]
    received, resolved = counts["requests_received"], counts["requests_resolved"]
    satisfied, unsatisfied = counts["requests_satisfied"], counts["requests_unsatisfied"]
    return {"wishes": counts["wishes"], "volunteers": counts["volunteers"],
            "volunteer_minutes": counts["volunteer_minutes"], "events": counts["events"],
            "events_cancelled": counts["events_cancelled"], "points_issued": counts["points_issued"],
            "points_redeemed": counts["points_redeemed"], "points_refunded": counts["points_refunded"],
            "requests": received,
            "response_rate": rate(answered_on_time, answered_on_time + first_late),
            "resolution_rate": rate(resolved, received),
            "satisfaction_rate": rate(satisfied, satisfied + unsatisfied)}


@dataclass(frozen=True)
class Rollup:
    """``rows`` (one per community, in the order asked, each ``{community: {id, name}, …figures}``) and ``total``
    (the figures of them all); ``rows, total = rollup(...)`` unpacks them. ``total_of`` gives any group's figures
    from the same reads (the district's per-street rows)."""
    rows: list[dict]
    total: dict
    counts: dict[str, dict[str, int]]

    def __iter__(self) -> Iterator:
        return iter((self.rows, self.total))

    def total_of(self, community_ids: Iterable[str]) -> dict:
        return present(_sum(self.counts[cid] for cid in community_ids))


def _sum(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    summed = add_up(counts)
    return {name: summed.get(name, 0) for name in COUNTS}


def rollup(community_ids: list[str], start: datetime, end: datetime) -> Rollup:
    """The statistics of each of ``community_ids`` over the window (``start``/``end`` as ``stats.window`` gives
    them) and their total: ``calls_for(len(community_ids), start, end)`` BatchGetItems, nothing else."""
    counts, names = read_counts(community_ids, start, end)
    rows = [{"community": {"id": cid, "name": names[cid]}, **present(counts[cid])} for cid in community_ids]
    return Rollup(rows, present(_sum(counts.values())), counts)


# --- the street's route ------------------------------------------------------------------------------------------

def _street_of(principal: Principal, street_id: str | None) -> str:
    return street_asked(principal, street_id)


def street_stats(principal: Principal, start: datetime | None, end: datetime | None,
                 street_id: str | None = None) -> dict:
    """Street staff: their street's communities, one row each, and the street's total. Reads: the street (one
    BatchGetItem), then ``calls_for(communities, start, end)`` BatchGetItems."""
    street_id = _street_of(principal, street_id)
    start, end = window(start, end)
    street = batch.get_many((StreetModel, street_id))[0]
    if street is None:
        raise NotFound("街道不存在")
    rows, total = rollup(sorted(street.community_ids or ()), start, end)
    return {"street": {"id": street.id, "name": street.name}, "from": to_api(start), "to": to_api(end),
            "items": rows, "total": total}


# --- the district's route ----------------------------------------------------------------------------------------

def _district_of(principal: Principal, district_id: str | None) -> str:
    return district_asked(principal, district_id)


def district_stats(principal: Principal, start: datetime | None, end: datetime | None,
                   district_id: str | None = None) -> dict:
    """District staff: their district's streets, one row each (its communities' figures added up), and the
    district's total. Reads: the district (one BatchGetItem), its streets (⌈streets / 100⌉ BatchGetItems), then
    ``calls_for(communities, start, end)`` BatchGetItems over every community of every street at once."""
    district_id = _district_of(principal, district_id)
    start, end = window(start, end)
    district = batch.get_many((DistrictModel, district_id))[0]
    if district is None:
        raise NotFound("区不存在")
    street_ids = sorted(district.street_ids or ())
    streets = []
    for first in range(0, len(street_ids), KEYS_PER_CALL):
        streets += [s for s in batch.get_many(*[(StreetModel, sid) for sid in street_ids[first:first + KEYS_PER_CALL]]) if s]
    communities = {street.id: sorted(street.community_ids or ()) for street in streets}
    figures = rollup(sorted({cid for ids in communities.values() for cid in ids}), start, end)
    rows = [{"street": {"id": street.id, "name": street.name}, "communities": len(communities[street.id]),
             **figures.total_of(communities[street.id])} for street in streets]
    return {"district": {"id": district.id, "name": district.name}, "from": to_api(start), "to": to_api(end),
            "items": rows, "total": figures.total}
