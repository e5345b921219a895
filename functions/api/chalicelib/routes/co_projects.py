"""共建项目 (co-building projects) and 群众评单 routes: a need matched with a unit's resource becomes a project, tracked
to completion and rated by the residents (usecases/co_projects.py)."""
from datetime import date

from chalice import Blueprint

from tongxin.usecases import co_projects, rating_lists
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import PageQuery
from ..schemas_co_projects import (
    CoProjectBody, CoProjectCompleteBody, CoProjectListQuery, CoProjectProgressBody, CoProjectRatingBody,
    RatingPageQuery,
)

bp = Blueprint(__name__)
TAGS = ("co-projects",)
# Text others read passes WeChat's content check.
TEXT_ERRORS = ("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE")


@endpoint(bp, "/v1/admin/co-projects", "POST", body=CoProjectBody, status=201, tags=("admin",) + TAGS,
          errors=("NOT_FOUND", "INVALID_STATE") + TEXT_ERRORS, response="CoProjectDetailView",
          summary="社区管理员将需求与共建单位（及其资源）对接立项（共建项目），状态为计划中")
def create_co_project(body: CoProjectBody):
    """The community's admin. Matches a need — a post of the community's 需求/岗位清单 (`need.post_id`), a need
    written out (`need.text`), or both — with a unit whose co-building agreement with the community is in force and,
    optionally, an item of the unit's 资源清单 (`resource_id`); 201 the project, `planned`, its timeline starting
    with the creation. Dates are Shanghai dates (YYYY-MM-DD): from a year back, `ends_on` not before `starts_on`,
    at most 3 years; 400 VALIDATION_FAILED naming the field otherwise (year 1 or 9999 too), and naming `need` when
    neither post nor text is given. 404 NOT_FOUND naming `unit_id` (no such unit, or no agreement with the
    community), `resource_id` (not the unit's), `need.post_id` (not the community's) or `served_grid_ids` (not a
    grid of the community); 409 INVALID_STATE when the agreement has lapsed (also when it lapsed a moment before the
    write: the transaction checks it). `served_grid_ids` (optional, distinct, at most 50; 400 VALIDATION_FAILED
    naming it otherwise) are the grids it serves: only their residents rate it; none or [] is the whole community.
    Title, need and beneficiaries pass WeChat's content check (scene 论坛)."""
    return co_projects.create(
        get_container(), current_principal(), title=body.title, need_post_id=body.need.post_id,
        need_text=body.need.text, unit_id=body.unit_id, resource_id=body.resource_id,
        starts_on=date.fromisoformat(body.starts_on), ends_on=date.fromisoformat(body.ends_on),
        beneficiaries_note=body.beneficiaries_note, served_grid_ids=body.served_grid_ids)


@endpoint(bp, "/v1/co-projects", "GET", query=CoProjectListQuery, tags=TAGS, response="CoProjectPage",
          summary="本社区的共建项目清单，新立项在前（含进度、评价人数和平均分）")
def list_co_projects(query: CoProjectListQuery):
    """A member of the community (any role). The community's projects, newest first, filter `status`; each with
    its percent, `ratings_count` and `rating_average`. One Query a page (`limit` 1–100)."""
    return co_projects.list_projects(current_principal(), status=query.status, limit=query.limit,
                                     cursor=query.cursor)


@endpoint(bp, "/v1/co-projects/{project_id}", "GET", tags=TAGS, errors=("NOT_FOUND",),
          response="CoProjectDetailView", summary="共建项目详情：进展时间线、平均评分、我的评价")
def get_co_project(project_id: str):
    """A member of the project's community, or a liaison of its unit. The project with its timeline (the recorder's
    nickname masked for residents, whole for the community's admins, the unit's liaisons and oneself), its average
    rating and the caller's own rating (`my_rating`, null before). 404 NOT_FOUND for anyone else."""
    return co_projects.get(current_principal(), project_id)


@endpoint(bp, "/v1/admin/co-projects/{project_id}/progress", "POST", body=CoProjectProgressBody,
          tags=("admin",) + TAGS, errors=("NOT_FOUND", "INVALID_STATE") + TEXT_ERRORS,
          response="CoProjectDetailView", summary="社区管理员或该单位联络员报告项目进展（说明与 0–100 的进度）")
def report_co_project_progress(project_id: str, body: CoProjectProgressBody):
    """The community's admin, or a liaison of the project's unit (both recorded in the timeline with their role).
    Appends the report, sets `percent` (0–100; a lower value corrects an earlier one; 400 VALIDATION_FAILED naming
    `percent` outside it), and a `planned` project becomes `in_progress`. 409 INVALID_STATE once it is `done` or
    after 48 reports; 403 FORBIDDEN for another member of the community or a liaison of another unit; 404
    NOT_FOUND for anyone else. The note passes WeChat's content check (scene 论坛)."""
    return co_projects.progress(get_container(), current_principal(), project_id, note=body.note,
                                percent=body.percent)


@endpoint(bp, "/v1/admin/co-projects/{project_id}/complete", "POST", body=CoProjectCompleteBody,
          tags=("admin",) + TAGS, errors=("NOT_FOUND", "INVALID_STATE") + TEXT_ERRORS,
          response="CoProjectDetailView", summary="社区管理员确认项目完成：状态为已完成，通知该单位联络员，居民可评价")
def complete_co_project(project_id: str, body: CoProjectCompleteBody):
    """The community's admin. `planned` or `in_progress` → `done` (percent 100), with an optional note (content
    check, scene 论坛); the unit's liaisons are told (`co_project_done`) and the residents may rate it from now on.
    409 INVALID_STATE when already done; 404 NOT_FOUND for another community's project."""
    return co_projects.complete(get_container(), current_principal(), project_id, note=body.note)


@endpoint(bp, "/v1/co-projects/{project_id}/rating", "POST", body=CoProjectRatingBody, status=201, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE", "ALREADY_RATED") + TEXT_ERRORS, response="RatingView",
          summary="居民评价已完成的共建项目（群众评单）：1–5 分，每人一次")
def rate_co_project(project_id: str, body: CoProjectRatingBody):
    """A resident of the project's community, once it is `done` (409 INVALID_STATE before), once each (409
    ALREADY_RATED). The rating is counted in the project in the same transaction; 201 the rating with the
    project's `ratings_count` and `rating_average` including it. The comment passes WeChat's content check (scene
    评论). 404 NOT_FOUND for a project of another community; 403 FORBIDDEN for a resident who does not live in one of
    the grids it served (`served_grid_ids`, when it names some; checked again in the rating's transaction)."""
    return co_projects.rate(get_container(), current_principal(), project_id, rating=body.rating,
                            comment=body.comment)


@endpoint(bp, "/v1/admin/co-projects/{project_id}/ratings", "GET", query=RatingPageQuery, tags=("admin",) + TAGS,
          errors=("NOT_FOUND",), response="RatingPage",
          summary="共建项目的居民评价（群众评单）：评分、评价内容和评价人，新的在前（管理员、该单位联络员）")
def list_co_project_ratings(project_id: str, query: RatingPageQuery):
    """The community's admins, or a liaison of the project's unit. The residents' ratings, newest first, each with
    its comment and its rater (`{id, nickname}` as the rater is now; one who left, 注销: `已注销用户` and a null
    comment). At most 20 a page (a larger `limit` is served 20 at a time). 403 FORBIDDEN for another member of the
    community; 404 NOT_FOUND for anyone else (as the detail). Cost: the caller, the project (one BatchGetItem), one
    Query of `co_project_ratings.by_project_time` and the page's raters (one BatchGetItem of ≤ 20 users, none for an
    empty page): 4 reads."""
    return rating_lists.list_co_project_ratings(current_principal(), project_id, limit=query.limit,
                                                cursor=query.cursor)


@endpoint(bp, "/v1/units/{unit_id}/co-projects", "GET", query=PageQuery, tags=("units",) + TAGS,
          errors=("NOT_FOUND",), response="CoProjectPage",
          summary="共建单位在各社区的共建项目（联络员、所在街道工作人员），新立项在前")
def list_unit_co_projects(unit_id: str, query: PageQuery):
    """A liaison of the unit, or its street's staff. The unit's projects across the communities it co-builds with,
    newest first, one Query of an index a page. 403 FORBIDDEN for anyone who is neither liaison nor street staff;
    404 NOT_FOUND for another unit's liaison or another street's staff."""
    return co_projects.list_unit_projects(current_principal(), unit_id, limit=query.limit, cursor=query.cursor)
