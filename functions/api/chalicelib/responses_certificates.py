"""Success bodies of 志愿服务记录证明 (volunteer certificates): see responses.py for the rules every model here
follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer


class CertificateOwner(Answer):
    id: str
    real_name: str = Field(description="志愿者登记的真实姓名（仅本人和本社区管理员可见）")


class CertificateView(Answer):
    """``certificates.present``: a certificate as its owner and the community's admins see it."""
    id: str
    community_id: str
    user: CertificateOwner
    volunteer_number: str = Field(description="志愿者编号（由用户 id 生成的稳定短号）")
    from_: str = Field(alias="from", description="证明期间开始日期 YYYY-MM-DD")
    to: str = Field(description="证明期间结束日期 YYYY-MM-DD")
    purpose: str
    status: Literal["pending", "issued", "refused", "revoked"] = Field(
        description="pending 待出具 · issued 已出具 · refused 已拒绝 · revoked 已撤销")
    created_at: AwareDatetime
    number: str | None = Field(description="证明编号（出具后才有，永不重复使用）")
    total_minutes: int | None = Field(description="出具时记录的服务总时长（分钟）")
    line_count: int | None = Field(description="出具时记录的服务次数")
    star_level: str | None = Field(description="总时长达到的星级：一星 100 小时 … 五星 1500 小时；不足为 null")
    issuer: str | None = Field(description="出具单位（社区名称）")
    signatory: str | None = Field(description="负责人（社区设置；未设置为 —）")
    handler_name: str | None = Field(description="经办人：出具或拒绝的管理员")
    issued_at: AwareDatetime | None
    refused_at: AwareDatetime | None
    refuse_reason: str | None
    revoked_at: AwareDatetime | None
    revoke_reason: str | None
    check_url: str | None = Field(description="公开核验页的地址（证明上的二维码内容）")


class CertificatePage(Answer):
    items: list[CertificateView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


class CertificateCheck(Answer):
    """``certificate_checks.verify``: the public check. Nothing but ``valid: false`` unless number and name match."""
    valid: bool = Field(description="true：证明真实有效；false：编号或姓名不符，或证明已撤销")
    status: Literal["issued", "revoked"] | None = Field(description="issued 有效 · revoked 已撤销；不符时为 null")
    name_masked: str | None = Field(description="打码的姓名（张**）")
    total_minutes: int | None = Field(description="证明的服务总时长（分钟）")
    issuer: str | None = Field(description="出具单位")
    issued_at: AwareDatetime | None
