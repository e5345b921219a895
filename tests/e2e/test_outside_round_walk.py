"""微实事 and 微星光 from outside (issue 24's "Done when"), over HTTP against ``make dev``'s stack: the admin opens a
round, residents propose (three each at most), the admin corrects a cost, approves five and rejects one; voting
opens and 200 residents with bound phones cast their ballots at the same moment across three popular projects, half
of them under an Idempotency-Key (the same request again at once: the same receipt, nothing doubled; the other half
a second ballot: 409 ALREADY_VOTED); nobody sees a count before the close, the admin included; after it the counts
are exact, stored once per ballot and per shard, and the winners fit the budget; the winners are delivered and
accepted (验收: progress to 100 %, rated by residents once each); a volunteer is commended (微星光) and sees it on
their profile. The module's stack then holds every invariant (infra/proof/invariants: ballots' choices == the sharded
counts, the round's counts == its projects).

The stack's clock cannot travel: time passing (proposals closing, voting opening, voting closing) is the round's
dates — and each project's copy of them — moved into the past in its tables, as the passing of time would."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.e2e.outside import ok, refused
from tests.stack import Client, answer_counts, in_parallel, in_threads, resident, stack_fixture
from tongxin.adapters.dynamo.models import ProjectRoundModel
from tongxin.domain import ballots as ballot_rules

pytestmark = pytest.mark.e2e

VOTERS = 200
BUDGET = 1000
# Three popular projects (300 yuan each) and two small ones (100): a ballot of the budget style takes at most three.
COSTS = [300, 300, 300, 100, 100]
HOUR = timedelta(hours=1)

stack = stack_fixture()


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _pass_time(stack, round_id: str, project_ids: list[str], **moments: datetime) -> None:
    """Move the round's dates (``voting_from=…``) — and the projects' copies — to ``moments``, as time would."""
    db = stack.dynamodb()
    names = {"proposals_until": None, "voting_from": "round_voting_from", "voting_until": "round_voting_until",
             "publicity_until": "round_publicity_until"}
    values = {name: ProjectRoundModel.voting_until.serialize(moment) for name, moment in moments.items()}
    fields = dict(values)
    if "voting_until" in values:
        fields["finalise_due"] = values["voting_until"]
    db.update_item(TableName=stack.table("project_rounds"), Key={"id": {"S": round_id}},
                   UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in fields),
                   ExpressionAttributeValues={f":{k}": {"S": v} for k, v in fields.items()})
    copies = {names[k]: v for k, v in values.items() if names[k]}
    for pid in project_ids if copies else ():
        db.update_item(TableName=stack.table("round_projects"), Key={"id": {"S": pid}},
                       UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in copies),
                       ExpressionAttributeValues={f":{k}": {"S": v} for k, v in copies.items()})


def _voter(stack, name: str, phone: str) -> Client:
    """A resident of the demo community who bound a phone the way the mini-program does (the stand-in's code)."""
    client = resident(stack.api_url, name)
    code = requests.post(stack.wechat_url + "__dev/phone-codes", json={"phone": phone}, timeout=30).json()["code"]
    ok(client.call("POST", "/v1/me/phone", {"code": code}))
    return client


def _choice(index: int, ids: list[str]) -> list[str]:
    """The popular three chosen in overlapping pairs and alone, sometimes with a small one: within the budget."""
    a, b, c, d, e = ids
    return [[a, b], [b, c], [a, c], [a], [b, d], [c, d, e], [a, b, c]][index % 7]


class Walk:
    """What the walk's steps hand on to the next."""
    round_id: str
    ids: list[str]
    rejected: str
    choices: dict[str, list[str]]
    winners: list[str]


walk = Walk()


@pytest.fixture(scope="module")
def people(stack):
    names = ("admin", "res1", "res2", "res3", "vol1")
    return {name: Client(stack.api_url).login(name) for name in names}


def test_a_round_is_proposed_and_reviewed(stack, people):
    admin, res1, res2, res3 = people["admin"], people["res1"], people["res2"], people["res3"]
    now = datetime.now(timezone.utc)
    made = ok(admin.call("POST", "/v1/admin/project-rounds", {
        "title": "同心社区2027年第一季度民生微实事", "budget_yuan": BUDGET, "style": "budget",
        "proposals_until": _iso(now + HOUR), "voting_from": _iso(now + 2 * HOUR), "voting_until": _iso(now + 3 * HOUR),
        "publicity_days": 0}), 201)
    assert made["phase"] == "proposing"
    walk.round_id = rid = made["id"]
    proposals = [(res1, "3栋楼道加装扶手", 350), (res1, "小区广场添置健身器材", 300), (res1, "楼顶加装太阳能路灯", 300),
                 (res2, "垃圾分类亭加装洗手池", 100), (res2, "老年活动室添置象棋桌", 100)]
    walk.ids = []
    for who, title, cost in proposals:
        walk.ids.append(ok(who.call("POST", f"/v1/project-rounds/{rid}/projects", {
            "title": title, "description": f"{title}，方便居民", "cost_yuan": cost, "category": "设施维修"}), 201)["id"])
    refused(res1.call("POST", f"/v1/project-rounds/{rid}/projects", {
        "title": "第四个提案", "description": "超过每人三个", "cost_yuan": 100, "category": "其他"}),
        409, "TOO_MANY_PROPOSALS")
    rejected = ok(res3.call("POST", f"/v1/project-rounds/{rid}/projects", {
        "title": "楼顶改建花园", "description": "屋顶花园", "cost_yuan": 900, "category": "环境美化"}), 201)["id"]
    # The admin corrects the first cost (350 → 300), approves five in order, rejects one with a reason.
    assert ok(admin.call("POST", f"/v1/projects/{walk.ids[0]}/approve", {"cost_yuan": 300}))["cost_yuan"] == 300
    for pid in walk.ids[1:]:
        ok(admin.call("POST", f"/v1/projects/{pid}/approve", {}))
    walk.rejected = rejected
    ok(admin.call("POST", f"/v1/projects/{rejected}/reject", {"reason": "屋顶属于公共维修基金范围"}))
    refused(admin.call("POST", f"/v1/projects/{rejected}/approve", {}), 409, "INVALID_STATE")  # reviewed once
    listed = ok(res3.call("GET", f"/v1/project-rounds/{rid}/projects"))["items"]
    assert [p["id"] for p in listed] == walk.ids  # residents see the approved ones, in proposal order
    assert [p["cost_yuan"] for p in listed] == COSTS


def test_two_hundred_ballots_at_once_are_counted_exactly_once_and_hidden_until_the_close(stack, people):
    rid, ids, admin = walk.round_id, walk.ids, people["admin"]
    now = datetime.now(timezone.utc)
    # Voting opened an hour ago.
    _pass_time(stack, rid, ids + [walk.rejected], proposals_until=now - 2 * HOUR, voting_from=now - HOUR)
    assert ok(admin.call("GET", f"/v1/project-rounds/{rid}"))["phase"] == "voting"
    refused(admin.call("POST", f"/v1/projects/{ids[0]}/approve", {}), 409, "INVALID_STATE")
    run = uuid.uuid4().hex[:6]
    voters = in_threads(lambda i: _voter(stack, f"round{run}-{i}", f"139{i:08d}"), range(VOTERS), threads=16)
    walk.choices = {v.user["id"]: _choice(i, ids) for i, v in enumerate(voters)}
    keys = {v.user["id"]: str(uuid.uuid4()) for i, v in enumerate(voters) if i % 2 == 0}
    path = f"/v1/project-rounds/{rid}/ballot"

    def cast(voter: Client) -> requests.Response:
        uid = voter.user["id"]
        headers = {"Authorization": f"Bearer {voter.token}"}
        if uid in keys:
            headers["Idempotency-Key"] = keys[uid]
        resp = requests.post(stack.api_url + path, json={"project_ids": walk.choices[uid]}, headers=headers,
                             timeout=60)
        assert resp.status_code < 500, resp.text
        return resp

    first = in_parallel(cast, voters)
    assert answer_counts(first) == {"201": VOTERS}, answer_counts(first)
    second = in_parallel(cast, voters)  # again at once: the keyed half replays, the other half voted already
    assert answer_counts(second) == {"201": VOTERS // 2, "409 ALREADY_VOTED": VOTERS // 2}, answer_counts(second)
    for voter, one, two in zip(voters, first, second):
        if voter.user["id"] in keys:
            assert two.json() == one.json() and two.headers.get("Idempotent-Replayed") == "true"
    receipt = ok(voters[5].call("GET", path))
    assert receipt["project_ids"] == walk.choices[voters[5].user["id"]]

    # Stored: every ballot once, as chosen; every shard of every count exact.
    stored = stack.query_all("ballots", "round_id", rid)
    assert {b["user_id"]["S"]: [p["S"] for p in b["project_ids"]["L"]] for b in stored} == walk.choices
    expected = Counter()
    for uid, chosen in walk.choices.items():
        shard = ballot_rules.shard_of(uid)
        expected[ballot_rules.turnout_key(rid, shard)] += 1
        for pid in chosen:
            expected[ballot_rules.votes_key(rid, pid, shard)] += 1
    every_key = [ballot_rules.turnout_key(rid, s) for s in range(ballot_rules.VOTE_SHARDS)] + \
        [ballot_rules.votes_key(rid, p, s) for p in ids for s in range(ballot_rules.VOTE_SHARDS)]
    counted = {}
    for start in range(0, len(every_key), 100):
        got = stack.dynamodb().batch_get_item(RequestItems={stack.table("counters"): {
            "Keys": [{"key": {"S": k}} for k in every_key[start:start + 100]], "ConsistentRead": True}})
        counted |= {i["key"]["S"]: int(i["n"]["N"]) for i in got["Responses"][stack.table("counters")]}
    assert {k: v for k, v in counted.items() if v} == dict(expected)

    # Before the close nothing answers a count: not the round, not its projects, not the results (admins too).
    for who in (admin, voters[0]):
        refused(who.call("GET", f"/v1/project-rounds/{rid}/results"), 409, "RESULTS_NOT_READY")
        shown = [ok(who.call("GET", f"/v1/project-rounds/{rid}")),
                 *ok(who.call("GET", f"/v1/project-rounds/{rid}/projects"))["items"],
                 ok(who.call("GET", f"/v1/projects/{ids[0]}"))]
        for answer in shown:
            assert not answer.get("votes") and "turnout" not in answer and answer.get("rank") is None, answer


def test_after_the_close_the_counts_are_exact_and_the_winners_fit_the_budget(stack, people):
    rid, ids = walk.round_id, walk.ids
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    # Voting closed a second ago; no 公示 days.
    _pass_time(stack, rid, ids + [walk.rejected], voting_until=past, publicity_until=past)
    late = _voter(stack, f"round-late-{uuid.uuid4().hex[:6]}", "13700000000")
    refused(late.call("POST", f"/v1/project-rounds/{rid}/ballot", {"project_ids": [ids[3]]}), 409, "VOTING_CLOSED")
    body = ok(people["res3"].call("GET", f"/v1/project-rounds/{rid}/results"))
    votes = Counter(pid for chosen in walk.choices.values() for pid in chosen)
    assert body["turnout"] == VOTERS
    assert {i["project"]["id"]: i["votes"] for i in body["items"]} == {pid: votes[pid] for pid in ids}
    ranked = sorted(ids, key=lambda pid: (-votes[pid], ids.index(pid)))  # ties: the earlier approval first
    assert [i["project"]["id"] for i in body["items"]] == ranked
    assert [i["rank"] for i in body["items"]] == [1, 2, 3, 4, 5]
    left, winners = BUDGET, []
    for pid in ranked:  # greedy in rank order, a project that does not fit skipped
        if votes[pid] and COSTS[ids.index(pid)] <= left:
            winners.append(pid)
            left -= COSTS[ids.index(pid)]
    assert [i["project"]["id"] for i in body["items"] if i["selected"]] == winners
    assert body["selected_yuan"] == BUDGET - left <= BUDGET
    walk.winners = winners


def test_the_winners_are_delivered_and_accepted_by_the_residents(stack, people):
    admin, res1, res2 = people["admin"], people["res1"], people["res2"]
    winner = walk.winners[0]
    loser = next(pid for pid in walk.ids if pid not in walk.winners)
    refused(admin.call("POST", f"/v1/projects/{loser}/progress", {"note": "未入选", "percent": 10}), 409,
            "NOT_SELECTED")
    refused(res1.call("POST", f"/v1/projects/{winner}/rate", {"rating": 5}), 409, "INVALID_STATE")  # not done yet
    half = ok(admin.call("POST", f"/v1/projects/{winner}/progress", {"note": "材料已进场", "percent": 50}))
    assert half["percent"] == 50 and half["selected"] is True and half["votes"] is not None
    done = ok(admin.call("POST", f"/v1/projects/{winner}/progress", {"note": "施工完成，已验收", "percent": 100}))
    assert done["percent"] == 100 and done["done_at"]
    ok(res1.call("POST", f"/v1/projects/{winner}/rate", {"rating": 5, "comment": "扶手很结实"}), 201)
    refused(res1.call("POST", f"/v1/projects/{winner}/rate", {"rating": 1}), 409, "ALREADY_RATED")
    rated = ok(res2.call("POST", f"/v1/projects/{winner}/rate", {"rating": 4}), 201)
    shown = ok(people["res3"].call("GET", f"/v1/projects/{winner}"))
    assert (shown["ratings_count"], shown["rating_average"]) == (2, 4.5), (shown, rated)
    assert ok(admin.call("GET", f"/v1/project-rounds/{walk.round_id}"))["done_count"] == 1


def test_a_volunteer_is_commended_and_sees_it_on_their_profile(stack, people):
    admin, vol1, res3 = people["admin"], people["vol1"], people["res3"]
    month = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m")
    candidates = ok(admin.call("GET", f"/v1/admin/commendations/candidates?month={month}"))
    assert set(candidates) >= {"points", "minutes"}
    before = ok(vol1.call("GET", "/v1/me"))["commendations_count"]  # the demo seed commended vol1 once
    made = ok(admin.call("POST", "/v1/admin/commendations", {
        "user_id": vol1.user["id"], "title": "微星光·优秀志愿者",
        "story": "常年为独居老人代购药品，组织楼道清洁十余次。", "period": month}), 201)
    me = ok(vol1.call("GET", "/v1/me"))
    assert me["commendations_count"] == before + 1
    assert (me["latest_commendation"]["id"], me["latest_commendation"]["title"], me["latest_commendation"]["period"]) \
        == (made["id"], "微星光·优秀志愿者", month)
    listed = ok(res3.call("GET", "/v1/commendations"))["items"]
    assert listed[0]["id"] == made["id"] and listed[0]["story"].startswith("常年")
    theirs = ok(res3.call("GET", f"/v1/commendations?user_id={vol1.user['id']}"))["items"]
    assert len(theirs) == before + 1 and theirs[0]["id"] == made["id"]
    assert theirs[0]["user"]["nickname"] != vol1.user["nickname"]  # another resident sees the name masked
