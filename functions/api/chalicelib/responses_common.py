"""The answer models that every area's module names: the base ``Answer``, ``RoleName``, ``PersonRef`` (a person in
another's answer) and ``UserView`` (the user as shown to themself, also in a unit's liaison list).

responses.py and each responses_<area>.py import these; this module imports none of them (one home each, no
circle). See responses.py for the rules every model follows.
"""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

RoleName = Literal["resident", "volunteer", "party_member", "grid_worker", "admin", "store_keeper", "street_staff",
                   "district_staff", "department_staff", "unit_liaison"]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LatestCommendationView(Answer):
    """``commendations.present_latest``: the newest standing 微星光 commendation, on the person's profile."""
    id: str
    title: str
    period: str = Field(description="表彰期次：YYYY-MM 或 YYYY")
    created_at: AwareDatetime


class UserView(Answer):
    """``identity.present_user``: the user as shown to themself (phone masked)."""
    id: str
    nickname: str
    avatar_url: str | None
    roles: list[RoleName]
    community_id: str | None
    grid_id: str | None
    grid_ids: list[str]
    store_ids: list[str]
    street_ids: list[str] = Field(description="街道工作人员负责的街道（由平台运营方指定）")
    district_ids: list[str] = Field(description="区里的工作人员负责的区（由平台运营方指定）")
    department_ids: list[str] = Field(description="区直部门工作人员所在的部门（由平台运营方指定）")
    unit_ids: list[str] = Field(description="共建单位联络员所联络的单位（由街道邀请）")
    phone: str | None = Field(description="打码后的手机号，如 138****5678；未绑定为 null")
    phone_bound: bool
    points_balance: int
    earned_total: int
    volunteer_minutes: int
    is_volunteer: bool
    skills: list[str]
    created_at: AwareDatetime
    commendations_count: int = Field(description="微星光：获得的表彰数（未撤销）")
    latest_commendation: LatestCommendationView | None = Field(description="微星光：最新一项表彰；没有为 null")


class PersonRef(Answer):
    id: str
    nickname: str
