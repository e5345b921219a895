"""Health and the OpenAPI document."""
from chalice import Blueprint

from tongxin.usecases import system

from ..http import endpoint

bp = Blueprint(__name__)


@endpoint(bp, "/v1/health", "GET", public=True, summary="健康检查：数据表可用时返回 ok", errors=("UPSTREAM_UNAVAILABLE",),
          response="HealthView")
def health():
    """Anyone, without a token. Answers {"status": "ok"} once the tables answer (one small read); while DynamoDB
    does not, 503 UPSTREAM_UNAVAILABLE with Retry-After. For uptime checks and deployment smoke tests."""
    return system.health()


@endpoint(bp, "/v1/openapi.json", "GET", public=True, summary="本 API 的 OpenAPI 3 文档", response="OpenApiView")
def openapi_document():
    """Anyone, without a token. This document, generated from the routes themselves: each operation's body
    and query models (the same pydantic models that validate requests, with their limits), its success body,
    and every error code it can answer grouped by status."""
    from ..openapi import document
    return document()
