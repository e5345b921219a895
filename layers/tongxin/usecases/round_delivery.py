"""微实事 delivery: after the vote and its 公示, the community's admin reports the progress of each selected project
(实施) until it is done, and the residents rate a done project once each (验收). Copied from 共建项目's shape
(usecases/co_projects.py): the timeline inside the item, the ratings as two atomic counters.

Every change is ONE transaction whose conditions carry the rule (domain/project_rounds.py):

- **progress** (the community's admin): the grant; the project ``selected = true`` (written by the finalisation of
  the round's results: 409 NOT_SELECTED otherwise), not done, under ``PROGRESS_MAX`` reports; the step appended and
  the percent set. ``percent = 100`` completes it: ``done_at`` set and the round's ``done_count`` + 1 under
  ``results_final_at`` existing — so the round's phase becomes ``done`` exactly when its last selected project is.
  The 公示 must be over (``now ≥ publicity_until``: the round's dates never change, so the date read is the date).
  A round whose voting ended but whose results the scheduler has not finalised yet is finalised first
  (``ballots.finalise``, idempotent), then the report is taken.
- **rate** (a resident of the community, once the project is done): the rating's Put (``attribute_not_exists``: 409
  ALREADY_RATED), the project's ``ADD ratings_count 1, ratings_sum r`` under ``done_at`` existing, the grant.
"""
from __future__ import annotations

import logging

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import ProjectRoundModel, RoundProjectModel, RoundProjectRatingModel, RoundProjectStep
from ..adapters.dynamo.tx import Tx
from ..domain import project_rounds as rules
from ..domain.access import Principal, Role, require_member, require_role
from ..domain.clock import utcnow
from ..wiring import Container
from .access import current_user
from .content import Scene, check as content_check
from ..domain.errors import DomainError
from ..domain.text import DEFAULT_NICKNAME, DELETED_NICKNAME
from . import ratings
from .project_rounds import load_for_admin, may_see_project, present_project_detail

log = logging.getLogger(__name__)


def _finalised(container: Container, project: RoundProjectModel) -> RoundProjectModel:
    """The project once its round's results are final: when voting has ended and the scheduler has not finalised
    the round yet, finalise it now (``ballots.finalise``: one transaction, idempotent) and read the project again.
    Before the end of voting: 409 RESULTS_NOT_READY."""
    if project.selected is not None:
        return project
    if utcnow() < project.round_voting_until:
        raise rules.RESULTS_NOT_READY
    try:
        from .ballots import finalise
    except ImportError:  # the results' finalisation is not available: nothing to report on yet
        raise rules.RESULTS_NOT_READY from None
    finalise(project.round_id)  # reads the round itself; a no-op when another run finalised it first
    again, = batch.get_many((RoundProjectModel, project.id))
    return again if again is not None else project


def progress(container: Container, principal: Principal, project_id: str, *, note: str, percent: int) -> dict:
    """The community's admin reports progress on a selected project (a note, the percent done 0–100; 100 completes
    it). ONE transaction (see the module's note)."""
    project = load_for_admin(principal, project_id)
    grant = require_role(principal, Role.ADMIN, community_id=project.community_id)
    if project.status != rules.APPROVED:  # never on the ballot: never selected (the finalisation skips it)
        raise rules.NOT_SELECTED
    project = _finalised(container, project)
    now = utcnow()
    refusal = rules.progress_refusal(results_final=project.selected is not None, selected=project.selected,
                                     done=project.done_at is not None,
                                     progress_count=int(project.progress_count or 0), now=now,
                                     publicity_until=project.round_publicity_until)
    if refusal is not None:
        raise refusal
    writer = current_user(principal)
    content_check(container, writer, note, scene=Scene.FORUM, what="round project progress")
    done = percent >= rules.PERCENT_MAX
    step = RoundProjectStep(at=now, action="completed" if done else "progress", actor_id=writer.id,
                            actor_role=grant.role, actor_nickname=writer.nickname or DEFAULT_NICKNAME,
                            percent=percent, note=note)
    changes = {"percent": percent, "progress_count": int(project.progress_count or 0) + 1,
               "timeline": list(project.timeline or []) + [step], "updated_at": now}
    actions = [RoundProjectModel.timeline.set(RoundProjectModel.timeline.append([step])),
               RoundProjectModel.percent.set(percent), RoundProjectModel.progress_count.add(1),
               RoundProjectModel.updated_at.set(now)]
    if done:
        changes["done_at"] = now
        actions.append(RoundProjectModel.done_at.set(now))
    answer = present_project_detail(project.changed(**changes), principal, mine=None)

    def classify(current: RoundProjectModel | None):
        if current is None:
            return rules.PROJECT_NOT_FOUND
        return rules.progress_refusal(results_final=current.selected is not None, selected=current.selected,
                                      done=current.done_at is not None,
                                      progress_count=int(current.progress_count or 0), now=now,
                                      publicity_until=current.round_publicity_until) or rules.ALREADY_DONE
    tx = check_grant(Tx(), grant)
    tx.update(RoundProjectModel(project.id), actions,
              condition=(RoundProjectModel.selected == True)  # noqa: E712 (a DynamoDB condition, not Python)
              & RoundProjectModel.done_at.does_not_exist()
              & (RoundProjectModel.progress_count < rules.PROGRESS_MAX)
              & (RoundProjectModel.community_id == project.community_id), error=classify)
    if done:
        tx.update(ProjectRoundModel(project.round_id), [ProjectRoundModel.done_count.add(1),
                                                        ProjectRoundModel.updated_at.set(now)],
                  condition=ProjectRoundModel.results_final_at.exists()
                  & (ProjectRoundModel.community_id == project.community_id), error=rules.RESULTS_NOT_READY)
    tx.commit(answer)
    metrics.count("round_project_done" if done else "round_project_progress")
    log.info("round project progress", extra={"project_id": project.id, "percent": percent})
    return answer


def rate(container: Container, principal: Principal, project_id: str, *, rating: int, comment: str | None) -> dict:
    """A resident of the project's community rates a done project once (验收). ONE BatchGetItem (the project and my
    rating), ONE transaction (see the module's note). 201 my rating with the project's count and average including
    it."""
    require_member(principal)
    project, mine = batch.get_many((RoundProjectModel, project_id),
                                   (RoundProjectRatingModel, project_id, principal.user_id))
    if project is None or not may_see_project(principal, project):
        raise rules.PROJECT_NOT_FOUND
    grant = require_role(principal, Role.RESIDENT, community_id=project.community_id)
    if mine is not None:
        raise rules.ALREADY_RATED
    if project.done_at is None:
        raise rules.NOT_DONE_YET
    answer = ratings.rate_once(
        container, principal, grant, project, rating_model=RoundProjectRatingModel, rating=rating, comment=comment,
        done=RoundProjectModel.done_at.exists(), already_rated=rules.ALREADY_RATED, what="round project rating",
        not_done=lambda current: rules.NOT_DONE_YET if current is not None else rules.PROJECT_NOT_FOUND)
    metrics.count("round_project_rated")
    log.info("round project rated", extra={"project_id": project.id, "rating": rating})
    return answer


def forget_deleted_user(user_id: str) -> None:
    """注销 (``account_deletion``): the person's name on their proposals becomes 已注销用户 and their 验收 ratings'
    comments are erased (personal data); the proposals, their votes and the ratings stay counted. One Query of
    each keys-only index a page, one conditional write per item still to change; safe to repeat (a DELETE that failed
    half-way is completed by calling it again), outside the account's closing transaction as the other areas' steps."""
    for key in RoundProjectModel.by_proposer_user.query(user_id, page_size=100):
        try:
            Tx().update(RoundProjectModel(key.id), [RoundProjectModel.proposer_nickname.set(DELETED_NICKNAME)],
                        condition=(RoundProjectModel.proposer_id == user_id)
                        & (RoundProjectModel.proposer_nickname != DELETED_NICKNAME),
                        error=rules.PROJECT_NOT_FOUND).commit()
        except DomainError:
            continue  # changed already (a repeated deletion) or gone
    for key in RoundProjectRatingModel.by_user.query(user_id, page_size=100):
        try:
            Tx().update(RoundProjectRatingModel(key.project_id, user_id), [RoundProjectRatingModel.comment.remove()],
                        condition=RoundProjectRatingModel.comment.exists(), error=rules.PROJECT_NOT_FOUND).commit()
        except DomainError:
            continue  # no comment (or erased already)
