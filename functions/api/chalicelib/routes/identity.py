"""Identity routes: login, my profile, joining a community, phone, volunteer registration, 注销."""
from chalice import Blueprint

from tongxin.usecases import account_deletion, identity
from tongxin.wiring import get_container

from ..http import current_principal, endpoint, json_response
from ..schemas import JoinCommunityBody, LoginBody, PhoneBody, UpdateMeBody, VolunteerBody

bp = Blueprint(__name__)


@endpoint(bp, "/v1/auth/login", "POST", public=True, body=LoginBody, tags=("identity",),
          summary="微信登录：wx.login 的 code 换取令牌（首次登录自动建号）",
          errors=("WECHAT_CODE_INVALID", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED"), response="SessionView")
def login(body: LoginBody):
    """Anyone. Exchanges a `wx.login` code for our own token through WeChat's code2session; the first login
    creates the user, in no community yet. Answers {token, expires_in, user}. The token lasts `expires_in`
    seconds; after that every request answers 401 UNAUTHENTICATED with `details.reason: token_expired`, and the
    mini-program calls `wx.login` and this route again, silently, then retries once. 401 WECHAT_CODE_INVALID
    for a code WeChat does not know or already used; 429 RATE_LIMITED past WeChat's per-minute login limit;
    503 UPSTREAM_UNAVAILABLE when WeChat is down or hangs (the code may be spent: get a new one)."""
    return identity.login(get_container(), body.code)


@endpoint(bp, "/v1/me", "GET", summary="我的资料、角色、社区、积分与志愿时长", tags=("identity",),
          response="MeView")
def get_me():
    """Any signed-in user, also before joining a community. The caller as stored now: roles and scopes,
    community (with its name) and grid, masked phone, points balance, points earned, volunteer minutes."""
    return identity.get_me(current_principal())


@endpoint(bp, "/v1/me", "PATCH", body=UpdateMeBody, summary="修改昵称或头像（昵称经微信内容安全检查）",
          tags=("identity",), errors=("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE"),
          response="UserView")
def update_me(body: UpdateMeBody):
    """Any signed-in user. Changes the nickname (one line, at most 20 characters) or the avatar URL (https);
    what is left out is kept. 400 VALIDATION_FAILED names the field. A new nickname passes WeChat's content
    security check (scene 资料): 400 CONTENT_REJECTED when risky, 409 WECHAT_SESSION_STALE when the user has not
    opened the mini-program for 2 h (reopen it, retry), 503 UPSTREAM_UNAVAILABLE when WeChat is down."""
    return identity.change_profile(get_container(), current_principal(), body.model_dump(exclude_none=True))


@endpoint(bp, "/v1/me/community", "POST", body=JoinCommunityBody, tags=("identity",),
          summary="凭邀请码加入社区与网格；返回新令牌", errors=("INVITE_INVALID", "ALREADY_IN_COMMUNITY"),
          response="SessionView")
def join_community(body: JoinCommunityBody):
    """Any signed-in user. Joins the community and grid an invite code names (the bare code, the mini-program
    code's scene `inv=<code>`, or the whole link a printed invite QR carries, `<QR_LINK_BASE>/i/<code>`); moving to
    another grid of the same community is allowed. Answers a new {token, expires_in, user}: use it from then on.
    404 INVITE_INVALID for an unknown or expired code, or a link that is not this service's; 409
    ALREADY_IN_COMMUNITY for another community's code."""
    return identity.join_community(get_container(), current_principal(), body.invite)


@endpoint(bp, "/v1/me/phone", "POST", body=PhoneBody, tags=("identity",),
          summary="通过微信手机号授权绑定手机号", errors=("PHONE_CODE_INVALID", "UPSTREAM_UNAVAILABLE"),
          response="UserView")
def bind_phone(body: PhoneBody):
    """Any signed-in user. Binds the phone number WeChat's getPhoneNumber authorised, given its one-time code;
    answers the user with the phone masked. 400 PHONE_CODE_INVALID for an unknown or used code; 503
    UPSTREAM_UNAVAILABLE when WeChat is down (ask for a new code before trying again)."""
    return identity.bind_phone(get_container(), current_principal(), body.code)


@endpoint(bp, "/v1/me/volunteer", "POST", body=VolunteerBody, tags=("identity",),
          summary="志愿者注册（须已加入社区）；返回新令牌", errors=("NOT_IN_COMMUNITY", "FORBIDDEN"),
          response="SessionView")
def register_volunteer(body: VolunteerBody):
    """A member of a community. Registers the caller as a volunteer (志愿者注册) with a real name and skills,
    or updates them; answers a new {token, expires_in, user}. 409 NOT_IN_COMMUNITY before joining one; 403
    FORBIDDEN with `details.reason: volunteer_revoked` once an admin took the role away (only an admin gives it
    back)."""
    return identity.register_volunteer(get_container(), current_principal(), body.real_name, body.skills)


@endpoint(bp, "/v1/me", "DELETE", status=204, tags=("identity",),
          summary="注销：抹去个人信息，释放认领，撤销未完成的心愿；积分流水匿名保留")
def delete_me():
    """Any signed-in user. 注销: claims released, unfulfilled wishes cancelled, event places given up (the next
    in line promoted), pending redemptions refunded, then every personal field erased and the WeChat identity
    removed; the points ledger stays under the opaque id. 204; the old token answers 401 everywhere at once."""
    account_deletion.delete_me(current_principal())
    return json_response(None, 204)
