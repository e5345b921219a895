"""共建项目 and 群众评单's pure rules (domain/co_projects.py): dates, the need, the average, what each step refuses."""
from datetime import date, datetime, timedelta, timezone

import pytest

from tongxin.domain import co_projects as rules
from tongxin.domain.errors import AlreadyRated, InvalidState, NotFound, ValidationFailed

# 2026-12-31 23:30 in Shanghai is still 2026-12-31 15:30 UTC: "today" is the community's day.
NOW = datetime(2026, 12, 31, 15, 30, tzinfo=timezone.utc)
TODAY = date(2026, 12, 31)


def field_of(call) -> str:
    with pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.details["field"]


def test_today_is_the_shanghai_day():
    assert rules.today(NOW) == TODAY
    assert rules.today(NOW + timedelta(minutes=30)) == date(2027, 1, 1)


def test_dates_in_range_are_stored_as_iso_days():
    assert rules.check_dates(TODAY, TODAY, NOW) == ("2026-12-31", "2026-12-31")
    back = TODAY - rules.STARTS_BACK_MAX
    assert rules.check_dates(back, back + rules.DURATION_MAX, NOW) == (back.isoformat(),
                                                                       (back + rules.DURATION_MAX).isoformat())


@pytest.mark.parametrize("starts, ends, field", [
    (date(1, 1, 1), TODAY, "starts_on"), (TODAY, date(9999, 12, 31), "ends_on"), (date(1999, 12, 31), TODAY, "starts_on"),
    (TODAY, date(2100, 1, 1), "ends_on"), (TODAY - rules.STARTS_BACK_MAX - timedelta(days=1), TODAY, "starts_on"),
    (TODAY, TODAY - timedelta(days=1), "ends_on"), (TODAY, TODAY + rules.DURATION_MAX + timedelta(days=1), "ends_on"),
])
def test_dates_out_of_bounds_name_their_field(starts, ends, field):
    assert field_of(lambda: rules.check_dates(starts, ends, NOW)) == field


def test_a_need_is_a_post_a_text_or_both():
    rules.check_need("pst_1", None)
    rules.check_need(None, "楼道清理")
    rules.check_need("pst_1", "补充")
    assert field_of(lambda: rules.check_need(None, None)) == "need"
    assert field_of(lambda: rules.check_need("", "")) == "need"


@pytest.mark.parametrize("count, total, shown", [(0, 0, None), (1, 5, 5.0), (3, 13, 4.3), (3, 14, 4.7), (2, 3, 1.5)])
def test_the_average_has_one_decimal_and_none_before_the_first(count, total, shown):
    from tongxin.domain.ratings import average  # 群众评单 and 微实事's 验收 alike
    assert average(count, total) == shown


def test_what_each_step_refuses():
    assert rules.progress_refusal(None, 0) is rules.PROJECT_NOT_FOUND
    assert rules.progress_refusal(rules.PLANNED, 0) is None
    assert rules.progress_refusal(rules.IN_PROGRESS, rules.PROGRESS_MAX - 1) is None
    assert rules.progress_refusal(rules.IN_PROGRESS, rules.PROGRESS_MAX) is rules.PROGRESS_FULL
    assert isinstance(rules.progress_refusal(rules.DONE, 0), InvalidState)
    assert rules.complete_refusal(rules.PLANNED) is None and rules.complete_refusal(rules.IN_PROGRESS) is None
    assert isinstance(rules.complete_refusal(rules.DONE), InvalidState)
    assert isinstance(rules.complete_refusal(None), NotFound)
    assert rules.rating_refusal(rules.DONE) is None
    assert rules.rating_refusal(rules.PLANNED) is rules.NOT_DONE_YET is not None
    assert isinstance(rules.rating_refusal(rules.IN_PROGRESS), InvalidState)
    assert isinstance(rules.ALREADY_RATED, AlreadyRated) and rules.ALREADY_RATED.code == "ALREADY_RATED"
    assert rules.ALREADY_RATED.status == 409 and "评价" in rules.ALREADY_RATED.message


def test_progress_moves_planned_on_and_the_status_key_names_the_community():
    assert rules.status_after_progress(rules.PLANNED) == rules.IN_PROGRESS
    assert rules.status_after_progress(rules.IN_PROGRESS) == rules.IN_PROGRESS
    assert rules.status_key("c_1", rules.DONE) == "c_1#done"


def test_served_grids_are_stored_sorted_and_distinct():
    assert rules.served_grids(None) == rules.served_grids([]) == []  # the whole community
    assert rules.served_grids(["g_b", "g_a"]) == ["g_a", "g_b"]
    assert field_of(lambda: rules.served_grids(["g_a", "g_a"])) == "served_grid_ids"
    most = [f"g_{i}" for i in range(rules.SERVED_GRIDS_MAX)]
    assert len(rules.served_grids(most)) == rules.SERVED_GRIDS_MAX
    assert field_of(lambda: rules.served_grids(most + ["g_more"])) == "served_grid_ids"


def test_only_residents_of_the_served_grids_rate():
    assert rules.rating_grid_refusal(set(), "g_a") is None  # the whole community
    assert rules.rating_grid_refusal(None, None) is None
    assert rules.rating_grid_refusal({"g_a", "g_b"}, "g_b") is None
    refusal = rules.rating_grid_refusal({"g_a"}, "g_b")
    assert (refusal.status, refusal.code) == (403, "FORBIDDEN") and "网格" in refusal.message
    assert rules.rating_grid_refusal({"g_a"}, None) is rules.GRID_NOT_SERVED  # living in no grid
