"""服务卡 (a unit's service cards) and its pledged activities (承诺活动): pure rules, no I/O.

- A unit's card of a quarter lists its approved party members (those whose registration names the unit), each with
  the quarter's services from their service record and whether they meet THEIR community's rules (``domain/party``).
- A unit's pledged activities: an event the unit runs (``unit_id`` on the event) counts as one activity DONE in
  the Shanghai quarter of its start, in the community of the event, once it was HELD: when the scheduler closes its
  attendance (2 h after its end; a cancelled event is never closed, and an event can only be cancelled before its
  end). A counter item per unit × community × quarter (``activity_key``), written in the closing's own transaction,
  so the count never drifts from the events and the card reads it in O(agreements).
- The quarter's close: on and after the 1st day of a quarter the previous quarter's cards are ready; each unit's
  liaisons are told once (``close_key``), and a done marker (``close_done_key``) makes every later run of the
  quarter one read.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .party import quarter_bounds, quarter_of

DONE = "done"  # the counted name on an activity counter item


def activity_key(unit_id: str, community_id: str, quarter: str) -> str:
    """The counter of the unit's activities held in ``community_id`` in ``quarter``."""
    return f"unit-activities#{unit_id}#{community_id}#{quarter}"


def previous_quarter(now: datetime) -> str:
    """The Shanghai quarter before the one holding ``now``: the quarter whose cards the scheduler closes."""
    start, _ = quarter_bounds(quarter_of(now))
    return quarter_of(start - timedelta(seconds=1))


def close_key(unit_id: str, quarter: str) -> str:
    """The fan-out item telling a unit's liaisons that ``quarter``'s cards are ready: one per unit and quarter."""
    return f"unit#{unit_id}#service-cards#{quarter}"


def close_done_key(quarter: str) -> str:
    """Written once every unit of ``quarter`` was told: later runs of the quarter read only this."""
    return f"service-cards#done#{quarter}"


def pledge_met(done: int, activities_per_quarter: int) -> bool:
    return done >= activities_per_quarter
