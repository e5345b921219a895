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
          errors=("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED"),
          response="WishView")
def publish(body: WishBody):
    """A resident of the community. Publishes a 微心愿: title and content pass WeChat's content security check
    (400 CONTENT_REJECTED when risky; 409 WECHAT_SESSION_STALE when the author has not opened the mini-program
    for 2 h: reopen it and retry; 503 UPSTREAM_UNAVAILABLE when WeChat is down); it is `open` at once, or
    `pending_review` when the community reviews wishes (its grid workers are told). 400 VALIDATION_FAILED for a
    category outside the list (`details.allowed` names the eight), a deadline less than 1 h or more than a year
    ahead; 429 RATE_LIMITED past the daily publishing cap (10 by default), before WeChat is asked."""
    return wishes.publish(get_container(), current_principal(), **body.model_dump())


@endpoint(bp, "/v1/wishes", "GET", query=WishListQuery, tags=TAGS,
          summary="社区的微心愿，新发布在前；列表中联系电话和地址均打码", response="WishPage")
def list_wishes(query: WishListQuery):
    """A member of the community. The community's wishes, newest first, contacts masked. Everyone sees the
    published states; grid workers also their grids' unpublished ones, admins every status. Filters `status`,
    `grid_id`, `category` (400 VALIDATION_FAILED with `details.allowed` for an unknown value). A page may hold
    fewer than `limit` items: follow `next_cursor` until null."""
    return wishes.list_community(current_principal(), status=query.status, grid_id=query.grid_id,
                                 category=query.category, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/wishes/mine", "GET", query=PageQuery, tags=TAGS, summary="我发布的心愿", response="WishPage")
def list_mine(query: PageQuery):
    """Any signed-in user. The wishes I published, newest first, with my own contact details unmasked."""
    return wishes.list_mine(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/wishes/claimed", "GET", query=PageQuery, tags=TAGS, summary="我认领的心愿", response="WishPage")
def list_claimed(query: PageQuery):
    """Any signed-in user. The wishes I hold as claimer now, newest first, with the author's contact details
    unmasked (I need them to help)."""
    return wishes.list_claimed(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/wishes/{wish_id}", "GET", tags=TAGS, errors=("NOT_FOUND",),
          summary="心愿详情；发布者、认领者、本网格网格员和管理员可见完整联系方式", response="WishView")
def get_wish(wish_id: str):
    """A member of the community. One wish; its contact phone and address are unmasked for the author, the
    claimer, the grid's workers and admins. An unpublished wish is 404 NOT_FOUND for everyone else, as is another
    community's."""
    return wishes.get(current_principal(), wish_id)


@endpoint(bp, "/v1/wishes/{wish_id}/approve", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="网格员/管理员审核通过", response="WishView")
def approve(wish_id: str):
    """A grid worker of the wish's grid, or an admin. Publishes a wish waiting for review (`pending_review` →
    `open`); its author is told. 409 INVALID_STATE for a wish not waiting for review."""
    return wishes.review(current_principal(), wish_id, approve=True)


@endpoint(bp, "/v1/wishes/{wish_id}/reject", "POST", body=RejectBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE"), summary="网格员/管理员驳回（须写明理由）", response="WishView")
def reject(wish_id: str, body: RejectBody):
    """A grid worker of the wish's grid, or an admin. Refuses a wish waiting for review, with a reason the
    author is shown (at most 100 characters). 409 INVALID_STATE for a wish not waiting for review."""
    return wishes.review(current_principal(), wish_id, approve=False, reason=body.reason)


@endpoint(bp, "/v1/wishes/{wish_id}/claim", "POST", tags=TAGS,
          errors=("NOT_FOUND", "ALREADY_CLAIMED", "OWN_WISH", "INVALID_STATE"),
          summary="志愿者/党员认领：同一时间只有一位认领者", response="WishView")
def claim(wish_id: str):
    """A volunteer or party member of the community. Takes on an open wish: exactly one claimer ever holds it,
    however many try at once. 409 ALREADY_CLAIMED for the losers, OWN_WISH for one's own wish, INVALID_STATE
    when it is not open. The author is told."""
    return wishes.claim(current_principal(), wish_id)


@endpoint(bp, "/v1/wishes/{wish_id}/release", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="认领者放弃认领，心愿回到待认领", response="WishView")
def release(wish_id: str):
    """The claimer. Gives the wish back: it is `open` again for others; the author is told. 409 INVALID_STATE
    when it is no longer claimed."""
    return wishes.release(current_principal(), wish_id)


@endpoint(bp, "/v1/wishes/{wish_id}/fulfil", "POST", body=FulfilBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE", "CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE"),
          summary="认领者标记已完成（说明经微信内容安全检查），通知发布者确认", response="WishView")
def fulfil(wish_id: str, body: FulfilBody):
    """The claimer. Says the wish is done, with a note (at most 200 characters) that passes WeChat's content
    security check (scene 评论): → `fulfilled`, and the author is asked to confirm. 409 INVALID_STATE unless
    claimed; 400 CONTENT_REJECTED when WeChat finds the note risky; 409 WECHAT_SESSION_STALE when the claimer has
    not opened the mini-program for 2 h (reopen it, retry); 503 UPSTREAM_UNAVAILABLE when WeChat is down."""
    return wishes.fulfil(get_container(), current_principal(), wish_id, body.note)


@endpoint(bp, "/v1/wishes/{wish_id}/confirm", "POST", body=ConfirmBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE", "CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE"),
          summary="发布者确认并评价，认领者获得积分（仅一次）", response="WishView")
def confirm(wish_id: str, body: ConfirmBody):
    """The author. Confirms a fulfilled wish with a rating 1–5 and an optional comment: → `confirmed`, and the
    claimer earns the community's wish points once (0, with the reason in the passbook note, beyond 5 credited
    confirmations a day or 3 a month for one author–claimer pair). 409 INVALID_STATE unless fulfilled. A comment
    passes WeChat's content security check (scene 评论): 400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE (reopen
    the mini-program, retry), 503 UPSTREAM_UNAVAILABLE as for publishing."""
    return wishes.confirm(get_container(), current_principal(), wish_id, body.rating, body.comment)


@endpoint(bp, "/v1/wishes/{wish_id}/cancel", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="发布者撤销（完成前）；通知认领者", response="WishView")
def cancel(wish_id: str):
    """The author, before the wish is fulfilled. Withdraws it (→ `cancelled`); a claimer is told. 409
    INVALID_STATE once fulfilled, confirmed or already closed."""
    return wishes.cancel(current_principal(), wish_id)
