"""Success bodies of posts (三张清单's 岗位/需求清单 and 领岗): see responses.py for the rules every model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef

PostStatus = Literal["open", "full", "closed"]


class PostView(Answer):
    """``posts.present``: a post in a list or as a change answers it."""
    id: str
    community_id: str
    title: str
    description: str
    skills: list[str]
    headcount: int = Field(description="名额")
    claimed_count: int = Field(description="已认领人数")
    places_left: int = Field(description="剩余名额")
    status: PostStatus = Field(description="open 可认领 · full 已满员 · closed 已关闭")
    due: AwareDatetime | None = Field(description="认领截止时间；null 为长期岗位")
    past_due: bool = Field(description="已过截止时间（不能再认领或退出）")
    created_by: PersonRef
    created_at: AwareDatetime
    mine: bool = Field(description="我是否认领了这个岗位")


class PostClaimantView(Answer):
    user: PersonRef = Field(description="认领人；昵称对社区成员打码，对本社区管理员和本人完整显示")
    role: Literal["party_member", "unit_liaison"] = Field(description="以党员或共建单位联络员身份认领")
    unit_id: str | None = Field(description="以单位身份认领时的单位")
    claimed_at: AwareDatetime


class PostDetailView(PostView):
    """``posts.get``: a post with its claimants, earliest first."""
    claimants: list[PostClaimantView]


class PostPage(Answer):
    items: list[PostView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")
