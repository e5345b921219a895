"""The residents' ratings as the staff who must act on them read them: 共建项目's 群众评单 (``GET
/v1/admin/co-projects/{id}/ratings``: the community's admins and the liaisons of the project's unit) and 微实事's 验收
(``GET /v1/projects/{id}/ratings``: the community's admins). A project answers only its count and average; a complaint
written in a comment is read here.

A page is O(page), whatever the project's number of ratings: the project (one BatchGetItem: who may read it), ONE
Query of the ratings' ``by_project_time`` index (newest first, ≤ 20 a page, projection ALL: a rating is small), then
ONE BatchGetItem of the page's raters (≤ 20 users, eventually consistent like the index that named them) for their
nicknames as they are now — a rating carries none (its Put is shared by both areas, usecases/ratings.py), so a
renamed resident shows the new name. An empty page reads no user.

A rater who left (注销: the user item ``deleted``) shows ``已注销用户`` and no comment: 注销 erases the comments itself
(``forget_deleted_user`` of both areas), and a page never shows one that a half-done deletion left behind.
"""
from __future__ import annotations

from typing import Any

from ..adapters.dynamo import batch
from ..adapters.dynamo.models import CoProjectModel, CoProjectRatingModel, RoundProjectRatingModel, UserModel
from ..domain import co_projects as co_rules
from ..domain.access import Principal, Role
from ..domain.clock import to_api
from ..domain.errors import Forbidden, NotInCommunity
from ..domain.text import DEFAULT_NICKNAME, DELETED_NICKNAME
from . import paging
from .project_rounds import load_for_admin

PAGE_MAX = 20  # raters a page: their users are one BatchGetItem of ≤ 20 keys
CO_PROJECT_READERS_ONLY = "只有社区管理员或该共建单位的联络员可以查看居民的评价"


def present_rating(rating: Any, rater: UserModel | None) -> dict:
    """One rating with its rater's nickname as it is now; a rater who left (or is missing) is ``已注销用户`` with no
    comment."""
    gone = rater is None or rater.status == "deleted"
    return {"rating": int(rating.rating), "comment": None if gone else rating.comment,
            "created_at": to_api(rating.created_at),
            "rater": {"id": rating.user_id,
                      "nickname": DELETED_NICKNAME if gone else (rater.nickname or DEFAULT_NICKNAME)}}


def _present_page(ratings: list) -> list[dict]:
    """The page's ratings with their raters: ONE BatchGetItem of ≤ 20 users (none for an empty page)."""
    if not ratings:
        return []
    ids = list(dict.fromkeys(r.user_id for r in ratings))
    users = {uid: user for uid, user in zip(ids, batch.get_many(*[(UserModel, uid) for uid in ids],
                                                                 consistent=False))}
    return [present_rating(r, users.get(r.user_id)) for r in ratings]


def _page(model: type, project_id: str, scope: str, limit: int, cursor: str | None) -> dict:
    def query(**kwargs):
        return model.by_project_time.query(project_id, scan_index_forward=False, **kwargs)
    return paging.page(query, min(limit, PAGE_MAX), cursor, _present_page, scope=scope, model=model)


def list_co_project_ratings(principal: Principal, project_id: str, *, limit: int, cursor: str | None) -> dict:
    """A co-project's ratings (群众评单), newest first: the community's admins and the liaisons of its unit. As the
    detail: a caller in no community who acts for no unit 409 NOT_IN_COMMUNITY; who does not see the project 404; a
    member of its community who is neither admin nor its unit's liaison 403."""
    if not principal.community_id and not principal.has(Role.UNIT_LIAISON):
        raise NotInCommunity()
    project, = batch.get_many((CoProjectModel, project_id))
    if project is None:
        raise co_rules.PROJECT_NOT_FOUND
    admin = principal.community_id == project.community_id and principal.has(Role.ADMIN)
    liaison = principal.has(Role.UNIT_LIAISON) and project.unit_id in principal.unit_ids
    if not (admin or liaison):
        if principal.community_id == project.community_id:
            raise Forbidden(CO_PROJECT_READERS_ONLY)
        raise co_rules.PROJECT_NOT_FOUND
    return _page(CoProjectRatingModel, project.id, f"co-project-ratings:{project.id}", limit, cursor)


def list_round_project_ratings(principal: Principal, project_id: str, *, limit: int, cursor: str | None) -> dict:
    """A 微实事 project's 验收 ratings, newest first: the community's admins (as the project's other admin routes: a
    non-admin 403 whatever the project, another community's project 404)."""
    project = load_for_admin(principal, project_id)
    return _page(RoundProjectRatingModel, project.id, f"round-project-ratings:{project.id}", limit, cursor)
