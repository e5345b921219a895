"""共建单位/驻区单位 routes: units registered by the street, their liaisons' invites, agreements with communities
(共建协议) and their 资源清单 (usecases/units.py)."""
from datetime import date

from chalice import Blueprint

from tongxin.usecases import unit_liaisons, units
from tongxin.wiring import get_container

from ..http import binary_response, current_principal, endpoint, json_response
from ..schemas import PageQuery
from ..schemas_units import AgreementBody, JoinUnitBody, ResourceBody, StreetUnitsQuery, UnitBody, UnitInviteQrQuery

bp = Blueprint(__name__)
TAGS = ("units",)
# Text others read (a unit's name, pledges, resources): WeChat's content check (scene 论坛).
TEXT_ERRORS = ("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE")


@endpoint(bp, "/v1/street/units", "POST", body=UnitBody, status=201, tags=("street",) + TAGS,
          errors=("NOT_FOUND",) + TEXT_ERRORS, response="UnitView",
          summary="街道登记共建单位/驻区单位（机关、企业、事业单位、学校、医院、社会组织）")
def register_unit(body: UnitBody):
    """Street staff (街道工作人员) of the street. Registers a unit of the street (name, kind, contact); 201 the unit.
    Its name, shown to residents on goods it sponsors, passes WeChat's content check (scene 论坛): 400
    CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE. 400 VALIDATION_FAILED for a kind not in
    the list, a malformed phone, or a missing `street_id` when the caller staffs several streets; 403 FORBIDDEN for
    anyone but the street's staff; 404 NOT_FOUND for a street of theirs that no longer exists."""
    fields = body.model_dump(exclude={"street_id"})
    return units.register_unit(get_container(), current_principal(), fields, body.street_id)


@endpoint(bp, "/v1/street/units", "GET", query=StreetUnitsQuery, tags=("street",) + TAGS, response="UnitPage",
          summary="街道的共建单位列表（按登记时间）")
def list_street_units(query: StreetUnitsQuery):
    """Street staff of the street. The street's units, oldest first, one Query a page (`limit` 1–100). 400
    VALIDATION_FAILED for a missing `street_id` when the caller staffs several streets; 403 FORBIDDEN for anyone
    but the street's staff."""
    return units.list_street_units(current_principal(), query.street_id, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/street/units/{unit_id}/invites", "POST", status=201, tags=("street",) + TAGS,
          errors=("NOT_FOUND",), response="UnitInviteView", summary="街道生成共建单位联络员邀请码（一次有效，7 天）")
def create_unit_invite(unit_id: str):
    """Street staff of the unit's street. A one-time invite (valid 7 days) that makes whoever uses it (`POST
    /v1/me/unit`) the unit's liaison (`unit_liaison`); 201 `{code, unit_id, url, expires_at}`, where `url` is the
    link a printed QR carries (`<QR_LINK_BASE>/u/<code>`), and `valid_until` (= `expires_at`) as every invite code
    answers. 403 FORBIDDEN for anyone who is no street staff; 404 NOT_FOUND for a unit of another street (or none)."""
    return units.create_invite(get_container(), current_principal(), unit_id)


@endpoint(bp, "/v1/street/units/{unit_id}/invites/{code}/qrcode", "GET", query=UnitInviteQrQuery,
          tags=("street",) + TAGS, produces=("image/png", "image/svg+xml", "application/json"),
          errors=("NOT_FOUND",), response="UnitInviteCodeView",
          summary="联络员邀请码的二维码：png/svg 普通链接二维码（微信扫一扫即打开小程序），json 码与链接")
def unit_invite_qrcode(unit_id: str, code: str, query: UnitInviteQrQuery):
    """Street staff of the unit's street. The liaison invite as the other invite codes are shown: a plain QR as PNG
    or SVG of its link `<QR_LINK_BASE>/u/<code>` (普通链接二维码: WeChat's own scanner opens the join page, and `POST
    /v1/me/unit` takes the whole link), or `format=json` `{code, unit_id, url, valid_until}`. Images need an `Accept` naming an image type or `*/*`. 403 FORBIDDEN for anyone who is
    no street staff; 404 NOT_FOUND for a code that is not the unit's (or of another street), used or expired."""
    result = unit_liaisons.invite_qrcode(get_container(), current_principal(), unit_id, code, query.format)
    return result if isinstance(result, dict) else binary_response(*result)


@endpoint(bp, "/v1/street/units/{unit_id}/liaisons", "GET", query=PageQuery, tags=("street",) + TAGS,
          errors=("NOT_FOUND",), response="UnitLiaisonPage", summary="街道查看共建单位的联络员（姓名、何时成为联络员）")
def list_unit_liaisons(unit_id: str, query: PageQuery):
    """Street staff of the unit's street. The unit's liaisons, in user-id order, one Query a page (`limit` 1–100):
    `{user: {id, nickname}, unit_id, since}` — the name as it was when they joined. 403 FORBIDDEN for anyone who is
    no street staff; 404 NOT_FOUND for a unit of another street (or none)."""
    return unit_liaisons.list_liaisons(current_principal(), unit_id, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/street/units/{unit_id}/liaisons/{user_id}", "DELETE", status=204, tags=("street",) + TAGS,
          errors=("NOT_FOUND", "CONFLICT"), summary="街道取消某人的共建单位联络员身份")
def remove_unit_liaison(unit_id: str, user_id: str):
    """Street staff of the unit's street. In ONE transaction the person loses the unit from `unit_ids` and, when it
    was their last unit, the role `unit_liaison`; the unit loses them from its liaisons. Their open post claims
    (领岗) made as the unit's liaison stay: a claim is the person's (they may withdraw it). 204. 403 FORBIDDEN for
    anyone who is no street staff; 404 NOT_FOUND for a unit of another street (or none) and for a person who is not
    (or no longer) its liaison (`details.field: user_id`); 409 CONFLICT when the person's units changed meanwhile."""
    unit_liaisons.remove_liaison(current_principal(), unit_id, user_id)
    return json_response(None, 204)


@endpoint(bp, "/v1/me/unit", "POST", body=JoinUnitBody, tags=("identity",) + TAGS, errors=("INVITE_INVALID",),
          response="UnitJoinedView", summary="凭街道的邀请码成为共建单位联络员（无需加入社区）")
def join_unit(body: JoinUnitBody):
    """Any signed-in user, in a community or not. In one transaction the invite is used up, the user gains the role
    `unit_liaison` and the unit (`unit_ids`; a liaison of another unit keeps it), and the unit its liaison; the
    answer is the unit `{id, name}` and the user as they are now. 404 INVITE_INVALID for a code that is none of
    ours (or a link of another base or letter), already used (by anyone, the caller included) or expired."""
    return units.join_unit(get_container(), current_principal(), body.invite)


@endpoint(bp, "/v1/units/{unit_id}", "GET", tags=TAGS, errors=("NOT_FOUND",), response="UnitView",
          summary="共建单位详情（联络员、所在街道工作人员、与之签约社区的管理员）")
def get_unit(unit_id: str):
    """The unit's liaison, its street's staff, or an admin of a community with an agreement with it. The unit with
    its contact and the counts of its liaisons, agreements and resources. 403 FORBIDDEN for anyone who sees no
    unit at all (residents, volunteers …); 404 NOT_FOUND for a unit the caller may not see (another unit's
    liaison, another street's staff, an admin of a community without its agreement)."""
    return units.get_unit(current_principal(), unit_id)


@endpoint(bp, "/v1/admin/units", "GET", query=PageQuery, tags=("admin",) + TAGS, response="AdminUnitPage",
          summary="本社区所在街道的共建单位，及与本社区的共建协议（如有）")
def list_admin_units(query: PageQuery):
    """An admin of the community. The units of the community's street, oldest first, each with this community's
    agreement (`agreement`, null when none): one Query a page and one read of the page's agreements. A community
    under no street has none."""
    return units.list_admin_units(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/units/{unit_id}/agreement", "POST", body=AgreementBody, status=201,
          tags=("admin",) + TAGS, errors=("NOT_FOUND", "CONFLICT") + TEXT_ERRORS, response="SignedAgreementView",
          summary="社区与共建单位签订（或续签）共建协议：承诺事项、每季度活动次数、有效期")
def sign_agreement(unit_id: str, body: AgreementBody):
    """An admin of the community, for a unit of the community's street (404 NOT_FOUND otherwise). One agreement
    per unit and community: posting again replaces its pledges, activities and date (a renewal, `renewed: true`;
    409 CONFLICT when another admin changed it at the same moment — retry). `valid_until` is a Shanghai date after
    today and at most 5 years ahead (400 VALIDATION_FAILED naming `valid_until`). The pledges pass WeChat's content
    check (scene 论坛). The unit's liaisons are told (`unit_agreement_signed`)."""
    return units.sign_agreement(get_container(), current_principal(), unit_id, body.pledges,
                                body.activities_per_quarter, date.fromisoformat(body.valid_until))


@endpoint(bp, "/v1/units/{unit_id}/agreements", "GET", query=PageQuery, tags=TAGS, errors=("NOT_FOUND",),
          response="UnitAgreementPage", summary="共建单位与各社区的共建协议（联络员、所在街道工作人员）")
def list_unit_agreements(unit_id: str, query: PageQuery):
    """The unit's liaison, or its street's staff. The unit's agreements, one per community, by community id, with
    whether each is in force today. 403 FORBIDDEN for anyone else who is no liaison or street staff; 404 NOT_FOUND
    for another unit's liaison or another street's staff."""
    return units.list_agreements(current_principal(), unit_id, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/units/{unit_id}/resources", "POST", body=ResourceBody, status=201, tags=TAGS,
          errors=("NOT_FOUND",) + TEXT_ERRORS, response="UnitResourceView", summary="联络员发布单位的资源清单条目")
def add_unit_resource(unit_id: str, body: ResourceBody):
    """The unit's liaison (403 FORBIDDEN for anyone else). Adds an item to the unit's 资源清单 — title,
    description, capacity ≥ 1; 201 the item. Title and description pass WeChat's content check (scene 论坛)."""
    return units.add_resource(get_container(), current_principal(), unit_id, body.model_dump())


@endpoint(bp, "/v1/units/{unit_id}/resources", "GET", query=PageQuery, tags=TAGS, errors=("NOT_FOUND",),
          response="UnitResourcePage", summary="共建单位的资源清单（联络员、所在街道工作人员、与之签约社区的管理员）")
def list_unit_resources(unit_id: str, query: PageQuery):
    """Who sees the unit (`GET /v1/units/{unit_id}`). Its 资源清单, oldest first, one Query a page. 403 FORBIDDEN
    for anyone who sees no unit at all; 404 NOT_FOUND for a unit the caller may not see."""
    return units.list_resources(current_principal(), unit_id, limit=query.limit, cursor=query.cursor)
