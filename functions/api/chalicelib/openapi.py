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

from . import deferred
from .http import OVERRIDE_HEADER, ROUTES, Route

deferred.load_all()  # every DomainError subclass defined, including those of use cases not run yet

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
# A signed-in write by the staff console's session cookie without its X-CSRF-Token or from another Origin.
COOKIE_WRITE = ("CSRF_FAILED",)


def error_codes(route: Route) -> list[str]:
    """Every error code ``route`` can answer, the route's own first."""
    codes = list(route.errors)
    if route.body or route.query or route.mutating:  # a write's Idempotency-Key too long, public ones included
        codes.append("VALIDATION_FAILED")
    if "{" in route.path:  # an id that names nothing (or nothing the caller may see)
        codes.append("NOT_FOUND")
    if not route.public:
        codes += SIGNED_IN
        if route.needs_community:
            codes.append("NOT_IN_COMMUNITY")
        if route.mutating:
            codes += IDEMPOTENT_WRITE + COOKIE_WRITE
    codes += ANY_ROUTE
    return list(dict.fromkeys(codes))


# Response headers (components.headers). x-amzn-RequestId: every answer the app gives carries the request id its
# log line has (middleware.py; API Gateway's own id in AWS, which the gateway also sends on its own answers).
# Retry-After: http.error_response sets it on every 503 and on a 429 that knows when its window ends.
# Idempotent-Replayed: middleware.py's replay of a stored answer (a success or a refusal) of a mutating route.
HEADERS = {
    "x-amzn-RequestId": {
        "description": "本次请求的 ID（与服务端日志中的 request_id 相同）；反馈问题时请附上",
        "schema": {"type": "string"}},
    "Retry-After": {
        "description": "建议等待的秒数后再重试：503 总是带（1 秒）；429 在限制的解除时间已知时带"
                       "（如取货码连续输错后的锁定），按日上限的 429 不带（次日再试），API 网关自身的限流也不带",
        "schema": {"type": "integer", "minimum": 1}},
    "Idempotent-Replayed": {
        "description": "true：这是同一用户 24 小时内以同一 Idempotency-Key 发出的先前请求的原样答复，本次未再执行",
        "schema": {"type": "string", "enum": ["true"]}},
}
# Answered before the Idempotency-Key is looked at (no token, a method the path lacks): never a replay; nor is a
# public route's answer (login keeps no Idempotency-Key record).
NOT_REPLAYED = {401, 405}


def _headers(*names: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _error_response(codes: list[str]) -> dict:
    return {"description": "错误码：" + "、".join(codes),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _response_headers(route: Route, status: int) -> dict:
    names = ["x-amzn-RequestId"]
    if status in (429, 503):
        names.append("Retry-After")
    if route.mutating and not route.public and status < 500 and status not in NOT_REPLAYED:
        names.append("Idempotent-Replayed")
    return _headers(*names)


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
        if media_type.startswith("image/") or media_type == "application/pdf":  # binary: PNG, the certificates' PDF
            content[media_type] = {"schema": {"type": "string", "format": "binary"}}
        elif media_type.startswith("text/"):  # CSV, the link pages (HTML), the verification file (plain)
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
        operation: dict = {"operationId": route.handler, "summary": route.summary, "description": route.description,
                           "tags": list(route.tags)}
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
        if route.override_of:
            parameters.append({"name": OVERRIDE_HEADER, "in": "header", "required": True,
                               "schema": {"type": "string", "enum": [route.override_of]},
                               "description": f"小程序的 wx.request 不支持 {route.override_of}：用 POST 并带此头，"
                                              f"效果与答复同 {route.override_of}（幂等键也相同）；"
                                              f"不带此头答 405 METHOD_NOT_ALLOWED"})
        if parameters:
            operation["parameters"] = parameters
        if route.body:
            # An empty body reads as {} (validation.parse_body): it may be left out when no field is required.
            operation["requestBody"] = {
                "required": bool(schemas[route.body.__name__].get("required")),
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}}}
        responses: dict = {str(route.status): _success_response(route)}
        if "text/javascript" in route.produces:  # the console's static files carry an ETag
            responses["304"] = {"description": "未修改：If-None-Match 与当前版本的 ETag 相同，无正文"}
        by_status: dict[int, list[str]] = {}
        for code in error_codes(route):
            if code not in STATUS_OF:
                raise ValueError(f"{route.method} {route.path}: error code {code} is not a DomainError's")
            by_status.setdefault(STATUS_OF[code], []).append(code)
        for status, group in sorted(by_status.items()):
            responses[str(status)] = _error_response(group)
        for status, response in responses.items():
            response["headers"] = _response_headers(route, int(status))
        operation["responses"] = responses
        if not route.public:
            operation["security"] = [{"bearer": []}, {"console": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "同心 Tongxin API", "version": "1.0.0", "description": INFO_DESCRIPTION},
        "servers": SERVERS,
        "paths": paths,
        "components": {"schemas": schemas, "headers": HEADERS,
                       "securitySchemes": {"bearer": {
                           "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "POST /v1/auth/login 返回的 token，放在 Authorization: Bearer <token>；"
                                          "有效期为 expires_in 秒（7200）"},
                           "console": {
                               "type": "apiKey", "in": "cookie", "name": "__Host-tongxin_console",
                               "description": "管理后台扫码登录后的会话 Cookie（HttpOnly，8 小时；本地开发栈中名为 "
                                              "tongxin_console）。Bearer 优先；以 Cookie 认证的写操作须带 "
                                              "X-CSRF-Token（会话建立时答复的 csrf_token）和同源的 Origin，"
                                              "否则 403 CSRF_FAILED"}}},
    }


# The local stack (make dev; another port with API_PORT) and the deployed API behind its ICP-filed HTTPS domain,
# mapped to the API Gateway stage (the paths already start with /v1).
SERVERS = [
    {"url": "http://127.0.0.1:8000", "description": "本地开发栈（make dev）：内置 DynamoDB 与微信接口替身，示范社区数据"},
    {"url": "https://{domain}", "description": "部署的 API：已备案的 HTTPS 域名，映射到 API Gateway 的 stage",
     "variables": {"domain": {"default": "api.example.cn",
                              "description": "小程序后台「request 合法域名」中配置的域名"}}},
]

# Paragraphs without line breaks inside (a soft break between Chinese characters renders as a space).
INFO_DESCRIPTION = "\n\n".join([
    "社区治理微信小程序后端：微心愿、活动与志愿服务（签到/签退）、积分存折与积分超市、接诉即办、订阅消息推送。",
    '**登录与令牌过期。** 小程序调用 `wx.login` 取得 code，`POST /v1/auth/login {"code"}` 换取 `{token, expires_in, user}`，'
    "之后每个请求带 `Authorization: Bearer <token>`。令牌有效期为 `expires_in` 秒（7200，"
    "即 2 小时）。令牌过期后，任何需要登录的请求都答 401 `UNAUTHENTICATED`，`details.reason` 为 `token_expired`："
    "小程序此时静默地再调用一次 `wx.login` 和 `POST /v1/auth/login`，换上新令牌后把原请求重试一次（只重试一次；"
    "再次 401 则请用户重新进入）。`details.reason` 的其他取值：`missing_token`（没带令牌）"
    "、`malformed`（格式不对）、`bad_signature`（不是本服务签发的）——同样重新登录即可；"
    "`account_deleted`（账号已注销：不要静默重新登录，那会建立一个新账号，应提示用户）；"
    "`account_merged`（这个微信已绑定到社区为用户登记的代管账户：静默重新登录即进入该账户）。角色与权限在每个请求时读取，"
    "授予或撤销立即生效，无需重新登录。",
    "**答复头。** 每个答复都带 `x-amzn-RequestId`（与服务端日志一致）；503 带 `Retry-After`（秒）"
    "，429 在解除时间已知时也带；变更类请求（POST/PUT/PATCH/DELETE）可带 `Idempotency-Key`，"
    "24 小时内以同一键重复提交时原样返回首次答复，并带 `Idempotent-Replayed: true`。",
    "**PATCH 的 POST 形式。** 小程序的 `wx.request` 不支持 PATCH：每个 PATCH 接口在同一路径上也接受 POST，"
    "须带 `X-HTTP-Method-Override: PATCH`，请求体、规则、答复与幂等键都与 PATCH 相同；不带此头的 POST 答 405 "
    "`METHOD_NOT_ALLOWED`。",
    "**内容安全。** 展示给他人的文字（心愿、诉求、昵称、完成说明、评价、办理说明与理由、活动、商品）经微信内容安全检查"
    "（msgSecCheck 2.0）：有风险答 400 `CONTENT_REJECTED`；微信要求写的人两小时内访问过小程序，否则答 409 "
    "`WECHAT_SESSION_STALE`（请重新打开小程序：`wx.login` 后 `POST /v1/auth/login`，再用同一幂等键重试）。",
    '**错误。** `{"error": {"code", "message", "details"}}`，'
    "message 为可直接展示给用户的中文；400 `VALIDATION_FAILED` 的 `details.field` 指出字段，"
    "取值限定在若干选项中的字段（如心愿和诉求的 category）另有 `details.allowed` 列出全部可选值。",
])
