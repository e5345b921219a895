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
    points_per_hour = NumberAttribute(default=0)
    allow_walk_ins = BooleanAttribute(default=False)
    organiser_id = UnicodeAttribute()
    organiser_nickname = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    reminded_for = UTCDateTimeAttribute(null=True)  # the start time the 24 h reminder was sent for
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


class SignupModel(BaseModel):
    """One user's sign-up for one event: signed | waitlisted | cancelled (check-in adds its states)."""
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
    mine_key = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    signed_at = UTCDateTimeAttribute(null=True)
    promoted_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()

    by_user = SignupsByUser()
    by_roster = SignupsByRoster()
