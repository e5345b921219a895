"""Success bodies of 双报到's 服务卡 (a unit's service cards and pledged activities): see responses.py for the rules
every model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .responses_common import Answer
from .responses_party import ServiceQuarterView


class ServiceCardCommunityRef(Answer):
    id: str
    name: str | None = Field(description="社区名称（社区已不存在时为 null）")


class ServiceCardMemberView(Answer):
    id: str = Field(description="成员的用户 id")
    name: str | None = Field(description="报到时登记、审核通过的真实姓名（寄回工作单位的服务卡上的姓名）")
    community: ServiceCardCommunityRef = Field(description="报到的社区（按其考核标准判断是否达标）")
    party_branch: str | None = Field(description="所在党组织")


class ServiceCardView(Answer):
    """``service_cards._cards``: one member's quarter, from their service record."""
    member: ServiceCardMemberView
    quarter: ServiceQuarterView
    year_minutes: int = Field(description="本年截至该季度末的服务分钟")
    meets_rules: bool = Field(description="是否达到其所在社区的考核标准")
    missing: list[Literal["services", "hours"]] = Field(description="未达标项：services（服务次数）、hours（服务时长）")


class ServiceCardUnitRef(Answer):
    id: str
    name: str
    kind: str = Field(description="机关、企业、事业单位、学校、医院或社会组织")


class UnitActivitiesView(Answer):
    """The unit's pledged activities done in one community it co-builds with, in the quarter."""
    community: ServiceCardCommunityRef
    activities_per_quarter: int = Field(description="协议承诺的每季度活动次数")
    activities_done: int = Field(description="本季度该单位承办、已举办（结束且未取消，签到关闭后计入）的活动次数")
    met: bool = Field(description="activities_done ≥ activities_per_quarter")
    valid_until: str = Field(description="协议有效期至（YYYY-MM-DD，北京时间）")


class ServiceCardsPage(Answer):
    quarter: str = Field(description="YYYYQn")
    unit: ServiceCardUnitRef
    agreements: list[UnitActivitiesView] = Field(description="该季度内有效过的共建协议，各社区的承诺活动完成情况")
    items: list[ServiceCardView]
    next_cursor: str | None
