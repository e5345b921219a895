"""Request bodies and query strings of the units area (共建单位/驻区单位: usecases/units.py): see schemas.py."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator

from tongxin.domain import units as unit_rules

from .schemas import Id, PageQuery, Query
from .validation import Body, MultiLine, SingleLine

UnitKind = Literal["机关", "企业", "事业单位", "学校", "医院", "社会组织"]
assert set(UnitKind.__args__) == set(unit_rules.KINDS)  # one list: the domain's


class UnitBody(Body):
    name: SingleLine = Field(min_length=2, max_length=40, description="单位名称（居民在其赞助的商品上看到）")
    kind: UnitKind = Field(description="机关、企业、事业单位、学校、医院或社会组织")
    contact_name: SingleLine = Field(min_length=1, max_length=20, description="单位联系人")
    contact_phone: str = Field(pattern=r"^(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})$", description="联系电话：手机或座机")
    street_id: Id | None = Field(None, description="哪个街道（只负责一个街道时可省略，负责多个时必填）")


class StreetUnitsQuery(PageQuery):
    street_id: Id | None = Field(None, description="哪个街道（只负责一个街道时可省略，负责多个时必填）")


class JoinUnitBody(Body):
    invite: str = Field(min_length=4, max_length=256, description="联络员邀请码：码本身，或二维码中的整条链接 "
                                                                "<QR_LINK_BASE>/u/<码>；不是本服务的、已用过的或已过期的"
                                                                "答 404 INVITE_INVALID")

    @field_validator("invite")
    @classmethod
    def _shape(cls, value: str) -> str:
        value = value.strip()
        if "/" in value:  # a link: read against QR_LINK_BASE by the use case (domain/links.py)
            if any(c.isspace() for c in value):
                raise ValueError("邀请码格式不正确")
            return value
        if not unit_rules.INVITE_CODE.fullmatch(value.upper()):
            raise ValueError("邀请码格式不正确")
        return value.upper()


Pledge = Annotated[SingleLine, Field(min_length=1, max_length=100)]


class AgreementBody(Body):
    pledges: list[Pledge] = Field(min_length=unit_rules.PLEDGES_MIN, max_length=unit_rules.PLEDGES_MAX,
                                  description="承诺事项（需求清单、活动清单、考核清单中的承诺）1–10 条，每条 ≤ 100 字")
    activities_per_quarter: int = Field(ge=unit_rules.ACTIVITIES_MIN, le=unit_rules.ACTIVITIES_MAX,
                                        description="每季度至少开展的活动次数 1–20")
    valid_until: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                             description="有效期至 YYYY-MM-DD（北京时间，含当天）：晚于今天，最长 5 年")

    @field_validator("valid_until")
    @classmethod
    def _a_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("不是有效的日期") from None
        return value


class ResourceBody(Body):
    title: SingleLine = Field(min_length=1, max_length=40, description="资源名称，如“义诊”“会议室”")
    description: MultiLine = Field(min_length=1, max_length=500, description="资源说明：内容、时间、地点、条件")
    capacity: int = Field(ge=1, le=100_000, description="可服务的人数或次数（≥ 1）")


class UnitInviteQrQuery(Query):
    format: Literal["png", "svg", "json"] = Field("png", description="png/svg 印刷用二维码（内容为链接 "
                                                                      "<QR_LINK_BASE>/u/<码>）· json {code, url, valid_until}")
