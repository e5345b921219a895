"""Health and the OpenAPI document."""
from chalice import Blueprint

from tongxin.usecases import system

from ..http import endpoint

bp = Blueprint(__name__)


@endpoint(bp, "/v1/health", "GET", public=True, summary="健康检查：数据表可用时返回 ok", errors=("UPSTREAM_UNAVAILABLE",),
          response="HealthView")
def health():
    return system.health()


@endpoint(bp, "/v1/openapi.json", "GET", public=True, summary="本 API 的 OpenAPI 3 文档", response="OpenApiView")
def openapi_document():
    from ..openapi import document
    return document()
