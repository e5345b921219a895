"""The WeChat stand-in's subscribe-message templates (infra/local/wechat_standin.py): the dev mini-program's templates
and their keywords, and WeChat's rules for each keyword type's values (订阅消息参数值内容限制说明) — what
message/subscribe/send checks before it takes a message."""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Callable

# -- subscribe messages: the mini-program's templates, pages and users' accepts --
#
# WeChat knows each template the mini-program added ("我的模板": its id and its
# keywords, each a type and a number: thing27, phrase16, time4) and the pages of
# the published mini-program (app.json). message/subscribe/send answers 40037
# for a template id it does not know, 47003 for a missing or extra keyword or a
# value outside its type's rules (errmsg naming the keyword), 41030 for a page
# the mini-program does not have, and 43101 once the user's accepts of the
# template are used up (one send per accept).

#: Keyword types of subscribe-message templates (订阅消息参数值内容限制说明).
SUBSCRIBE_KEYWORD_TYPES: tuple[str, ...] = (
    "thing", "number", "letter", "symbol", "character_string", "time", "date",
    "amount", "phone_number", "car_number", "name", "phrase",
)
_KEYWORD_RE = re.compile(r"(?P<type>[a-z]+(?:_[a-z]+)*)(?P<number>[0-9]{1,3})")

_WISH_NEWS = ("thing9", "phrase16", "time4", "thing27")
_WISH_TASK = ("character_string1", "thing2", "phrase7", "time9", "thing5")
_EVENT_NEWS = ("thing1", "date2", "thing8", "phrase11", "thing10")
_POINTS = ("character_string1", "thing3", "phrase5", "time4")
_REQUEST_TASK = ("character_string1", "thing2", "phrase3", "time4", "thing5")

#: The dev mini-program's templates, registered by default: template id -> its
#: keywords. The local stack's and the tests' configuration (tongxin.config,
#: DEV_TEMPLATE_KEYWORDS) maps each message kind to ``tmpl_<kind>`` with these.
DEV_TEMPLATES: dict[str, tuple[str, ...]] = {
    "tmpl_wish_to_review": _WISH_TASK,
    "tmpl_wish_overdue": _WISH_TASK,
    "tmpl_wish_claimed": _WISH_NEWS,
    "tmpl_wish_released": _WISH_NEWS,
    "tmpl_wish_fulfilled": _WISH_NEWS,
    "tmpl_wish_cancelled": _WISH_NEWS,
    "tmpl_wish_expired": _WISH_NEWS,
    "tmpl_wish_confirmed": ("thing9", "phrase16", "number5", "time4"),
    "tmpl_wish_reviewed": ("thing5", "phrase2", "time3", "thing4"),
    "tmpl_event_promoted": _EVENT_NEWS,
    "tmpl_event_cancelled": _EVENT_NEWS,
    "tmpl_event_changed": ("thing1", "time6", "thing8", "phrase11", "thing10"),
    "tmpl_event_reminder": ("thing3", "time1", "thing7", "thing4"),
    "tmpl_checkin_unsettled": ("thing1", "thing2", "thing3", "time4"),
    "tmpl_points_awarded": _POINTS,
    "tmpl_award_reversed": _POINTS,
    "tmpl_redemption_expiring": ("thing8", "time12", "character_string2", "thing13"),
    "tmpl_redemption_expired": ("thing8", "phrase3", "number4", "time5"),
    "tmpl_request_new": _REQUEST_TASK,
    "tmpl_request_escalated": _REQUEST_TASK,
    "tmpl_request_reopened": _REQUEST_TASK,
    "tmpl_request_overdue": _REQUEST_TASK,
    "tmpl_request_extension_asked": _REQUEST_TASK,
    "tmpl_request_extension_approved": _REQUEST_TASK,
    "tmpl_request_extension_rejected": _REQUEST_TASK,
    "tmpl_request_supervised": _REQUEST_TASK,
    "tmpl_bulletin_ready": _REQUEST_TASK,
    "tmpl_unit_agreement_signed": ("thing1", "phrase4", "time2", "thing3"),
    "tmpl_unit_service_cards_ready": _REQUEST_TASK,
    "tmpl_request_accepted": ("thing2", "phrase3", "name6", "time7"),
    "tmpl_request_resolved": ("thing2", "phrase3", "time7", "thing5"),
    "tmpl_party_registration_submitted": ("thing2", "phrase3", "time7", "thing5"),
    "tmpl_party_registration_decided": ("thing5", "phrase2", "time3", "thing4"),
    "tmpl_certificate_decided": ("thing5", "phrase2", "time3", "thing4"),  # 志愿服务记录证明 (审核结果)
    "tmpl_post_full": _WISH_TASK,
    "tmpl_co_project_done": ("thing1", "phrase4", "time2", "thing3"),
    "tmpl_round_proposal_reviewed": ("thing5", "phrase2", "time3", "thing4"),
    "tmpl_round_voting_open": ("thing6", "phrase3", "time2", "thing5"),
    "tmpl_round_voting_reminder": ("thing6", "phrase3", "time2", "thing5"),
    "tmpl_round_results": ("thing2", "phrase5", "time4", "thing3"),
}

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_DATE = (
    rf"(?:[0-9]{{4}}年{_MONTH}月{_DAY}日|[0-9]{{4}}年{_MONTH}月|{_MONTH}月{_DAY}日"
    rf"|[0-9]{{4}}([-/.]){_MONTH}\1{_DAY}|[0-9]{{4}}[-/.]{_MONTH}|{_MONTH}[-/.]{_DAY})"
)
_CLOCK = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?"
_TIME_POINT = re.compile(rf"(?:{_DATE} ?)?{_CLOCK}")
_DATE_POINT = re.compile(rf"{_DATE}(?: ?{_CLOCK})?")
_AMOUNT_RE = re.compile(r"[¥￥$€£]?(?P<number>[0-9]+(?:\.[0-9]+)?)元?")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _is_text(value: str) -> bool:
    """No control, format or line-break characters and nothing outside the BMP (emoji)."""
    return not any(
        unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or ord(char) > 0xFFFF
        for char in value
    )


def _is_range(value: str, point: re.Pattern[str]) -> bool:
    """One point, or two joined by ``~`` (a period)."""
    parts = value.split("~")
    return len(parts) <= 2 and all(point.fullmatch(part.strip()) for part in parts)


def _is_name(value: str) -> bool:
    """10 汉字 (letters may be mixed in: counted as a Chinese name), or 20 letters or symbols; no digits."""
    if re.search(f"[{_HAN}]", value):
        return len(value) <= 10 and re.fullmatch(f"[{_HAN}A-Za-z·]+", value) is not None
    return len(value) <= 20 and re.fullmatch(r"[A-Za-z .'·-]+", value) is not None and any(
        char.isalpha() for char in value
    )


def _is_amount(value: str) -> bool:
    match = _AMOUNT_RE.fullmatch(value)
    return match is not None and sum(char.isdigit() for char in match.group("number")) <= 10


def _is_symbol(value: str) -> bool:
    return len(value) <= 5 and _is_text(value) and all(
        not char.isalnum() and not char.isspace() for char in value
    )


def _is_car_number(value: str) -> bool:
    return 2 <= len(value) <= 8 and re.fullmatch(
        f"[{_HAN}A-Za-z0-9][A-Za-z0-9]*[{_HAN}A-Za-z0-9]", value
    ) is not None


#: Each keyword type's rule for a value (the value is a non-empty string).
SUBSCRIBE_VALUE_RULES: dict[str, Callable[[str], bool]] = {
    "thing": lambda v: len(v) <= 20 and _is_text(v),
    "phrase": lambda v: re.fullmatch(f"[{_HAN}]{{1,5}}", v) is not None,
    "name": _is_name,
    "character_string": lambda v: re.fullmatch(r"[!-~]{1,32}", v) is not None,
    "letter": lambda v: re.fullmatch(r"[A-Za-z]{1,32}", v) is not None,
    "number": lambda v: _NUMBER_RE.fullmatch(v) is not None and sum(c.isdigit() for c in v) <= 32,
    "amount": _is_amount,
    "phone_number": lambda v: re.fullmatch(r"[0-9+-]{1,17}", v) is not None,
    "symbol": _is_symbol,
    "car_number": _is_car_number,
    "time": lambda v: _is_range(v, _TIME_POINT),
    "date": lambda v: _is_range(v, _DATE_POINT),
}


def keyword_type(keyword: Any) -> str | None:
    """The type of a template keyword (``thing27`` -> ``thing``), or None."""
    match = _KEYWORD_RE.fullmatch(keyword) if isinstance(keyword, str) else None
    if match is None or match.group("type") not in SUBSCRIBE_KEYWORD_TYPES:
        return None
    return match.group("type")


def subscribe_data_error(keywords: tuple[str, ...] | list[str], data: Any) -> str | None:
    """WeChat's errmsg (47003) for ``data`` sent to a template with ``keywords``, or None if WeChat takes it:
    every keyword present, no other, each value a non-empty string within its type's rule."""
    if not isinstance(data, dict) or not data:
        return "argument invalid! data is empty"
    for keyword in keywords:
        if keyword not in data:
            return f"argument invalid! data.{keyword}.value is empty"
    for keyword, entry in data.items():
        if keyword not in keywords:
            return f"argument invalid! data.{keyword} is not a keyword of the template"
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            return f"argument invalid! data.{keyword}.value invalid"
        value = entry["value"]
        if not value.strip():
            return f"argument invalid! data.{keyword}.value is empty"
        if not SUBSCRIBE_VALUE_RULES[keyword_type(keyword) or "thing"](value):
            return f"argument invalid! data.{keyword}.value invalid"
    return None


def templates_from_config(raw: str) -> dict[str, tuple[str, ...]]:
    """The templates a ``WECHAT_TEMPLATES`` value names (message kind -> ``{"id", "data"}``, or a bare id whose
    keywords are thing1, phrase2, time3, thing4): template id -> keywords, to register in a stand-in."""
    found: dict[str, tuple[str, ...]] = {}
    for entry in json.loads(raw).values():
        if isinstance(entry, str):
            found[entry] = ("thing1", "phrase2", "time3", "thing4")
        else:
            found[entry["id"]] = tuple(entry["data"])
    return found
