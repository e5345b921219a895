"""微星光 commendations (表彰): exemplary party members and volunteers a community's admins commend. One table, a
sparse index per list it serves: a revoked commendation drops out of both by losing their keys."""
from __future__ import annotations

from pynamodb.attributes import MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class LatestCommendation(MapAttribute):
    """The person's newest standing commendation, kept on their user item (``UserModel.latest_commendation``) by the
    commendation's and the revocation's own transactions, so ``GET /v1/me`` shows it without another read."""
    id = UnicodeAttribute()
    title = UnicodeAttribute()
    period = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class CommendationsByCommunity(GlobalSecondaryIndex):
    """The community's standing commendations, newest first (``GET /v1/commendations``: one Query a page).
    ``listed_community`` exists only while the commendation stands."""
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    listed_community = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CommendationsByPerson(GlobalSecondaryIndex):
    """One person's standing commendations in one community, newest first (``?user_id=``, and the revocation's
    look for the person's next latest): ``listed_person`` = ``<community>#<user>`` while it stands."""
    class Meta:
        index_name = "by_person"
        projection = AllProjection()
    listed_person = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CommendationModel(BaseModel):
    """A commendation (微星光 表彰): who, for what (``title`` ≤ 30, ``story`` ≤ 1000), for which ``period``
    (``YYYY-MM`` or ``YYYY``), by whom. The person's nickname is copied at commendation time (the lists read one
    Query, no user items). ``status``: ``active`` → ``revoked`` (an admin, with a reason; final)."""
    TABLE = "commendations"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "commendations"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    user_nickname = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    story = UnicodeAttribute()
    period = UnicodeAttribute()  # YYYY-MM | YYYY (Shanghai)
    status = UnicodeAttribute(default="active")  # active | revoked
    listed_community = UnicodeAttribute(null=True)  # by_community's key while active
    listed_person = UnicodeAttribute(null=True)  # by_person's key while active
    commended_by = UnicodeAttribute()
    commended_by_nickname = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    revoke_reason = UnicodeAttribute(null=True)

    by_community = CommendationsByCommunity()
    by_person = CommendationsByPerson()
