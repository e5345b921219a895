"""Success bodies of 微实事 票选 and results (usecases/ballots.py): see responses.py for the rules every model here
follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer


class BallotProjectRef(Answer):
    id: str
    title: str = Field(description="投票时的项目名称")


class BallotReceiptView(Answer):
    """``ballots.present_receipt``: my ballot (回执)."""
    round_id: str
    projects: list[BallotProjectRef] = Field(description="我选择的项目，按我选择的顺序")
    project_ids: list[str]
    cast_at: AwareDatetime = Field(description="投票时间")
    proxy: bool = Field(description="是否由工作人员代办")


class RoundResultProjectView(Answer):
    id: str
    title: str
    category: str
    cost_yuan: int = Field(description="项目预算（元）")


class RoundResultItemView(Answer):
    project: RoundResultProjectView
    votes: int = Field(description="得票数")
    rank: int = Field(description="名次（得票多者在前，同票者先通过审核的在前）")
    selected: bool = Field(description="是否入选（budget 方式按名次在预算内依次入选；approval 方式前 max_choices 名）")


class RoundResultsView(Answer):
    """``ballots.results``: the ranked results, after voting closes."""
    round_id: str
    style: Literal["approval", "budget"] = Field(description="approval 限选数量 · budget 限定预算")
    budget_yuan: int = Field(description="本轮总预算（元）")
    max_choices: int | None = Field(description="approval 方式每人最多选几个；budget 方式为 null")
    turnout: int = Field(description="投票人数")
    selected_yuan: int = Field(description="入选项目的预算合计（元）")
    final: bool = Field(description="结果是否已由系统定稿（定稿后写入各项目）")
    final_at: AwareDatetime | None = Field(description="定稿时间；尚未定稿为 null")
    items: list[RoundResultItemView] = Field(description="已通过审核的全部项目，按名次")
