"""微心愿 routes: publish, list, read, review, claim, release, fulfil, confirm, cancel."""
from chalice import Blueprint

from tongxin.usecases import wishes
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import ConfirmBody, FulfilBody, PageQuery, RejectBody, WishBody, WishListQuery

bp = Blueprint(__name__)
TAGS = ("wishes",)


@endpoint(bp, "/v1/wishes", "POST", body=WishBody, status=201, tags=TAGS,
          summary="发布微心愿（经微信内容安全检查；按社区设置直接公开或待审核）",
          errors=("CONTENT_REJECTED", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED"), response="WishView")
def publish(body: WishBody):
    return wishes.publish(get_container(), current_principal(), **body.model_dump())


@endpoint(bp, "/v1/wishes", "GET", query=WishListQuery, tags=TAGS,
          summary="社区的微心愿，新发布在前；列表中联系电话和地址均打码", response="WishPage")
def list_wishes(query: WishListQuery):
    return wishes.list_community(current_principal(), status=query.status, grid_id=query.grid_id,
                                 category=query.category, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/wishes/mine", "GET", query=PageQuery, tags=TAGS, summary="我发布的心愿", response="WishPage")
def list_mine(query: PageQuery):
    return wishes.list_mine(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/wishes/claimed", "GET", query=PageQuery, tags=TAGS, summary="我认领的心愿", response="WishPage")
def list_claimed(query: PageQuery):
    return wishes.list_claimed(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/wishes/{wish_id}", "GET", tags=TAGS, errors=("NOT_FOUND",),
          summary="心愿详情；发布者、认领者、本网格网格员和管理员可见完整联系方式", response="WishView")
def get_wish(wish_id: str):
    return wishes.get(current_principal(), wish_id)


@endpoint(bp, "/v1/wishes/{wish_id}/approve", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="网格员/管理员审核通过", response="WishView")
def approve(wish_id: str):
    return wishes.review(current_principal(), wish_id, approve=True)


@endpoint(bp, "/v1/wishes/{wish_id}/reject", "POST", body=RejectBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE"), summary="网格员/管理员驳回（须写明理由）", response="WishView")
def reject(wish_id: str, body: RejectBody):
    return wishes.review(current_principal(), wish_id, approve=False, reason=body.reason)


@endpoint(bp, "/v1/wishes/{wish_id}/claim", "POST", tags=TAGS,
          errors=("NOT_FOUND", "ALREADY_CLAIMED", "OWN_WISH", "INVALID_STATE"),
          summary="志愿者/党员认领：同一时间只有一位认领者", response="WishView")
def claim(wish_id: str):
    return wishes.claim(current_principal(), wish_id)


@endpoint(bp, "/v1/wishes/{wish_id}/release", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="认领者放弃认领，心愿回到待认领", response="WishView")
def release(wish_id: str):
    return wishes.release(current_principal(), wish_id)


@endpoint(bp, "/v1/wishes/{wish_id}/fulfil", "POST", body=FulfilBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE"), summary="认领者标记已完成，通知发布者确认", response="WishView")
def fulfil(wish_id: str, body: FulfilBody):
    return wishes.fulfil(current_principal(), wish_id, body.note)


@endpoint(bp, "/v1/wishes/{wish_id}/confirm", "POST", body=ConfirmBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE"), summary="发布者确认并评价，认领者获得积分（仅一次）", response="WishView")
def confirm(wish_id: str, body: ConfirmBody):
    return wishes.confirm(current_principal(), wish_id, body.rating, body.comment)


@endpoint(bp, "/v1/wishes/{wish_id}/cancel", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="发布者撤销（完成前）；通知认领者", response="WishView")
def cancel(wish_id: str):
    return wishes.cancel(current_principal(), wish_id)
