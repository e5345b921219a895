"""Request bodies and query strings of the points area (积分, 积分超市): see schemas.py."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .schemas import Id, PageQuery
from .validation import Body, MultiLine, Query, SingleLine

from pydantic import model_validator  # noqa: E402

from tongxin.domain import points as point_rules  # noqa: E402  (kept beside the points schemas it feeds)

AwardCategory = Literal["charity", "mediation", "participation"]
RedemptionStatus = Literal["pending_pickup", "picked_up", "cancelled", "expired"]
assert set(AwardCategory.__args__) == set(point_rules.AWARD_CATEGORIES)
assert set(RedemptionStatus.__args__) == set(point_rules.REDEMPTION_STATUSES)
REASON_MAX = 200
GOODS_NAME_MAX = 40
STOCK_MAX = 100_000


class AwardBody(Body):
    user_id: Id
    category: AwardCategory = Field(description="charity 雪中送炭 · mediation 息事宁人 · participation 锦上添花")
    points: int = Field(ge=1, le=10_000, description="奖励积分；单次上限按类别（默认 50/30/20），每人每天发放上限默认 500")
    reason: MultiLine = Field(min_length=1, max_length=REASON_MAX)


class ReverseBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=REASON_MAX)


class LeaderboardQuery(Query):
    period: Literal["month", "year", "all"] = Field("month", description="本月 · 本年 · 累计（北京时间）")
    scope: Literal["community", "grid"] = Field("community", description="本社区 · 我的网格")
    metric: Literal["points", "minutes"] = Field("points", description="获得的积分 · 志愿服务时长（分钟，微星光）")


class StoreBody(Body):
    name: SingleLine = Field(min_length=1, max_length=GOODS_NAME_MAX)
    address: SingleLine | None = Field(None, min_length=1, max_length=100)


class GoodsBody(Body):
    name: SingleLine = Field(min_length=1, max_length=GOODS_NAME_MAX)
    description: MultiLine | None = Field(None, max_length=500)
    price_points: int = Field(ge=1, le=100_000, description="兑换所需积分（明码标分）")
    stock: int = Field(ge=0, le=STOCK_MAX)
    per_user_limit: int | None = Field(None, ge=1, le=100, description="每人限兑件数（待领取和已领取都算）；不填不限")
    on_shelf: bool = True
    sponsor_unit_id: Id | None = Field(None, description="赞助单位（共建单位）的 id：须与本社区有有效的共建协议，"
                                                         "否则 404；商品上显示 sponsor {id, name}")


class GoodsPatchBody(Body):
    name: SingleLine | None = Field(None, min_length=1, max_length=GOODS_NAME_MAX)
    description: MultiLine | None = Field(None, max_length=500)
    price_points: int | None = Field(None, ge=1, le=100_000)
    per_user_limit: int | None = Field(None, ge=1, le=100, description="null 表示不限")
    on_shelf: bool | None = None
    sponsor_unit_id: Id | None = Field(None, description="赞助单位（共建单位）的 id，须与本社区有有效的共建协议；"
                                                         "null 表示取消赞助")
    restock: int | None = Field(None, ge=-STOCK_MAX, le=STOCK_MAX,
                                description="库存增减（原子加减，不会覆盖同时发生的兑换）；负数为报损，不能超过现有库存")

    @field_validator("restock")
    @classmethod
    def _not_zero(cls, value: int | None) -> int | None:
        if value == 0:
            raise ValueError("不能为 0")
        return value

    @model_validator(mode="after")
    def _something(self):
        if not self.changes():
            raise ValueError("请至少修改一项")
        return self

    def changes(self) -> dict:
        """The fields sent; ``per_user_limit: null`` removes the limit, ``sponsor_unit_id: null`` the sponsor, any
        other null is no change."""
        return {name: getattr(self, name) for name in self.model_fields_set
                if getattr(self, name) is not None or name in ("per_user_limit", "sponsor_unit_id")}


class RedeemBody(Body):
    goods_id: Id
    quantity: int = Field(1, ge=1, le=99)


class PickupBody(Body):
    pickup_code: str = Field(min_length=1, max_length=256, description="兑换人出示的取货码（6 位，不区分大小写），"
                                                                      "或扫码得到的整条链接 <QR_LINK_BASE>/p/<码>；"
                                                                      "不是本服务的链接答 404 NOT_FOUND")


class RedemptionQrQuery(Query):
    format: Literal["png", "svg", "json"] = "png"


class StoreQueueQuery(PageQuery):
    status: RedemptionStatus = "pending_pickup"


