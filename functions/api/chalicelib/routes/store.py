"""积分超市 routes: stores and goods, redemptions, pickup (核销), the counter's queue."""
from chalice import Blueprint

from tongxin.usecases import points
from tongxin.wiring import get_container

from ..http import binary_response, current_principal, endpoint
from ..schemas import PageQuery
from ..schemas_points import (GoodsBody, GoodsPatchBody, PickupBody, RedeemBody, RedemptionQrQuery, StoreBody,
                              StoreQueueQuery)

bp = Blueprint(__name__)
TAGS = ("store",)
# Goods' name and description, read by the whole community: WeChat's content check (scene 论坛).
TEXT_ERRORS = ("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE")


@endpoint(bp, "/v1/stores", "GET", tags=TAGS, response="StoreList", summary="本社区的积分超市")
def list_stores():
    """A member of the community. The community's 积分超市 with their names and addresses."""
    return points.list_stores(current_principal())


@endpoint(bp, "/v1/stores", "POST", body=StoreBody, status=201, tags=TAGS, response="StoreView",
          summary="管理员开设积分超市")
def create_store(body: StoreBody):
    """An admin of the community. Opens a store (积分超市) with a name and an optional address; 201 the store.
    Its keepers are then given it through the member roles route (store_ids)."""
    return points.create_store(current_principal(), body.name, body.address)


@endpoint(bp, "/v1/stores/{store_id}/goods", "GET", query=PageQuery, tags=TAGS, errors=("NOT_FOUND",),
          response="GoodsPage", summary="超市的商品（明码标分）：居民看到在架的，超市管理员和社区管理员看到全部")
def list_goods(store_id: str, query: PageQuery):
    """A member of the community. The store's goods with price in points, stock and per-person limit
    (明码标分): residents see what is on the shelf, the store's keepers and admins everything."""
    return points.list_goods(current_principal(), store_id, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/stores/{store_id}/goods", "POST", body=GoodsBody, status=201, tags=TAGS,
          errors=("NOT_FOUND",) + TEXT_ERRORS, response="GoodsView", summary="管理员上架新商品（名称和说明经微信内容安全检查）")
def create_goods(store_id: str, body: GoodsBody):
    """An admin of the community. Puts new goods in the store with name, description, price in points, stock
    and an optional per-person limit; 201 the goods. Name and description pass WeChat's content security check
    (scene 论坛): 400 CONTENT_REJECTED when risky, 409 WECHAT_SESSION_STALE when the admin has not opened the
    mini-program for 2 h (reopen it, retry), 503 UPSTREAM_UNAVAILABLE when WeChat is down."""
    return points.create_goods(get_container(), current_principal(), store_id, body.model_dump())


@endpoint(bp, "/v1/goods/{goods_id}", "PATCH", body=GoodsPatchBody, tags=TAGS,
          errors=("NOT_FOUND", "OUT_OF_STOCK") + TEXT_ERRORS, response="GoodsView",
          summary="修改商品：管理员可改全部；超市管理员只能上下架和补货（restock 原子加减库存）")
def update_goods(goods_id: str, body: GoodsPatchBody):
    """An admin (any field), or the store's keeper (on or off the shelf, and restock only: 403 FORBIDDEN for
    anything else). `restock` adds to or removes from the stock atomically; 409 OUT_OF_STOCK for a write-off
    beyond the stock. A new name or description passes WeChat's content security check (scene 论坛): 400
    CONTENT_REJECTED, 409 WECHAT_SESSION_STALE (reopen the mini-program, retry), 503 UPSTREAM_UNAVAILABLE."""
    return points.update_goods(get_container(), current_principal(), goods_id, body.changes())


@endpoint(bp, "/v1/redemptions", "POST", body=RedeemBody, status=201, tags=TAGS, response="RedemptionView",
          errors=("NOT_FOUND", "INSUFFICIENT_POINTS", "OUT_OF_STOCK", "LIMIT_EXCEEDED", "OFF_SHELF", "INVALID_STATE"),
          summary="用积分兑换商品：扣积分、减库存、生成取货码，7 天内到超市领取（可带 Idempotency-Key）")
def redeem(body: RedeemBody):
    """A member of the community. Spends points on goods in one transaction: points debited, stock taken, a
    pickup code made, to collect at the counter within 7 days. 201 the redemption. 409 INSUFFICIENT_POINTS,
    OUT_OF_STOCK, LIMIT_EXCEEDED (pending and picked-up count), OFF_SHELF, INVALID_STATE (price or limit changed
    meanwhile: read again). Send an Idempotency-Key: a retry after a lost answer then spends nothing twice."""
    return points.redeem(current_principal(), body.goods_id, body.quantity)


@endpoint(bp, "/v1/redemptions/mine", "GET", query=PageQuery, tags=TAGS, response="RedemptionPage",
          summary="我的兑换记录（最新的在前）")
def my_redemptions(query: PageQuery):
    """Any signed-in user. My redemptions, newest first, with their pickup codes and states."""
    return points.my_redemptions(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/redemptions/verify", "POST", body=PickupBody, tags=TAGS, response="RedemptionView",
          errors=("NOT_FOUND", "INVALID_STATE", "RATE_LIMITED"),
          summary="核销：超市管理员输入或扫描居民出示的取货码，标记为已领取")
def verify_pickup(body: PickupBody):
    """The store's keeper, or an admin. 核销: the pickup code the resident shows (case and spaces ignored), or
    the link its QR carries (`<QR_LINK_BASE>/p/<code>`, as WeChat's scanner reads it), marks the redemption
    `picked_up`. 404 NOT_FOUND for a code of none of the caller's stores, or a link that is not this service's;
    409 INVALID_STATE when already picked up, cancelled or expired. After 20 failed verifications by the caller
    in a 10-minute window, 429 RATE_LIMITED (with Retry-After) until the window ends."""
    return points.verify(current_principal(), body.pickup_code, link_base=get_container().settings.qr_link_base)


@endpoint(bp, "/v1/redemptions/{redemption_id}", "GET", tags=TAGS, errors=("NOT_FOUND",), response="RedemptionView",
          summary="兑换详情（兑换人本人、该超市管理员、社区管理员）")
def get_redemption(redemption_id: str):
    """The owner, the store's keepers, or an admin. One redemption; the pickup code is shown to the owner only.
    Anyone else gets 404 NOT_FOUND."""
    return points.get_redemption(current_principal(), redemption_id)


@endpoint(bp, "/v1/redemptions/{redemption_id}/cancel", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          response="RedemptionView", summary="兑换人在领取前取消：积分、库存和限兑额度退回")
def cancel_redemption(redemption_id: str):
    """The owner, while it is `pending_pickup`. Cancels the redemption: points, stock and the per-person
    allowance come back (a `refund` entry). 409 INVALID_STATE once picked up, cancelled or expired."""
    return points.cancel(current_principal(), redemption_id)


@endpoint(bp, "/v1/redemptions/{redemption_id}/qrcode", "GET", query=RedemptionQrQuery, tags=TAGS,
          produces=("application/json", "image/png", "image/svg+xml"), errors=("NOT_FOUND",),
          response="PickupCodeView", summary="取货码二维码：兑换人在柜台出示")
def redemption_qrcode(redemption_id: str, query: RedemptionQrQuery):
    """The owner. The pickup code to show at the counter: as a QR image (png/svg) of its link
    `<QR_LINK_BASE>/p/<code>` (普通链接二维码: the keeper's WeChat scanner opens the mini-program's pickup page), or
    as json {code, url, valid_until, pickup_code, status, expires_at}."""
    result = points.pickup_qrcode(current_principal(), redemption_id, query.format,
                                  link_base=get_container().settings.qr_link_base)
    return result if isinstance(result, dict) else binary_response(*result)


@endpoint(bp, "/v1/stores/{store_id}/redemptions", "GET", query=StoreQueueQuery, tags=TAGS, errors=("NOT_FOUND",),
          response="RedemptionPage", summary="柜台队列：该超市某一状态的兑换（超市管理员、社区管理员）")
def store_redemptions(store_id: str, query: StoreQueueQuery):
    """The store's keeper, or an admin. The counter's queue: the store's redemptions in one state (pending by
    default), newest first."""
    return points.store_queue(current_principal(), store_id, query.status, limit=query.limit, cursor=query.cursor)
