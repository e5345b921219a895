"""订阅消息 (subscribe messages), pure: ONE template entry per message kind, and the shaping of our data to
WeChat's keyword types, so WeChat never answers 47003 for our own data.

Every kind uses the same four keywords — ``thing1`` (what it is about), ``phrase2`` (its state), ``time3`` (when),
``thing4`` (a note) — so the template a deployment picks from WeChat's library for a kind must have those four
(docs/push.md lists them); its template id comes from configuration (``WECHAT_TEMPLATES``), never from code.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from .clock import SHANGHAI

# --- WeChat's keyword types (docs/design.md, WeChat) ---------------------------------------------------------

LIMITS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32, "letter": 32,
          "phone_number": 17, "amount": 10, "symbol": 5, "car_number": 8}
ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")
# Emoji — outside the Basic Multilingual Plane, and the BMP's own (☀ ❤ ✅ ⭐: miscellaneous symbols, dingbats,
# arrows and stars) — with their joiners and variation selectors: WeChat's keyword types take text; a value with
# them is refused (47003) for some types, so none is sent.
_NOT_TEXT = re.compile("[\U00010000-\U0010FFFF\u2600-\u27bf\u2b00-\u2bff\u200d\ufe0e\ufe0f\u20e3]")


def clean(value: Any) -> str:
    """One line of plain text: control characters and line breaks become spaces, emoji are dropped."""
    text = _NOT_TEXT.sub("", str(value if value is not None else ""))
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return _SPACES.sub(" ", text).strip()


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters; a longer text keeps ``limit - 1`` and an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + ELLIPSIS


def shape(kind: str, value: Any) -> str:
    """``value`` as WeChat accepts it for the keyword type ``kind`` (the key without its number: ``thing``)."""
    if kind == "time":
        return _local(value).strftime("%Y年%m月%d日 %H:%M")
    if kind == "date":
        return _local(value).strftime("%Y年%m月%d日")
    text = clean(value)
    if kind in ("number", "amount"):
        digits = re.sub(r"[^0-9.\-]", "", text)
        return (digits or "0")[:LIMITS[kind]]
    if kind in ("character_string", "letter"):
        ascii_only = "".join(c for c in text if c.isascii() and c.isprintable())
        return _SPACES.sub(" ", ascii_only).strip()[:LIMITS[kind]].strip() or "-"
    limit = LIMITS.get(kind)
    text = text or "无"
    return cut(text, limit) if limit else text


def _local(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI)


def keyword_type(keyword: str) -> str:
    """``thing1`` → ``thing``; ``character_string2`` → ``character_string``."""
    return keyword.rstrip("0123456789")


# --- the template table ----------------------------------------------------------------------------------------

Source = Callable[[dict, datetime], Any]


@dataclass(frozen=True)
class Template:
    kind: str
    audience: str  # who receives it: resident | volunteer | grid_worker | handler (GET /v1/me/subscriptions asks by role)
    subject: Source  # thing1
    state: str  # phrase2
    when: Source  # time3
    note: Source  # thing4

    def fields(self, data: dict, created_at: datetime) -> dict[str, dict[str, str]]:
        raw = {"thing1": self.subject(data, created_at), "phrase2": self.state, "time3": self.when(data, created_at),
               "thing4": self.note(data, created_at)}
        return {key: {"value": shape(keyword_type(key), value)} for key, value in raw.items()}


def _field(name: str, default: str = "") -> Source:
    return lambda data, _at: data.get(name) or default


def _text(text: str) -> Source:
    return lambda _data, _at: text


def _sent(_data: dict, created_at: datetime) -> datetime:
    return created_at


def _starts(data: dict, created_at: datetime) -> Any:
    return data.get("starts_at") or created_at


CATEGORY_NAMES = {"charity": "雪中送炭", "mediation": "息事宁人", "participation": "锦上添花"}

TEMPLATES: dict[str, Template] = {t.kind: t for t in (
    Template("wish_to_review", "grid_worker", _field("title"), "待审核", _sent, _field("category", "微心愿")),
    Template("wish_overdue", "grid_worker", _field("title"), "待认领", _sent, _text("超过72小时无人认领，请跟进")),
    Template("wish_claimed", "resident", _field("title"), "已认领", _sent, _text("志愿者已认领您的心愿")),
    Template("wish_released", "resident", _field("title"), "已放弃", _sent, _text("志愿者放弃认领，心愿已重新开放")),
    Template("wish_fulfilled", "resident", _field("title"), "待确认", _sent, _text("志愿者已完成，请确认并评价")),
    Template("wish_cancelled", "volunteer", _field("title"), "已取消", _sent, _text("发布人已取消这个心愿")),
    Template("wish_confirmed", "volunteer", _field("title"), "已确认",
             _sent, lambda d, _at: f"获得 {d.get('points', 0)} 积分"),
    Template("wish_expired", "resident", _field("title"), "已过期", _sent, _text("心愿已过截止时间")),
    Template("wish_reviewed", "resident", _field("title"), "已审核", _sent,
             lambda d, _at: "审核通过，已公开" if d.get("result") == "approved" else f"未通过：{d.get('reason') or ''}"),
    Template("event_promoted", "resident", _field("title"), "候补成功", _starts, _text("您已从候补转为报名成功")),
    Template("event_reminder", "resident", _field("title"), "即将开始", _starts, _field("address", "请按时参加")),
    Template("event_cancelled", "resident", _field("title"), "已取消", _starts, _field("reason", "活动已取消")),
    Template("event_changed", "resident", _field("title"), "有变更", _starts, _text("活动时间或地点已调整，请查看")),
    Template("checkin_unsettled", "volunteer", _field("title"), "未签退", _sent, _text("请联系组织者补录服务时长")),
    Template("points_awarded", "resident", _field("reason"), "已到账", _sent,
             lambda d, _at: f"{CATEGORY_NAMES.get(d.get('category'), '奖励')} +{d.get('points', 0)} 积分"),
    Template("award_reversed", "resident", _field("reason"), "已撤销", _sent,
             lambda d, _at: f"奖励撤销 -{d.get('points', 0)} 积分"),
    Template("redemption_expiring", "resident", _field("goods"), "即将过期",
             lambda d, at: d.get("expires_at") or at, _text("请在过期前到积分超市领取")),
    Template("redemption_expired", "resident", _field("goods"), "已过期", _sent,
             lambda d, _at: f"{d.get('points', 0)} 积分已退回"),
    # 接诉即办: ``summary`` is the request's category and the start of its content.
    Template("request_new", "handler", _field("summary"), "待响应", lambda d, at: d.get("answer_due") or at,
             lambda d, _at: "紧急诉求，请尽快响应" if d.get("urgent") else "居民诉求，请按时响应"),
    Template("request_escalated", "handler", _field("summary"), "吹哨报到", lambda d, at: d.get("answer_due") or at,
             lambda d, _at: d.get("reason") or "下级吹哨，请按时报到"),
    Template("request_reopened", "handler", _field("summary"), "退回重办", lambda d, at: d.get("solve_due") or at,
             _field("comment", "居民不满意，请重新办理")),
    Template("request_overdue", "handler", _field("summary"), "已超时", lambda d, at: d.get("solve_due") or at,
             lambda d, _at: f"{d.get('level_label') or ''}超时未办结，请督办"),
    Template("request_accepted", "resident", _field("summary"), "已响应", _sent,
             lambda d, _at: f"{d.get('handler') or '工作人员'}已响应，正在处理"),
    Template("request_resolved", "resident", _field("summary"), "已办结", _sent, _text("请对办理结果进行评价")),
)}
KINDS = tuple(TEMPLATES)

# Who may be sent what: a resident gets the resident kinds, a volunteer (or party member) also the volunteer kinds,
# a grid worker also the grid's tasks.
AUDIENCE_ROLES = {"resident": {"resident"}, "volunteer": {"volunteer", "party_member"}, "grid_worker": {"grid_worker"},
                  "handler": {"grid_worker", "admin", "street_staff"}}


def kinds_for(roles: set[str]) -> list[str]:
    return [t.kind for t in TEMPLATES.values() if t.audience == "resident" or AUDIENCE_ROLES[t.audience] & roles]


# --- delivery outcomes --------------------------------------------------------------------------------------------

PERMANENT_ERRCODES = {40003: "openid 无效", 40037: "模板 id 无效", 41030: "page 不在已发布版本中",
                      47003: "模板参数不合规"}
NO_QUOTA_ERRCODE = 43101
# -1 (system busy), 45009 (daily API limit), and anything unknown: transient, retried with backoff.
MAX_ATTEMPTS = 6
RETRY_BASE_SECONDS = 30
LEASE_SECONDS = 60
# How long a final outbox item (sent, skipped, failed, expanded) is kept before DynamoDB's TTL deletes it: long
# enough for an admin to see what did not arrive (GET /v1/admin/messages) and for an inquiry; the outbox otherwise
# grows by every message ever sent (docs/cost.md).
FINAL_KEPT_DAYS = 90
RETRY_SHARDS = 4


def retry_shard(message_id: str) -> str:
    import zlib
    return f"retry#{zlib.crc32(message_id.encode()) % RETRY_SHARDS}"


def backoff_seconds(attempts: int, jitter: float) -> float:
    """The wait before attempt ``attempts + 1`` after a transient fault: 30 s, 60 s, 2 min, … up to an hour, times
    a jitter in [0.5, 1.5) so a WeChat outage's backlog does not come back all at once."""
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), 3600) * (0.5 + jitter)

# The outbox stream's records the sender is invoked for (the event source mapping's filter in template.yaml, and
# the local stack's stream reader): new messages and new fan-outs. A message put back to pending for a retry is a
# MODIFY and waits for the sweep.
STREAM_FILTER = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["pending", "fanout"]}}}}


def stream_record_wanted(record: dict) -> bool:
    """``STREAM_FILTER`` applied to one record, as Lambda's filtering does for these two fields."""
    status = (((record.get("dynamodb") or {}).get("NewImage") or {}).get("status") or {}).get("S")
    return record.get("eventName") in STREAM_FILTER["eventName"] \
        and status in STREAM_FILTER["dynamodb"]["NewImage"]["status"]["S"]
