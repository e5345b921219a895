"""接诉即办 routes: submit, read, accept (响应/报到), escalate (吹哨), resolve (办结), rate; the street's and the
community's queues; the three rates."""
from chalice import Blueprint

from tongxin.usecases import requests
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import (CommunityRequestsQuery, EscalateBody, PageQuery, RateBody, RequestBody, RequestStatsQuery,
                       ResolveBody)

bp = Blueprint(__name__)
TAGS = ("requests",)
STEP_ERRORS = ("NOT_FOUND", "INVALID_STATE")


@endpoint(bp, "/v1/requests", "POST", body=RequestBody, status=201, tags=TAGS, response="RequestDetailView",
          errors=("CONTENT_REJECTED", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED"),
          summary="居民提交诉求（经微信内容安全检查）：转到本网格，网格员须在时限内响应")
def submit_request(body: RequestBody):
    return requests.submit(get_container(), current_principal(), category=body.category, content=body.content,
                           location=body.location.model_dump() if body.location else None, urgent=body.urgent)


@endpoint(bp, "/v1/requests/mine", "GET", query=PageQuery, tags=TAGS, response="RequestPage",
          summary="我提交的诉求，新提交在前")
def list_my_requests(query: PageQuery):
    return requests.list_mine(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/requests/{request_id}", "GET", tags=TAGS, errors=("NOT_FOUND",), response="RequestDetailView",
          summary="诉求详情与全过程记录；只有提出人、所到各级的办理人员和社区管理员能看到")
def get_request(request_id: str):
    return requests.get(current_principal(), request_id)


@endpoint(bp, "/v1/requests/{request_id}/accept", "POST", tags=TAGS, errors=STEP_ERRORS, response="RequestDetailView",
          summary="当前层级的办理人员响应（报到）")
def accept_request(request_id: str):
    return requests.accept(current_principal(), request_id)


@endpoint(bp, "/v1/requests/{request_id}/escalate", "POST", body=EscalateBody, tags=TAGS, errors=STEP_ERRORS,
          response="RequestDetailView", summary="吹哨：转到上一级（网格 → 社区 → 街道），上一级须在时限内报到")
def escalate_request(request_id: str, body: EscalateBody):
    return requests.escalate(current_principal(), request_id, body.reason)


@endpoint(bp, "/v1/requests/{request_id}/resolve", "POST", body=ResolveBody, tags=TAGS, errors=STEP_ERRORS,
          response="RequestDetailView", summary="办结，写明办理结果；请居民评价")
def resolve_request(request_id: str, body: ResolveBody):
    return requests.resolve(current_principal(), request_id, body.note)


@endpoint(bp, "/v1/requests/{request_id}/rate", "POST", body=RateBody, tags=TAGS, errors=STEP_ERRORS,
          response="RequestDetailView", summary="居民评价：1–2 分第一次退回重办，第二次以不满意关闭；3–5 分满意关闭")
def rate_request(request_id: str, body: RateBody):
    return requests.rate(current_principal(), request_id, body.satisfaction, body.comment)


@endpoint(bp, "/v1/street/tasks", "GET", query=PageQuery, tags=("street",), response="RequestTaskPage",
          summary="街道工作人员：吹哨到我负责街道、待报到和办理中的诉求，最急在前")
def street_tasks(query: PageQuery):
    return requests.street_tasks(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/requests", "GET", query=CommunityRequestsQuery, tags=("admin",), response="RequestTaskPage",
          summary="社区管理员：待社区响应和办理的诉求（queue），或本社区全部诉求（all）")
def community_requests(query: CommunityRequestsQuery):
    return requests.community_list(current_principal(), view=query.view, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/requests/stats", "GET", query=RequestStatsQuery, tags=("admin", "street"),
          errors=("NOT_FOUND",), response="RequestStatsView",
          summary="接诉即办统计：响应率、解决率、满意率、用时中位数、超时数；管理员按网格，街道工作人员按社区")
def request_stats(query: RequestStatsQuery):
    return requests.request_stats(current_principal(), query.from_, query.to, query.street_id)
