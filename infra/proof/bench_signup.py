"""Event sign-ups per second over HTTP on the local stack, and DynamoDB calls per sign-up, give-up and promotion
(printed, not asserted): issue 8.

    python -m infra.proof.bench_signup [--signups 100] [--clients 8] [--capacity 5000] [--kind activity] [--json]

The local stack of ``make dev`` (infra/local/stack.py: the API, the embedded DynamoDB, the WeChat stand-in, the
demo seed) runs in its own process on free ports with fresh tables and no data file, as the e2e and contention
tests start it (tests/stack.py), so the load generator does not share its interpreter. That process is this
module in ``--serve`` mode: the stack as ``make dev`` builds it, plus a botocore event hook on the one DynamoDB
client every model shares, counting each call by operation (and each cancelled transaction), read over a small
meter port. The scheduler's timer is set to an hour, so nothing else calls DynamoDB while the bench runs.

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
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = timezone(timedelta(hours=8))
REPEATS = 3  # of each counted request
PROMOTING = "give-up by a signed user + promotion of the first waitlisted"


# --- the stack's process (--serve) --------------------------------------------------------------------

class DynamoMeter:
    """Counts the DynamoDB calls of one botocore client by operation; ``cancelled``: transactions whose
    conditions failed (TransactionCanceledException), ``attempts``: HTTP requests sent (retries included)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls, self.cancelled, self.attempts = Counter(), 0, 0

    def after_call(self, http_response=None, parsed=None, model=None, **_):
        with self.lock:
            self.calls[model.name] += 1
            if (parsed or {}).get("Error", {}).get("Code") == "TransactionCanceledException":
                self.cancelled += 1

    def after_call_error(self, event_name: str = "", **_):  # no answer at all (a timeout, a refused connection)
        # botocore passes no ``model`` to this event: the operation is the event name's last part.
        with self.lock:
            self.calls[event_name.rsplit(".", 1)[-1] + " (no answer)"] += 1

    def before_send(self, **_):
        with self.lock:
            self.attempts += 1

    def snapshot(self) -> dict:
        with self.lock:
            return {"calls": dict(self.calls), "cancelled": self.cancelled, "attempts": self.attempts}


def json_endpoint(answer, host: str, port: int, name: str) -> ThreadingHTTPServer:
    """A tiny HTTP server on ``port``: every GET is answered ``answer(path)`` as JSON (the meter the load generator
    reads from the stack's process)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(answer(self.path), default=str).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


def serve(args, meter: DynamoMeter | None = None, hooks: dict | None = None, answer=None) -> int:
    """The local stack in this process until SIGINT/SIGTERM, with ``meter``'s botocore hooks (and ``hooks``:
    event name → handler) on its DynamoDB client, and ``answer(path)`` (default: the meter's snapshot) served on
    the meter port."""
    from infra.local.stack import LocalStack, StartupError
    from infra.local.stop_signals import StopSignals

    stop_signals = StopSignals().install()
    stack = LocalStack(args.host, args.api_port, args.dynamodb_port, args.wechat_port, tick_seconds=3600.0,
                       data_dir=None, fresh=True)
    try:
        stack.start()
    except StartupError as exc:
        stack.stop(save=False)
        sys.stderr.write(f"{exc}\n")
        return 1
    from tongxin.adapters.dynamo import binding
    from infra.proof.bench_raw import TransactionLog
    meter = meter or DynamoMeter()
    sent = TransactionLog()  # what the raw rate replays (infra/proof/bench_raw.py)
    events = binding.connection().client.meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", sent.before_parameter_build)
    for name, handler in {**(hooks or {}), "after-call.dynamodb": meter.after_call,
                          "after-call-error.dynamodb": meter.after_call_error,
                          "before-send.dynamodb": meter.before_send}.items():
        events.register(name, handler)
    answer = answer or (lambda _path: meter.snapshot())
    server = json_endpoint(lambda path: sent.take() if path == "/transactions" else answer(path), args.host,
                           args.meter_port, "meter")
    sys.stdout.write(stack.banner() + "\n")
    sys.stdout.flush()
    stop_signals.wait()
    server.shutdown()
    stack.stop(save=False)
    return 0


# --- the load generator ---------------------------------------------------------------------------

def _free_port() -> int:
    from infra.local.stack import free_port
    return free_port()


def add_serve_arguments(parser) -> None:
    """The hidden arguments of ``--serve``: the stack's own process, started by a bench (not for direct use)."""
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    for name in ("api", "dynamodb", "wechat", "meter"):
        parser.add_argument(f"--{name}-port", type=int, default=0, help=argparse.SUPPRESS)


def spawn_metered_stack(stack, module: str, work: Path, timeout: float, error=SystemExit) -> dict[str, int]:
    """Start ``python -m <module> --serve`` on free ports (its log in ``work``) and wait until the API and the
    meter answer; sets ``api_url``, ``meter_url``, ``log`` and ``process`` on ``stack`` and returns the ports.
    ``error`` is raised (with the log's end) if it exits early or stays unhealthy."""
    import requests
    ports = {name: _free_port() for name in ("api", "dynamodb", "wechat", "meter")}
    stack.api_url, stack.meter_url = f"http://127.0.0.1:{ports['api']}", f"http://127.0.0.1:{ports['meter']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TONGXIN_", "TABLE_", "WECHAT_"))}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers", "functions/api", ""))
    stack.log = work / "stack.log"
    stack.process = subprocess.Popen(
        [sys.executable, "-m", module, "--serve", "--api-port", str(ports["api"]),
         "--dynamodb-port", str(ports["dynamodb"]), "--wechat-port", str(ports["wechat"]),
         "--meter-port", str(ports["meter"])],
        cwd=ROOT, env=env, stdout=stack.log.open("w"), stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise error(f"the local stack exited early:\n{stack.log.read_text()[-3000:]}")
        try:
            if (requests.get(stack.api_url + "/v1/health", timeout=1).status_code == 200
                    and requests.get(stack.meter_url, timeout=1).status_code == 200):
                return ports
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stack.stop()
    raise error(f"the local stack did not become healthy in {timeout:.0f} s")


class RunningStack:
    def __init__(self, work: Path):
        import requests
        self.http = requests
        ports = spawn_metered_stack(self, "infra.proof.bench_signup", work, 90)
        self.dynamodb_url = f"http://127.0.0.1:{ports['dynamodb']}"

    def meter(self) -> dict:
        return self.http.get(self.meter_url, timeout=10).json()

    def transactions(self) -> list[dict]:
        """The TransactWriteItems the stack's client sent since the last call (the newest few thousand)."""
        return self.http.get(self.meter_url + "/transactions", timeout=30).json()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _delta(before: dict, after: dict) -> dict:
    calls = Counter(after["calls"])
    calls.subtract(before["calls"])
    return {"calls": {op: n for op, n in sorted(calls.items()) if n}, "total": sum(calls.values()),
            "cancelled": after["cancelled"] - before["cancelled"], "attempts": after["attempts"] - before["attempts"]}


class User:
    def __init__(self, token: str, user_id: str):
        self.token, self.id = token, user_id


def _call(session, base: str, method: str, path: str, token: str | None = None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return session.request(method, base + path, json=body, headers=headers, timeout=120)


def _expect(resp, status: int, what: str) -> dict:
    if resp.status_code != status:
        raise SystemExit(f"{what}: answered {resp.status_code}, expected {status}: {resp.text[:500]}")
    return resp.json()


def _make_user(base: str, name: str, kind: str) -> User:
    import requests
    with requests.Session() as session:
        login = _expect(_call(session, base, "POST", "/v1/auth/login", body={"code": f"dev:{name}"}), 200, "login")
        joined = _expect(_call(session, base, "POST", "/v1/me/community", login["token"], {"invite": "DEMOGRID1"}),
                         200, "join with DEMOGRID1")
        token = joined["token"]
        if kind == "volunteer_service":
            token = _expect(_call(session, base, "POST", "/v1/me/volunteer", token, {"real_name": "压测志愿者"}),
                            200, "volunteer registration")["token"]
        return User(token, login["user"]["id"])


def _publish(base: str, admin_token: str, kind: str, capacity: int, title: str) -> str:
    import requests
    starts = (datetime.now(SHANGHAI) + timedelta(days=3)).replace(microsecond=0)
    with requests.Session() as session:
        return _expect(_call(session, base, "POST", "/v1/events", admin_token, {
            "title": title, "kind": kind, "capacity": capacity, "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat()}), 201, "publish an event")["id"]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]  # nearest rank


def _timed_run(stack: RunningStack, event_id: str, users: list[User], clients: int) -> dict:
    """``clients`` threads, each with its own HTTP session and its share of ``users``, released together."""
    import requests
    shares = [users[i::clients] for i in range(clients)]
    ready, go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
    latencies: list[float] = []
    errors: Counter = Counter()
    outcome: Counter = Counter()
    lock = threading.Lock()

    def client(share: list[User]) -> None:
        with requests.Session() as session:
            _call(session, stack.api_url, "GET", "/v1/health")  # open the connection before the clock starts
            ready.wait()
            go.wait()
            for user in share:
                started = time.perf_counter()
                resp = _call(session, stack.api_url, "POST", f"/v1/events/{event_id}/signup", user.token)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if resp.status_code == 201:
                        outcome[resp.json()["status"]] += 1
                    else:
                        errors[f"{resp.status_code} {resp.text[:120]}"] += 1

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client, share) for share in shares]
        ready.wait()
        before = stack.meter()  # after the warm-up requests: only the sign-ups are counted
        cpu_before = stack_cpu_seconds(stack.process.pid)
        go.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - started
    cpu = stack_cpu_seconds(stack.process.pid) - cpu_before
    used = _delta(before, stack.meter())
    return {"clients": clients, "signups": len(users), "cpu_ms": round(cpu * 1000 / len(users), 2), "seconds": round(wall, 3),
            "per_second": round(len(users) / wall, 1), "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
            "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1), "outcome": dict(outcome),
            "errors": dict(errors), "dynamodb_calls_per_signup": round(used["total"] / max(1, len(users)), 2),
            "cancelled_transactions": used["cancelled"], "dynamodb_calls": used["calls"], "latencies": latencies}


def stack_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the stack's process and its children so far (the embedded DynamoDB's own
    process): what the requests cost the machine however busy it is, where requests per second depend on what else
    runs. Linux's /proc; 0 elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
            stats[int(entry.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
    family = {pid} | {child for child, (parent, _) in stats.items() if parent == pid}
    return sum(cpu for one, (_, cpu) in stats.items() if one in family)


def _combined(runs: list[dict], clients: int) -> dict:
    """The runs with ``clients`` clients as one: sign-ups over their summed wall time, latency over all requests."""
    mine = [run for run in runs if run["clients"] == clients]
    latencies = [value for run in mine for value in run["latencies"]]
    signups, seconds = sum(run["signups"] for run in mine), sum(run["seconds"] for run in mine)
    calls = sum(run["dynamodb_calls_per_signup"] * run["signups"] for run in mine)
    outcome, errors = Counter(), Counter()
    for run in mine:
        outcome.update(run["outcome"])
        errors.update(run["errors"])
    return {"clients": clients, "runs": len(mine), "signups": signups, "seconds": round(seconds, 3),
            "per_second": round(signups / seconds, 1), "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
            "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
            "dynamodb_calls_per_signup": round(calls / signups, 2), "outcome": dict(outcome), "errors": dict(errors),
            "cpu_ms": round(sum(run["cpu_ms"] * run["signups"] for run in mine) / signups, 2),
            "counters_match": all(run["event_signed_count"] == run["outcome"].get("signed", 0) for run in mine)}


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
    rows = {}
    for what, samples in seen.items():
        totals = [s["total"] for s in samples]
        rows[what] = {"calls": statistics.median(totals), "min": min(totals), "max": max(totals),
                      "by_operation": samples[-1]["calls"], "cancelled_transactions": samples[-1]["cancelled"]}
    with_promotion = rows[PROMOTING]["calls"]
    without = rows["give-up by a signed user, nobody waiting"]["calls"]
    rows["promotion (extra over a give-up with nobody waiting)"] = {"calls": with_promotion - without}
    return rows


def bench(args) -> dict:
    import requests
    from infra.proof import bench_raw
    work = Path(tempfile.mkdtemp(prefix="tongxin-bench-signup-"))
    started = time.perf_counter()
    stack = RunningStack(work)
    try:
        startup = time.perf_counter() - started
        with requests.Session() as session:
            admin = _expect(_call(session, stack.api_url, "POST", "/v1/auth/login", body={"code": "dev:admin"}),
                            200, "admin login")["token"]
        run = uuid.uuid4().hex[:6]
        plan = (1, args.clients, args.clients, 1)  # ABBA: both client counts see the tables at the same sizes
        needed = len(plan) * args.signups + 3 * REPEATS
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            users = list(pool.map(lambda i: _make_user(stack.api_url, f"bench{run}-{i}", args.kind),
                                  range(needed)))
        setup = time.perf_counter() - started
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
    combined = [_combined(runs, clients) for clients in dict.fromkeys(plan)]
    for row in combined:
        mine = [r for r in raw if r["clients"] == row["clients"]]
        rate = sum(r["transactions"] for r in mine) / sum(r["seconds"] for r in mine)
        row["raw_per_second"], row["of_raw"] = round(rate, 1), round(row["per_second"] / rate, 2)
        row["raw_refused"] = sum(r["refused"] for r in mine)
    for row in runs:
        del row["latencies"]
    return {"kind": args.kind, "capacity": args.capacity, "cpus": os.cpu_count(), "startup_s": round(startup, 1),
            "setup_s": round(setup, 1), "users_created": needed, "throughput": combined, "runs": runs, "raw": raw,
            "calls": calls}


def _print(results: dict) -> None:
    print(f"event sign-ups over HTTP on the local stack ({results['cpus']} CPUs; stack up in {results['startup_s']} "
          f"s; {results['users_created']} users logged in and joined in {results['setup_s']} s, not timed)")
    order = ", ".join(str(run["clients"]) for run in results["runs"])
    print(f"kind {results['kind']}, capacity {results['capacity']}, every sign-up by a distinct user; runs in the "
          f"order {order} clients, each on a new event:")
    print(f"  {'clients':>7} {'runs':>4} {'sign-ups':>8} {'seconds':>8} {'sign-ups/s':>10} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'calls/sign-up':>13}  outcome")
    for row in results["throughput"]:
        outcome = ", ".join(f"{k} {v}" for k, v in sorted(row["outcome"].items()))
        if row["errors"]:
            outcome += f"; ERRORS {row['errors']}"
        if not row["counters_match"]:
            outcome += "; an event's signed_count differs from the answers"
        print(f"  {row['clients']:>7} {row['runs']:>4} {row['signups']:>8} {row['seconds']:>8.2f} "
              f"{row['per_second']:>10.1f} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
              f"{row['dynamodb_calls_per_signup']:>13.2f}  {outcome}")
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
    print(f"DynamoDB calls per request (one request at a time, median of {REPEATS}; the caller's read included):")
    for what, row in results["calls"].items():
        detail = ""
        if "by_operation" in row:
            detail = f"  {row['by_operation']}"
            if row["cancelled_transactions"]:
                detail += f", {row['cancelled_transactions']} cancelled"
        spread = ""
        if row.get("min", row["calls"]) != row.get("max", row["calls"]):
            spread = f" ({row['min']}..{row['max']})"
        print(f"  {what:<64} {row['calls']:>4}{spread}{detail}")
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
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args)
    if args.signups < args.clients or args.clients < 1:
        parser.error("--signups must be at least --clients, and --clients at least 1")
    if not args.signups <= args.capacity <= 5000:
        parser.error("--capacity must be at least --signups (every timed sign-up gets a place) and at most 5000")
    results = bench(args)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        _print(results)
    failed = any(row["errors"] or not row["counters_match"] for row in results["throughput"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
