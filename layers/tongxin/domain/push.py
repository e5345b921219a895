"""订阅消息 (subscribe messages), pure: ONE template entry per message kind — who receives it and the fields it
offers — and the shaping of our data to WeChat's keyword types, so WeChat never answers 47003 for our own data.

A template in WeChat's library fixes its own keywords (``thing27``, ``phrase16``, ``time4``, ``character_string9``
…), so which of our fields fills which keyword is configuration, per kind: ``WECHAT_TEMPLATES`` maps a kind to
``{"id": <template id>, "data": {<keyword>: <field>}}`` (config.py; docs/push.md). The fields (``FIELDS``) are
``title``, ``state``, ``time``, ``note``, ``sent`` and ``code`` for every kind, ``place``, ``points`` and ``name``
for the kinds whose data holds them; ``keyword_problems`` finds a keyword whose type cannot hold its field, so a
configuration WeChat would refuse stops the start instead of failing every message.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from .clock import SHANGHAI

# --- WeChat's keyword types (docs/push.md, WeChat's 订阅消息参数值内容限制说明) ---------------------------------

LIMITS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32, "letter": 32,
          "phone_number": 17, "amount": 10, "symbol": 5, "car_number": 8}
NAME_LETTERS_LIMIT = 20  # a name without 汉字: up to 20 letters
ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")
# Emoji — outside the Basic Multilingual Plane, and the BMP's own (☀ ❤ ✅ ⭐: miscellaneous symbols, dingbats,
# arrows and stars) — with their joiners and variation selectors: WeChat's keyword types take text; a value with
# them is refused (47003) for some types, so none is sent.
_NOT_TEXT = re.compile("[\U00010000-\U0010FFFF\u2600-\u27bf\u2b00-\u2bff\u200d\ufe0e\ufe0f\u20e3]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")  # 汉字 (CJK unified ideographs)
_NUMBER = re.compile(r"(\d+)(?:\.(\d+))?")


def clean(value: Any) -> str:
    """One line of plain text: control characters and line breaks become spaces, emoji are dropped."""
    text = _NOT_TEXT.sub("", str(value if value is not None else ""))
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return _SPACES.sub(" ", text).strip()


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters; a longer text keeps ``limit - 1`` and an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + ELLIPSIS


def shape(kind: str, value: Any) -> str:
    """``value`` as WeChat accepts it for the keyword type ``kind`` (the key without its number: ``thing``):
    ``thing`` ≤ 20 characters (a longer one cut with "…"); ``phrase`` ≤ 5 汉字 and nothing else; ``name`` ≤ 10
    characters with 汉字 or ≤ 20 letters, no digits; ``character_string`` ≤ 32 printable ASCII without spaces;
    ``number``/``amount`` the first number in it (≤ 32 / ≤ 10 digits); ``time`` ``2026年12月01日 09:30`` and ``date``
    ``2026年12月01日`` in Asia/Shanghai. An empty value is ``无`` (``-`` or ``0`` where 汉字 are not allowed)."""
    if kind == "time":
        return _local(value).strftime("%Y年%m月%d日 %H:%M")
    if kind == "date":
        return _local(value).strftime("%Y年%m月%d日")
    text = clean(value)
    if kind in ("number", "amount"):
        return _number(text, LIMITS[kind])
    if kind == "character_string":
        return "".join(c for c in text if "!" <= c <= "~")[:LIMITS[kind]] or "-"
    if kind == "letter":
        return "".join(c for c in text if c.isascii() and c.isalpha())[:LIMITS[kind]] or "NA"
    if kind == "phone_number":
        return "".join(c for c in text if c.isdigit() or c in "+-")[:LIMITS[kind]] or "0"
    if kind == "phrase":
        return "".join(_HAN.findall(text))[:LIMITS[kind]] or "无"
    if kind == "name":
        return _name(text) or "无"
    limit = LIMITS.get(kind)
    text = text or "无"
    return cut(text, limit) if limit else text


def _number(text: str, limit: int) -> str:
    """The first number in ``text``: digits and at most one decimal point, at most ``limit`` digits."""
    found = _NUMBER.search(text.replace(",", ""))
    if found is None:
        return "0"
    whole, fraction = found.group(1)[:limit], found.group(2) or ""
    room = limit - len(whole)
    return f"{whole}.{fraction[:room]}" if fraction and room > 0 else whole


def _name(text: str) -> str:
    """A person's name as WeChat's ``name`` takes it: with 汉字, only 汉字, letters and · (≤ 10); without, letters
    and symbols (≤ 20). Digits and anything else are dropped."""
    if _HAN.search(text):
        return "".join(c for c in text if _HAN.match(c) or (c.isascii() and c.isalpha()) or c == "·")[:LIMITS["name"]]
    kept = "".join(c for c in text if c.isascii() and (c.isalpha() or c in " .-'"))
    return _SPACES.sub(" ", kept).strip()[:NAME_LETTERS_LIMIT].strip()


def _local(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI)


def keyword_type(keyword: str) -> str:
    """``thing1`` → ``thing``; ``character_string2`` → ``character_string``."""
    return keyword.rstrip("0123456789")


# --- our fields, and the keyword types that can hold each ---------------------------------------------------

# Every kind offers these: what it is about, its state (a phrase of ≤ 5 汉字), when (the kind's moment: the start, a
# deadline, or when it happened), a note, when the change happened, and the id of the thing (wish, event, award,
# redemption, request). ``place``, ``points`` and ``name`` only where the kind's data holds them (``Template.extra``).
COMMON_FIELDS = ("title", "state", "time", "note", "sent", "code")
FIELDS = COMMON_FIELDS + ("place", "points", "name")
# Which of our fields a keyword of each of WeChat's types can hold. A time in a ``thing`` is shown as text
# (``2026年12月01日 09:30``, 17 characters: WeChat's library has templates with 活动时间 as a thing); a ``phrase``
# holds only our state (≤ 5 汉字); numbers hold only points; nothing of ours is a letter, a symbol, a phone number
# or a car number, so a keyword of those types cannot be configured.
TYPE_FIELDS: dict[str, frozenset[str]] = {
    "thing": frozenset(FIELDS),
    "phrase": frozenset({"state"}),
    "time": frozenset({"time", "sent"}),
    "date": frozenset({"time", "sent"}),
    "number": frozenset({"points"}),
    "amount": frozenset({"points"}),
    "character_string": frozenset({"code", "points"}),
    "name": frozenset({"name"}),
    "letter": frozenset(), "symbol": frozenset(), "phone_number": frozenset(), "car_number": frozenset(),
}
_KEYWORD = re.compile(r"([a-z]+(?:_[a-z]+)*)([0-9]{1,3})")
# What a kind configured by a bare template id (the format before keywords were configurable) sends.
LEGACY_KEYWORDS = {"thing1": "title", "phrase2": "state", "time3": "time", "thing4": "note"}


def parse_keyword(keyword: Any) -> str | None:
    """The WeChat type of a template keyword (``thing27`` → ``thing``), or None if it is not one."""
    match = _KEYWORD.fullmatch(keyword) if isinstance(keyword, str) else None
    return match.group(1) if match and match.group(1) in TYPE_FIELDS else None


def keyword_problems(kind: str, keywords: Any) -> list[str]:
    """What is wrong with ``keywords`` (keyword → field) for ``kind``; empty if WeChat would take what it sends."""
    template = TEMPLATES[kind]
    if not isinstance(keywords, dict) or not keywords:
        return ["data must be a non-empty JSON object: the template's keyword → one of our fields"]
    problems = []
    for keyword, name in keywords.items():
        ktype = parse_keyword(keyword)
        if ktype is None:
            problems.append(f"{keyword!r} is not a template keyword (a type and its number: thing7, phrase3, "
                            f"time4, character_string9; types: {', '.join(TYPE_FIELDS)})")
        elif name not in FIELDS:
            problems.append(f"{keyword}: unknown field {name!r} (fields: {', '.join(FIELDS)})")
        elif name not in template.offered:
            problems.append(f"{keyword}: {kind} has no {name!r} (it offers {', '.join(sorted(template.offered))})")
        elif name not in TYPE_FIELDS[ktype]:
            allowed = ", ".join(sorted(TYPE_FIELDS[ktype])) or "none of our fields"
            problems.append(f"{keyword}: a {ktype} keyword cannot hold {name!r} (it can hold: {allowed})")
    return problems


# --- the template table ----------------------------------------------------------------------------------------

Source = Callable[[dict, datetime], Any]


@dataclass(frozen=True)
class Template:
    kind: str
    audience: str  # who receives it: resident | volunteer | grid_worker | handler | staff | admin (GET /v1/me/subscriptions asks by role)
    subject: Source  # title
    state: str  # state
    when: Source  # time
    note: Source  # note
    code_key: str = ""  # the data key of the thing's id: code
    extra: tuple[tuple[str, Source], ...] = ()  # place, points, name: where the kind's data holds them

    @property
    def offered(self) -> frozenset[str]:
        """The fields this kind can fill."""
        return frozenset(COMMON_FIELDS) | {name for name, _ in self.extra}

    def values(self, data: dict, created_at: datetime) -> dict[str, Any]:
        """Our fields, before shaping."""
        raw = {"title": self.subject(data, created_at), "state": self.state, "time": self.when(data, created_at),
               "note": self.note(data, created_at), "sent": created_at, "code": data.get(self.code_key) or ""}
        raw.update({name: source(data, created_at) for name, source in self.extra})
        return raw

    def fields(self, data: dict, created_at: datetime, keywords: dict[str, str]) -> dict[str, dict[str, str]]:
        """The ``data`` of ``message/subscribe/send``: each of the template's ``keywords`` (keyword → our field)
        with its field, shaped to the keyword's type. A time in a text keyword is shown as WeChat shows times."""
        raw = self.values(data, created_at)
        fields = {}
        for keyword, name in keywords.items():
            ktype = keyword_type(keyword)
            if name not in raw:
                raise ValueError(f"{self.kind} has no field {name!r}")
            value = raw[name]
            if name in ("time", "sent") and ktype not in ("time", "date"):
                value = shape("time", value)
            fields[keyword] = {"value": shape(ktype, value)}
        return fields


def _field(name: str, default: str = "") -> Source:
    return lambda data, _at: data.get(name) or default


def _text(text: str) -> Source:
    return lambda _data, _at: text


def _sent(_data: dict, created_at: datetime) -> datetime:
    return created_at


def _starts(data: dict, created_at: datetime) -> Any:
    return data.get("starts_at") or created_at


def _points(data: dict, _at: datetime) -> Any:
    return data.get("points") or 0


CATEGORY_NAMES = {"charity": "雪中送炭", "mediation": "息事宁人", "participation": "锦上添花"}
WISH, EVENT, AWARD, REDEMPTION, REQUEST = "wish_id", "event_id", "award_id", "redemption_id", "request_id"
POINTS = (("points", _points),)
PLACE = (("place", _field("address", "详见活动页面")),)

TEMPLATES: dict[str, Template] = {t.kind: t for t in (
    Template("wish_to_review", "grid_worker", _field("title"), "待审核", _sent, _field("category", "微心愿"), WISH),
    Template("wish_overdue", "grid_worker", _field("title"), "待认领", _sent, _text("超过72小时无人认领，请跟进"), WISH),
    Template("wish_claimed", "resident", _field("title"), "已认领", _sent, _text("志愿者已认领您的心愿"), WISH),
    Template("wish_released", "resident", _field("title"), "已放弃", _sent, _text("志愿者放弃认领，心愿已重新开放"),
             WISH),
    Template("wish_fulfilled", "resident", _field("title"), "待确认", _sent, _text("志愿者已完成，请确认并评价"), WISH),
    Template("wish_cancelled", "volunteer", _field("title"), "已取消", _sent, _text("发布人已取消这个心愿"), WISH),
    Template("wish_confirmed", "volunteer", _field("title"), "已确认",
             _sent, lambda d, _at: f"获得 {d.get('points', 0)} 积分", WISH, POINTS),
    Template("wish_expired", "resident", _field("title"), "已过期", _sent, _text("心愿已过截止时间"), WISH),
    Template("wish_reviewed", "resident", _field("title"), "已审核", _sent,
             lambda d, _at: "审核通过，已公开" if d.get("result") == "approved" else f"未通过：{d.get('reason') or ''}",
             WISH),
    Template("event_promoted", "resident", _field("title"), "候补成功", _starts, _text("您已从候补转为报名成功"),
             EVENT, PLACE),
    Template("event_reminder", "resident", _field("title"), "即将开始", _starts, _field("address", "请按时参加"),
             EVENT, PLACE),
    Template("event_cancelled", "resident", _field("title"), "已取消", _starts, _field("reason", "活动已取消"),
             EVENT, PLACE),
    Template("event_changed", "resident", _field("title"), "有变更", _starts, _text("活动时间或地点已调整，请查看"),
             EVENT, PLACE),
    Template("checkin_unsettled", "volunteer", _field("title"), "未签退", _sent, _text("请联系组织者补录服务时长"),
             EVENT),
    Template("points_awarded", "resident", _field("reason"), "已到账", _sent,
             lambda d, _at: f"{CATEGORY_NAMES.get(d.get('category'), '奖励')} +{d.get('points', 0)} 积分", AWARD,
             POINTS),
    Template("award_reversed", "resident", _field("reason"), "已撤销", _sent,
             lambda d, _at: f"奖励撤销 -{d.get('points', 0)} 积分", AWARD, POINTS),
    Template("redemption_expiring", "resident", _field("goods"), "即将过期",
             lambda d, at: d.get("expires_at") or at, _text("请在过期前到积分超市领取"), REDEMPTION),
    Template("redemption_expired", "resident", _field("goods"), "已过期", _sent,
             lambda d, _at: f"{d.get('points', 0)} 积分已退回", REDEMPTION, POINTS),
    # 接诉即办: ``summary`` is the request's category and the start of its content.
    Template("request_new", "handler", _field("summary"), "待响应", lambda d, at: d.get("answer_due") or at,
             lambda d, _at: "紧急诉求，请尽快响应" if d.get("urgent") else "居民诉求，请按时响应", REQUEST),
    Template("request_escalated", "handler", _field("summary"), "吹哨报到", lambda d, at: d.get("answer_due") or at,
             lambda d, _at: d.get("reason") or "下级吹哨，请按时报到", REQUEST),
    Template("request_reopened", "handler", _field("summary"), "退回重办", lambda d, at: d.get("solve_due") or at,
             _field("comment", "居民不满意，请重新办理"), REQUEST),
    Template("request_overdue", "handler", _field("summary"), "已超时", lambda d, at: d.get("solve_due") or at,
             lambda d, _at: f"{d.get('level_label') or ''}超时未办结，请督办", REQUEST),
    Template("request_accepted", "resident", _field("summary"), "已响应", _sent,
             lambda d, _at: f"{d.get('handler') or '工作人员'}已响应，正在处理", REQUEST,
             (("name", _field("handler", "工作人员")),)),
    Template("request_resolved", "resident", _field("summary"), "已办结", _sent, _text("请对办理结果进行评价"), REQUEST),
    # 延期 and 督办: to the level above (asked), to the handler who asked (decided), to the current handlers.
    Template("request_extension_asked", "handler", _field("summary"), "延期申请",
             lambda d, at: d.get("solve_due") or at,
             lambda d, _at: f"{d.get('level_label') or ''}申请延期{d.get('days') or ''}天：{d.get('reason') or ''}",
             REQUEST),
    Template("request_extension_approved", "handler", _field("summary"), "同意延期",
             lambda d, at: d.get("solve_due") or at, lambda d, _at: f"已同意延期{d.get('days') or ''}天，请按新时限办结",
             REQUEST),
    Template("request_extension_rejected", "handler", _field("summary"), "驳回延期",
             lambda d, at: d.get("solve_due") or at, lambda d, _at: f"延期未获同意：{d.get('reason') or ''}", REQUEST),
    Template("request_supervised", "handler", _field("summary"), "督办", _sent,
             lambda d, _at: f"{d.get('by') or '上级'}督办：{d.get('note') or ''}", REQUEST),
    # 通报: the month's bulletin is final (the 1st of the next month), to the street's and the district's staff.
    Template("bulletin_ready", "staff", lambda d, _at: f"{d.get('month') or ''}月度通报 {d.get('name') or ''}",
             "已定稿", _sent,
             lambda d, _at: f"{d.get('flagged') or 0}个单位低于阈值，请查看" if d.get("flagged") else "本月通报已生成，请查看",
             "month"),
    # 双报到: a new registration to the community's admins; the decision to the member (usecases/party.py).
    Template("party_registration_submitted", "admin", lambda d, _at: f"党员报到：{d.get('name') or ''}", "待审核", _sent,
             lambda d, _at: f"{d.get('party_branch') or ''}，请审核", "registration_id"),
    Template("party_registration_decided", "resident", _text("党员报到"), "已审核", _sent,
             lambda d, _at: "审核通过，已登记为党员" if d.get("result") == "approved" else f"未通过：{d.get('reason') or ''}",
             "registration_id"),
    # 志愿服务记录证明: issued, refused or revoked, to the volunteer who asked (usecases/certificates.py).
    Template("certificate_decided", "volunteer", _text("志愿服务记录证明"), "已处理", _sent,
             lambda d, _at: (f"已出具，编号{d.get('number') or ''}" if d.get("result") == "issued"
                             else f"{'已撤销' if d.get('result') == 'revoked' else '未出具'}：{d.get('reason') or ''}"),
             "certificate_id"),
    # 共建单位: a community signed (or renewed) its co-building agreement with the unit, to the unit's liaisons.
    Template("unit_agreement_signed", "unit_liaison", lambda d, _at: f"{d.get('community') or ''}共建协议",
             "已签订", _sent, lambda d, _at: f"有效期至{d.get('valid_until') or ''}，请查看承诺事项", "unit_id"),
    # 服务卡: the quarter closed, the unit's cards are ready (usecases/service_cards.py), to the unit's liaisons.
    Template("unit_service_cards_ready", "unit_liaison",
             lambda d, _at: f"{d.get('quarter') or ''}服务卡 {d.get('name') or ''}", "已生成", _sent,
             lambda d, _at: f"{d.get('members') or 0}名党员，{d.get('meeting') or 0}名达标，请查看", "quarter"),
    # 领岗: a post's last place was claimed, to the community's admins (usecases/posts.py).
    Template("post_full", "admin", _field("title"), "已满员", _sent,
             lambda d, _at: f"{d.get('headcount') or ''}个名额已全部认领", "post_id"),
    # 共建项目: the community completed a project with the unit, to the unit's liaisons (usecases/co_projects.py).
    Template("co_project_done", "unit_liaison", _field("title"), "已完成", _sent,
             lambda d, _at: f"{d.get('community') or ''}共建项目已完成，居民可以评价了", "co_project_id"),
    # 微实事 (usecases/project_rounds.py, round_steps.py): the proposer on the review; every resident when voting
    # opens, the day before it closes (those who have not voted), and on the result.
    Template("round_proposal_reviewed", "resident", _field("title"), "已审核", _sent,
             lambda d, _at: "已通过，将进入投票" if d.get("result") == "approved" else f"未通过：{d.get('reason') or ''}",
             "project_id"),
    Template("round_voting_open", "resident", _field("title"), "投票开始", lambda d, at: d.get("closes_at") or at,
             _text("微实事项目投票已开始，请在截止前投票"), "round_id"),
    Template("round_voting_reminder", "resident", _field("title"), "即将截止",
             lambda d, at: d.get("closes_at") or at, _text("投票明天截止，您还没有投票"), "round_id"),
    Template("round_results", "resident", _field("title"), "已公示", _sent,
             lambda d, _at: f"{d.get('selected') or 0}个项目入选，请查看结果", "round_id"),
)}
KINDS = tuple(TEMPLATES)

# Who may be sent what: a resident gets the resident kinds, a volunteer (or party member) also the volunteer kinds,
# a grid worker also the grid's tasks.
AUDIENCE_ROLES = {"resident": {"resident"}, "volunteer": {"volunteer", "party_member"}, "grid_worker": {"grid_worker"},
                  "handler": {"grid_worker", "admin", "street_staff", "district_staff", "department_staff"},
                  "staff": {"street_staff", "district_staff"}, "admin": {"admin"},
                  "unit_liaison": {"unit_liaison"}}


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
