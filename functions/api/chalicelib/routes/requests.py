"""接诉即办 routes: submit, read, accept (响应/报到), escalate (吹哨, from the street to a district department), resolve
(办结), rate; 延期 (extend, approve, reject) and 督办 (supervise) by the level above; the street's, the department's and
the community's queues, the street's departments; the three rates."""
from chalice import Blueprint

from tongxin.usecases import requests
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import (CommunityRequestsQuery, EscalateBody, PageQuery, RateBody, RequestBody, RequestStatsQuery,
                       ResolveBody)
from ..schemas_requests import ExtendBody, ExtensionRejectBody, StreetDepartmentsQuery, SuperviseBody

bp = Blueprint(__name__)
TAGS = ("requests",)
STEP_ERRORS = ("NOT_FOUND", "INVALID_STATE")
# A step with text others read (a reason, a note, a comment): WeChat's content check (scene 评论).
TEXT_STEP_ERRORS = STEP_ERRORS + ("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE")


@endpoint(bp, "/v1/requests", "POST", body=RequestBody, status=201, tags=TAGS, response="RequestDetailView",
          errors=("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED"),
          summary="居民提交诉求（经微信内容安全检查）：转到本网格，网格员须在时限内响应")
def submit_request(body: RequestBody):
    """A resident of the community. Raises a 接诉即办 request: its content and address pass WeChat's content
    security check (400 CONTENT_REJECTED; 409 WECHAT_SESSION_STALE when the author has not opened the
    mini-program for 2 h: reopen it, retry; 503 UPSTREAM_UNAVAILABLE when WeChat is down); it goes to the
    author's grid (no grid: the community), whose handlers are told and must answer in time. 201 the request.
    400 VALIDATION_FAILED for a category outside the list (`details.allowed` names the six); 429 RATE_LIMITED
    past the daily cap (10 by default), before WeChat is asked."""
    return requests.submit(get_container(), current_principal(), category=body.category, content=body.content,
                           location=body.location.model_dump() if body.location else None, urgent=body.urgent)


@endpoint(bp, "/v1/requests/mine", "GET", query=PageQuery, tags=TAGS, response="RequestPage",
          summary="我提交的诉求，新提交在前")
def list_my_requests(query: PageQuery):
    """Any signed-in user. The requests I raised, newest first."""
    return requests.list_mine(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/requests/{request_id}", "GET", tags=TAGS, errors=("NOT_FOUND",), response="RequestDetailView",
          summary="诉求详情与全过程记录；只有提出人、所到各级的办理人员和社区管理员能看到")
def get_request(request_id: str):
    """The author, the community's admins, the grid's workers once it reached the grid, the street's staff once
    it reached the street. The request with its timeline, every step with who and when; anyone else gets 404
    NOT_FOUND."""
    return requests.get(current_principal(), request_id)


@endpoint(bp, "/v1/requests/{request_id}/accept", "POST", tags=TAGS, errors=STEP_ERRORS, response="RequestDetailView",
          summary="当前层级的办理人员响应（报到）")
def accept_request(request_id: str):
    """A handler of the request's current level. 响应 (报到 after an escalation): → `accepted`, and the
    author is told. 404 NOT_FOUND for who may not see it; 403 FORBIDDEN for who sees it but does not handle its
    level (the author included); 409 INVALID_STATE unless it is submitted or escalated."""
    return requests.accept(current_principal(), request_id)


@endpoint(bp, "/v1/requests/{request_id}/escalate", "POST", body=EscalateBody, tags=TAGS, errors=TEXT_STEP_ERRORS,
          response="RequestDetailView",
          summary="吹哨：转到上一级（网格 → 社区 → 街道 → 区直部门，街道须选部门），上一级须在时限内报到")
def escalate_request(request_id: str, body: EscalateBody):
    """A handler of the request's current level (or its author). 吹哨: the request moves up a level (grid →
    community → street → a department of the street's district) with a reason; that level's clocks start (a
    department's by its own limits: 240 minutes to answer, 5 days to solve unless it or its district sets others)
    and its handlers are told. At the street `department_id` is required (400 VALIDATION_FAILED naming
    department_id when missing, or when it is a department of another district; 404 NOT_FOUND when there is no
    such department); at the grid and the community it is refused (400 naming department_id). 404, 403 as for
    accept; 409 INVALID_STATE when resolved or closed, at a department (the top), at a street that belongs to no
    district, or at a community that belongs to no street. The reason passes WeChat's content security check
    (scene 评论): 400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE (reopen the mini-program, retry), 503
    UPSTREAM_UNAVAILABLE."""
    return requests.escalate(get_container(), current_principal(), request_id, body.reason, body.department_id)


@endpoint(bp, "/v1/requests/{request_id}/resolve", "POST", body=ResolveBody, tags=TAGS, errors=TEXT_STEP_ERRORS,
          response="RequestDetailView", summary="办结，写明办理结果；请居民评价")
def resolve_request(request_id: str, body: ResolveBody):
    """A handler of the request's current level. 办结 with a note of what was done: → `resolved`, and the
    author is asked to rate. 404, 403 as for accept; 409 INVALID_STATE unless accepted or reopened. The note
    passes WeChat's content security check (scene 评论): 400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503
    UPSTREAM_UNAVAILABLE."""
    return requests.resolve(get_container(), current_principal(), request_id, body.note)


@endpoint(bp, "/v1/requests/{request_id}/rate", "POST", body=RateBody, tags=TAGS, errors=TEXT_STEP_ERRORS,
          response="RequestDetailView", summary="居民评价：1–2 分第一次退回重办，第二次以不满意关闭；3–5 分满意关闭")
def rate_request(request_id: str, body: RateBody):
    """The author. Rates a resolved request 1–5: 3–5 closes it satisfied; 1–2 reopens it the first time, at the
    level that resolved it with a new solve clock, and closes it unsatisfied the second time. 403 FORBIDDEN for
    anyone else who sees it; 409 INVALID_STATE unless resolved. A comment passes WeChat's content security check
    (scene 评论): 400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE."""
    return requests.rate(get_container(), current_principal(), request_id, body.satisfaction, body.comment)


@endpoint(bp, "/v1/requests/{request_id}/extend", "POST", body=ExtendBody, tags=TAGS,
          errors=TEXT_STEP_ERRORS + ("EXTENSION_USED",), response="RequestDetailView",
          summary="申请延期：当前层级的办理人请上一级批准多给几天（每个层级一次）")
def extend_request(request_id: str, body: ExtendBody):
    """The handler who answered the request at its current level, while it is accepted or reopened there. 延期:
    asks the level above (the community's admins above the grid, the street's staff above the community, the
    district's staff above the street and its departments) for 1–10 more days to solve it, with a reason; they are
    told, and the request shows the pending extension. The clock keeps running meanwhile. 404 for who may not see
    it; 403 FORBIDDEN for anyone else who sees it, a colleague of the handler included; 409 INVALID_STATE unless
    accepted or reopened, or where no level above exists (a community in no street, a street in no district); 409
    EXTENSION_USED when this level has asked once already (pending, approved or rejected). 400 VALIDATION_FAILED
    for days outside 1–10 or an empty reason. The reason passes WeChat's content security check (scene 评论): 400
    CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE."""
    return requests.extend(get_container(), current_principal(), request_id, body.days, body.reason)


@endpoint(bp, "/v1/requests/{request_id}/extension/approve", "POST", tags=TAGS, errors=STEP_ERRORS,
          response="RequestDetailView", summary="上一级同意延期：当前层级的办结时限顺延所申请的天数")
def approve_request_extension(request_id: str):
    """Staff of the level above the request's current one. Approves the pending extension: the current level's
    solve limit moves by its days, the timeline records it and the handler who asked is told. 404 for who may not
    see it; 403 FORBIDDEN for anyone else (and for the one who asked it); 409 INVALID_STATE when no extension of
    the current level is pending (decided already, or the request resolved or passed up since)."""
    return requests.approve_extension(get_container(), current_principal(), request_id)


@endpoint(bp, "/v1/requests/{request_id}/extension/reject", "POST", body=ExtensionRejectBody, tags=TAGS,
          errors=TEXT_STEP_ERRORS, response="RequestDetailView",
          summary="上一级驳回延期，写明理由：办结时限不变，本层级的延期机会已用")
def reject_request_extension(request_id: str, body: ExtensionRejectBody):
    """Staff of the level above the request's current one. Rejects the pending extension with a reason: the limit
    stays, the level has used its one extension, the timeline records it and the handler who asked is told. 404,
    403, 409 INVALID_STATE as for approve. The reason passes WeChat's content security check (scene 评论): 400
    CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE."""
    return requests.reject_extension(get_container(), current_principal(), request_id, body.reason)


@endpoint(bp, "/v1/requests/{request_id}/supervise", "POST", body=SuperviseBody, tags=TAGS, errors=TEXT_STEP_ERRORS,
          response="RequestDetailView", summary="督办：上一级催办当前层级，办理人员收到提醒，诉求亮黄牌")
def supervise_request(request_id: str, body: SuperviseBody):
    """Staff of the level above the request's current one (the community's admins above the grid, the street's
    staff above the community, the district's staff above the street and its departments), while it waits for an
    answer or a solution. 督办 with a note: the current level's handlers are told (`request_supervised`), the
    timeline records it, and the request carries a yellow card from now on (red when past its solve limit). 404 for
    who may not see it; 403 FORBIDDEN for anyone else who sees it (its handlers, the author, a lower level); 409
    INVALID_STATE when resolved or closed. The note passes WeChat's content security check (scene 评论): 400
    CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE."""
    return requests.supervise(get_container(), current_principal(), request_id, body.note)


@endpoint(bp, "/v1/street/tasks", "GET", query=PageQuery, tags=("street",), response="RequestTaskPage",
          summary="街道工作人员：吹哨到我负责街道、待报到和办理中的诉求，最急在前")
def street_tasks(query: PageQuery):
    """Street staff (街道工作人员). The requests waiting on my streets, to answer and then to solve, most urgent
    deadline first, street after street. 403 FORBIDDEN for anyone else."""
    return requests.street_tasks(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/street/departments", "GET", query=StreetDepartmentsQuery, tags=("street",), errors=("NOT_FOUND",),
          response="StreetDepartmentsView", summary="街道工作人员：本街道所在区的区直部门（吹哨到部门时选择）")
def street_departments(query: StreetDepartmentsQuery):
    """Street staff (街道工作人员). The departments of my street's district, by name: where the street's 吹哨 may
    go (`department_id` of the escalation); empty while the street belongs to no district. `street_id` names the
    street when I staff several (400 VALIDATION_FAILED without it then). 403 FORBIDDEN for anyone else (and for a
    street I do not staff); 404 NOT_FOUND for a street that no longer exists."""
    return requests.street_departments(current_principal(), query.street_id)


@endpoint(bp, "/v1/department/tasks", "GET", query=PageQuery, tags=("department",), response="RequestTaskPage",
          summary="区直部门工作人员：街道吹哨到我部门、待报到和办理中的诉求，最急在前")
def department_tasks(query: PageQuery):
    """Department staff (区直部门工作人员). The requests the streets escalated to my departments, to answer and
    then to solve, most urgent deadline first, department after department. 403 FORBIDDEN for anyone else."""
    return requests.department_tasks(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/requests", "GET", query=CommunityRequestsQuery, tags=("admin",), response="RequestTaskPage",
          summary="社区管理员：待社区响应和办理的诉求（queue），或本社区全部诉求（all）")
def community_requests(query: CommunityRequestsQuery):
    """An admin of the community. `queue` (default): the requests waiting on the community level, most urgent
    first; `all`: every request of the community, newest first."""
    return requests.community_list(current_principal(), view=query.view, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/requests/stats", "GET", query=RequestStatsQuery, tags=("admin", "street"),
          errors=("NOT_FOUND",), response="RequestStatsView",
          summary="接诉即办统计：响应率、解决率、满意率、用时中位数、超时数；管理员按网格，街道工作人员按社区")
def request_stats(query: RequestStatsQuery):
    """An admin (their community, per grid) or street staff (a street, per community; `street_id` names it when
    they have several). Received, answered, on time, escalated, resolved, overdue, reopened, the three rates
    (响应率, 解决率, 满意率) and median times, for the requests submitted on the Shanghai days of the window
    (default the last 90 days, at most 366). 400 VALIDATION_FAILED for the window or a missing `street_id`; 403
    FORBIDDEN for anyone else; 404 NOT_FOUND for a street that no longer exists."""
    return requests.request_stats(current_principal(), query.from_, query.to, query.street_id)
