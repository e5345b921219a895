"""Event sign-ups per second over HTTP on the local stack, and DynamoDB calls per sign-up, give-up and promotion
(printed, not asserted): issue 8.

    python -m infra.proof.bench_signup [--signups 100] [--clients 8] [--capacity 5000] [--kind activity] [--json]

The stack is infra/proof/bench_stack.py's: the local stack of ``make dev`` in its own process on free ports, fresh
tables, no data file, the scheduler's timer at an hour, and a meter counting every DynamoDB call the stack's client
makes (each cancelled transaction too). This module only drives it.

- throughput: four runs, each on a new event of large capacity published by the demo admin, each by
  ``--signups`` distinct users (logged in and joined to grid 1 beforehand, not timed): from 1 client (one thread,
  one HTTP session, requests one after the other), from ``--clients`` concurrent clients (threads released
  together, each with its own session and its share of the users), again ``--clients``, again 1 — so both see
  the tables at the same sizes on average (moto's writes slow down as tables grow, see the caveat). Printed per
  client count: sign-ups per second (sign-ups / wall time), p50/p95 latency per request, and the DynamoDB calls
  per sign-up the runs made (cancelled transactions, i.e. retries under contention, included).
- calls: one request at a time on events of capacity 1: a sign-up that gets the place, one that is waitlisted,
  a waitlisted user giving up, a signed user giving up with nobody waiting, and a signed user giving up with
  someone waiting (the promotion happens in that request). Every call the request makes is counted, the
  caller's authorisation read included.
- raw: right after each timed run, the first run's own sign-up transactions sent again straight to the embedded
  DynamoDB from as many clients, on a copy of its event (infra/proof/bench_raw.py): the raw TransactWriteItems rate
  of the same shape, and what share of it the sign-ups over HTTP reach (issue 27: at least half at 1 client).

Caveat: the embedded DynamoDB applies one request at a time (infra/local/embedded_dynamodb.py) in a process of its
own, the API and its threads in another, on this machine's cores with the load generator: sign-ups per second
measure this machine's local stack, not DynamoDB or Lambda. The calls per request are the application's and carry
over.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from datetime import datetime, timedelta

from infra.proof.bench_runs import combined, fire, latency_ms, print_calls, print_throughput, report, summarise_calls
from infra.proof.bench_stack import (REPEATS, SHANGHAI, RunningStack, User, _call, _delta, _expect, _make_user, login,
                                     make_users, start_stack)

PROMOTING = "give-up by a signed user + promotion of the first waitlisted"


def _publish(base: str, admin_token: str, kind: str, capacity: int, title: str) -> str:
    import requests
    starts = (datetime.now(SHANGHAI) + timedelta(days=3)).replace(microsecond=0)
    with requests.Session() as session:
        return _expect(_call(session, base, "POST", "/v1/events", admin_token, {
            "title": title, "kind": kind, "capacity": capacity, "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat()}), 201, "publish an event")["id"]


def _timed_run(stack: RunningStack, event_id: str, users: list[User], clients: int) -> dict:
    """``clients`` threads, each with its own HTTP session and its share of ``users``, released together."""
    fired = fire(stack, [users[i::clients] for i in range(clients)],
                 lambda session, user: _call(session, stack.api_url, "POST", f"/v1/events/{event_id}/signup",
                                             user.token),
                 lambda resp: resp.json()["status"] if resp.status_code == 201 else None)
    wall, used, latencies = fired["seconds"], fired["used"], fired["latencies"]
    return {"clients": clients, "signups": len(users), "cpu_ms": round(fired["cpu"] * 1000 / len(users), 2),
            "seconds": round(wall, 3), "per_second": round(len(users) / wall, 1), **latency_ms(latencies),
            "outcome": dict(fired["outcome"]), "errors": dict(fired["errors"]),
            "dynamodb_calls_per_signup": round(used["total"] / max(1, len(users)), 2),
            "cancelled_transactions": used["cancelled"], "dynamodb_calls": used["calls"], "latencies": latencies}


def _combined(runs: list[dict], clients: int) -> dict:
    """The runs with ``clients`` clients as one: sign-ups over their summed wall time, latency over all requests."""
    mine = [run for run in runs if run["clients"] == clients]
    row = combined(mine, "signups", "dynamodb_calls_per_signup")
    row["cpu_ms"] = round(sum(run["cpu_ms"] * run["signups"] for run in mine) / row["signups"], 2)
    row["counters_match"] = all(run["event_signed_count"] == run["outcome"].get("signed", 0) for run in mine)
    return row


def _counted(stack: RunningStack, session, method: str, path: str, token: str, status: int, what: str,
             expect: str | None = None) -> dict:
    before = stack.meter()
    answer = _expect(_call(session, stack.api_url, method, path, token), status, what)
    used = _delta(before, stack.meter())
    if expect is not None and answer.get("status") != expect:
        raise SystemExit(f"{what}: answered status {answer.get('status')!r}, expected {expect!r}")
    return used


def _count_calls(stack: RunningStack, admin_token: str, kind: str, people: list[list[User]]) -> dict:
    """One request at a time, REPEATS times each, on events of capacity 1 (three users per event)."""
    import requests
    seen: dict[str, list[dict]] = {}
    with requests.Session() as session:
        for index, (first, second, third) in enumerate(people):
            event_id = _publish(stack.api_url, admin_token, kind, 1, f"计数活动{index + 1}")
            path = f"/v1/events/{event_id}/signup"
            steps = [
                ("sign-up (gets the place)", "POST", first, 201, "signed"),
                ("sign-up (waitlisted)", "POST", second, 201, "waitlisted"),
                ("sign-up (waitlisted, second in line)", "POST", third, 201, "waitlisted"),
                ("give-up by a waitlisted user (no promotion)", "DELETE", third, 200, "cancelled"),
                (PROMOTING, "DELETE", first, 200, "cancelled"),
                ("give-up by a signed user, nobody waiting", "DELETE", second, 200, "cancelled"),
            ]
            for what, method, user, status, expect in steps:
                seen.setdefault(what, []).append(_counted(stack, session, method, path, user.token, status, what,
                                                          expect))
                if what == PROMOTING:  # the promotion must have happened in that request
                    view = _expect(_call(session, stack.api_url, "GET", f"/v1/events/{event_id}", second.token),
                                   200, "read the event")
                    if view["my_status"] != "signed":
                        raise SystemExit(f"the give-up did not promote the first waitlisted user: {view}")
            promoted = _expect(_call(session, stack.api_url, "GET", f"/v1/events/{event_id}", second.token), 200,
                               "read the event")
            if promoted["my_status"] != "cancelled" or promoted["signed_count"] != 0:
                raise SystemExit(f"unexpected state after the counted steps: {promoted}")
    rows = summarise_calls(seen)
    with_promotion = rows[PROMOTING]["calls"]
    without = rows["give-up by a signed user, nobody waiting"]["calls"]
    rows["promotion (extra over a give-up with nobody waiting)"] = {"calls": with_promotion - without}
    return rows


def bench(args) -> dict:
    import requests
    from infra.proof import bench_raw
    stack, startup = start_stack("tongxin-bench-signup-")
    try:
        admin = login(stack.api_url, "admin")["token"]
        run = uuid.uuid4().hex[:6]
        plan = (1, args.clients, args.clients, 1)  # ABBA: both client counts see the tables at the same sizes
        needed = len(plan) * args.signups + 3 * REPEATS
        users, setup = make_users(lambda i: _make_user(stack.api_url, f"bench{run}-{i}", args.kind), needed)
        runs, raw, shape = [], [], None
        for index, clients in enumerate(plan):
            title = f"压测报名{index + 1}（{clients} 客户端）"
            event_id = _publish(stack.api_url, admin, args.kind, args.capacity, title)
            stack.transactions()  # forget the set-up's
            result = _timed_run(stack, event_id, users[index * args.signups:(index + 1) * args.signups], clients)
            with requests.Session() as session:
                view = _expect(_call(session, stack.api_url, "GET", f"/v1/events/{event_id}", admin), 200, "read")
            result["event_signed_count"] = view["signed_count"]
            runs.append(result)
            if shape is None:  # the first run's own transactions, each user's sign-up once
                shape = (event_id, [t for t in stack.transactions() if event_id in json.dumps(t)])
            # paired: right after the HTTP run of as many clients (infra/proof/bench_raw.py)
            raw.append(bench_raw.signups_again(stack.dynamodb_url, *shape, clients))
        counted = users[len(plan) * args.signups:]
        calls = _count_calls(stack, admin, args.kind, [counted[i:i + 3] for i in range(0, 3 * REPEATS, 3)])
    finally:
        stack.stop()
    throughput = [_combined(runs, clients) for clients in dict.fromkeys(plan)]
    for row in throughput:
        mine = [r for r in raw if r["clients"] == row["clients"]]
        rate = sum(r["transactions"] for r in mine) / sum(r["seconds"] for r in mine)
        row["raw_per_second"], row["of_raw"] = round(rate, 1), round(row["per_second"] / rate, 2)
        row["raw_refused"] = sum(r["refused"] for r in mine)
    for row in runs:
        del row["latencies"]
    return {"kind": args.kind, "capacity": args.capacity, "cpus": os.cpu_count(), "startup_s": round(startup, 1),
            "setup_s": round(setup, 1), "users_created": needed, "throughput": throughput, "runs": runs, "raw": raw,
            "calls": calls}


def _print(results: dict) -> None:
    print(f"event sign-ups over HTTP on the local stack ({results['cpus']} CPUs; stack up in {results['startup_s']} "
          f"s; {results['users_created']} users logged in and joined in {results['setup_s']} s, not timed)")
    order = ", ".join(str(run["clients"]) for run in results["runs"])
    print(f"kind {results['kind']}, capacity {results['capacity']}, every sign-up by a distinct user; runs in the "
          f"order {order} clients, each on a new event:")
    print_throughput(results["throughput"], [
        ("clients", "clients", ">7"), ("runs", "runs", ">4"), ("sign-ups", "signups", ">8"),
        ("seconds", "seconds", ">8.2f"), ("sign-ups/s", "per_second", ">10.1f"), ("p50 ms", "p50_ms", ">8.1f"),
        ("p95 ms", "p95_ms", ">8.1f"), ("calls/sign-up", "dynamodb_calls_per_signup", ">13.2f")],
        {"counters_match": "; an event's signed_count differs from the answers"})
    print("  raw TransactWriteItems of the same shape (the first run's sign-up transactions sent again straight to the"
          "\n  embedded DynamoDB on a copy of the event, right after each run, as many clients):")
    for row in results["throughput"]:
        refused = f"; {row['raw_refused']} REFUSED" if row["raw_refused"] else ""
        print(f"  {row['clients']:>7} clients: raw {row['raw_per_second']:>6.1f}/s, sign-ups over HTTP "
              f"{row['per_second']:>6.1f}/s = {row['of_raw']:.2f} of raw{refused}; the stack's CPU per sign-up "
              f"{row['cpu_ms']:.1f} ms (API + DynamoDB processes)")
    print("  per run: " + "; ".join(f"{run['clients']} → {run['per_second']}/s (p95 {run['p95_ms']} ms, "
                                    f"{run['cancelled_transactions']} cancelled transactions)"
                                    for run in results["runs"]))
    print_calls(results["calls"], 64)
    print("Caveats: the embedded DynamoDB (moto) applies one request at a time, in a process of its own beside the\n"
          "API's. Sign-ups per second are this machine's local stack, not DynamoDB; the call counts carry over.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signups", type=int, default=100,
                        help="sign-ups per run, each by a distinct user (4 runs: 1, N, N, 1 clients)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the 2nd and 3rd runs")
    parser.add_argument("--capacity", type=int, default=5000, help="the events' capacity (1..5000)")
    parser.add_argument("--kind", choices=("activity", "volunteer_service"), default="activity")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.signups < args.clients or args.clients < 1:
        parser.error("--signups must be at least --clients, and --clients at least 1")
    if not args.signups <= args.capacity <= 5000:
        parser.error("--capacity must be at least --signups (every timed sign-up gets a place) and at most 5000")
    results = bench(args)
    report(results, args.json, _print)
    failed = any(row["errors"] or not row["counters_match"] for row in results["throughput"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
