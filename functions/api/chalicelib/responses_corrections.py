"""Success bodies of 志愿服务记录更正 (corrections of the volunteer record): see responses.py for the rules every
model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef


class CorrectionEventRef(Answer):
    id: str
    title: str | None


class CorrectionView(Answer):
    """``corrections.present``: a correction as the volunteer and the event's organiser see it."""
    id: str
    status: Literal["pending", "approved", "refused"] = Field(
        description="pending 待处理 · approved 已更正（记录与积分已按申请的时长调整）· refused 未同意（见 decision_reason）")
    attendance_id: str = Field(description="<event_id>.<user_id>：被更正的那条志愿服务记录")
    event: CorrectionEventRef
    user: PersonRef = Field(description="申请人（志愿者）")
    minutes: int = Field(description="申请记为的分钟数")
    minutes_before: int = Field(description="申请时记录中的分钟数")
    reason: str = Field(description="申请理由")
    decided_by: PersonRef | None = Field(description="处理人（组织者或管理员）")
    decided_at: AwareDatetime | None
    decision_reason: str | None = Field(description="不同意的理由")
    submitted_at: AwareDatetime


class CorrectionPage(Answer):
    items: list[CorrectionView]
    next_cursor: str | None
