"""The metered local stack the HTTP benches share (bench_signup, bench_checkin, bench_redeem, bench_ballot; the
bursts of infra/proof/burst/ start it too), and the load generator's common parts.

The local stack of ``make dev`` (infra/local/stack.py: the API, the embedded DynamoDB, the WeChat stand-in, the demo
seed) runs in its own process (this module with ``--serve``, which ``RunningStack`` starts) on free ports, fresh
tables, no data file, so the load generator does not share its interpreter; a botocore event hook on the one
DynamoDB client every model shares counts each call by operation, each cancelled transaction and each item read,
served on a meter port. The scheduler's timer is set to an hour. The load generator's users and requests are here
too; its timed runs and their report are infra/proof/bench_runs.py.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = timezone(timedelta(hours=8))
REPEATS = 3  # of each counted request
TABLE_PREFIX = "tongxin-dev"  # the local stack's (started with no TABLE_PREFIX of its own)
SETUP_THREADS = 8  # the untimed set-up's requests in flight
BACKGROUND = {"sender", "scheduler"}  # the stack's threads that are not the API's (infra/local/stack.py)


# --- the stack's process (--serve) --------------------------------------------------------------------

class DynamoMeter:
    """Counts the API's DynamoDB calls on one botocore client by operation (the sender's and the scheduler's,
    delivering messages meanwhile, apart as ``background``); ``cancelled``: transactions whose conditions failed
    (TransactionCanceledException), ``attempts``: HTTP requests sent (retries included), ``items_read``: the items
    the answers carried (GetItem, BatchGetItem, Query, TransactGetItems)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls, self.background, self.cancelled, self.attempts, self.items_read = Counter(), Counter(), 0, 0, 0

    def after_call(self, http_response=None, parsed=None, model=None, **_):
        if threading.current_thread().name in BACKGROUND:
            with self.lock:
                self.background[model.name] += 1
            return
        parsed = parsed or {}
        read = 1 if "Item" in parsed else len(parsed.get("Items") or ())
        responses = parsed.get("Responses")
        if isinstance(responses, dict):  # BatchGetItem: table → items
            read += sum(len(items) for items in responses.values())
        elif isinstance(responses, list):  # TransactGetItems: one entry a key, an empty one when missing
            read += sum(1 for entry in responses if entry.get("Item"))
        with self.lock:
            self.calls[model.name] += 1
            self.items_read += read
            if parsed.get("Error", {}).get("Code") == "TransactionCanceledException":
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
            return {"calls": dict(self.calls), "cancelled": self.cancelled, "attempts": self.attempts,
                    "items_read": self.items_read, "background": dict(self.background)}


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


def add_serve_arguments(parser) -> None:
    """The hidden arguments of ``--serve``: the stack's own process, started by a bench (not for direct use)."""
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    for name in ("api", "dynamodb", "wechat", "meter"):
        parser.add_argument(f"--{name}-port", type=int, default=0, help=argparse.SUPPRESS)


# --- the load generator's view of the stack ---------------------------------------------------------------

def spawn_metered_stack(stack, module: str, work: Path, timeout: float, error=SystemExit) -> dict[str, int]:
    """Start ``python -m <module> --serve`` on free ports (its log in ``work``) and wait until the API and the
    meter answer; sets ``api_url``, ``meter_url``, ``wechat_url``, ``log`` and ``process`` on ``stack`` and returns
    the ports. ``error`` is raised (with the log's end) if it exits early or stays unhealthy."""
    import requests
    from infra.local.stack import free_port
    ports = {name: free_port() for name in ("api", "dynamodb", "wechat", "meter")}
    stack.api_url, stack.meter_url = f"http://127.0.0.1:{ports['api']}", f"http://127.0.0.1:{ports['meter']}"
    stack.wechat_url = f"http://127.0.0.1:{ports['wechat']}"  # the stand-in (WECHAT_* is not passed on)
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
    """``python -m <module> --serve`` (by default this module's) on free ports, its log in ``work``."""

    def __init__(self, work: Path, module: str = "infra.proof.bench_stack"):
        import requests
        self.http = requests
        self._dynamodb = None
        ports = spawn_metered_stack(self, module, work, 90)
        self.dynamodb_url = f"http://127.0.0.1:{ports['dynamodb']}"

    def meter(self) -> dict:
        return self.http.get(self.meter_url, timeout=10).json()

    def transactions(self) -> list[dict]:
        """The TransactWriteItems the stack's client sent since the last call (the newest few thousand)."""
        return self.http.get(self.meter_url + "/transactions", timeout=30).json()

    def dynamodb(self):
        """A boto3 client of the stack's embedded DynamoDB, for the state the API cannot make and the checks'
        reads: its calls are not the stack's client's, so the meter does not see them."""
        if self._dynamodb is None:
            import boto3
            self._dynamodb = boto3.client("dynamodb", endpoint_url=self.dynamodb_url, region_name="cn-north-1",
                                          aws_access_key_id="local", aws_secret_access_key="local")
        return self._dynamodb

    @staticmethod
    def table(name: str) -> str:
        return f"{TABLE_PREFIX}-{name}"

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGINT (the stack stops and saves nothing), then a kill if it has not ended within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def start_stack(prefix: str, module: str = "infra.proof.bench_stack") -> tuple[RunningStack, float]:
    """A ``RunningStack`` with its log in a new temporary directory, and the seconds it took to answer."""
    started = time.perf_counter()
    stack = RunningStack(Path(tempfile.mkdtemp(prefix=prefix)), module)
    return stack, time.perf_counter() - started


def _delta(before: dict, after: dict) -> dict:
    calls = Counter(after["calls"])
    calls.subtract(before["calls"])
    return {"calls": {op: n for op, n in sorted(calls.items()) if n}, "total": sum(calls.values()),
            "cancelled": after["cancelled"] - before["cancelled"], "attempts": after["attempts"] - before["attempts"],
            "items_read": after.get("items_read", 0) - before.get("items_read", 0)}


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


# --- users and requests ------------------------------------------------------------------------------------

class User:
    def __init__(self, token: str, user_id: str):
        self.token, self.id = token, user_id


def _call(session, base: str, method: str, path: str, token: str | None = None, body=None, headers=None,
          params=None):
    sent = {"Authorization": f"Bearer {token}"} if token else {}
    sent.update(headers or {})
    return session.request(method, base + path, json=body, headers=sent, params=params, timeout=120)


def _expect(resp, status: int, what: str) -> dict:
    if resp.status_code != status:
        raise SystemExit(f"{what}: answered {resp.status_code}, expected {status}: {resp.text[:500]}")
    return resp.json()


def _error(resp) -> str:
    """The error envelope's code, or "" when the answer has none."""
    try:
        return resp.json().get("error", {}).get("code", "")
    except ValueError:
        return ""


def login(base: str, name: str) -> dict:
    """``POST /v1/auth/login`` as the dev user ``name``: ``{token, user}``."""
    import requests
    with requests.Session() as session:
        return _expect(_call(session, base, "POST", "/v1/auth/login", body={"code": f"dev:{name}"}), 200,
                       f"login as {name}")


def _make_user(base: str, name: str, kind: str) -> User:
    """A dev user joined to grid 1 with its invite (and registered as a volunteer for ``volunteer_service``)."""
    import requests
    logged_in = login(base, name)
    with requests.Session() as session:
        token = _expect(_call(session, base, "POST", "/v1/me/community", logged_in["token"], {"invite": "DEMOGRID1"}),
                        200, "join with DEMOGRID1")["token"]
        if kind == "volunteer_service":
            token = _expect(_call(session, base, "POST", "/v1/me/volunteer", token, {"real_name": "压测志愿者"}),
                            200, "volunteer registration")["token"]
        return User(token, logged_in["user"]["id"])


def make_users(make, count: int) -> tuple[list, float]:
    """``make(i)`` for i in 0..count-1 on ``SETUP_THREADS`` threads (the untimed set-up), and the seconds it took."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        made = list(pool.map(make, range(count)))
    return made, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    if not args.serve:
        parser.error("this module only serves the benches' stack (--serve); run a bench, e.g. python -m "
                     "infra.proof.bench_signup")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
