"""Request bodies and query strings of 志愿服务记录更正 (corrections of the volunteer record): see schemas.py."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from tongxin.domain import corrections as rules

from .schemas import Id, PageQuery
from .validation import Body, MultiLine


class CorrectionBody(Body):
    """POST /v1/me/volunteer-record/corrections."""
    attendance_id: str = Field(min_length=3, max_length=129, pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$",
                               description="要更正的那条志愿服务记录：<event_id>.<user_id>（记录中的 event_id 与本人 id）")
    minutes: int = Field(ge=0, le=24 * 60, description="应记的服务分钟数：0 到 活动计划时长与已进行时长之较小者")
    reason: MultiLine = Field(min_length=1, max_length=rules.REASON_MAX, description="申请更正的理由（组织者可见）")


class CorrectionsQuery(PageQuery):
    """GET /v1/admin/corrections."""
    status: Literal["pending", "approved", "refused"] = Field(
        "pending", description="pending 待处理（默认）· approved 已更正 · refused 未同意")
    event_id: Id | None = Field(None, description="只看这个活动的更正申请（活动的组织者用；不填为本社区全部，仅管理员）")


class CorrectionRefuseBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=rules.REASON_MAX, description="不同意更正的理由（申请人可见）")
