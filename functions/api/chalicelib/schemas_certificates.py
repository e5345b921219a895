"""Request bodies and query strings of 志愿服务记录证明 (volunteer certificates)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from tongxin.domain import certificates as rules

from .schemas import PageQuery
from .validation import Body, MultiLine, Query, SingleLine

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class CertificateRequestBody(Body):
    """POST /v1/me/certificates."""
    from_: str = Field(alias="from", min_length=10, max_length=10, pattern=DATE_PATTERN,
                       description="证明期间的开始日期 YYYY-MM-DD（北京时间，含当天）")
    to: str = Field(min_length=10, max_length=10, pattern=DATE_PATTERN,
                    description=f"证明期间的结束日期 YYYY-MM-DD（含当天），不晚于今天；期间最长 {rules.MAX_YEARS} 年")
    purpose: SingleLine = Field(min_length=1, max_length=rules.PURPOSE_MAX,
                                description=f"证明用途，如 升学、求职、评优，至多 {rules.PURPOSE_MAX} 字（经微信内容安全检查）")


class CertificateReasonBody(Body):
    """POST /v1/admin/certificates/{id}/refuse · /revoke."""
    reason: MultiLine = Field(min_length=1, max_length=rules.REASON_MAX,
                              description=f"理由（志愿者可见），至多 {rules.REASON_MAX} 字")


class CertificatesQuery(PageQuery):
    """GET /v1/admin/certificates."""
    status: Literal["pending", "issued", "refused", "revoked"] = Field(
        "pending", description="pending 待出具（默认）· issued 已出具 · refused 已拒绝 · revoked 已撤销")


class CertificateVerifyQuery(Query):
    """GET /v1/certificates/verify."""
    number: str = Field(min_length=1, max_length=40, description="证明编号，如 TXZM-2026-ABCD-000001")
    name: SingleLine = Field(min_length=1, max_length=rules.NAME_MAX, description="志愿者登记的真实姓名（首尾空格不计）")


class CertificatePageQuery(Query):
    """GET /v/{number}: the check page; with ``name`` it answers the check too."""
    name: SingleLine | None = Field(None, min_length=1, max_length=rules.NAME_MAX,
                                    description="志愿者的真实姓名；带上即在页面上显示核验结果")
