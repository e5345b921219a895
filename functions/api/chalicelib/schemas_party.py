"""Request bodies and query strings of 双报到's 党员报到 and 考核 (party registration and assessment): see schemas.py."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from tongxin.domain import party as party_rules

from .schemas import Id, PageQuery
from .validation import Body, MultiLine, SingleLine


class PartyRegistrationBody(Body):
    """POST /v1/me/party-registration (党员报到)."""
    real_name: SingleLine = Field(min_length=2, max_length=party_rules.REAL_NAME_MAX, description="真实姓名")
    work_unit: SingleLine = Field(min_length=2, max_length=party_rules.WORK_UNIT_MAX, description="工作单位")
    party_branch: SingleLine = Field(min_length=2, max_length=party_rules.PARTY_BRANCH_MAX,
                                     description="所在党组织（党支部）")
    unit_id: Id | None = Field(None, description="工作单位是街道登记的共建单位时，填其 id（须存在）")


class PartyRegistrationsQuery(PageQuery):
    """GET /v1/admin/party-registrations."""
    status: Literal["pending", "approved", "rejected", "ended"] = Field(
        "pending", description="pending 待审核（默认）· approved 已通过 · rejected 未通过 · ended 已结束（注销或取消党员身份）")


class PartyRejectBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=party_rules.REASON_MAX, description="不通过的理由（告知本人）")


class PartyMembersQuery(PageQuery):
    """GET /v1/admin/party-members: a page holds at most 20 members (a larger limit is served 20 at a time)."""
    quarter: str | None = Field(None, max_length=16, description="YYYYQn（北京时间的季度，如 2026Q4），默认本季度；"
                                                                "不能是将来的季度")
    format: Literal["json", "csv"] = Field("json", description="json 一页；csv 全社区（UTF-8 带 BOM，可直接用 Excel 打开）")
