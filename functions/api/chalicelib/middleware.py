"""The one HTTP middleware: request log context, authentication, idempotency, and the error envelope.

Chalice answers some requests itself (bad JSON, unknown method, unsupported media type) with bodies of
its own shape; they are rewritten here into ``{"error": {"code", "message", "details"}}``. Errors must
be *returned* as responses from middleware: an exception raised here becomes a bare 500.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
import uuid

from aws_lambda_powertools import Logger
from chalice import Chalice, Response

from tongxin import metrics
from tongxin.domain.errors import (
    DomainError, InternalError, MethodNotAllowed, NotFound, Unauthenticated, ValidationFailed, WechatSessionStale,
)
from tongxin.wiring import get_container

from .http import (
    MUTATING, OVERRIDE_HEADER, allowed_methods, enter_request, error_response, json_response, leave_request,
    route_for, set_console_session, set_principal,
)

logger = Logger(service="tongxin")

IDEMPOTENCY_KEY_MAX = 128
REQUEST_ID_HEADER = "x-amzn-RequestId"
# Refusals of the moment, not of the request: not kept under an Idempotency-Key, so the same request with the same
# key runs again once the cause is gone (the user reopened the mini-program).
NOT_KEPT = frozenset({WechatSessionStale.code})

_CHALICE_ERRORS = {
    "BadRequestError": lambda m: ValidationFailed("请求格式不正确", details={"reason": m}),
    "MethodNotAllowedError": lambda m: MethodNotAllowed(),
    "NotFoundError": lambda m: NotFound(),
    "UnsupportedMediaType": lambda m: ValidationFailed("请求体必须是 JSON（Content-Type: application/json）",
                                                        code="UNSUPPORTED_MEDIA_TYPE"),
    "BadRequest": lambda m: ValidationFailed("请求格式不正确"),
}


def _envelope_chalice_error(response: Response) -> Response:
    body = response.body
    if isinstance(body, dict) and "Code" in body and "error" not in body:
        make = _CHALICE_ERRORS.get(body.get("Code"))
        if response.status_code >= 500:
            error = InternalError()
        else:
            error = make(body.get("Message")) if make else DomainError("请求有误")
            error.status = response.status_code  # keep Chalice's 4xx status (405, 415, ...)
        headers = {k: v for k, v in (response.headers or {}).items() if k.lower() == "allow"}
        return error_response(error, headers)
    return response


def _bearer(request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _request_hash(request, method: str) -> str:
    """``method`` is the one the request acts as (PATCH for its POST form): both forms are one request."""
    raw = request.raw_body or b""
    try:  # the same JSON written with other spacing or key order is the same request
        raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to normalise: hash the bytes as sent
        pass
    digest = hashlib.sha256(f"{method} {request.path}\n".encode() + raw)
    return digest.hexdigest()


def _override_refused(request, resource: str, method: str, route) -> Response | None:
    """wx.request has no PATCH: a PATCH route is also reached by POST with ``X-HTTP-Method-Override: PATCH``. A POST
    on such a path without the header, or a POST whose header names a method its path does not have, is a method
    the path lacks: 405 METHOD_NOT_ALLOWED with ``Allow``, before anything else — as Chalice answers any method a
    path lacks. The header is looked at on POST only."""
    if method != "POST" or not resource:
        return None
    wanted = (request.headers.get(OVERRIDE_HEADER.lower()) or "").strip().upper()
    if route is not None and route.override_of is not None and wanted == route.override_of:
        return None
    if (route is None or route.override_of is None) and not wanted:
        return None  # an ordinary POST, or one the path lacks (Chalice's own 405, enveloped below)
    allow = allowed_methods(resource)
    return error_response(MethodNotAllowed(details={"allowed": allow, "override_header": OVERRIDE_HEADER}),
                          {"Allow": ", ".join(allow)})


def _error_code(response: Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        return json.loads(_body_text(response))["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def _body_text(response: Response) -> str:
    body = response.body
    if isinstance(body, (dict, list)):
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body or ""


def install(app: Chalice) -> None:
    @app.middleware("http")
    def tongxin_http(request, get_response):
        started = time.perf_counter()
        context = request.context or {}
        resource, method = context.get("resourcePath", ""), request.method
        # Thread-safe keys: the local server runs requests in threads (Lambda runs one at a time).
        logger.thread_safe_clear_keys()
        # API Gateway's id for the request (a fresh one locally): in the log line and in the answer's
        # x-amzn-RequestId, so a user's report can be matched to its log (API Gateway sends the same id).
        request_id = context.get("requestId") or uuid.uuid4().hex
        logger.thread_safe_append_keys(request_id=request_id)
        context_tokens = enter_request(request)
        try:
            # Chalice's own refusals are put in our envelope before anything (idempotency) stores them.
            response = _handle(request, lambda r: _envelope_chalice_error(get_response(r)), resource, method)
        except Exception as exc:  # never a stack trace or a Chalice body to the client
            from tongxin.adapters.dynamo.tx import storage_refusal
            busy = storage_refusal(exc)  # the caller's read, refused by DynamoDB past the retries: 503
            if busy is None:
                logger.exception("unhandled error")
            else:
                logger.warning("storage refused", extra={"error": type(exc).__name__})
            response = error_response(busy or InternalError())
        finally:
            leave_request(context_tokens)
            # the request's cache of the caller's access, once an authenticated request has loaded that use case
            access = sys.modules.get("tongxin.usecases.access")
            if access is not None and "forget" in vars(access):
                access.forget()
        response.headers = {**(response.headers or {}), REQUEST_ID_HEADER: request_id}
        logger.info("request", extra={"method": method, "route": resource, "status": response.status_code,
                                      "ms": round((time.perf_counter() - started) * 1000, 1)})
        metrics.flush()  # the business outcomes this request committed (tongxin.metrics), one EMF line
        return response


def _render(route) -> callable:
    """How this route turns a use case's answer into its success response (for the Idempotency-Key record)."""
    from tongxin.adapters.dynamo import idempotency

    def render(answer) -> idempotency.StoredResponse:
        response = json_response(answer, route.status if route else 200)
        return idempotency.StoredResponse(response.status_code, _body_text(response), _content_type(response))
    return render


def _content_type(response: Response) -> str | None:
    return next((v for k, v in (response.headers or {}).items() if k.lower() == "content-type"), None)


def _replayed(stored) -> Response:
    """``stored``: an ``idempotency.StoredResponse``."""
    headers = {"Idempotent-Replayed": "true"}
    if stored.content_type:
        headers["Content-Type"] = stored.content_type
    return Response(body=stored.body, status_code=stored.status, headers=headers)


def _handle(request, get_response, resource: str, method: str) -> Response:
    route = route_for(resource, method)
    container = get_container()  # also for public routes: the first request of a container binds the models
    refused = _override_refused(request, resource, method, route)
    if refused is not None:
        return refused
    key = request.headers.get("idempotency-key") if method in MUTATING else None
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:  # public writes too: the header is refused the same
        return error_response(ValidationFailed("Idempotency-Key 过长", details={"field": "Idempotency-Key"}))
    if route is None or route.public:
        return get_response(request)

    # What only an authenticated request needs, loaded by the first one (a cold start's health check or login
    # does without the token code, the idempotency records and the access use cases).
    from tongxin.adapters import tokens
    from tongxin.adapters.dynamo import idempotency
    from tongxin.domain import console as console_rules
    from tongxin.usecases import access, console
    settings = container.settings
    # A Bearer header wins; without one, the staff console's session cookie (and then a write needs its CSRF token
    # and the console's Origin).
    token = _bearer(request)
    cookie = None if token is not None else \
        console_rules.cookie_value(request.headers.get("cookie"), settings.console_cookie_secure)
    if token is None and cookie is None:
        return error_response(Unauthenticated(details={"reason": "missing_token"}))
    request_hash = _request_hash(request, route.effective_method) if key else None
    try:
        if cookie is None:
            token_principal = tokens.verify(settings, token)
            record_id = idempotency.record_id(token_principal.user_id, key) if key else None
            # The token names the user; roles, scopes and the account's state are read as stored now, together
            # with the Idempotency-Key record (one BatchGetItem).
            principal, record = access.resolve(token_principal, record_id)
        else:
            record_id = idempotency.record_id(console.cookie_user(cookie), key) if key else None
            # The cookie names the user and the session: both (and the record) in one BatchGetItem, rights as
            # stored now — the same as a token's.
            principal, session_key, record = console.resolve_session(cookie, record_id)
            if method in MUTATING:
                console.check_csrf(settings, cookie, token=request.headers.get(console_rules.CSRF_HEADER.lower()),
                                   origin=request.headers.get("origin"), host=request.headers.get("host"))
            set_console_session(session_key)
        stored = idempotency.stored_answer(record, request_hash) if key else None
    except DomainError as exc:
        if cookie is not None and exc.status == 401:  # the session is over: the browser forgets the cookie
            return error_response(exc, {"Set-Cookie": console.clear_cookie(settings)})
        return error_response(exc)
    set_principal(principal)
    logger.thread_safe_append_keys(user_id=principal.user_id)
    if stored is not None:
        return _replayed(stored)
    if not key:
        return get_response(request)

    slot = idempotency.Slot(record_id, request_hash, container.settings.idempotency_ttl_seconds, _render(route))
    slot_token = idempotency.open_slot(slot)
    try:
        response = get_response(request)
    finally:
        idempotency.close_slot(slot_token)
    if slot.replay is not None:  # a copy of this request committed first: its answer, not ours
        return _replayed(slot.replay)
    if not slot.stored and response.status_code < 500 and _error_code(response) not in NOT_KEPT:
        if response.status_code < 300:
            logger.warning("idempotency record written after the change", extra={"route": resource})
        try:
            idempotency.store_after(slot, idempotency.StoredResponse(response.status_code, _body_text(response),
                                                                     _content_type(response)))
        except DomainError:  # storing the answer failed: the answer itself still stands
            logger.warning("idempotency record not stored", extra={"route": resource})
    return response
