"""The monthly bulletin (通报) arithmetic (pure): one row per unit (community, street or department) from its month's
request counts, the three rates, a rank, and the flag of a unit below a threshold.

- 响应率 ``response_rate`` = answered_on_time / (answered_on_time + first_answer_late), as in the statistics;
- 解决率 ``resolve_rate`` = resolved_on_time / received: resolved before the solve limit ran out, of all received;
- 满意率 ``satisfaction_rate`` = satisfied / (satisfied + unsatisfied).

The rank orders the units that received requests by a composite score — the mean of the rates they have (a rate
with no denominator is left out of the mean) — highest first, equal scores sharing a rank; a unit without requests
has no rank and is never flagged. A unit is flagged when any of its rates is below its threshold (the district's
settings; defaults 满意率 85 %, 解决率 90 %, 响应率 95 %), with the rates it missed named.
"""
from __future__ import annotations

from dataclasses import dataclass

from .stats import rate

COUNTS = ("received", "answered_on_time", "resolved_on_time", "overdue", "extended")


@dataclass(frozen=True)
class Thresholds:
    """Percentages (0–100) under which a unit is flagged."""
    satisfaction: int = 85
    resolve: int = 90
    response: int = 95


def row(counts: dict[str, int]) -> dict:
    """The bulletin's numbers of one unit from its counted facts (``domain/requests.FACTS`` names)."""
    got = {name: int(counts.get(name, 0)) for name in COUNTS}
    first_late = int(counts.get("first_answer_late", 0))
    satisfied, unsatisfied = int(counts.get("satisfied", 0)), int(counts.get("unsatisfied", 0))
    return {**got,
            "response_rate": rate(got["answered_on_time"], got["answered_on_time"] + first_late),
            "resolve_rate": rate(got["resolved_on_time"], got["received"]),
            "satisfaction_rate": rate(satisfied, satisfied + unsatisfied)}


def below(numbers: dict, limits: Thresholds) -> list[str]:
    """The rates of ``numbers`` under their threshold, by name (a rate that is null is not under anything)."""
    checks = (("response_rate", limits.response), ("resolve_rate", limits.resolve),
              ("satisfaction_rate", limits.satisfaction))
    return [name for name, limit in checks if numbers[name] is not None and numbers[name] * 100 < limit]


def score(numbers: dict) -> float | None:
    rates = [numbers[name] for name in ("response_rate", "resolve_rate", "satisfaction_rate") if numbers[name] is not None]
    return round(sum(rates) / len(rates), 6) if rates else None


def ranked(rows: list[dict], limits: Thresholds) -> list[dict]:
    """``rows`` (each with ``row``'s numbers) given ``rank``, ``score``, ``flagged`` and ``below``, best first; the
    units without requests last, unranked, in the order given."""
    scored = [(score(r), r) for r in rows]
    counted = sorted([(s, r) for s, r in scored if r["received"] and s is not None], key=lambda pair: -pair[0])
    out, previous, rank = [], None, 0
    for position, (value, r) in enumerate(counted, start=1):
        if value != previous:
            rank, previous = position, value
        missed = below(r, limits)
        out.append({**r, "score": value, "rank": rank, "flagged": bool(missed), "below": missed})
    out.extend({**r, "score": None, "rank": None, "flagged": False, "below": []}
               for s, r in scored if not (r["received"] and s is not None))
    return out
