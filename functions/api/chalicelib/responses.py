"""Success bodies as the API answers them: one model per answer shape, used to document it (OpenAPI).

The use cases build plain dicts (their ``present*`` functions); these models state those shapes exactly —
every key always present (``required``), ``null`` only where the value can be missing, no other keys
(``additionalProperties: false``) — and the tests validate real answers against them, so a key added to a
``present*`` function without a line here fails the suite instead of drifting from the document.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Every answer model's name resolves from this module (``openapi.response_model`` looks a route's model up here):
# the shared models and each area's live in their own modules, which never import this one.
from .responses_common import *  # noqa: F401,F403
from .responses_ballots import *  # noqa: F401,F403 (微实事 票选 and results)
from .responses_certificates import *  # noqa: F401,F403 (志愿服务记录证明)
from .responses_co_projects import *  # noqa: F401,F403 (共建项目 and 群众评单)
from .responses_commendations import *  # noqa: F401,F403 (微星光 表彰)
from .responses_corrections import *  # noqa: F401,F403 (志愿服务记录更正)
from .responses_events import *  # noqa: F401,F403 (events and check-ins)
from .responses_party import *  # noqa: F401,F403 (双报到: 党员报到 and 考核)
from .responses_points import *  # noqa: F401,F403
from .responses_posts import *  # noqa: F401,F403 (三张清单's posts, 领岗)
from .responses_project_rounds import *  # noqa: F401,F403 (微实事 rounds, proposals, review, delivery)
from .responses_proxy import *  # noqa: F401,F403 (代办: managed residents, the proxy log)
from .responses_push import *  # noqa: F401,F403
from .responses_requests import *  # noqa: F401,F403 (接诉即办)
from .responses_rollups import *  # noqa: F401,F403 (statistics above communities)
from .responses_service_cards import *  # noqa: F401,F403 (双报到's 服务卡)
from .responses_units import *  # noqa: F401,F403 (共建单位)
from .responses_common import Answer, PersonRef, UserView
from .responses_points import PointsStatsView
from .schemas import WishCategory, WishStatusName


# --- identity ------------------------------------------------------------------------------------

class MeView(UserView):
    """``identity.get_me``: the user plus their community's name."""
    community_name: str | None


class SessionView(Answer):
    """Login, joining a community and volunteer registration answer a (new) token and the user."""
    token: str
    expires_in: int = Field(description="令牌有效期（秒）")
    user: UserView


# --- the staff console's sessions (扫码登录) ---------------------------------------------------------------------

class ConsoleTicketView(Answer):
    """``console.create_ticket``: a one-time login ticket (2 minutes)."""
    ticket: str = Field(description="一次性登录票据（<id>.<secret>）：轮询与取码都要用它，勿外传")
    expires_at: AwareDatetime


class ConsoleTicketCodeView(Answer):
    """``console.ticket_code`` with format=json: what the mini-program code carries."""
    ticket: str
    scene: str = Field(description="小程序码携带的 scene（lg= 加票据的公开 id）")
    page: str = Field(description="扫码打开的小程序页面")
    expires_at: AwareDatetime


class ConsoleSessionView(Answer):
    """A new console session: its CSRF token (send it as X-CSRF-Token on every write) and its end; the session
    itself is the HttpOnly cookie set with this answer."""
    csrf_token: str = Field(description="写操作（POST/PUT/PATCH/DELETE）须放在 X-CSRF-Token 请求头中")
    expires_at: AwareDatetime = Field(description="会话的失效时间（8 小时）")


class ConsoleTicketStatusView(Answer):
    """``console.poll``: the ticket's state; the first poll after the approval carries the new session."""
    status: Literal["waiting", "approved", "expired"] = Field(
        description="waiting 待扫码确认 · approved 已确认（本次答复设置会话 Cookie，仅一次）· expired 已过期或已使用")
    expires_at: AwareDatetime = Field(description="票据的失效时间")
    session: ConsoleSessionView | None


class ConsoleApprovalView(Answer):
    """``console.approve``: the ticket approved by the caller."""
    status: Literal["approved"]


# --- wishes ----------------------------------------------------------------------------------------

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


class MemberView(Answer):
    """``directory.present_member``: a member as the directory shows them to staff."""
    id: str
    nickname: str
    real_name: str | None = Field(description="志愿者注册时填写的真实姓名")
    roles: list[RoleName]
    grid_id: str | None = Field(description="居住的网格")
    grid_ids: list[str] = Field(description="作为网格员负责的网格")
    store_ids: list[str]
    phone: str | None = Field(description="管理员看到完整手机号，网格员看到打码的（138****5678）；未绑定为 null")
    volunteer_minutes: int
    points_balance: int
    joined_at: AwareDatetime = Field(description="加入社区的时间")
    managed: bool = Field(description="代管居民（无微信账号，由工作人员代办，见 POST /v1/admin/managed-residents）")


class MemberPage(Answer):
    items: list[MemberView]
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
    by_month: dict[str, int] = Field(description="按月（北京时间，键为 YYYY-MM）统计区间内当月新建的心愿数，供图表使用；"
                                                 "只列出有心愿的月份，按月份先后排列；各月之和等于 total")


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
