"""Request bodies and query strings of 微实事 rounds, proposals, review and delivery (usecases/project_rounds.py,
usecases/round_delivery.py)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from tongxin.domain import project_rounds as rules

from .schemas import PageQuery
from .validation import ApiDatetime, Body, MultiLine, SingleLine

RoundStyle = Literal["approval", "budget"]
RoundProjectStatusName = Literal["proposed", "approved", "rejected"]
RoundProjectCategory = Literal["环境美化", "设施维修", "便民服务", "文体活动", "关爱帮扶", "平安建设", "其他"]
# One list each: the domain's.
assert set(RoundStyle.__args__) == set(rules.STYLES)
assert set(RoundProjectStatusName.__args__) == set(rules.STATUSES)
assert RoundProjectCategory.__args__ == rules.CATEGORIES


class ProjectRoundBody(Body):
    title: SingleLine = Field(min_length=1, max_length=rules.TITLE_MAX, description="轮次名称，如“2027 年第一季度微实事”")
    budget_yuan: int = Field(ge=rules.BUDGET_MIN, le=rules.BUDGET_MAX, description="本轮总预算（元，整数）")
    style: RoundStyle = Field(description="approval 赞成票制（每票最多选 max_choices 个项目）· budget 预算制（所选项目的预算合计不超过总预算）")
    max_choices: int | None = Field(None, description="赞成票制必填：每张选票最多可选的项目数 1–10；预算制不填")
    proposals_until: ApiDatetime = Field(description="项目征集截止时间（须晚于现在）")
    voting_from: ApiDatetime = Field(description="投票开始时间（不早于征集截止时间）；此前管理员审核项目")
    voting_until: ApiDatetime = Field(description="投票结束时间（晚于投票开始时间）；此后公布结果")
    publicity_days: int = Field(ge=rules.PUBLICITY_DAYS_MIN, le=rules.PUBLICITY_DAYS_MAX,
                                description="结果公示天数 0–30，公示结束后开始实施")


class RoundProjectBody(Body):
    title: SingleLine = Field(min_length=1, max_length=rules.TITLE_MAX, description="项目名称，如“3 栋楼道加装扶手”")
    description: MultiLine = Field(min_length=1, max_length=rules.DESCRIPTION_MAX,
                                   description=f"项目说明（做什么、为谁、在哪里），≤ {rules.DESCRIPTION_MAX} 字")
    cost_yuan: int = Field(ge=1, le=rules.BUDGET_MAX, description="预计费用（元，整数），不超过本轮总预算")
    category: RoundProjectCategory = Field(description="项目类别")


class ApproveProjectBody(Body):
    cost_yuan: int | None = Field(None, ge=1, le=rules.BUDGET_MAX,
                                  description="核定的费用（元，可选）：不填则沿用居民提出的费用；不超过本轮总预算")


class RejectProjectBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=rules.REASON_MAX, description="未通过的原因（提出人可见）")


class RoundProgressBody(Body):
    note: MultiLine = Field(min_length=1, max_length=rules.NOTE_MAX, description="实施进展说明")
    percent: int = Field(ge=rules.PERCENT_MIN, le=rules.PERCENT_MAX,
                         description="完成进度 0–100（可更正为更小的值）；100 即完工，居民可验收评价")


class RoundRatingBody(Body):
    rating: int = Field(ge=rules.RATING_MIN, le=rules.RATING_MAX, description="验收评分 1–5")
    comment: MultiLine | None = Field(None, min_length=1, max_length=rules.COMMENT_MAX,
                                      description=f"评价内容（可选），≤ {rules.COMMENT_MAX} 字")


class RoundProjectListQuery(PageQuery):
    status: RoundProjectStatusName | None = Field(
        None, description="社区管理员：只看某一状态（proposed 待审核 · approved 已通过 · rejected 未通过），不填看全部；"
                          "居民只能看 approved（默认）")
    mine: bool = Field(False, description="true：只看我提出的项目（任何状态）")
