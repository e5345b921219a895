"""微实事's messages (issue 24): the proposer told of the review; every member of the community when voting opens;
a day before it closes only those who have not voted; everybody once when the result is final. Over HTTP (the
Chalice app on moto), the scheduler run as in production (``schedule.run``: the round steps, then the push sweep
that expands the fan-outs and delivers to the WeChat stand-in). Sequences: the scheduler run twice and late, a
round whose voting lasts less than a day (no reminder), a member of another community never told."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_ballots import bind_phone
from tests.api.test_project_rounds import project_body, round_body
from tests.support import make_community
from tongxin.adapters.dynamo.models import OutboxModel, ProjectRoundModel
from tongxin.domain.clock import to_api, travel, utcnow
from tongxin.usecases import notifications, round_notices, schedule

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def told(kind: str, round_id: str) -> set[str]:
    """Who has a message of ``kind`` about ``round_id`` in the outbox (test-only look at the table)."""
    return {m.recipient_id for m in OutboxModel.scan(OutboxModel.kind == kind)
            if m.recipient_id != "*" and m.data.get("round_id") == round_id}


class World:
    def __init__(self, api):
        self.c = make_community(api)
        self.other = make_community(api)
        self.admin = self.c.admin
        self.voters = [bind_phone(self.c.resident(i % 2)) for i in range(3)]
        self.stranger = bind_phone(self.other.resident(0))
        # Voter 2 accepted the round's messages in the mini-program (wx.requestSubscribeMessage), a few times (the
        # module's rounds are all told): they are sent.
        kinds = ("round_voting_open", "round_voting_reminder", "round_results") * 4
        accepted = self.voters[2].post("/v1/me/subscriptions", {"accepted": [f"tmpl_{kind}" for kind in kinds]})
        assert accepted.status == 200, accepted.body


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    return World(api)


def open_round(w, voting_hours: float) -> tuple[str, str, str]:
    """A round with two approved projects (proposed by voters 0 and 1), voting from 2 h for ``voting_hours``."""
    body = round_body()
    body["voting_until"] = to_api(utcnow() + 2 * HOUR + timedelta(hours=voting_hours))
    rid = w.admin.post("/v1/admin/project-rounds", body).json["id"]
    first = w.voters[0].post(f"/v1/project-rounds/{rid}/projects", project_body()).json["id"]
    second = w.voters[1].post(f"/v1/project-rounds/{rid}/projects", project_body(title="健身器材")).json["id"]
    assert w.admin.post(f"/v1/projects/{first}/approve", {}).status == 200
    assert w.admin.post(f"/v1/projects/{second}/reject", {"reason": "与物业维修计划重复"}).status == 200
    return rid, first, second


def test_the_proposer_is_told_of_the_review_with_the_reason(w):
    rid, first, second = open_round(w, voting_hours=48)
    approved = [m for m in OutboxModel.scan(OutboxModel.kind == "round_proposal_reviewed")
                if m.data["project_id"] == first]
    rejected = [m for m in OutboxModel.scan(OutboxModel.kind == "round_proposal_reviewed")
                if m.data["project_id"] == second]
    assert [(m.recipient_id, m.data["result"]) for m in approved] == [(w.voters[0].id, "approved")]
    assert [(m.recipient_id, m.data["result"], m.data["reason"]) for m in rejected] == [
        (w.voters[1].id, "rejected", "与物业维修计划重复")]
    assert approved[0].page == f"pages/round/project?id={first}"


def test_voting_opens_to_every_member_then_a_reminder_to_those_who_have_not_voted_then_the_result(w):
    rid, first, _ = open_round(w, voting_hours=48)
    schedule.run()
    assert told("round_voting_open", rid) == set()  # not yet: voting opens in 2 hours
    with travel(2 * HOUR + timedelta(minutes=1)):
        schedule.run()
        schedule.run()  # twice: sent once
        opened = told("round_voting_open", rid)
        assert opened and w.voters[0].id in opened and w.admin.id in opened
        assert w.stranger.id not in opened  # another community's resident
        assert len([m for m in OutboxModel.scan(OutboxModel.kind == "round_voting_open")
                    if m.data.get("round_id") == rid and m.recipient_id == w.voters[2].id]) == 1
        stored = ProjectRoundModel.get(rid)
        assert (stored.notice_step, stored.notice_due) == ("remind", stored.voting_until - DAY)
        assert w.voters[0].post(f"/v1/project-rounds/{rid}/ballot", {"project_ids": [first]}).status == 201
    with travel(2 * HOUR + 47 * HOUR):  # a day before voting closes
        schedule.run()
        schedule.run()
        reminded = told("round_voting_reminder", rid)
        assert w.voters[1].id in reminded and w.voters[2].id in reminded
        assert w.voters[0].id not in reminded  # voted
        assert w.stranger.id not in reminded
        assert reminded == opened - {w.voters[0].id}
        assert ProjectRoundModel.get(rid).notice_step is None  # nothing more to send
    with travel(2 * HOUR + 48 * HOUR + timedelta(minutes=1)):
        schedule.run()
        schedule.run()
        results = [m for m in OutboxModel.scan(OutboxModel.kind == "round_results")
                   if m.data.get("round_id") == rid and m.recipient_id == w.voters[2].id]
        assert len(results) == 1 and results[0].data["selected"] == 1
        # Delivered: WeChat (the stand-in, as strict) took every field and the page of each kind.
        for kind in ("round_voting_open", "round_voting_reminder", "round_results"):
            mine = [m for m in OutboxModel.scan(OutboxModel.kind == kind)
                    if m.data.get("round_id") == rid and m.recipient_id == w.voters[2].id]
            assert [m.status for m in mine] == ["sent"], (kind, [(m.status, m.errcode, m.reason) for m in mine])
        assert told("round_results", rid) == opened


def test_a_round_voting_less_than_a_day_has_no_reminder(w):
    rid, _, _ = open_round(w, voting_hours=20)
    with travel(2 * HOUR + timedelta(minutes=1)):
        schedule.run()
        assert told("round_voting_open", rid)
        assert ProjectRoundModel.get(rid).notice_step is None
    with travel(2 * HOUR + 19 * HOUR):
        schedule.run()
        assert told("round_voting_reminder", rid) == set()


def test_a_notice_whose_moment_passed_while_the_scheduler_was_down_is_not_sent_late(w):
    rid, _, _ = open_round(w, voting_hours=30)
    with travel(2 * HOUR + 31 * HOUR):  # the scheduler's first run after voting closed
        assert round_notices.run_schedule(utcnow()) == 0
        notifications.expand_fanouts()
        assert told("round_voting_open", rid) == set() and told("round_voting_reminder", rid) == set()
        assert ProjectRoundModel.get(rid).notice_step is None
