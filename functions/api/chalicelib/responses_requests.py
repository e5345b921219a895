"""Success bodies of the request area (接诉即办): see responses.py for the rules every model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef
from .schemas import RequestCategory

RequestStatusName = Literal["submitted", "accepted", "escalated", "resolved", "reopened", "closed"]
LevelName = Literal["grid", "community", "street", "department"]
CardName = Literal["none", "yellow", "red"]
Outcome = Literal["satisfied", "unsatisfied", "unrated"]
TaskName = Literal["answer_request", "solve_request"]


class RequestLocationView(Answer):
    address: str | None
    lat: float | None
    lng: float | None


class RequestAuthorView(PersonRef):
    phone: str | None = Field(description="居民的手机号（未绑定为 null）：只有本人和办理人员能看到这条诉求")


class TimelineEntryView(Answer):
    at: AwareDatetime
    action: Literal["submit", "accept", "escalate", "auto_escalate", "mark_late", "mark_overdue", "resolve", "reopen",
                    "close", "close_unrated", "extend", "extension_approved", "extension_rejected", "supervise"]
    action_label: str
    level: LevelName
    level_label: str
    actor: "TimelineActorView | None" = Field(description="操作人；系统（定时任务）为 null")
    note: str | None


class TimelineActorView(PersonRef):
    role: str = Field(description="操作时的身份：resident、grid_worker、admin、street_staff、district_staff、"
                                  "department_staff")


class DepartmentRef(Answer):
    id: str
    name: str


class RequestExtensionView(Answer):
    """A pending 延期: asked by the current level's handler, for the level above to approve or reject."""
    level: LevelName
    days: int
    reason: str
    asked_by: PersonRef
    asked_at: AwareDatetime


class RequestView(Answer):
    """``requests.reading.present``: a request in a list."""
    id: str
    category: RequestCategory
    content: str
    location: RequestLocationView | None
    urgent: bool
    status: RequestStatusName
    status_label: str
    outcome: Outcome | None = Field(description="关闭时的结果：满意、不满意、未评价")
    level: LevelName = Field(description="当前层级：网格 → 社区 → 街道 → 区直部门")
    level_label: str
    levels_reached: list[LevelName]
    community_id: str
    grid_id: str | None
    author: RequestAuthorView
    handler: PersonRef | None = Field(description="当前层级响应/办理的人")
    answer_due: AwareDatetime | None = Field(description="当前层级的响应时限（待响应时）")
    solve_due: AwareDatetime | None = Field(description="当前层级的办结时限（办理中）")
    answer_minutes: int = Field(description="响应时限的长度（分钟；紧急诉求按紧急时限）：answer_due 是到达当前层级的时刻加上它")
    solve_minutes: int = Field(description="办结时限的长度（分钟）：solve_due 是到达当前层级（或被重新打开）的时刻加上它")
    late: bool = Field(description="曾超时未响应")
    overdue: bool = Field(description="曾超时未办结")
    reopened: bool
    resolve_note: str | None
    rating: int | None
    comment: str | None
    created_at: AwareDatetime
    first_answered_at: AwareDatetime | None
    resolved_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    street_id: str | None = Field(description="提交时社区所属的街道（吹哨到街道的去向）")
    district_id: str | None = Field(description="提交时街道所属的区（街道吹哨到区直部门的去向）")
    department: DepartmentRef | None = Field(description="街道吹哨到的区直部门（到达部门层级后）")
    card: CardName = Field(description="red：超过当前办结时限仍未办结，或曾超时未办结；yellow：曾超时未响应或被督办；"
                                       "none：其他")
    supervised: bool = Field(description="曾被上级督办")
    extension: RequestExtensionView | None = Field(description="当前层级待上一级审批的延期申请；没有则为 null")
    extensions_used: list[LevelName] = Field(description="已申请过延期的层级（每个层级只能申请一次）")


class RequestDetailView(RequestView):
    """A request with its whole timeline: every step, who (and in which role), when, what, with what note."""
    timeline: list[TimelineEntryView]


class RequestPage(Answer):
    items: list[RequestView]
    next_cursor: str | None


class RequestTaskView(Answer):
    """A request on a handler's list, with what its level must do (null once resolved or closed)."""
    task: TaskName | None
    request: RequestView


class RequestTaskPage(Answer):
    items: list[RequestTaskView]
    next_cursor: str | None


class RequestRatesView(Answer):
    received: int
    answered: int
    answered_on_time: int
    late: int
    escalated: int
    resolved: int
    overdue: int
    reopened: int
    satisfied: int
    unsatisfied: int
    unrated: int
    response_rate: float | None = Field(description="响应率：首次响应已见分晓的诉求中按时响应的比例")
    resolution_rate: float | None = Field(description="解决率：收到的诉求中已办结的比例")
    satisfaction_rate: float | None = Field(description="满意率：评价关闭的诉求中满意的比例")


class RequestCommunityRatesView(RequestRatesView):
    community_id: str
    name: str | None


class RequestStatsView(RequestRatesView):
    scope: Literal["community", "street"]
    community_id: str | None = Field(description="scope=community 时；否则 null")
    street_id: str | None = Field(description="scope=street 时；否则 null")
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    median_minutes_to_answer: float | None
    median_hours_to_resolve: float | None
    by_category: dict[str, RequestRatesView]
    by_grid: dict[str, RequestRatesView] | None = Field(description="scope=community：各网格；否则 null")
    by_community: list[RequestCommunityRatesView] | None = Field(description="scope=street：各社区；否则 null")
    by_month: dict[str, RequestRatesView] = Field(
        description="按月（北京时间，键为 YYYY-MM）统计区间内当月提交的诉求：收到数、各项计数和三率，供图表使用；"
                    "只列出有诉求的月份，按月份先后排列（scope=community 为本社区，scope=street 为全街道）")


class StreetDepartmentsView(Answer):
    """The departments a street's 吹哨 may go to: those of its district, by name."""
    street_id: str
    district_id: str | None = Field(description="街道所属的区；尚未归属区时为 null（items 为空）")
    items: list[DepartmentRef]
