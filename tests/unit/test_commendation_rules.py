"""微星光 commendations' pure rules (domain/commendations.py): periods, keys."""
from datetime import datetime, timezone

import pytest

from tongxin.domain import commendations as rules
from tongxin.domain.errors import ValidationFailed

# 2026-11-30 20:00 UTC is already 2026-12-01 in Shanghai: December is the current month there.
NOW = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("period", ["2000", "2000-01", "2026", "2026-12", "2026-01", "2015-07"])
def test_good_periods(period):
    assert rules.parse_period(period, NOW) == period


@pytest.mark.parametrize("period", ["1999", "1999-12", "0001", "9999", "9999-12", "2027", "2027-01", "2026-13",
                                    "2026-00", "2026-1", "26-12", "2026/12", "", "2026-12-01", "２０２６"])
def test_bad_periods_name_the_field(period):
    with pytest.raises(ValidationFailed) as refused:
        rules.parse_period(period, NOW)
    assert refused.value.details == {"field": "period"} and refused.value.message


def test_months_only_refuses_a_year_and_names_its_field():
    assert rules.parse_period("2026-12", NOW, field="month", months_only=True) == "2026-12"
    with pytest.raises(ValidationFailed) as refused:
        rules.parse_period("2026", NOW, field="month", months_only=True)
    assert refused.value.details == {"field": "month"}


def test_the_shanghai_month_decides_not_utc():
    assert rules.parse_period("2026-12", NOW) == "2026-12"  # UTC still says November
    with pytest.raises(ValidationFailed):
        rules.parse_period("2026-12", datetime(2026, 11, 30, 15, 59, tzinfo=timezone.utc))


def test_keys():
    a = rules.key_of("c1", "u1", "2026-11", "优秀志愿者")
    assert a == rules.key_of("c1", "u1", "2026-11", "优秀志愿者")
    assert len({a, rules.key_of("c1", "u1", "2026-10", "优秀志愿者"), rules.key_of("c1", "u1", "2026-11", "优秀党员"),
                rules.key_of("c1", "u2", "2026-11", "优秀志愿者"), rules.key_of("c2", "u1", "2026-11", "优秀志愿者")}) == 5
    assert rules.period_counter("c1", "u1", "2026-11") == "commended#c1#u1#2026-11"
    assert rules.person_key("c1", "u1") == "c1#u1"
    assert rules.month_anchor("2026-12").strftime("%Y-%m") == "2026-12"
