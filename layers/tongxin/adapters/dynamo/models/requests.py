"""接诉即办 resident requests (诉求): one item per request, its timeline inside it, one index per list it serves."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class TimelineEntry(MapAttribute):
    """One step: who (id, role, name as it was), when, what, at which level, with what note."""
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    level = UnicodeAttribute()
    actor_id = UnicodeAttribute(null=True)  # None: the system (the scheduler)
    actor_role = UnicodeAttribute(null=True)
    actor_nickname = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)


class RequestsByAuthor(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_author"
        projection = AllProjection()
    author_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByCommunity(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    community_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByHandler(GlobalSecondaryIndex):
    """Sparse: a request waiting on a level carries that level's queue (``g#<community>#<grid>``,
    ``c#<community>``, ``s#<street>``, ``p#<department>``) and its handler's next deadline, most urgent first."""
    class Meta:
        index_name = "by_handler"
        projection = AllProjection()
    handler_key = UnicodeAttribute(hash_key=True)
    handler_due = UTCDateTimeAttribute(range_key=True)


class RequestsByDue(GlobalSecondaryIndex):
    """Sparse: requests with a pending scheduled step (answer or solve limit, the rating window), sharded."""
    class Meta:
        index_name = "by_due"
        projection = AllProjection()
    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class RequestModel(BaseModel):
    TABLE = "requests"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "requests"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    grid_id = UnicodeAttribute(null=True)
    street_id = UnicodeAttribute(null=True)  # the community's street when submitted: where 吹哨 leads
    district_id = UnicodeAttribute(null=True)  # the street's district when submitted: its departments, its staff
    department_id = UnicodeAttribute(null=True)  # the department the street escalated it to (区直部门)
    department_name = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute()
    author_nickname = UnicodeAttribute(null=True)
    author_phone = UnicodeAttribute(null=True)  # shown to handlers only
    category = UnicodeAttribute()
    content = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    lat = NumberAttribute(null=True)
    lng = NumberAttribute(null=True)
    urgent = BooleanAttribute(default=False)
    # Limits fixed at submission from the community's settings: every level's clock runs by the same rule (a
    # department, reached last, sets its own when the request arrives).
    answer_minutes = NumberAttribute()
    solve_minutes = NumberAttribute()

    status = UnicodeAttribute()
    level = UnicodeAttribute()
    levels_reached = UnicodeSetAttribute()
    outcome = UnicodeAttribute(null=True)  # satisfied | unsatisfied | unrated, once closed
    # The current level's clocks: they start when the request reaches the level (and the solve clock again on
    # a reopen); ``late_here``/``overdue_here`` say the scheduler has marked this level once.
    level_since = UTCDateTimeAttribute()
    answer_due = UTCDateTimeAttribute(null=True)
    solve_due = UTCDateTimeAttribute(null=True)
    late_here = BooleanAttribute(default=False)
    overdue_here = BooleanAttribute(default=False)
    handler_id = UnicodeAttribute(null=True)  # who answered at the current level
    handler_nickname = UnicodeAttribute(null=True)
    # What statistics count (domain/requests.facts): set once, never unset.
    first_answered_at = UTCDateTimeAttribute(null=True)
    answered_on_time = BooleanAttribute(null=True)
    late = BooleanAttribute(default=False)
    overdue = BooleanAttribute(default=False)
    resolved_at = UTCDateTimeAttribute(null=True)
    first_resolved_at = UTCDateTimeAttribute(null=True)
    # 通报: the first resolution came before the solve limit in force then; an extension was approved (any level).
    resolved_on_time = BooleanAttribute(null=True)
    extended = BooleanAttribute(null=True)
    # 通报 of a department (区直部门): what is true of its own work on the request — answered in its own limit or
    # late, resolved before its solve limit, overdue, extended, the rating of its result
    # (domain/requests.department_marks); set once each, never unset.
    department_facts = UnicodeSetAttribute(null=True)
    resolve_note = UnicodeAttribute(null=True)
    reopened_at = UTCDateTimeAttribute(null=True)
    rating = NumberAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    # 延期: the pending extension of the current level (asked by its handler, for the level above to decide), and
    # the levels that have asked theirs (one each, whatever the decision).
    extension_level = UnicodeAttribute(null=True)
    extension_days = NumberAttribute(null=True)
    extension_reason = UnicodeAttribute(null=True)
    extension_asked_by = UnicodeAttribute(null=True)
    extension_asked_by_nickname = UnicodeAttribute(null=True)
    extension_asked_at = UTCDateTimeAttribute(null=True)
    extensions_used = UnicodeSetAttribute(null=True)
    supervised_at = UTCDateTimeAttribute(null=True)  # 督办: the last time a level above pressed (yellow card)
    timeline = ListAttribute(of=TimelineEntry, default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    handler_key = UnicodeAttribute(null=True)
    handler_due = UTCDateTimeAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)

    by_author = RequestsByAuthor()
    by_community = RequestsByCommunity()
    by_handler = RequestsByHandler()
    by_due = RequestsByDue()
