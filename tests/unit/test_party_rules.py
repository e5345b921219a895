"""双报到's pure rules (domain/party.py): Shanghai quarters, parsing the quarter asked, the assessment."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tongxin.domain.clock import SHANGHAI
from tongxin.domain.errors import ValidationFailed
from tongxin.domain.party import Quarter, Rules, assess, parse_quarter, quarter_bounds, quarter_of, quarters_to

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc)


def test_the_quarter_is_shanghais():
    assert quarter_of(datetime(2027, 3, 31, 23, 59, 59, tzinfo=SHANGHAI)) == "2027Q1"
    assert quarter_of(datetime(2027, 4, 1, 0, 0, 0, tzinfo=SHANGHAI)) == "2027Q2"
    assert quarter_of(datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)) == "2027Q1"  # already 1 Jan in Shanghai
    assert quarter_of(datetime(2026, 12, 31, 15, 59, tzinfo=timezone.utc)) == "2026Q4"
    assert quarter_of(datetime(1, 1, 1, 8, 0, tzinfo=timezone.utc)) == "0001Q1"
    assert quarter_of(datetime(9999, 12, 31, 15, 0, tzinfo=timezone.utc)) == "9999Q4"


def test_bounds_of_a_quarter():
    start, end = quarter_bounds("2027Q1")
    assert start == datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2027, 3, 31, 16, 0, tzinfo=timezone.utc)
    assert quarter_of(start) == "2027Q1" and quarter_of(end - timedelta(seconds=1)) == "2027Q1"
    assert quarter_bounds("9999Q4")[1] is None
    assert quarter_bounds("0001Q1")[0] == datetime.min.replace(tzinfo=timezone.utc)
    assert quarters_to("2026Q3") == ["2026Q1", "2026Q2", "2026Q3"]


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "26Q1", "2026-Q1", "0000Q1", "2027Q1", "9999Q4", "q", ""[:0] + "x"])
def test_malformed_or_future_quarters_are_400(text):
    with pytest.raises(ValidationFailed) as refused:
        parse_quarter(text, NOW)
    assert refused.value.details == {"field": "quarter"}


def test_the_default_is_the_current_quarter():
    assert parse_quarter(None, NOW) == "2026Q4" and parse_quarter("", NOW) == "2026Q4"
    assert parse_quarter("2026Q4", NOW) == "2026Q4" and parse_quarter("0001Q1", NOW) == "0001Q1"


def test_assessment_both_ways():
    rules = Rules()
    assert assess(Quarter(services=1), 20 * 60, rules) == (True, [])
    assert assess(Quarter(services=0), 20 * 60 - 1, rules) == (False, ["services", "hours"])
    assert assess(Quarter(services=3), 0, Rules(0, 0)) == (True, [])
    assert assess(Quarter(services=1), 20 * 60, Rules(2, 20)) == (False, ["services"])
    assert Quarter.of({"services": -1, "minutes": -5}).to_api()["minutes"] == 0  # never shown below zero
