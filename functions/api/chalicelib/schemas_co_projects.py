"""Request bodies and query strings of 共建项目 (co-building projects) and 群众评单 (usecases/co_projects.py)."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from tongxin.domain import co_projects as rules

from .schemas import Id, PageQuery
from .validation import Body, MultiLine, SingleLine

CoProjectStatusName = Literal["planned", "in_progress", "done"]
assert set(CoProjectStatusName.__args__) == set(rules.STATUSES)  # one list: the domain's


def _a_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("不是有效的日期") from None
    return value


class NeedBody(Body):
    post_id: Id | None = Field(None, description="本社区需求/岗位清单中的一项（POST /v1/admin/posts 发布的）")
    text: MultiLine | None = Field(None, min_length=1, max_length=rules.NEED_MAX,
                                   description=f"需求内容（不在清单中的需求，或对所选岗位的补充），≤ {rules.NEED_MAX} 字")


class CoProjectBody(Body):
    title: SingleLine = Field(min_length=1, max_length=rules.TITLE_MAX, description="项目名称，如“周末义诊进社区”")
    need: NeedBody = Field(description="对接的需求：post_id 与 text 至少填一项")
    unit_id: Id = Field(description="承接的共建单位：与本社区有有效的共建协议")
    resource_id: Id | None = Field(None, description="该单位资源清单中的一项（可选）")
    starts_on: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="开始日期 YYYY-MM-DD（北京时间），最早一年前")
    ends_on: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="结束日期 YYYY-MM-DD，不早于开始日期，周期最长 3 年")
    beneficiaries_note: MultiLine = Field(min_length=1, max_length=rules.BENEFICIARIES_MAX,
                                          description="服务对象说明，如“3 栋、5 栋的独居老人”")
    served_grid_ids: list[Id] | None = Field(
        None, max_length=rules.SERVED_GRIDS_MAX,
        description=f"服务的网格（本社区的网格 id，不重复，≤ {rules.SERVED_GRIDS_MAX} 个）：只有住在这些网格的居民可以评价"
                    "（群众评单）；不填或为空表示全社区")

    @field_validator("starts_on", "ends_on")
    @classmethod
    def _dates(cls, value: str) -> str:
        return _a_date(value)


class CoProjectProgressBody(Body):
    note: MultiLine = Field(min_length=1, max_length=rules.NOTE_MAX, description="进展说明")
    percent: int = Field(ge=rules.PERCENT_MIN, le=rules.PERCENT_MAX, description="完成进度 0–100（可更正为更小的值）")


class CoProjectCompleteBody(Body):
    note: MultiLine | None = Field(None, min_length=1, max_length=rules.NOTE_MAX, description="完成说明（可选）")


class CoProjectRatingBody(Body):
    rating: int = Field(ge=rules.RATING_MIN, le=rules.RATING_MAX, description="评分 1–5")
    comment: MultiLine | None = Field(None, min_length=1, max_length=rules.COMMENT_MAX,
                                      description=f"评价内容（可选），≤ {rules.COMMENT_MAX} 字")


class CoProjectListQuery(PageQuery):
    status: CoProjectStatusName | None = Field(None, description="只看某一状态：planned 计划中 · in_progress 进行中 · "
                                                                 "done 已完成")


class RatingPageQuery(PageQuery):
    """GET /v1/admin/co-projects/{project_id}/ratings and GET /v1/projects/{project_id}/ratings: a page holds at most
    20 ratings (a larger limit is served 20 at a time)."""
    limit: int = Field(20, ge=1, le=100, description="每页条数 1–100，每页最多返回 20 条")
