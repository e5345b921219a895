"""志愿服务记录证明's pure rules (domain/certificates.py): star levels at their edges, the period's checks (year 1 and
9999, 29 February, exactly 10 years), numbers, names, the snapshot's compact lines; and the PDF adapter's font
coverage (a character beyond GB2312 drawn as □) and its running without Pillow."""
from __future__ import annotations

import random
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from tongxin.domain import certificates as rules
from tongxin.domain.clock import SHANGHAI
from tongxin.domain.errors import ValidationFailed

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=timezone.utc)  # 2026-12-06 12:00 in Shanghai
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("hours, minutes_more, level", [
    (0, 0, None), (99, 59, None), (100, 0, "一星"), (299, 59, "一星"), (300, 0, "二星"), (599, 59, "二星"),
    (600, 0, "三星"), (999, 59, "三星"), (1000, 0, "四星"), (1499, 59, "四星"), (1500, 0, "五星"), (10000, 0, "五星"),
])
def test_star_levels_at_their_edges(hours, minutes_more, level):
    assert rules.star_level(hours * 60 + minutes_more) == level


@pytest.mark.parametrize("minutes, text", [(0, "0 分钟"), (45, "45 分钟"), (60, "1 小时"), (105, "1 小时 45 分钟"),
                                           (30500, "508 小时 20 分钟")])
def test_hours_text(minutes, text):
    assert rules.hours_text(minutes) == text


@pytest.mark.parametrize("start, end, field", [
    ("0001-01-01", "2026-12-06", "from"), ("2026-01-01", "9999-12-31", "to"), ("2026-12-07", "2026-12-07", "to"),
    ("2026-12-06", "2026-12-05", "from"), ("2026-02-29", "2026-03-01", "from"), ("2026-12-06", "20261206", "to"),
    ("2016-12-05", "2026-12-06", "from"),
])
def test_bad_periods_name_their_field(start, end, field):
    with pytest.raises(ValidationFailed) as refused:
        rules.parse_period(start, end, NOW)
    assert refused.value.details["field"] == field


def test_good_periods_today_one_day_and_exactly_ten_years():
    assert rules.parse_period("2026-12-06", "2026-12-06", NOW) == (date(2026, 12, 6), date(2026, 12, 6))
    assert rules.parse_period("2016-12-06", "2026-12-06", NOW)[0] == date(2016, 12, 6)
    # today in Shanghai is already tomorrow in UTC terms at 20:00 UTC
    late = datetime(2026, 12, 6, 20, 0, tzinfo=timezone.utc)
    assert rules.parse_period("2026-12-07", "2026-12-07", late) == (date(2026, 12, 7), date(2026, 12, 7))
    # a period ending on 29 February reaches back to 28 February ten years before
    leap = datetime(2028, 3, 1, tzinfo=timezone.utc)
    assert rules.parse_period("2018-02-28", "2028-02-29", leap)[0] == date(2018, 2, 28)


def test_window_is_shanghai_days():
    start, end = rules.window(date(2026, 1, 1), date(2026, 1, 31))
    assert start == datetime(2026, 1, 1, tzinfo=SHANGHAI) and end == datetime(2026, 2, 1, tzinfo=SHANGHAI)
    assert start.astimezone(timezone.utc) == datetime(2025, 12, 31, 16, tzinfo=timezone.utc)


def test_numbers():
    number = rules.number_of(2026, "c_community", 1)
    assert rules.valid_number(number) and number.startswith("TXZM-2026-") and number.endswith("-000001")
    assert rules.number_of(2026, "c_community", 1_234_567).endswith("-1234567")  # past a million: still valid
    assert rules.valid_number(rules.number_of(2026, "c_community", 1_234_567))
    assert rules.community_short("c_a") == rules.community_short("c_a") != rules.community_short("c_b")
    for bad in ("", "TXZM-2026-ABCD-00001", "TXZM-26-ABCD-000001", "txzm-2026-abcd-000001", "TXZM-2026-ABC1-000001",
                "TXZM-2026-ABCD-000001 "):
        assert not rules.valid_number(bad), bad
    assert rules.number_key(number) != rules.sequence_key("c_community", 2026) != rules.pending_key("u_1")


def test_volunteer_number_is_stable_and_reveals_nothing():
    assert rules.volunteer_number("u_1") == rules.volunteer_number("u_1") != rules.volunteer_number("u_2")
    assert rules.volunteer_number("u_1").startswith("TXV-") and "u_1" not in rules.volunteer_number("u_1")


@pytest.mark.parametrize("registered, given, matches", [
    ("王志愿", "王志愿", True), ("王志愿", " 王志愿\t", True), ("王志愿", "王志", False), ("王志愿", "王 志愿", False),
    ("王志愿", "", False), (None, "王志愿", False), ("Anna Li", "anna li", False),
])
def test_names_match_exactly_after_trimming(registered, given, matches):
    assert rules.name_matches(registered, given) is matches


def test_masking_for_the_check():
    assert rules.masked("王志愿") == "王**" and rules.masked("李四") == "李*" and rules.masked("  ") is None


def test_lines_round_trip_and_stay_small_at_500_of_the_longest():
    rnd = random.Random(7)
    hanzi = [chr(c) for c in range(0x4E00, 0x9FA5)]

    def text(n):
        return "".join(rnd.choice(hanzi) for _ in range(n))
    lines = [rules.line(date(2026, 1, 1), text(40), text(100), 600, text(20)) for _ in range(rules.MAX_LINES)]
    blob = rules.encode_lines(lines)
    assert rules.decode_lines(blob) == lines and rules.total_minutes(lines) == 300_000
    # random characters barely compress: the worst case, well below DynamoDB's 400 KB item
    assert len(blob) < 250_000, len(blob)
    long = rules.line(date(2026, 1, 1), "甲" * 70, "乙" * 120, 1, "丙" * 40)
    assert len(long[1]) == rules.TITLE_MAX and long[1].endswith("…") and len(long[2]) == rules.PLACE_MAX


def test_the_pdf_draws_characters_beyond_the_font_as_a_box():
    from tongxin.adapters.pdf import certificate
    assert certificate.printable("王志愿") == "王志愿"
    assert certificate.printable("䶮") == "□"  # 䶮 (yǎn): beyond GB2312
    assert certificate.printable("a\nb\x07") == "a b"


def test_the_pdf_renders_without_pillow():
    """The layer ships fpdf2 without Pillow: rendering must not need it."""
    script = (
        "import sys; sys.modules['PIL'] = None\n"
        "from tongxin.adapters.pdf import certificate\n"
        "data = certificate.render({'number': 'TXZM-2026-ABCD-000001', 'name': '王志愿', 'volunteer_number': 'TXV-X',"
        " 'from': '2026-01-01', 'to': '2026-12-06', 'purpose': '测试', 'lines': [['2026-01-02', '义诊', '广场', 60,"
        " '李', 'event']], 'total_minutes': 60, 'star_level': None, 'issuer': '同心社区', 'signatory': '—',"
        " 'handler': '管理员', 'issued_on': '2026-12-06', 'revoked': False, 'revoked_on': None},"
        " check_url='http://127.0.0.1:8000/v/TXZM-2026-ABCD-000001')\n"
        "assert data.startswith(b'%PDF-'), data[:10]\n"
        "assert 'PIL.Image' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "layers"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
