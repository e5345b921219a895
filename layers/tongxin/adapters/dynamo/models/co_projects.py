"""共建项目 (co-building projects: a need matched with a unit's resource, tracked to completion) and their ratings by
the residents (群众评单): one table each, an index per list they serve."""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class CoProjectStep(MapAttribute):
    """One step of a project's timeline: who (id, role, name and unit as they were), when, what."""
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()  # created | progress | completed
    actor_id = UnicodeAttribute()
    actor_role = UnicodeAttribute()  # admin | unit_liaison
    actor_nickname = UnicodeAttribute(null=True)
    percent = NumberAttribute(null=True)
    note = UnicodeAttribute(null=True)


class CoProjectsByCommunity(GlobalSecondaryIndex):
    """The community's projects, newest first (``GET /v1/co-projects``: one Query a page)."""
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    community_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CoProjectsByCommunityStatus(GlobalSecondaryIndex):
    """The community's projects of one status (``?status=``): ``<community>#<status>``, moved by the very update
    that changes the status."""
    class Meta:
        index_name = "by_community_status"
        projection = AllProjection()
    status_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CoProjectsByUnit(GlobalSecondaryIndex):
    """A unit's projects across the communities it co-builds with, newest first (``GET
    /v1/units/{unit_id}/co-projects``)."""
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()
    unit_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CoProjectModel(BaseModel):
    """A co-building project (共建项目) of a community with a unit: the need (a post of the community and/or a text),
    the unit and its resource (names copied at creation), dates, ``planned → in_progress → done``, the latest
    percent, the timeline inside the item (≤ 50 steps: ``progress_count`` caps the reports by a condition), and the
    residents' ratings as two counters moved only by atomic adds in each rating's transaction (no version
    attribute: a hot counter)."""
    TABLE = "co_projects"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "co_projects"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    community_name = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    need_post_id = UnicodeAttribute(null=True)
    need_post_title = UnicodeAttribute(null=True)
    need_text = UnicodeAttribute(null=True)
    unit_id = UnicodeAttribute()
    unit_name = UnicodeAttribute()
    resource_id = UnicodeAttribute(null=True)
    resource_title = UnicodeAttribute(null=True)
    starts_on = UnicodeAttribute()  # YYYY-MM-DD, Asia/Shanghai
    ends_on = UnicodeAttribute()
    beneficiaries_note = UnicodeAttribute()
    # The grids it served (群众评单: only their residents rate it); absent for the whole community. Set at creation,
    # never changed: the rating's condition on the rater's grid is built from it as read.
    served_grid_ids = UnicodeSetAttribute(null=True)
    status = UnicodeAttribute()  # planned | in_progress | done
    status_key = UnicodeAttribute()  # <community>#<status>
    percent = NumberAttribute(default=0)
    progress_count = NumberAttribute(default=0)
    timeline = ListAttribute(of=CoProjectStep, default=list)
    ratings_count = NumberAttribute(default=0)
    ratings_sum = NumberAttribute(default=0)
    created_by = UnicodeAttribute()
    created_by_nickname = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)

    by_community = CoProjectsByCommunity()
    by_community_status = CoProjectsByCommunityStatus()
    by_unit = CoProjectsByUnit()


class CoProjectRatingsByUser(GlobalSecondaryIndex):
    """A resident's ratings, oldest first: the comments 注销 erases (usecases/co_projects.forget_deleted_user)."""
    class Meta:
        index_name = "by_user"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CoProjectRatingsByProjectTime(GlobalSecondaryIndex):
    """A project's ratings, newest first (``GET /v1/admin/co-projects/{id}/ratings``: one Query a page; the items
    are small, so ALL)."""
    class Meta:
        index_name = "by_project_time"
        projection = AllProjection()
    project_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CoProjectRatingModel(BaseModel):
    """One resident's rating of one project (群众评单): its conditional Put is the once-each rule."""
    TABLE = "co_project_ratings"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "co_project_ratings"

    project_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    community_id = UnicodeAttribute()
    rating = NumberAttribute()
    comment = UnicodeAttribute(null=True)  # personal: erased by 注销 (the rating stays counted)
    created_at = UTCDateTimeAttribute()

    by_user = CoProjectRatingsByUser()
    by_project_time = CoProjectRatingsByProjectTime()
