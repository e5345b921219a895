"""Request bodies and query strings of 微星光 commendations (表彰)."""
from __future__ import annotations

from pydantic import Field

from tongxin.domain import commendations as rules

from .schemas import Id, PageQuery
from .validation import Body, MultiLine, Query, SingleLine

PERIOD_PATTERN = r"^[0-9]{4}(-[0-9]{2})?$"


class CommendationBody(Body):
    user_id: Id = Field(description="被表彰的本社区成员")
    title: SingleLine = Field(min_length=1, max_length=rules.TITLE_MAX,
                              description=f"表彰称号，如 优秀志愿者、最美党员，至多 {rules.TITLE_MAX} 字")
    story: MultiLine = Field(min_length=1, max_length=rules.STORY_MAX,
                             description=f"事迹，至多 {rules.STORY_MAX} 字")
    period: str = Field(min_length=4, max_length=7, pattern=PERIOD_PATTERN,
                        description=f"表彰期次：YYYY-MM 月份或 YYYY 年份（北京时间），不晚于本月（本年），不早于 "
                                    f"{rules.FIRST_YEAR} 年")


class RevokeCommendationBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=rules.REASON_MAX, description="撤销原因（仅管理员可见）")


class CommendationListQuery(PageQuery):
    user_id: Id | None = Field(None, description="只看某位成员的表彰（其个人主页）")


class CandidatesQuery(Query):
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM（北京时间），不晚于本月")
