"""Success bodies of the statistics above communities (街呼区应: the street's, ``usecases/rollups.py``): see
responses.py for the rules every model here follows."""
from __future__ import annotations

from pydantic import AwareDatetime, Field

from .responses_common import Answer


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


# --- 通报 (bulletin, ``usecases/bulletin.py``) ----------------------------------------------------------------

class BulletinThresholdsView(Answer):
    satisfaction_rate: int = Field(description="满意率低于此百分比即通报（区的设置，默认 85）")
    resolve_rate: int = Field(description="解决率低于此百分比即通报（默认 90）")
    response_rate: int = Field(description="响应率低于此百分比即通报（默认 95）")


class BulletinFiguresView(Answer):
    """``domain/bulletin.row`` and ``ranked``: one unit's month."""
    received: int = Field(description="当月（北京时间，按提交日）收到的诉求数")
    answered_on_time: int = Field(description="首次响应按时的诉求数")
    resolved_on_time: int = Field(description="首次办结在当时的办理时限内的诉求数")
    overdue: int = Field(description="超期的诉求数")
    extended: int = Field(description="获批延期的诉求数")
    response_rate: float | None = Field(description="响应率：按时响应 /（按时响应 + 首次响应超时）；无则 null")
    resolve_rate: float | None = Field(description="解决率：按时办结 / 收到；无则 null")
    satisfaction_rate: float | None = Field(description="满意率：满意 /（满意 + 不满意）；无则 null")
    rank: int | None = Field(description="排名：三率（有分母者）平均值从高到低，相同者并列；当月无诉求为 null")
    flagged: bool = Field(description="是否通报：任一比率低于区的阈值")
    below: list[str] = Field(description="低于阈值的比率名（response_rate · resolve_rate · satisfaction_rate）")


class CommunityBulletinRow(BulletinFiguresView):
    community: NamedRef


class StreetBulletinRow(BulletinFiguresView):
    street: NamedRef


class DepartmentBulletinRow(BulletinFiguresView):
    department: NamedRef


class StreetBulletinView(Answer):
    """``bulletin.street_bulletin``."""
    street: NamedRef
    month: str = Field(description="YYYY-MM（北京时间）")
    final: bool = Field(description="已于次月 1 日定稿（快照）；否则为实时计算")
    thresholds: BulletinThresholdsView
    items: list[CommunityBulletinRow] = Field(description="街道的各社区，按排名（无诉求的社区在后）")


class DistrictBulletinView(Answer):
    """``bulletin.district_bulletin``."""
    district: NamedRef
    month: str = Field(description="YYYY-MM（北京时间）")
    final: bool = Field(description="已于次月 1 日定稿（快照）；否则为实时计算")
    thresholds: BulletinThresholdsView
    streets: list[StreetBulletinRow] = Field(description="各街道（其社区计数之和），按排名")
    departments: list[DepartmentBulletinRow] = Field(description="各区直部门（自诉求派至该部门起计），按排名")
    communities: list[CommunityBulletinRow] = Field(description="区内各社区，按排名")
