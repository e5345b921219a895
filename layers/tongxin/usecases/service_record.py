"""A member's service record (服务记录) per Shanghai quarter: what the 双报到 assessment (考核) and the service card
(服务卡) count.

One counter item per member and quarter, ``service#<user_id>#<YYYY>Q<n>`` in the counters table, with the counted
names ``services`` (all kinds), one per kind (``event``, ``wish``, ``post``, ``request``) and ``minutes``, plus
``community_id`` (the community the member served in last: a member belongs to one community at a time).

``add`` writes into the CALLER's transaction: the very step that credits a service (the attendance settlement that
credits volunteer minutes, the wish confirmation that credits the claimer, a post claimed, a request's first answer
by its handler at a level) adds one update of this item — no read, no write call of its own. So the record counts
what the member already does, from the same credits, never typed twice, and cannot drift from them: a credit that
fails its condition rolls the service back with it. ``correct`` keeps the record true when an attendance's minutes are
corrected (the deltas, in the correction's transaction).

Every member is counted (not only party members): the record is a fact of the service, and a member approved as a
party member in May finds Q2's services already counted. Reading a page of members' records is ONE BatchGetItem of
≤ 100 keys (``read``).
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.expressions.operand import Path, Value

from ..adapters.dynamo.batch import MAX_KEYS, get_raw_many
from ..adapters.dynamo.models import CounterModel
from ..adapters.dynamo.tx import Tx
from ..domain.party import MINUTES, SERVICE_KINDS, SERVICES, quarter_of

PREFIX = "service#"


def key(user_id: str, quarter: str) -> str:
    return f"{PREFIX}{user_id}#{quarter}"


def add(tx: Tx, *, user_id: str, community_id: str | None, at: datetime, kind: str, minutes: int = 0) -> Tx:
    """Count one service of ``kind`` (and its ``minutes``) served by ``user_id`` at ``at`` in ``tx``: ONE update of
    the member's quarter item (services +1, the kind +1, minutes +``minutes``); nothing is read."""
    if kind not in SERVICE_KINDS:
        raise ValueError(f"unknown service kind {kind!r}")
    actions = [Path(SERVICES).add(Value({"N": "1"})), Path(kind).add(Value({"N": "1"}))]
    if minutes:
        actions.append(Path(MINUTES).add(Value({"N": str(int(minutes))})))
    if community_id:
        actions.append(Path("community_id").set(Value({"S": community_id})))
    return tx.update(CounterModel(key(user_id, quarter_of(at))), actions)


def correct(tx: Tx, *, user_id: str, at: datetime, kind: str, services: int = 0, minutes: int = 0,
            community_id: str | None = None) -> Tx:
    """A correction of what was counted (an attendance adjusted, 补录/更正): add ``services`` (−1, 0 or +1: the
    attendance now credits minutes or no longer does) and ``minutes`` (the delta, may be negative) to the quarter of
    ``at`` — the moment the service was first counted at — in ``tx``. Nothing when both are 0."""
    if kind not in SERVICE_KINDS:
        raise ValueError(f"unknown service kind {kind!r}")
    actions = []
    if services:
        actions += [Path(SERVICES).add(Value({"N": str(int(services))})), Path(kind).add(Value({"N": str(int(services))}))]
    if minutes:
        actions.append(Path(MINUTES).add(Value({"N": str(int(minutes))})))
    if actions:
        if community_id:
            actions.append(Path("community_id").set(Value({"S": community_id})))
        tx.update(CounterModel(key(user_id, quarter_of(at))), actions)
    return tx


def read(keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, int]]:
    """The counted names of each (user_id, quarter) asked that has a record: one BatchGetItem per 100 keys
    (a page of ≤ 20 members × 5 quarters is one call)."""
    wanted = {key(user_id, quarter): (user_id, quarter) for user_id, quarter in keys}
    names = (SERVICES, MINUTES) + SERVICE_KINDS
    found: dict[tuple[str, str], dict[str, int]] = {}
    ordered = list(wanted)
    for first in range(0, len(ordered), MAX_KEYS):
        for item in get_raw_many(CounterModel, ordered[first:first + MAX_KEYS]):
            which = wanted.get(item["key"]["S"])
            if which is not None:
                found[which] = {name: int(item[name]["N"]) for name in names if name in item and "N" in item[name]}
    return found
