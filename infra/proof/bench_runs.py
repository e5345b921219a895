"""The HTTP benches' timed runs and their report (bench_signup, bench_checkin, bench_redeem, bench_ballot; the stack
they run against: infra/proof/bench_stack.py): ``fire`` (clients released together), ``combined`` and
``print_throughput`` (the runs of one client count as one), ``summarise_calls`` and ``print_calls`` (one request at
a time), ``report`` (JSON or printed)."""
from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from infra.proof.bench_stack import REPEATS, RunningStack, _call, _delta, stack_cpu_seconds


# --- timed runs ----------------------------------------------------------------------------------------------

def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]  # nearest rank


def latency_ms(latencies: list[float]) -> dict:
    return {f"p{n}_ms": round(_percentile(latencies, n / 100) * 1000, 1) for n in (50, 95)}


def fire(stack: RunningStack, shares: list[list], send, judge, error=lambda resp: resp.text[:120]) -> dict:
    """One thread a share, each with its own HTTP session (its connection opened before the clock starts),
    released together; each sends ``send(session, item)`` for the items of its share, one after the other.
    ``judge(response)`` names a success's outcome, or None for an error (counted as its status and ``error(resp)``).
    Returns the wall ``seconds``, the ``latencies``, ``outcome`` and ``errors`` counts, the stack's DynamoDB calls
    meanwhile (``used``, ``_delta``'s) and its CPU seconds (``cpu``)."""
    import requests
    ready, go = threading.Barrier(len(shares) + 1), threading.Barrier(len(shares) + 1)
    latencies, errors, outcome, lock = [], Counter(), Counter(), threading.Lock()

    def client(share: list) -> None:
        with requests.Session() as session:
            _call(session, stack.api_url, "GET", "/v1/health")  # open the connection before the clock starts
            ready.wait()
            go.wait()
            for item in share:
                started = time.perf_counter()
                resp = send(session, item)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    judged = judge(resp)
                    if judged is None:
                        errors[f"{resp.status_code} {error(resp)}"] += 1
                    else:
                        outcome[judged] += 1

    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        futures = [pool.submit(client, share) for share in shares]
        ready.wait()
        before = stack.meter()  # after the warm-up requests: only the run's requests are counted
        cpu_before = stack_cpu_seconds(stack.process.pid)
        go.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - started
    cpu = stack_cpu_seconds(stack.process.pid) - cpu_before
    return {"seconds": wall, "latencies": latencies, "outcome": outcome, "errors": errors,
            "used": _delta(before, stack.meter()), "cpu": cpu}


def combined(runs: list[dict], count: str, calls: str) -> dict:
    """``runs`` (of one client count) as one: ``count`` (the runs' requests field) over their summed wall time,
    latency over all requests, ``calls`` (calls per request) weighted by the runs' requests."""
    latencies = [value for run in runs for value in run["latencies"]]
    done, seconds = sum(run[count] for run in runs), sum(run["seconds"] for run in runs)
    outcome, errors = Counter(), Counter()
    for run in runs:
        outcome.update(run["outcome"])
        errors.update(run["errors"])
    return {"clients": runs[0]["clients"], "runs": len(runs), count: done, "seconds": round(seconds, 3),
            "per_second": round(done / seconds, 1), **latency_ms(latencies),
            calls: round(sum(run[calls] * run[count] for run in runs) / done, 2), "outcome": dict(outcome),
            "errors": dict(errors)}


def print_throughput(rows: list[dict], columns: list[tuple[str, str, str]], checks: dict[str, str]) -> None:
    """The table of ``combined`` rows: ``columns`` (header, key, format spec: the header takes the spec's alignment
    and width), then the outcome, the errors, and each ``checks`` note whose key is false in the row."""
    heads = [format(head, re.match(r"[<>]?\d*", spec).group() or "") for head, _, spec in columns]
    print(f"  {' '.join(heads)}  outcome")
    for row in rows:
        outcome = ", ".join(f"{k} {v}" for k, v in sorted(row["outcome"].items()))
        if row["errors"]:
            outcome += f"; ERRORS {row['errors']}"
        outcome += "".join(note for key, note in checks.items() if not row[key])
        print(f"  {' '.join(format(row[key], spec) for _, key, spec in columns)}  {outcome}")


def report(results: dict, as_json: bool, show) -> None:
    """``results`` as one line of JSON (a bench's ``--json``), else as ``show`` prints them."""
    if as_json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        show(results)


# --- calls of one request at a time ----------------------------------------------------------------------------

def summarise_calls(seen: dict[str, list[dict]]) -> dict:
    """Each request's samples (``_delta``s) as the median of their calls, their spread, and the last one's
    operations and cancelled transactions."""
    rows = {}
    for what, samples in seen.items():
        totals = [s["total"] for s in samples]
        rows[what] = {"calls": statistics.median(totals), "min": min(totals), "max": max(totals),
                      "by_operation": samples[-1]["calls"], "cancelled_transactions": samples[-1]["cancelled"]}
    return rows


def print_calls(rows: dict, width: int, also: str = "") -> None:
    """``summarise_calls``' rows (a row may carry only ``calls``; ``calls`` None with ``failed``: a request that
    never answered as expected; ``failed``: repeats that did not)."""
    print(f"DynamoDB calls per request (one request at a time, median of {REPEATS}; the caller's read included{also}):")
    for what, row in rows.items():
        if row["calls"] is None:
            print(f"  {what:<{width}}    -  FAILED: {row['failed'][0]}")
            continue
        detail = f"  {row['by_operation']}" if "by_operation" in row else ""
        if row.get("cancelled_transactions"):
            detail += f", {row['cancelled_transactions']} cancelled"
        if row.get("failed"):
            detail += f"; {len(row['failed'])} repeat(s) FAILED"
        low, high = row.get("min", row["calls"]), row.get("max", row["calls"])
        spread = f" ({low}..{high})" if low != high else ""
        print(f"  {what:<{width}} {row['calls']:>4}{spread}{detail}")
