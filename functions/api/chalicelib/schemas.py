"""Request bodies and query strings: each defined once, used to validate and to document (OpenAPI)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, field_validator

from .validation import Body, Query

ShortText = Annotated[str, Field(min_length=1, max_length=20)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class PageQuery(Query):
    limit: int = Field(20, ge=1, le=100, description="每页条数 1–100")
    cursor: str | None = Field(None, max_length=2048, description="上一页返回的 next_cursor")


# --- identity ------------------------------------------------------------------------------------

class LoginBody(Body):
    code: str = Field(min_length=1, max_length=128, description="wx.login() 返回的 code")


class UpdateMeBody(Body):
    nickname: str | None = Field(None, min_length=1, max_length=20)
    avatar_url: str | None = Field(None, max_length=512, pattern=r"^https://\S+$")


class JoinCommunityBody(Body):
    invite: str = Field(min_length=4, max_length=36, description="邀请码（海报二维码的 scene，可带 inv= 前缀）")

    @field_validator("invite")
    @classmethod
    def strip_scene_prefix(cls, value: str) -> str:
        return value.removeprefix("inv=").upper()


class PhoneBody(Body):
    code: str = Field(min_length=1, max_length=128, description="getPhoneNumber 按钮返回的 code")


class VolunteerBody(Body):
    real_name: str = Field(min_length=2, max_length=20)
    skills: list[Annotated[str, Field(min_length=1, max_length=10)]] = Field(default_factory=list, max_length=10)


# --- administration --------------------------------------------------------------------------------

class GridBody(Body):
    name: ShortText


class InviteBody(Body):
    grid_id: Id
    valid_days: int = Field(30, ge=1, le=365)


class InviteQrQuery(Query):
    format: Literal["png", "svg", "wxacode"] = "png"


AssignableRole = Literal["volunteer", "party_member", "grid_worker", "admin", "store_keeper"]


class RolesBody(Body):
    roles: list[AssignableRole] = Field(max_length=5)
    grid_ids: list[Id] = Field(default_factory=list, max_length=50)
    store_ids: list[Id] = Field(default_factory=list, max_length=50)


# --- wishes (微心愿) -------------------------------------------------------------------------------

from tongxin.domain import wishes as wish_rules  # noqa: E402  (kept beside the wish schemas it feeds)

WishCategory = Literal["生活帮扶", "助老", "助残", "助学", "医疗健康", "维修", "物资", "其他"]
WishStatusName = Literal["pending_review", "open", "claimed", "fulfilled", "confirmed", "rejected", "cancelled",
                         "expired"]
assert set(WishCategory.__args__) == set(wish_rules.CATEGORIES)


class WishBody(Body):
    title: str = Field(min_length=1, max_length=wish_rules.TITLE_MAX)
    content: str = Field(min_length=1, max_length=wish_rules.CONTENT_MAX)
    category: WishCategory
    deadline: AwareDatetime | None = None
    contact_phone: str | None = Field(None, pattern=r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", description="手机或座机")
    address: str | None = Field(None, min_length=1, max_length=100)


class WishListQuery(PageQuery):
    status: WishStatusName | None = None
    grid_id: str | None = Field(None, max_length=64)
    category: WishCategory | None = None


class RejectBody(Body):
    reason: str = Field(min_length=1, max_length=wish_rules.REASON_MAX)


class FulfilBody(Body):
    note: str = Field(min_length=1, max_length=wish_rules.NOTE_MAX)


class ConfirmBody(Body):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=wish_rules.COMMENT_MAX)


class StatsQuery(Query):
    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None
