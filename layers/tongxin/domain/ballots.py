"""微实事 票选 (ballots) and the results: the rules, pure (no I/O).

A resident of the round's community with a bound phone casts ONE ballot while voting runs
(``voting_from ≤ now < voting_until``): a non-empty set of distinct approved projects of the round; approval style at
most ``max_choices`` of them (409 TOO_MANY_CHOICES), budget style their costs summed within ``budget_yuan`` (409
BUDGET_EXCEEDED). Counts are SHARDED counters (``VOTE_SHARDS`` items per project, and as many for the turnout), the
shard a stable hash of the voter: a popular project in a big round spreads its writes over several items, and the
results sum them (``O(projects × shards)`` keys, never the ballots).

Results (after ``voting_until`` only — before, nobody sees a count, admins included: 409 RESULTS_NOT_READY): the
approved projects ranked by votes (more first), ties by earlier approval (then id, so a rank is never ambiguous);
winners: approval style the top ``max_choices``, budget style greedily in rank order while the remaining budget
allows (a project that does not fit is skipped and the next ones still tried). A project without a single vote is
never selected.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from .errors import Conflict, NotFound, ValidationFailed

VOTE_SHARDS = 8
APPROVAL, BUDGET = "approval", "budget"
# The most projects a round approves (A1's MAX_APPROVED): a budget ballot choosing them all is a transaction of
# 30 project counters + the turnout counter + the ballot + the round's and the voter's checks + the Idempotency-Key
# record = 35 items, far within DynamoDB's 100.
MAX_CHOICES_ANY = 30


class AlreadyVoted(Conflict):
    code, message = "ALREADY_VOTED", "您已在本轮投过票，每人只能投一次"


class VotingClosed(Conflict):
    code, message = "VOTING_CLOSED", "不在投票时间内"


class PhoneRequired(Conflict):
    code, message = "PHONE_REQUIRED", "请先绑定手机号后再投票"


class TooManyChoices(Conflict):
    code, message = "TOO_MANY_CHOICES", "选择的项目超过了本轮允许的数量"


class BudgetExceeded(Conflict):
    code, message = "BUDGET_EXCEEDED", "所选项目的预算合计超出了本轮的总预算"


class ResultsNotReady(Conflict):
    code, message = "RESULTS_NOT_READY", "投票结束后才公布结果"


class NotVoted(NotFound):
    code, message = "NOT_VOTED", "您在本轮还没有投票"


ROUND_NOT_FOUND = NotFound("微实事轮次不存在")
NOT_YET_OPEN = VotingClosed("投票尚未开始")
ALREADY_CLOSED = VotingClosed("投票已经结束")


def shard_of(user_id: str) -> int:
    """The voter's shard: stable across processes (not Python's salted ``hash``)."""
    return int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:4], "big") % VOTE_SHARDS


def votes_key(round_id: str, project_id: str, shard: int) -> str:
    return f"round-votes#{round_id}#{project_id}#{shard}"


def turnout_key(round_id: str, shard: int) -> str:
    return f"round-turnout#{round_id}#{shard}"


def voting_refusal(voting_from: datetime, voting_until: datetime, now: datetime) -> VotingClosed | None:
    if now < voting_from:
        return NOT_YET_OPEN
    if now >= voting_until:
        return ALREADY_CLOSED
    return None


def results_ready(voting_until: datetime, now: datetime) -> bool:
    return now >= voting_until


def check_choice(project_ids: Sequence[str], approved_costs: dict[str, int], *, style: str,
                 max_choices: int | None, budget_yuan: int) -> list[str]:
    """The ballot's choice as stored (in the order given), or the refusal: empty, a duplicate, or a project that
    is not an approved project of this round → 400 naming it; too many (approval) → 409 TOO_MANY_CHOICES; over the
    budget (budget style) → 409 BUDGET_EXCEEDED."""
    ids = [i.strip() for i in project_ids]
    if not ids:
        raise ValidationFailed("请至少选择一个项目", details={"field": "project_ids"})
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValidationFailed("同一个项目只能选一次", details={"field": "project_ids", "project_id": i})
        seen.add(i)
        if i not in approved_costs:
            raise ValidationFailed("所选项目不在本轮的投票名单中", details={"field": "project_ids", "project_id": i})
    if style == APPROVAL:
        if max_choices is not None and len(ids) > max_choices:
            raise TooManyChoices(f"本轮最多选择 {max_choices} 个项目", details={"max_choices": max_choices})
    else:
        total = sum(approved_costs[i] for i in ids)
        if total > budget_yuan:
            raise BudgetExceeded(f"所选项目合计 {total} 元，超出本轮总预算 {budget_yuan} 元",
                                 details={"total_yuan": total, "budget_yuan": budget_yuan})
    return ids


@dataclass(frozen=True)
class Candidate:
    id: str
    votes: int
    approved_at: datetime
    cost_yuan: int


@dataclass(frozen=True)
class Ranked:
    id: str
    votes: int
    rank: int
    selected: bool


def rank(candidates: Iterable[Candidate], *, style: str, max_choices: int | None, budget_yuan: int) -> list[Ranked]:
    """The results: ranked by votes (more first), ties by earlier approval (then id); winners marked (see the
    module's note)."""
    ordered = sorted(candidates, key=lambda c: (-c.votes, c.approved_at, c.id))
    out: list[Ranked] = []
    left = budget_yuan
    chosen = 0
    for position, c in enumerate(ordered, start=1):
        selected = False
        if c.votes > 0:
            if style == APPROVAL:
                selected = max_choices is None or chosen < max_choices
            elif c.cost_yuan <= left:
                selected = True
                left -= c.cost_yuan
        chosen += selected
        out.append(Ranked(c.id, c.votes, position, selected))
    return out
