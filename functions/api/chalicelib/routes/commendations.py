"""微星光 commendations (表彰) routes: commend, list, revoke, the month's candidates."""
from chalice import Blueprint

from tongxin.usecases import commendations
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas_commendations import CandidatesQuery, CommendationBody, CommendationListQuery, RevokeCommendationBody

bp = Blueprint(__name__)
TAGS = ("commendations",)


@endpoint(bp, "/v1/admin/commendations", "POST", body=CommendationBody, status=201, tags=TAGS,
          summary="社区管理员表彰本社区的党员、志愿者等先进典型（微星光），称号与事迹经微信内容安全检查",
          errors=("NOT_FOUND", "ALREADY_COMMENDED", "SELF_COMMENDATION", "CONTENT_REJECTED", "WECHAT_SESSION_STALE",
                  "UPSTREAM_UNAVAILABLE"), response="CommendationView")
def commend(body: CommendationBody):
    """The community's admin. Commends a member of the same community for a `period`: a month `YYYY-MM` or a year
    `YYYY` (Shanghai), not in the future and not before 2000 (400 VALIDATION_FAILED naming `period`). One
    transaction writes the commendation and the person's profile (`commendations_count`, `latest_commendation`
    in `GET /v1/me`), conditioned on the person being an active member of the admin's community: 404 NOT_FOUND
    otherwise (also when they left a moment ago). 409 ALREADY_COMMENDED when the person already holds a standing
    commendation of the same title for the same period (a revoked one can be given again); 409 SELF_COMMENDATION
    for oneself. Title and story pass WeChat's content security check (scene 论坛): 400 CONTENT_REJECTED when
    risky, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE when WeChat is down."""
    return commendations.commend(get_container(), current_principal(), **body.model_dump())


@endpoint(bp, "/v1/commendations", "GET", query=CommendationListQuery, tags=TAGS,
          summary="社区的微星光表彰，新表彰在前（可按成员筛选：个人主页）", response="CommendationPage")
def list_commendations(query: CommendationListQuery):
    """Any member of the community. Its standing commendations, newest first (revoked ones are gone); `user_id`
    narrows to one member's (their profile). The person's nickname is masked (`张**`) for members, whole for the
    community's admins and for the person themself; title and story in full. One Query a page."""
    return commendations.list_commendations(current_principal(), user_id=query.user_id, limit=query.limit,
                                            cursor=query.cursor)


@endpoint(bp, "/v1/admin/commendations/{commendation_id}/revoke", "POST", body=RevokeCommendationBody, tags=TAGS,
          errors=("NOT_FOUND", "INVALID_STATE"),
          summary="社区管理员撤销表彰：从列表中移除，被表彰人的表彰数同时减一", response="CommendationView")
def revoke_commendation(commendation_id: str, body: RevokeCommendationBody):
    """The community's admin. `active` → `revoked` in one transaction with the person's profile
    (`commendations_count` down by one; `latest_commendation` moves to the next standing one). The same title
    may then be given again for the period. 409 INVALID_STATE when already revoked; 404 NOT_FOUND for another
    community's commendation."""
    return commendations.revoke(current_principal(), commendation_id, reason=body.reason)


@endpoint(bp, "/v1/admin/commendations/candidates", "GET", query=CandidatesQuery, tags=TAGS,
          summary="表彰候选人：某月积分榜和志愿服务时长榜各前 10 名，并标明本月是否已获表彰",
          response="CommendationCandidates")
def commendation_candidates(query: CandidatesQuery):
    """The community's admin. The month's (`YYYY-MM`, not in the future, not before 2000; 400 VALIDATION_FAILED
    naming `month`) top 10 members by points earned and by volunteering minutes, from the leaderboards, names in
    full, each with `commended`: whether they hold a standing commendation for that month. Reads O(20) items."""
    return commendations.candidates(current_principal(), month=query.month)
