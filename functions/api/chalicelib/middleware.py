"""The one HTTP middleware: request log context, authentication, idempotency, and the error envelope.

Chalice answers some requests itself (bad JSON, unknown method, unsupported media type) with bodies of
its own shape; they are rewritten here into ``{"error": {"code", "message", "details"}}``. Errors must
be *returned* as responses from middleware: an exception raised here becomes a bare 500.
"""
from __future__ import annotations

import hashlib
import json
import time
import uuid

from aws_lambda_powertools import Logger
from chalice import Chalice, Response

from tongxin.adapters import tokens
from tongxin.adapters.dynamo import idempotency
from tongxin.usecases import access
from tongxin.domain.errors import (
    DomainError, InternalError, MethodNotAllowed, NotFound, Unauthenticated, ValidationFailed,
)
from tongxin.wiring import get_container

from .http import MUTATING, enter_request, error_response, leave_request, route_for, set_principal

logger = Logger(service="tongxin")

IDEMPOTENCY_KEY_MAX = 128

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


def _request_hash(request) -> str:
    raw = request.raw_body or b""
    try:  # the same JSON written with other spacing or key order is the same request
        raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to normalise: hash the bytes as sent
        pass
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode() + raw)
    return digest.hexdigest()


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
        logger.thread_safe_append_keys(request_id=context.get("requestId") or uuid.uuid4().hex)
        context_tokens = enter_request(request)
        try:
            # Chalice's own refusals are put in our envelope before anything (idempotency) stores them.
            response = _handle(request, lambda r: _envelope_chalice_error(get_response(r)), resource, method)
        except Exception:  # never a stack trace or a Chalice body to the client
            logger.exception("unhandled error")
            response = error_response(InternalError())
        finally:
            leave_request(context_tokens)
            access.forget()
        logger.info("request", extra={"method": method, "route": resource, "status": response.status_code,
                                      "ms": round((time.perf_counter() - started) * 1000, 1)})
        return response


def _handle(request, get_response, resource: str, method: str) -> Response:
    route = route_for(resource, method)
    if route is None or route.public:
        return get_response(request)

    container = get_container()
    token = _bearer(request)
    if token is None:
        return error_response(Unauthenticated(details={"reason": "missing_token"}))
    try:
        # The token names the user; roles, scopes and the account's state are read as stored now.
        principal = access.resolve(tokens.verify(container.settings, token))
    except DomainError as exc:
        return error_response(exc)
    set_principal(principal)
    logger.thread_safe_append_keys(user_id=principal.user_id)

    key = request.headers.get("idempotency-key")
    if method not in MUTATING or not key:
        return get_response(request)
    if len(key) > IDEMPOTENCY_KEY_MAX:
        return error_response(ValidationFailed("Idempotency-Key 过长", details={"field": "Idempotency-Key"}))
    try:
        stored = idempotency.begin(principal.user_id, key, _request_hash(request),
                                   container.settings.idempotency_ttl_seconds)
    except DomainError as exc:
        return error_response(exc)
    if stored is not None:
        headers = {"Idempotent-Replayed": "true"}
        if stored.content_type:
            headers["Content-Type"] = stored.content_type
        return Response(body=stored.body, status_code=stored.status, headers=headers)
    try:
        response = get_response(request)
    except Exception:
        idempotency.abandon(principal.user_id, key)
        raise
    if response.status_code >= 500:
        idempotency.abandon(principal.user_id, key)
    else:
        content_type = next((v for k, v in (response.headers or {}).items() if k.lower() == "content-type"), None)
        idempotency.complete(principal.user_id, key, response.status_code, _body_text(response), content_type)
    return response
