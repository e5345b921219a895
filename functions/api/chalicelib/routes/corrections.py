"""志愿服务记录更正 (corrections of the volunteer record): a volunteer asks, the event's organiser (or a community
admin) approves — applying the audited adjustment — or refuses."""
from chalice import Blueprint

from tongxin.usecases import corrections
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import PageQuery
from ..schemas_corrections import CorrectionBody, CorrectionRefuseBody, CorrectionsQuery

bp = Blueprint(__name__)
TAGS = ("checkins",)
DECISION_ERRORS = ("NOT_FOUND", "INVALID_STATE", "CONFLICT")


@endpoint(bp, "/v1/me/volunteer-record/corrections", "POST", body=CorrectionBody, status=201, tags=TAGS,
          response="CorrectionView",
          errors=("NOT_IN_COMMUNITY", "NOT_FOUND", "INVALID_STATE", "CORRECTION_PENDING", "CONTENT_REJECTED",
                  "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE"),
          summary="申请更正志愿服务记录：某次服务的时长记错了，请组织者核实更正")
def submit_correction(body: CorrectionBody):
    """Any member of a community, for one of their own attendances (`attendance_id` = `<event_id>.<user_id>`, the
    `event_id` and `user.id` of a line of GET /v1/me/volunteer-record): 404 NOT_FOUND naming `attendance_id` for
    anything else (another person's, another community's, an event never attended). 409 INVALID_STATE while still
    checked in. `minutes` within 0 … min(the event's scheduled minutes, minutes since its start) — the bound of
    the organiser's adjustment — else 400 VALIDATION_FAILED naming `minutes`. `reason` 1–200 characters, read by
    the organiser: WeChat's content check (400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503). One pending
    correction per attendance: 409 CORRECTION_PENDING. 201 the correction, `pending`."""
    return corrections.submit(get_container(), current_principal(), attendance_id=body.attendance_id,
                              minutes=body.minutes, reason=body.reason)


@endpoint(bp, "/v1/me/volunteer-record/corrections", "GET", query=PageQuery, tags=TAGS, response="CorrectionPage",
          summary="我的更正申请：状态、处理人和不同意的理由（最新在前）")
def my_corrections(query: PageQuery):
    """Any signed-in user: their corrections newest first, a page at a time (one Query), with the outcome, who
    decided and a refusal's reason."""
    return corrections.mine(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/corrections", "GET", query=CorrectionsQuery, tags=TAGS, response="CorrectionPage",
          errors=("NOT_IN_COMMUNITY", "NOT_FOUND"),
          summary="更正申请列表（按状态；管理员看本社区全部，活动组织者按活动查看）")
def list_corrections(query: CorrectionsQuery):
    """Without `event_id`: the community's admins (403 FORBIDDEN otherwise), the community's corrections of one
    `status` (default `pending`). With `event_id`: whoever organises that event (an admin, a grid worker of its
    grid, its creator while a grid worker; 403 FORBIDDEN otherwise; 404 NOT_FOUND for an event not of the
    community), that event's. Newest first, one Query a page."""
    return corrections.list_corrections(current_principal(), status=query.status, event_id=query.event_id,
                                        limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/corrections/{correction_id}/approve", "POST", tags=TAGS, response="CorrectionView",
          errors=DECISION_ERRORS + ("ADJUSTMENT_OUT_OF_RANGE", "SELF_ADJUST"),
          summary="同意更正：按申请的时长更正这条志愿服务记录（留痕、积分随之调整）")
def approve_correction(correction_id: str):
    """The event's organiser (an admin of the community, a grid worker of its grid, its creator while a grid
    worker; 403 FORBIDDEN otherwise). Applies the audited adjustment (as POST
    /v1/events/{id}/attendance/{user_id}/adjust) with the correction's minutes and the reason "居民申请更正：…", in
    one transaction with the correction's `pending → approved`: the attendance's minutes and points, the ledger,
    the audit log naming the approver. 409 INVALID_STATE once decided (or when the attendance can no longer be
    adjusted), SELF_ADJUST for one's own attendance (another admin decides), ADJUSTMENT_OUT_OF_RANGE, CONFLICT when
    the record changed meanwhile; 404 NOT_FOUND for none in the community."""
    return corrections.approve(current_principal(), correction_id)


@endpoint(bp, "/v1/admin/corrections/{correction_id}/refuse", "POST", body=CorrectionRefuseBody, tags=TAGS,
          response="CorrectionView", errors=DECISION_ERRORS,
          summary="不同意更正，写明理由（申请人在自己的申请列表中可见）")
def refuse_correction(correction_id: str, body: CorrectionRefuseBody):
    """The event's organiser (as for approving). The correction `pending → refused` with the reason (1–200
    characters, shown to the volunteer); the record is unchanged; the volunteer may ask again. 409 INVALID_STATE
    once decided; 404 NOT_FOUND for none in the community."""
    return corrections.refuse(current_principal(), correction_id, body.reason)
