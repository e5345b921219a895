"""Pure domain rules: no DynamoDB, no WeChat."""
from datetime import datetime, timedelta, timezone

import pytest

from tongxin.domain import wishes as rules
from tongxin.domain.access import Principal, Role, require_role
from tongxin.domain.clock import to_api
from tongxin.domain.errors import Forbidden, InsufficientPoints, NotInCommunity
from tongxin.domain.masking import mask_address, mask_name, mask_phone
from tongxin.domain.points import balance_after, wish_confirm_source
from tongxin.domain.stats import (
    add_up, by_month, hour_bucket, median_from_histogram, month_of_bucket, rate, window_buckets, wish_deltas,
)
from tongxin.domain.wishes import WishStatus as S

T0 = datetime(2026, 11, 22, 1, 30, tzinfo=timezone.utc)


def test_every_action_leads_from_its_states_only():
    assert rules.transition("claim") == (frozenset({S.OPEN}), S.CLAIMED)
    assert rules.transition("cancel")[0] == {S.PENDING_REVIEW, S.OPEN, S.CLAIMED}
    assert S.FULFILLED not in rules.transition("cancel")[0]
    assert rules.transition("confirm") == (frozenset({S.FULFILLED}), S.CONFIRMED)
    for action, (sources, _) in rules.TRANSITIONS.items():
        assert not sources & rules.TERMINAL, action


def test_initial_status():
    assert rules.initial_status(False, "pass") is S.OPEN
    assert rules.initial_status(True, "pass") is S.PENDING_REVIEW
    assert rules.initial_status(False, "review") is S.PENDING_REVIEW


def test_escalation_time_is_72_hours_or_24_before_deadline():
    assert rules.escalation_time(T0, None) == T0 + timedelta(hours=72)
    assert rules.escalation_time(T0, T0 + timedelta(hours=200)) == T0 + timedelta(hours=72)
    assert rules.escalation_time(T0, T0 + timedelta(hours=50)) == T0 + timedelta(hours=26)


def test_next_due_and_scheduled_step():
    deadline = T0 + timedelta(hours=50)
    assert rules.next_due(S.OPEN, T0, deadline, escalated=False) == T0 + timedelta(hours=26)
    assert rules.next_due(S.OPEN, T0, deadline, escalated=True) == deadline
    assert rules.next_due(S.OPEN, T0, None, escalated=True) is None
    assert rules.next_due(S.PENDING_REVIEW, None, deadline, escalated=False) == deadline
    assert rules.next_due(S.CLAIMED, T0, deadline, escalated=False) is None
    assert rules.scheduled_step(S.OPEN, deadline, False, deadline) == "expire"
    assert rules.scheduled_step(S.OPEN, deadline, False, deadline - timedelta(hours=1)) == "escalate"
    assert rules.scheduled_step(S.OPEN, None, True, T0) is None
    assert rules.scheduled_step(S.CLAIMED, deadline, False, deadline + timedelta(days=1)) is None


def test_grid_task_and_shards():
    assert rules.needs_grid_worker(S.PENDING_REVIEW, False)
    assert rules.needs_grid_worker(S.OPEN, True) and not rules.needs_grid_worker(S.OPEN, False)
    assert not rules.needs_grid_worker(S.CLAIMED, True)
    shards = {rules.due_shard(f"w_{i}") for i in range(200)}
    assert shards == {f"due#{i}" for i in range(rules.DUE_SHARDS)}
    assert rules.due_shard("w_1") == rules.due_shard("w_1")


def test_invalid_state_message_is_chinese_with_the_status():
    error = rules.invalid_state("claim", "confirmed")
    assert error.code == "INVALID_STATE" and "已圆梦" in error.message and error.details["status"] == "confirmed"


def test_require_role_scopes():
    worker = Principal("u1", "c1", frozenset({"grid_worker", "resident"}), grid_ids=frozenset({"g1"}))
    assert require_role(worker, Role.GRID_WORKER, grid_id="g1").grid_id == "g1"
    with pytest.raises(Forbidden):
        require_role(worker, Role.GRID_WORKER, grid_id="g2")
    with pytest.raises(Forbidden):
        require_role(worker, Role.GRID_WORKER, community_id="c2")
    admin = Principal("u2", "c1", frozenset({"admin"}))
    grant = require_role(admin, Role.GRID_WORKER, Role.ADMIN, grid_id="g9")
    assert grant.role == "admin" and grant.grid_id is None
    keeper = Principal("u3", "c1", frozenset({"store_keeper"}), store_ids=frozenset({"s1"}))
    with pytest.raises(Forbidden):
        require_role(keeper, Role.STORE_KEEPER, store_id="s2")
    with pytest.raises(NotInCommunity):
        require_role(Principal("u4"), Role.RESIDENT)


def test_a_thing_with_no_grid_is_the_admins_not_a_grid_workers():
    worker = Principal("u1", "c1", frozenset({"grid_worker"}), grid_ids=frozenset({"g1"}))
    with pytest.raises(Forbidden):
        require_role(worker, Role.GRID_WORKER, Role.ADMIN, grid_id=None)
    assert require_role(worker, Role.GRID_WORKER).grid_id is None  # no scope asked: any grid worker
    admin = Principal("u2", "c1", frozenset({"admin"}))
    assert require_role(admin, Role.GRID_WORKER, Role.ADMIN, grid_id=None).role == "admin"


def test_masking():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) is None and mask_phone("12345") == "*****"
    assert mask_address("幸福小区3栋2单元501").endswith("****") and "501" not in mask_address("幸福小区3栋2单元501")
    assert mask_name("张三丰") == "张**" and mask_name("李") == "李*"


def test_points_arithmetic():
    assert balance_after(10, 20) == 30 and balance_after(30, -30) == 0
    with pytest.raises(InsufficientPoints):
        balance_after(10, -11)
    assert wish_confirm_source("w_1") == "wish#w_1#confirm"


def test_stats_helpers_and_times():
    # 1.5 h, 3 h and 5 h fall in the buckets (1,2], (2,4], (4,8]: the median is inside (2,4]
    histogram = {hour_bucket(s): 1 for s in (5400, 10800, 18000)}
    assert 2 < median_from_histogram(histogram) <= 4 and median_from_histogram({}) is None
    assert median_from_histogram({hour_bucket(7200): 5, hour_bucket(3 * 86400): 1}) <= 2
    assert rate(1, 3) == 0.3333 and rate(1, 0) is None
    assert to_api(T0) == "2026-11-22T09:30:00+08:00"


def test_a_window_reads_whole_months_and_its_edge_days():
    cst = timezone(timedelta(hours=8))
    names = window_buckets(datetime(2026, 1, 30, 12, tzinfo=cst), datetime(2026, 4, 2, 1, tzinfo=cst))
    assert names == ["d#2026-01-30", "d#2026-01-31", "m#2026-02", "m#2026-03", "d#2026-04-01", "d#2026-04-02"]
    # Shanghai days: 2026-02-28T17:00Z is already March 1st in Shanghai
    assert window_buckets(datetime(2026, 2, 28, 17, tzinfo=timezone.utc),
                          datetime(2026, 3, 31, 23, tzinfo=cst)) == ["m#2026-03"]
    year = window_buckets(datetime(2025, 12, 16, tzinfo=cst), datetime(2026, 12, 16, tzinfo=cst))
    assert len(year) <= 74 and "m#2026-06" in year  # one BatchGetItem (≤ 100 keys) for the longest window
    assert window_buckets(datetime(2028, 2, 29, tzinfo=cst), datetime(2028, 2, 29, 23, tzinfo=cst)) == ["d#2028-02-29"]


def test_the_month_of_a_bucket_is_read_from_its_key():
    assert month_of_bucket("stats#wishes#c_1#d#2026-01-31") == "2026-01"
    assert month_of_bucket("stats#requests#c_1#m#2026-02") == "2026-02"
    assert month_of_bucket("points-stats#c_1#d#2026-12-01") == "2026-12"
    assert month_of_bucket("d#2028-02-29") == "2028-02" and month_of_bucket("m#2028-02") == "2028-02"
    for key in ("stats#wishes#c_1", "stats#wishes#c_1#d#2026-01", "stats#wishes#c_1#m#2026-01-31",
                "stats#wishes#c_1#x#2026-01", "2026-01", "", "d#", "stats#wishes#c_1#d#2026-1-31"):
        with pytest.raises(ValueError):
            month_of_bucket(key)
    # every bucket of a window lies in one month: a window of two months and its edge days, month by month
    cst = timezone(timedelta(hours=8))
    names = window_buckets(datetime(2026, 1, 30, 12, tzinfo=cst), datetime(2026, 4, 2, 1, tzinfo=cst))
    assert [month_of_bucket(f"stats#wishes#c_1#{name}") for name in names] == [
        "2026-01", "2026-01", "2026-02", "2026-03", "2026-04", "2026-04"]


def test_counter_items_add_up_by_month():
    items = {"k#d#2026-01-30": {"s:open": 1, "c:维修": 1}, "k#m#2026-02": {"s:open": 2, "s:claimed": 1},
             "k#d#2026-01-31": {"s:open": 1, "s:claimed": -1}, "k#d#2026-03-01": {}}
    assert by_month(items) == {"2026-01": {"s:open": 2, "c:维修": 1, "s:claimed": -1},
                               "2026-02": {"s:open": 2, "s:claimed": 1}, "2026-03": {}}
    assert list(by_month(dict(reversed(list(items.items()))))) == ["2026-01", "2026-02", "2026-03"]  # month order
    assert add_up(items.values()) == {"s:open": 4, "c:维修": 1, "s:claimed": 0}
    assert by_month({}) == {} and add_up([]) == {}


def test_a_wish_change_moves_one_status_count():
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    base = {"status": "open", "category": "维修", "grid_id": "g1", "published_at": now, "first_claimed_at": None,
            "confirmed_at": None}
    assert wish_deltas(None, base) == {"total": 1, "c:维修": 1, "g:g1": 1, "s:open": 1}
    claimed = {**base, "status": "claimed", "first_claimed_at": now + timedelta(hours=3)}
    assert wish_deltas(base, claimed) == {"s:open": -1, "s:claimed": 1, f"h2c:{hour_bucket(3 * 3600)}": 1}
    released = {**claimed, "status": "open"}
    assert wish_deltas(claimed, released) == {"s:claimed": -1, "s:open": 1}  # a second claim is not a first
    assert wish_deltas(released, {**released, "status": "claimed"}) == {"s:open": -1, "s:claimed": 1}
