"""The command, ``python -m infra.proof.burst`` (``make burst``): its arguments (``main``), the scenarios run in order on
one stack started for them, sharing its people (``run``), and the figures printed (``_print``) or the JSON; exits 1
when a scenario found a problem. ``--serve`` (not for direct use) runs the stack's own process instead (serve.py).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import infra.proof.burst
from infra.proof.bench_stack import add_serve_arguments

from .scenarios import CLIENTS, RUNNERS, SCENARIOS
from .serve import serve
from .stack import BurstStack, People


def run(scenarios: list[str], scale: float, clients: int, raw: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix="tongxin-burst-"))
    started = time.perf_counter()
    stack = BurstStack(work)
    results = {"cpus": os.cpu_count(), "scale": scale, "clients": clients, "startup_s": 0.0, "scenarios": []}
    try:
        results["startup_s"] = round(time.perf_counter() - started, 1)
        people = People(stack, uuid.uuid4().hex[:6])
        for name in scenarios:
            before = people.setup_seconds
            began = time.perf_counter()
            outcome = RUNNERS[name](stack, people, scale, clients, raw)
            outcome["setup_s"] = round(people.setup_seconds - before, 1)
            outcome["scenario_s"] = round(time.perf_counter() - began, 1)
            results["scenarios"].append(outcome)
    finally:
        stack.stop()
    results["log"] = str(stack.log)
    return results


def _print(results: dict) -> None:
    print(f"bursts over HTTP on the local stack ({results['cpus']} CPUs; scale {results['scale']}; "
          f"{results['clients']} clients, one HTTP session each; stack up in {results['startup_s']} s)")
    for s in results["scenarios"]:
        head = {"signup": f"{s.get('people')} sign-ups for {s.get('places')} places",
                "checkin": f"{s.get('volunteers')} volunteers check in, then out",
                "redeem": f"{s.get('residents')} redemptions of stock {s.get('stock')}"}[s["scenario"]]
        print(f"\n[{s['scenario']}] {head} — {'OK' if not s['problems'] else 'FAILED'} "
              f"(users made / funded in {s['setup_s']} s, scenario {s['scenario_s']} s in all)")
        for label, b in s["bursts"].items():
            print(f"  {label:<10} {b['requests']:>4} requests in {b['seconds']:.2f} s = {b['per_second']:.1f}/s; "
                  f"p50 {b['p50_ms']:.0f} ms, p95 {b['p95_ms']:.0f} ms; {b['dynamodb_calls_per_request']} DynamoDB "
                  f"calls/request, {b['cancelled_transactions']} cancelled transactions")
            print(f"  {'':<10} answers: " + ", ".join(f"{k} × {v}" for k, v in b["histogram"].items()))
        api = s["api"]
        if len(s["bursts"]) > 1:
            print(f"  {'together':<10} {api['requests']:>4} requests in {api['seconds']:.2f} s = "
                  f"{api['per_second']:.1f}/s; p50 {api['p50_ms']:.0f} ms, p95 {api['p95_ms']:.0f} ms")
        raw = s.get("raw")
        if raw and raw.get("per_second"):
            for phase in raw["phases"]:
                outcome = ", ".join(f"{k} {v}" for k, v in sorted(phase["outcome"].items()))
                print(f"  raw        {phase['transactions']:>4} TransactWriteItems in {phase['seconds']:.2f} s = "
                      f"{phase['per_second']:.1f}/s; p50 {phase['p50_ms']:.0f} ms, p95 {phase['p95_ms']:.0f} ms "
                      f"({outcome}); shape: {'; '.join(phase['shapes'][:2])}")
            print(f"  ratio API/raw: {s['ratio']:.2f} ({api['per_second']:.1f} requests/s over "
                  f"{raw['per_second']:.1f} transactions/s)")
        print(f"  stored: {json.dumps(s['stored'], ensure_ascii=False)}")
        print(f"  invariants: {s['invariants_note']}")
        for problem in s["problems"]:
            print(f"  PROBLEM: {problem}")
    print("\nCaveats: the embedded DynamoDB (moto's server behind one lock) applies one request at a time, so\n"
          "concurrent writes of one item queue instead of conflicting and being retried as on DynamoDB; the stack\n"
          "is one Python process and the load generator shares the machine (figures drop when the machine is busy).\n"
          "Throughput is this machine's local stack, not DynamoDB's or Lambda's; the ratio API/raw is the share of\n"
          "the storage's ceiling the API reaches with the same transactions.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.proof.burst",
                                     description=infra.proof.burst.__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every count (1.0: the issue's)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent HTTP clients (threads)")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw storage ceiling")
    parser.add_argument("--json", action="store_true")
    add_serve_arguments(parser)  # --serve: the stack's own process, started by this package
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args)
    if not 0 < args.scale <= 10 or args.clients < 1:
        parser.error("--scale in (0, 10], --clients at least 1")
    scenarios = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    results = run(scenarios, args.scale, args.clients, not args.no_raw)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, default=str))
    else:
        _print(results)
    return 1 if any(s["problems"] for s in results["scenarios"]) else 0
