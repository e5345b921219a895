"""微实事 rounds, proposals and review: a community's admin opens a round (budget, ballot style, dates), residents
propose projects, the admin approves (optionally correcting the cost) or rejects them before voting opens. Ballots
and results are usecases/ballots.py; delivery (progress, 验收) is usecases/round_delivery.py.

Every change is ONE transaction whose conditions carry the rule (domain/project_rounds.py):

- **open a round** (the community's admin): the admin's grant and the round's Put.
- **propose** (a resident of the round's community): the resident's grant; the round's ``proposed_count`` added to
  under ``proposals_until > now`` (409 PROPOSALS_CLOSED) and the round's community; the resident's counter
  ``round-proposals#<round>#<user>`` bumped under its cap of 3 (409 TOO_MANY_PROPOSALS); the project's Put.
- **approve / reject** (the community's admin): the grant; the project ``proposed → approved|rejected`` under
  ``status = proposed`` (reviewed once: 409 INVALID_STATE); the round under ``voting_from > now`` (409
  INVALID_STATE: from the opening of the vote the approved set is FROZEN, which is what lets a ballot validate its
  choice against it) — an approval adds 1 to ``approved_count`` under ``approved_count < MAX_APPROVED``, a
  rejection only checks the round.

Who sees what: a round and its approved projects are seen by the members of its community; a proposal still under
review or rejected only by its proposer and the community's admins. Anyone else: 404. No answer here carries a
vote count: ``votes``/``rank``/``selected`` exist on a project only once the finalisation (after ``voting_until``)
wrote them.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from .. import metrics
from ..adapters.dynamo import batch, counters
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import CounterModel, ProjectRoundModel, RoundProjectModel, RoundProjectRatingModel
from ..adapters.dynamo.tx import Tx
from ..domain import project_rounds as rules
from ..domain.access import Principal, Role, require_member, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import Forbidden
from ..domain.ids import new_id
from ..domain.masking import mask_name
from ..domain.text import DEFAULT_NICKNAME, DELETED_NICKNAME
from ..domain.ratings import average
from ..wiring import Container
from . import notifications, paging, ratings, round_notices
from .access import current_user
from .content import Scene, check as content_check

log = logging.getLogger(__name__)

PROJECT_PAGE = "pages/round/project?id={id}"
# The proposal counter outlives the round's proposing phase (it is only read while proposing).
COUNTER_KEPT = timedelta(days=30)


# --- presenting ----------------------------------------------------------------------------------------------------

def round_phase(round_: ProjectRoundModel, now: datetime) -> str:
    return rules.phase(proposals_until=round_.proposals_until, voting_from=round_.voting_from,
                       voting_until=round_.voting_until, publicity_until=round_.publicity_until,
                       results_final=round_.results_final_at is not None, selected_count=round_.selected_count,
                       done_count=int(round_.done_count or 0), now=now)


def present_round(round_: ProjectRoundModel, *, now: datetime | None = None,
                  my_proposals: int | None = None) -> dict:
    """A round as members see it: settings, dates, ``phase``, how many projects were proposed and approved, and
    after the results how many were selected and are done. Never a vote count."""
    now = now or utcnow()
    answer = {"id": round_.id, "community_id": round_.community_id, "title": round_.title,
              "budget_yuan": int(round_.budget_yuan), "style": round_.style,
              "max_choices": int(round_.max_choices) if round_.max_choices is not None else None,
              "proposals_until": to_api(round_.proposals_until), "voting_from": to_api(round_.voting_from),
              "voting_until": to_api(round_.voting_until), "publicity_days": int(round_.publicity_days or 0),
              "publicity_until": to_api(round_.publicity_until), "phase": round_phase(round_, now),
              "proposed_count": int(round_.proposed_count or 0), "approved_count": int(round_.approved_count or 0),
              "selected_count": int(round_.selected_count) if round_.selected_count is not None else None,
              "done_count": int(round_.done_count or 0), "results_final_at": to_api(round_.results_final_at),
              "created_at": to_api(round_.created_at), "updated_at": to_api(round_.updated_at)}
    if my_proposals is not None:
        answer["my_proposals"] = my_proposals
        answer["my_proposals_left"] = max(0, rules.PROPOSALS_PER_RESIDENT - my_proposals)
    return answer


def is_admin_of(principal: Principal, community_id: str) -> bool:
    return principal.community_id == community_id and principal.has(Role.ADMIN)


def present_project(project: RoundProjectModel, principal: Principal) -> dict:
    """A project: the proposer's nickname whole for the community's admins and the proposer, masked for the other
    residents; ``votes``/``rank``/``selected`` null until the round's results are final."""
    count, total = int(project.ratings_count or 0), int(project.ratings_sum or 0)
    nickname = project.proposer_nickname or DEFAULT_NICKNAME
    unmasked = is_admin_of(principal, project.community_id) or project.proposer_id == principal.user_id \
        or nickname == DELETED_NICKNAME  # the placeholder names nobody
    return {"id": project.id, "round_id": project.round_id, "community_id": project.community_id,
            "title": project.title, "description": project.description, "cost_yuan": int(project.cost_yuan),
            "category": project.category,
            "proposer": {"id": project.proposer_id, "nickname": nickname if unmasked else mask_name(nickname)},
            "status": project.status, "reject_reason": project.reject_reason,
            "reviewed_at": to_api(project.reviewed_at), "approved_at": to_api(project.approved_at),
            "votes": int(project.votes) if project.votes is not None else None,
            "rank": int(project.rank) if project.rank is not None else None,
            "selected": project.selected,
            "percent": int(project.percent or 0), "done_at": to_api(project.done_at),
            "ratings_count": count, "rating_average": average(count, total),
            "created_at": to_api(project.created_at), "updated_at": to_api(project.updated_at)}


def present_step(step, *, unmasked: bool) -> dict:
    nickname = step.actor_nickname or DEFAULT_NICKNAME
    return {"at": to_api(step.at), "action": step.action, "role": step.actor_role,
            "by": {"id": step.actor_id, "nickname": nickname if unmasked else mask_name(nickname)},
            "percent": int(step.percent) if step.percent is not None else None, "note": step.note}


def present_project_detail(project: RoundProjectModel, principal: Principal, *,
                           mine: RoundProjectRatingModel | None) -> dict:
    admin = is_admin_of(principal, project.community_id)
    return {**present_project(project, principal),
            "timeline": [present_step(s, unmasked=admin or s.actor_id == principal.user_id)
                         for s in (project.timeline or [])],
            "my_rating": ratings.present_rating(mine)}


# --- who sees what ---------------------------------------------------------------------------------------------------

def may_see_project(principal: Principal, project: RoundProjectModel) -> bool:
    """Members see approved projects; a proposal under review or rejected is its proposer's and the admins'."""
    if principal.community_id != project.community_id:
        return False
    return project.status == rules.APPROVED or project.proposer_id == principal.user_id \
        or principal.has(Role.ADMIN)


def _own_round(principal: Principal, round_: ProjectRoundModel | None) -> ProjectRoundModel:
    if round_ is None or round_.community_id != principal.community_id:
        raise rules.ROUND_NOT_FOUND
    return round_


# --- rounds ---------------------------------------------------------------------------------------------------------

def create_round(container: Container, principal: Principal, *, title: str, budget_yuan: int, style: str,
                 max_choices: int | None, proposals_until: datetime, voting_from: datetime, voting_until: datetime,
                 publicity_days: int) -> dict:
    """The community's admin opens a round (201, ``proposing``). The title passes WeChat's content check; ONE
    transaction: the admin's grant and the round's Put."""
    grant = require_role(principal, Role.ADMIN)
    now = utcnow()
    max_choices = rules.check_round(style=style, max_choices=max_choices, budget_yuan=budget_yuan,
                                    proposals_until=proposals_until, voting_from=voting_from,
                                    voting_until=voting_until, publicity_days=publicity_days, now=now)
    author = current_user(principal)
    content_check(container, author, title, scene=Scene.FORUM, what="project round")
    round_ = ProjectRoundModel(
        new_id("prd"), community_id=grant.community_id, title=title, budget_yuan=budget_yuan, style=style,
        max_choices=max_choices, proposals_until=proposals_until, voting_from=voting_from,
        voting_until=voting_until, publicity_days=publicity_days,
        publicity_until=rules.publicity_until(voting_until, publicity_days), proposed_count=0, approved_count=0,
        done_count=0, finalise_shard="r", finalise_due=voting_until, notice_shard=round_notices.NOTICE_SHARD,
        notice_due=voting_from, notice_step=round_notices.OPEN, created_by=author.id,
        created_by_nickname=author.nickname or DEFAULT_NICKNAME, created_at=now, updated_at=now)
    answer = present_round(round_, now=now)
    check_grant(Tx(), grant).put(round_, condition=ProjectRoundModel.id.does_not_exist()).commit(answer)
    metrics.count("project_round_created")
    log.info("project round created", extra={"round_id": round_.id, "style": style})
    return answer


def list_rounds(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """The caller's community's rounds, newest first: ONE Query a page (``by_community``)."""
    community_id = require_member(principal)
    now = utcnow()
    return paging.page(
        lambda **kw: ProjectRoundModel.by_community.query(community_id, scan_index_forward=False, **kw), limit,
        cursor, lambda items: [present_round(r, now=now) for r in items], scope=f"project-rounds:{community_id}",
        model=ProjectRoundModel)


def get_round(principal: Principal, round_id: str) -> dict:
    """One round with its phase and how many projects the caller may still propose: ONE BatchGetItem (the round
    and the caller's proposal counter)."""
    require_member(principal)
    round_, counter = batch.get_many((ProjectRoundModel, round_id),
                                     (CounterModel, rules.proposals_counter(round_id, principal.user_id)))
    round_ = _own_round(principal, round_)
    return present_round(round_, my_proposals=int(counter.n or 0) if counter else 0)


def load_round(principal: Principal, round_id: str) -> ProjectRoundModel:
    """The round of the caller's community (404 otherwise): one BatchGetItem."""
    require_member(principal)
    round_, = batch.get_many((ProjectRoundModel, round_id))
    return _own_round(principal, round_)


# --- proposals --------------------------------------------------------------------------------------------------------

def propose(container: Container, principal: Principal, round_id: str, *, title: str, description: str,
            cost_yuan: int, category: str) -> dict:
    """A resident of the round's community proposes a project (201, ``proposed``). ONE BatchGetItem (the round and
    the resident's counter), refusals before WeChat's content check is spent, ONE transaction (see the module's
    note: the transaction's conditions are what hold the deadline and the cap)."""
    require_member(principal)
    counter_key = rules.proposals_counter(round_id, principal.user_id)
    round_, counter = batch.get_many((ProjectRoundModel, round_id), (CounterModel, counter_key))
    round_ = _own_round(principal, round_)
    grant = require_role(principal, Role.RESIDENT, community_id=round_.community_id)
    now = utcnow()
    refusal = rules.proposal_refusal(now=now, proposals_until=round_.proposals_until,
                                     proposed_by_me=counters.current(counter, now))
    if refusal is not None:
        raise refusal
    rules.check_cost(cost_yuan, int(round_.budget_yuan))
    author = current_user(principal)
    content_check(container, author, title, description, scene=Scene.FORUM, what="round project")
    project = RoundProjectModel(
        new_id("rpj"), round_id=round_.id, community_id=round_.community_id, title=title, description=description,
        cost_yuan=cost_yuan, category=category, proposer_id=author.id,
        proposer_nickname=author.nickname or DEFAULT_NICKNAME,
        proposer_key=rules.proposer_key(round_.id, author.id), round_budget_yuan=round_.budget_yuan,
        round_voting_from=round_.voting_from, round_voting_until=round_.voting_until,
        round_publicity_until=round_.publicity_until, status=rules.PROPOSED,
        status_key=rules.status_key(round_.id, rules.PROPOSED), percent=0, progress_count=0, timeline=[],
        ratings_count=0, ratings_sum=0, created_at=now, updated_at=now)
    answer = present_project_detail(project, principal, mine=None)
    tx = check_grant(Tx(), grant)
    tx.update(ProjectRoundModel(round_.id), [ProjectRoundModel.proposed_count.add(1)],
              condition=(ProjectRoundModel.proposals_until > now)
              & (ProjectRoundModel.community_id == round_.community_id),
              error=lambda current: rules.PROPOSALS_CLOSED if current else rules.ROUND_NOT_FOUND)
    counters.bump(tx, counter_key, cap=rules.PROPOSALS_PER_RESIDENT, expires_at=round_.proposals_until + COUNTER_KEPT,
                  error=rules.TOO_MANY_PROPOSALS)
    tx.put(project, condition=RoundProjectModel.id.does_not_exist())
    tx.commit(answer)
    metrics.count("round_project_proposed")
    log.info("round project proposed", extra={"round_id": round_.id, "project_id": project.id})
    return answer


def list_projects(principal: Principal, round_id: str, *, status: str | None, mine: bool, limit: int,
                  cursor: str | None) -> dict:
    """A round's projects in proposal order, ONE Query a page: members the approved ones (``by_round_status``), or
    with ``mine`` their own proposals whatever their status (``by_proposer``); the community's admins every
    project (``by_round``) or those of one ``status``. A member asking for a status other than approved: 403. The
    round is read first (one BatchGetItem: whose it is)."""
    round_ = load_round(principal, round_id)
    admin = is_admin_of(principal, round_.community_id)
    if mine:
        key = rules.proposer_key(round_.id, principal.user_id)

        def query(**kw):
            return RoundProjectModel.by_proposer.query(key, **kw)
        scope = f"round-projects:mine:{key}"
    elif status is None and admin:
        def query(**kw):
            return RoundProjectModel.by_round.query(round_.id, **kw)
        scope = f"round-projects:{round_.id}"
    else:
        status = status or rules.APPROVED
        if status != rules.APPROVED and not admin:
            raise Forbidden("只有社区管理员可以查看待审核或未通过的项目")
        key = rules.status_key(round_.id, status)

        def query(**kw):
            return RoundProjectModel.by_round_status.query(key, **kw)
        scope = f"round-projects:{key}"
    return paging.page(query, limit, cursor, lambda items: [present_project(p, principal) for p in items],
                       scope=scope, model=RoundProjectModel)


def get_project(principal: Principal, project_id: str) -> dict:
    """One project with its delivery timeline and the caller's 验收 rating: ONE BatchGetItem. 404 for whoever may not
    see it (another community; a proposal under review or rejected, to anyone but its proposer and the admins)."""
    require_member(principal)
    project, mine = batch.get_many((RoundProjectModel, project_id),
                                   (RoundProjectRatingModel, project_id, principal.user_id))
    if project is None or not may_see_project(principal, project):
        raise rules.PROJECT_NOT_FOUND
    return present_project_detail(project, principal, mine=mine)


# --- review -----------------------------------------------------------------------------------------------------------

def load_for_admin(principal: Principal, project_id: str) -> RoundProjectModel:
    """The project for the community's admin (ONE BatchGetItem; the round's dates and budget are copied on it): a
    non-admin 403 whatever the project; another community's project 404."""
    require_role(principal, Role.ADMIN)
    project, = batch.get_many((RoundProjectModel, project_id))
    if project is None or project.community_id != principal.community_id:
        raise rules.PROJECT_NOT_FOUND
    return project


def review(container: Container, principal: Principal, project_id: str, *, approve: bool,
           cost_yuan: int | None = None, reason: str | None = None) -> dict:
    """The community's admin approves (optionally correcting the cost, within the round's budget) or rejects (with
    a reason the proposer reads, content-checked) a proposal, once, before voting opens. ONE transaction (see the
    module's note)."""
    project = load_for_admin(principal, project_id)
    grant = require_role(principal, Role.ADMIN, community_id=project.community_id)
    now = utcnow()
    # The cap of approved projects is the transaction's condition alone (the round is not read).
    refusal = rules.review_refusal(status=project.status, now=now, voting_from=project.round_voting_from,
                                   approved_count=0, approving=approve)
    if refusal is not None:
        raise refusal
    if approve and cost_yuan is not None:
        rules.check_cost(cost_yuan, int(project.round_budget_yuan))
    if not approve:
        content_check(container, current_user(principal), reason, scene=Scene.COMMENT, what="round project review")
    status = rules.APPROVED if approve else rules.REJECTED
    changes = {"status": status, "status_key": rules.status_key(project.round_id, status),
               "reviewed_by": principal.user_id, "reviewed_at": now, "updated_at": now}
    if approve:
        changes["approved_at"] = now
        if cost_yuan is not None:
            changes["cost_yuan"] = cost_yuan
    else:
        changes["reject_reason"] = reason
    after = project.changed(**changes)
    answer = present_project_detail(after, principal, mine=None)

    def project_refused(current: RoundProjectModel | None):
        return rules.ALREADY_REVIEWED if current is not None else rules.PROJECT_NOT_FOUND

    def round_refused(current: ProjectRoundModel | None):
        if current is None:
            return rules.ROUND_NOT_FOUND
        return rules.review_refusal(status=rules.PROPOSED, now=now, voting_from=current.voting_from,
                                    approved_count=int(current.approved_count or 0),
                                    approving=approve) or rules.REVIEW_CLOSED
    tx = check_grant(Tx(), grant)
    tx.update(RoundProjectModel(project.id), [getattr(RoundProjectModel, name).set(value)
                                              for name, value in changes.items()],
              condition=(RoundProjectModel.status == rules.PROPOSED)
              & (RoundProjectModel.community_id == project.community_id), error=project_refused)
    open_for_review = (ProjectRoundModel.voting_from > now) & (ProjectRoundModel.community_id == project.community_id)
    if approve:
        tx.update(ProjectRoundModel(project.round_id),
                  [ProjectRoundModel.approved_count.add(1), ProjectRoundModel.updated_at.set(now)],
                  condition=open_for_review & (ProjectRoundModel.approved_count < rules.MAX_APPROVED),
                  error=round_refused)
    else:
        tx.check(ProjectRoundModel, project.round_id, condition=open_for_review, error=round_refused)
    notifications.enqueue(tx, kind="round_proposal_reviewed", recipient_id=project.proposer_id,
                          data={"project_id": project.id, "round_id": project.round_id, "title": project.title,
                                "result": status, "reason": reason},
                          page=PROJECT_PAGE.format(id=project.id), community_id=project.community_id,
                          key=f"round_project#{project.id}#reviewed")
    tx.commit(answer)
    metrics.count("round_project_approved" if approve else "round_project_rejected")
    log.info("round project reviewed", extra={"project_id": project.id, "status": status})
    return answer
