"""Request bodies and query strings of posts (三张清单's 岗位/需求清单 and 领岗)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tongxin.domain import posts as post_rules

from .schemas import Id, PageQuery
from .validation import ApiDatetime, Body, MultiLine, SingleLine

PostStatusName = Literal["open", "full", "closed"]
Skill = Annotated[SingleLine, Field(min_length=1, max_length=post_rules.SKILL_MAX)]


class PostBody(Body):
    title: SingleLine = Field(min_length=1, max_length=post_rules.TITLE_MAX,
                              description="岗位名称，如 楼栋长、文明劝导员、政策宣传员")
    description: MultiLine = Field(min_length=1, max_length=post_rules.DESCRIPTION_MAX, description="岗位职责与要求")
    skills: list[Skill] = Field(default_factory=list, max_length=post_rules.SKILLS_MAX,
                                description=f"所需技能，至多 {post_rules.SKILLS_MAX} 项，每项至多 {post_rules.SKILL_MAX} 字")
    headcount: int = Field(ge=post_rules.HEADCOUNT_MIN, le=post_rules.HEADCOUNT_MAX,
                           description=f"名额 {post_rules.HEADCOUNT_MIN}–{post_rules.HEADCOUNT_MAX}")
    due: ApiDatetime | None = Field(None, description="认领截止时间：晚于现在，至多一年内；不填为长期岗位")


class PostListQuery(PageQuery):
    status: PostStatusName | None = Field(None, description="只看某一状态：open 可认领 · full 已满员 · closed 已关闭")
    community_id: Id | None = Field(None, description="共建单位联络员：查看哪个共建社区的岗位（社区成员省略，即本社区）")


class ClaimBody(Body):
    unit_id: Id | None = Field(None, description="共建单位联络员以哪个单位认领（只联络一个单位时可省略）；"
                                                 "填写即以单位身份认领")
