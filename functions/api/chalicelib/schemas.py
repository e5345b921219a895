"""Request bodies and query strings: each defined once, used to validate and to document (OpenAPI)."""
from __future__ import annotations

import re

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .validation import ApiDatetime, Body, MultiLine, Query, SingleLine

ShortText = Annotated[SingleLine, Field(min_length=1, max_length=20)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class PageQuery(Query):
    limit: int = Field(20, ge=1, le=100, description="每页条数 1–100")
    cursor: str | None = Field(None, max_length=2048, description="上一页返回的 next_cursor")


# --- identity ------------------------------------------------------------------------------------

class LoginBody(Body):
    code: str = Field(min_length=1, max_length=128, description="wx.login() 返回的 code")


# --- the staff console's sessions (扫码登录) ---------------------------------------------------------------------

class ConsoleQrQuery(Query):
    format: Literal["png", "json"] = Field("png", description="png 小程序码（微信给出的图片类型，通常 image/jpeg）· "
                                                               "json {ticket, scene, page, expires_at}")


class DevLoginBody(Body):
    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                      description="演示用户名（与 dev:<name> 登录相同，如 admin、grid1）")


class UpdateMeBody(Body):
    nickname: SingleLine | None = Field(None, min_length=1, max_length=20)
    avatar_url: str | None = Field(None, max_length=512, pattern=r"^https://\S+$")


class JoinCommunityBody(Body):
    invite: str = Field(min_length=4, max_length=256, description="邀请码：码本身（或小程序码的 scene，可带 inv= "
                                                                "前缀），或海报二维码中的整条链接 <QR_LINK_BASE>/i/<码>；"
                                                                "不是本服务的链接答 404 INVITE_INVALID")

    @field_validator("invite")
    @classmethod
    def strip_scene_prefix(cls, value: str) -> str:
        if "/" in value:  # a link: read against QR_LINK_BASE by the use case (domain/links.py)
            if not re.fullmatch(r"\S+", value.strip()):
                raise ValueError("邀请码格式不正确")
            return value.strip()
        code = value.removeprefix("inv=").strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{4,32}", code):
            raise ValueError("邀请码格式不正确")
        return code


class PhoneBody(Body):
    code: str = Field(min_length=1, max_length=128, description="getPhoneNumber 按钮返回的 code")


class VolunteerBody(Body):
    real_name: SingleLine = Field(min_length=2, max_length=20)
    skills: list[Annotated[SingleLine, Field(min_length=1, max_length=10)]] = Field(default_factory=list, max_length=10)


# --- administration --------------------------------------------------------------------------------

class GridBody(Body):
    name: ShortText


class InviteBody(Body):
    grid_id: Id
    valid_days: int = Field(30, ge=1, le=365)


class InviteQrQuery(Query):
    format: Literal["png", "svg", "wxacode", "json"] = Field("png", description="png/svg 印刷用二维码（内容为链接 "
                                                                                "<QR_LINK_BASE>/i/<码>）· wxacode 小程序码"
                                                                                "（JPEG）· json {code, url, scene, valid_until}")


# Every role a list read from GET /v1/me may carry is accepted: ``resident`` follows membership and the operator's
# roles and a unit's liaison are kept as held (usecases/admin.set_roles refuses naming one the member lacks).
AssignableRole = Literal["resident", "volunteer", "party_member", "grid_worker", "admin", "store_keeper",
                         "street_staff", "district_staff", "department_staff", "unit_liaison"]
# One person works a handful of grids or stores; the cap also keeps the role change's transaction (the member,
# the admin, each grid joined or left, each store checked) far below DynamoDB's 100 items.
MAX_SCOPES = 20


class RolesBody(Body):
    roles: list[AssignableRole] = Field(max_length=10)
    grid_ids: list[Id] = Field(default_factory=list, max_length=MAX_SCOPES)
    store_ids: list[Id] = Field(default_factory=list, max_length=MAX_SCOPES)


class MembersQuery(PageQuery):
    """GET /v1/admin/members: the member directory (成员名录)."""
    q: SingleLine | None = Field(None, min_length=1, max_length=20,
                                 description="昵称或姓名的开头（全角/半角、大小写不分），或手机号后四位（的开头）")
    role: AssignableRole | None = Field(None, description="只看有此角色的成员")
    grid_id: Id | None = Field(None, description="只看住在此网格的成员；网格员只能填自己负责的网格，不填为其负责的第一个网格")


def _settings_body() -> type[Body]:
    """PATCH /v1/admin/community: every setting optional, its bounds from ``domain.settings`` (one definition)."""
    from pydantic import create_model
    from tongxin.domain.settings import SETTINGS
    fields = {name: ((bool | None, Field(None, description=s.label)) if s.boolean
                     else (int | None, Field(None, ge=s.low, le=s.high, description=f"{s.label}（默认 {s.default}）")))
              for name, s in SETTINGS.items()}
    model = create_model("CommunitySettingsBody", __base__=Body, __module__=__name__, **fields)

    def changes(self) -> dict:
        """The settings sent (null is not a change: a setting goes back to its default only by sending it)."""
        return {name: getattr(self, name) for name in self.model_fields_set if getattr(self, name) is not None}
    model.changes = changes
    return model


CommunitySettingsBody = _settings_body()


# --- wishes (微心愿) -------------------------------------------------------------------------------

from tongxin.domain import wishes as wish_rules  # noqa: E402  (kept beside the wish schemas it feeds)

WishCategory = Literal["生活帮扶", "助老", "助残", "助学", "医疗健康", "维修", "物资", "其他"]
WishStatusName = Literal["pending_review", "open", "claimed", "fulfilled", "confirmed", "rejected", "cancelled",
                         "expired"]
assert set(WishCategory.__args__) == set(wish_rules.CATEGORIES)


class WishBody(Body):
    title: SingleLine = Field(min_length=1, max_length=wish_rules.TITLE_MAX)
    content: MultiLine = Field(min_length=1, max_length=wish_rules.CONTENT_MAX)
    category: WishCategory
    deadline: ApiDatetime | None = Field(None, description="截止时间：至少 1 小时后，至多一年内")
    contact_phone: str | None = Field(None, pattern=r"^(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})$", description="手机或座机")
    address: SingleLine | None = Field(None, min_length=1, max_length=100)


class WishListQuery(PageQuery):
    status: WishStatusName | None = None
    grid_id: Id | None = None
    category: WishCategory | None = None


class RejectBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=wish_rules.REASON_MAX)


class FulfilBody(Body):
    note: MultiLine = Field(min_length=1, max_length=wish_rules.NOTE_MAX)


class ConfirmBody(Body):
    rating: int = Field(ge=1, le=5)
    comment: MultiLine | None = Field(None, max_length=wish_rules.COMMENT_MAX)


class StatsQuery(Query):
    from_: ApiDatetime | None = Field(None, alias="from")
    to: ApiDatetime | None = None


class AuditQuery(PageQuery):
    from_: ApiDatetime | None = Field(None, alias="from", description="只看此时刻及以后的记录")
    to: ApiDatetime | None = Field(None, description="只看此时刻及以前的记录")


# --- events (活动 / 招募令) -------------------------------------------------------------------------

from tongxin.domain import events as event_rules  # noqa: E402  (kept beside the event schemas it feeds)

EventKind = Literal["activity", "volunteer_service"]
RosterStatus = Literal["signed", "waitlisted", "checked_in", "checked_out", "no_show", "unsettled", "cancelled"]
assert set(RosterStatus.__args__) == set(event_rules.ROSTER_ORDER)


def _float(value):
    # strict mode refuses ints for floats; 30 is as good a latitude as 30.0
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Location(Body):
    address: SingleLine = Field(min_length=1, max_length=event_rules.ADDRESS_MAX)
    lat: float = Field(ge=-90, le=90, description="纬度（GCJ-02，微信定位所用）")
    lng: float = Field(ge=-180, le=180, description="经度")
    radius_m: int = Field(event_rules.RADIUS_DEFAULT, ge=event_rules.RADIUS_MIN, le=event_rules.RADIUS_MAX,
                          description="签到范围（米）")

    _whole_numbers_too = field_validator("lat", "lng", mode="before")(_float)


class EventBody(Body):
    title: SingleLine = Field(min_length=1, max_length=event_rules.TITLE_MAX)
    kind: EventKind
    starts_at: ApiDatetime
    ends_at: ApiDatetime
    signup_deadline: ApiDatetime | None = Field(None, description="报名截止时间，不晚于开始时间；默认为开始时间")
    location: Location | None = None
    capacity: int = Field(ge=1, le=event_rules.CAPACITY_MAX)
    points_per_hour: int = Field(0, ge=0, le=event_rules.POINTS_PER_HOUR_MAX, description="每小时积分（签退后按时长折算）")
    allow_walk_ins: bool = False
    description: MultiLine | None = Field(None, max_length=event_rules.DESCRIPTION_MAX)
    grid_id: Id | None = Field(None, description="所属网格；网格员负责多个网格时必填")
    unit_id: Id | None = Field(None, description="承办的共建单位 id：须与本社区有有效的共建协议（计入其每季度活动次数）")


class EventPatchBody(Body):
    title: SingleLine | None = Field(None, min_length=1, max_length=event_rules.TITLE_MAX)
    description: MultiLine | None = Field(None, max_length=event_rules.DESCRIPTION_MAX)
    starts_at: ApiDatetime | None = None
    ends_at: ApiDatetime | None = None
    signup_deadline: ApiDatetime | None = None
    capacity: int | None = Field(None, ge=1, le=event_rules.CAPACITY_MAX)
    location: Location | None = None
    unit_id: Id | None = Field(None, description="承办的共建单位 id（须与本社区有有效的共建协议，计入其每季度活动次数）；"
                                                 "null 表示不再由共建单位承办；活动结束后不能再改")

    def changes(self) -> dict:
        """The fields sent; ``unit_id: null`` removes the unit, any other null is no change."""
        return {name: getattr(self, name) for name in self.model_fields_set
                if getattr(self, name) is not None or name == "unit_id"}


class EventCancelBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=event_rules.REASON_MAX)


class EventListQuery(PageQuery):
    from_: ApiDatetime | None = Field(None, alias="from", description="开始时间不早于此（默认：现在）")
    to: ApiDatetime | None = Field(None, description="开始时间不晚于此")


class RosterQuery(PageQuery):
    status: RosterStatus | None = None



# --- check-in (签到/签退) ------------------------------------------------------------------------------

class CheckinCodeQuery(Query):
    kind: Literal["rotating", "poster", "wxacode"] = Field("rotating", description="rotating 屏幕动态码（30 秒一换，"
                                                             "60 秒内有效）· poster 打印海报（需定位在范围内）· wxacode 小程序码")
    format: Literal["json", "png", "svg"] = "json"


class CheckinBody(Body):
    code: str = Field(min_length=1, max_length=256, description="签到码（或小程序码的 scene），或二维码中的整条链接 "
                                                              "<QR_LINK_BASE>/c/<码>；不是我们签发的码或链接答 400 "
                                                              "CODE_INVALID")
    lat: float | None = Field(None, ge=-90, le=90, description="扫码时的纬度（海报签到码必填）")
    lng: float | None = Field(None, ge=-180, le=180)

    _whole_numbers_too = field_validator("lat", "lng", mode="before")(_float)


class AdjustBody(Body):
    # No bounds here: outside 0 … min(scheduled, elapsed) is a state conflict (409 ADJUSTMENT_OUT_OF_RANGE), since
    # the bound moves with the clock.
    minutes: int = Field(description="更正后的服务时长（分钟）：0 到 活动计划时长与开始至今已过时长中的较小者")
    reason: MultiLine = Field(min_length=1, max_length=event_rules.REASON_MAX)


class MonthQuery(Query):
    month: str = Field(pattern=r"^20[0-9][0-9]-(0[1-9]|1[0-2])$", description="YYYY-MM（北京时间）")


# --- push (订阅消息) ----------------------------------------------------------------------------------------

class SubscriptionsBody(Body):
    accepted: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        max_length=20, description="wx.requestSubscribeMessage 回调中值为 accept 的模板 id（可重复：同意几次记几次）")


class MessageProblemsQuery(PageQuery):
    status: Literal["failed", "skipped"] = "failed"


# --- requests (接诉即办) --------------------------------------------------------------------------------------

from tongxin.domain import requests as request_rules  # noqa: E402  (kept beside the request schemas it feeds)

RequestCategory = Literal["环境卫生", "设施维修", "邻里纠纷", "治安隐患", "物业服务", "其他"]
assert set(RequestCategory.__args__) == set(request_rules.CATEGORIES)


_UNPAIRED = object()  # marks the coordinate a location lacks while it has the other one
_COORDINATES = {"lat": ("纬度", "lng"), "lng": ("经度", "lat")}  # name → (its name in Chinese, the other one)


class RequestLocation(Body):
    address: SingleLine = Field(min_length=1, max_length=request_rules.ADDRESS_MAX)
    lat: float | None = Field(None, ge=-90, le=90, description="纬度（GCJ-02）；与 lng 同时提供或都不提供")
    lng: float | None = Field(None, ge=-180, le=180, description="经度；与 lat 同时提供或都不提供")

    @model_validator(mode="before")
    @classmethod
    def _coordinates_in_pairs(cls, data):
        """A point needs both coordinates: the one left out (or null) while the other is given is refused under
        its own name (``location.lng``)."""
        if isinstance(data, dict):
            given = [name for name in _COORDINATES if data.get(name) is not None]
            if len(given) == 1:
                data = {**data, _COORDINATES[given[0]][1]: _UNPAIRED}
        return data

    @field_validator("lat", "lng", mode="before")
    @classmethod
    def _coordinate(cls, value, info):
        if value is _UNPAIRED:
            missing, (missing_cn, given) = info.field_name, _COORDINATES[info.field_name]
            raise ValueError(f"提供{_COORDINATES[given][0]} {given} 时必须同时提供{missing_cn} {missing}")
        return _float(value)  # 30 is as good a latitude as 30.0


class RequestBody(Body):
    category: RequestCategory
    content: MultiLine = Field(min_length=1, max_length=request_rules.CONTENT_MAX)
    location: RequestLocation | None = None
    urgent: bool = Field(False, description="紧急：30 分钟内响应（否则 2 小时，按社区设置）")


class ResolveBody(Body):
    note: MultiLine = Field(min_length=1, max_length=request_rules.NOTE_MAX, description="办理结果")


class EscalateBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=request_rules.REASON_MAX, description="吹哨理由")
    department_id: Id | None = Field(None, description="街道吹哨时必填：本街道所在区的区直部门（GET /v1/street/departments）；"
                                                       "网格、社区吹哨时不可填")


class RateBody(Body):
    satisfaction: int = Field(ge=1, le=5, description="1–2 不满意（第一次退回重办），3–5 满意")
    comment: MultiLine | None = Field(None, max_length=request_rules.COMMENT_MAX)


class CommunityRequestsQuery(PageQuery):
    view: Literal["queue", "all"] = Field("queue", description="queue 待社区响应/办理的（最急在前）· all 本社区全部（新在前）")


class RequestStatsQuery(StatsQuery):
    street_id: Id | None = Field(None, description="街道工作人员：统计哪个街道（只负责一个街道时可省略）")
