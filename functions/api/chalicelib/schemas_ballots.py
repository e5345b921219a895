"""Request bodies of 微实事 票选 (ballots: usecases/ballots.py)."""
from __future__ import annotations

from pydantic import Field

from tongxin.domain import ballots as rules

from .schemas import Id
from .validation import Body


class BallotBody(Body):
    project_ids: list[Id] = Field(min_length=1, max_length=rules.MAX_CHOICES_ANY,
                                  description="所选项目（本轮已通过审核的项目），不可重复；approval 方式最多 max_choices 个，"
                                              "budget 方式预算合计不超过本轮总预算")
