"""三张清单's 岗位/需求清单 and 领岗 routes: publish, list, read, claim, withdraw, close."""
from chalice import Blueprint

from tongxin.usecases import posts
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas_posts import ClaimBody, PostBody, PostListQuery

bp = Blueprint(__name__)
TAGS = ("posts",)


@endpoint(bp, "/v1/admin/posts", "POST", body=PostBody, status=201, tags=TAGS,
          summary="社区管理员发布岗位/需求（楼栋长、文明劝导员、政策宣传员……），经微信内容安全检查",
          errors=("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE"), response="PostView")
def publish_post(body: PostBody):
    """The community's admin. Publishes a post with a headcount 1–100 and, optionally, a due date (after now, at
    most a year ahead; 400 VALIDATION_FAILED naming `due` otherwise). Title, description and skills pass WeChat's
    content security check (scene 论坛): 400 CONTENT_REJECTED when risky, 409 WECHAT_SESSION_STALE when the admin
    has not opened the mini-program for 2 h, 503 UPSTREAM_UNAVAILABLE when WeChat is down. It is `open` at once."""
    return posts.publish(get_container(), current_principal(), **body.model_dump())


@endpoint(bp, "/v1/posts", "GET", query=PostListQuery, tags=TAGS,
          summary="社区的岗位清单，新发布在前（含名额、已认领人数、我是否已认领）", response="PostPage")
def list_posts(query: PostListQuery):
    """A member of the community (any role), or the liaison of a unit whose co-building agreement with the
    community is in force (naming it with `community_id`; 403 otherwise). Newest first, filter `status`. Each
    post carries `headcount`, `claimed_count`, `places_left` and `mine`. One Query a page."""
    return posts.list_posts(current_principal(), community_id=query.community_id, status=query.status,
                            limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/posts/{post_id}", "GET", tags=TAGS, errors=("NOT_FOUND",),
          summary="岗位详情及认领人（社区成员看到打码的昵称，管理员看到完整昵称）", response="PostDetailView")
def get_post(post_id: str):
    """A member of the post's community, or the liaison of a unit co-building with it. The post and its claimants,
    earliest first: nicknames masked (`张**`) for members, whole for the community's admins and for oneself. 404
    NOT_FOUND for another community's post."""
    return posts.get(current_principal(), post_id)


@endpoint(bp, "/v1/posts/{post_id}/claim", "POST", body=ClaimBody, tags=TAGS,
          errors=("NOT_FOUND", "POST_FULL", "ALREADY_CLAIMED", "INVALID_STATE"),
          summary="党员或共建单位联络员认领岗位（领岗）：名额在一个事务内扣减，满员即止", response="PostView")
def claim_post(post_id: str, body: ClaimBody):
    """A party member of the post's community, or the liaison of a unit whose co-building agreement with the
    community is in force (`unit_id` names the unit when they act for several; 400 VALIDATION_FAILED naming
    `unit_id` otherwise; 403 without an agreement). Takes one place: never more claims than the headcount, however
    many claim at once; the claim that takes the last place makes the post `full` and tells the community's admins
    (`post_full`). Counts one `post` service on the claimer's service record. 409 ALREADY_CLAIMED (one claim per
    person), POST_FULL, INVALID_STATE (closed, or past its due date); 403 FORBIDDEN for anyone else (also a role
    taken away a moment ago); 404 NOT_FOUND for another community's post. The answer's `claimed_count` is exact for
    the claim that takes the last place; a claim racing others answers the count it read plus its own place."""
    return posts.claim(current_principal(), post_id, unit_id=body.unit_id)


@endpoint(bp, "/v1/posts/{post_id}/withdraw", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="认领人退出岗位（截止前）：名额空出，服务记录中的这次领岗撤回", response="PostView")
def withdraw_post(post_id: str):
    """The claimant, before the post's due date and while it is not closed. Gives the place back (a full post is
    `open` again) and takes the `post` service back from the service record (a post given back is not a service).
    409 INVALID_STATE when the caller holds no claim of it, it is closed or past due. A claim is the person's: one
    who has since lost the role or the unit it was made under still withdraws it."""
    return posts.withdraw(current_principal(), post_id)


@endpoint(bp, "/v1/admin/posts/{post_id}/close", "POST", tags=TAGS, errors=("NOT_FOUND", "INVALID_STATE"),
          summary="社区管理员关闭岗位：不再接受认领和退出", response="PostView")
def close_post(post_id: str):
    """The community's admin. `open` or `full` → `closed`: no more claims or withdrawals; the claims stay (they
    served). 409 INVALID_STATE when already closed; 404 NOT_FOUND for another community's post."""
    return posts.close(current_principal(), post_id)
