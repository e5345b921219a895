"""Redemptions per second over HTTP on the local stack, and DynamoDB calls per redemption, refusal, award, cancel,
pickup, leaderboard and passbook read (printed, not asserted): issue 10.

    python -m infra.proof.bench_redeem [--redemptions 100] [--clients 8] [--users 24] [--json]

The stack is infra/proof/bench_stack.py's: the local stack of ``make dev`` in its own process (``python -m
infra.proof.bench_stack --serve``), fresh tables, no data file, the scheduler's timer at an hour, and a meter counting
every DynamoDB call the stack's client makes. This module only drives it. The demo admin's daily award cap is
raised on the demo community's item in the stack's DynamoDB (``award_daily_cap``, an operator's setting), so the
bench can hand out the points it spends; that write goes to DynamoDB directly and the meter does not see it.

- throughput: four runs, each on a new item of the demo store (price 1 point, stock = ``--redemptions``, no
  per-user limit), each of ``--redemptions`` redemptions of one unit by ``--users`` residents (joined to grid 1
  and given points by the admin beforehand, not timed): from 1 client (one thread, one HTTP session, requests one
  after the other), from ``--clients`` concurrent clients (threads released together, each with its own session
  and its own users, so no two clients spend one balance: the contention is on the one goods item), again
  ``--clients``, again 1 — so both see the tables at the same sizes on average. Printed per client count:
  redemptions per second (redemptions / wall time), p50/p95 latency per request, DynamoDB calls per redemption
  (cancelled transactions, i.e. retries, included), and whether the item's stock afterwards is its stock before
  less the redemptions answered 201.
- calls: one request at a time, median of 3: an award, a redemption, a refused redemption (out of stock), a
  cancel, a pickup verify by the store's keeper, a leaderboard read, a passbook read, and a redemption with an
  ``Idempotency-Key`` and its replay. Every call the request makes is counted, the caller's authorisation read
  included.

Caveat: the embedded DynamoDB applies one request at a time (so it never answers TransactionConflict: concurrent
redemptions of one item queue instead of conflicting and being retried as on DynamoDB), in a process of its own
beside the API's: redemptions per second measure this machine's local stack, not DynamoDB or Lambda. The calls per request are the application's and carry over.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import uuid

from infra.proof.bench_runs import combined, fire, latency_ms, print_calls, print_throughput, report
from infra.proof.bench_stack import (REPEATS, RunningStack, User, _call, _delta, _error, _expect, _make_user,
                                     make_users, start_stack)

AWARD_MAX = 50  # the default cap of one charity award
DAILY_CAP = 1_000_000  # the admin's daily award cap, raised for the bench
REDEEM = "/v1/redemptions"
CALLS = (  # the rows of the calls section, in order
    "award (POST /v1/points/awards, charity)",
    "redemption (201)",
    "refused redemption (409 OUT_OF_STOCK)",
    "cancel (POST /v1/redemptions/{id}/cancel)",
    "pickup verify by the store's keeper (POST /v1/redemptions/verify)",
    "leaderboard read (month, community, points)",
    "passbook read (GET /v1/me/points, first page)",
    "redemption with an Idempotency-Key (201)",
    "its replay, same key (the first answer)",
)


# --- the state the bench needs --------------------------------------------------------------------------

class Shop:
    def __init__(self, stack: RunningStack, session, admin: User, community_id: str, store_id: str):
        self.stack, self.session, self.admin = stack, session, admin
        self.community_id, self.store_id = community_id, store_id

    @property
    def base(self) -> str:
        return self.stack.api_url

    def award(self, user: User, points: int, session=None) -> dict:
        """One charity award of ``points`` (at most the per-award cap)."""
        return _expect(_call(session or self.session, self.base, "POST", "/v1/points/awards", self.admin.token, {
            "user_id": user.id, "category": "charity", "points": points, "reason": "压测：社区表彰"}),
            201, "an award by the admin")

    def give(self, user: User, points: int, session) -> None:
        """``points`` in awards of at most the per-award cap."""
        while points > 0:
            self.award(user, min(points, AWARD_MAX), session)
            points -= AWARD_MAX

    def goods(self, name: str, stock: int, price: int = 1) -> str:
        return _expect(_call(self.session, self.base, "POST", f"/v1/stores/{self.store_id}/goods", self.admin.token, {
            "name": name, "description": "压测商品", "price_points": price, "stock": stock, "per_user_limit": None,
            "on_shelf": True}), 201, "new goods")["id"]

    def stock(self, goods_id: str) -> int:
        cursor = None
        while True:
            page = _expect(_call(self.session, self.base, "GET", f"/v1/stores/{self.store_id}/goods",
                                 self.admin.token, params={"limit": 100, **({"cursor": cursor} if cursor else {})}),
                           200, "the store's goods")
            for goods in page["items"]:
                if goods["id"] == goods_id:
                    return goods["stock"]
            cursor = page["next_cursor"]
            if not cursor:
                raise SystemExit(f"goods {goods_id} not in its store's listing")


def _open_shop(stack: RunningStack, session) -> Shop:
    login = _expect(_call(session, stack.api_url, "POST", "/v1/auth/login", body={"code": "dev:admin"}), 200,
                    "admin login")
    admin = User(login["token"], login["user"]["id"])
    community_id = login["user"]["community_id"]
    stack.dynamodb().update_item(
        TableName=stack.table("communities"), Key={"id": {"S": community_id}},
        UpdateExpression="SET award_daily_cap = :cap", ConditionExpression="attribute_exists(id)",
        ExpressionAttributeValues={":cap": {"N": str(DAILY_CAP)}})
    stores = _expect(_call(session, stack.api_url, "GET", "/v1/stores", admin.token), 200, "the stores")["items"]
    if not stores:
        raise SystemExit("the demo seed has no store")
    return Shop(stack, session, admin, community_id, stores[0]["id"])


def _keeper(shop: Shop) -> tuple[str, str]:
    """The demo store keeper (``store1``) when it keeps the store used, else the admin: (token, who)."""
    login = _expect(_call(shop.session, shop.base, "POST", "/v1/auth/login", body={"code": "dev:store1"}), 200,
                    "store keeper login")
    if shop.store_id in (login["user"].get("store_ids") or []):
        return login["token"], "store1 (the store's keeper)"
    return shop.admin.token, "admin (store1 does not keep this store)"


# --- throughput --------------------------------------------------------------------------------------------

def _timed_run(shop: Shop, goods_id: str, users: list[User], redemptions: int, clients: int) -> dict:
    """``clients`` threads released together, each with its own HTTP session and its own users (user i goes to
    client i mod clients), redeeming one unit at a time, ``redemptions`` in all."""
    owners = [i % len(users) for i in range(redemptions)]  # the user of each redemption, by index
    shares = [[users[u] for u in owners if u % clients == c] for c in range(clients)]
    stock_before = shop.stock(goods_id)
    fired = fire(shop.stack, shares,
                 lambda session, user: _call(session, shop.base, "POST", REDEEM, user.token,
                                             {"goods_id": goods_id, "quantity": 1}),
                 lambda resp: "redeemed" if resp.status_code == 201 else None,
                 error=lambda resp: _error(resp) or resp.text[:120])
    wall, used, outcome = fired["seconds"], fired["used"], fired["outcome"]
    stock_after = shop.stock(goods_id)
    return {"clients": clients, "redemptions": redemptions, "seconds": round(wall, 3),
            "per_second": round(redemptions / wall, 1), **latency_ms(fired["latencies"]), "outcome": dict(outcome),
            "errors": dict(fired["errors"]),
            "dynamodb_calls_per_redemption": round(used["total"] / max(1, redemptions), 2),
            "cancelled_transactions": used["cancelled"], "dynamodb_calls": used["calls"],
            "stock_before": stock_before, "stock_after": stock_after,
            "stock_matches": stock_after == stock_before - outcome["redeemed"], "latencies": fired["latencies"]}


def _combined(runs: list[dict], clients: int) -> dict:
    """The runs with ``clients`` clients as one: redemptions over their summed wall time, latency over all."""
    mine = [run for run in runs if run["clients"] == clients]
    return {**combined(mine, "redemptions", "dynamodb_calls_per_redemption"),
            "stock_matches": all(run["stock_matches"] for run in mine)}


# --- calls per request ---------------------------------------------------------------------------------

class _Refused(Exception):
    pass


def _counted(shop: Shop, seen: dict, what: str, method: str, path: str, token: str, status: int, body=None,
             headers=None, params=None, check=None) -> dict:
    """Make the request, count the calls it made under ``what``; the answer must be ``status`` (and pass
    ``check``), else the row records the failure and the repeat stops."""
    before = shop.stack.meter()
    resp = _call(shop.session, shop.base, method, path, token, body, headers, params)
    used = _delta(before, shop.stack.meter())
    try:
        answer = resp.json()
    except ValueError:
        answer = {}
    problem = None
    if resp.status_code != status:
        problem = f"answered {resp.status_code} {_error(resp)}, expected {status}: {resp.text[:300]}"
    elif check is not None and not check(answer):
        problem = f"unexpected answer: {resp.text[:300]}"
    if problem:
        seen.setdefault(what, []).append({"failed": problem})
        raise _Refused(f"{what}: {problem}")
    seen.setdefault(what, []).append(used)
    return answer


def _count_calls(shop: Shop, people: list[tuple[User, User]]) -> tuple[dict, str, list[str]]:
    keeper, who = _keeper(shop)
    seen: dict[str, list[dict]] = {}
    problems: list[str] = []
    for index, (buyer, latecomer) in enumerate(people):
        try:
            rare = shop.goods(f"计数：限量一件{index + 1}", stock=1)
            plenty = shop.goods(f"计数：常备商品{index + 1}", stock=100)
            _counted(shop, seen, CALLS[0], "POST", "/v1/points/awards", shop.admin.token, 201, {
                "user_id": buyer.id, "category": "charity", "points": 10, "reason": "压测：计数表彰"},
                check=lambda a: a.get("status") == "active")
            shop.award(latecomer, 10)
            first = _counted(shop, seen, CALLS[1], "POST", REDEEM, buyer.token, 201,
                             {"goods_id": rare, "quantity": 1}, check=lambda a: a.get("status") == "pending_pickup")
            _counted(shop, seen, CALLS[2], "POST", REDEEM, latecomer.token, 409, {"goods_id": rare, "quantity": 1},
                     check=lambda a: a.get("error", {}).get("code") == "OUT_OF_STOCK")
            second = _expect(_call(shop.session, shop.base, "POST", REDEEM, buyer.token,
                                   {"goods_id": plenty, "quantity": 1}), 201, "a redemption to cancel")
            _counted(shop, seen, CALLS[3], "POST", f"{REDEEM}/{second['id']}/cancel", buyer.token, 200,
                     check=lambda a: a.get("status") == "cancelled")
            _counted(shop, seen, CALLS[4], "POST", f"{REDEEM}/verify", keeper, 200,
                     {"pickup_code": first["pickup_code"]}, check=lambda a: a.get("status") == "picked_up")
            _counted(shop, seen, CALLS[5], "GET", "/v1/leaderboard", buyer.token, 200,
                     params={"period": "month", "scope": "community", "metric": "points"},
                     check=lambda a: isinstance(a.get("items"), list) and "me" in a)
            _counted(shop, seen, CALLS[6], "GET", "/v1/me/points", buyer.token, 200,
                     check=lambda a: isinstance(a.get("items"), list) and "balance" in a)
            key = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
            body = {"goods_id": plenty, "quantity": 1}
            once = _counted(shop, seen, CALLS[7], "POST", REDEEM, buyer.token, 201, body, headers=key)
            _counted(shop, seen, CALLS[8], "POST", REDEEM, buyer.token, 201, body, headers=key,
                     check=lambda a: a.get("id") == once["id"])
        except _Refused as refused:
            problems.append(str(refused))
    rows = {}
    for what in CALLS:
        samples = seen.get(what, [])
        good = [s for s in samples if "failed" not in s]
        failed = [s["failed"] for s in samples if "failed" in s]
        if not good:
            rows[what] = {"calls": None, "failed": failed[:1] or ["not reached"]}
            continue
        totals = [s["total"] for s in good]
        rows[what] = {"calls": statistics.median(totals), "min": min(totals), "max": max(totals),
                      "samples": len(good), "by_operation": good[-1]["calls"],
                      "cancelled_transactions": good[-1]["cancelled"], "failed": failed}
    return rows, who, problems


# --- the bench -----------------------------------------------------------------------------------------

def bench(args) -> dict:
    import requests
    stack, startup = start_stack("tongxin-bench-redeem-")
    try:
        with requests.Session() as session:
            shop = _open_shop(stack, session)
            run = uuid.uuid4().hex[:6]
            plan = (1, args.clients, args.clients, 1)  # ABBA: both client counts see the tables at the same sizes
            each = len(plan) * math.ceil(args.redemptions / args.users)  # the most points one buyer spends

            def make(i: int) -> User:  # the buyers given their points, then the residents of the calls section
                if i >= args.users:
                    return _make_user(stack.api_url, f"count{run}-{i - args.users}", "activity")
                user = _make_user(stack.api_url, f"redeem{run}-{i}", "activity")
                with requests.Session() as own:
                    shop.give(user, each, own)
                return user
            users, setup = make_users(make, args.users + 2 * REPEATS)
            buyers, counted = users[:args.users], users[args.users:]
            runs = []
            for index, clients in enumerate(plan):
                goods_id = shop.goods(f"压测兑换{index + 1}（{clients} 客户端）", stock=args.redemptions)
                runs.append(_timed_run(shop, goods_id, buyers, args.redemptions, clients))
            calls, keeper, problems = _count_calls(shop, [(counted[i], counted[i + 1])
                                                          for i in range(0, 2 * REPEATS, 2)])
    finally:
        stack.stop()
    throughput = [_combined(runs, clients) for clients in dict.fromkeys(plan)]
    for row in runs:
        del row["latencies"]
    return {"cpus": os.cpu_count(), "startup_s": round(startup, 1), "setup_s": round(setup, 1),
            "users": args.users, "points_each": each, "store_id": shop.store_id, "throughput": throughput,
            "runs": runs, "calls": calls, "verifier": keeper, "problems": problems}


def _print(results: dict) -> None:
    print(f"redemptions over HTTP on the local stack ({results['cpus']} CPUs; stack up in {results['startup_s']} s; "
          f"{results['users']} residents joined and given {results['points_each']} points each in "
          f"{results['setup_s']} s, not timed)")
    order = ", ".join(str(run["clients"]) for run in results["runs"])
    print(f"each run on a new item of store {results['store_id']} (1 point, stock = the run's redemptions, no limit),"
          f" one unit a request, every client with its own residents; runs in the order {order} clients:")
    print_throughput(results["throughput"], [
        ("clients", "clients", ">7"), ("runs", "runs", ">4"), ("redeemed", "redemptions", ">8"),
        ("seconds", "seconds", ">8.2f"), ("per s", "per_second", ">7.1f"), ("p50 ms", "p50_ms", ">8.1f"),
        ("p95 ms", "p95_ms", ">8.1f"), ("calls/redemption", "dynamodb_calls_per_redemption", ">16.2f")],
        {"stock_matches": "; STOCK after != stock before - redemptions answered 201"})
    print("  per run: " + "; ".join(f"{run['clients']} → {run['per_second']}/s (p95 {run['p95_ms']} ms, "
                                    f"{run['cancelled_transactions']} cancelled transactions, stock "
                                    f"{run['stock_before']}→{run['stock_after']})" for run in results["runs"]))
    print_calls(results["calls"], 66, f"; pickups verified by {results['verifier']}")
    for problem in results["problems"]:
        print(f"  problem: {problem}")
    print("Caveats: the embedded DynamoDB (moto) applies one request at a time — concurrent redemptions of one item\n"
          "queue there instead of conflicting (TransactionConflict) and being retried as on DynamoDB; it runs in\n"
          "a process of its own beside the API's. Redemptions per second are this machine's local stack, not\n"
          "DynamoDB; the call counts carry over.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redemptions", type=int, default=100,
                        help="redemptions per run (4 runs: 1, N, N, 1 clients), each of one unit")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the 2nd and 3rd runs")
    parser.add_argument("--users", type=int, default=24,
                        help="residents redeeming (a multiple of --clients keeps the clients' shares even)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.redemptions < args.clients or args.users < args.clients:
        parser.error("--clients at least 1, and --redemptions and --users at least --clients")
    if args.redemptions > 100_000:
        parser.error("--redemptions is at most 100000 (an item's stock)")
    results = bench(args)
    report(results, args.json, _print)
    failed = results["problems"] or any(row["errors"] or not row["stock_matches"] for row in results["throughput"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
