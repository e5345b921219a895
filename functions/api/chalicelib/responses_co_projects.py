"""Success bodies of 共建项目 (co-building projects) and 群众评单: see responses.py for the rules every model here
follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef

CoProjectStatus = Literal["planned", "in_progress", "done"]


class CoProjectNeedView(Answer):
    post_id: str | None = Field(description="对接的需求/岗位；null 为清单外的需求")
    post_title: str | None = Field(description="该需求/岗位在立项时的名称")
    text: str | None = Field(description="需求内容")


class CoProjectUnitView(Answer):
    id: str
    name: str = Field(description="立项时的单位名称")


class CoProjectResourceView(Answer):
    id: str
    title: str = Field(description="立项时的资源名称")


class CoProjectView(Answer):
    """``co_projects.present``: a project in a list."""
    id: str
    community_id: str
    title: str
    need: CoProjectNeedView
    unit: CoProjectUnitView
    resource: CoProjectResourceView | None
    starts_on: str = Field(description="开始日期 YYYY-MM-DD（北京时间）")
    ends_on: str = Field(description="结束日期 YYYY-MM-DD（北京时间）")
    beneficiaries_note: str = Field(description="服务对象说明")
    served_grid_ids: list[str] = Field(description="服务的网格（只有住在这些网格的居民可以评价）；[] 为全社区")
    status: CoProjectStatus = Field(description="planned 计划中 · in_progress 进行中 · done 已完成")
    percent: int = Field(description="最近一次报告的完成进度 0–100（完成时为 100）")
    ratings_count: int = Field(description="居民评价人数（群众评单）")
    rating_average: float | None = Field(description="平均评分（一位小数）；尚无评价为 null")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    completed_at: AwareDatetime | None


class CoProjectStepView(Answer):
    at: AwareDatetime
    action: Literal["created", "progress", "completed"] = Field(description="立项 · 进展 · 完成")
    role: Literal["admin", "unit_liaison"] = Field(description="社区管理员或共建单位联络员")
    by: PersonRef = Field(description="记录人；昵称对居民打码，对本社区管理员、本单位联络员和本人完整显示")
    percent: int | None = Field(description="该次报告的进度；立项为 null")
    note: str | None


class MyRatingView(Answer):
    """My rating of a project (共建项目's 群众评单, 微实事's 验收)."""
    rating: int
    comment: str | None
    created_at: AwareDatetime


class CoProjectDetailView(CoProjectView):
    """``co_projects.present_detail``: a project with its timeline and my rating."""
    timeline: list[CoProjectStepView] = Field(description="立项、每次进展和完成，按时间先后")
    my_rating: MyRatingView | None = Field(description="我的评价；未评价为 null")


class CoProjectPage(Answer):
    items: list[CoProjectView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


class RatingView(Answer):
    """``co_projects.rate``, ``round_delivery.rate``: my rating and the project's count and average with it."""
    project_id: str
    rating: int
    comment: str | None
    created_at: AwareDatetime
    ratings_count: int = Field(description="含本次在内的评价人数")
    rating_average: float | None = Field(description="含本次在内的平均评分（一位小数）")


class RatingEntryView(Answer):
    """``rating_lists.present_rating``: one resident's rating as the staff read it (群众评单, 验收)."""
    rating: int = Field(description="评分 1–5")
    comment: str | None = Field(description="评价内容；未填写或评价人已注销为 null")
    created_at: AwareDatetime
    rater: PersonRef = Field(description="评价人（昵称完整显示；已注销的为“已注销用户”）")


class RatingPage(Answer):
    """``rating_lists.list_*_ratings``: a project's ratings, newest first, at most 20 a page."""
    items: list[RatingEntryView] = Field(description="居民的评价，新的在前")
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")
