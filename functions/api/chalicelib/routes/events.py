"""活动 routes: publish, list, read, change, cancel, sign up, give up, the roster, my events."""
from chalice import Blueprint

from tongxin.usecases import events
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import EventBody, EventCancelBody, EventListQuery, EventPatchBody, PageQuery, RosterQuery

bp = Blueprint(__name__)
TAGS = ("events",)
# Text the community reads (title, description, a cancellation's reason): WeChat's content check (scene 论坛).
TEXT_ERRORS = ("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE")


@endpoint(bp, "/v1/events", "POST", body=EventBody, status=201, tags=TAGS,
          errors=("NOT_FOUND", "CONFLICT") + TEXT_ERRORS,
          summary="发布活动或招募令（管理员；网格员发布本网格的；标题和说明经微信内容安全检查）", response="EventView")
def publish_event(body: EventBody):
    """An admin (any grid of the community, or none) or a grid worker (a grid they work, theirs by default).
    Publishes an activity or a 招募令 (`volunteer_service`, whose sign-up and check-in need the volunteer or party
    member role). 201 the event. 400 VALIDATION_FAILED naming the field: a start in the past or more than 366
    days ahead, an end not after the start, a sign-up deadline after the start, points per hour above the
    community's cap, an unknown grid; 403 FORBIDDEN for a grid the worker does not work. Title and description
    pass WeChat's content security check (scene 论坛): 400 CONTENT_REJECTED when risky, 409 WECHAT_SESSION_STALE
    when the organiser has not opened the mini-program for 2 h (reopen it, retry), 503 UPSTREAM_UNAVAILABLE when
    WeChat is down. `unit_id` names the co-building unit (共建单位) that runs it — one of the activities its agreement
    pledges a quarter, counted once the event is held (usecases/service_cards.py) — and is shown as `unit: {id,
    name}`: 404 NOT_FOUND naming `unit_id` for a unit that does not exist or has no agreement with the community,
    409 CONFLICT naming it when the agreement has lapsed (checked again in the publication's transaction)."""
    fields = body.model_dump()
    fields["location"] = body.location.model_dump() if body.location else None
    return events.publish(get_container(), current_principal(), **fields)


@endpoint(bp, "/v1/events", "GET", query=EventListQuery, tags=TAGS,
          summary="社区的活动，按开始时间排列（默认从现在起）", response="EventPage")
def list_events(query: EventListQuery):
    """A member of the community. The community's events by start time, from `from` (default now) to `to`,
    each with `signed_count`, `waitlist_count` and the caller's `my_status`."""
    return events.list_community(current_principal(), start=query.from_, end=query.to, limit=query.limit,
                                 cursor=query.cursor)


@endpoint(bp, "/v1/events/{event_id}", "GET", tags=TAGS, errors=("NOT_FOUND",),
          summary="活动详情：已报名、候补人数，我的报名状态和候补顺位", response="EventView")
def get_event(event_id: str):
    """A member of the community. One event with the caller's `my_status` and waitlist `position`, and whether
    the caller may manage it (`can_manage`); another community's event is 404 NOT_FOUND."""
    return events.get(current_principal(), event_id)


@endpoint(bp, "/v1/events/{event_id}", "PATCH", body=EventPatchBody, tags=TAGS,
          errors=("NOT_FOUND", "CONFLICT", "CAPACITY_BELOW_SIGNED", "INVALID_STATE") + TEXT_ERRORS,
          summary="组织者修改活动；增加名额按候补顺序递补，时间变更通知已报名者", response="EventView")
def update_event(event_id: str, body: EventPatchBody):
    """The organiser (its creator while they hold the role, an admin, the grid's workers). Changes title,
    description, times, deadline, capacity, location or the running unit (`unit_id`; null: none) under the same
    rules as publishing. Raising capacity promotes from the waitlist in order; changed times tell everyone signed
    or waiting. 409 CAPACITY_BELOW_SIGNED below the places taken; 409 INVALID_STATE for a cancelled or ended event
    (the unit too: it counts once the event is held). A new `unit_id` must have an agreement in force with the
    community: 404 NOT_FOUND naming `unit_id` (no unit, no agreement), 409 CONFLICT naming it (lapsed; checked again
    in the change's transaction); the unit already named is no change. A new title or description passes
    WeChat's content security check (scene 论坛): 400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE (reopen the
    mini-program, retry), 503 UPSTREAM_UNAVAILABLE."""
    return events.update(get_container(), current_principal(), event_id, body.changes())


@endpoint(bp, "/v1/events/{event_id}/cancel", "POST", body=EventCancelBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE") + TEXT_ERRORS, summary="组织者取消活动，通知所有已报名和候补的人",
          response="EventView")
def cancel_event(event_id: str, body: EventCancelBody):
    """The organiser. Cancels the event with a reason; everyone signed or waiting is told (one fan-out message,
    expanded by the sender). 409 INVALID_STATE when already cancelled or ended. The reason passes WeChat's
    content security check (scene 论坛): 400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503
    UPSTREAM_UNAVAILABLE."""
    return events.cancel(get_container(), current_principal(), event_id, body.reason)


@endpoint(bp, "/v1/events/{event_id}/signup", "POST", status=201, tags=TAGS,
          errors=("NOT_FOUND", "SIGNUP_CLOSED", "ALREADY_SIGNED_UP"),
          summary="报名：有名额即报名成功，否则进入候补（志愿服务仅限志愿者和党员）", response="SignupView")
def sign_up_for_event(event_id: str):
    """A member of the community (a volunteer or party member for `volunteer_service`). Takes a place while
    there is one, else joins the waitlist: 201 {event_id, status: signed|waitlisted, position, event}. 409
    SIGNUP_CLOSED past the deadline, after the start, or when cancelled; 409 ALREADY_SIGNED_UP; 403 FORBIDDEN
    for a 招募令 without the role. Places never exceed capacity, however many sign up at once."""
    return events.sign_up(current_principal(), event_id)


@endpoint(bp, "/v1/events/{event_id}/signup", "DELETE", tags=TAGS,
          errors=("NOT_FOUND", "SIGNUP_CLOSED", "NOT_SIGNED_UP"),
          summary="取消报名（开始前）；空出的名额由第一位候补递补并通知", response="SignupView")
def give_up_place(event_id: str):
    """The person signed up or waiting. Gives the place up (allowed after the deadline, not after the start);
    the first waitlisted takes it and is told. 409 NOT_SIGNED_UP when the caller holds nothing; 409
    SIGNUP_CLOSED after the start or for a cancelled event."""
    return events.give_up(current_principal(), event_id)


@endpoint(bp, "/v1/events/{event_id}/roster", "GET", query=RosterQuery, tags=TAGS, errors=("NOT_FOUND",),
          summary="组织者查看名单：已报名、候补（按顺位）、签到、签退、缺席、未结算、已取消", response="RosterPage")
def event_roster(event_id: str, query: RosterQuery):
    """The organiser. Who is signed (in order of signing), waitlisted (by position), checked in, checked out,
    no-show, unsettled or cancelled, section after section with one Query per page; `status` picks one
    section."""
    return events.roster(current_principal(), event_id, status=query.status, limit=query.limit,
                         cursor=query.cursor)


@endpoint(bp, "/v1/me/events", "GET", query=PageQuery, tags=TAGS,
          summary="我报名的活动：即将开始的在前，然后是已结束的", response="EventPage")
def my_events(query: PageQuery):
    """Any signed-in user. The events I signed up for and did not give up: upcoming first (soonest first),
    then past ones (latest first)."""
    return events.list_mine(current_principal(), limit=query.limit, cursor=query.cursor)
