"""Success bodies of 代办 (managed residents and the proxy log): see responses.py for the rules every model here
follows. A proxy action answers exactly what the resident's own route answers (WishView, RequestDetailView,
SignupView, RedemptionView, BallotReceiptView)."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef, RoleName


class ManagedResidentView(Answer):
    """``managed_residents.present``: a resident without WeChat as staff see them."""
    id: str
    nickname: str = Field(description="其他居民看到的名字：打码的真实姓名（王**）")
    real_name: str | None
    status: Literal["active", "deleted"]
    roles: list[RoleName]
    community_id: str | None
    grid_id: str | None
    phone: str | None = Field(description="管理员看到完整手机号，网格员看到打码的（138****5678）")
    address: str | None = Field(description="管理员看到完整住址，网格员看到打码的")
    managed: bool = Field(description="代管居民：没有微信账号，不能登录，由工作人员代办")
    points_balance: int
    volunteer_minutes: int
    created_at: AwareDatetime
    created_by: str | None = Field(description="登记的工作人员")


class ManagedResidentPage(Answer):
    items: list[ManagedResidentView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


class ProxySubjectRef(Answer):
    id: str
    real_name: str | None


class ProxyLogEntryView(Answer):
    """``proxy.present_entry``: one proxy action (代办记录)."""
    id: str
    kind: Literal["wish", "request", "event_signup", "redemption", "ballot"]
    kind_label: str = Field(description="代发微心愿、代提诉求、代报名活动、代兑换商品、代投票")
    at: AwareDatetime
    actor: PersonRef = Field(description="代办的工作人员")
    actor_role: Literal["admin", "grid_worker"] = Field(description="代办时依据的身份")
    subject: ProxySubjectRef = Field(description="被代办的居民")
    target_id: str | None = Field(description="涉及的对象：活动、商品或微实事轮次")
    result_id: str | None = Field(description="代办产生的对象：心愿、诉求或兑换记录")
    reason: str


class ProxyLogPage(Answer):
    items: list[ProxyLogEntryView]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


class BindingCodeView(Answer):
    """``binding.issue_code``: the one-time code a managed resident binds their own WeChat account with."""
    code: str = Field(description="绑定码（8 位），居民在小程序“绑定代管账户”中输入；新码发出后旧码作废")
    user_id: str = Field(description="代管居民")
    real_name: str | None
    valid_until: AwareDatetime = Field(description="有效期至（7 天）")
