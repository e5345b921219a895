"""Posts (岗位/需求清单, 三张清单's needs) a community publishes, and their claims (领岗): one table each, an index per
list they serve."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class PostsByCommunity(GlobalSecondaryIndex):
    """The community's posts, newest first (``GET /v1/posts``: one Query a page)."""
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    community_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class PostsByCommunityStatus(GlobalSecondaryIndex):
    """The community's posts of one status, newest first (``GET /v1/posts?status=``): ``<community>#<status>``,
    moved by the very update that changes the status."""
    class Meta:
        index_name = "by_community_status"
        projection = AllProjection()
    status_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class PostModel(BaseModel):
    """A post (岗位: 楼栋长, 文明劝导员, 政策宣传员 …) of a community with a headcount. ``claimed_count`` moves only by
    atomic adds in the claim's and the withdrawal's transactions, conditioned on the headcount (no VersionAttribute:
    a hot counter); ``status`` is ``open`` → ``full`` (the claim that takes the last place) → ``open`` (a withdrawal
    frees one) and ``closed`` (the admin, final)."""
    TABLE = "posts"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "posts"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    skills = ListAttribute(of=UnicodeAttribute, null=True)
    headcount = NumberAttribute()
    claimed_count = NumberAttribute(default=0)
    # How many times the post filled (the ``post_full`` message's key: a post refilled after a withdrawal tells
    # the admins again, a job repeated never twice).
    filled_times = NumberAttribute(default=0)
    due = UTCDateTimeAttribute(null=True)  # claims and withdrawals only before it
    status = UnicodeAttribute(default="open")  # open | full | closed
    status_key = UnicodeAttribute()  # <community>#<status>
    created_by = UnicodeAttribute()
    created_by_nickname = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)

    by_community = PostsByCommunity()
    by_community_status = PostsByCommunityStatus()


class PostClaimsByUser(GlobalSecondaryIndex):
    """A person's claims, oldest first: what 注销 releases (usecases/posts.release_on_deletion), one Query a page —
    never a request's read path of anyone else."""
    class Meta:
        index_name = "by_user"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    claimed_at = UTCDateTimeAttribute(range_key=True)


class PostClaimModel(BaseModel):
    """One person's claim of one post (领岗): a party member of the post's community, or the liaison of a unit that
    co-builds with it (``unit_id``). One per person and post: its conditional Put is the rule. The claimant's name is
    copied at claim time, so the post's detail reads one Query of at most ``headcount`` (≤ 100) items."""
    TABLE = "post_claims"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "post_claims"

    post_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    community_id = UnicodeAttribute()
    nickname = UnicodeAttribute(null=True)
    role = UnicodeAttribute()  # party_member | unit_liaison
    unit_id = UnicodeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute()

    by_user = PostClaimsByUser()
