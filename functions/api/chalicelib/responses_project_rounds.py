"""Success bodies of 微实事 rounds, proposals, review and delivery: see responses.py for the rules every model here
follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef
from .responses_co_projects import MyRatingView

RoundPhase = Literal["proposing", "reviewing", "voting", "publicity", "implementing", "done"]


class ProjectRoundView(Answer):
    """``project_rounds.present_round``: a round in a list. No vote count, ever (results: GET …/results)."""
    id: str
    community_id: str
    title: str
    budget_yuan: int = Field(description="本轮总预算（元）")
    style: Literal["approval", "budget"] = Field(description="approval 赞成票制 · budget 预算制")
    max_choices: int | None = Field(description="赞成票制每票最多可选项目数；预算制为 null")
    proposals_until: AwareDatetime
    voting_from: AwareDatetime
    voting_until: AwareDatetime
    publicity_days: int
    publicity_until: AwareDatetime = Field(description="公示结束时间（投票结束后 publicity_days 天）")
    phase: RoundPhase = Field(description="proposing 征集中 · reviewing 审核中 · voting 投票中 · publicity 公示中 · "
                                          "implementing 实施中 · done 已完成（由日期和实施进度得出）")
    proposed_count: int = Field(description="居民提出的项目数")
    approved_count: int = Field(description="审核通过、进入投票的项目数")
    selected_count: int | None = Field(description="入选项目数；结果产生前为 null")
    done_count: int = Field(description="已完工的入选项目数")
    results_final_at: AwareDatetime | None = Field(description="结果定稿时间；此前为 null")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ProjectRoundDetailView(ProjectRoundView):
    """``project_rounds.get_round``: the round and how many projects I proposed in it."""
    my_proposals: int = Field(description="我在本轮提出的项目数")
    my_proposals_left: int = Field(description="我在本轮还可提出的项目数（每人最多 3 个）")


class ProjectRoundPage(Answer):
    items: list[ProjectRoundView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


class RoundProjectView(Answer):
    """``project_rounds.present_project``: a project in a list. ``votes``/``rank``/``selected`` are null until the
    round's results are final (after voting closes)."""
    id: str
    round_id: str
    community_id: str
    title: str
    description: str
    cost_yuan: int = Field(description="费用（元）：居民提出的，或管理员审核时核定的")
    category: str
    proposer: PersonRef = Field(description="提出人；昵称对其他居民打码，对本社区管理员和本人完整显示")
    status: Literal["proposed", "approved", "rejected"] = Field(description="proposed 待审核 · approved 已通过 · "
                                                                            "rejected 未通过")
    reject_reason: str | None
    reviewed_at: AwareDatetime | None
    approved_at: AwareDatetime | None
    votes: int | None = Field(description="得票数；投票结束、结果定稿前为 null")
    rank: int | None = Field(description="名次；结果定稿前为 null")
    selected: bool | None = Field(description="是否入选；结果定稿前为 null")
    percent: int = Field(description="实施进度 0–100")
    done_at: AwareDatetime | None = Field(description="完工时间；此后居民可验收评价")
    ratings_count: int = Field(description="验收评价人数")
    rating_average: float | None = Field(description="平均评分（一位小数）；尚无评价为 null")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class RoundProjectStepView(Answer):
    at: AwareDatetime
    action: Literal["progress", "completed"] = Field(description="进展 · 完工")
    role: Literal["admin"] = Field(description="社区管理员")
    by: PersonRef = Field(description="记录人；昵称对居民打码，对本社区管理员和本人完整显示")
    percent: int | None
    note: str | None


class RoundProjectDetailView(RoundProjectView):
    """``project_rounds.present_project_detail``: a project with its delivery timeline and my 验收 rating."""
    timeline: list[RoundProjectStepView] = Field(description="实施进展，按时间先后")
    my_rating: MyRatingView | None = Field(description="我的验收评价；未评价为 null")


class RoundProjectPage(Answer):
    items: list[RoundProjectView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")
