"""Success bodies of 双报到's 党员报到 and 考核 (party registration, assessment): see responses.py for the rules every
model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef

PartyRegistrationStatus = Literal["pending", "approved", "rejected", "ended"]



class PartyRegistrationView(Answer):
    """``party.present``: a registration as its member and the community's admins see it."""
    id: str
    status: PartyRegistrationStatus = Field(description="pending 待审核 · approved 已通过（获得 party_member 角色）· "
                                                        "rejected 未通过（可重新提交）· ended 已结束（注销或被取消党员身份）")
    user: PersonRef
    real_name: str | None = Field(description="真实姓名；注销后为 null")
    work_unit: str | None = Field(description="工作单位；注销后为 null")
    party_branch: str | None = Field(description="所在党组织；注销后为 null")
    unit_id: str | None = Field(description="所在的共建单位 id；没有填为 null")
    reason: str | None = Field(description="未通过的理由，或结束的原因")
    submitted_at: AwareDatetime
    decided_at: AwareDatetime | None
    ended_at: AwareDatetime | None


class PartyRegistrationPage(Answer):
    items: list[PartyRegistrationView]
    next_cursor: str | None


class PartyMemberRef(Answer):
    id: str
    nickname: str
    real_name: str | None = Field(description="报到时登记、审核通过的真实姓名")


class ServiceQuarterView(Answer):
    """``domain/party.Quarter``: what the service record counted in a quarter (服务记录)."""
    services: int = Field(description="服务次数（下列四类之和）")
    events: int = Field(description="参加志愿服务活动并计入时长的次数")
    wishes: int = Field(description="认领并经确认圆梦的微心愿数")
    posts: int = Field(description="认领的岗位数（领岗）")
    requests: int = Field(description="作为工作人员响应的诉求数（每个层级首次响应计一次）")
    minutes: int = Field(description="本季度计入的志愿服务分钟数")


class PartyMemberAssessmentView(Answer):
    user: PartyMemberRef
    unit_id: str | None = Field(description="所在的共建单位 id（报到时填写）")
    quarter: ServiceQuarterView
    year_minutes: int = Field(description="本年度截至所查季度末的服务分钟数")
    meets_rules: bool = Field(description="是否达到社区的考核标准")
    missing: list[Literal["services", "hours"]] = Field(description="未达标项：services 服务次数 · hours 服务时长")


class PartyRulesView(Answer):
    services_per_quarter_min: int = Field(description="每季度最少服务次数（社区设置 party_services_per_quarter_min）")
    hours_per_year_min: int = Field(description="每年最少服务小时数（社区设置 party_hours_per_year_min）")


class PartyMembersPage(Answer):
    """``party_assessment.list_party_members``."""
    quarter: str = Field(description="所查季度 YYYYQn（北京时间）")
    rules: PartyRulesView
    items: list[PartyMemberAssessmentView]
    next_cursor: str | None
