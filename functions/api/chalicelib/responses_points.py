"""Success bodies of the points area (积分, 积分超市): see responses.py for the rules every model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef
from .schemas_points import AwardCategory, RedemptionStatus


class AwardView(Answer):
    id: str
    user: PersonRef
    category: AwardCategory
    points: int
    reason: str
    status: Literal["active", "reversed"]
    awarded_by: PersonRef
    created_at: AwareDatetime
    reversed_at: AwareDatetime | None
    reverse_reason: str | None


class LedgerItemView(Answer):
    id: str
    kind: Literal["wish", "volunteer", "award", "reversal", "redeem", "refund"] = Field(
        description="wish 微心愿 · volunteer 志愿服务（含更正）· award 奖励 · reversal 奖励撤销 · redeem 兑换 · refund 兑换退回")
    amount: int = Field(description="正数为收入，负数为支出")
    balance_after: int
    source: str
    note: str | None
    created_at: AwareDatetime


class PassbookView(Answer):
    balance: int
    earned_total: int = Field(description="累计获得（兑换不减少；奖励撤销、时长更正会减少）")
    items: list[LedgerItemView]
    next_cursor: str | None


class LeaderboardItemView(Answer):
    rank: int = Field(description="名次；同分同名次")
    user: PersonRef = Field(description="昵称已打码，如 张*")
    score: int = Field(description="本期获得的积分，或志愿服务分钟数")
    points: int | None = Field(description="metric=points 时同 score，否则为 null")
    minutes: int | None = Field(description="metric=minutes 时同 score，否则为 null")


class LeaderboardMeView(Answer):
    rank: int | None = Field(description="不在前 50 名时为 null")
    score: int
    points: int | None
    minutes: int | None


class LeaderboardView(Answer):
    period: Literal["month", "year", "all"]
    period_key: str = Field(description="如 2026-12、2026、all（北京时间）")
    scope: Literal["community", "grid"]
    metric: Literal["points", "minutes"]
    items: list[LeaderboardItemView]
    me: LeaderboardMeView


class StoreView(Answer):
    id: str
    name: str
    address: str | None


class StoreList(Answer):
    items: list[StoreView]


class GoodsSponsorView(Answer):
    id: str
    name: str = Field(description="赞助单位名称（写入商品时的名称）")


class GoodsView(Answer):
    id: str
    store_id: str
    name: str
    description: str | None
    price_points: int
    stock: int
    per_user_limit: int | None
    on_shelf: bool
    sponsor: GoodsSponsorView | None = Field(description="赞助的共建单位；无则 null")
    created_at: AwareDatetime


class GoodsPage(Answer):
    items: list[GoodsView]
    next_cursor: str | None


class GoodsRef(Answer):
    id: str
    name: str


class RedeemerView(Answer):
    """The redeemer as the store's staff see them, copied at redemption time (已注销用户 after 注销)."""
    id: str
    nickname: str
    real_name: str | None = Field(description="登记的真实姓名（志愿者、党员），没有则为 null")


class RedemptionView(Answer):
    id: str
    goods: GoodsRef
    store_id: str
    quantity: int
    points: int
    pickup_code: str | None = Field(description="取货码，只给兑换人本人看；超市工作人员看到的是 null")
    status: RedemptionStatus
    expires_at: AwareDatetime
    created_at: AwareDatetime
    picked_up_at: AwareDatetime | None
    cancelled_at: AwareDatetime | None
    expired_at: AwareDatetime | None
    redeemer: RedeemerView | None = Field(description="兑换人（只在超市工作人员、管理员的视图中给出：兑换时的昵称和真实姓名）；"
                                                       "兑换人本人看到的是 null")


class RedemptionPage(Answer):
    items: list[RedemptionView]
    next_cursor: str | None


class PickupCodeView(Answer):
    code: str = Field(description="取货码")
    url: str = Field(description="二维码携带的链接 <QR_LINK_BASE>/p/<code>（普通链接二维码：超市管理员用微信扫一扫即打开核销页）")
    valid_until: AwareDatetime = Field(description="取货码的失效时间（同 expires_at）")
    pickup_code: str
    status: RedemptionStatus
    expires_at: AwareDatetime


class GoodsQuantity(Answer):
    goods_id: str
    quantity: int


class RedemptionCounts(Answer):
    created: int
    picked_up: int
    cancelled: int
    expired: int


class PointsStatsView(Answer):
    """Counted on the day (Asia/Shanghai) each ledger entry was written."""
    issued_by_source: dict[str, int] = Field(description="按来源发放的积分：wish、volunteer、award（已扣除撤销和更正）")
    issued_by_category: dict[str, int] = Field(description="奖励积分按类别：charity、mediation、participation")
    reversed: int = Field(description="撤销的奖励积分")
    redeemed: int = Field(description="兑换花出的积分（含之后退回的）")
    refunded: int = Field(description="取消和过期退回的积分")
    redemptions: RedemptionCounts
    by_goods: list[GoodsQuantity] = Field(description="各商品兑出件数（扣除退回的）")

