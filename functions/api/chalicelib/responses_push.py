"""Success bodies of the push area (订阅消息): see responses.py for the rules every model here follows."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .responses_common import Answer, PersonRef


class SubscriptionItemView(Answer):
    kind: str = Field(description="消息类别，如 wish_claimed、event_reminder")
    template_id: str
    remaining: int = Field(description="还能发几条（用户每同意一次加一）")


class SubscriptionsView(Answer):
    items: list[SubscriptionItemView]
    ask: list[str] = Field(description="与我的角色相关、额度已用完的模板 id：下次调用 wx.requestSubscribeMessage 时请求")


class MessageProblemView(Answer):
    id: str
    recipient: PersonRef
    kind: str
    status: Literal["failed", "skipped"]
    reason: str | None = Field(description="no_quota 未订阅 · user_gone 已注销 · no_wechat 无微信（代办居民） · no_template 未配置模板 · gave_up 重试用尽 · 微信的 errmsg")
    errcode: int | None
    attempts: int
    created_at: AwareDatetime
    updated_at: AwareDatetime | None


class MessageProblemPage(Answer):
    items: list[MessageProblemView]
    next_cursor: str | None
