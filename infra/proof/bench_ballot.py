"""微实事 ballots per second over HTTP on the local stack, DynamoDB calls per ballot, the results' reads at two turnouts
(printed, not asserted): issue 24's "a round of a 20,000-resident community: 2,000 ballots in an hour … counts
exact … tallies read O(projects), never the ballots".

    python -m infra.proof.bench_ballot [--voters 2000] [--clients 8] [--small-turnout 200] [--json]

The stack is infra/proof/bench_stack.py's: the local stack of ``make dev`` in its own process, fresh tables, no data
file, the scheduler's timer at an hour (so nothing finalises a round behind the bench's back), and a meter counting
every DynamoDB call the stack's client makes and the items its answers carry. This module only drives it.

Set-up, not timed: ``--voters`` residents, each as the mini-program makes one (dev login, joined to grid 1 with its
invite, a phone bound with the WeChat stand-in's one-time code: 4 requests, the least the product allows a voter);
then two rounds of the demo admin (budget style, 1,000 yuan, 0 days of 公示, dates an hour ahead), in each six
projects proposed by res1 and res2 (three each, the cap) and approved by the admin. The stack's clock cannot
travel, so voting opening and closing is the round's dates — and each project's copy of them — moved into the past
in its tables, as tests/e2e/test_outside_round_walk.py's ``_pass_time`` does; those writes go to DynamoDB directly
and the meter does not see them.

- the small round: ``--small-turnout`` of the voters (default a tenth) vote from ``--clients`` clients, then its
  voting closes and its results are read (median of 3): the results at that turnout.
- the round of ``--voters``: every voter votes once, in four runs of a quarter of the voters each, from 1 client,
  ``--clients``, ``--clients``, 1 (ABBA: both client counts see the tables at the same sizes on average); then its
  voting closes and its results are read the same way: the results at the full turnout, beside the small round's
  (the same calls, and the same items read once every shard holds a vote — a shard nobody voted in is not
  stored: the counts are sharded counters, never the ballots); then the admin's first progress report on a winner
  finalises the round (votes, ranks and winners onto the projects) and the results are read once more.
- every ballot is sent with an ``Idempotency-Key``, as the mini-program sends a change. Printed per client count:
  ballots per second, p50/p95 latency, DynamoDB calls per ballot (cancelled transactions included), against the
  hour's need (2,000 ballots an hour = 0.56 a second); then, read from the tables after the close, each round's
  stored ballots, the sum of their choices and of the sharded counts (each project's, shard by shard, must equal
  its ballots'), the turnout the results answer (== the voters), the winners within the budget, and the invariant
  checker (infra/proof/invariants) over every table.

Caveat: the embedded DynamoDB applies one request at a time, in a process of its own beside the API's: ballots per
second measure this machine's local stack, not DynamoDB or Lambda. The calls per request are the application's and
carry over.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

from infra.proof.bench_runs import combined, fire, latency_ms, print_throughput, report
from infra.proof.bench_stack import (REPEATS, ROOT, RunningStack, User, _call, _delta, _error, _expect, _make_user,
                                     login, make_users, start_stack)

if str(ROOT / "layers") not in sys.path:  # the rules that name the counters (tongxin)
    sys.path.insert(0, str(ROOT / "layers"))

BUDGET = 1000
COSTS = (300, 300, 300, 200, 100, 100)  # six projects; a ballot takes at most three popular ones
HOUR_NEED = 2000 / 3600  # issue 24: 2,000 ballots in an hour
TITLES = ("3栋楼道加装扶手", "小区广场添置健身器材", "楼顶加装太阳能路灯", "垃圾分类亭加装洗手池", "老年活动室添置象棋桌",
          "儿童游乐区铺设软垫")
COPIES = {"proposals_until": None, "voting_from": "round_voting_from", "voting_until": "round_voting_until",
          "publicity_until": "round_publicity_until"}  # a round's dates → their copies on its projects


def _choice(index: int, ids: list[str]) -> list[str]:
    """The popular three in overlapping pairs and alone, sometimes with smaller ones: within the budget."""
    a, b, c, d, e, f = ids
    return [[a, b], [b, c], [a, c], [a], [b, d], [c, d, e], [a, b, c], [d, e, f], [a, f]][index % 9]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


# --- set-up over HTTP (not timed) --------------------------------------------------------------------------------

def _make_voter(stack: RunningStack, index: int, run: str) -> User:
    """A resident of grid 1 who bound a phone the way the mini-program does (the stand-in's one-time code)."""
    import requests
    user = _make_user(stack.api_url, f"voter{run}-{index}", "activity")
    with requests.Session() as session:
        code = _expect(session.post(stack.wechat_url + "/__dev/phone-codes", json={"phone": f"138{index:08d}"},
                                    timeout=30), 200, "a phone code from the stand-in")["code"]
        _expect(_call(session, stack.api_url, "POST", "/v1/me/phone", user.token, {"code": code}), 200,
                "bind the phone")
    return user


def _open_round(stack: RunningStack, session, admin: str, proposers: list[str], title: str) -> tuple[str, list[str]]:
    """A budget round, six projects proposed (three by each proposer) and approved in order: (round id, ids)."""
    now = datetime.now(timezone.utc)
    round_id = _expect(_call(session, stack.api_url, "POST", "/v1/admin/project-rounds", admin, {
        "title": title, "budget_yuan": BUDGET, "style": "budget", "proposals_until": _iso(now + timedelta(hours=1)),
        "voting_from": _iso(now + timedelta(hours=1)), "voting_until": _iso(now + timedelta(hours=2)),
        "publicity_days": 0}), 201, "open a round")["id"]
    ids = []
    for index, (name, cost) in enumerate(zip(TITLES, COSTS)):
        ids.append(_expect(_call(session, stack.api_url, "POST", f"/v1/project-rounds/{round_id}/projects",
                                 proposers[index // 3], {"title": name, "description": f"{name}，方便居民",
                                                         "cost_yuan": cost, "category": "设施维修"}),
                           201, "propose a project")["id"])
    for pid in ids:
        _expect(_call(session, stack.api_url, "POST", f"/v1/projects/{pid}/approve", admin, {}), 200, "approve")
    return round_id, ids


def _pass_time(stack: RunningStack, round_id: str, ids: list[str], **moments: datetime) -> None:
    """Move the round's dates (``voting_from=…``) and the projects' copies to ``moments``, as time would."""
    from pynamodb.attributes import UTCDateTimeAttribute
    db, dates = stack.dynamodb(), UTCDateTimeAttribute()
    values = {name: dates.serialize(moment) for name, moment in moments.items()}
    fields = {**values, **({"finalise_due": values["voting_until"]} if "voting_until" in values else {})}
    db.update_item(TableName=stack.table("project_rounds"), Key={"id": {"S": round_id}},
                   UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in fields),
                   ExpressionAttributeValues={f":{k}": {"S": v} for k, v in fields.items()},
                   ConditionExpression="attribute_exists(id)")
    copies = {COPIES[k]: v for k, v in values.items() if COPIES[k]}
    for pid in ids if copies else ():
        db.update_item(TableName=stack.table("round_projects"), Key={"id": {"S": pid}},
                       UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in copies),
                       ExpressionAttributeValues={f":{k}": {"S": v} for k, v in copies.items()})


def _open_voting(stack: RunningStack, round_id: str, ids: list[str]) -> None:
    now = datetime.now(timezone.utc)
    _pass_time(stack, round_id, ids, proposals_until=now - timedelta(hours=2), voting_from=now - timedelta(hours=1))


def _close_voting(stack: RunningStack, round_id: str, ids: list[str]) -> None:
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    _pass_time(stack, round_id, ids, voting_until=past, publicity_until=past)


# --- ballots (timed) -------------------------------------------------------------------------------------------

def _timed_run(stack: RunningStack, round_id: str, ids: list[str], voters: list[tuple[int, User]],
               clients: int) -> dict:
    """``clients`` threads released together, each with its own session and its share of ``voters`` (index,
    user), each voter's ballot once, with an Idempotency-Key."""
    path = f"/v1/project-rounds/{round_id}/ballot"

    def send(session, voter):
        index, user = voter
        return _call(session, stack.api_url, "POST", path, user.token, {"project_ids": _choice(index, ids)},
                     headers={"Idempotency-Key": str(uuid.uuid4())})

    fired = fire(stack, [voters[i::clients] for i in range(clients)], send,
                 lambda resp: "voted" if resp.status_code == 201 else None,
                 error=lambda resp: _error(resp) or resp.text[:120])
    wall, used = fired["seconds"], fired["used"]
    return {"clients": clients, "ballots": len(voters), "seconds": round(wall, 3),
            "per_second": round(len(voters) / wall, 1), **latency_ms(fired["latencies"]),
            "outcome": dict(fired["outcome"]), "errors": dict(fired["errors"]),
            "dynamodb_calls_per_ballot": round(used["total"] / max(1, len(voters)), 2),
            "cancelled_transactions": used["cancelled"], "dynamodb_calls": used["calls"],
            "latencies": fired["latencies"]}


# --- after the close -------------------------------------------------------------------------------------------

def _results(stack: RunningStack, session, token: str, round_id: str, repeats: int = REPEATS) -> dict:
    """GET …/results ``repeats`` times, one at a time: the median calls and items read, the last answer."""
    samples = []
    for _ in range(repeats):
        before = stack.meter()
        answer = _expect(_call(session, stack.api_url, "GET", f"/v1/project-rounds/{round_id}/results", token),
                         200, "the results")
        samples.append(_delta(before, stack.meter()))
    return {"calls": statistics.median(s["total"] for s in samples),
            "items_read": statistics.median(s["items_read"] for s in samples), "by_operation": samples[-1]["calls"],
            "final": answer["final"], "answer": answer}


def _stored(stack: RunningStack, round_id: str, ids: list[str]) -> dict:
    """What the tables hold: the round's ballots (one consistent Query, page by page) and every shard of its counts
    (BatchGetItem of the keys), each project's count compared with its ballots' choices, shard by shard."""
    from tongxin.domain import ballots as rules
    db, ballots, start = stack.dynamodb(), [], None
    while True:
        page = db.query(TableName=stack.table("ballots"), KeyConditionExpression="round_id = :r",
                        ExpressionAttributeValues={":r": {"S": round_id}}, ConsistentRead=True,
                        **({"ExclusiveStartKey": start} if start else {}))
        ballots += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    expected: Counter = Counter()
    for ballot in ballots:
        shard = rules.shard_of(ballot["user_id"]["S"])
        expected[rules.turnout_key(round_id, shard)] += 1
        for pid in ballot["project_ids"]["L"]:
            expected[rules.votes_key(round_id, pid["S"], shard)] += 1
    keys = [rules.turnout_key(round_id, s) for s in range(rules.VOTE_SHARDS)] + \
        [rules.votes_key(round_id, p, s) for p in ids for s in range(rules.VOTE_SHARDS)]
    counted: dict[str, int] = {}
    for first in range(0, len(keys), 100):
        got = db.batch_get_item(RequestItems={stack.table("counters"): {
            "Keys": [{"key": {"S": k}} for k in keys[first:first + 100]], "ConsistentRead": True}})
        counted |= {i["key"]["S"]: int(i["n"]["N"]) for i in got["Responses"][stack.table("counters")]}
    turnout = {rules.turnout_key(round_id, s) for s in range(rules.VOTE_SHARDS)}
    return {"ballots": len(ballots), "choices": sum(len(b["project_ids"]["L"]) for b in ballots),
            "counted_votes": sum(n for k, n in counted.items() if k not in turnout),
            "counted_turnout": sum(n for k, n in counted.items() if k in turnout),
            "shards_exact": {k: v for k, v in counted.items() if v} == dict(expected)}


def _judged(stored: dict, results: dict, voters: int, sent: Counter) -> dict:
    """The round's checks: the tables against the ballots sent, the results' answer against both."""
    answer = results["answer"]
    votes = {item["project"]["id"]: item["votes"] for item in answer["items"]}
    chosen = [item for item in answer["items"] if item["selected"]]
    return {**stored, "voters": voters, "turnout_answered": answer["turnout"],
            "counts_exact": (stored["shards_exact"] and stored["choices"] == stored["counted_votes"]
                             and votes == {pid: sent[pid] for pid in votes} and stored["ballots"] == voters
                             and answer["turnout"] == voters == stored["counted_turnout"]),
            "selected": len(chosen), "selected_yuan": answer["selected_yuan"],
            "within_budget": sum(item["project"]["cost_yuan"] for item in chosen) == answer["selected_yuan"] <= BUDGET}


def bench(args) -> dict:
    import requests
    from infra.proof.invariants.checker import check
    stack, startup = start_stack("tongxin-bench-ballot-")
    try:
        admin = login(stack.api_url, "admin")["token"]
        proposers = [login(stack.api_url, name)["token"] for name in ("res1", "res2")]
        run = uuid.uuid4().hex[:6]
        users, setup = make_users(lambda i: _make_voter(stack, i, run), args.voters)
        voters = list(enumerate(users))
        with requests.Session() as session:
            small_id, small_ids = _open_round(stack, session, admin, proposers, "压测微实事（小轮）")
            big_id, big_ids = _open_round(stack, session, admin, proposers, "压测微实事（全体）")
            _open_voting(stack, small_id, small_ids)
            small_run = _timed_run(stack, small_id, small_ids, voters[:args.small_turnout], args.clients)
            _close_voting(stack, small_id, small_ids)
            small_results = _results(stack, session, admin, small_id)
            _open_voting(stack, big_id, big_ids)
            plan = (1, args.clients, args.clients, 1)  # ABBA: both client counts see the tables at the same sizes
            cuts = [round(i * len(voters) / len(plan)) for i in range(len(plan) + 1)]
            runs = [_timed_run(stack, big_id, big_ids, voters[cuts[i]:cuts[i + 1]], clients)
                    for i, clients in enumerate(plan)]
            _close_voting(stack, big_id, big_ids)
            big_results = _results(stack, session, admin, big_id)
            winner = next(i["project"]["id"] for i in big_results["answer"]["items"] if i["selected"])
            _expect(_call(session, stack.api_url, "POST", f"/v1/projects/{winner}/progress", admin,
                          {"note": "材料已进场", "percent": 10}), 200, "the first progress report (finalises)")
            final_results = _results(stack, session, admin, big_id)
        checks = []
        for round_id, ids, results, count in ((small_id, small_ids, small_results, args.small_turnout),
                                             (big_id, big_ids, final_results, len(voters))):
            sent = Counter(pid for index, _ in voters[:count] for pid in _choice(index, ids))
            checks.append(_judged(_stored(stack, round_id, ids), results, count, sent))
        violations = check(stack.dynamodb(), stack.table)
    finally:
        stack.stop()
    throughput = [combined([r for r in runs if r["clients"] == clients], "ballots", "dynamodb_calls_per_ballot")
                  for clients in dict.fromkeys(plan)]
    for row in throughput:
        row["of_hour_need"] = round(row["per_second"] / HOUR_NEED, 1)
    for row in (small_run, *runs):
        del row["latencies"]
    reads = {"small": small_results, "full": big_results, "finalised": final_results}
    for row in reads.values():
        row.pop("answer")
    return {"cpus": os.cpu_count(), "startup_s": round(startup, 1), "setup_s": round(setup, 1),
            "voters": len(voters), "projects": len(COSTS), "budget_yuan": BUDGET, "hour_need_per_second": HOUR_NEED,
            "small_run": small_run, "throughput": throughput, "runs": runs, "results_reads": reads,
            "rounds": {"small": checks[0], "full": checks[1]}, "invariant_violations": violations}


def _print(results: dict) -> None:
    print(f"微实事 ballots over HTTP on the local stack ({results['cpus']} CPUs; stack up in {results['startup_s']} s; "
          f"{results['voters']} residents joined with a bound phone in {results['setup_s']} s, not timed)")
    order = ", ".join(str(run["clients"]) for run in results["runs"])
    print(f"a budget round of {results['projects']} projects ({results['budget_yuan']} yuan), every voter once with "
          f"an Idempotency-Key; runs in the order {order} clients:")
    print_throughput(results["throughput"], [
        ("clients", "clients", ">7"), ("runs", "runs", ">4"), ("ballots", "ballots", ">7"),
        ("seconds", "seconds", ">8.2f"), ("ballots/s", "per_second", ">9.1f"), ("p50 ms", "p50_ms", ">8.1f"),
        ("p95 ms", "p95_ms", ">8.1f"), ("calls/ballot", "dynamodb_calls_per_ballot", ">12.2f"),
        ("× hour's need", "of_hour_need", ">13.1f")], {})
    print(f"  the hour's need: 2,000 ballots an hour = {results['hour_need_per_second']:.2f}/s")
    small = results["small_run"]
    print("  per run: " + "; ".join(f"{run['clients']} → {run['per_second']}/s (p95 {run['p95_ms']} ms, "
                                    f"{run['cancelled_transactions']} cancelled transactions)"
                                    for run in results["runs"])
          + f"; the small round: {small['ballots']} ballots from {small['clients']} clients → {small['per_second']}/s"
          + (f", ERRORS {small['errors']}" if small["errors"] else ""))
    projects = results["projects"]
    print(f"GET …/results after the close (median of {REPEATS}; the caller's read included; items read at most "
          f"1 + 1 + 8 + {projects} + {projects} × 8 = {10 + 9 * projects} whatever the turnout: the caller, the round, "
          f"the turnout's 8 shards, the approved projects, their vote shards):")
    turnouts = {"small": results["rounds"]["small"]["voters"], "full": results["rounds"]["full"]["voters"]}
    for name, what in (("small", f"turnout {turnouts['small']}"), ("full", f"turnout {turnouts['full']}"),
                       ("finalised", f"turnout {turnouts['full']}, after the finalisation")):
        row = results["results_reads"][name]
        print(f"  {what:<42} {row['calls']:>4} calls, {row['items_read']:>4} items read  {row['by_operation']}")
    print("The tables after the close (ballots read by the bench, not the API):")
    for name, row in results["rounds"].items():
        verdict = "exact" if row["counts_exact"] else "NOT EXACT"
        print(f"  {name:<5} round: {row['ballots']} ballots stored of {row['voters']} voters, their choices "
              f"{row['choices']} == the counts' sum {row['counted_votes']} ({verdict}, shard by shard: "
              f"{row['shards_exact']}); turnout answered {row['turnout_answered']}; {row['selected']} winners, "
              f"{row['selected_yuan']} yuan of {results['budget_yuan']} ({'within' if row['within_budget'] else 'OVER'}"
              f" the budget)")
    violations = results["invariant_violations"]
    print("  invariants (infra/proof/invariants, every table): "
          + ("all hold" if not violations else f"{len(violations)} VIOLATED: " + "; ".join(violations[:5])))
    print("Caveats: the embedded DynamoDB (moto) applies one request at a time, in a process of its own beside the\n"
          "API's. Ballots per second are this machine's local stack, not DynamoDB; the call counts carry over.")


def failed(results: dict) -> bool:
    rounds = results["rounds"].values()
    return bool(results["invariant_violations"] or results["small_run"]["errors"]
                or any(row["errors"] for row in results["throughput"])
                or not all(r["counts_exact"] and r["within_budget"] for r in rounds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=2000,
                        help="residents voting in the full round (4 runs of a quarter each: 1, N, N, 1 clients)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the 2nd and 3rd runs")
    parser.add_argument("--small-turnout", type=int, default=None,
                        help="voters of the small round, whose results are read beside the full round's "
                             "(default: a tenth of --voters)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.small_turnout is None:
        args.small_turnout = max(1, args.voters // 10)
    if args.clients < 1 or args.voters < 4 * args.clients:
        parser.error("--clients at least 1, and --voters at least 4 × --clients (each run's clients all vote)")
    if not 1 <= args.small_turnout <= args.voters:
        parser.error("--small-turnout must be 1..--voters")
    results = bench(args)
    report(results, args.json, _print)
    return 1 if failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
