"""The staff console's scan-login (扫码登录) and its sessions (docs/architecture.md, "The console's sessions").

1. The console asks for a ticket (``create_ticket``: one transaction — the ticket's Put and its source address's
   counter for the minute, capped) and shows its mini-program code (``ticket_code``).
2. A staff member scans it in the mini-program, which approves it with their Bearer token (``approve``: one
   conditional write — waiting and not expired → approved by this user — with the staff grant re-checked on the
   user item in the same transaction).
3. The console polls (``poll``); its first poll after the approval collects (one transaction: approved and not yet
   collected → collected, and the session's Put) and gets the session cookie and its CSRF token.
4. With the cookie, the middleware reads the session and the user together (``resolve_session``) on every request;
   ``logout`` revokes the session (one conditional write).
"""
from __future__ import annotations

import hmac
import logging
import math
from datetime import datetime, timedelta

from ..adapters.dynamo import batch, counters
from ..adapters.dynamo.guards import ROLE_CHANGED
from ..adapters.dynamo.models import ConsoleSessionModel, IdempotencyModel, UserModel
from ..adapters.dynamo.tx import Tx, conditional_update
from ..config import Settings
from ..domain import console as rules
from ..domain.access import Principal, Role
from ..domain.clock import to_api, utcnow
from ..domain.errors import CsrfFailed, DomainError, Forbidden, NotFound, RateLimited, TicketUsed, Unauthenticated
from ..wiring import Container
from . import access

log = logging.getLogger(__name__)

# Who may sign in to the console: the staff roles (a resident or a volunteer has nothing there).
STAFF_ROLES = (Role.ADMIN, Role.GRID_WORKER, Role.STORE_KEEPER, Role.STREET_STAFF, Role.DISTRICT_STAFF,
               Role.DEPARTMENT_STAFF)
# Tickets a source address may ask for in a minute: a console asks for one every 2 minutes (when the last expired);
# a whole office behind one address stays far below it, a script filling the table does not.
TICKETS_PER_MINUTE = 30
TICKET_WINDOW = timedelta(minutes=1)
TIDY_AFTER = timedelta(hours=1)  # the TTL: DynamoDB may delete an item this long after it expired
TICKET_NOT_FOUND = NotFound("登录二维码不存在或已过期，请刷新")
SESSION_EXPIRED = Unauthenticated("管理后台登录已过期，请重新扫码登录", details={"reason": "session_expired"})
SESSION_REVOKED = Unauthenticated("管理后台已退出登录，请重新扫码登录", details={"reason": "session_revoked"})
SESSION_MALFORMED = Unauthenticated("管理后台登录凭证无效，请重新扫码登录", details={"reason": "malformed"})
NO_SESSION = Unauthenticated("没有管理后台会话", details={"reason": "missing_session"})
BEARER_ONLY = Forbidden("请在小程序中扫码确认登录", details={"reason": "bearer_required"})
WAITING, APPROVED, COLLECTED = "waiting", "approved", "collected"
ACTIVE, REVOKED = "active", "revoked"


class _Gone(DomainError):
    """The ticket was collected by another poll, or its time ran out, or its approver left, in between (internal:
    the poll answers ``expired``)."""


# --- 1. a ticket -------------------------------------------------------------------------------------------------

def _too_many(window_ends: datetime, now: datetime) -> RateLimited:
    wait = max(1, math.ceil((window_ends - now).total_seconds()))
    return RateLimited("获取登录二维码过于频繁，请稍后再试",
                       details={"limit": TICKETS_PER_MINUTE, "retry_after": wait})


def create_ticket(source: str) -> dict:
    """A new one-time ticket, counted against its source address's minute (429 past ``TICKETS_PER_MINUTE``, with
    the seconds to the window's end): the counter and the ticket in ONE transaction."""
    now = utcnow()
    ticket, ticket_id, secret_hash = rules.new_ticket()
    expires_at = now + rules.TICKET_LIFETIME
    key, window_ends = counters.window(f"console-ticket#{source or 'unknown'}", now, TICKET_WINDOW)
    tx = counters.bump(Tx(), key, cap=TICKETS_PER_MINUTE, expires_at=window_ends, error=_too_many(window_ends, now))
    tx.put(ConsoleSessionModel(rules.ticket_key(ticket_id), status=WAITING, secret_hash=secret_hash, created_at=now,
                               expires_at=expires_at, ttl=expires_at + TIDY_AFTER),
           condition=ConsoleSessionModel.id.does_not_exist())
    tx.commit()
    return {"ticket": ticket, "expires_at": to_api(expires_at)}


def rate_key(source: str, now: datetime) -> str:
    """The counter of ``source``'s tickets in the minute of ``now`` (tests reset it)."""
    return counters.window(f"console-ticket#{source or 'unknown'}", now, TICKET_WINDOW)[0]


def _own_ticket(ticket: str) -> tuple[ConsoleSessionModel, str]:
    """The ticket item a console's whole ticket names (its secret matching), else 404."""
    parsed = rules.parse_ticket(ticket, secret_required=True)
    if parsed is None:
        raise TICKET_NOT_FOUND
    ticket_id, secret_hash = parsed
    try:
        item = ConsoleSessionModel.get(rules.ticket_key(ticket_id), consistent_read=True)
    except ConsoleSessionModel.DoesNotExist:
        raise TICKET_NOT_FOUND from None
    if not item.secret_hash or not hmac.compare_digest(item.secret_hash, secret_hash):
        raise TICKET_NOT_FOUND
    return item, secret_hash


def ticket_code(container: Container, ticket: str, fmt: str):
    """The mini-program code of a waiting ticket (scene ``lg=<id>``; WeChat's image and content type), or
    ``format=json`` {ticket, scene, page, expires_at}. 404 once it is no longer waiting or has expired."""
    item, _ = _own_ticket(ticket)
    if item.status != WAITING or item.expires_at <= utcnow():
        raise TICKET_NOT_FOUND
    ticket_id = item.id.split("#", 1)[1]
    settings = container.settings
    scene, page = rules.scene(ticket_id), settings.wechat_console_login_page
    if fmt == "json":
        return {"ticket": ticket, "scene": scene, "page": page, "expires_at": to_api(item.expires_at)}
    return container.wechat.wxacode(scene, page, env_version=settings.wxacode_env_version)


# --- 2. the approval ---------------------------------------------------------------------------------------------

def _staff_condition():
    holds = UserModel.roles.contains(STAFF_ROLES[0].value)
    for role in STAFF_ROLES[1:]:
        holds |= UserModel.roles.contains(role.value)
    return (UserModel.status == "active") & holds


def approve(principal: Principal, ticket: str, *, by_cookie: bool) -> dict:
    """The staff member's mini-program approves the ticket a scanned code names (the scene's id, or the whole
    ticket). Bearer only: a console session cannot approve another (it would outlive its 8 hours). 403 for a
    caller with no staff role; one conditional write — the ticket waiting and not expired → approved by this
    user — with the staff role re-checked on the user item in the same transaction; 409 TICKET_USED when it was
    approved already, 404 when unknown or expired."""
    if by_cookie:
        raise BEARER_ONLY
    if not any(principal.has(role) for role in STAFF_ROLES):
        raise Forbidden("只有社区工作人员可以登录管理后台")
    parsed = rules.parse_ticket(ticket, secret_required=False)
    if parsed is None:
        raise TICKET_NOT_FOUND
    ticket_id, secret_hash = parsed
    now = utcnow()

    def refused(current: ConsoleSessionModel | None) -> DomainError:
        if current is None or (secret_hash is not None and current.secret_hash != secret_hash):
            return TICKET_NOT_FOUND
        if current.status in (APPROVED, COLLECTED):
            return TicketUsed()
        return TICKET_NOT_FOUND  # waiting, but expired

    condition = (ConsoleSessionModel.status == WAITING) & (ConsoleSessionModel.expires_at > now)
    if secret_hash is not None:
        condition &= ConsoleSessionModel.secret_hash == secret_hash
    answer = {"status": APPROVED}
    Tx().check(UserModel, principal.user_id, condition=_staff_condition(), error=ROLE_CHANGED) \
        .update(ConsoleSessionModel(rules.ticket_key(ticket_id)),
                [ConsoleSessionModel.status.set(APPROVED), ConsoleSessionModel.user_id.set(principal.user_id),
                 ConsoleSessionModel.approved_at.set(now),
                 ConsoleSessionModel.collect_until.set(now + rules.COLLECT_GRACE)],
                condition=condition, error=refused) \
        .commit(answer)
    log.info("console ticket approved", extra={"user_id": principal.user_id})
    return answer


# --- 3. the poll, and the session it collects --------------------------------------------------------------------

def _session_item(value: str, user_id: str, now: datetime) -> tuple[ConsoleSessionModel, datetime]:
    expires_at = now + rules.SESSION_LIFETIME
    return ConsoleSessionModel(rules.session_key(value), status=ACTIVE, user_id=user_id, created_at=now,
                               expires_at=expires_at, ttl=expires_at + TIDY_AFTER), expires_at


def _session_answer(settings: Settings, value: str, expires_at: datetime) -> dict:
    return {"csrf_token": rules.csrf_token(settings.token_secret, value), "expires_at": to_api(expires_at)}


def session_cookie(settings: Settings, value: str) -> str:
    return rules.set_cookie(value, secure=settings.console_cookie_secure,
                            max_age=int(rules.SESSION_LIFETIME.total_seconds()))


def poll(container: Container, ticket: str) -> tuple[dict, str | None]:
    """The console's poll: ``waiting``, ``expired`` (also once collected: a ticket is used once), or — the first
    poll after the approval — ``approved`` with the new session (its CSRF token and expiry) and the cookie's
    ``Set-Cookie`` value. The collection is ONE transaction: the ticket approved, not yet collected, within its
    grace, and its approver still an active account → collected, with the session's Put."""
    item, secret_hash = _own_ticket(ticket)
    now = utcnow()
    answer = {"status": "expired", "expires_at": to_api(item.expires_at), "session": None}
    if item.status == WAITING and item.expires_at > now:
        return {**answer, "status": WAITING}, None
    if item.status != APPROVED or item.collect_until is None or item.collect_until <= now:
        return answer, None
    value = rules.new_session(item.user_id)
    session, expires_at = _session_item(value, item.user_id, now)
    gone = _Gone()
    try:
        Tx().check(UserModel, item.user_id, condition=UserModel.status == "active", error=gone) \
            .update(ConsoleSessionModel(item.id),
                    [ConsoleSessionModel.status.set(COLLECTED), ConsoleSessionModel.collected_at.set(now)],
                    condition=(ConsoleSessionModel.status == APPROVED) & (ConsoleSessionModel.collect_until > now)
                    & (ConsoleSessionModel.secret_hash == secret_hash), error=gone) \
            .put(session, condition=ConsoleSessionModel.id.does_not_exist()) \
            .commit()
    except _Gone:
        return answer, None
    log.info("console session opened", extra={"user_id": item.user_id})
    return ({**answer, "status": APPROVED, "session": _session_answer(container.settings, value, expires_at)},
            session_cookie(container.settings, value))


def dev_login(container: Container, name: str) -> tuple[dict, str]:
    """The local stack and the tests only (the dev and test stages; elsewhere 404 as if the route did not exist): a
    console session for the demo user ``name``, as a ``dev:<name>`` login makes or finds them."""
    if not container.settings.is_dev:
        raise NotFound()
    from .identity import login
    user_id = login(container, f"dev:{name}")["user"]["id"]
    now = utcnow()
    value = rules.new_session(user_id)
    session, expires_at = _session_item(value, user_id, now)
    Tx().put(session, condition=ConsoleSessionModel.id.does_not_exist()).commit()
    return _session_answer(container.settings, value, expires_at), session_cookie(container.settings, value)


# --- 4. every request with the cookie, and logout ----------------------------------------------------------------

def cookie_user(value: str) -> str:
    """The user a cookie names (before anything is read), else 401 ``malformed``."""
    user_id = rules.parse_session(value)
    if user_id is None:
        raise SESSION_MALFORMED
    return user_id


def resolve_session(value: str, idempotency_record_id: str | None = None
                    ) -> tuple[Principal, str, IdempotencyModel | None]:
    """The caller of a cookie-authenticated request: the session, the user (and the Idempotency-Key record) in ONE
    BatchGetItem; 401 for a session unknown or expired (``session_expired``), revoked (``session_revoked``), or an
    account gone (``account_deleted``). Rights are the user's as stored now, as for a Bearer token."""
    user_id = cookie_user(value)
    key = rules.session_key(value)
    wanted = [(UserModel, user_id), (ConsoleSessionModel, key)]
    if idempotency_record_id is not None:
        wanted.append((IdempotencyModel, idempotency_record_id))
    user, session, *record = batch.get_many(*wanted)
    if session is None or session.user_id != user_id:
        raise SESSION_EXPIRED
    if session.status == REVOKED:
        raise SESSION_REVOKED
    if session.status != ACTIVE or session.expires_at <= utcnow():
        raise SESSION_EXPIRED
    return access.adopt(user), key, (record[0] if record else None)


def check_csrf(settings: Settings, value: str, *, token: str | None, origin: str | None, host: str | None) -> None:
    """A cookie-authenticated write: ``X-CSRF-Token`` equal to the session's, and an ``Origin`` naming the console's
    origin (configured, or in dev and test the request's Host); else 403 CSRF_FAILED."""
    if not any(rules.csrf_matches(key, value, token) for key in settings.token_secrets):  # previous: rotation
        raise CsrfFailed(details={"reason": "csrf_token"})
    if not rules.same_origin(origin, expected=settings.console_origin, host=host):
        raise CsrfFailed(details={"reason": "origin"})


def logout(principal: Principal, session_key: str | None) -> None:
    """Revoke the caller's console session (one conditional write: still active and theirs)."""
    if session_key is None:
        raise NO_SESSION
    now = utcnow()
    conditional_update(ConsoleSessionModel(session_key),
                       [ConsoleSessionModel.status.set(REVOKED), ConsoleSessionModel.revoked_at.set(now)],
                       condition=(ConsoleSessionModel.status == ACTIVE)
                       & (ConsoleSessionModel.user_id == principal.user_id),
                       error=SESSION_REVOKED, answer=None)
    log.info("console session revoked", extra={"user_id": principal.user_id})


def clear_cookie(settings: Settings) -> str:
    return rules.clear_cookie(secure=settings.console_cookie_secure)
