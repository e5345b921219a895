"""The staff console's sessions (管理后台 扫码登录): tickets, their codes, approval, polling, logout, dev login."""
from chalice import Blueprint, Response

from tongxin.usecases import console
from tongxin.wiring import get_container

from ..http import (
    binary_response, current_console_session, current_principal, current_request, endpoint, json_response,
)
from ..schemas import ConsoleQrQuery, DevLoginBody

bp = Blueprint(__name__)


def _with_cookie(payload: dict, cookie: str | None, status: int = 200) -> Response:
    response = json_response(payload, status)
    # An answer that sets (or may set) the session must never be cached by anything in between.
    response.headers["Cache-Control"] = "no-store"
    if cookie:
        response.headers["Set-Cookie"] = cookie
    return response


@endpoint(bp, "/v1/console/sessions", "POST", public=True, status=201, tags=("console",),
          summary="管理后台扫码登录：获取一次性登录票据（2 分钟有效）", errors=("RATE_LIMITED",),
          response="ConsoleTicketView")
def create_ticket():
    """Anyone (the console's login page; no token). A one-time ticket `<id>.<secret>` valid for 2 minutes, and
    when it expires: show its code (`GET /v1/console/sessions/{ticket}/qrcode`), then poll
    `GET /v1/console/sessions/{ticket}`. At most 30 tickets a minute from one source address: past that 429
    RATE_LIMITED with `Retry-After` (and `details.retry_after`, the seconds to the minute's end)."""
    context = current_request().context or {}
    source = (context.get("identity") or {}).get("sourceIp") or ""
    return console.create_ticket(source)


@endpoint(bp, "/v1/console/sessions/{ticket}/qrcode", "GET", public=True, query=ConsoleQrQuery, tags=("console",),
          produces=("image/jpeg", "image/png", "application/json"), errors=("NOT_FOUND", "UPSTREAM_UNAVAILABLE"),
          response="ConsoleTicketCodeView", summary="管理后台登录票据的小程序码（png）或其内容（json）")
def ticket_qrcode(ticket: str, query: ConsoleQrQuery):
    """Anyone holding the whole ticket (the console). `format=png` (default): the WeChat mini-program code whose
    scene is `lg=<id>` (the ticket's public half) and which opens the console-login page, in the image type WeChat
    gives (image/jpeg), with an `Accept` naming an image type or `*/*`; 503 UPSTREAM_UNAVAILABLE when WeChat is
    down. `format=json`: {ticket, scene, page, expires_at}. 404 NOT_FOUND for a ticket unknown, expired or no
    longer waiting."""
    result = console.ticket_code(get_container(), ticket, query.format)
    return result if isinstance(result, dict) else binary_response(*result)


@endpoint(bp, "/v1/console/sessions/{ticket}/approve", "POST", tags=("console",),
          errors=("TICKET_USED", "NOT_FOUND"), response="ConsoleApprovalView",
          summary="在小程序中确认管理后台登录（工作人员扫码后调用）")
def approve_ticket(ticket: str):
    """Staff only — admin, grid worker, store keeper, street staff — with their Bearer token from the mini-program
    (a console session cookie cannot approve: 403 `details.reason: bearer_required`); 403 FORBIDDEN for a resident
    or a volunteer. `{ticket}` is the id the scanned code's scene carries (`lg=<id>`, without the prefix) or the
    whole ticket. One conditional write: the ticket waiting and not expired → approved by the caller, the staff role
    re-checked in the same transaction. 409 TICKET_USED once approved (by anyone); 404 NOT_FOUND when unknown or
    expired."""
    return console.approve(current_principal(), ticket, by_cookie=current_console_session() is not None)


@endpoint(bp, "/v1/console/sessions/{ticket}", "GET", public=True, tags=("console",), errors=("NOT_FOUND",),
          response="ConsoleTicketStatusView", summary="管理后台轮询登录票据：waiting / approved（设置会话 Cookie）/ expired")
def poll_ticket(ticket: str):
    """Anyone holding the whole ticket (the console polls every few seconds). `{status: waiting|approved|expired,
    expires_at, session}`: the first poll after the approval answers `approved` with `session` {csrf_token,
    expires_at} and sets the session cookie (HttpOnly, SameSite=Strict, Path=/, Secure outside the local stack,
    8 hours); every later poll answers `expired` without a cookie (a ticket is used once), as does a ticket past its
    2 minutes. With the cookie every /v1 route answers as to that person's Bearer token; a write also needs
    `X-CSRF-Token: <csrf_token>` and the console's `Origin` (else 403 CSRF_FAILED). 404 NOT_FOUND for an unknown
    ticket."""
    payload, cookie = console.poll(get_container(), ticket)
    return _with_cookie(payload, cookie)


@endpoint(bp, "/v1/console/sessions/current", "DELETE", status=204, tags=("console",),
          summary="退出管理后台（吊销当前会话并清除 Cookie）")
def logout():
    """The holder of a console session (the cookie; with its `X-CSRF-Token` and the console's `Origin`, as every
    cookie write). Revokes the session (one conditional write) and clears the cookie: 204. From then on the cookie
    answers 401 UNAUTHENTICATED with `details.reason: session_revoked`. A Bearer token has no console session:
    401 with `details.reason: missing_session`."""
    console.logout(current_principal(), current_console_session())
    response = Response(body="", status_code=204)
    response.headers["Set-Cookie"] = console.clear_cookie(get_container().settings)
    return response


@endpoint(bp, "/v1/console/dev-login", "POST", public=True, body=DevLoginBody, tags=("console",),
          errors=("NOT_FOUND", "WECHAT_CODE_INVALID", "UPSTREAM_UNAVAILABLE"), response="ConsoleSessionView",
          summary="本地开发：以演示用户身份直接登录管理后台（仅 dev/test）")
def dev_login(body: DevLoginBody):
    """The local stack and the tests only (stages dev and test): a console session for the demo user `name`, as
    the `dev:<name>` login makes or finds them — the same cookie and {csrf_token, expires_at} as a scan-login. In
    any other stage 404 NOT_FOUND, as if the route did not exist."""
    payload, cookie = console.dev_login(get_container(), body.name)
    return _with_cookie(payload, cookie)
