"""微实事 rules, pure (domain/project_rounds.py): a round's phase at every boundary of its dates and delivery, the
settings a round may have, and why a proposal, a review or a progress report is refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tongxin.domain import project_rounds as rules
from tongxin.domain.errors import ValidationFailed

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)
P, V0, V1 = NOW + timedelta(hours=1), NOW + timedelta(hours=2), NOW + timedelta(hours=3)
PUB = rules.publicity_until(V1, 2)


def phase_at(at, *, final=False, selected=None, done=0):
    return rules.phase(proposals_until=P, voting_from=V0, voting_until=V1, publicity_until=PUB, results_final=final,
                       selected_count=selected, done_count=done, now=at)


@pytest.mark.parametrize("at,expected", [
    (NOW, "proposing"),
    (P - timedelta(microseconds=1), "proposing"),
    (P, "reviewing"),  # proposals_until itself: closed
    (V0 - timedelta(seconds=1), "reviewing"),
    (V0, "voting"),
    (V1 - timedelta(seconds=1), "voting"),
    (V1, "publicity"),  # the vote closes at voting_until
    (PUB - timedelta(seconds=1), "publicity"),
    (PUB, "implementing"),  # not final yet: implementing (the finalisation is due)
])
def test_phase_follows_the_dates(at, expected):
    assert phase_at(at) == expected


def test_after_the_publicity_done_once_every_selected_project_is():
    after = PUB + timedelta(days=1)
    assert phase_at(after, final=True, selected=2, done=0) == "implementing"
    assert phase_at(after, final=True, selected=2, done=1) == "implementing"
    assert phase_at(after, final=True, selected=2, done=2) == "done"
    assert phase_at(after, final=True, selected=0, done=0) == "done"  # nothing selected: nothing to implement
    assert phase_at(after, final=False, selected=None, done=0) == "implementing"
    # during the 公示 the phase is publicity, whatever the delivery
    assert phase_at(V1, final=True, selected=1, done=1) == "publicity"


def test_proposals_closing_when_voting_opens_skip_reviewing():
    assert rules.phase(proposals_until=V0, voting_from=V0, voting_until=V1, publicity_until=V1, results_final=False,
                       selected_count=None, done_count=0, now=V0 - timedelta(seconds=1)) == "proposing"
    assert rules.phase(proposals_until=V0, voting_from=V0, voting_until=V1, publicity_until=V1, results_final=False,
                       selected_count=None, done_count=0, now=V0) == "voting"


def settings(**changes):
    base = {"style": "approval", "max_choices": 3, "budget_yuan": 10000, "proposals_until": P, "voting_from": V0,
            "voting_until": V1, "publicity_days": 7, "now": NOW}
    return {**base, **changes}


def test_valid_settings():
    assert rules.check_round(**settings()) == 3
    assert rules.check_round(**settings(style="budget", max_choices=None)) is None
    assert rules.check_round(**settings(voting_from=P)) == 3  # proposals_until == voting_from
    assert rules.check_round(**settings(max_choices=1, budget_yuan=1)) == 1
    assert rules.check_round(**settings(max_choices=10, budget_yuan=rules.BUDGET_MAX)) == 10
    late = datetime(2099, 12, 1, tzinfo=timezone.utc)
    assert rules.check_round(**settings(proposals_until=late, voting_from=late, voting_until=late + timedelta(days=1),
                                        publicity_days=29)) == 3


@pytest.mark.parametrize("changes,field", [
    ({"max_choices": None}, "max_choices"),
    ({"max_choices": 0}, "max_choices"),
    ({"max_choices": 11}, "max_choices"),
    ({"style": "budget", "max_choices": 2}, "max_choices"),
    ({"budget_yuan": 0}, "budget_yuan"),
    ({"budget_yuan": rules.BUDGET_MAX + 1}, "budget_yuan"),
    ({"proposals_until": NOW}, "proposals_until"),  # now is not the future
    ({"proposals_until": NOW - timedelta(days=1)}, "proposals_until"),
    ({"voting_from": P - timedelta(seconds=1)}, "voting_from"),
    ({"voting_until": V0}, "voting_until"),
    ({"voting_until": datetime(2099, 12, 31, tzinfo=timezone.utc), "publicity_days": 1}, "voting_until"),
])
def test_invalid_settings_name_the_field(changes, field):
    with pytest.raises(ValidationFailed) as caught:
        rules.check_round(**settings(**changes))
    assert caught.value.details["field"] == field and caught.value.status == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_cost_within_the_budget():
    rules.check_cost(1, 100)
    rules.check_cost(100, 100)
    for cost in (0, 101):
        with pytest.raises(ValidationFailed) as caught:
            rules.check_cost(cost, 100)
        assert caught.value.details["field"] == "cost_yuan"


def test_proposal_refusals():
    assert rules.proposal_refusal(now=NOW, proposals_until=P, proposed_by_me=0) is None
    assert rules.proposal_refusal(now=NOW, proposals_until=P, proposed_by_me=2) is None
    assert rules.proposal_refusal(now=NOW, proposals_until=P, proposed_by_me=3) is rules.TOO_MANY_PROPOSALS
    assert rules.proposal_refusal(now=P, proposals_until=P, proposed_by_me=0) is rules.PROPOSALS_CLOSED
    assert (rules.PROPOSALS_CLOSED.status, rules.PROPOSALS_CLOSED.code) == (409, "PROPOSALS_CLOSED")
    assert (rules.TOO_MANY_PROPOSALS.status, rules.TOO_MANY_PROPOSALS.code) == (409, "TOO_MANY_PROPOSALS")


def test_review_refusals():
    ok = dict(status="proposed", now=NOW, voting_from=V0, approved_count=0, approving=True)
    assert rules.review_refusal(**ok) is None
    assert rules.review_refusal(**{**ok, "status": None}) is rules.PROJECT_NOT_FOUND
    assert rules.review_refusal(**{**ok, "status": "approved"}) is rules.ALREADY_REVIEWED
    assert rules.review_refusal(**{**ok, "status": "rejected"}) is rules.ALREADY_REVIEWED
    assert rules.review_refusal(**{**ok, "now": V0}) is rules.REVIEW_CLOSED
    assert rules.review_refusal(**{**ok, "approved_count": 30}) is rules.TOO_MANY_APPROVED
    assert rules.review_refusal(**{**ok, "approved_count": 30, "approving": False}) is None  # rejecting is fine
    assert rules.ALREADY_REVIEWED.code == rules.REVIEW_CLOSED.code == "INVALID_STATE"


def test_progress_refusals():
    after = PUB + timedelta(minutes=1)
    ok = dict(results_final=True, selected=True, done=False, progress_count=0, now=after, publicity_until=PUB)
    assert rules.progress_refusal(**ok) is None
    assert rules.progress_refusal(**{**ok, "results_final": False, "selected": None}) is rules.RESULTS_NOT_READY
    assert rules.progress_refusal(**{**ok, "selected": False}) is rules.NOT_SELECTED
    assert rules.progress_refusal(**{**ok, "now": PUB - timedelta(seconds=1)}) is rules.IN_PUBLICITY
    assert rules.progress_refusal(**{**ok, "done": True}) is rules.ALREADY_DONE
    assert rules.progress_refusal(**{**ok, "progress_count": rules.PROGRESS_MAX}) is rules.PROGRESS_FULL
    assert (rules.NOT_SELECTED.status, rules.RESULTS_NOT_READY.code) == (409, "RESULTS_NOT_READY")


def test_keys():
    assert rules.proposals_counter("prd_1", "u_1") == "round-proposals#prd_1#u_1"
    assert rules.status_key("prd_1", "approved") == "prd_1#approved"
    assert rules.proposer_key("prd_1", "u_1") == "prd_1#u_1"
