"""The OpenAPI 3 document, generated from the route registry and the same pydantic models that
validate requests (no hand-kept twin)."""
from __future__ import annotations

import re
from functools import lru_cache

from pydantic.json_schema import models_json_schema

from .http import ROUTES

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
STATUS_OF = {"VALIDATION_FAILED": 400, "CONTENT_REJECTED": 400, "PHONE_CODE_INVALID": 400,
             "UNAUTHENTICATED": 401, "WECHAT_CODE_INVALID": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
             "INVITE_INVALID": 404, "RATE_LIMITED": 429, "UPSTREAM_UNAVAILABLE": 503}


def _error_response(codes: list[str]) -> dict:
    return {"description": "错误码：" + "、".join(codes),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


@lru_cache(maxsize=1)
def document() -> dict:
    models = {r.body for r in ROUTES if r.body} | {r.query for r in ROUTES if r.query}
    mapping, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
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
        if route.method in ("POST", "PUT", "PATCH", "DELETE"):
            parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                               "schema": {"type": "string", "maxLength": 128},
                               "description": "同一用户 24 小时内重复提交同一键：返回首次结果，不再执行"})
        if parameters:
            operation["parameters"] = parameters
        if route.body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}}}
        ok: dict = {"description": "成功"}
        if route.status != 204:
            ok["content"] = {ct: {"schema": {"type": "string", "format": "binary"}} if ct.startswith("image/")
                             else {"schema": {"type": "object"}} for ct in route.produces}
        responses: dict = {str(route.status): ok}
        by_status: dict[int, list[str]] = {}
        codes = list(route.errors) + (["VALIDATION_FAILED"] if (route.body or route.query) else [])
        if not route.public:
            codes += ["UNAUTHENTICATED", "FORBIDDEN"]
        for code in codes:
            by_status.setdefault(STATUS_OF.get(code, 409), []).append(code)
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
