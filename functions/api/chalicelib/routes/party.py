"""双报到: 党员报到 (a party member reports to the community they live in; an admin approves or rejects) and 考核 (the
quarter's assessment of the community's party members from their service record)."""
from chalice import Blueprint

from tongxin.usecases import party, party_assessment
from tongxin.wiring import get_container

from ..http import csv_response, current_principal, endpoint
from ..schemas_party import PartyMembersQuery, PartyRegistrationBody, PartyRegistrationsQuery, PartyRejectBody

bp = Blueprint(__name__)
TAGS = ("party",)
DECISION_ERRORS = ("NOT_FOUND", "INVALID_STATE", "CONFLICT")


@endpoint(bp, "/v1/me/party-registration", "POST", body=PartyRegistrationBody, status=201, tags=TAGS,
          response="PartyRegistrationView",
          errors=("NOT_IN_COMMUNITY", "ALREADY_REGISTERED", "CONFLICT", "NOT_FOUND", "CONTENT_REJECTED",
                  "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE"),
          summary="党员报到：在职党员向所居住的社区报到（待社区管理员审核）")
def submit_party_registration(body: PartyRegistrationBody):
    """A resident of a community (409 NOT_IN_COMMUNITY in none). 党员报到 with the real name, work unit and party
    branch (and `unit_id` when the work unit is a co-building unit the street registered: 404 NOT_FOUND naming the
    field when it does not exist); the community's admins are told (`party_registration_submitted`). One
    registration per person per community: 409 ALREADY_REGISTERED while one is pending or approved; a rejected or
    ended one is replaced by the new submission. The text is read by the admins: WeChat's content security check
    (scene 资料): 400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE. 400 VALIDATION_FAILED
    for a field empty after trimming, too long (姓名 2–20, 工作单位 and 党组织 2–60) or with line breaks. 201 the
    registration, `pending`."""
    return party.submit(get_container(), current_principal(), real_name=body.real_name, work_unit=body.work_unit,
                        party_branch=body.party_branch, unit_id=body.unit_id)


@endpoint(bp, "/v1/me/party-registration", "GET", tags=TAGS, response="PartyRegistrationView",
          errors=("NOT_IN_COMMUNITY", "NOT_FOUND"), summary="我的党员报到：状态（待审核、已通过、未通过及理由、已结束）")
def my_party_registration():
    """The caller's registration in their community, whatever its status; 404 NOT_FOUND when they never reported
    here; 409 NOT_IN_COMMUNITY in no community."""
    return party.mine(current_principal())


@endpoint(bp, "/v1/admin/party-registrations", "GET", query=PartyRegistrationsQuery, tags=TAGS,
          response="PartyRegistrationPage", summary="党员报到列表（按状态，最新提交在前）")
def list_party_registrations(query: PartyRegistrationsQuery):
    """The community's admins. The registrations of one `status` (default `pending`), newest submitted first, a
    page at a time (one Query of an index kept for this list)."""
    return party.list_registrations(current_principal(), status=query.status, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/party-registrations/{registration_id}/approve", "POST", tags=TAGS,
          response="PartyRegistrationView", errors=DECISION_ERRORS,
          summary="通过党员报到：本人获得党员（party_member）角色，登记工作单位")
def approve_party_registration(registration_id: str):
    """The community's admins (403 FORBIDDEN for their own registration: another admin decides). One transaction:
    the registration `pending → approved`, the member gets the `party_member` role, the unit recorded
    (`party_unit_id`) and the registered real name, and is told (`party_registration_decided`). 404 NOT_FOUND for
    none here; 409 INVALID_STATE once decided; 409 CONFLICT when the member has left (注销) or changed meanwhile."""
    return party.approve(current_principal(), registration_id)


@endpoint(bp, "/v1/admin/party-registrations/{registration_id}/reject", "POST", body=PartyRejectBody, tags=TAGS,
          response="PartyRegistrationView", errors=DECISION_ERRORS,
          summary="不通过党员报到，写明理由（本人可修改后重新提交）")
def reject_party_registration(registration_id: str, body: PartyRejectBody):
    """The community's admins (403 FORBIDDEN for their own registration). The registration `pending → rejected`
    with the reason (1–200 characters), the member told (`party_registration_decided`); they may submit again. 404
    NOT_FOUND for none here; 409 INVALID_STATE once decided."""
    return party.reject(current_principal(), registration_id, body.reason)


@endpoint(bp, "/v1/admin/party-members", "GET", query=PartyMembersQuery, tags=TAGS, response="PartyMembersPage",
          produces=("application/json", "text/csv"),
          summary="党员考核：本社区党员本季度的服务次数与时长，及是否达到社区考核标准（JSON 分页或全社区 CSV）")
def list_party_members(query: PartyMembersQuery):
    """The community's admins. A page (at most 20: a larger `limit` is served 20 at a time) of the community's
    party members, newest first, each with the quarter's services from their service record (服务记录: attendances
    that credited minutes, wishes confirmed, posts claimed, requests answered as staff — what they already do, never
    typed twice), the quarter's minutes, the year's minutes up to the end of the quarter, and whether they meet the
    community's rules (`party_services_per_quarter_min`, default 1; `party_hours_per_year_min`, default 20) with
    what is `missing`. `quarter` is a Shanghai quarter `YYYYQn` (default the current one): 400 VALIDATION_FAILED
    when malformed or still to come. `format=csv`: every party member of the community (UTF-8 with a BOM)."""
    if query.format == "csv":
        quarter, data = party_assessment.community_csv(current_principal(), query.quarter)
        return csv_response(data, f"party-members-{quarter}.csv")
    return party_assessment.list_party_members(current_principal(), quarter=query.quarter, limit=query.limit,
                                               cursor=query.cursor)
