"""微实事 票选's pure rules (domain/ballots.py): the choice's validation, the ranking with its tie-break, the winners
of both styles, the voter's shard."""
from datetime import datetime, timedelta, timezone

import pytest

from tongxin.domain import ballots as rules
from tongxin.domain.errors import ValidationFailed

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
COSTS = {"a": 100, "b": 200, "c": 300}


def cand(pid, votes, minutes, cost=100):
    return rules.Candidate(pid, votes, T0 + timedelta(minutes=minutes), cost)


def test_a_valid_choice_is_kept_in_the_order_given():
    assert rules.check_choice(["c", "a"], COSTS, style="budget", max_choices=None, budget_yuan=400) == ["c", "a"]


@pytest.mark.parametrize("ids, field", [([], "project_ids"), (["a", "a"], "a"), (["zz"], "zz"), (["a", "x"], "x")])
def test_an_empty_repeated_or_unknown_choice_is_400_naming_it(ids, field):
    with pytest.raises(ValidationFailed) as caught:
        rules.check_choice(ids, COSTS, style="approval", max_choices=3, budget_yuan=1000)
    assert field in (caught.value.details.get("project_id"), caught.value.details.get("field"))
    assert caught.value.message  # Chinese, for the user


def test_approval_at_most_max_choices():
    costs = {f"p{i}": 1 for i in range(11)}
    assert len(rules.check_choice([f"p{i}" for i in range(10)], costs, style="approval", max_choices=10,
                                  budget_yuan=1)) == 10
    with pytest.raises(rules.TooManyChoices):
        rules.check_choice([f"p{i}" for i in range(11)], costs, style="approval", max_choices=10, budget_yuan=1)


def test_budget_exactly_the_budget_passes_one_yuan_more_does_not():
    assert rules.check_choice(["a", "b", "c"], COSTS, style="budget", max_choices=None, budget_yuan=600)
    with pytest.raises(rules.BudgetExceeded) as caught:
        rules.check_choice(["a", "b", "c"], COSTS, style="budget", max_choices=None, budget_yuan=599)
    assert caught.value.details == {"total_yuan": 600, "budget_yuan": 599}


def test_ranked_by_votes_ties_by_earlier_approval():
    ranked = rules.rank([cand("late", 5, 10), cand("early", 5, 1), cand("top", 9, 20), cand("none", 0, 0)],
                        style="approval", max_choices=2, budget_yuan=0)
    assert [(r.id, r.rank, r.selected) for r in ranked] == [("top", 1, True), ("early", 2, True),
                                                            ("late", 3, False), ("none", 4, False)]


def test_budget_greedy_skips_a_winner_that_does_not_fit_and_goes_on():
    ranked = rules.rank([cand("big", 10, 0, cost=800), cand("mid", 9, 0, cost=500), cand("small", 8, 0, cost=200),
                         cand("tiny", 7, 0, cost=100)], style="budget", max_choices=None, budget_yuan=1000)
    assert [(r.id, r.selected) for r in ranked] == [("big", True), ("mid", False), ("small", True), ("tiny", False)]


def test_budget_exactly_filled_and_no_vote_never_selected():
    ranked = rules.rank([cand("a", 3, 0, cost=600), cand("b", 2, 1, cost=400), cand("c", 0, 2, cost=1)],
                        style="budget", max_choices=None, budget_yuan=1000)
    assert [r.selected for r in ranked] == [True, True, False]


def test_all_equal_votes_rank_by_approval_time_then_id():
    ranked = rules.rank([cand("b", 1, 0), cand("a", 1, 0), cand("c", 1, -1)], style="approval", max_choices=1,
                        budget_yuan=0)
    assert [r.id for r in ranked] == ["c", "a", "b"] and [r.selected for r in ranked] == [True, False, False]


def test_ranking_nothing_is_nothing():
    assert rules.rank([], style="budget", max_choices=None, budget_yuan=100) == []


def test_shards_are_stable_and_spread():
    assert rules.shard_of("u_1") == rules.shard_of("u_1")
    shards = {rules.shard_of(f"u_{i}") for i in range(200)}
    assert shards == set(range(rules.VOTE_SHARDS))


def test_voting_window_is_from_inclusive_until_exclusive():
    frm, until = T0, T0 + timedelta(hours=1)
    assert rules.voting_refusal(frm, until, frm) is None
    assert rules.voting_refusal(frm, until, frm - timedelta(seconds=1)) is rules.NOT_YET_OPEN
    assert rules.voting_refusal(frm, until, until) is rules.ALREADY_CLOSED
    assert rules.results_ready(until, until) and not rules.results_ready(until, until - timedelta(seconds=1))
