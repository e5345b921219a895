"""Success bodies of the statistics above communities (街呼区应: the street's, ``usecases/rollups.py``): see
responses.py for the rules every model here follows."""
from __future__ import annotations

from pydantic import AwareDatetime, Field

from .responses import Answer


class NamedRef(Answer):
    id: str
    name: str | None = Field(description="名称；已不存在时为 null")


class RollupFiguresView(Answer):
    """``rollups.present``: one community's figures, or a total of several (counts added, rates from the sums)."""
    wishes: int = Field(description="统计区间内创建的微心愿数（同 GET /v1/admin/stats 的 wishes.total）")
    volunteers: int = Field(description="注册志愿者人数：此刻的人数，不受统计区间影响")
    volunteer_minutes: int = Field(description="统计区间各月（北京时间，按签到月份）计入的志愿服务分钟数")
    events: int = Field(description="统计区间内发布的活动数（含之后取消的，同 events.published）")
    events_cancelled: int = Field(description="其中已取消的活动数（同 events.cancelled）")
    points_issued: int = Field(description="发放的积分：心愿、志愿服务、奖励（扣除撤销），同 points.issued_by_source 之和")
    points_redeemed: int = Field(description="兑换扣除的积分（同 points.redeemed）")
    points_refunded: int = Field(description="兑换取消或过期退回的积分（同 points.refunded）")
    requests: int = Field(description="统计区间内提交的诉求数（同 GET /v1/admin/requests/stats 的 received）")
    response_rate: float | None = Field(description="响应率：首次响应已见分晓的诉求中按时响应的比例；无则 null")
    resolution_rate: float | None = Field(description="解决率：收到的诉求中已办结的比例；无则 null")
    satisfaction_rate: float | None = Field(description="满意率：评价关闭的诉求中满意的比例；无则 null")


class CommunityRollupView(RollupFiguresView):
    community: NamedRef


class StreetStatsView(Answer):
    """``rollups.street_stats``."""
    street: NamedRef
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    items: list[CommunityRollupView] = Field(description="街道的各社区，一行一个（按社区 id 排列）")
    total: RollupFiguresView = Field(description="全街道合计：各社区计数之和，三率由合计计数算出")


class StreetRollupView(RollupFiguresView):
    street: NamedRef
    communities: int = Field(description="街道的社区数")


class DistrictStatsView(Answer):
    """``rollups.district_stats``."""
    district: NamedRef
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    items: list[StreetRollupView] = Field(description="区的各街道，一行一个（其社区的计数之和，三率由合计计数算出；按街道 id 排列）")
    total: RollupFiguresView = Field(description="全区合计")
