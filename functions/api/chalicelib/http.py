"""Route plumbing: the ``endpoint`` decorator every route uses, the route registry (source of the OpenAPI
document and of the SAM template's API definition), the caller's principal, and the error envelope.

A route is: parse (done here from its declared body/query models) → one use case → shape the answer.
"""
from __future__ import annotations

import functools
import inspect
import json
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from chalice import Blueprint, Response

from tongxin.domain.errors import DomainError, NotFound, Unauthenticated

from .deferred import resolve

if TYPE_CHECKING:  # pydantic, the models' adapters and the tables load on a route's first request, not at import
    from tongxin.domain.access import Principal

    from .validation import Body, Query

log = logging.getLogger("tongxin.api")

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PATH_ID = re.compile(r"[A-Za-z0-9_.=\-]{1,128}")
# The methods the mini-program's ``wx.request`` can send: no PATCH. Every PATCH route therefore also answers POST on
# its path with this header naming PATCH (the same view, body, rules and answer); a POST without it is 405.
WX_REQUEST_METHODS = frozenset({"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"})
OVERRIDE_HEADER = "X-HTTP-Method-Override"
OVERRIDDEN = frozenset({"PATCH"})  # the methods a POST may stand for


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    summary: str
    handler: str
    public: bool = False
    # The body and query models as the route module named them: a ``deferred.ModelRef`` while routes register at
    # cold start (``body``/``query`` below resolve it, loading pydantic on first use).
    declared_body: Any = None
    declared_query: Any = None
    status: int = 200
    produces: tuple[str, ...] = ("application/json",)
    errors: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)
    # The name of the success body's model in chalicelib/responses.py (None for 204 and images). A name, not
    # the class: the response models only document, so they are imported when the document is built, not at
    # every cold start.
    response: str | None = None
    # Longer than the summary: who may call it, what it does, its notable errors (the view's docstring, or
    # ``description=``); the OpenAPI operation's description.
    description: str = ""
    # "PATCH" for the POST that stands for the PATCH route of the same path (``X-HTTP-Method-Override: PATCH``).
    override_of: str | None = None

    @property
    def body(self) -> type[Body] | None:
        return resolve(self.declared_body)

    @property
    def query(self) -> type[Query] | None:
        return resolve(self.declared_query)

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING

    @property
    def effective_method(self) -> str:
        """The method this route acts as: PATCH for the POST form of a PATCH route (its Idempotency-Key records
        are the PATCH's: a key used on either form replays on the other)."""
        return self.override_of or self.method

    @property
    def needs_community(self) -> bool:
        """The caller's own account (/v1/me…) works before joining a community, and the levels above communities
        (/v1/street/…, /v1/district/…, /v1/department/…: their staff belong to none) never ask for one; everything
        else is community data and answers 409 NOT_IN_COMMUNITY to a signed-in user in none. A route of either kind
        that can answer it all the same names it in its ``errors``."""
        if self.public:
            return False
        if "NOT_IN_COMMUNITY" in self.errors:
            return True
        return not self.path.startswith(("/v1/me", *ABOVE_COMMUNITIES))


# Path prefixes of the levels above communities (街道, 区级平台, 区直部门): their staff need no community.
ABOVE_COMMUNITIES = ("/v1/street/", "/v1/district/", "/v1/department/")
ROUTES: list[Route] = []
_principal: ContextVar[Principal | None] = ContextVar("principal", default=None)
# The console's session (its item key) when the caller was authenticated by the session cookie, not a Bearer token.
_console_session: ContextVar[str | None] = ContextVar("console_session", default=None)
# Chalice keeps ``app.current_request`` on the shared app object, which threads of a local server
# overwrite; the middleware hands each view its own request through this variable instead.
_request: ContextVar[Any] = ContextVar("request", default=None)


def route_for(path: str, method: str) -> Route | None:
    for route in ROUTES:
        if route.path == path and route.method == method:
            return route
    return None


def allowed_methods(path: str) -> list[str]:
    """The methods ``path`` answers without an override, in the order they were registered (the ``Allow`` header of
    a 405)."""
    return [route.method for route in ROUTES if route.path == path and route.override_of is None]


def current_principal() -> Principal:
    principal = _principal.get()
    if principal is None:  # a public route asked for a user: a programming error, answer safely
        raise Unauthenticated()
    return principal


def enter_request(request) -> tuple:
    return _request.set(request), _principal.set(None), _console_session.set(None)


def leave_request(tokens: tuple) -> None:
    _request.reset(tokens[0])
    _principal.reset(tokens[1])
    _console_session.reset(tokens[2])


def set_console_session(key: str) -> None:
    _console_session.set(key)


def current_console_session() -> str | None:
    """The console session this request was authenticated by (its item key), or None (a Bearer token, or none)."""
    return _console_session.get()


def current_request():
    """This request (Chalice's), as the middleware handed it in."""
    return _request.get()


def set_principal(principal: Principal) -> None:
    _principal.set(principal)


JSON_UTF8 = "application/json; charset=utf-8"


def _json_text(payload: Any) -> str:
    # Serialised here, not by Chalice, so Chinese text goes out as UTF-8 rather than \u escapes.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


RETRY_AFTER_SECONDS = "1"  # a 503 (storage busy after retries, WeChat down) is worth trying again shortly


def _retry_after(error: DomainError) -> str | None:
    """503: shortly. A 429 that knows when its window ends says so (``details.retry_after``, seconds)."""
    if error.status == 503:
        return RETRY_AFTER_SECONDS
    seconds = error.details.get("retry_after") if error.status == 429 else None
    return str(int(seconds)) if isinstance(seconds, (int, float)) and seconds > 0 else None


def error_response(error: DomainError, headers: dict | None = None) -> Response:
    retry_after = _retry_after(error)
    extra = {"Retry-After": retry_after} if retry_after else {}
    return Response(body=_json_text(error.to_body()), status_code=error.status,
                    headers={"Content-Type": JSON_UTF8, **extra, **(headers or {})})


def json_response(payload: Any, status: int = 200) -> Response:
    if status == 204:
        return Response(body="", status_code=204)
    return Response(body=_json_text(payload), status_code=status, headers={"Content-Type": JSON_UTF8})


def binary_response(data: bytes, content_type: str) -> Response:
    """PNG and JPEG (WeChat's mini-program codes) go out as binary: both are binary media types of the app and the
    SAM template, and API Gateway (like Chalice) needs an ``Accept`` naming one of them (``image/png`` or
    ``image/jpeg``: either lets the other through) or ``*/*``. SVG is text."""
    body = data.decode("utf-8") if content_type.startswith("image/svg") else data
    return Response(body=body, status_code=200, headers={"Content-Type": content_type,
                                                         "Cache-Control": "private, max-age=300"})


def csv_response(data: bytes, filename: str) -> Response:
    """A download (UTF-8 with a BOM, so Excel reads the Chinese); text, so API Gateway passes it as is."""
    return Response(body=data.decode("utf-8"), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


def endpoint(bp: Blueprint, path: str, method: str, *, summary: str, body: type[Body] | None = None,
             query: type[Query] | None = None, status: int = 200, public: bool = False,
             produces: tuple[str, ...] = ("application/json",), errors: tuple[str, ...] = (),
             tags: tuple[str, ...] = (), response: str | None = None, description: str | None = None) -> Callable:
    """Register a route on ``bp``. The decorated function receives the path parameters, ``body=`` and
    ``query=`` (validated models) when declared, and returns a JSON-able value or a ``Response``.
    ``response`` documents the success body; ``errors`` the codes particular to this route (the generic
    ones — authentication, idempotency, community membership, … — are derived in openapi.py);
    ``description`` (else the function's docstring) says who may call it, what it does and its notable errors."""

    def decorate(fn: Callable) -> Callable:
        text = description or inspect.cleandoc(fn.__doc__ or "")
        ROUTES.append(Route(path, method, summary, fn.__name__, public, body, query, status, produces,
                            errors, tags, response, text))

        @functools.wraps(fn)
        def view(**path_params):
            request = _request.get()
            kwargs = dict(path_params)
            try:
                for value in path_params.values():
                    # Ids are short and printable; anything else names nothing (and a key over
                    # DynamoDB's 2 KB limit would otherwise come back as a ValidationException).
                    if not PATH_ID.fullmatch(value):
                        raise NotFound()
                if body is not None or query is not None:
                    from .validation import parse_body, parse_query  # pydantic: on the first route that parses
                if body is not None:
                    kwargs["body"] = parse_body(resolve(body), request.raw_body)
                if query is not None:
                    kwargs["query"] = parse_query(resolve(query), request.query_params)
                result = fn(**kwargs)
            except DomainError as exc:
                return error_response(exc)
            except Exception as exc:  # a read (or a plain write) DynamoDB kept refusing: 503, not Chalice's 500
                from tongxin.adapters.dynamo.tx import storage_refusal
                busy = storage_refusal(exc)
                if busy is None:
                    raise
                log.warning("storage refused", extra={"error": type(exc).__name__})
                return error_response(busy)
            if isinstance(result, Response):
                return result
            return json_response(result, status)

        bp.route(path, methods=[method], content_types=["application/json"])(view)
        if method in OVERRIDDEN:
            # wx.request cannot send PATCH: the same view on POST, a real route (so the SAM template, generated
            # from ROUTES, declares it too). The middleware lets it through only with the override header.
            ROUTES.append(Route(path, "POST", f"{summary}（POST 形式，须带 {OVERRIDE_HEADER}: {method}）",
                                f"{fn.__name__}_via_post", public, body, query, status, produces, errors, tags,
                                response, f"The POST form of `{method} {path}` for the mini-program (wx.request "
                                          f"has no {method}): send `{OVERRIDE_HEADER}: {method}`; the same body, "
                                          f"rules, answers and Idempotency-Key as {method}. Without the header 405 "
                                          f"METHOD_NOT_ALLOWED.\n\n{text}", override_of=method))
            bp.route(path, methods=["POST"], content_types=["application/json"])(view)
        return fn

    return decorate

