"""Success bodies of 微星光 commendations (表彰): see responses.py for the rules every model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef


class CommendationView(Answer):
    """``commendations.present``: a commendation in a list or as a change answers it."""
    id: str
    community_id: str
    user: PersonRef = Field(description="被表彰人；昵称对社区成员打码（张**），对本社区管理员和本人完整显示")
    title: str = Field(description="表彰称号（完整）")
    story: str = Field(description="事迹（完整）")
    period: str = Field(description="表彰期次：YYYY-MM 或 YYYY")
    status: Literal["active", "revoked"] = Field(description="active 有效 · revoked 已撤销（不再出现在列表中）")
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None
    commended_by: PersonRef | None = Field(description="表彰的管理员；仅本社区管理员可见，其他人为 null")
    revoke_reason: str | None = Field(description="撤销原因；仅本社区管理员可见")


class CommendationPage(Answer):
    items: list[CommendationView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


class CandidateView(Answer):
    rank: int = Field(description="名次；同分同名次")
    user: PersonRef = Field(description="候选人（管理员看到完整昵称）")
    score: int = Field(description="当月获得的积分或志愿服务分钟数")
    commended: bool = Field(description="这个月是否已获得表彰（未撤销）")


class CommendationCandidates(Answer):
    """``commendations.candidates``: the month's top 10 by points earned and by volunteering minutes."""
    month: str
    points: list[CandidateView] = Field(description="当月获得积分前 10 名")
    minutes: list[CandidateView] = Field(description="当月志愿服务时长（分钟）前 10 名")
