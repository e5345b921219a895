"""Identity routes: login, my profile, joining a community, phone, volunteer registration, 注销."""
from chalice import Blueprint

from tongxin.usecases import identity
from tongxin.wiring import get_container

from ..http import current_principal, endpoint, json_response
from ..schemas import JoinCommunityBody, LoginBody, PhoneBody, UpdateMeBody, VolunteerBody

bp = Blueprint(__name__)


@endpoint(bp, "/v1/auth/login", "POST", public=True, body=LoginBody, tags=("identity",),
          summary="微信登录：wx.login 的 code 换取令牌（首次登录自动建号）",
          errors=("WECHAT_CODE_INVALID", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED"), response="SessionView")
def login(body: LoginBody):
    return identity.login(get_container(), body.code)


@endpoint(bp, "/v1/me", "GET", summary="我的资料、角色、社区、积分与志愿时长", tags=("identity",),
          response="MeView")
def get_me():
    return identity.get_me(current_principal())


@endpoint(bp, "/v1/me", "PATCH", body=UpdateMeBody, summary="修改昵称或头像", tags=("identity",),
          response="UserView")
def update_me(body: UpdateMeBody):
    return identity.update_me(current_principal(), body.model_dump(exclude_none=True))


@endpoint(bp, "/v1/me/community", "POST", body=JoinCommunityBody, tags=("identity",),
          summary="凭邀请码加入社区与网格；返回新令牌", errors=("INVITE_INVALID", "ALREADY_IN_COMMUNITY"),
          response="SessionView")
def join_community(body: JoinCommunityBody):
    return identity.join_community(get_container(), current_principal(), body.invite)


@endpoint(bp, "/v1/me/phone", "POST", body=PhoneBody, tags=("identity",),
          summary="通过微信手机号授权绑定手机号", errors=("PHONE_CODE_INVALID", "UPSTREAM_UNAVAILABLE"),
          response="UserView")
def bind_phone(body: PhoneBody):
    return identity.bind_phone(get_container(), current_principal(), body.code)


@endpoint(bp, "/v1/me/volunteer", "POST", body=VolunteerBody, tags=("identity",),
          summary="志愿者注册（须已加入社区）；返回新令牌", errors=("NOT_IN_COMMUNITY", "FORBIDDEN"),
          response="SessionView")
def register_volunteer(body: VolunteerBody):
    return identity.register_volunteer(get_container(), current_principal(), body.real_name, body.skills)


@endpoint(bp, "/v1/me", "DELETE", status=204, tags=("identity",),
          summary="注销：抹去个人信息，释放认领，撤销未完成的心愿；积分流水匿名保留")
def delete_me():
    identity.delete_me(current_principal())
    return json_response(None, 204)
