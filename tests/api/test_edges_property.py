"""Values at the edges, generated (hypothesis): dates from year 1 to 9999 in any offset, leap days, text that is
empty after trimming or full of control characters — through the domain and through the routes. The answer is
always a documented 2xx/4xx in the envelope, and what is stored is what the rules allow."""
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.support import make_community
from tongxin.domain import text, wishes as rules
from tongxin.domain.clock import to_api, utcnow
from tongxin.domain.errors import ValidationFailed

OFFSETS = st.sampled_from([timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-12)),
                           timezone(timedelta(hours=14)), timezone(timedelta(hours=5, minutes=45))])
ANY_DATE = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS)
EDGY_CHARS = st.sampled_from(["\x00", "\x07", "\t", "\n", "\r", "\x1f", "\x7f", "\x85", "\x9f", "\u202a", "\u202e",
                              "\u2066", "\u2069", "\u2028", "\u3000", " ", "灯", "a", "🙂", "\u200b", "\ufeff",
                              "\u2060", "\u200d", "\ufdd0", "\uffff"])
EDGY_TEXT = st.lists(EDGY_CHARS, max_size=12).map("".join) | st.text(max_size=40)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- domain ---------------------------------------------------------------------------------------------

@given(ANY_DATE)
@example(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc))
@example(datetime(1, 1, 1, tzinfo=timezone.utc))
def test_any_stored_time_can_be_shown(moment):
    shown = to_api(moment)
    assert datetime.fromisoformat(shown) == moment.replace(microsecond=0)  # the API speaks whole seconds


@given(ANY_DATE)
@example(datetime(2028, 2, 29, 12, 0, tzinfo=timezone(timedelta(hours=8))))
def test_a_deadline_is_accepted_exactly_between_one_hour_and_a_year_ahead(deadline):
    now = utcnow()
    inside = now + rules.DEADLINE_MIN_AHEAD < deadline <= now + rules.DEADLINE_MAX_AHEAD
    try:
        rules.check_deadline(deadline, now)
        assert inside
    except ValidationFailed as refused:
        assert not inside and refused.details["field"] == "deadline"


@given(EDGY_TEXT)
def test_text_rules_refuse_exactly_the_forbidden_characters(value):
    forbidden_anywhere = any(ord(c) < 32 and c not in "\t\n\r" or 0x7F <= ord(c) <= 0x9F
                             or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069
                             or 0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE for c in value)
    line_breaks = any(c in "\t\n\r\u2028\u2029" for c in value)
    assert (text.multi_line_problem(value) is not None) == forbidden_anywhere
    assert (text.single_line_problem(value) is not None) == (forbidden_anywhere or line_breaks)


# --- routes --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def town(api):
    community = make_community(api)
    community.set(wish_publish_daily_cap=100_000)
    return community, community.resident(0)


@SETTINGS
@given(deadline=ANY_DATE)
@example(deadline=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc))
def test_any_deadline_is_201_or_400_and_the_list_still_answers(town, deadline):
    community, author = town
    resp = author.post("/v1/wishes", {"title": "灯", "content": "灯坏了", "category": "维修",
                                      "deadline": deadline.isoformat()})
    assert resp.status in (201, 400), resp.body
    if resp.status == 400:
        assert resp.json["error"]["details"]["field"] == "deadline"
    else:
        assert datetime.fromisoformat(resp.json["deadline"]) == deadline.replace(microsecond=0)
    assert author.get("/v1/wishes?limit=5").status == 200


@SETTINGS
@given(start=ANY_DATE, end=ANY_DATE)
def test_any_stats_window_is_200_or_400(town, start, end):
    community, _ = town
    query = f"from={start.isoformat()}&to={end.isoformat()}".replace("+", "%2B")
    resp = community.admin.get(f"/v1/admin/stats?{query}")
    assert resp.status in (200, 400), resp.body


@SETTINGS
@given(title=EDGY_TEXT, content=EDGY_TEXT)
def test_any_text_is_stored_trimmed_and_clean_or_refused_naming_the_field(town, title, content):
    _, author = town
    resp = author.post("/v1/wishes", {"title": title, "content": content, "category": "其他"})
    assert resp.status in (201, 400), resp.body
    if resp.status == 201:
        wish = resp.json
        # stored as sent but for blanks and invisible characters (format characters, Cf) cut from the ends, and
        # something visible left
        stored = wish["title"]
        assert stored and stored in title
        cut = title[:title.index(stored)] + title[title.index(stored) + len(stored):]
        assert all(c.isspace() or unicodedata.category(c) == "Cf" or c in "\u115f\u1160\u3164\uffa0"  # fillers
                   for c in cut), (title, stored)
        assert not (stored[0].isspace() or stored[-1].isspace() or stored[0] == "\u200b" or stored[-1] == "\u200b")
        assert any(not (c.isspace() or unicodedata.category(c) == "Cf") for c in stored)
        assert text.single_line_problem(wish["title"]) is None
        assert text.multi_line_problem(wish["content"]) is None
    else:
        assert resp.json["error"]["details"]["field"] in ("title", "content")
