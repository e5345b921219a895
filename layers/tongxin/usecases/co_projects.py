"""共建项目 (co-building projects) and 群众评单: a need of the community matched with a unit (and a resource of its
资源清单) becomes a project, tracked to completion by the admin and the unit's liaison, and rated by the residents.

Every change is ONE transaction whose conditions carry the rule (``domain/co_projects.py``):

- **create** (the community's admin): the admin's grant; the unit's agreement with the community in force
  (ConditionCheck ``valid_until ≥ today``: an agreement that lapsed between the read and the write is refused by
  the transaction, 409 INVALID_STATE); the resource still the unit's; the need's post still the community's; the
  project's Put. The grids it serves (``served_grid_ids``) are read in the same BatchGetItem and need no check in
  the transaction: a grid is never deleted.
- **progress** (the admin, or the liaison of the project's unit): the grant re-checked; the project not ``done``,
  under ``PROGRESS_MAX`` reports, of the caller's community (or unit); the step appended to the timeline, the percent
  set, ``planned → in_progress``.
- **complete** (the admin): ``planned|in_progress → done``, the last step, and the unit's liaisons told
  (``co_project_done``, one fan-out item).
- **rate** (a resident of the community, once the project is ``done``): the rating's Put (``attribute_not_exists``:
  once each → 409 ALREADY_RATED), the project's ``ADD ratings_count 1, ratings_sum r`` conditioned on ``done``, and
  the resident's grant — one transaction, so the counters are exactly the ratings stored. A project that served some
  grids is rated only by their residents: the grant carries them (``Grant.home_grid_in``: the user's ``grid_id IN
  served`` in the same ConditionCheck), so a resident moved to another grid after the read is refused (403).

Who sees a project: the members of its community and the liaisons of its unit; to anyone else it does not exist
(404). A unit's projects across communities: its liaisons and its street's staff.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import ROLE_CHANGED, check_grant
from ..adapters.dynamo.models import (
    CoProjectModel, CoProjectRatingModel, CoProjectStep, GridModel, PostModel, UnitAgreementModel, UnitModel,
    UnitResourceModel, UserModel,
)
from ..adapters.dynamo.tx import Tx
from ..domain import co_projects as rules
from ..domain import units as unit_rules
from ..domain.access import Grant, Principal, Role, require_role, require_unit
from ..domain.clock import to_api, utcnow
from ..domain.errors import DomainError, Forbidden, NotInCommunity
from ..domain.ids import new_id
from ..domain.masking import mask_name
from ..domain.ratings import average
from ..wiring import Container
from . import notifications, paging, ratings
from .access import current_user
from .content import Scene, check as content_check
from ..domain.text import DEFAULT_NICKNAME

log = logging.getLogger(__name__)

PROJECT_PAGE = "pages/co-project/detail?id={id}"


# --- presenting ----------------------------------------------------------------------------------------------------

def present(project: CoProjectModel) -> dict:
    count, total = int(project.ratings_count or 0), int(project.ratings_sum or 0)
    return {"id": project.id, "community_id": project.community_id, "title": project.title,
            "need": {"post_id": project.need_post_id, "post_title": project.need_post_title,
                     "text": project.need_text},
            "unit": {"id": project.unit_id, "name": project.unit_name},
            "resource": ({"id": project.resource_id, "title": project.resource_title}
                         if project.resource_id else None),
            "starts_on": project.starts_on, "ends_on": project.ends_on,
            "beneficiaries_note": project.beneficiaries_note,
            "served_grid_ids": sorted(project.served_grid_ids or ()), "status": project.status,
            "percent": int(project.percent or 0), "ratings_count": count, "rating_average": average(count, total),
            "created_at": to_api(project.created_at), "updated_at": to_api(project.updated_at),
            "completed_at": to_api(project.completed_at)}


def present_step(step: CoProjectStep, *, unmasked: bool) -> dict:
    nickname = step.actor_nickname or DEFAULT_NICKNAME
    return {"at": to_api(step.at), "action": step.action, "role": step.actor_role,
            "by": {"id": step.actor_id, "nickname": nickname if unmasked else mask_name(nickname)},
            "percent": int(step.percent) if step.percent is not None else None, "note": step.note}


def present_detail(project: CoProjectModel, *, mine: CoProjectRatingModel | None, principal: Principal) -> dict:
    """The project with its timeline (names whole for the community's admins, the unit's liaisons and oneself;
    masked for the residents) and the caller's own rating."""
    staff = _is_admin_of(principal, project.community_id) or _is_liaison_of(principal, project.unit_id)
    return {**present(project),
            "timeline": [present_step(s, unmasked=staff or s.actor_id == principal.user_id)
                         for s in (project.timeline or [])],
            "my_rating": ratings.present_rating(mine)}


# --- who ------------------------------------------------------------------------------------------------------------

def _is_admin_of(principal: Principal, community_id: str) -> bool:
    return principal.community_id == community_id and principal.has(Role.ADMIN)


def _is_liaison_of(principal: Principal, unit_id: str) -> bool:
    return principal.has(Role.UNIT_LIAISON) and unit_id in principal.unit_ids


def _require_someone(principal: Principal) -> None:
    """Projects are community data: a caller in no community who acts for no unit has joined nothing yet (409)."""
    if not principal.community_id and not principal.has(Role.UNIT_LIAISON):
        raise NotInCommunity()


def _may_see(principal: Principal, project: CoProjectModel) -> bool:
    return principal.community_id == project.community_id or _is_liaison_of(principal, project.unit_id)


def _step(action: str, principal: Principal, role: str, nickname: str | None, now: datetime, *,
          percent: int | None = None, note: str | None = None) -> CoProjectStep:
    return CoProjectStep(at=now, action=action, actor_id=principal.user_id, actor_role=role,
                         actor_nickname=nickname or DEFAULT_NICKNAME, percent=percent, note=note)


# --- creating -------------------------------------------------------------------------------------------------------

def create(container: Container, principal: Principal, *, title: str, need_post_id: str | None,
           need_text: str | None, unit_id: str, resource_id: str | None, starts_on: date, ends_on: date,
           beneficiaries_note: str, served_grid_ids: list[str] | None = None) -> dict:
    """The community's admin records a project (201, ``planned``). One BatchGetItem (the unit, its agreement with
    the community, the resource, the post and the served grids named), one content check of the text residents
    read, ONE transaction (see the module's note)."""
    grant = require_role(principal, Role.ADMIN)
    community_id = grant.community_id
    now = utcnow()
    starts, ends = rules.check_dates(starts_on, ends_on, now)
    rules.check_need(need_post_id, need_text)
    served = rules.served_grids(served_grid_ids)
    wanted = [(UnitModel, unit_id), (UnitAgreementModel, unit_id, community_id)]
    if resource_id:
        wanted.append((UnitResourceModel, unit_id, resource_id))
    if need_post_id:
        wanted.append((PostModel, need_post_id))
    wanted += [(GridModel, community_id, grid_id) for grid_id in served]
    found = batch.get_many(*wanted)
    grids = found[len(found) - len(served):]
    found = found[:len(found) - len(served)]
    unit, agreement = found[0], found[1]
    resource = found[2] if resource_id else None
    post = found[-1] if need_post_id else None
    if unit is None or agreement is None:
        raise rules.UNIT_NOT_AGREED
    if not unit_rules.is_valid(agreement.valid_until, now):
        raise rules.AGREEMENT_LAPSED
    if resource_id and resource is None:
        raise rules.RESOURCE_NOT_FOUND
    if need_post_id and (post is None or post.community_id != community_id):
        raise rules.POST_NOT_FOUND
    if any(grid is None for grid in grids):  # a grid of another community is not under this community's key
        raise rules.GRID_NOT_FOUND
    author = current_user(principal)
    content_check(container, author, title, need_text, beneficiaries_note, scene=Scene.FORUM, what="co_project")
    project = CoProjectModel(
        new_id("cop"), community_id=community_id, community_name=agreement.community_name, title=title,
        need_post_id=need_post_id, need_post_title=post.title if post else None, need_text=need_text or None,
        unit_id=unit.id, unit_name=unit.name, resource_id=resource_id,
        resource_title=resource.title if resource else None, starts_on=starts, ends_on=ends,
        beneficiaries_note=beneficiaries_note, served_grid_ids=set(served) or None, status=rules.PLANNED,
        status_key=rules.status_key(community_id, rules.PLANNED), percent=0, progress_count=0,
        timeline=[_step("created", principal, Role.ADMIN.value, author.nickname, now)], ratings_count=0,
        ratings_sum=0, created_by=author.id, created_by_nickname=author.nickname or DEFAULT_NICKNAME,
        created_at=now, updated_at=now)
    answer = present_detail(project, mine=None, principal=principal)

    def agreement_refused(current: UnitAgreementModel | None):
        return rules.UNIT_NOT_AGREED if current is None else rules.AGREEMENT_LAPSED
    tx = check_grant(Tx(), grant)
    tx.check(UnitAgreementModel, unit_id, community_id, error=agreement_refused,
             condition=UnitAgreementModel.unit_id.exists()
             & (UnitAgreementModel.valid_until >= unit_rules.today_key(now)))
    if resource_id:
        tx.check(UnitResourceModel, unit_id, resource_id, condition=UnitResourceModel.id.exists(),
                 error=rules.RESOURCE_NOT_FOUND)
    if need_post_id:
        tx.check(PostModel, need_post_id, condition=PostModel.community_id == community_id,
                 error=rules.POST_NOT_FOUND)
    tx.put(project, condition=CoProjectModel.id.does_not_exist())
    tx.commit(answer)
    metrics.count("co_project_created")
    log.info("co-project created", extra={"co_project_id": project.id, "unit_id": unit_id})
    return answer


# --- reading --------------------------------------------------------------------------------------------------------

def list_projects(principal: Principal, *, status: str | None, limit: int, cursor: str | None) -> dict:
    """The caller's community's projects, newest first: ONE Query a page (``by_community``, or
    ``by_community_status`` for a status)."""
    if not principal.community_id:
        raise NotInCommunity()
    community_id = principal.community_id
    if status is None:
        def query(**kwargs):
            return CoProjectModel.by_community.query(community_id, scan_index_forward=False, **kwargs)
        scope = f"co-projects:{community_id}"
    else:
        key = rules.status_key(community_id, status)

        def query(**kwargs):
            return CoProjectModel.by_community_status.query(key, scan_index_forward=False, **kwargs)
        scope = f"co-projects:{key}"
    return paging.page(query, limit, cursor, lambda items: [present(p) for p in items], scope=scope,
                       model=CoProjectModel)


def list_unit_projects(principal: Principal, unit_id: str, *, limit: int, cursor: str | None) -> dict:
    """A unit's projects across communities, newest first (``by_unit``: one Query a page): its liaisons (no read
    before), its street's staff (the unit read: its street). Who is neither: 403; another unit's liaison or another
    street's staff: 404."""
    if not _is_liaison_of(principal, unit_id):
        if not principal.has(Role.STREET_STAFF) or not principal.street_ids:
            if principal.has(Role.UNIT_LIAISON):
                raise unit_rules.UNIT_NOT_FOUND
            raise Forbidden()
        unit, = batch.get_many((UnitModel, unit_id))
        if unit is None or unit.street_id not in principal.street_ids:
            raise unit_rules.UNIT_NOT_FOUND
    return paging.page(lambda **kw: CoProjectModel.by_unit.query(unit_id, scan_index_forward=False, **kw), limit,
                       cursor, lambda items: [present(p) for p in items], scope=f"unit-co-projects:{unit_id}",
                       model=CoProjectModel)


def get(principal: Principal, project_id: str) -> dict:
    """One project with its timeline, average and the caller's rating: ONE BatchGetItem (the project and my
    rating). A member of its community or a liaison of its unit; anyone else 404."""
    _require_someone(principal)
    project, mine = batch.get_many((CoProjectModel, project_id), (CoProjectRatingModel, project_id, principal.user_id))
    if project is None or not _may_see(principal, project):
        raise rules.PROJECT_NOT_FOUND
    return present_detail(project, mine=mine, principal=principal)


def _load(project_id: str) -> CoProjectModel:
    project, = batch.get_many((CoProjectModel, project_id))
    if project is None:
        raise rules.PROJECT_NOT_FOUND
    return project


# --- progress and completion ----------------------------------------------------------------------------------------

def _tracker_grant(principal: Principal, project: CoProjectModel) -> Grant:
    """The community's admin, or a liaison of the project's unit. A member of the community otherwise 403; a liaison
    of another unit 403 (they act on projects, just not this one); anyone else does not see it (404)."""
    if _is_admin_of(principal, project.community_id):
        return require_role(principal, Role.ADMIN, community_id=project.community_id)
    if _is_liaison_of(principal, project.unit_id):
        return require_unit(principal, project.unit_id)
    if principal.community_id == project.community_id or principal.has(Role.UNIT_LIAISON):
        raise Forbidden("只有社区管理员或该共建单位的联络员可以更新项目进展")
    raise rules.PROJECT_NOT_FOUND


def progress(container: Container, principal: Principal, project_id: str, *, note: str, percent: int) -> dict:
    """The admin or the unit's liaison reports progress (a note, the percent done 0–100). ONE transaction: the
    grant, the project not done and under its report cap (conditions), the step appended, the percent set,
    ``planned → in_progress``. 409 INVALID_STATE once done or at the cap."""
    _require_someone(principal)
    project = _load(project_id)
    grant = _tracker_grant(principal, project)
    refusal = rules.progress_refusal(project.status, int(project.progress_count or 0))
    if refusal is not None:
        raise refusal
    writer = current_user(principal)
    content_check(container, writer, note, scene=Scene.FORUM, what="co_project progress")
    now = utcnow()
    step = _step("progress", principal, grant.role, writer.nickname, now, percent=percent, note=note)
    status = rules.status_after_progress(project.status)

    def classify(current: CoProjectModel | None):
        return rules.progress_refusal(current.status if current else None,
                                      int(current.progress_count or 0) if current else 0) or rules.ALREADY_DONE
    condition = CoProjectModel.status.is_in(*rules.OPEN_STATUSES) \
        & (CoProjectModel.progress_count < rules.PROGRESS_MAX) \
        & (CoProjectModel.community_id == project.community_id) & (CoProjectModel.unit_id == project.unit_id)
    after = project.changed(status=status, percent=percent, progress_count=int(project.progress_count or 0) + 1,
                            timeline=list(project.timeline or []) + [step], updated_at=now)
    answer = present_detail(after, mine=None, principal=principal)  # ratings come only once done
    check_grant(Tx(), grant).update(
        CoProjectModel(project.id),
        [CoProjectModel.timeline.set(CoProjectModel.timeline.append([step])), CoProjectModel.percent.set(percent),
         CoProjectModel.progress_count.add(1), CoProjectModel.status.set(status),
         CoProjectModel.status_key.set(rules.status_key(project.community_id, status)),
         CoProjectModel.updated_at.set(now)],
        condition=condition, error=classify).commit(answer)
    metrics.count("co_project_progress")
    log.info("co-project progress", extra={"co_project_id": project.id, "percent": percent, "role": grant.role})
    return answer


def complete(container: Container, principal: Principal, project_id: str, *, note: str | None) -> dict:
    """The community's admin completes the project: ``planned|in_progress → done`` (percent 100), a last step, and
    the unit's liaisons told (``co_project_done``) — ONE transaction. 409 INVALID_STATE when already done."""
    require_role(principal, Role.ADMIN)  # a non-admin is told 403 whatever the project
    project = _load(project_id)
    if project.community_id != principal.community_id:
        raise rules.PROJECT_NOT_FOUND
    grant = require_role(principal, Role.ADMIN, community_id=project.community_id)
    refusal = rules.complete_refusal(project.status)
    if refusal is not None:
        raise refusal
    writer = current_user(principal)
    if note:
        content_check(container, writer, note, scene=Scene.FORUM, what="co_project completion")
    now = utcnow()
    step = _step("completed", principal, grant.role, writer.nickname, now, percent=100, note=note or None)

    def classify(current: CoProjectModel | None):
        return rules.complete_refusal(current.status if current else None) or rules.ALREADY_DONE
    after = project.changed(status=rules.DONE, percent=100, timeline=list(project.timeline or []) + [step],
                            completed_at=now, updated_at=now)
    answer = present_detail(after, mine=None, principal=principal)
    tx = check_grant(Tx(), grant)
    tx.update(CoProjectModel(project.id),
              [CoProjectModel.timeline.set(CoProjectModel.timeline.append([step])), CoProjectModel.percent.set(100),
               CoProjectModel.status.set(rules.DONE),
               CoProjectModel.status_key.set(rules.status_key(project.community_id, rules.DONE)),
               CoProjectModel.completed_at.set(now), CoProjectModel.updated_at.set(now)],
              condition=CoProjectModel.status.is_in(*rules.OPEN_STATUSES)
              & (CoProjectModel.community_id == project.community_id), error=classify)
    notifications.fan_out(tx, key=f"co_project#{project.id}#done", kind="co_project_done",
                          audience=notifications.unit_liaisons_audience(project.unit_id),
                          data={"co_project_id": project.id, "title": project.title,
                                "community": project.community_name or ""},
                          page=PROJECT_PAGE.format(id=project.id), community_id=project.community_id,
                          duplicate_error=rules.complete_refusal(rules.DONE))
    tx.commit(answer)
    metrics.count("co_project_done")
    log.info("co-project done", extra={"co_project_id": project.id})
    return answer


# --- 群众评单 -----------------------------------------------------------------------------------------------------------

def rate(container: Container, principal: Principal, project_id: str, *, rating: int, comment: str | None) -> dict:
    """A resident of the project's community rates it once it is done (群众评单). ONE transaction: the rating's Put
    (once each: 409 ALREADY_RATED), the project's counters added to under ``done`` (409 INVALID_STATE before), the
    resident's grant — with, for a project that served some grids, the resident's grid among them (403 FORBIDDEN
    otherwise, as read and as the transaction finds it). The answer's count and average are the project's as read
    plus this rating (exact unless another resident rated in the same instant)."""
    if not principal.community_id:
        raise NotInCommunity()
    project, mine = batch.get_many((CoProjectModel, project_id), (CoProjectRatingModel, project_id, principal.user_id))
    if project is None or project.community_id != principal.community_id:
        raise rules.PROJECT_NOT_FOUND
    grant = require_role(principal, Role.RESIDENT, community_id=project.community_id)
    served = frozenset(project.served_grid_ids or ())
    refusal = rules.rating_grid_refusal(served, current_user(principal).grid_id)
    if refusal is not None:
        raise refusal
    if served:
        grant = replace(grant, home_grid_in=served)
    if mine is not None:
        raise rules.ALREADY_RATED
    refusal = rules.rating_refusal(project.status)
    if refusal is not None:
        raise refusal
    answer = ratings.rate_once(
        container, principal, grant, project, rating_model=CoProjectRatingModel, rating=rating, comment=comment,
        done=CoProjectModel.status == rules.DONE, already_rated=rules.ALREADY_RATED, what="co_project rating",
        not_done=lambda current: rules.rating_refusal(current.status if current else None) or rules.PROJECT_NOT_FOUND,
        grant_refused=_rater_refused(served))
    metrics.count("co_project_rated")
    log.info("co-project rated", extra={"co_project_id": project.id, "rating": rating})
    return answer


def _rater_refused(served: frozenset[str]):
    """What the rater's failed grant check means: moved out of the grids served (403 naming that), else the role or
    the account changed."""
    def classify(current: UserModel | None):
        if current is not None and current.status == "active" and Role.RESIDENT.value in (current.roles or ()):
            return rules.rating_grid_refusal(served, current.grid_id) or ROLE_CHANGED
        return ROLE_CHANGED
    return classify


# --- 注销 -----------------------------------------------------------------------------------------------------------

def forget_deleted_user(user_id: str) -> None:
    """注销 (``account_deletion``): the comment of each of the person's ratings (群众评单) is erased — personal
    data — while the rating stays counted in its project's ``ratings_count`` / ``ratings_sum``. One Query of
    ``co_project_ratings.by_user`` a page, one conditional write per rating with a comment (the rating must still
    exist); safe to repeat, so a DELETE that failed half-way is completed by calling it again. Like the other release
    steps of ``delete_me``, outside the account's closing transaction (which a person's ratings, unbounded, would
    push past DynamoDB's 100 items)."""
    for rating in CoProjectRatingModel.by_user.query(user_id, page_size=100):
        if rating.comment is None:
            continue
        try:
            Tx().update(CoProjectRatingModel(rating.project_id, user_id), [CoProjectRatingModel.comment.remove()],
                        condition=CoProjectRatingModel.user_id.exists(), error=rules.PROJECT_NOT_FOUND).commit()
        except DomainError:
            continue  # gone meanwhile: nothing left to erase
