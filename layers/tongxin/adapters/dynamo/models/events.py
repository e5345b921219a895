"""Events (活动 / 招募令) and their sign-ups (报名), with one index per list they serve."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class EventsByCommunity(GlobalSecondaryIndex):
    """The community's events by start time (GET /v1/events?from=&to=)."""
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    community_id = UnicodeAttribute(hash_key=True)
    starts_at = UTCDateTimeAttribute(range_key=True)


class EventsByDue(GlobalSecondaryIndex):
    """Sparse: events with a pending scheduled step (the 24 h reminder, a waitlist left to fill), sharded."""
    class Meta:
        index_name = "by_due"
        projection = AllProjection()
    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class EventModel(BaseModel):
    """An event. ``signed_count`` and ``waitlist_count`` are kept exact by the transactions that change the
    sign-ups; ``waitlist_seq`` is the last waitlist ticket issued (positions are tickets, in order)."""
    TABLE = "events"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "events"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    grid_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    kind = UnicodeAttribute()  # activity | volunteer_service
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="open")  # open | cancelled (the rest follows from the times)
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    signup_deadline = UTCDateTimeAttribute(null=True)
    # min(signup_deadline, starts_at): a sign-up's condition is ``signup_closes_at > now``.
    signup_closes_at = UTCDateTimeAttribute(null=True)
    location = JSONAttribute(null=True)
    capacity = NumberAttribute()
    signed_count = NumberAttribute(default=0)
    waitlist_count = NumberAttribute(default=0)
    waitlist_seq = NumberAttribute(default=0)
    promotions = NumberAttribute(default=0)
    # Tickets that left the waitlist by giving up (promotions are counted above): with ``promotions``, the
    # departures a new ticket's position is counted from (usecases/events/signups.take_ticket).
    waitlist_left = NumberAttribute(null=True)
    points_per_hour = NumberAttribute(default=0)
    allow_walk_ins = BooleanAttribute(default=False)
    organiser_id = UnicodeAttribute()
    organiser_nickname = UnicodeAttribute(null=True)
    # The co-building unit that runs it (共建单位, its pledged activities: usecases/service_cards.py), its name as it
    # was when published (a list shows it with no read of the unit).
    unit_id = UnicodeAttribute(null=True)
    unit_name = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    reminded_for = UTCDateTimeAttribute(null=True)  # the start time the 24 h reminder was sent for
    closed_at = UTCDateTimeAttribute(null=True)  # attendance closed (2 h after the end): no-shows, unsettled
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)

    by_community = EventsByCommunity()
    by_due = EventsByDue()


class SignupsByUser(GlobalSecondaryIndex):
    """A user's sign-ups by the event's start (GET /v1/me/events). Sparse: a cancelled sign-up drops out."""
    class Meta:
        index_name = "by_user"
        projection = AllProjection()
    mine_key = UnicodeAttribute(hash_key=True)  # the user id, while the sign-up stands
    event_starts_at = UTCDateTimeAttribute(range_key=True)


class SignupsByRoster(GlobalSecondaryIndex):
    """One event's sign-ups of one status, in order (``<event>#<status>``): the roster's sections, and the
    waitlist by position — the first to promote is the first item."""
    class Meta:
        index_name = "by_roster"
        projection = AllProjection()
    roster_key = UnicodeAttribute(hash_key=True)
    roster_order = NumberAttribute(range_key=True)


class SignupsByAttendee(GlobalSecondaryIndex):
    """Sparse: a user's attendances (checked in at least once), newest first: the 志愿服务记录."""
    class Meta:
        index_name = "by_attendee"
        projection = AllProjection()
    attendee_key = UnicodeAttribute(hash_key=True)
    attended_at = UTCDateTimeAttribute(range_key=True)


class SignupsByMonth(GlobalSecondaryIndex):
    """Sparse: a community's attendances by the month (Asia/Shanghai) of check-in: the monthly hours export."""
    class Meta:
        index_name = "by_month"
        projection = AllProjection()
    month_key = UnicodeAttribute(hash_key=True)  # <community>#YYYY-MM
    attended_at = UTCDateTimeAttribute(range_key=True)


class SignupsBySettleTask(GlobalSecondaryIndex):
    """Sparse: unsettled attendances (a check-out forgotten) of a grid's events, for its workers to settle."""
    class Meta:
        index_name = "by_settle_task"
        projection = AllProjection()
    settle_task = UnicodeAttribute(hash_key=True)  # <community>#<grid>
    attended_at = UTCDateTimeAttribute(range_key=True)


class SignupsByEvent(GlobalSecondaryIndex):
    """The whole roster of an event, section after section (``roster_sort``): the organiser's default view."""
    class Meta:
        index_name = "by_event"
        projection = AllProjection()
    event_id = UnicodeAttribute(hash_key=True)
    roster_sort = UnicodeAttribute(range_key=True)


class SignupModel(BaseModel):
    """One user's sign-up for one event and, once they scan, their attendance (签到/签退):
    signed | waitlisted | cancelled | checked_in | checked_out | unsettled | no_show."""
    TABLE = "signups"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "signups"

    event_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    community_id = UnicodeAttribute()
    status = UnicodeAttribute()
    position = NumberAttribute(null=True)  # the waitlist ticket, while waitlisted
    nickname = UnicodeAttribute(null=True)  # as it was at sign-up: a roster page needs no read of users
    event_starts_at = UTCDateTimeAttribute()
    roster_key = UnicodeAttribute()
    roster_order = NumberAttribute()
    roster_sort = UnicodeAttribute(null=True)
    mine_key = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    signed_at = UTCDateTimeAttribute(null=True)
    promoted_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    # Attendance. What a 志愿服务记录 must show (民政部令第67号: name, content, place, time, duration, organiser) is
    # copied at check-in, so the record and the export are read from these items alone.
    checked_in_at = UTCDateTimeAttribute(null=True)
    # When the attendance counts (its month, its year): the check-in, or the start for a no-show credited later.
    attended_at = UTCDateTimeAttribute(null=True)
    checked_out_at = UTCDateTimeAttribute(null=True)
    minutes = NumberAttribute(null=True)
    points = NumberAttribute(null=True)
    walk_in = BooleanAttribute(null=True)
    adjustments = JSONAttribute(null=True)  # the audit of every adjustment: by, at, before, after, reason
    attendee_name = UnicodeAttribute(null=True)
    event_title = UnicodeAttribute(null=True)
    event_kind = UnicodeAttribute(null=True)
    event_address = UnicodeAttribute(null=True)
    event_ends_at = UTCDateTimeAttribute(null=True)
    organiser_id = UnicodeAttribute(null=True)
    organiser_nickname = UnicodeAttribute(null=True)
    grid_id = UnicodeAttribute(null=True)
    attendee_key = UnicodeAttribute(null=True)
    month_key = UnicodeAttribute(null=True)
    settle_task = UnicodeAttribute(null=True)

    by_user = SignupsByUser()
    by_roster = SignupsByRoster()
    by_event = SignupsByEvent()
    by_attendee = SignupsByAttendee()
    by_month = SignupsByMonth()
    by_settle_task = SignupsBySettleTask()
