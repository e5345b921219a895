"""积分 rules without I/O: periods in Asia/Shanghai, the boards a credit counts on, ranks with ties, pickup codes."""
from datetime import datetime, timedelta, timezone

import pytest

from tongxin.domain import points as rules
from tongxin.domain.errors import InsufficientPoints

UTC = timezone.utc


def test_periods_are_shanghai_months_and_years():
    # 2026-12-31 16:30 UTC is 2027-01-01 00:30 in Shanghai: the new month and the new year already.
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert [rules.period_key(p, new_year) for p in rules.PERIODS] == ["2027-01", "2027", "all"]
    last_minute = new_year - timedelta(minutes=31)
    assert [rules.period_key(p, last_minute) for p in rules.PERIODS] == ["2026-12", "2026", "all"]


def test_a_credit_adds_to_three_items_each_on_its_community_and_grid_board():
    at = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert rules.score_keys("points", "c1", "g1", at) == [
        rules.ScoreKey("points#community#c1#2026-12", "points#grid#g1#2026-12"),
        rules.ScoreKey("points#community#c1#2026", "points#grid#g1#2026"),
        rules.ScoreKey("points#community#c1#all", "points#grid#g1#all")]
    assert [key.grid_board for key in rules.score_keys("minutes", "c1", None, at)] == [None] * 3
    assert rules.score_keys("points", None, None, at) == []


@pytest.mark.parametrize("scores, ranks", [
    ([], []),
    ([("a", 9)], [1]),
    ([("a", 9), ("b", 7), ("c", 7), ("d", 3)], [1, 2, 2, 4]),
    ([("a", 5), ("b", 5), ("c", 5)], [1, 1, 1]),
])
def test_equal_scores_share_a_rank_and_the_next_skips(scores, ranks):
    assert [rank for rank, _, _ in rules.ranked(scores)] == ranks


def test_pickup_codes_are_typable_and_normalised():
    codes = {rules.new_pickup_code() for _ in range(500)}
    assert all(len(c) == 6 and set(c) <= set(rules.PICKUP_ALPHABET) for c in codes)
    assert not set("01IO") & set(rules.PICKUP_ALPHABET)
    assert len(codes) > 495  # 32^6 codes: repeats in 500 draws would mean a broken generator
    assert rules.normalise_pickup_code(" ab3-d ef ") == "AB3DEF"


def test_a_redemption_is_reminded_a_day_before_it_expires_then_expired():
    expires = datetime(2026, 12, 8, tzinfo=UTC)
    assert rules.redemption_due(expires, reminded=False) == expires - timedelta(days=1)
    assert rules.redemption_due(expires, reminded=True) == expires


def test_the_awarders_day_is_the_shanghai_day():
    late_utc = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 2026-12-02 01:00 in Shanghai
    key, expires = rules.awarder_day_counter("u1", late_utc)
    assert key == "award-day#u1#2026-12-02" and expires > late_utc + timedelta(days=1)


def test_a_debit_never_takes_the_balance_below_zero():
    assert rules.balance_after(10, -10) == 0
    with pytest.raises(InsufficientPoints):
        rules.balance_after(10, -11)
