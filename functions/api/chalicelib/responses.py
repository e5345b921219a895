"""Success bodies as the API answers them: one model per answer shape, used to document it (OpenAPI).

The use cases build plain dicts (their ``present*`` functions); these models state those shapes exactly —
every key always present (``required``), ``null`` only where the value can be missing, no other keys
(``additionalProperties: false``) — and the tests validate real answers against them, so a key added to a
``present*`` function without a line here fails the suite instead of drifting from the document.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .schemas import EventKind, RosterStatus, WishCategory, WishStatusName

RoleName = Literal["resident", "volunteer", "party_member", "grid_worker", "admin", "store_keeper", "street_staff"]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- identity ------------------------------------------------------------------------------------

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
    phone: str | None = Field(description="打码后的手机号，如 138****5678；未绑定为 null")
    phone_bound: bool
    points_balance: int
    earned_total: int
    volunteer_minutes: int
    is_volunteer: bool
    skills: list[str]
    created_at: AwareDatetime


class MeView(UserView):
    """``identity.get_me``: the user plus their community's name."""
    community_name: str | None


class SessionView(Answer):
    """Login, joining a community and volunteer registration answer a (new) token and the user."""
    token: str
    expires_in: int = Field(description="令牌有效期（秒）")
    user: UserView


# --- wishes ----------------------------------------------------------------------------------------

class PersonRef(Answer):
    id: str
    nickname: str


class WishView(Answer):
    """``wishes.present``: contact and address in full only when ``contact_visible``, else masked."""
    id: str
    title: str
    content: str
    category: WishCategory
    status: WishStatusName
    status_label: str
    grid_id: str | None
    author: PersonRef
    claimer: PersonRef | None
    contact_phone: str | None
    address: str | None
    contact_visible: bool
    deadline: AwareDatetime | None
    created_at: AwareDatetime
    published_at: AwareDatetime | None
    claimed_at: AwareDatetime | None
    fulfilled_at: AwareDatetime | None
    fulfil_note: str | None
    confirmed_at: AwareDatetime | None
    rating: int | None
    comment: str | None
    points_awarded: int | None
    reject_reason: str | None
    escalated: bool
    escalated_at: AwareDatetime | None


class WishPage(Answer):
    items: list[WishView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


class GridTaskView(WishView):
    """A wish on the grid worker's task list, with why it is there."""
    task: Literal["review", "overdue"]


class SettleTaskView(Answer):
    """A check-in left open past the check-out window, for the grid's worker to settle."""
    task: Literal["settle_checkin"]
    event: "RecordEventView"
    attendance: "AttendanceView"


class GridTaskPage(Answer):
    items: list["GridTaskView | SettleTaskView | RequestTaskView"]
    next_cursor: str | None


# --- administration --------------------------------------------------------------------------------

class GridView(Answer):
    id: str
    name: str
    worker_count: int


class GridPage(Answer):
    items: list[GridView]
    next_cursor: str | None


class InviteView(Answer):
    code: str
    grid_id: str
    scene: str = Field(description="小程序码携带的 scene（inv= 加邀请码）")
    url: str = Field(description="印刷二维码携带的链接 <QR_LINK_BASE>/i/<code>（普通链接二维码：微信扫一扫即打开小程序的加入页）")
    expires_at: AwareDatetime


class InviteCodeView(Answer):
    code: str = Field(description="邀请码")
    url: str = Field(description="二维码携带的链接 <QR_LINK_BASE>/i/<code>")
    scene: str = Field(description="小程序码携带的 scene（inv= 加邀请码）")
    valid_until: AwareDatetime = Field(description="邀请码的失效时间")


class WishStatsView(Answer):
    total: int
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_grid: dict[str, int] = Field(description="按网格计数；没有网格的心愿计在 \"-\"")
    published: int
    fulfilled: int
    fulfilment_rate: float | None = Field(description="完成数 / 公开数；没有公开的心愿时为 null")
    median_hours_to_claim: float | None
    median_hours_to_confirm: float | None


class EventStatsView(Answer):
    """Events published in the window (``cancelled`` ones take their places and sign-ups out of the totals)."""
    published: int
    cancelled: int
    capacity: int = Field(description="未取消活动的名额总数")
    signed: int = Field(description="未取消活动的已报名人数（含递补）")
    signups: int = Field(description="报名次数（含进入候补）")
    waitlisted: int = Field(description="进入候补的次数")
    promotions: int = Field(description="候补递补次数")
    left: int = Field(description="取消报名次数")
    fill_rate: float | None = Field(description="已报名 / 名额；没有名额时为 null")
    checked_in: int = Field(description="签到人次（含现场报名）")
    walk_ins: int
    no_show: int = Field(description="报名未到（活动结束 2 小时后统计）")
    unsettled: int = Field(description="签到后未签退、尚未补录的人次")
    attendance_rate: float | None = Field(description="签到 / 已报名")
    no_show_rate: float | None = Field(description="缺席 / 已报名")
    adjustments: int = Field(description="组织者补录/更正服务时长的次数（每次都在 GET /v1/admin/audit 留痕）")
    adjusted_minutes: int = Field(description="补录/更正净增的服务分钟数（可为负）")
    adjusted_points: int = Field(description="补录/更正净增的积分（可为负）")


class SettingField(Answer):
    name: str
    label: str
    kind: Literal["boolean", "integer"]
    default: bool | int
    min: int | None
    max: int | None


class CommunityView(Answer):
    """``community.present``: the community and every setting in force."""
    id: str
    name: str
    street_id: str | None
    created_at: AwareDatetime | None
    settings: dict[str, bool | int] = Field(description="每项设置的当前值（未设置的为默认值）")
    fields: list[SettingField] = Field(description="每项设置的说明、默认值与取值范围")


class AuditTargetRef(Answer):
    id: str
    title: str | None


class AuditEntryView(Answer):
    """``audit.present``: one audited act (留痕)."""
    id: str
    kind: Literal["attendance_adjusted"] = Field(description="attendance_adjusted：服务时长补录/更正")
    at: AwareDatetime
    actor: PersonRef = Field(description="谁做的")
    subject: PersonRef = Field(description="为谁（谁的记录被更改）")
    target: AuditTargetRef | None = Field(description="涉及的活动")
    before: dict[str, Any] | None = Field(description="更改前：status, minutes, points")
    after: dict[str, Any] | None = Field(description="更改后：status, minutes, points")
    reason: str | None


class AuditPage(Answer):
    items: list[AuditEntryView]
    next_cursor: str | None


class VolunteerHoursView(Answer):
    by_month: dict[str, int] = Field(description="按签到月份（北京时间）计的志愿服务分钟数")
    total_minutes: int


# The points and push areas' answers live in their own modules (imported here: its models need Answer and PersonRef above,
# and StatsView below needs its PointsStatsView); every name resolves from this module, as openapi.py expects.
from .responses_points import *  # noqa: E402,F401,F403
from .responses_points import PointsStatsView  # noqa: E402
from .responses_push import *  # noqa: E402,F401,F403
from .responses_requests import *  # noqa: E402,F401,F403


class StatsView(Answer):
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    wishes: WishStatsView
    events: EventStatsView
    volunteer_hours: VolunteerHoursView
    points: PointsStatsView


# --- system ----------------------------------------------------------------------------------------

class HealthView(Answer):
    status: Literal["ok"]


class OpenApiView(BaseModel):
    """The document itself (its own shape is the OpenAPI 3.1 specification's)."""
    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


# --- events ----------------------------------------------------------------------------------------

class LocationView(Answer):
    address: str | None
    lat: float
    lng: float
    radius_m: int


class EventView(Answer):
    """``events.present``: counts as they stand, and the caller's own sign-up."""
    id: str
    title: str
    kind: EventKind
    description: str | None
    status: Literal["open", "closed", "ongoing", "ended", "cancelled"] = Field(
        description="open 报名中 · closed 报名截止 · ongoing 进行中 · ended 已结束 · cancelled 已取消")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    signup_deadline: AwareDatetime
    location: LocationView | None
    capacity: int
    signed_count: int
    waitlist_count: int
    points_per_hour: int
    allow_walk_ins: bool
    grid_id: str | None
    organiser: PersonRef
    cancel_reason: str | None
    cancelled_at: AwareDatetime | None
    created_at: AwareDatetime
    my_status: Literal["none", "signed", "waitlisted", "checked_in", "checked_out", "no_show", "unsettled",
                       "cancelled"]
    position: int | None = Field(description="我的候补顺位（1 = 下一个递补）；仅在详情中且候补时给出")
    can_manage: bool = Field(description="我是否是组织者（发布者、管理员、本网格网格员）")


class EventPage(Answer):
    items: list[EventView]
    next_cursor: str | None


class SignupView(Answer):
    event_id: str
    status: Literal["signed", "waitlisted", "cancelled"]
    position: int | None = Field(description="候补顺位，报名即候补时给出")
    event: EventView


class RosterEntryView(Answer):
    user: PersonRef
    status: RosterStatus
    position: int | None
    signed_at: AwareDatetime | None
    updated_at: AwareDatetime
    checked_in_at: AwareDatetime | None
    checked_out_at: AwareDatetime | None
    minutes: int | None = Field(description="计入的服务时长（分钟），签退或补录后给出")
    points: int | None
    walk_in: bool = Field(description="现场扫码报名（未提前报名）")


class RosterPage(Answer):
    items: list[RosterEntryView]
    next_cursor: str | None



# --- check-in ----------------------------------------------------------------------------------------

class CheckinCodeView(Answer):
    code: str = Field(description="签到码（≤ 32 个字符），也是小程序码的 scene")
    url: str = Field(description="png/svg 二维码携带的链接 <QR_LINK_BASE>/c/<code>（普通链接二维码：微信扫一扫即打开签到页）")
    kind: Literal["rotating", "poster", "wxacode"]
    valid_until: AwareDatetime | None = Field(description="动态码的失效时间；海报码为 null")


class AdjustmentView(Answer):
    by: PersonRef
    at: AwareDatetime
    minutes_before: int
    minutes_after: int
    points_before: int
    points_after: int
    reason: str


class AttendanceView(Answer):
    """``checkins.attendance.present``."""
    event_id: str
    user: PersonRef
    status: Literal["checked_in", "checked_out", "unsettled", "no_show"]
    checked_in_at: AwareDatetime | None
    checked_out_at: AwareDatetime | None
    minutes: int | None
    points: int | None
    walk_in: bool
    adjustments: list[AdjustmentView] = Field(description="每次补录/更正：谁、何时、前后时长与积分、理由")


class ScanView(Answer):
    action: Literal["check_in", "check_out"]
    attendance: AttendanceView


class RecordEventView(Answer):
    id: str
    title: str | None
    kind: EventKind | None
    address: str | None
    starts_at: AwareDatetime | None
    ends_at: AwareDatetime | None
    organiser: PersonRef


class RecordItemView(AttendanceView):
    event: RecordEventView


class RecordTotals(Answer):
    minutes: int
    points: int
    count: int = Field(description="计入时长（大于 0 分钟）的服务次数")


class RecordTotalsView(Answer):
    all_time: RecordTotals
    this_year: RecordTotals


class VolunteerRecordView(Answer):
    """志愿服务记录 (民政部令第67号: name, content, place, time and duration, organiser)."""
    totals: RecordTotalsView
    items: list[RecordItemView]
    next_cursor: str | None
