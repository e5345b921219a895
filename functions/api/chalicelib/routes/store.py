"""积分超市 routes: stores and goods, redemptions, pickup (核销), the counter's queue."""
from chalice import Blueprint

from tongxin.usecases import points

from ..http import binary_response, current_principal, endpoint
from ..schemas import (GoodsBody, GoodsPatchBody, PageQuery, PickupBody, RedeemBody, RedemptionQrQuery, StoreBody,
                       StoreQueueQuery)

bp = Blueprint(__name__)
TAGS = ("store",)


@endpoint(bp, "/v1/stores", "GET", tags=TAGS, response="StoreList", summary="本社区的积分超市")
def list_stores():
    return points.list_stores(current_principal())


@endpoint(bp, "/v1/stores", "POST", body=StoreBody, status=201, tags=TAGS, response="StoreView",
          summary="管理员开设积分超市")
def create_store(body: StoreBody):
    return points.create_store(current_principal(), body.name, body.address)


@endpoint(bp, "/v1/stores/{store_id}/goods", "GET", query=PageQuery, tags=TAGS, errors=("NOT_FOUND",),
          response="GoodsPage", summary="超市的商品（明码标分）：居民看到在架的，超市管理员和社区管理员看到全部")
def list_goods(store_id: str, query: PageQuery):
    return points.list_goods(current_principal(), store_id, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/stores/{store_id}/goods", "POST", body=GoodsBody, status=201, tags=TAGS, errors=("NOT_FOUND",),
          response="GoodsView", summary="管理员上架新商品")
def create_goods(store_id: str, body: GoodsBody):
    return points.create_goods(current_principal(), store_id, body.model_dump())


@endpoint(bp, "/v1/goods/{goods_id}", "PATCH", body=GoodsPatchBody, tags=TAGS, errors=("NOT_FOUND", "OUT_OF_STOCK"),
          response="GoodsView",
          summary="修改商品：管理员可改全部；超市管理员只能上下架和补货（restock 原子加减库存）")
def update_goods(goods_id: str, body: GoodsPatchBody):
    return points.update_goods(current_principal(), goods_id, body.changes())


@endpoint(bp, "/v1/redemptions", "POST", body=RedeemBody, status=201, tags=TAGS, response="RedemptionView",
          errors=("NOT_FOUND", "INSUFFICIENT_POINTS", "OUT_OF_STOCK", "LIMIT_EXCEEDED", "OFF_SHELF", "INVALID_STATE"),
          summary="用积分兑换商品：扣积分、减库存、生成取货码，7 天内到超市领取（可带 Idempotency-Key）")
def redeem(body: RedeemBody):
    return points.redeem(current_principal(), body.goods_id, body.quantity)


@endpoint(bp, "/v1/redemptions/mine", "GET", query=PageQuery, tags=TAGS, response="RedemptionPage",
          summary="我的兑换记录（最新的在前）")
def my_redemptions(query: PageQuery):
    return points.my_redemptions(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/redemptions/verify", "POST", body=PickupBody, tags=TAGS, response="RedemptionView",
          errors=("NOT_FOUND", "INVALID_STATE"), summary="核销：超市管理员输入或扫描居民出示的取货码，标记为已领取")
def verify_pickup(body: PickupBody):
    return points.verify(current_principal(), body.pickup_code)


@endpoint(bp, "/v1/redemptions/{redemption_id}", "GET", tags=TAGS, errors=("NOT_FOUND",), response="RedemptionView",
          summary="兑换详情（兑换人本人、该超市管理员、社区管理员）")
def get_redemption(redemption_id: str):
    return points.get_redemption(current_principal(), redemption_id)


@endpoint(bp, "/v1/redemptions/{redemption_id}/cancel", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          response="RedemptionView", summary="兑换人在领取前取消：积分、库存和限兑额度退回")
def cancel_redemption(redemption_id: str):
    return points.cancel(current_principal(), redemption_id)


@endpoint(bp, "/v1/redemptions/{redemption_id}/qrcode", "GET", query=RedemptionQrQuery, tags=TAGS,
          produces=("application/json", "image/png", "image/svg+xml"), errors=("NOT_FOUND",),
          response="PickupCodeView", summary="取货码二维码：兑换人在柜台出示")
def redemption_qrcode(redemption_id: str, query: RedemptionQrQuery):
    result = points.pickup_qrcode(current_principal(), redemption_id, query.format)
    return result if isinstance(result, dict) else binary_response(*result)


@endpoint(bp, "/v1/stores/{store_id}/redemptions", "GET", query=StoreQueueQuery, tags=TAGS, errors=("NOT_FOUND",),
          response="RedemptionPage", summary="柜台队列：该超市某一状态的兑换（超市管理员、社区管理员）")
def store_redemptions(store_id: str, query: StoreQueueQuery):
    return points.store_queue(current_principal(), store_id, query.status, limit=query.limit, cursor=query.cursor)
