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
    return admin.create_grid(current_principal(), body.name)


@endpoint(bp, "/v1/admin/grids", "GET", summary="本社区的网格", tags=("admin",), response="GridPage")
def list_grids():
    return admin.list_grids(current_principal())


@endpoint(bp, "/v1/admin/invites", "POST", body=InviteBody, status=201, tags=("admin",),
          summary="生成网格邀请码（居民扫码或输入后加入该网格）", errors=("NOT_FOUND",), response="InviteView")
def create_invite(body: InviteBody):
    return admin.create_invite(current_principal(), body.grid_id, body.valid_days)


@endpoint(bp, "/v1/admin/invites/{code}/qrcode", "GET", query=InviteQrQuery, tags=("admin",),
          produces=("image/png", "image/svg+xml"), errors=("NOT_FOUND", "UPSTREAM_UNAVAILABLE"),
          summary="邀请码海报二维码：png/svg 普通二维码，wxacode 为小程序码")
def invite_qrcode(code: str, query: InviteQrQuery):
    data, content_type = admin.invite_qrcode(get_container(), current_principal(), code, query.format)
    return binary_response(data, content_type)


@endpoint(bp, "/v1/admin/members/{user_id}/roles", "PUT", body=RolesBody, tags=("admin",),
          summary="设置成员角色与负责范围（下次登录生效；撤销立即生效）", errors=("NOT_FOUND", "CONFLICT"), response="UserView")
def set_roles(user_id: str, body: RolesBody):
    return admin.set_roles(current_principal(), user_id, body.roles, body.grid_ids, body.store_ids)
