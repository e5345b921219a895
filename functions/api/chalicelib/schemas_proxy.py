"""Request bodies and query strings of 代办: managed residents (代管居民) and the actions staff take for them.

A proxy action's body is the resident's own body plus ``reason`` (why staff act for them, kept in the proxy log):
the same model, so the same validation and the same answers.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tongxin.domain import proxy as rules

from .schemas import Id, PageQuery, RequestBody, WishBody
from .schemas_ballots import BallotBody
from .schemas_points import RedeemBody
from .validation import Body, MultiLine, SingleLine

Reason = Annotated[MultiLine, Field(min_length=1, max_length=rules.REASON_MAX,
                                    description=f"代办理由（如：老人无智能手机，本人到场委托），1–{rules.REASON_MAX} 字，"
                                                "记入代办记录")]


class ManagedResidentBody(Body):
    real_name: SingleLine = Field(min_length=1, max_length=rules.REAL_NAME_MAX,
                                  description=f"居民真实姓名，至多 {rules.REAL_NAME_MAX} 字；其他居民看到的昵称是打码的姓名（王**）")
    grid_id: Id = Field(description="居住的网格（网格员只能登记自己负责的网格）")
    phone: str | None = Field(None, pattern=r"^1[0-9]{10}$",
                              description="手机号（11 位）；登记的手机号视同已绑定，可用于微实事投票")
    address: SingleLine | None = Field(None, min_length=1, max_length=rules.ADDRESS_MAX, description="住址")


class ManagedResidentQuery(PageQuery):
    grid_id: Id | None = Field(None, description="只看某个网格的代管居民（网格员：自己负责的网格，默认第一个）")


class ProxyLogQuery(PageQuery):
    user_id: Id | None = Field(None, description="只看为某位居民的代办")


class ProxyReasonBody(Body):
    reason: Reason


class ProxyWishBody(WishBody):
    reason: Reason


class ProxyRequestBody(RequestBody):
    reason: Reason


class ProxyRedeemBody(RedeemBody):
    reason: Reason


class ProxyBallotBody(BallotBody):
    reason: Reason


class BindBody(Body):
    code: str = Field(min_length=1, max_length=32, description="社区工作人员给的绑定码（8 位字母数字，不分大小写）")
