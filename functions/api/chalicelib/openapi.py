"""The OpenAPI 3 document, generated from the route registry and the same pydantic models that
validate requests (no hand-kept twin), with every answer a route can give: its success body
(chalicelib/responses.py) and every error status, each with the codes that come with it.

Error codes and statuses come from the ``DomainError`` classes; the codes every route of a kind can give
(signed-in, mutating, needing a community, or any route at all) are derived here in one place, so a route
lists only what is particular to it.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pydantic.json_schema import models_json_schema

from tongxin.domain import errors as domain_errors

from .http import ROUTES, Route

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {
            "code": {"type": "string", "description": "UPPER_SNAKE 错误码"},
            "message": {"type": "string", "description": "给用户看的中文说明"},
            "details": {"type": "object", "additionalProperties": True},
        },
    }},
}


def _error_classes(cls: type = domain_errors.DomainError):
    yield cls
    for sub in cls.__subclasses__():
        yield from _error_classes(sub)


def _status_of() -> dict[str, int]:
    found: dict[str, int] = {}
    for cls in _error_classes():
        if found.setdefault(cls.code, cls.status) != cls.status:
            raise ValueError(f"error code {cls.code} has two statuses: {found[cls.code]} and {cls.status}")
    # Chalice refuses a non-JSON Content-Type itself (415); middleware.py puts it in our envelope with this code.
    found["UNSUPPORTED_MEDIA_TYPE"] = 415
    return found


STATUS_OF: dict[str, int] = _status_of()

# Any route: a method the path lacks, a non-JSON Content-Type, DynamoDB still busy after our retries
# (StorageBusy), API Gateway's stage throttling.
ANY_ROUTE = ("METHOD_NOT_ALLOWED", "UNSUPPORTED_MEDIA_TYPE", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED")
SIGNED_IN = ("UNAUTHENTICATED", "FORBIDDEN")
# A signed-in write: the Idempotency-Key (too long → 400, reused for another body, or its first request still running).
IDEMPOTENT_WRITE = ("VALIDATION_FAILED", "IDEMPOTENCY_KEY_REUSED", "REQUEST_IN_PROGRESS")


def error_codes(route: Route) -> list[str]:
    """Every error code ``route`` can answer, the route's own first."""
    codes = list(route.errors)
    if route.body or route.query:
        codes.append("VALIDATION_FAILED")
    if "{" in route.path:  # an id that names nothing (or nothing the caller may see)
        codes.append("NOT_FOUND")
    if not route.public:
        codes += SIGNED_IN
        if route.needs_community:
            codes.append("NOT_IN_COMMUNITY")
        if route.mutating:
            codes += IDEMPOTENT_WRITE
    codes += ANY_ROUTE
    return list(dict.fromkeys(codes))


def _error_response(codes: list[str]) -> dict:
    return {"description": "错误码：" + "、".join(codes),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def response_model(route: Route):
    """The success body's model of ``route`` (imported here only: documentation, not a request's work)."""
    from . import responses
    return getattr(responses, route.response)


def _success_response(route: Route) -> dict:
    ok: dict = {"description": "成功"}
    if route.status == 204:
        return ok
    content = {}
    for media_type in route.produces:
        if media_type.startswith("image/"):
            content[media_type] = {"schema": {"type": "string", "format": "binary"}}
        elif media_type == "text/csv":
            content[media_type] = {"schema": {"type": "string"}}
        elif route.response is not None:
            content[media_type] = {"schema": {"$ref": f"#/components/schemas/{response_model(route).__name__}"}}
        else:
            raise ValueError(f"{route.method} {route.path} answers {media_type} but declares no response model")
    ok["content"] = content
    return ok


@lru_cache(maxsize=1)
def document() -> dict:
    inputs = {r.body for r in ROUTES if r.body} | {r.query for r in ROUTES if r.query}
    outputs = {response_model(r) for r in ROUTES if r.response}
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
        + [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}")
    schemas = {**defs.get("$defs", {}), "Error": ERROR_SCHEMA}
    paths: dict[str, dict] = {}
    for route in ROUTES:
        operation: dict = {"operationId": route.handler, "summary": route.summary, "tags": list(route.tags)}
        parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in re.findall(r"{(\w+)}", route.path)]
        if route.query:
            query_schema = schemas[route.query.__name__]
            for name, prop in query_schema.get("properties", {}).items():
                parameters.append({"name": name, "in": "query", "required": name in query_schema.get("required", []),
                                   "schema": prop})
        if route.mutating:
            parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                               "schema": {"type": "string", "maxLength": 128},
                               "description": "同一用户 24 小时内重复提交同一键：返回首次结果，不再执行"})
        if parameters:
            operation["parameters"] = parameters
        if route.body:
            # An empty body reads as {} (validation.parse_body): it may be left out when no field is required.
            operation["requestBody"] = {
                "required": bool(schemas[route.body.__name__].get("required")),
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}}}
        responses: dict = {str(route.status): _success_response(route)}
        by_status: dict[int, list[str]] = {}
        for code in error_codes(route):
            if code not in STATUS_OF:
                raise ValueError(f"{route.method} {route.path}: error code {code} is not a DomainError's")
            by_status.setdefault(STATUS_OF[code], []).append(code)
        for status, group in sorted(by_status.items()):
            responses[str(status)] = _error_response(group)
        operation["responses"] = responses
        if not route.public:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "同心 Tongxin API", "version": "1.0.0",
                 "description": "社区治理微信小程序后端：微心愿、活动与志愿服务、积分存折与积分超市、网格员推送。"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
