"""订阅消息 value shaping (issue 11, issue 20): every keyword type's rule, and for EVERY message kind the fields built
from realistic and from hostile data into EVERY keyword type that may hold each field, checked against WeChat's type
rules as docs/push.md states them — written out here on their own, not by calling ``shape`` again — and against the
WeChat stand-in's own validation of ``message/subscribe/send`` (what answers 47003 in the tests over HTTP). Pure: no
DynamoDB, no HTTP.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from infra.local.wechat_standin import DEV_TEMPLATES, subscribe_data_error
from tongxin.config import DEV_TEMPLATE_KEYWORDS
from tongxin.domain import push
from tongxin.domain.push import KINDS, TEMPLATES, TYPE_FIELDS, shape

# --- WeChat's rules, independently of the code under test ------------------------------------------------------

# docs/push.md (WeChat's 订阅消息参数值内容限制说明): thing ≤20 characters, character_string ≤32 printable ASCII,
# number ≤32 digits, letter ≤32, phrase ≤5 汉字 only, name ≤10 with 汉字 (or 20 letters, no digits), amount ≤10 digits.
MAX_LENGTH = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32, "letter": 32,
              "phone_number": 17, "amount": 10}
TIME_VALUE = re.compile(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}")
DATE_VALUE = re.compile(r"\d{4}年\d{2}月\d{2}日")
HAN = re.compile("[\u4e00-\u9fff]")
ELLIPSIS = "…"
# 接诉即办's kinds by audience, stated here (docs/contract.md, docs/push.md): the level's handlers, and the author.
HANDLER_KINDS = {"request_new", "request_escalated", "request_reopened", "request_overdue", "request_extension_asked",
                 "request_extension_approved", "request_extension_rejected", "request_supervised"}
AUTHOR_KINDS = {"request_accepted", "request_resolved"}
STAFF_KINDS = {"bulletin_ready"}  # 通报: the street's and the district's staff (docs/push.md)
UNIT_KINDS = {"unit_agreement_signed", "unit_service_cards_ready",  # 共建协议, 服务卡: the unit's liaisons only
              "co_project_done"}  # 共建项目 completed (usecases/co_projects.py)
ADMIN_KINDS = {"party_registration_submitted", "post_full"}  # 双报到: a new registration, to the community's admins only
# Every field a kind offers, each in a keyword of a type that holds it: what a deployment could configure.
WIDE = {"title": "thing1", "state": "phrase2", "time": "time3", "note": "thing4", "sent": "date5",
        "code": "character_string6", "place": "thing7", "points": "number8", "name": "name9"}


def wide(kind: str) -> dict[str, str]:
    return {keyword: field for field, keyword in WIDE.items() if field in TEMPLATES[kind].offered}


def render(kind: str, data: dict, keywords: dict[str, str] | None = None) -> dict:
    return TEMPLATES[kind].fields(data, CREATED, keywords or wide(kind))


UTC = timezone.utc
CREATED = datetime(2026, 11, 30, 17, 45, 12, tzinfo=UTC)  # 2026-12-01 01:45 in Shanghai: across midnight UTC
STARTS = "2026-12-31T16:30:00+00:00"  # 2027-01-01 00:30 in Shanghai: across the year too
EXPIRES = "2026-12-05T23:59:00+08:00"
ANSWER_DUE = "2026-11-30T18:15:12+00:00"  # 2026-12-01 02:15 in Shanghai: half an hour after CREATED
SOLVE_DUE = "2026-12-03T17:45:12+00:00"  # 2026-12-04 01:45 in Shanghai: 72 h after CREATED
REQUEST_SUMMARY = "设施维修：3栋2单元楼道灯坏了一个星期，晚上上下楼很危险，老人摔倒过一次"[:40]

TITLE_50 = "帮独居的张奶奶每周二和周五上午去社区卫生服务中心取降压药并送到家里顺便陪她聊聊天看看身体情况和家里的水电煤气是否安全"[:50]
HOSTILE = "🎉紧急！！\n帮忙\t修\r\n水管\x00\x07\x1b[31m 👨‍👩‍👧 楼下\u2028漏水\u200b了🙏" + "很严重" * 10


def shanghai(moment: datetime) -> tuple[int, int, int, int, int]:
    """UTC+8 by arithmetic (China has had no daylight saving since 1991), not through the code's SHANGHAI zone."""
    local = moment.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=8)
    return local.year, local.month, local.day, local.hour, local.minute


def as_time(moment: datetime) -> str:
    y, m, d, hh, mm = shanghai(moment)
    return f"{y:04d}年{m:02d}月{d:02d}日 {hh:02d}:{mm:02d}"


def problems(value: str) -> list[str]:
    """What in ``value`` WeChat refuses in any keyword (no control characters, no line breaks; no emoji)."""
    found = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"):
            found.append(f"{category} U+{ord(char):04X}")
        elif ord(char) > 0xFFFF:
            found.append(f"non-BMP U+{ord(char):04X}")
    if value != value.strip():
        found.append("leading or trailing whitespace")
    if "  " in value:
        found.append("double space")
    return found


def check_keyword(keyword: str, value: str) -> None:
    kind = keyword.rstrip("0123456789")
    assert isinstance(value, str) and value, f"{keyword}: empty"
    assert not problems(value), f"{keyword}={value!r}: {problems(value)}"
    if kind == "time":
        assert TIME_VALUE.fullmatch(value), f"{keyword}={value!r} is not WeChat's time format"
    elif kind == "date":
        assert DATE_VALUE.fullmatch(value), f"{keyword}={value!r} is not WeChat's date format"
    else:
        limit = 20 if kind == "name" and not HAN.search(value) else MAX_LENGTH[kind]  # a name in letters: 20
        assert len(value) <= limit, f"{keyword}={value!r}: {len(value)} > {limit}"
    if kind == "phrase":
        assert all(HAN.match(c) for c in value), f"{keyword}={value!r}: a phrase is 汉字 only"
    elif kind == "name":
        assert not any(c.isdigit() for c in value), f"{keyword}={value!r}: a name has no digits"
    elif kind == "character_string":
        assert all("!" <= c <= "~" for c in value), f"{keyword}={value!r}: printable ASCII, no spaces"
    elif kind == "number":
        assert re.fullmatch(r"[0-9]+(\.[0-9]+)?", value), f"{keyword}={value!r}: digits and one point"


def check_fields(fields: dict, keywords: dict[str, str]) -> None:
    assert set(fields) == set(keywords), fields
    for keyword, entry in fields.items():
        assert set(entry) == {"value"}, entry
        check_keyword(keyword, entry["value"])
    # The stand-in's validation of message/subscribe/send: what answers 47003 in the tests over HTTP.
    assert subscribe_data_error(tuple(keywords), fields) is None, (fields, subscribe_data_error(tuple(keywords),
                                                                                                fields))


# --- realistic data per kind: the shape each producer in usecases/ writes -------------------------------------

def realistic(kind: str) -> dict:
    wish = {"wish_id": "wsh_01JD", "title": "帮忙买药", "category": "助老"}
    event = {"event_id": "evt_01JD", "title": "重阳节敬老志愿服务", "starts_at": STARTS}
    request = {"request_id": "rq_01JD", "summary": REQUEST_SUMMARY, "category": "设施维修", "urgent": True}
    return {
        "wish_to_review": wish,
        "wish_overdue": wish,
        "wish_claimed": wish,
        "wish_released": wish,
        "wish_fulfilled": wish,
        "wish_cancelled": wish,
        "wish_confirmed": {**wish, "rating": 5, "points": 20},
        "wish_expired": wish,
        "wish_reviewed": {**wish, "result": "rejected", "reason": "内容含有联系方式，请修改后重新提交"},
        "event_promoted": event,
        "event_reminder": {**event, "address": "幸福小区党群服务中心二楼活动室"},
        "event_cancelled": {**event, "reason": "天气原因"},
        "event_changed": {**event, "ends_at": "2026-12-31T18:30:00+00:00"},
        "checkin_unsettled": {"event_id": "evt_01JD", "title": "重阳节敬老志愿服务"},
        "points_awarded": {"award_id": "awd_1", "points": 30, "category": "charity", "reason": "楼道义务清扫"},
        "award_reversed": {"award_id": "awd_1", "points": 30, "reason": "重复发放"},
        "redemption_expiring": {"redemption_id": "rdm_1", "goods": "洗衣液", "expires_at": EXPIRES},
        "redemption_expired": {"redemption_id": "rdm_1", "goods": "洗衣液", "points": 10},
        # 接诉即办: the data usecases/requests/steps.py writes (``summary`` is "category：content" cut to 40).
        "request_new": {**request, "answer_due": ANSWER_DUE},
        "request_escalated": {**request, "reason": "涉及物业维修基金，需社区协调", "answer_due": ANSWER_DUE},
        "request_reopened": {**request, "comment": "灯还是不亮", "solve_due": SOLVE_DUE},
        "request_overdue": {**request, "level_label": "网格", "solve_due": SOLVE_DUE},
        "request_accepted": {**request, "handler": "李网格员"},
        "request_resolved": request,
        "request_extension_asked": {**request, "days": 10, "reason": "需要协调施工队，材料还在路上",
                                    "solve_due": SOLVE_DUE, "level_label": "区直部门"},
        "request_extension_approved": {**request, "days": 3, "solve_due": SOLVE_DUE},
        "request_extension_rejected": {**request, "days": 3, "reason": "时限内可以办结", "solve_due": SOLVE_DUE},
        "request_supervised": {**request, "note": "请今天之内上门处理", "by": "街道"},
        # 通报: usecases/bulletin.py (``month`` is its code).
        "bulletin_ready": {"month": "2026-11", "name": "同心街道", "level": "street", "flagged": 2},
        # 共建协议: usecases/units.py (``unit_id`` is its code).
        "unit_agreement_signed": {"unit_id": "unit_01JD", "community": "同心社区", "title": "同心社区",
                                  "valid_until": "2027-12-31"},
        # 服务卡: usecases/service_cards.py (``quarter`` is its code).
        "unit_service_cards_ready": {"unit_id": "unit_01JD", "quarter": "2026Q4", "name": "同心区人民医院",
                                     "members": 12, "meeting": 9},
        # 双报到: usecases/party.py (``name`` masked, ``registration_id`` its code).
        "party_registration_submitted": {"registration_id": "c_01JD.u_01JD", "name": "王**",
                                         "party_branch": "同心社区第一党支部"},
        "party_registration_decided": {"registration_id": "c_01JD.u_01JD", "result": "rejected",
                                       "reason": "所在党支部信息不完整，请补充后重新提交"},
        # 志愿服务记录证明: usecases/certificates.py (``certificate_id`` is its code).
        "certificate_decided": {"certificate_id": "crt_0193a2f1c4d8e2b7a9", "result": "refused",
                                "reason": "所选期间的服务记录需先更正，请更正后重新申请"},
        # 领岗: usecases/posts.py (``post_id`` is its code).
        "post_full": {"post_id": "pst_0193a2f1c4d8e2b7a9", "title": "文明劝导员", "headcount": 5},
        # 共建项目: usecases/co_projects.py (``co_project_id`` is its code).
        "co_project_done": {"co_project_id": "cop_0193a2f1c4d8e2b7a9", "title": "周末义诊进社区：独居老人量血压问诊",
                            "community": "同心社区"},
        # 微实事: usecases/project_rounds.py, round_steps.py (``project_id`` / ``round_id`` is its code).
        "round_proposal_reviewed": {"project_id": "rpj_0193a2f1c4d8e2b7a9", "round_id": "rnd_0193a2f1c4d8e2b7a9",
                                    "title": "3栋楼道加装扶手方便老人上下楼", "result": "rejected",
                                    "reason": "预算超出本轮上限，建议拆分为两期"},
        "round_voting_open": {"round_id": "rnd_0193a2f1c4d8e2b7a9", "title": "2027年第一季度民生微实事",
                              "closes_at": SOLVE_DUE},
        "round_voting_reminder": {"round_id": "rnd_0193a2f1c4d8e2b7a9", "title": "2027年第一季度民生微实事",
                                  "closes_at": SOLVE_DUE},
        "round_results": {"round_id": "rnd_0193a2f1c4d8e2b7a9", "title": "2027年第一季度民生微实事", "selected": 3},
    }[kind]


def hostile(kind: str) -> dict:
    """Every text the kind's data may hold, at its worst: 50 characters, emoji, line breaks, control characters."""
    data = {key: (TITLE_50 + HOSTILE if isinstance(value, str) and not key.endswith(("_at", "_id", "_due")) else value)
            for key, value in realistic(kind).items()}
    data.update({"title": HOSTILE, "reason": "\n\n" + TITLE_50 + "\r\n🙏", "goods": "🎁" + TITLE_50,
                 "address": "幸福小区\n3栋\t2单元\x0b201室" + "🏠" * 30, "category": "\x00" + TITLE_50,
                 "points": 10 ** 12})
    return data


# --- one keyword type at a time ------------------------------------------------------------------------------

def test_a_50_character_title_is_cut_to_20_ending_with_an_ellipsis():
    assert len(TITLE_50) == 50
    value = shape("thing", TITLE_50)
    assert len(value) == 20 and value.endswith(ELLIPSIS)
    assert value[:-1] == TITLE_50[:19]
    check_keyword("thing1", value)


@pytest.mark.parametrize("text", ["帮忙买药", "a" * 20, "二十个字的标题刚好二十个字的标题刚好二十"])
def test_a_thing_within_the_limit_is_kept_whole(text):
    assert len(text) <= 20
    assert shape("thing", text) == text


def test_a_thing_one_over_the_limit_is_cut():
    value = shape("thing", "一" * 21)
    assert value == "一" * 19 + ELLIPSIS


@pytest.mark.parametrize("text, expected", [
    ("帮忙🎉买药", "帮忙买药"),
    ("🙏🙏谢谢大家", "谢谢大家"),
    ("家庭👨‍👩‍👧聚会", "家庭聚会"),  # a ZWJ sequence leaves no joiner behind
    ("加油💪🏽", "加油"),  # skin-tone modifier
    ("国旗🇨🇳升旗", "国旗升旗"),  # regional indicators
])
def test_emoji_are_dropped(text, expected):
    assert shape("thing", text) == expected


@pytest.mark.parametrize("text", ["谢谢❤️", "晴天☀️", "完成✅", "好评⭐", "足球⚽"])
def test_emoji_of_the_basic_plane_are_dropped_too(text):
    """✅ ⭐ ⚽ ❤ ☀ are emoji below U+FFFF: the contract says emoji are dropped, not only astral ones."""
    value = shape("thing", text)
    assert value == text[:2], f"{text!r} → {value!r}"


@pytest.mark.parametrize("text, expected", [
    ("第一行\n第二行", "第一行 第二行"),
    ("第一行\r\n第二行", "第一行 第二行"),
    ("一\n\n\n二", "一 二"),
    ("一\u2028二\u2029三", "一 二 三"),
    ("一\t二", "一 二"),
    ("\n前后有换行\n", "前后有换行"),
])
def test_line_breaks_become_one_space(text, expected):
    assert shape("thing", text) == expected


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\u200b", "\u202e", "\ufeff",
                                  "\u2066", "\x0b", "\x0c"])
def test_control_and_format_characters_are_gone(char):
    value = shape("thing", f"修{char}水管")
    assert not problems(value), (char, value)
    assert value.replace(" ", "") == "修水管"


@pytest.mark.parametrize("kind", ["thing", "phrase", "name"])
@pytest.mark.parametrize("empty", ["", None, "   ", "\n\r\n", "\x00\x07", "🎉🙏", "\u200b"])
def test_nothing_left_becomes_wu(kind, empty):
    assert shape(kind, empty) == "无"


def test_phrase_is_at_most_five_hanzi_and_nothing_else():
    """WeChat's phrase is 5 汉字 or fewer and only 汉字: no ellipsis, digit, letter or punctuation survives."""
    assert shape("phrase", "待审核") == "待审核"
    assert shape("phrase", "候补成功") == "候补成功"
    assert shape("phrase", "审核未通过请修改") == "审核未通过"
    assert shape("phrase", "第2步：OK了！") == "第步了"
    for value in ("审核未通过", "第步了"):
        check_keyword("phrase2", value)


def test_every_state_of_the_table_is_a_phrase_as_it_is():
    for kind, template in TEMPLATES.items():
        assert shape("phrase", template.state) == template.state, kind
        check_keyword("phrase1", template.state)


@pytest.mark.parametrize("text, expected", [
    ("王志愿", "王志愿"),
    ("欧阳" + "娜" * 20, "欧阳" + "娜" * 8),  # 10 with 汉字
    ("志愿者1号", "志愿者号"),  # no digits in a name
    ("李网格员🎉", "李网格员"),
    ("Mary Ann O'Neil", "Mary Ann O'Neil"),
    ("Alexander Christopher Smith", "Alexander Christophe"),  # 20 without 汉字
    ("user 410774", "user"),
    ("12345", "无"),
])
def test_name_follows_wechats_rule(text, expected):
    assert shape("name", text) == expected
    check_keyword("name1", expected)


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), "2026年12月01日 00:00"),  # midnight in Shanghai
    (datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), "2026年11月30日 23:59"),  # still the day before
    (datetime(2026, 12, 1, 1, 30, tzinfo=UTC), "2026年12月01日 09:30"),
    (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "2027年01月01日 00:30"),  # across the year
    (datetime(2028, 2, 28, 20, 0, tzinfo=UTC), "2028年02月29日 04:00"),  # leap day
    ("2026-11-30T23:10:00+00:00", "2026年12月01日 07:10"),  # ISO text, as stored in a message's data
    ("2026-12-01T01:30:00+08:00", "2026年12月01日 01:30"),  # already Shanghai time
    ("2026-11-30T20:15:00Z", "2026年12月01日 04:15"),
    (datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5))), "2026年12月01日 22:30"),
])
def test_time_is_shown_in_shanghai(moment, expected):
    assert shape("time", moment) == expected
    check_keyword("time3", expected)


def test_time_agrees_with_arithmetic_over_a_whole_day():
    start = datetime(2026, 11, 30, 0, 7, tzinfo=UTC)
    for minutes in range(0, 24 * 60, 17):
        moment = start + timedelta(minutes=minutes)
        assert shape("time", moment) == as_time(moment)


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "2026年12月01日"),
    (datetime(2026, 11, 30, 15, 30, tzinfo=UTC), "2026年11月30日"),
    ("2026-12-31T17:00:00+00:00", "2027年01月01日"),
])
def test_date_is_shown_in_shanghai(moment, expected):
    assert shape("date", moment) == expected


@pytest.mark.parametrize("text", ["RDM-2026-0001", "订单号 AB12 🎉", "\n\x00" + "x" * 40, "全中文没有字母", "",
                                  "a\u00e9b\u00fc"])
def test_character_string_is_printable_ascii_within_32(text):
    value = shape("character_string", text)
    assert value and len(value) <= 32, value
    assert all(" " <= c <= "~" for c in value), value
    assert not problems(value), value


def test_character_string_keeps_what_is_ascii():
    assert shape("character_string", "RDM-2026-0001") == "RDM-2026-0001"
    assert shape("character_string", "订单AB-12🎉") == "AB-12"
    assert shape("character_string", "x" * 40) == "x" * 32


@pytest.mark.parametrize("kind, text, expected", [
    ("number", 20, "20"),
    ("number", "共 12 次", "12"),
    ("amount", "¥12.50", "12.50"),
    ("amount", 10 ** 15, "1000000000"),
])
def test_number_and_amount_are_digits(kind, text, expected):
    value = shape(kind, text)
    assert value == expected
    assert re.fullmatch(r"-?[0-9.]+", value) and len(value) <= MAX_LENGTH[kind]


def test_clean_and_cut():
    assert push.clean(" 一\n二\x00三🎉 ") == "一 二 三"
    assert push.clean(None) == ""
    assert push.cut("一二三", 3) == "一二三"
    assert push.cut("一二三四", 3) == "一二" + ELLIPSIS
    assert len(push.cut("x" * 100, 20)) == 20


# --- the template table: every kind ------------------------------------------------------------------------

def test_the_table_has_one_entry_for_every_kind_the_code_writes():
    """Every ``kind`` a use case puts in the outbox has its template entry (a missing one is never sendable)."""
    from pathlib import Path
    root = Path(push.__file__).resolve().parents[1] / "usecases"
    source = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    written = set(re.findall(r'enqueue\([^)]*?kind="(\w+)"', source, re.S))
    written |= set(re.findall(r'fan_out\([^)]*?kind="(\w+)"', source, re.S))
    written |= set(re.findall(r'notify(?:_grid)?\(tx, wish, "(\w+)"', source))
    written |= set(re.findall(r'tell_(?:level|author|person)\(tx,[^"]*?"(\w+)"', source))  # 接诉即办's writers
    assert len(written) >= 15, written
    assert HANDLER_KINDS | AUTHOR_KINDS <= written, (HANDLER_KINDS | AUTHOR_KINDS) - written
    assert written <= set(KINDS), written - set(KINDS)
    assert KINDS == tuple(TEMPLATES) and len(set(KINDS)) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_fields_from_realistic_data_follow_the_rules(kind):
    fields = render(kind, realistic(kind))
    check_fields(fields, wide(kind))
    assert fields["thing1"]["value"] != "无", fields  # the subject is there
    assert fields["phrase2"]["value"] == TEMPLATES[kind].state, fields  # the table's own states fit uncut


@pytest.mark.parametrize("kind", KINDS)
def test_fields_from_hostile_data_follow_the_rules(kind):
    check_fields(render(kind, hostile(kind)), wide(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_fields_with_every_key_missing_follow_the_rules(kind):
    fields = render(kind, {})
    check_fields(fields, wide(kind))
    assert fields["date5"]["value"] == as_time(CREATED)[:11]


@pytest.mark.parametrize("kind", KINDS)
def test_fields_with_null_values_follow_the_rules(kind):
    data = {key: None for key in realistic(kind)}
    check_fields(render(kind, data), wide(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_in_every_type_that_may_hold_it_follows_the_rules(kind):
    """Whatever keyword a deployment maps a field to (any type ``TYPE_FIELDS`` allows), WeChat takes the value:
    from realistic data and from hostile data."""
    pairs = [(ktype, name) for ktype, names in TYPE_FIELDS.items() for name in sorted(names)
             if name in TEMPLATES[kind].offered]
    keywords = {f"{ktype}{n}": name for n, (ktype, name) in enumerate(pairs, start=1)}
    assert {"thing", "phrase", "time", "date", "character_string"} <= {k for k, _ in pairs}
    for data in (realistic(kind), hostile(kind), {}):
        check_fields(render(kind, data, keywords), keywords)


@pytest.mark.parametrize("kind", KINDS)
def test_the_development_keywords_follow_the_rules_and_are_the_stand_ins_templates(kind):
    """The dev configuration (never the bare thing1/phrase2/time3/thing4) and the stand-in's registered template
    of the same id have the same keywords, and what the dev keywords make is what the stand-in takes."""
    keywords = DEV_TEMPLATE_KEYWORDS[kind]
    assert set(keywords) != {"thing1", "phrase2", "time3", "thing4"}
    assert not push.keyword_problems(kind, keywords)
    assert set(DEV_TEMPLATES[f"tmpl_{kind}"]) == set(keywords)
    for data in (realistic(kind), hostile(kind)):
        check_fields(render(kind, data, keywords), keywords)


def test_a_time_in_a_text_keyword_is_shown_as_a_time():
    fields = render("event_reminder", realistic("event_reminder"), {"thing1": "title", "thing2": "time",
                                                                    "thing3": "sent"})
    assert fields["thing2"]["value"] == as_time(datetime.fromisoformat(STARTS))
    assert fields["thing3"]["value"] == as_time(CREATED)


def test_points_code_place_and_name_reach_their_keywords():
    confirmed = render("wish_confirmed", realistic("wish_confirmed"), {"number3": "points", "character_string1":
                                                                       "code", "thing2": "points"})
    assert confirmed == {"number3": {"value": "20"}, "character_string1": {"value": "wsh_01JD"},
                         "thing2": {"value": "20"}}
    reminder = render("event_reminder", realistic("event_reminder"), {"thing5": "place"})
    assert reminder["thing5"]["value"] == "幸福小区党群服务中心二楼活动室"
    assert render("event_promoted", realistic("event_promoted"), {"thing5": "place"})["thing5"]["value"] \
        == "详见活动页面"  # the kind offers a place; its data has none
    accepted = render("request_accepted", realistic("request_accepted"), {"name6": "name"})
    assert accepted["name6"]["value"] == "李网格员"


def test_a_field_the_kind_does_not_have_is_refused():
    with pytest.raises(ValueError):
        render("wish_claimed", realistic("wish_claimed"), {"number1": "points"})


@pytest.mark.parametrize("kind", KINDS)
def test_the_time_keyword_is_the_right_moment_in_shanghai(kind):
    data = realistic(kind)
    value = render(kind, data)["time3"]["value"]
    if kind.startswith("event_"):
        expected = as_time(datetime.fromisoformat(STARTS))
    elif kind == "redemption_expiring":
        expected = as_time(datetime.fromisoformat(EXPIRES))
    elif kind in ("request_new", "request_escalated"):  # the handlers' deadline to answer (响应 / 报到)
        expected = as_time(datetime.fromisoformat(ANSWER_DUE))
    elif kind in ("request_reopened", "request_overdue", "request_extension_asked", "request_extension_approved",
                  "request_extension_rejected"):  # the deadline to solve (after an approval: the new one)
        expected = as_time(datetime.fromisoformat(SOLVE_DUE))
    elif kind in ("round_voting_open", "round_voting_reminder"):  # 微实事: when voting closes
        expected = as_time(datetime.fromisoformat(SOLVE_DUE))
    else:
        expected = as_time(CREATED)
    assert value == expected, (kind, value)


def test_the_subject_of_a_wish_message_is_its_title_cut():
    fields = render("wish_claimed", {"title": TITLE_50, "wish_id": "w"})
    assert fields["thing1"]["value"] == TITLE_50[:19] + ELLIPSIS
    fields = render("wish_claimed", {"title": "帮忙\n买药🎉", "wish_id": "w"})
    assert fields["thing1"]["value"] == "帮忙 买药"


def test_kinds_for_roles():
    resident = set(push.kinds_for({"resident"}))
    volunteer = set(push.kinds_for({"resident", "volunteer"}))
    worker = set(push.kinds_for({"grid_worker"}))
    assert {"wish_claimed", "event_reminder", "points_awarded"} <= resident
    assert not {"wish_to_review", "wish_overdue", "wish_cancelled", "wish_confirmed"} & resident
    assert {"wish_cancelled", "wish_confirmed", "checkin_unsettled"} <= volunteer - resident
    assert {"wish_to_review", "wish_overdue"} <= worker
    assert "wish_to_review" not in volunteer
    assert set(push.kinds_for({"resident", "volunteer", "grid_worker"})) == set(KINDS) - STAFF_KINDS - ADMIN_KINDS - UNIT_KINDS
    assert ADMIN_KINDS <= set(push.kinds_for({"admin"}))
    for roles in ({"grid_worker"}, {"street_staff"}, {"resident", "party_member"}):
        assert not ADMIN_KINDS & set(push.kinds_for(roles)), roles
    for roles in ({"street_staff"}, {"district_staff"}):  # 通报: the street's and the district's staff only
        assert STAFF_KINDS <= set(push.kinds_for(roles)), roles
    for roles in ({"grid_worker"}, {"admin"}, {"department_staff"}, {"resident"}):
        assert not STAFF_KINDS & set(push.kinds_for(roles)), roles
    assert set(push.kinds_for({"party_member"})) >= volunteer - resident
    assert UNIT_KINDS <= set(push.kinds_for({"unit_liaison"}))  # 共建单位: its liaisons only
    for roles in ({"admin"}, {"street_staff"}, {"resident", "party_member"}):
        assert not UNIT_KINDS & set(push.kinds_for(roles)), roles


def test_request_kinds_reach_handlers_and_the_author_only():
    """The handlers' kinds are asked of grid workers, admins and street staff (each a level's handler), never of a
    plain resident, volunteer or store keeper; the author's two kinds of every resident."""
    for roles in ({"resident"}, {"resident", "volunteer"}, {"resident", "party_member"}, {"resident", "store_keeper"}):
        kinds = set(push.kinds_for(roles))
        assert AUTHOR_KINDS <= kinds, roles
        assert not HANDLER_KINDS & kinds, (roles, HANDLER_KINDS & kinds)
    for roles in ({"resident", "grid_worker"}, {"resident", "admin"}, {"street_staff"}, {"district_staff"},
                  {"department_staff"}):
        assert HANDLER_KINDS <= set(push.kinds_for(roles)), roles


def test_a_request_message_says_what_when_and_why():
    new = render("request_new", {"summary": REQUEST_SUMMARY, "urgent": True, "answer_due": ANSWER_DUE})
    assert len(REQUEST_SUMMARY) > 20 and new["thing1"]["value"] == REQUEST_SUMMARY[:19] + ELLIPSIS
    assert new["phrase2"]["value"] == "待响应" and "紧急" in new["thing4"]["value"]
    assert "紧急" not in render("request_new", {"summary": "x", "urgent": False})["thing4"]["value"]
    reason = "物业不配合，需要社区出面协调维修基金的使用问题"
    escalated = render("request_escalated", {"summary": "设施维修：楼道灯", "reason": reason})
    assert escalated["thing4"]["value"] == reason[:19] + ELLIPSIS
    reopened = render("request_reopened", {"summary": "设施维修：楼道灯", "comment": "还是不亮"})
    assert reopened["thing4"]["value"] == "还是不亮"
    accepted = render("request_accepted", {"summary": "设施维修：楼道灯", "handler": "李网格员"})
    assert "李网格员" in accepted["thing4"]["value"] and accepted["time3"]["value"] == as_time(CREATED)
    assert accepted["name9"]["value"] == "李网格员"


def test_outcome_constants():
    assert push.MAX_ATTEMPTS == 6 and push.LEASE_SECONDS == 60
    assert set(push.PERMANENT_ERRCODES) == {40003, 40037, 41030, 47003}
    assert push.NO_QUOTA_ERRCODE == 43101
