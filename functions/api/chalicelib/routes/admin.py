"""Community administration routes (社区管理员): grids, invites and their QR posters, member roles."""
from chalice import Blueprint

from tongxin.usecases import admin
from tongxin.wiring import get_container

from ..http import binary_response, current_principal, endpoint
from ..schemas import GridBody, InviteBody, InviteQrQuery, RolesBody

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
    who scans its poster QR (scene `inv=<code>`) or types it joins that grid. 201 {code, grid_id, scene,
    expires_at}; 404 NOT_FOUND for a grid not in the admin's community."""
    return admin.create_invite(current_principal(), body.grid_id, body.valid_days)


@endpoint(bp, "/v1/admin/invites/{code}/qrcode", "GET", query=InviteQrQuery, tags=("admin",),
          produces=("image/png", "image/svg+xml"), errors=("NOT_FOUND", "UPSTREAM_UNAVAILABLE"),
          summary="邀请码海报二维码：png/svg 普通二维码，wxacode 为小程序码")
def invite_qrcode(code: str, query: InviteQrQuery):
    """An admin of the community. The invite's poster image carrying the scene `inv=<code>`: a plain QR as PNG or
    SVG, or (`format=wxacode`) a WeChat mini-program code that opens the join page (503 UPSTREAM_UNAVAILABLE
    when WeChat is down). Needs `Accept: image/png` or `*/*`. 404 NOT_FOUND for an unknown or expired code."""
    data, content_type = admin.invite_qrcode(get_container(), current_principal(), code, query.format)
    return binary_response(data, content_type)


@endpoint(bp, "/v1/admin/members/{user_id}/roles", "PUT", body=RolesBody, tags=("admin",),
          summary="设置成员角色与负责范围（授予和撤销都立即生效，无需重新登录）", errors=("NOT_FOUND", "CONFLICT"), response="UserView")
def set_roles(user_id: str, body: RolesBody):
    """An admin of the community. Sets a member's roles (volunteer, party_member, grid_worker with grid_ids,
    admin, store_keeper with store_ids; resident always stays) and scopes, in any order and as often as needed.
    Rights are read on every request, so a granted or removed role takes effect at once, on the member's next
    request, without a new login; taking volunteer away also stops self-registration from giving it back. 404
    NOT_FOUND for someone outside the community; 409 CONFLICT when the member was changed meanwhile (read
    again)."""
    return admin.set_roles(current_principal(), user_id, body.roles, body.grid_ids, body.store_ids)
