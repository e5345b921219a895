"""代办 routes: managed residents (代管居民, residents without WeChat), the actions staff take for them in person, and
the proxy log (代办记录). A proxy action answers exactly what the resident's own route answers."""
from chalice import Blueprint

from tongxin.usecases import binding, managed_residents, proxy
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas_proxy import (BindBody, ManagedResidentBody, ManagedResidentQuery, ProxyBallotBody, ProxyLogQuery,
                             ProxyReasonBody, ProxyRedeemBody, ProxyRequestBody, ProxyWishBody)

bp = Blueprint(__name__)
TAGS = ("proxy",)
# Every proxy action: the resident is the user's own (404 outside the actor's community or grids), has no WeChat
# account (409 HAS_ACCOUNT), and is not the actor (403).
PROXY_ERRORS = ("NOT_FOUND", "HAS_ACCOUNT")


@endpoint(bp, "/v1/admin/managed-residents", "POST", body=ManagedResidentBody, status=201, tags=TAGS,
          errors=("NOT_FOUND",), response="ManagedResidentView",
          summary="登记没有微信的居民（代管居民）：由工作人员代办，不能登录")
def register_managed_resident(body: ManagedResidentBody):
    """An admin (any grid of the community) or a grid worker of `grid_id` (403 FORBIDDEN for another grid). Registers
    a resident without WeChat: active, `resident` of the community and `grid_id`, `managed: true`, no WeChat account
    (nobody can sign in as them); staff then act for them at /v1/proxy/{user_id}/…. They appear in the member
    directory (`GET /v1/admin/members`, `managed: true`). Others see the real name masked (王**) as their nickname.
    A phone given here counts as bound (the 微实事 ballot needs one). 404 NOT_FOUND (`details.field: grid_id`) for a
    grid the community does not have. 201 the resident (phone and address whole for admins, masked for grid
    workers)."""
    return managed_residents.register(current_principal(), **body.model_dump())


@endpoint(bp, "/v1/admin/managed-residents", "GET", query=ManagedResidentQuery, tags=TAGS,
          response="ManagedResidentPage", summary="代管居民名单，新登记的在前（网格员：自己负责的网格）")
def list_managed_residents(query: ManagedResidentQuery):
    """An admin: the community's managed residents, `grid_id` narrowing to one grid. A grid worker: those of one of
    their grids — the one named (403 FORBIDDEN for another), else their first. Newest first; one Query a page."""
    return managed_residents.list_managed(current_principal(), grid_id=query.grid_id, limit=query.limit,
                                          cursor=query.cursor)


@endpoint(bp, "/v1/admin/managed-residents/{user_id}/binding-code", "POST", status=201, tags=TAGS,
          errors=("NOT_FOUND", "HAS_ACCOUNT"), response="BindingCodeView",
          summary="为代管居民发放一次性绑定码：居民有了微信后用它接管自己的代管账户")
def issue_binding_code(user_id: str):
    """An admin of the resident's community. A one-time code (8 characters, valid 7 days) the resident enters in the
    mini-program (`POST /v1/me/bind`) once they have WeChat; issuing again replaces the previous code (only the
    newest works). 404 NOT_FOUND for a user who is not a managed resident of the community (unknown, another
    community, 注销, already bound); 409 HAS_ACCOUNT for a member with WeChat (and for oneself)."""
    return binding.issue_code(current_principal(), user_id)


@endpoint(bp, "/v1/me/bind", "POST", body=BindBody, tags=TAGS,
          errors=("BINDING_CODE_INVALID", "ALREADY_IN_COMMUNITY", "ACCOUNT_IN_USE"), response="SessionView",
          summary="输入绑定码，用自己的微信接管代管账户（积分、心愿、报名、诉求都在其中）")
def bind_managed_account(body: BindBody):
    """Any signed-in user, typically a resident who was served in person (代办) and now has WeChat. The managed
    account — with everything staff did for them: points and their history, wishes, requests, sign-ups and volunteer
    hours, redemptions, ballots — becomes the caller's: their WeChat signs in to it from now on, with their nickname,
    avatar and verified phone. ONE transaction. Answers a NEW session {token, expires_in, user} for that account;
    the token the caller sent stops working at once (401), as their empty WeChat account is retired.

    404 BINDING_CODE_INVALID: unknown, used, expired, replaced by a newer code, or the resident is no longer managed.
    409 ALREADY_IN_COMMUNITY: the caller belongs to another community. 409 ACCOUNT_IN_USE (`details.reason`:
    `points`, `records` or `staff`): the caller's WeChat account already holds points, volunteer minutes, wishes,
    requests, sign-ups or redemptions, or a role beyond a resident's — those would need moving; bind with an unused
    WeChat account or ask staff."""
    return binding.bind(get_container(), current_principal(), body.code)


@endpoint(bp, "/v1/proxy/{user_id}/wishes", "POST", body=ProxyWishBody, status=201, tags=TAGS,
          errors=("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED") + PROXY_ERRORS,
          response="WishView", summary="代居民发布微心愿（规则、上限和答复与 POST /v1/wishes 相同）")
def proxy_publish_wish(user_id: str, body: ProxyWishBody):
    """Publishes a wish as the resident (`POST /v1/wishes`: the same body, rules, daily cap — 429 RATE_LIMITED — and
    answer). WeChat's content check needs an openid and the resident has none: it is asked with the acting staff
    member's (409 WECHAT_SESSION_STALE when they have not opened the mini-program for 2 h). Messages meant for the
    resident (wish claimed, fulfilled) cannot be pushed: the sender records them skipped.

    Who: the community's admin, or a grid worker of the resident's grid, for a managed resident who is present
    (403 FORBIDDEN for everyone else and for oneself; 404 NOT_FOUND for a resident outside the actor's community or
    grids; 409 HAS_ACCOUNT for a user with WeChat). `reason` (1–200) goes into the proxy-log entry, written in the
    action's own transaction with the actor's grant re-checked: a refused action writes nothing.
    """
    fields = body.model_dump()
    reason = fields.pop("reason")
    return proxy.publish_wish(get_container(), current_principal(), user_id, reason=reason, **fields)


@endpoint(bp, "/v1/proxy/{user_id}/requests", "POST", body=ProxyRequestBody, status=201, tags=TAGS,
          errors=("CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED") + PROXY_ERRORS,
          response="RequestDetailView", summary="代居民提交诉求（规则、上限和答复与 POST /v1/requests 相同）")
def proxy_submit_request(user_id: str, body: ProxyRequestBody):
    """Submits a 接诉即办 request as the resident (`POST /v1/requests`: the same body, rules, daily cap and answer;
    routed to the resident's grid). The content check is asked with the acting staff member's openid.

    Who: the community's admin, or a grid worker of the resident's grid, for a managed resident who is present
    (403 FORBIDDEN for everyone else and for oneself; 404 NOT_FOUND for a resident outside the actor's community or
    grids; 409 HAS_ACCOUNT for a user with WeChat). `reason` (1–200) goes into the proxy-log entry, written in the
    action's own transaction with the actor's grant re-checked: a refused action writes nothing.
    """
    return proxy.submit_request(get_container(), current_principal(), user_id, reason=body.reason,
                                category=body.category, content=body.content,
                                location=body.location.model_dump() if body.location else None, urgent=body.urgent)


@endpoint(bp, "/v1/proxy/{user_id}/events/{event_id}/signup", "POST", body=ProxyReasonBody, status=201, tags=TAGS,
          errors=("SIGNUP_CLOSED", "ALREADY_SIGNED_UP") + PROXY_ERRORS, response="SignupView",
          summary="代居民报名活动（规则和答复与 POST /v1/events/{event_id}/signup 相同）")
def proxy_sign_up(user_id: str, event_id: str, body: ProxyReasonBody):
    """Signs the resident up (`POST /v1/events/{event_id}/signup`: a place while there is one, else the waitlist;
    409 SIGNUP_CLOSED, ALREADY_SIGNED_UP; a 招募令 needs the resident to be a volunteer: 403).

    Who: the community's admin, or a grid worker of the resident's grid, for a managed resident who is present
    (403 FORBIDDEN for everyone else and for oneself; 404 NOT_FOUND for a resident outside the actor's community or
    grids; 409 HAS_ACCOUNT for a user with WeChat). `reason` (1–200) goes into the proxy-log entry, written in the
    action's own transaction with the actor's grant re-checked: a refused action writes nothing.
    """
    return proxy.sign_up(current_principal(), user_id, event_id, reason=body.reason)


@endpoint(bp, "/v1/proxy/{user_id}/redemptions", "POST", body=ProxyRedeemBody, status=201, tags=TAGS,
          errors=("INSUFFICIENT_POINTS", "OUT_OF_STOCK", "LIMIT_EXCEEDED", "OFF_SHELF", "INVALID_STATE")
          + PROXY_ERRORS, response="RedemptionView",
          summary="代居民兑换商品：扣居民的积分，取货码答复给代办的工作人员（规则与 POST /v1/redemptions 相同）")
def proxy_redeem(user_id: str, body: ProxyRedeemBody):
    """Redeems goods with the resident's points (`POST /v1/redemptions`: one transaction — their points, the stock,
    the pickup code; 409 INSUFFICIENT_POINTS, OUT_OF_STOCK, LIMIT_EXCEEDED, OFF_SHELF, INVALID_STATE). The answer,
    with the pickup code, goes to the staff member, who hands it to the resident.

    Who: the community's admin, or a grid worker of the resident's grid, for a managed resident who is present
    (403 FORBIDDEN for everyone else and for oneself; 404 NOT_FOUND for a resident outside the actor's community or
    grids; 409 HAS_ACCOUNT for a user with WeChat). `reason` (1–200) goes into the proxy-log entry, written in the
    action's own transaction with the actor's grant re-checked: a refused action writes nothing.
    """
    return proxy.redeem(current_principal(), user_id, reason=body.reason, goods_id=body.goods_id,
                        quantity=body.quantity)


@endpoint(bp, "/v1/proxy/{user_id}/project-rounds/{round_id}/ballot", "POST", body=ProxyBallotBody, status=201,
          tags=TAGS, errors=("ALREADY_VOTED", "VOTING_CLOSED", "PHONE_REQUIRED", "TOO_MANY_CHOICES",
                             "BUDGET_EXCEEDED") + PROXY_ERRORS, response="BallotReceiptView",
          summary="代居民投票（微实事；规则和答复与 POST /v1/project-rounds/{round_id}/ballot 相同）")
def proxy_cast_ballot(user_id: str, round_id: str, body: ProxyBallotBody):
    """Casts the resident's ballot (`POST /v1/project-rounds/{round_id}/ballot`: once per round, the same rules and
    receipt, with `proxy: true`). The phone written when the resident was registered counts as their bound phone
    (none: 409 PHONE_REQUIRED).

    Who: the community's admin, or a grid worker of the resident's grid, for a managed resident who is present
    (403 FORBIDDEN for everyone else and for oneself; 404 NOT_FOUND for a resident outside the actor's community or
    grids; 409 HAS_ACCOUNT for a user with WeChat). `reason` (1–200) goes into the proxy-log entry, written in the
    action's own transaction with the actor's grant re-checked: a refused action writes nothing.
    """
    return proxy.cast_ballot(current_principal(), user_id, round_id, reason=body.reason,
                             project_ids=body.project_ids)


@endpoint(bp, "/v1/admin/proxy-log", "GET", query=ProxyLogQuery, tags=TAGS, response="ProxyLogPage",
          summary="代办记录：谁为谁、办了什么、为什么、何时，新的在前")
def list_proxy_log(query: ProxyLogQuery):
    """The community's admin. Every action staff took for a managed resident, newest first: who (`actor`, the role
    acted under), for whom (`subject`), what (`kind`, the thing concerned and the thing made), why (`reason`), when
    (`at`). `user_id` narrows to one resident. One Query a page."""
    return proxy.proxy_log(current_principal(), user_id=query.user_id, limit=query.limit, cursor=query.cursor)
