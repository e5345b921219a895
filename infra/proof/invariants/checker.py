"""``check``, the entry point, and ``_Checker``: the tables loaded once and indexed (users, ledger entries by user,
by key and by source, events, sign-ups by event, communities, streets, districts, departments, grids, counters by
key), ``fail`` that writes one violation line ``[<invariant>] <where>: <what>``, and ``run``, every area's checks in
a fixed order. The checks themselves are the area classes it is made of, one module each (``ledger``, ``wishes``,
``events``, ``attendance``, ``scores``, ``store``, ``outbox``, ``requests``, ``statistics``, ``structure``,
``directory``, ``bulletin``, ``ballots``, ``commendations``)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Callable

from infra.proof.invariants.attendance import AttendanceChecks
from infra.proof.invariants.ballots import BallotChecks
from infra.proof.invariants.bulletin import BulletinChecks
from infra.proof.invariants.commendations import CommendationChecks
from infra.proof.invariants.directory import DirectoryChecks
from infra.proof.invariants.events import EventChecks
from infra.proof.invariants.ledger import LedgerChecks
from infra.proof.invariants.project_rounds import RoundChecks
from infra.proof.invariants.outbox import OutboxChecks
from infra.proof.invariants.requests import RequestChecks
from infra.proof.invariants.scores import ScoreChecks
from infra.proof.invariants.statistics import StatisticsChecks
from infra.proof.invariants.store import StoreChecks
from infra.proof.invariants.structure import StructureChecks
from infra.proof.invariants.tables import _load
from infra.proof.invariants.wishes import WishChecks


def check(client, table_name: Callable[[str], str], *, now: datetime | None = None,
          stock_issued: dict[str, int] | None = None) -> list[str]:
    """Every violation found in the stack whose tables ``client`` (a boto3/botocore DynamoDB client) reaches, with
    ``table_name("users")`` the physical name of each table; empty when every invariant holds.

    ``now``: the time "due" is judged at (default: the wall clock). ``stock_issued``: goods id → every unit ever
    put on its shelf (initial stock plus restocks), when the caller knows it: then the stock must be exact."""
    now = now or datetime.now(timezone.utc)
    data, problems = _load(client, table_name)
    return problems + _Checker(data, now, stock_issued or {}).run()


class _Checker(LedgerChecks, WishChecks, EventChecks, AttendanceChecks, ScoreChecks, StoreChecks, OutboxChecks,
               RequestChecks, StatisticsChecks, StructureChecks, DirectoryChecks, BulletinChecks, BallotChecks,
               CommendationChecks, RoundChecks):
    def __init__(self, data: dict[str, list], now: datetime, stock_issued: dict[str, int]):
        self.d, self.now, self.stock_issued = data, now, stock_issued
        self.out: list[str] = []
        self.users = {u.id: u for u in data["users"]}
        self.ledger: dict[str, list] = defaultdict(list)
        for entry in data["ledger"]:
            self.ledger[entry.user_id].append(entry)
        self.entries = {(e.user_id, e.entry_key): e for e in data["ledger"]}
        self.by_source: dict[tuple[str, str], list] = defaultdict(list)  # (kind, source) → entries
        for entry in data["ledger"]:
            self.by_source[(entry.kind, entry.source)].append(entry)
        self.events = {e.id: e for e in data["events"]}
        self.signups: dict[str, list] = defaultdict(list)
        for signup in data["signups"]:
            self.signups[signup.event_id].append(signup)
        self.communities = {c.id: c for c in data["communities"]}
        self.streets = {s.id: s for s in data["streets"]}
        self.districts = {d.id: d for d in data["districts"]}
        self.departments = {p.id: p for p in data["departments"]}
        self.grids = {(g.community_id, g.id): g for g in data["grids"]}
        self.counters = {c["key"]["S"]: c for c in data["counters"] if "key" in c}

    def fail(self, rule: str, where: str, what: str) -> None:
        self.out.append(f"[{rule}] {where}: {what}")

    def run(self) -> list[str]:
        for step in (self.users_and_ledger, self.ledger_keys, self.wishes, self.events_and_signups,
                     self.attendance, self.scores, self.store, self.awards, self.outbox, self.requests,
                     self.statistics, self.structure, self.region, self.identities, self.directory,
                     self.volunteer_counts, self.bulletins, self.ballots, self.commendations,
                     self.project_rounds):
            step()
        return self.out
