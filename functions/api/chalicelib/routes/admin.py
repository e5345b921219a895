"""Community administration routes (社区管理员): grids, invites and their QR posters, member roles, the member
directory (a member, their 积分存折), the community's settings."""
from chalice import Blueprint

from tongxin.usecases import admin, community, directory, points
from tongxin.wiring import get_container

from ..http import binary_response, current_principal, endpoint
from ..schemas import (CommunitySettingsBody, GridBody, InviteBody, InviteQrQuery, MembersQuery, PageQuery,
                       RolesBody)

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/grids", "POST", body=GridBody, status=201, summary="新建网格", tags=("admin",),
          response="GridView")
def create_grid(body: GridBody):
    """An admin of the community. Adds a grid (网格) with a name of at most 20 characters; 201 {id, name,
    worker_count}. Grid workers are then given it through the member roles route."""
    return admin.create_grid(current_principal(), body.name)


@endpoint(bp, "/v1/admin/grids", "GET", summary="本社区的网格", tags=("admin",), response="GridPage")
def list_grids():
    """An admin or a grid worker of the community. Every grid of the caller's community with its name and number
    of workers, in one list (a community has tens of grids, not thousands)."""
    return admin.list_grids(current_principal())


@endpoint(bp, "/v1/admin/invites", "POST", body=InviteBody, status=201, tags=("admin",),
          summary="生成网格邀请码（居民扫码或输入后加入该网格）", errors=("NOT_FOUND",), response="InviteView")
def create_invite(body: InviteBody):
    """An admin of the community. Makes an invite code for one grid, valid 1–365 days (30 by default); a resident
    who scans its poster QR (the link `url`, or a mini-program code with scene `inv=<code>`) or types it joins
    that grid. 201 {code, grid_id, scene, url, expires_at}; 404 NOT_FOUND for a grid not in the admin's
    community."""
    return admin.create_invite(get_container(), current_principal(), body.grid_id, body.valid_days)


@endpoint(bp, "/v1/admin/invites/{code}/qrcode", "GET", query=InviteQrQuery, tags=("admin",),
          produces=("image/png", "image/jpeg", "image/svg+xml", "application/json"),
          errors=("NOT_FOUND", "UPSTREAM_UNAVAILABLE"), response="InviteCodeView",
          summary="邀请码海报：png/svg 普通链接二维码（微信扫一扫即打开小程序），wxacode 小程序码，json 码与链接")
def invite_qrcode(code: str, query: InviteQrQuery):
    """An admin of the community. The invite for a poster: a plain QR as PNG or SVG of its link
    `<QR_LINK_BASE>/i/<code>` (普通链接二维码: WeChat's own scanner opens the join page), or (`format=wxacode`) a
    WeChat mini-program code with the scene `inv=<code>`, in the image type WeChat gives (image/jpeg; 503
    UPSTREAM_UNAVAILABLE when WeChat is down), or `format=json` {code, url, scene, valid_until}. Images need an
    `Accept` naming an image type (image/png, image/jpeg) or `*/*`. 404 NOT_FOUND for an unknown or expired
    code."""
    result = admin.invite_qrcode(get_container(), current_principal(), code, query.format)
    return result if isinstance(result, dict) else binary_response(*result)


@endpoint(bp, "/v1/admin/members/{user_id}/roles", "PUT", body=RolesBody, tags=("admin",),
          summary="设置成员角色与负责范围（授予和撤销都立即生效，无需重新登录）", errors=("NOT_FOUND", "CONFLICT"), response="UserView")
def set_roles(user_id: str, body: RolesBody):
    """An admin of the community. Sets a member's roles (volunteer, grid_worker with grid_ids, admin, store_keeper
    with store_ids; resident always stays) and scopes, in any order and as often as needed. party_member comes only
    with an approved 党员报到: kept when held, removed here (the registration ends), never added (400
    VALIDATION_FAILED naming roles, `not_assignable: [party_member]`).
    Rights are read on every request, so a granted or removed role takes effect at once, on the member's next
    request, without a new login; taking volunteer away also stops self-registration from giving it back. 404
    NOT_FOUND for someone outside the community; 409 CONFLICT when the member was changed meanwhile (read
    again)."""
    return admin.set_roles(current_principal(), user_id, body.roles, body.grid_ids, body.store_ids)


@endpoint(bp, "/v1/admin/members", "GET", query=MembersQuery, tags=("admin",), response="MemberPage",
          summary="成员名录：按昵称/姓名/手机号后四位搜索，按角色、网格筛选")
def list_members(query: MembersQuery):
    """An admin (the whole community, phones whole) or a grid worker (the members living in one of their grids,
    phones masked: `grid_id` one of theirs, else their first grid in id order; 403 FORBIDDEN for a grid not
    theirs). `q` matches the beginning of the nickname or of the real name (full-width and half-width, upper and
    lower case alike) or the phone's last four digits; `role` one of resident, volunteer, party_member,
    grid_worker, admin, store_keeper; `grid_id` the grid members live in. Without `q`, newest joined first; with
    `q`, in the order of the matched text. One Query per page on a key built for the filters; a `role` given with
    `q` is checked within the page, so such a page may hold fewer than `limit` members (even none) with a
    `next_cursor` to go on. 400 VALIDATION_FAILED naming the field (`q` with nothing searchable, a role outside
    the list)."""
    return directory.list_members(current_principal(), q=query.q, role=query.role, grid_id=query.grid_id,
                                  limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/members/{user_id}", "GET", tags=("admin",), response="MemberView",
          errors=("NOT_FOUND",), summary="成员详情（管理员看到完整手机号）")
def get_member(user_id: str):
    """An admin of the community (phone whole) or a grid worker of the grid the member lives in (phone masked;
    403 FORBIDDEN for a member of another grid). The member's nickname, real name, roles, grids, stores, volunteer
    minutes, points balance and when they joined. 404 NOT_FOUND for someone who is not a member of the caller's
    community (another community's, or a deleted account)."""
    return directory.get_member(current_principal(), user_id)


@endpoint(bp, "/v1/admin/members/{user_id}/points", "GET", query=PageQuery, tags=("admin",), response="PassbookView",
          errors=("NOT_FOUND",), summary="成员的积分存折：余额、累计获得和每一笔收支（最新的在前）")
def member_points(user_id: str, query: PageQuery):
    """An admin of the community, or a grid worker of the grid the member lives in (403 FORBIDDEN for a member of
    another grid) — whom the member detail shows. The member's 积分存折 in the shape of `GET /v1/me/points`:
    balance, points earned in all, and every entry newest first with its kind, amount, balance after it, source
    and note. 404 NOT_FOUND for someone who is not a member of the caller's community (another community's, or a
    deleted account)."""
    return points.member_passbook(current_principal(), user_id, limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/community", "GET", tags=("admin",), response="CommunityView",
          summary="本社区的信息与设置（每项的当前值、默认值和取值范围）")
def community_settings():
    """An admin of the community. Its name, street and every setting in force — the stored value, else the
    default — with each one's label, default and bounds (`fields`), so a settings page needs no other source."""
    return community.get(current_principal())


@endpoint(bp, "/v1/admin/community", "PATCH", body=CommunitySettingsBody, tags=("admin",), response="CommunityView",
          summary="修改本社区的设置（只改发送的项；超出范围 400）")
def update_community_settings(body):
    """An admin of the community. Sets the settings sent (review required, wish points, fairness caps, award caps,
    the points-per-hour cap of events, request time limits); each within its bounds, else 400 VALIDATION_FAILED
    naming the field. Takes effect on the next request that applies it; events already published keep their
    points per hour."""
    return community.update(current_principal(), body.changes())
