"""微实事 routes: rounds, residents' proposals, the admin's review, and after the vote the delivery (progress) and
the residents' 验收 (usecases/project_rounds.py, usecases/round_delivery.py). Ballots and results: routes/ballots.py."""
from chalice import Blueprint

from tongxin.usecases import project_rounds, rating_lists, round_delivery
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import PageQuery
from ..schemas_co_projects import RatingPageQuery
from ..schemas_project_rounds import (
    ApproveProjectBody, ProjectRoundBody, RejectProjectBody, RoundProgressBody, RoundProjectBody,
    RoundProjectListQuery, RoundRatingBody,
)

bp = Blueprint(__name__)
TAGS = ("project-rounds",)
# Text others read passes WeChat's content check.
TEXT_ERRORS = ("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE")


@endpoint(bp, "/v1/admin/project-rounds", "POST", body=ProjectRoundBody, status=201, tags=("admin",) + TAGS,
          errors=TEXT_ERRORS, response="ProjectRoundView",
          summary="社区管理员发起一轮微实事：预算、投票方式（赞成票制或预算制）、征集/投票/公示日期")
def create_project_round(body: ProjectRoundBody):
    """The community's admin. 201 the round, `phase` `proposing`. Dates are future times in order:
    `proposals_until` (after now) ≤ `voting_from` < `voting_until`, the 公示 (`publicity_days` 0–30 after the vote)
    ending by 2099; short rounds of minutes are valid. `style` `approval` needs `max_choices` 1–10, `budget` takes
    none. 400 VALIDATION_FAILED naming the field otherwise (dates in the past, out of order, year 1 or 9999; a title
    empty after trimming or over 40 characters). The title passes WeChat's content check (scene 论坛)."""
    return project_rounds.create_round(
        get_container(), current_principal(), title=body.title, budget_yuan=body.budget_yuan, style=body.style,
        max_choices=body.max_choices, proposals_until=body.proposals_until, voting_from=body.voting_from,
        voting_until=body.voting_until, publicity_days=body.publicity_days)


@endpoint(bp, "/v1/project-rounds", "GET", query=PageQuery, tags=TAGS, response="ProjectRoundPage",
          summary="本社区的微实事轮次，新发起的在前（含当前阶段）")
def list_project_rounds(query: PageQuery):
    """A member of the community (any role). The community's rounds, newest first, each with its `phase`, the
    numbers of projects proposed and approved, and once the results are final how many were selected and are done
    — never a vote count. One Query a page (`limit` 1–100)."""
    return project_rounds.list_rounds(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/project-rounds/{round_id}", "GET", tags=TAGS, errors=("NOT_FOUND",),
          response="ProjectRoundDetailView", summary="微实事轮次详情：当前阶段、项目数、我还可提出的项目数")
def get_project_round(round_id: str):
    """A member of the round's community: the round with its `phase` and how many projects I proposed and may still
    propose (3 a round). Never a vote count (results: GET /v1/project-rounds/{round_id}/results after voting
    closes). 404 NOT_FOUND for anyone else."""
    return project_rounds.get_round(current_principal(), round_id)


@endpoint(bp, "/v1/project-rounds/{round_id}/projects", "POST", body=RoundProjectBody, status=201, tags=TAGS,
          errors=("NOT_FOUND", "PROPOSALS_CLOSED", "TOO_MANY_PROPOSALS") + TEXT_ERRORS,
          response="RoundProjectDetailView", summary="居民在征集期内提出微实事项目（每人每轮最多 3 个），待管理员审核")
def propose_round_project(round_id: str, body: RoundProjectBody):
    """A resident of the round's community, while it is `proposing`: 201 the project, `proposed` (seen by the
    proposer and the admins until it is approved). 409 PROPOSALS_CLOSED after `proposals_until` (also when it
    passes between the read and the write: the transaction checks it); 409 TOO_MANY_PROPOSALS for a 4th project
    in the round; 400 VALIDATION_FAILED naming `cost_yuan` above the round's budget, or a field empty after
    trimming, too long, or a category not in the list. Title and description pass WeChat's content check (scene
    论坛). 404 NOT_FOUND for a round of another community."""
    return project_rounds.propose(get_container(), current_principal(), round_id, title=body.title,
                                  description=body.description, cost_yuan=body.cost_yuan, category=body.category)


@endpoint(bp, "/v1/project-rounds/{round_id}/projects", "GET", query=RoundProjectListQuery, tags=TAGS,
          errors=("NOT_FOUND",), response="RoundProjectPage",
          summary="一轮的微实事项目：居民看已通过的（及我提出的），管理员看全部或某一状态")
def list_round_projects(round_id: str, query: RoundProjectListQuery):
    """A member of the round's community: the approved projects in proposal order; `mine=true` my own proposals
    whatever their status. The community's admins: every project, or those of one `status`; a member asking for
    `proposed` or `rejected` gets 403 FORBIDDEN. No vote count before the results are final. One Query a page
    (`limit` 1–100). 404 NOT_FOUND for a round of another community."""
    return project_rounds.list_projects(current_principal(), round_id, status=query.status, mine=query.mine,
                                        limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/projects/{project_id}", "GET", tags=TAGS, errors=("NOT_FOUND",),
          response="RoundProjectDetailView", summary="微实事项目详情：审核结果、得票与入选（结果产生后）、实施进展、我的验收评价")
def get_round_project(project_id: str):
    """A member of the project's community, for an approved project; its proposer and the community's admins for a
    proposal under review or rejected. The project with its delivery timeline and my rating; `votes`, `rank` and
    `selected` null until the round's results are final. 404 NOT_FOUND for anyone else."""
    return project_rounds.get_project(current_principal(), project_id)


@endpoint(bp, "/v1/projects/{project_id}/approve", "POST", body=ApproveProjectBody, tags=("admin",) + TAGS,
          errors=("NOT_FOUND", "INVALID_STATE"), response="RoundProjectDetailView",
          summary="社区管理员审核通过微实事项目（可核定费用），投票开始前")
def approve_round_project(project_id: str, body: ApproveProjectBody):
    """The community's admin, before the round's voting opens: `proposed` → `approved`, on the ballot; `cost_yuan`
    (optional) corrects the cost, within the round's budget (400 VALIDATION_FAILED naming `cost_yuan` above it).
    409 INVALID_STATE when the project was reviewed already, when voting has opened (the ballot's list is frozen:
    the transaction checks it), or at 30 approved projects in the round. 403 FORBIDDEN for a non-admin; 404
    NOT_FOUND for another community's project."""
    return project_rounds.review(get_container(), current_principal(), project_id, approve=True,
                                 cost_yuan=body.cost_yuan)


@endpoint(bp, "/v1/projects/{project_id}/reject", "POST", body=RejectProjectBody, tags=("admin",) + TAGS,
          errors=("NOT_FOUND", "INVALID_STATE") + TEXT_ERRORS, response="RoundProjectDetailView",
          summary="社区管理员不通过微实事项目（附原因，提出人可见），投票开始前")
def reject_round_project(project_id: str, body: RejectProjectBody):
    """The community's admin, before the round's voting opens: `proposed` → `rejected` with the reason, which the
    proposer reads (WeChat's content check, scene 评论). 409 INVALID_STATE when reviewed already or voting has
    opened. 403 FORBIDDEN for a non-admin; 404 NOT_FOUND for another community's project."""
    return project_rounds.review(get_container(), current_principal(), project_id, approve=False,
                                 reason=body.reason)


@endpoint(bp, "/v1/projects/{project_id}/progress", "POST", body=RoundProgressBody, tags=("admin",) + TAGS,
          errors=("NOT_FOUND", "INVALID_STATE", "NOT_SELECTED", "RESULTS_NOT_READY") + TEXT_ERRORS,
          response="RoundProjectDetailView", summary="社区管理员报告入选项目的实施进展（0–100，100 即完工）")
def report_round_project_progress(project_id: str, body: RoundProgressBody):
    """The community's admin, for a selected project once the 公示 is over: appends the report to the timeline and
    sets `percent` (a lower value corrects an earlier one); 100 completes the project (`done_at`; the residents may
    rate it; the round counts it done). A round whose voting ended but whose results are not final yet is finalised
    first. 409 RESULTS_NOT_READY before voting ends; NOT_SELECTED for a project not selected (or never approved);
    INVALID_STATE during the 公示, once the project is done, or after 48 reports. The note passes WeChat's content
    check (scene 论坛). 403 FORBIDDEN for a non-admin; 404 NOT_FOUND for another community's project."""
    return round_delivery.progress(get_container(), current_principal(), project_id, note=body.note,
                                   percent=body.percent)


@endpoint(bp, "/v1/projects/{project_id}/rate", "POST", body=RoundRatingBody, status=201, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE", "ALREADY_RATED") + TEXT_ERRORS, response="RatingView",
          summary="居民验收评价已完工的微实事项目：1–5 分，每人一次")
def rate_round_project(project_id: str, body: RoundRatingBody):
    """A resident of the project's community, once the project is done (409 INVALID_STATE before), once each (409
    ALREADY_RATED). Counted in the project in the same transaction; 201 my rating with the project's
    `ratings_count` and `rating_average` including it. The comment passes WeChat's content check (scene 评论). 404
    NOT_FOUND for another community's project."""
    return round_delivery.rate(get_container(), current_principal(), project_id, rating=body.rating,
                               comment=body.comment)


@endpoint(bp, "/v1/projects/{project_id}/ratings", "GET", query=RatingPageQuery, tags=("admin",) + TAGS,
          errors=("NOT_FOUND",), response="RatingPage",
          summary="微实事项目的居民验收评价：评分、评价内容和评价人，新的在前（社区管理员）")
def list_round_project_ratings(project_id: str, query: RatingPageQuery):
    """The community's admin. The residents' 验收 ratings of the project, newest first, each with its comment and its
    rater (`{id, nickname}` as the rater is now; one who left, 注销: `已注销用户` and a null comment). At most 20 a page
    (a larger `limit` is served 20 at a time). 403 FORBIDDEN for a non-admin; 404 NOT_FOUND for another community's
    project. Cost: the caller, the project (one BatchGetItem), one Query of `round_project_ratings.by_project_time`
    and the page's raters (one BatchGetItem of ≤ 20 users, none for an empty page): 4 reads."""
    return rating_lists.list_round_project_ratings(current_principal(), project_id, limit=query.limit,
                                                   cursor=query.cursor)
