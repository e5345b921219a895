"""微实事 (small public projects chosen by the residents' vote): rounds, proposals, review and delivery — the rules,
pure (no I/O). Ballots, counts and results are domain/ballots.py.

A round's phase is derived from its dates and its delivery counters, never stored:

    proposing (征集) → reviewing (审核) → voting (投票) → publicity (公示) → implementing (实施) → done (完成)

- ``proposing`` while now < ``proposals_until``: residents of the community propose (≤ PROPOSALS_PER_RESIDENT each).
- ``reviewing`` while now < ``voting_from``: the admin approves (optionally correcting the cost) or rejects, once
  per proposal. Review is open from the first proposal until voting opens (proposals may be reviewed as they come);
  from ``voting_from`` on the approved set is FROZEN (the ballot validates against it) — a condition of every
  review's transaction, not a check in Python.
- ``voting`` while now < ``voting_until``: ballots (A2). No count is shown to anyone.
- ``publicity`` (公示) while now < ``publicity_until`` (= voting_until + publicity_days): the results are public.
- ``implementing`` after that while fewer selected projects are done than were selected; ``done`` when every selected
  project is done (or none was selected), once the results are final.

Delivery: the admin reports progress on a selected project (note, percent 0–100; 100 completes it: ``done_at``, the
round's ``done_count`` + 1 in the same transaction), after the 公示; residents rate a done project once each (验收).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .ballots import ResultsNotReady
from .errors import AlreadyRated, Conflict, InvalidState, NotFound, ValidationFailed

TITLE_MAX = 40
DESCRIPTION_MAX = 1000
REASON_MAX = 200
NOTE_MAX = 500
COMMENT_MAX = 200
BUDGET_MIN, BUDGET_MAX = 1, 10_000_000  # whole yuan: up to 一千万 a round
MAX_CHOICES_MIN, MAX_CHOICES_MAX = 1, 10
PUBLICITY_DAYS_MIN, PUBLICITY_DAYS_MAX = 0, 30
PERCENT_MIN, PERCENT_MAX = 0, 100
RATING_MIN, RATING_MAX = 1, 5
PROPOSALS_PER_RESIDENT = 3
# Approved projects a round may hold (a condition on the round's approved_count): a ballot's transaction writes one
# counter per chosen project (and the finalisation one item per approved project): ≤ 30 keeps both far below
# DynamoDB's 100 items.
MAX_APPROVED = 30
# Progress reports a selected project keeps in its item (≤ 48 steps of ≤ 500 characters).
PROGRESS_MAX = 48
# Dates a person could mean (validation.EARLIEST/LATEST bound the parser too).
LATEST = datetime(2099, 12, 31, 23, 59, 59)

APPROVAL, BUDGET = "approval", "budget"
STYLES = (APPROVAL, BUDGET)
PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"
STATUSES = (PROPOSED, APPROVED, REJECTED)
PROPOSING, REVIEWING, VOTING, PUBLICITY, IMPLEMENTING, DONE = (
    "proposing", "reviewing", "voting", "publicity", "implementing", "done")
PHASES = (PROPOSING, REVIEWING, VOTING, PUBLICITY, IMPLEMENTING, DONE)
CATEGORIES = ("环境美化", "设施维修", "便民服务", "文体活动", "关爱帮扶", "平安建设", "其他")


class ProposalsClosed(Conflict):
    """A proposal after the round's ``proposals_until``."""
    code, message = "PROPOSALS_CLOSED", "本轮项目征集已截止"


class TooManyProposals(Conflict):
    """A resident's 4th proposal in one round."""
    code, message = "TOO_MANY_PROPOSALS", f"每位居民每轮最多提出 {PROPOSALS_PER_RESIDENT} 个项目"


class NotSelected(Conflict):
    """Progress on a project the results did not select (or that was never on the ballot)."""
    code, message = "NOT_SELECTED", "这个项目未入选，不需要实施"


ROUND_NOT_FOUND = NotFound("微实事征集轮次不存在")
PROJECT_NOT_FOUND = NotFound("微实事项目不存在")
PROPOSALS_CLOSED = ProposalsClosed()
TOO_MANY_PROPOSALS = TooManyProposals(details={"cap": PROPOSALS_PER_RESIDENT})
ALREADY_REVIEWED = InvalidState("这个项目已审核过，不能重复审核")
REVIEW_CLOSED = InvalidState("投票已开始，项目清单已锁定，不能再审核")
TOO_MANY_APPROVED = InvalidState(f"每轮最多通过 {MAX_APPROVED} 个项目", details={"cap": MAX_APPROVED})
RESULTS_NOT_READY = ResultsNotReady("投票尚未结束，结果还未产生，入选项目公布后才能开始实施")
NOT_SELECTED = NotSelected()
IN_PUBLICITY = InvalidState("结果公示期内，公示结束后才能开始实施")
ALREADY_DONE = InvalidState("这个项目已完成，不能再更新进展")
PROGRESS_FULL = InvalidState(f"进展记录已达上限（{PROGRESS_MAX} 条）")
NOT_DONE_YET = InvalidState("项目完成后才能验收评价")
ALREADY_RATED = AlreadyRated("您已评价过这个项目，每人只能评价一次")


def status_key(round_id: str, status: str) -> str:
    return f"{round_id}#{status}"


def proposer_key(round_id: str, user_id: str) -> str:
    return f"{round_id}#{user_id}"


def proposals_counter(round_id: str, user_id: str) -> str:
    """The CounterModel item holding how many projects ``user_id`` proposed in the round (capped in the proposal's
    own transaction)."""
    return f"round-proposals#{round_id}#{user_id}"


def publicity_until(voting_until: datetime, publicity_days: int) -> datetime:
    return voting_until + timedelta(days=publicity_days)


def check_round(*, style: str, max_choices: int | None, budget_yuan: int, proposals_until: datetime,
                voting_from: datetime, voting_until: datetime, publicity_days: int, now: datetime) -> int | None:
    """A new round's settings as stored (its ``max_choices``); else 400 VALIDATION_FAILED naming the field. Dates:
    all in the future, ``proposals_until ≤ voting_from < voting_until``, the 公示 ending by 2099 (short rounds of
    minutes are valid: that is how tests and demos run them)."""
    if style == APPROVAL:
        if max_choices is None:
            raise ValidationFailed("赞成票制须设定每张选票最多可选的项目数（1–10）", details={"field": "max_choices"})
        if not MAX_CHOICES_MIN <= max_choices <= MAX_CHOICES_MAX:
            raise ValidationFailed("每张选票最多可选 1–10 个项目", details={"field": "max_choices"})
    elif max_choices is not None:
        raise ValidationFailed("预算制按预算选择项目，不设最多可选项目数", details={"field": "max_choices"})
    if not BUDGET_MIN <= budget_yuan <= BUDGET_MAX:
        raise ValidationFailed("预算须在 1 元至 1000 万元之间", details={"field": "budget_yuan"})
    if proposals_until <= now:
        raise ValidationFailed("征集截止时间须晚于现在", details={"field": "proposals_until"})
    if voting_from < proposals_until:
        raise ValidationFailed("投票开始时间不能早于征集截止时间", details={"field": "voting_from"})
    if voting_until <= voting_from:
        raise ValidationFailed("投票结束时间须晚于投票开始时间", details={"field": "voting_until"})
    if publicity_until(voting_until, publicity_days).replace(tzinfo=None) > LATEST:
        raise ValidationFailed("公示结束时间超出允许范围（2099 年底前）", details={"field": "voting_until"})
    return max_choices if style == APPROVAL else None


def phase(*, proposals_until: datetime, voting_from: datetime, voting_until: datetime, publicity_until: datetime,
          results_final: bool, selected_count: int | None, done_count: int, now: datetime) -> str:
    """The round's phase at ``now`` (see the module's note)."""
    if now < proposals_until:
        return PROPOSING
    if now < voting_from:
        return REVIEWING
    if now < voting_until:
        return VOTING
    if now < publicity_until:
        return PUBLICITY
    if results_final and done_count >= int(selected_count or 0):
        return DONE
    return IMPLEMENTING


def check_cost(cost_yuan: int, budget_yuan: int, field: str = "cost_yuan") -> None:
    """A project's cost: whole yuan, at least 1, at most the round's budget (400 naming the field)."""
    if cost_yuan < 1:
        raise ValidationFailed("项目预算至少 1 元", details={"field": field})
    if cost_yuan > budget_yuan:
        raise ValidationFailed(f"项目预算不能超过本轮总预算（{budget_yuan} 元）",
                               details={"field": field, "budget_yuan": budget_yuan})


def proposal_refusal(*, now: datetime, proposals_until: datetime, proposed_by_me: int):
    """Why a resident cannot propose in the round as read (None: they can). The transaction holds both again."""
    if now >= proposals_until:
        return PROPOSALS_CLOSED
    if proposed_by_me >= PROPOSALS_PER_RESIDENT:
        return TOO_MANY_PROPOSALS
    return None


def review_refusal(*, status: str | None, now: datetime, voting_from: datetime, approved_count: int,
                   approving: bool):
    """Why a proposal cannot be reviewed as it stands (None: it can)."""
    if status is None:
        return PROJECT_NOT_FOUND
    if status != PROPOSED:
        return ALREADY_REVIEWED
    if now >= voting_from:
        return REVIEW_CLOSED
    if approving and approved_count >= MAX_APPROVED:
        return TOO_MANY_APPROVED
    return None


def progress_refusal(*, results_final: bool, selected: bool | None, done: bool, progress_count: int,
                     now: datetime, publicity_until: datetime):
    """Why progress cannot be reported on a project as read (None: it can)."""
    if not results_final:
        return RESULTS_NOT_READY
    if not selected:
        return NOT_SELECTED
    if now < publicity_until:
        return IN_PUBLICITY
    if done:
        return ALREADY_DONE
    if progress_count >= PROGRESS_MAX:
        return PROGRESS_FULL
    return None
