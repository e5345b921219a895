"""Success bodies of the events and check-in areas (活动, 签到/签退): see responses.py for the rules every model
here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef
from .schemas import EventKind, RosterStatus

# --- events ----------------------------------------------------------------------------------------

class LocationView(Answer):
    address: str | None
    lat: float
    lng: float
    radius_m: int


class EventUnitRef(Answer):
    """The co-building unit (共建单位) that runs an event: its name as it was when the event was published."""
    id: str
    name: str


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
    unit: EventUnitRef | None = Field(description="承办的共建单位（计入其协议的每季度活动次数）；没有为 null")
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
    attendance_id: str = Field(description="这条记录的编号（<event_id>.<user_id>）：申请更正时填写")
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
