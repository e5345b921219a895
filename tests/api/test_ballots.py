"""微实事 票选 (issue 24, part A2) over HTTP: a resident with a bound phone casts one ballot while voting runs, the
ballot and every chosen project's sharded count in one transaction; the receipt; the results only after voting closes
(nobody, admins included, sees a count before), ranked by votes with ties by earlier approval, winners greedily within
the budget or the top max_choices; the finalisation writing them onto the projects and the round, idempotent, run by
the scheduler. Sequences: the same ballot twice (and with the same Idempotency-Key), before and after the window, no
phone, a phone-less voter whose role changed in between, unknown/unapproved/other-round projects, duplicates, empty,
11 of max 10, the budget to the yuan and one over, another community; exact calls.

Rounds and approved projects are seeded through the models (the round's own routes are part A1's)."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import (
    BallotModel, CounterModel, ProjectRoundModel, RoundProjectModel, UserModel,
)
from tongxin.domain import ballots as rules
from tongxin.domain.clock import travel, utcnow
from tongxin.usecases import ballots as ballots_usecase

HOUR = timedelta(hours=1)
AFTER_CLOSE = HOUR + timedelta(minutes=1)


def seed_round(community_id: str, costs: list[int], *, style: str = "budget", budget_yuan: int = 1000,
               max_choices: int | None = None, opens: timedelta = -timedelta(minutes=1), closes: timedelta = HOUR,
               unapproved: int = 0) -> tuple[str, list[str], list[str]]:
    """A round of the community voting from ``now + opens`` to ``now + closes`` with approved projects of ``costs``
    (approved one minute apart, in that order) and ``unapproved`` proposals still pending. Returns the round's id,
    the approved projects' ids and the pending ones'."""
    now = utcnow()
    round_id = f"pr_{uuid.uuid4().hex[:20]}"
    ProjectRoundModel(round_id, community_id=community_id, title="2026 年第一轮微实事", budget_yuan=budget_yuan,
                      style=style, max_choices=max_choices, proposals_until=now + opens - HOUR,
                      voting_from=now + opens, voting_until=now + closes, publicity_days=7,
                      publicity_until=now + closes + timedelta(days=7),
                      proposed_count=len(costs) + unapproved, approved_count=len(costs), finalise_shard="r",
                      finalise_due=now + closes, created_by="seed", created_at=now, updated_at=now).save()
    approved, pending = [], []
    for index, cost in enumerate(costs + [50] * unapproved):
        pid = f"rp_{uuid.uuid4().hex[:20]}"
        status = "approved" if index < len(costs) else "proposed"
        RoundProjectModel(pid, round_id=round_id, community_id=community_id, title=f"项目{index + 1}",
                          description="说明", cost_yuan=cost, category="环境美化", proposer_id="seed",
                          proposer_key=f"{round_id}#seed", round_budget_yuan=budget_yuan,
                          round_voting_from=now + opens, round_voting_until=now + closes,
                          round_publicity_until=now + closes + timedelta(days=7), status=status,
                          status_key=f"{round_id}#{status}",
                          approved_at=now - HOUR + timedelta(minutes=index) if status == "approved" else None,
                          created_at=now - 2 * HOUR + timedelta(minutes=index), updated_at=now).save()
        (approved if status == "approved" else pending).append(pid)
    return round_id, approved, pending


def bind_phone(member, phone: str = "13800000000"):
    UserModel(member.id).update(actions=[UserModel.phone.set(phone)])
    return member


class World:
    def __init__(self, api):
        self.c = make_community(api)
        self.admin = bind_phone(self.c.admin)
        self.other = make_community(api)

    def voter(self, grid: int = 0):
        return bind_phone(self.c.resident(grid))


@pytest.fixture(scope="module")
def w(api):
    return World(api)


def ballot(member, round_id, ids, **kw):
    return member.post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": ids}, **kw)


def shard_total(round_id: str, key) -> int:
    return sum(int(item.n) for item in CounterModel.batch_get([key(s) for s in range(rules.VOTE_SHARDS)]))


def votes_of(round_id: str, pid: str) -> int:
    return shard_total(round_id, lambda s: rules.votes_key(round_id, pid, s))


def turnout_of(round_id: str) -> int:
    return shard_total(round_id, lambda s: rules.turnout_key(round_id, s))


# --- casting --------------------------------------------------------------------------------------------------------

def test_a_ballot_counts_once_and_answers_its_receipt(w):
    rid, (a, b, c), _ = seed_round(w.c.id, [300, 300, 300])
    voter = w.voter()
    resp = ballot(voter, rid, [b, a])
    assert resp.status == 201, resp.body
    assert resp.json["project_ids"] == [b, a]
    assert resp.json["projects"] == [{"id": b, "title": "项目2"}, {"id": a, "title": "项目1"}]
    assert resp.json["round_id"] == rid and resp.json["proxy"] is False
    assert (votes_of(rid, a), votes_of(rid, b), votes_of(rid, c), turnout_of(rid)) == (1, 1, 0, 1)
    # Only the voter's shard moved.
    assert CounterModel.get(rules.votes_key(rid, a, rules.shard_of(voter.id))).n == 1
    mine = voter.get(f"/v1/project-rounds/{rid}/ballot")
    assert mine.status == 200 and mine.json == resp.json
    again = ballot(voter, rid, [c])
    assert again.status == 409 and again.error_code == "ALREADY_VOTED"
    assert (votes_of(rid, a), votes_of(rid, c), turnout_of(rid)) == (1, 0, 1)
    stored = BallotModel.get(rid, voter.id)
    assert stored.project_ids == [b, a] and stored.community_id == w.c.id


def test_the_same_request_with_the_same_idempotency_key_answers_the_same_receipt(w):
    rid, (a, b), _ = seed_round(w.c.id, [100, 100])
    voter = w.voter()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = ballot(voter, rid, [a], headers=key)
    second = ballot(voter, rid, [a], headers=key)
    assert first.status == second.status == 201 and first.json == second.json
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert (votes_of(rid, a), turnout_of(rid)) == (1, 1)
    # A new key is a new request: the ballot exists.
    third = ballot(voter, rid, [b], headers={"Idempotency-Key": str(uuid.uuid4())})
    assert third.status == 409 and third.error_code == "ALREADY_VOTED"


def test_outside_the_window_voting_is_closed(w):
    soon, (a,), _ = seed_round(w.c.id, [100], opens=timedelta(minutes=5), closes=HOUR)
    voter = w.voter()
    before = ballot(voter, soon, [a])
    assert before.status == 409 and before.error_code == "VOTING_CLOSED" and "尚未开始" in before.json["error"]["message"]
    with travel(timedelta(minutes=5)):  # exactly voting_from: open
        assert ballot(voter, soon, [a]).status == 201
    late, (b,), _ = seed_round(w.c.id, [100], closes=timedelta(minutes=2))
    with travel(timedelta(minutes=2)):  # exactly voting_until: closed
        after = ballot(w.voter(), late, [b])
    assert after.status == 409 and after.error_code == "VOTING_CLOSED" and "已经结束" in after.json["error"]["message"]
    assert turnout_of(late) == 0


def test_no_bound_phone_is_409_phone_required_then_voting_after_binding(w):
    rid, (a,), _ = seed_round(w.c.id, [100])
    voter = w.c.resident(0)
    resp = ballot(voter, rid, [a])
    assert resp.status == 409 and resp.error_code == "PHONE_REQUIRED" and "手机号" in resp.json["error"]["message"]
    bind_phone(voter)
    assert ballot(voter, rid, [a]).status == 201


def test_phone_removed_between_the_read_and_the_write_is_refused_by_the_transaction(w, monkeypatch):
    rid, (a,), _ = seed_round(w.c.id, [100])
    voter = w.voter()
    real = ballots_usecase._approved

    def approved_then_phone_gone(round_id):
        found = real(round_id)
        UserModel(voter.id).update(actions=[UserModel.phone.remove()])
        return found
    monkeypatch.setattr(ballots_usecase, "_approved", approved_then_phone_gone)
    resp = ballot(voter, rid, [a])
    assert resp.status == 409 and resp.error_code == "PHONE_REQUIRED"
    assert turnout_of(rid) == 0 and votes_of(rid, a) == 0


def test_a_voter_who_left_the_community_in_between_is_refused(w, monkeypatch):
    rid, (a,), _ = seed_round(w.c.id, [100])
    voter = w.voter()
    real = ballots_usecase._approved

    def approved_then_moved(round_id):
        found = real(round_id)
        UserModel(voter.id).update(actions=[UserModel.community_id.set(w.other.id)])
        return found
    monkeypatch.setattr(ballots_usecase, "_approved", approved_then_moved)
    resp = ballot(voter, rid, [a])
    assert resp.status == 403 and turnout_of(rid) == 0


@pytest.mark.parametrize("case", ["unknown", "unapproved", "other_round", "duplicate", "empty", "blank"])
def test_a_choice_that_is_not_a_distinct_approved_project_of_this_round_is_400(w, case):
    rid, (a, b), (pending,) = seed_round(w.c.id, [100, 100], unapproved=1)
    _, (elsewhere,), _ = seed_round(w.c.id, [100])
    ids = {"unknown": [a, "rp_nosuch"], "unapproved": [pending], "other_round": [elsewhere], "duplicate": [a, b, a],
           "empty": [], "blank": ["  "]}[case]
    resp = ballot(w.voter(), rid, ids)
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    if case in ("unknown", "unapproved", "other_round", "duplicate"):
        assert resp.json["error"]["details"]["project_id"] in ids
    assert turnout_of(rid) == 0


def test_approval_style_at_most_max_choices(w):
    rid, ids, _ = seed_round(w.c.id, [10] * 11, style="approval", max_choices=10, budget_yuan=10)
    resp = ballot(w.voter(), rid, ids)
    assert resp.status == 409 and resp.error_code == "TOO_MANY_CHOICES" and resp.json["error"]["details"] == {
        "max_choices": 10}
    assert ballot(w.voter(), rid, ids[:10]).status == 201  # the budget plays no part in approval style
    assert turnout_of(rid) == 1


def test_budget_style_within_the_budget_to_the_yuan(w):
    rid, (a, b, c), _ = seed_round(w.c.id, [400, 300, 301], budget_yuan=1000)
    over = ballot(w.voter(), rid, [a, b, c])
    assert over.status == 409 and over.error_code == "BUDGET_EXCEEDED"
    assert over.json["error"]["details"] == {"total_yuan": 1001, "budget_yuan": 1000}
    exact, _, _ = seed_round(w.c.id, [400, 300, 300], budget_yuan=1000)
    ids = [p.id for p in ballots_usecase._approved(exact)]
    assert ballot(w.voter(), exact, ids).status == 201


def test_thirty_projects_in_one_budget_ballot_is_one_transaction_of_35_items(w, monkeypatch):
    from tongxin.adapters.dynamo import tx as tx_module
    rid, ids, _ = seed_round(w.c.id, [1] * 30, budget_yuan=30)
    voter = w.voter()
    sizes = []
    real = tx_module.Tx.commit

    def measured(self, *args, **kwargs):
        sizes.append(len(self))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(tx_module.Tx, "commit", measured)
    resp = ballot(voter, rid, ids, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert resp.status == 201
    # voter check + round check + ballot + 30 project shards + turnout shard = 34, + the Idempotency-Key record = 35.
    assert sizes == [34] and max(sizes) + 1 <= 100
    assert all(votes_of(rid, p) == 1 for p in ids) and turnout_of(rid) == 1
    too_many = ballot(w.voter(), rid, ids + ["rp_x"])
    assert too_many.status == 400  # 31 ids: more than any round approves


def test_another_community_sees_no_round(w):
    rid, (a,), _ = seed_round(w.c.id, [100])
    stranger = bind_phone(w.other.resident(0))
    for resp in (ballot(stranger, rid, [a]), stranger.get(f"/v1/project-rounds/{rid}/ballot"),
                 stranger.get(f"/v1/project-rounds/{rid}/results")):
        assert resp.status == 404 and resp.error_code == "NOT_FOUND"
    assert ballot(w.voter(), "pr_nosuch", [a]).status == 404


def test_the_receipt_before_voting_is_404_not_voted(w):
    rid, _, _ = seed_round(w.c.id, [100])
    resp = w.voter().get(f"/v1/project-rounds/{rid}/ballot")
    assert resp.status == 404 and resp.error_code == "NOT_VOTED"


def test_someone_in_no_community_is_told_to_join_one(api, w):
    rid, (a,), _ = seed_round(w.c.id, [100])
    nobody = api.login()
    assert ballot(nobody, rid, [a]).error_code == "NOT_IN_COMMUNITY"


# --- results --------------------------------------------------------------------------------------------------------

def test_no_count_before_the_close_for_anybody_then_exact_results(w):
    rid, (p1, p2, p3, p4), _ = seed_round(w.c.id, [600, 500, 300, 200], budget_yuan=1000)
    # p1: 3 votes, p2: 2, p3: 2 (approved later than p2), p4: 1 → ranked p1, p2, p3, p4; greedy: p1 (600), p2 does
    # not fit (500 > 400 left), p3 (300), p4 does not fit (200 > 100).
    for ids in ([p1, p3], [p1, p4], [p1], [p2, p3], [p2]):
        assert ballot(w.voter(), rid, ids).status == 201
    for who in (w.admin, w.voter()):
        early = who.get(f"/v1/project-rounds/{rid}/results")
        assert early.status == 409 and early.error_code == "RESULTS_NOT_READY"
        assert "投票结束后" in early.json["error"]["message"]
    with travel(AFTER_CLOSE):
        resp = w.admin.get(f"/v1/project-rounds/{rid}/results")
        assert resp.status == 200, resp.body
        body = resp.json
        assert body["turnout"] == 5 and body["final"] is False and body["final_at"] is None
        assert [(i["project"]["id"], i["votes"], i["rank"], i["selected"]) for i in body["items"]] == [
            (p1, 3, 1, True), (p2, 2, 2, False), (p3, 2, 3, True), (p4, 1, 4, False)]
        assert body["selected_yuan"] == 900 and body["budget_yuan"] == 1000
        # The finalisation writes the same onto the projects and the round, once.
        assert ballots_usecase.finalise(rid) is True
        assert ballots_usecase.finalise(rid) is False
        after = w.voter().get(f"/v1/project-rounds/{rid}/results")
    assert after.status == 200 and after.json["final"] is True and after.json["items"] == body["items"]
    assert after.json["turnout"] == 5
    rnd = ProjectRoundModel.get(rid)
    assert rnd.selected_count == 2 and rnd.results_final_at is not None
    assert rnd.finalise_due is None and rnd.finalise_shard is None  # out of the sparse index
    stored = {p.id: (p.votes, p.rank, p.selected) for p in RoundProjectModel.batch_get([p1, p2, p3, p4])}
    assert stored == {p1: (3, 1, True), p2: (2, 2, False), p3: (2, 3, True), p4: (1, 4, False)}


def test_approval_results_take_the_top_max_choices_ties_by_earlier_approval(w):
    rid, (a, b, c), _ = seed_round(w.c.id, [100, 100, 100], style="approval", max_choices=2)
    for ids in ([c], [b], [c, b], [a]):
        assert ballot(w.voter(), rid, ids).status == 201
    with travel(AFTER_CLOSE):
        body = w.voter().get(f"/v1/project-rounds/{rid}/results").json
    # b and c both 2 votes: b was approved first.
    assert [(i["project"]["id"], i["rank"], i["selected"]) for i in body["items"]] == [
        (b, 1, True), (c, 2, True), (a, 3, False)]
    assert body["style"] == "approval" and body["max_choices"] == 2


def test_a_round_without_ballots_has_empty_results_and_selects_nothing(w):
    rid, (a,), _ = seed_round(w.c.id, [100])
    with travel(AFTER_CLOSE):
        body = w.voter().get(f"/v1/project-rounds/{rid}/results").json
        assert body["turnout"] == 0 and body["items"][0]["votes"] == 0 and body["items"][0]["selected"] is False
        assert ballots_usecase.finalise(rid) is True
    assert ProjectRoundModel.get(rid).selected_count == 0


def test_final_results_read_from_a_stale_index_image_fall_back_to_the_counters(w):
    rid, (a, b), _ = seed_round(w.c.id, [100, 100])
    assert ballot(w.voter(), rid, [b]).status == 201
    with travel(AFTER_CLOSE):
        assert ballots_usecase.finalise(rid) is True
        RoundProjectModel(a).update(actions=[RoundProjectModel.rank.remove()])  # as an image from before it
        body = w.voter().get(f"/v1/project-rounds/{rid}/results").json
    assert body["final"] is True
    assert [(i["project"]["id"], i["votes"], i["rank"], i["selected"]) for i in body["items"]] == [
        (b, 1, 1, True), (a, 0, 2, False)]
    RoundProjectModel(a).update(actions=[RoundProjectModel.rank.set(2)])  # as the finalisation wrote it


def test_finalise_before_the_close_does_nothing(w):
    rid, (a,), _ = seed_round(w.c.id, [100])
    assert ballots_usecase.finalise(rid) is False and ballots_usecase.finalise("pr_nosuch") is False
    assert ProjectRoundModel.get(rid).results_final_at is None


def test_a_ballot_cast_after_the_close_never_moves_final_results(w):
    rid, (a,), _ = seed_round(w.c.id, [100])
    assert ballot(w.voter(), rid, [a]).status == 201
    late = w.voter()
    with travel(AFTER_CLOSE):
        assert ballots_usecase.finalise(rid) is True
        assert ballot(late, rid, [a]).error_code == "VOTING_CLOSED"
        assert w.voter().get(f"/v1/project-rounds/{rid}/results").json["items"][0]["votes"] == 1


def test_the_scheduler_finalises_rounds_whose_voting_ended_by_its_index(w):
    ended, (a,), _ = seed_round(w.c.id, [100])
    running, _, _ = seed_round(w.c.id, [100], closes=3 * HOUR)
    assert ballot(w.voter(), ended, [a]).status == 201
    with travel(AFTER_CLOSE):  # the scheduler's step (schedule.run runs it: tests/integration/test_schedule_steps.py)
        runs = [ballots_usecase.run_schedule(utcnow()) for _ in range(4)]  # ≤ 25 rounds a run: the next goes on
    assert runs[0] >= 1 and runs[-1] == 0 and runs[-2] == 0  # finalised once, then nothing more
    assert ProjectRoundModel.get(ended).results_final_at is not None
    assert ProjectRoundModel.get(running).results_final_at is None
    assert RoundProjectModel.get(a).votes == 1 and RoundProjectModel.get(a).selected is True


# --- over the rounds' own routes (part A1) ---------------------------------------------------------------------------

def _walk_body(now, **changes) -> dict:
    from tongxin.domain.clock import to_api
    return {"title": "走查轮次", "budget_yuan": 1000, "style": "budget", "proposals_until": to_api(now + HOUR),
            "voting_from": to_api(now + 2 * HOUR), "voting_until": to_api(now + 3 * HOUR), "publicity_days": 0,
            **changes}


def test_a_round_made_over_http_shows_no_count_anywhere_until_the_close(w):
    """The round and its projects made through the rounds' routes; while voting runs neither the round, nor its
    projects' list, nor a project shows a count (votes, rank, selected all null), nor do the results; after the close
    the results are exact and the first delivery step finalises the round."""
    made = w.admin.post("/v1/admin/project-rounds", _walk_body(utcnow()))
    assert made.status == 201, made.body
    rid = made.json["id"]
    proposer = w.voter()
    pids = []
    for title, cost in (("楼道扶手", 600), ("健身角维修", 500)):
        resp = proposer.post(f"/v1/project-rounds/{rid}/projects", {"title": title, "description": "走查说明",
                                                                    "cost_yuan": cost, "category": "设施维修"})
        assert resp.status == 201, resp.body
        pids.append(resp.json["id"])
        assert w.admin.post(f"/v1/projects/{resp.json['id']}/approve", {}).status == 200
    early = ballot(proposer, rid, pids[:1])
    assert early.status == 409 and early.error_code == "VOTING_CLOSED"
    with travel(2 * HOUR + timedelta(minutes=1)):
        voters = [w.voter() for _ in range(3)]
        for voter, ids in zip(voters, ([pids[0]], [pids[1]], [pids[1]])):
            assert ballot(voter, rid, ids).status == 201
        assert ballot(proposer, rid, pids).error_code == "BUDGET_EXCEEDED"  # 1,100 > 1,000
        for who in (w.admin, voters[0]):
            shown = [who.get(f"/v1/project-rounds/{rid}").json, who.get(f"/v1/project-rounds/{rid}/projects").json,
                     who.get(f"/v1/projects/{pids[1]}").json]
            text = repr(shown)
            assert "'votes': 1" not in text and "'votes': 2" not in text and "turnout" not in text, text
            assert who.get(f"/v1/project-rounds/{rid}/results").error_code == "RESULTS_NOT_READY"
    with travel(3 * HOUR + timedelta(minutes=1)):
        body = voters[0].get(f"/v1/project-rounds/{rid}/results").json
        assert body["turnout"] == 3 and body["final"] is False
        assert [(i["project"]["id"], i["votes"], i["selected"]) for i in body["items"]] == [
            (pids[1], 2, True), (pids[0], 1, False)]  # 500 then 600 would be 1,100: the second does not fit
        admin_now = w.c.api.login(w.admin.name)  # the content check wants a login within 2 h (the clock moved)
        progressed = admin_now.post(f"/v1/projects/{pids[1]}/progress", {"note": "开工", "percent": 10})
        assert progressed.status == 200, progressed.body
        final = voters[0].get(f"/v1/project-rounds/{rid}/results").json
    assert final["final"] is True and final["items"] == body["items"]
    assert ProjectRoundModel.get(rid).selected_count == 1


# --- exact calls ----------------------------------------------------------------------------------------------------

def test_exact_calls(w):
    rid, ids, _ = seed_round(w.c.id, [10] * 30, budget_yuan=300)
    voter = w.voter()
    assert ballot(voter, rid, ids).status == 201
    # The caller (GetItem), the round (BatchGetItem), the approved projects (Query), ONE transaction.
    assert voter.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "Query": 1, "TransactWriteItems": 1}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    other = w.voter()
    ballot(other, rid, ids[:1], headers=key)
    ballot(other, rid, ids[:1], headers=key)
    assert other.api.last_meter.dynamo == {"BatchGetItem": 1}  # the replay: no write
    voter.get(f"/v1/project-rounds/{rid}/ballot")
    assert voter.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1}
    voter.get(f"/v1/project-rounds/{rid}/results")  # refused before the close: the round read only
    assert voter.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1}
    with travel(AFTER_CLOSE):
        voter.get(f"/v1/project-rounds/{rid}/results")
        # The round and the turnout's 8 shards (one BatchGetItem), the 30 approved (Query), 240 vote shards (3).
        assert voter.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 4, "Query": 1}
        assert ballots_usecase.finalise(rid) is True
        voter.get(f"/v1/project-rounds/{rid}/results")
        assert voter.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}


# --- the invariant checker (infra/proof/invariants/ballots.py) -----------------------------------------------------------

def test_the_invariant_checker_finds_the_counts_exact_and_reports_a_planted_difference(w, container):
    from infra.proof.invariants import check
    from tongxin.adapters.dynamo.binding import connection

    def mine() -> list[str]:
        found = check(connection().client, container.settings.table_name)
        return [v for v in found if v.startswith(("[ballot-", "[round-results]"))]
    rid, (a, b), _ = seed_round(w.c.id, [100, 100])
    voter = w.voter()
    assert ballot(voter, rid, [a, b]).status == 201
    with travel(AFTER_CLOSE):
        ballots_usecase.finalise(rid)
    assert mine() == []  # every round of this module: ballots == counters, shard by shard; results as counted
    # Planted: one vote too many on a's shard, a ballot choosing an unapproved project, a wrong selected_count.
    key = rules.votes_key(rid, a, rules.shard_of(voter.id))
    CounterModel(key).update(actions=[CounterModel.n.add(1)])
    stray = BallotModel(rid, "u_planted", community_id=w.c.id, project_ids=["rp_nosuch"], project_titles=["x"],
                        shard=rules.shard_of("u_planted"), cast_at=utcnow())
    stray.save()
    ProjectRoundModel(rid).update(actions=[ProjectRoundModel.selected_count.set(5)])
    try:
        found = mine()
        assert any(v.startswith("[ballot-count]") and key in v for v in found), found
        assert any(v.startswith("[ballot-count]") and rules.turnout_key(rid, stray.shard) in v for v in found)
        assert any(v.startswith("[ballot-choice]") and "rp_nosuch" in v for v in found), found
        assert any(v.startswith("[round-results]") and "selected_count 5" in v for v in found), found
        assert any(v.startswith("[round-results]") and a in v for v in found), found  # votes != counters now
    finally:
        CounterModel(key).update(actions=[CounterModel.n.add(-1)])
        stray.delete()
        ProjectRoundModel(rid).update(actions=[ProjectRoundModel.selected_count.set(2)])
    assert mine() == []
