"""微实事 票选 (ballots), the results and their finalisation (rules: ``domain/ballots.py``; rounds and projects:
``usecases/project_rounds.py``).

- **cast** (a resident of the round's community with a bound phone, while voting runs): the choice is validated
  against the round's approved projects as read — safe, because the approved set is FROZEN while voting runs (a
  review is only accepted while ``now < voting_from``, a condition of the review's own write) — then ONE
  transaction: the ballot's Put (``attribute_not_exists``: 409 ALREADY_VOTED), a ConditionCheck on the round (its
  community, ``voting_from ≤ now < voting_until``: 409 VOTING_CLOSED), a ConditionCheck on the voter (still an active
  resident of that community with a phone: 409 PHONE_REQUIRED / 403), ``ADD n 1`` to each chosen project's counter
  in the voter's shard and to the turnout's, and the Idempotency-Key record. At most 35 items (30 projects).
- **receipt**: my ballot (ids and titles as they were).
- **results** (members, after ``voting_until`` only; nobody sees a count before, admins included): before the
  finalisation the sharded counters (⌈projects × shards / 100⌉ BatchGetItems, never the ballots), after it the votes,
  ranks and winners written on the projects; the turnout from its shards either way.
- **finalise**: votes, rank and ``selected`` onto every approved project and ``selected_count`` / ``results_final_at``
  onto the round (the sparse ``by_finalise_due`` attributes removed), ONE transaction (≤ 31 items) conditioned on
  the round not final yet: running it twice changes nothing. The scheduler runs it for the rounds whose voting
  ended (``run_schedule``: one Query of ``by_finalise_due``); the delivery (A1) runs it first for a round not final.
"""
from __future__ import annotations

import logging
from datetime import datetime

from .. import metrics
from ..adapters.dynamo import acting, batch
from ..adapters.dynamo.guards import ROLE_CHANGED, grant_condition
from ..adapters.dynamo.models import BallotModel, CounterModel, ProjectRoundModel, RoundProjectModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain import ballots as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import DomainError, NotInCommunity
from . import notifications, round_notices
from .access import current_user

log = logging.getLogger(__name__)

APPROVED = "approved"
BATCH_KEYS = 100
FINALISE_SHARD = "r"
SCHEDULE_BATCH = 25


# --- reading what a ballot needs -----------------------------------------------------------------------------------

def _round_of_member(principal: Principal, round_id: str) -> ProjectRoundModel:
    """The round, one BatchGetItem; a round of another community does not exist for the caller (404)."""
    if not principal.community_id:
        raise NotInCommunity()
    found, = batch.get_many((ProjectRoundModel, round_id))
    if found is None or found.community_id != principal.community_id:
        raise rules.ROUND_NOT_FOUND
    return found


def _approved(round_id: str) -> list[RoundProjectModel]:
    """The round's approved projects: ONE Query of ``by_round_status`` (≤ 30 by the round's cap, one page)."""
    return list(RoundProjectModel.by_round_status.query(f"{round_id}#{APPROVED}", limit=BATCH_KEYS))


def _sum_shards(keys: list[str]) -> dict[str, int]:
    """Counter values by key (absent: 0), ⌈len(keys) / 100⌉ BatchGetItems."""
    out: dict[str, int] = {}
    for start in range(0, len(keys), BATCH_KEYS):
        chunk = keys[start:start + BATCH_KEYS]
        for key, item in zip(chunk, batch.get_many(*[(CounterModel, k) for k in chunk])):
            out[key] = int(item.n or 0) if item is not None else 0
    return out


def present_receipt(ballot: BallotModel) -> dict:
    return {"round_id": ballot.round_id,
            "projects": [{"id": i, "title": t} for i, t in zip(ballot.project_ids, ballot.project_titles)],
            "project_ids": list(ballot.project_ids), "cast_at": to_api(ballot.cast_at),
            "proxy": ballot.proxy_by is not None}


# --- casting --------------------------------------------------------------------------------------------------------

def cast(principal: Principal, round_id: str, *, project_ids: list[str]) -> dict:
    """The resident's ballot (201 the receipt). Reads: the round (one BatchGetItem), its approved projects (one
    Query); then ONE transaction (see the module's note)."""
    rnd = _round_of_member(principal, round_id)
    grant = require_role(principal, Role.RESIDENT, community_id=rnd.community_id)
    now = utcnow()
    refusal = rules.voting_refusal(rnd.voting_from, rnd.voting_until, now)
    if refusal is not None:
        raise refusal
    if not current_user(principal).phone:
        raise rules.PhoneRequired()
    # The approved set cannot change while voting runs (reviews close at voting_from, by a condition of the review's
    # write), so validating the choice against it as read is safe: no condition on the projects is needed.
    approved = {p.id: p for p in _approved(round_id)}
    chosen = rules.check_choice(project_ids, {i: int(p.cost_yuan) for i, p in approved.items()}, style=rnd.style,
                                max_choices=int(rnd.max_choices) if rnd.max_choices is not None else None,
                                budget_yuan=int(rnd.budget_yuan))
    shard = rules.shard_of(principal.user_id)
    ballot = BallotModel(round_id, principal.user_id, community_id=rnd.community_id, project_ids=chosen,
                         project_titles=[approved[i].title for i in chosen], shard=shard, cast_at=now,
                         proxy_by=acting.actor_for(principal.user_id))  # 代办: the staff member who cast it
    answer = present_receipt(ballot)

    def round_refused(current: ProjectRoundModel | None) -> DomainError:
        if current is None or current.community_id != rnd.community_id:
            return rules.ROUND_NOT_FOUND
        return rules.voting_refusal(current.voting_from, current.voting_until, now) or rules.ALREADY_CLOSED

    def voter_refused(current: UserModel | None) -> DomainError:
        if current is not None and current.status == "active" and current.community_id == rnd.community_id \
                and not current.phone:
            return rules.PhoneRequired()
        return ROLE_CHANGED

    tx = Tx()
    tx.check(UserModel, principal.user_id, condition=grant_condition(grant) & UserModel.phone.exists(),
             error=voter_refused)
    tx.check(ProjectRoundModel, round_id, error=round_refused,
             condition=(ProjectRoundModel.community_id == rnd.community_id)
             & (ProjectRoundModel.voting_from <= now) & (ProjectRoundModel.voting_until > now))
    tx.put(ballot, condition=BallotModel.user_id.does_not_exist(), error=rules.AlreadyVoted())
    for project_id in chosen:
        tx.update(CounterModel(rules.votes_key(round_id, project_id, shard)), [CounterModel.n.add(1)])
    tx.update(CounterModel(rules.turnout_key(round_id, shard)), [CounterModel.n.add(1)])
    tx.commit(answer)
    metrics.count("ballot_cast")
    log.info("ballot cast", extra={"round_id": round_id, "choices": len(chosen)})
    return answer


def receipt(principal: Principal, round_id: str) -> dict:
    """My ballot in the round: ONE BatchGetItem (the round and my ballot). 404 NOT_VOTED before I vote; the round of
    another community 404 NOT_FOUND."""
    if not principal.community_id:
        raise NotInCommunity()
    rnd, ballot = batch.get_many((ProjectRoundModel, round_id), (BallotModel, round_id, principal.user_id))
    if rnd is None or rnd.community_id != principal.community_id:
        raise rules.ROUND_NOT_FOUND
    if ballot is None:
        raise rules.NotVoted()
    return present_receipt(ballot)


# --- results --------------------------------------------------------------------------------------------------------

def _candidates(projects: list[RoundProjectModel], votes: dict[str, int]) -> list[rules.Candidate]:
    return [rules.Candidate(p.id, votes.get(p.id, 0), p.approved_at or p.created_at, int(p.cost_yuan))
            for p in projects]


def _live_votes(round_id: str, projects: list[RoundProjectModel]) -> dict[str, int]:
    keys = {p.id: [rules.votes_key(round_id, p.id, s) for s in range(rules.VOTE_SHARDS)] for p in projects}
    values = _sum_shards([k for ks in keys.values() for k in ks])
    return {pid: sum(values[k] for k in ks) for pid, ks in keys.items()}


def _present_item(project: RoundProjectModel, ranked: rules.Ranked) -> dict:
    return {"project": {"id": project.id, "title": project.title, "category": project.category,
                        "cost_yuan": int(project.cost_yuan)},
            "votes": ranked.votes, "rank": ranked.rank, "selected": ranked.selected}


def results(principal: Principal, round_id: str) -> dict:
    """The round's results (members of its community), after voting only (409 RESULTS_NOT_READY before, whoever
    asks). Reads: the round and the turnout's shards (one BatchGetItem), the approved projects (one Query), and —
    until the finalisation wrote them onto the projects — the vote counters (⌈projects × 8 / 100⌉ BatchGetItems)."""
    if not principal.community_id:
        raise NotInCommunity()
    wanted = [(ProjectRoundModel, round_id)] + [(CounterModel, rules.turnout_key(round_id, s))
                                                for s in range(rules.VOTE_SHARDS)]
    rnd, *turnout_items = batch.get_many(*wanted)
    if rnd is None or rnd.community_id != principal.community_id:
        raise rules.ROUND_NOT_FOUND
    now = utcnow()
    if not rules.results_ready(rnd.voting_until, now):
        raise rules.ResultsNotReady()
    turnout = sum(int(i.n or 0) for i in turnout_items if i is not None)
    projects = _approved(round_id)
    by_id = {p.id: p for p in projects}
    final = rnd.results_final_at is not None
    # The projects come from an index (eventually consistent): an image from before the finalisation has no rank yet,
    # and then the counters (read consistently, unchanged since the close) answer the same results.
    if final and all(p.rank is not None for p in projects):
        ranked = sorted((rules.Ranked(p.id, int(p.votes or 0), int(p.rank or 0), bool(p.selected))
                         for p in projects), key=lambda r: r.rank)
    else:
        ranked = rules.rank(_candidates(projects, _live_votes(round_id, projects)), style=rnd.style,
                            max_choices=int(rnd.max_choices) if rnd.max_choices is not None else None,
                            budget_yuan=int(rnd.budget_yuan))
    items = [_present_item(by_id[r.id], r) for r in ranked]
    return {"round_id": rnd.id, "style": rnd.style, "budget_yuan": int(rnd.budget_yuan),
            "max_choices": int(rnd.max_choices) if rnd.max_choices is not None else None,
            "turnout": turnout, "selected_yuan": sum(i["project"]["cost_yuan"] for i in items if i["selected"]),
            "final": final, "final_at": to_api(rnd.results_final_at), "items": items}


# --- finalisation ---------------------------------------------------------------------------------------------------

class _AlreadyFinal(DomainError):
    """The round's condition failed in the finalisation: another run finalised it first (or it is not due)."""


def finalise(round_id: str, now: datetime | None = None) -> bool:
    """Write the results onto the round's approved projects and the round, ONE transaction (≤ 31 items). True when
    this call finalised it; False when it was final already, is not due yet (voting still runs) or does not exist.
    Safe to run twice and concurrently (the round's condition: ``results_final_at`` absent)."""
    now = now or utcnow()
    rnd, = batch.get_many((ProjectRoundModel, round_id))
    if rnd is None or rnd.results_final_at is not None or not rules.results_ready(rnd.voting_until, now):
        return False
    projects = _approved(round_id)
    ranked = rules.rank(_candidates(projects, _live_votes(round_id, projects)), style=rnd.style,
                        max_choices=int(rnd.max_choices) if rnd.max_choices is not None else None,
                        budget_yuan=int(rnd.budget_yuan))
    tx = Tx()
    for r in ranked:
        tx.update(RoundProjectModel(r.id),
                  [RoundProjectModel.votes.set(r.votes), RoundProjectModel.rank.set(r.rank),
                   RoundProjectModel.selected.set(r.selected), RoundProjectModel.updated_at.set(now)],
                  condition=(RoundProjectModel.round_id == round_id) & (RoundProjectModel.status == APPROVED))
    tx.update(ProjectRoundModel(round_id),
              [ProjectRoundModel.selected_count.set(sum(r.selected for r in ranked)),
               ProjectRoundModel.results_final_at.set(now), ProjectRoundModel.finalise_shard.remove(),
               ProjectRoundModel.finalise_due.remove(), ProjectRoundModel.updated_at.set(now)],
              condition=ProjectRoundModel.results_final_at.does_not_exist()
              & (ProjectRoundModel.voting_until <= now), error=_AlreadyFinal())
    # Everybody is told of the result once (the fan-out's key), in the finalisation's own transaction.
    notifications.fan_out(tx, key=f"round#{round_id}#results", kind="round_results",
                          audience=notifications.community_members_audience(rnd.community_id),
                          data={"round_id": round_id, "title": rnd.title, "selected": sum(r.selected for r in ranked)},
                          page=round_notices.ROUND_PAGE.format(id=round_id), community_id=rnd.community_id,
                          duplicate_error=_AlreadyFinal())
    try:
        tx.commit()
    except _AlreadyFinal:
        return False
    metrics.count("project_round_finalised")
    log.info("project round finalised", extra={"round_id": round_id, "projects": len(ranked),
                                               "selected": sum(r.selected for r in ranked)})
    return True


def run_schedule(now: datetime) -> int:
    """The scheduler's step: finalise the rounds whose voting ended — ONE Query of the sparse ``by_finalise_due``
    (the rounds not final yet, by the end of their voting), at most ``SCHEDULE_BATCH`` a run (the next run takes the
    rest). Returns how many it finalised."""
    due = ProjectRoundModel.by_finalise_due.query(FINALISE_SHARD, ProjectRoundModel.finalise_due <= now,
                                                  limit=SCHEDULE_BATCH)
    return sum(finalise(r.id, now) for r in due)
