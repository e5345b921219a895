"""Bursts that real communities make, on the local stack over HTTP, each ending with an invariant check over the
stored data (issue 13, part 1). Figures are printed, never asserted; the invariants and the answers are checked.

    python -m infra.burst [--scenario signup|checkin|redeem|all] [--scale 1.0] [--clients 16] [--no-raw] [--json]
    make burst [SCENARIO=signup] [SCALE=0.5]

The stack is ``make dev``'s (infra/local_stack.py: the API over HTTP, the embedded DynamoDB, the WeChat stand-in,
the sender on the outbox stream, the scheduler's timer set to an hour) in its own process on free ports, fresh
tables, no data file: this module in ``--serve`` mode, as infra/bench_signup.py starts it, plus a botocore hook on
the one DynamoDB client the stack's models share that counts calls by operation and, while a burst is recorded,
keeps each TransactWriteItems it sends and how it ended (the shape the raw ceiling replays).

Scenarios (at ``--scale 1.0``; counts scale, at least one of each):

- ``signup`` — an event opening for sign-up: 300 residents sign up for 100 places at once → exactly 100 signed and
  200 waitlisted at positions 1..200, all distinct; the event's ``signed_count`` and ``waitlist_count`` equal the
  stored sign-up items; the answers equal what is stored.
- ``checkin`` — 300 volunteers checking in and out of one event: the stack's clock cannot be moved from here and
  the API takes no sign-up once an event has started, so (as tests/slow/test_checkin_contention.py does) the event
  is published over HTTP, its stored times moved to "started an hour ago, ends in an hour" and its 300 sign-ups
  written in the stack's DynamoDB in the shape the API writes them (infra/bench_checkin.py's helpers). Then 300
  check-ins over HTTP at once, every third volunteer's scan sent twice at the same moment (a double tap: 400
  requests) → 300 check-ins and 100 ALREADY_CHECKED_IN; then each stored check-in time is moved back (a check-out
  within 2 minutes of the check-in is refused as a double scan, and nobody waits): half to 1–10 minutes before
  the start (their minutes are clipped at the start), half to 20–49 minutes ago; then the check-outs the same way
  → 300 check-outs and 100 ALREADY_CHECKED_OUT: every attendance credited once (one ``checkout:<event>`` ledger
  entry each, of the points answered), minutes clipped to the event's window, ``volunteer_minutes`` raised by
  exactly the minutes, balance == sum(ledger) for every volunteer. The codes are the organiser's rotating codes,
  made as the stack makes them (``tongxin.domain.checkin.make_code`` with the dev ``CHECKIN_SECRET``), fresh for
  every scan.
- ``redeem`` — a popular item: 200 residents (1 point each, awarded over HTTP beforehand) redeem one unit of an
  item of stock 20 at once → exactly 20 answered 201, 180 answered 409 OUT_OF_STOCK and nothing else; stock 0;
  20 pending redemptions of the item stored, the 201s' ids; one ``redeem#`` entry of -1 for each winner and none
  for the others; balance == sum(ledger) ≥ 0 for every buyer.

Every answer must be a documented status of its route (docs/api.md) with the error envelope
``{"error": {"code", "message"}}`` when it is not a success: zero 5xx (503 included), zero answers outside the
envelope. After each scenario, ``infra.invariants.check`` (every invariant of design.md over every table) runs too
when it is there — after the redemptions with the item's issued stock, so that its stock must be exact.

Each burst: ``--clients`` threads (one ``requests.Session`` each, its connection opened before the clock starts),
released together, each firing its share of the requests one after the other. Printed per scenario: requests,
seconds, throughput, p50/p95 latency, the status histogram, DynamoDB calls per request, and the raw storage
ceiling measured in the same run: one TransactWriteItems per request of the burst, each one of the burst's
committed transactions (cycled) — the API's own items, update expressions and values, so the same actions, number
of items and sizes — under new keys in scratch copies of the tables (same key schemas and stream settings; dropped
afterwards), sent straight to the embedded DynamoDB by as many threads (one boto3 client each) → the ratio
API/raw. An item several committed transactions wrote (an event's counter, the item's stock) keeps one key, and
the API's condition on it (which read the real item) becomes a guard letting through as many as the burst
committed on it — so 20 of 200 redemptions commit; a double tap replays its twin's keys and is refused by the
guards as the API refused it (see ``_raw_item``). The raw transactions do only the writes; the API also
authenticates, reads and answers over HTTP. At the same concurrency the embedded DynamoDB has up to ``--clients``
raw requests queued at its one lock, which its Python threads serve less well than the API's fewer, spread-out
calls: where the storage is the bottleneck (check-out: 20 items a transaction) the ratio is near 1 and may pass it.

Caveat: the embedded DynamoDB applies one request at a time (infra/embedded_dynamodb.py): concurrent writes of one
item queue there instead of conflicting and being retried as on DynamoDB; the stack is one Python process and the
load generator shares the machine. Throughput is this machine's local stack at the moment of the run, not
DynamoDB's or Lambda's.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from infra.bench_checkin import _started_event, _write_signups  # also puts layers/ on sys.path
from infra.bench_redeem import _open_shop
from infra.bench_signup import ROOT, SHANGHAI, DynamoMeter, User, _call, _delta, _expect, _make_user, _percentile

SCENARIOS = ("signup", "checkin", "redeem")
FULL = {"signup": (300, 100), "checkin": (300, None), "redeem": (200, 20)}  # (requests, places or stock)
CLIENTS = 16
SETUP_THREADS = 8
TABLE_PREFIX = "tongxin-dev"  # the local stack's (started with no TABLE_PREFIX of its own)
POINTS_PER_HOUR = 10  # bench_checkin's events
DOUBLE_EVERY = 3  # every third volunteer's check-in and check-out scan is sent twice at once
BACKGROUND = {"sender", "scheduler"}  # the stack's threads that are not the API's (infra/local_stack.py)

# What each route may answer (docs/api.md): its successes, its 4xx codes, and the contract's general ones.
COMMON = {400: {"VALIDATION_FAILED"}, 401: {"UNAUTHENTICATED"}, 403: {"FORBIDDEN"}, 404: {"NOT_FOUND"},
          409: {"NOT_IN_COMMUNITY"}, 429: {"RATE_LIMITED"}}
DOCUMENTED = {
    "signup": ({201}, {409: {"SIGNUP_CLOSED", "ALREADY_SIGNED_UP"}}),
    "checkin": ({200}, {409: {"OUTSIDE_TIME_WINDOW", "OUTSIDE_GEOFENCE", "CODE_EXPIRED", "NOT_SIGNED_UP",
                              "EVENT_FULL", "ALREADY_CHECKED_IN", "ALREADY_CHECKED_OUT"},
                        400: {"CODE_INVALID"}, 404: {"CODE_INVALID"}}),
    "redeem": ({201}, {409: {"INSUFFICIENT_POINTS", "OUT_OF_STOCK", "LIMIT_EXCEEDED", "OFF_SHELF"}}),
}


# --- the stack's process (--serve) --------------------------------------------------------------------

class Recorder(DynamoMeter):
    """DynamoMeter's counts of the API's calls (the sender's and the scheduler's threads counted apart, as
    ``background``), plus — while recording — every TransactWriteItems sent (its items as sent, the thread that
    sent it) and how it ended: ``ok``, or the error code (``TransactionCanceledException``: a failed condition)."""

    def __init__(self):
        super().__init__()
        self.recording, self.transactions, self.background = False, [], Counter()

    def before_parameter_build(self, params=None, context=None, **_):
        if self.recording and context is not None:
            context["burst_items"] = (params or {}).get("TransactItems")

    def after_call(self, http_response=None, parsed=None, model=None, context=None, **kwargs):
        thread = threading.current_thread().name
        if thread in BACKGROUND:
            with self.lock:
                self.background[model.name] += 1
        else:
            super().after_call(http_response=http_response, parsed=parsed, model=model, **kwargs)
        items = (context or {}).pop("burst_items", None)
        if items is not None:
            code = (parsed or {}).get("Error", {}).get("Code")
            with self.lock:
                if self.recording:
                    self.transactions.append({"items": items, "outcome": code or "ok", "thread": thread})

    def snapshot(self) -> dict:
        taken = super().snapshot()
        with self.lock:
            taken["background"] = dict(self.background)
        return taken

    def record(self, on: bool) -> list:
        with self.lock:
            taken, self.transactions, self.recording = self.transactions, [], on
        return taken


def _recorder_server(recorder: Recorder, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/record/start":
                recorder.record(True)
                payload = {"recording": True}
            elif self.path == "/record/stop":
                payload = {"transactions": recorder.record(False)}
            else:
                payload = recorder.snapshot()
            body = json.dumps(payload, default=str).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="recorder", daemon=True).start()
    return server


def serve(args) -> int:
    from infra.local_stack import LocalStack, StartupError

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stack = LocalStack(args.host, args.api_port, args.dynamodb_port, args.wechat_port, tick_seconds=3600.0,
                       data_dir=None, fresh=True)
    try:
        stack.start()
    except StartupError as exc:
        stack.stop(save=False)
        sys.stderr.write(f"{exc}\n")
        return 1
    from tongxin.adapters.dynamo import binding
    recorder = Recorder()
    events = binding.connection().client.meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", recorder.before_parameter_build)
    events.register("after-call.dynamodb", recorder.after_call)
    events.register("after-call-error.dynamodb", recorder.after_call_error)
    events.register("before-send.dynamodb", recorder.before_send)
    server = _recorder_server(recorder, args.host, args.meter_port)
    sys.stdout.write(stack.banner() + "\n")
    sys.stdout.flush()
    while not stopping.wait(0.5):  # short steps: a signal delivered to another thread still ends the wait
        pass
    server.shutdown()
    stack.stop(save=False)
    return 0


# --- the load generator's view of the stack -------------------------------------------------------------

class BurstStack:
    """The stack process (``python -m infra.burst --serve``) on free ports; its log in ``work``."""

    def __init__(self, work: Path, timeout: float = 90.0):
        import requests

        from infra.local_stack import free_port
        self.http = requests
        ports = {name: free_port() for name in ("api", "dynamodb", "wechat", "meter")}
        self.api_url, self.meter_url = f"http://127.0.0.1:{ports['api']}", f"http://127.0.0.1:{ports['meter']}"
        self.dynamodb_url = f"http://127.0.0.1:{ports['dynamodb']}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TONGXIN_", "TABLE_", "WECHAT_"))}
        env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers", "functions/api", ""))
        self.log = work / "stack.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.burst", "--serve", "--api-port", str(ports["api"]),
             "--dynamodb-port", str(ports["dynamodb"]), "--wechat-port", str(ports["wechat"]),
             "--meter-port", str(ports["meter"])],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, text=True)
        self._client = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if (requests.get(self.api_url + "/v1/health", timeout=1).status_code == 200
                        and requests.get(self.meter_url, timeout=1).status_code == 200):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the local stack did not become healthy in {timeout:.0f} s")

    def dynamodb(self):
        """A boto3 client of the stack's embedded DynamoDB (thread-safe; one for the reads of the checks)."""
        if self._client is None:
            self._client = new_dynamodb_client(self.dynamodb_url)
        return self._client

    @staticmethod
    def table(name: str) -> str:
        return f"{TABLE_PREFIX}-{name}"

    def meter(self) -> dict:
        return self.http.get(self.meter_url, timeout=30).json()

    def record(self, on: bool) -> list:
        answer = self.http.get(self.meter_url + ("/record/start" if on else "/record/stop"), timeout=60).json()
        return answer.get("transactions", [])

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def new_dynamodb_client(url: str):
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", endpoint_url=url, region_name="cn-north-1", aws_access_key_id="local",
                        aws_secret_access_key="local",
                        config=Config(max_pool_connections=32, retries={"max_attempts": 1, "mode": "standard"}))


class People:
    """Volunteers of the demo community (logged in, joined to grid 1, registered as volunteers over HTTP), made
    as the scenarios need them and shared between them (a volunteer is a resident too)."""

    def __init__(self, stack: BurstStack, run: str):
        self.stack, self.run, self.users, self.setup_seconds = stack, run, [], 0.0

    def take(self, count: int) -> list[User]:
        missing = count - len(self.users)
        if missing > 0:
            started = time.perf_counter()
            first = len(self.users)
            with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
                self.users += pool.map(lambda i: _make_user(self.stack.api_url, f"burst{self.run}-{i}",
                                                            "volunteer_service"), range(first, first + missing))
            self.setup_seconds += time.perf_counter() - started
        return self.users[:count]


# --- a burst -------------------------------------------------------------------------------------------

@dataclass
class Answer:
    user: User
    status: int
    body: object  # the JSON answer, or None when it was not JSON
    text: str
    seconds: float

    @property
    def code(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) and self.status >= 400 else ""

    def label(self) -> str:
        """The histogram's key: the status, and the error code or the answer's ``status``/``action``."""
        if self.status >= 400:
            return f"{self.status} {self.code}".strip()
        if isinstance(self.body, dict):
            return f"{self.status} {self.body.get('action') or self.body.get('status') or ''}".strip()
        return str(self.status)


@dataclass
class Burst:
    route: str
    answers: list[Answer]
    seconds: float
    calls: dict
    transactions: list = field(default_factory=list)  # as the stack sent them, with their outcome
    label: str = ""  # the phase (check-in, check-out) when a scenario has more than one burst

    def summary(self) -> dict:
        latencies = [a.seconds for a in self.answers]
        histogram = Counter(a.label() for a in self.answers)
        return {"requests": len(self.answers), "seconds": round(self.seconds, 3),
                "per_second": round(len(self.answers) / self.seconds, 1),
                "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
                "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
                "histogram": dict(sorted(histogram.items())),
                "dynamodb_calls_per_request": round(self.calls["total"] / max(1, len(self.answers)), 2),
                "dynamodb_calls": self.calls["calls"], "cancelled_transactions": self.calls["cancelled"]}


def _fire(stack: BurstStack, route: str, requests_: list[tuple[User, str, str, object]], clients: int) -> Burst:
    """``clients`` threads, one HTTP session each, released together; thread i sends requests i, i+clients, ...
    one after the other. A request is (user, method, path, body); a callable body is called at send time."""
    import requests
    clients = max(1, min(clients, len(requests_)))
    ready, go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
    answers: list[Answer | None] = [None] * len(requests_)

    def client(first: int) -> None:
        with requests.Session() as session:
            _call(session, stack.api_url, "GET", "/v1/health")  # open the connection before the clock starts
            ready.wait()
            go.wait()
            for index in range(first, len(requests_), clients):
                user, method, path, body = requests_[index]
                sent = body() if callable(body) else body
                started = time.perf_counter()
                try:
                    resp = _call(session, stack.api_url, method, path, user.token, sent)
                except requests.RequestException as exc:  # no answer at all: counted, not raised
                    answers[index] = Answer(user, 0, None, f"no answer: {exc}", time.perf_counter() - started)
                    continue
                elapsed = time.perf_counter() - started
                try:
                    parsed = resp.json()
                except ValueError:
                    parsed = None
                answers[index] = Answer(user, resp.status_code, parsed, resp.text[:300], elapsed)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        ready.wait()
        before = stack.meter()  # after the warm-up requests: only the burst is counted
        stack.record(True)
        go.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - started
    transactions = stack.record(False)
    return Burst(route, answers, wall, _delta(before, stack.meter()), transactions)


def undocumented(burst: Burst) -> list[str]:
    """Every answer that is not a documented status of its route with the error envelope (5xx always)."""
    successes, codes = DOCUMENTED[burst.route]
    problems = Counter()
    for a in burst.answers:
        if a.status in successes:
            if not isinstance(a.body, dict):
                problems[f"{a.status} without a JSON object: {a.text[:120]}"] += 1
            continue
        error = a.body.get("error") if isinstance(a.body, dict) else None
        if a.status >= 500 or a.status < 100:
            problems[f"{a.status or 'no answer'}: {a.text[:160]}"] += 1
        elif not (isinstance(error, dict) and isinstance(error.get("code"), str)
                  and isinstance(error.get("message"), str) and error["message"]):
            problems[f"{a.status} outside the error envelope: {a.text[:160]}"] += 1
        elif error["code"] not in codes.get(a.status, set()) | COMMON.get(a.status, set()):
            problems[f"{a.status} {error['code']}: not a documented answer of this route"] += 1
    return [f"{text} (×{n})" for text, n in problems.items()]


# --- the raw storage ceiling -----------------------------------------------------------------------------

_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b")
_TOKEN = re.compile(r"[#:][A-Za-z0-9_]+")
GUARD = "attribute_not_exists(#burst_n) OR #burst_n < :burst_limit"


def _item_key(op: str, body: dict, schema: dict) -> tuple:
    attrs = body["Item"] if op == "Put" else body["Key"]
    return tuple(json.dumps(attrs.get(name), sort_keys=True) for name, _ in schema[body["TableName"]])


def shape_of(transactions: list[dict], schema: dict) -> list[list[dict]]:
    """The burst's committed transactions (those the API's request threads sent: not the sender's or the
    scheduler's), each item as {op, body, table, shared, times}: ``shared`` is an index for an item several
    committed transactions wrote (an event's counters, the item's stock), None for one written once (a fresh key
    in the replay); ``times`` how many committed transactions wrote it."""
    committed = [t["items"] for t in transactions if t["outcome"] == "ok" and t.get("thread") not in BACKGROUND]
    seen = Counter()
    for items in committed:
        for entry in items:
            (op, body), = entry.items()
            seen[(body["TableName"], _item_key(op, body, schema))] += 1
    shared = {key: index for index, key in enumerate(k for k, n in seen.items() if n > 1)}
    shapes = []
    for items in committed:
        shape = []
        for entry in items:
            (op, body), = entry.items()
            key = (body["TableName"], _item_key(op, body, schema))
            shape.append({"op": op, "body": body, "table": body["TableName"], "shared": shared.get(key),
                          "times": seen[key], "position": len(shape)})
        shapes.append(shape)
    return shapes


def describe_shapes(shapes: list[list[dict]]) -> list[str]:
    """``n × [Put signups, Update events (shared) ...]`` for each distinct shape, most frequent first."""
    def one(shape):
        return ", ".join(f"{s['op']} {s['table'].removeprefix(TABLE_PREFIX + '-')}"
                         + (" (shared)" if s["shared"] is not None else "") for s in shape)
    counted = Counter(one(shape) for shape in shapes)
    return [f"{n} × [{text}]" for text, n in counted.most_common()]


def table_schemas(client, transactions: list[dict]) -> tuple[dict, dict]:
    """Per table the burst wrote: [(key attribute, type)], and the create_table arguments of a scratch copy (its
    keys and stream setting; no indexes: moto maintains none on write)."""
    tables = {body["TableName"] for t in transactions for entry in t["items"] for body in entry.values()}
    schema, create = {}, {}
    for name in tables:
        table = client.describe_table(TableName=name)["Table"]
        types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
        keys = sorted(table["KeySchema"], key=lambda k: k["KeyType"])  # HASH before RANGE
        schema[name] = [(k["AttributeName"], types[k["AttributeName"]]) for k in keys]
        args = {"KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys],
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in schema[name]],
                "BillingMode": "PAY_PER_REQUEST"}
        if table.get("StreamSpecification", {}).get("StreamEnabled"):
            args["StreamSpecification"] = table["StreamSpecification"]
        create[name] = args
    return schema, create


def _raw_key(schema: list[tuple[str, str]], token: str) -> dict:
    return {name: ({"S": f"raw-{token}"} if kind == "S" else {"N": str(abs(hash(token)) % 10 ** 12)}
                   if kind == "N" else {"B": token.encode()}) for name, kind in schema}


def _with_counter(expression: str) -> str:
    """The update expression, also adding 1 to ``#burst_n`` (in its ADD clause: one clause of a kind)."""
    parts = _CLAUSE.split(expression)
    clauses = [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts), 2)]
    if any(kind == "ADD" for kind, _ in clauses):
        clauses = [(kind, f"{text}, #burst_n :burst_one" if kind == "ADD" else text) for kind, text in clauses]
    else:
        clauses.append(("ADD", "#burst_n :burst_one"))
    return " ".join(f"{kind} {text}" for kind, text in clauses)


def _raw_item(slot: dict, scratch: dict, schema: dict, run: str, seed: str) -> dict:
    """The item as the API sent it — same update expression, values and item — on a scratch table under a new
    key (the same new key for a shared item). A condition of the API's (which reads the real item) becomes
    ``GUARD``, which holds until the item was written ``times`` times, as many as the burst committed on it."""
    op, body = slot["op"], json.loads(json.dumps(slot["body"]))
    table = slot["table"]
    token = f"shared-{slot['shared']}" if slot["shared"] is not None else f"{seed}-{slot['position']}"
    key = _raw_key(schema[table], f"{run}-{token}")
    body["TableName"] = scratch[table]
    if op == "Put":
        body["Item"].update(key)
    else:
        body["Key"] = key
    names, values = dict(body.pop("ExpressionAttributeNames", {})), dict(body.pop("ExpressionAttributeValues", {}))
    guarded = body.pop("ConditionExpression", None) is not None
    if op == "Update":
        body["UpdateExpression"] = _with_counter(body["UpdateExpression"])
        values[":burst_one"] = {"N": "1"}
    if guarded and op == "Put":
        body["ConditionExpression"] = f"attribute_not_exists(#burst_k)"
        names["#burst_k"] = schema[table][0][0]
    elif guarded:
        body["ConditionExpression"] = GUARD
        values[":burst_limit"] = {"N": str(slot["times"] if op == "Update" else 10 ** 9)}
    if op in ("Update", "ConditionCheck"):
        names["#burst_n"] = "burst_n"
    used = set(_TOKEN.findall(" ".join(body.get(k, "") for k in ("UpdateExpression", "ConditionExpression"))))
    if names := {k: v for k, v in names.items() if k in used}:
        body["ExpressionAttributeNames"] = names
    if values := {k: v for k, v in values.items() if k in used}:
        body["ExpressionAttributeValues"] = values
    return {op: body}


def raw_ceiling(stack: BurstStack, transactions: list[dict], owners: list[str], clients: int) -> dict:
    """One TransactWriteItems per request of the burst (``owners``: the user of each, in order), of the burst's
    committed ones (cycled), from ``clients`` threads with a boto3 client each, into scratch tables with the same
    key schemas (dropped afterwards). A user's second request (a double tap) replays the same items as the first,
    so its guards refuse it as the API refused the second scan."""
    count = len(owners)
    from botocore.exceptions import ClientError
    client = stack.dynamodb()
    schema, create = table_schemas(client, transactions)
    shapes = shape_of(transactions, schema)
    if not shapes:
        return {"transactions": 0, "note": "the burst committed no transaction"}
    run = uuid.uuid4().hex[:8]
    scratch = {name: f"burstraw-{run}-{name.removeprefix(TABLE_PREFIX + '-')}" for name in create}
    for name, args in create.items():
        client.create_table(TableName=scratch[name], **args)
    try:
        planned, first = [], {}
        for owner in owners:
            if owner not in first:
                first[owner] = (shapes[len(first) % len(shapes)], uuid.uuid4().hex)
            shape, seed = first[owner]
            planned.append([_raw_item(slot, scratch, schema, run, seed) for slot in shape])
        clients = max(1, min(clients, count))
        own = [new_dynamodb_client(stack.dynamodb_url) for _ in range(clients)]
        ready, go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
        latencies: list[float] = []
        outcome: Counter = Counter()
        lock = threading.Lock()

        def worker(index: int) -> None:
            mine = own[index]
            mine.describe_table(TableName=next(iter(scratch.values())))  # open the connection first
            ready.wait()
            go.wait()
            for items in planned[index::clients]:
                started = time.perf_counter()
                try:
                    mine.transact_write_items(TransactItems=items)
                    result = "committed"
                except ClientError as exc:
                    error = exc.response.get("Error", {})
                    result = "cancelled (condition)" if error.get("Code") == "TransactionCanceledException" \
                        else f"{error.get('Code')}: {error.get('Message', '')[:100]}"
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    outcome[result] += 1

        with ThreadPoolExecutor(max_workers=clients) as pool:
            futures = [pool.submit(worker, i) for i in range(clients)]
            ready.wait()
            go.wait()
            started = time.perf_counter()
            for future in futures:
                future.result()
            wall = time.perf_counter() - started
    finally:
        for name in scratch.values():
            client.delete_table(TableName=name)
    return {"transactions": count, "seconds": round(wall, 3), "per_second": round(count / wall, 1),
            "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
            "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1), "outcome": dict(outcome),
            "items_per_transaction": dict(Counter(len(s) for s in shapes)), "shapes": describe_shapes(shapes)}


# --- reading what was stored ------------------------------------------------------------------------------

def _pages(call, **kwargs) -> list[dict]:
    items, start = [], None
    while True:
        page = call(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _number(item: dict, name: str, default: int = 0) -> int:
    return int(item[name]["N"]) if name in item else default


def stored_signups(stack: BurstStack, event_id: str) -> dict[str, dict]:
    client = stack.dynamodb()
    items = _pages(client.query, TableName=stack.table("signups"), KeyConditionExpression="event_id = :e",
                   ExpressionAttributeValues={":e": {"S": event_id}}, ConsistentRead=True)
    return {item["user_id"]["S"]: item for item in items}


def stored_item(stack: BurstStack, table: str, key: dict) -> dict | None:
    return stack.dynamodb().get_item(TableName=stack.table(table), Key=key, ConsistentRead=True).get("Item")


def ledger_of(stack: BurstStack, user_id: str) -> list[dict]:
    return _pages(stack.dynamodb().query, TableName=stack.table("ledger"), KeyConditionExpression="user_id = :u",
                  ExpressionAttributeValues={":u": {"S": user_id}}, ConsistentRead=True)


def accounts(stack: BurstStack, users: list[User]) -> dict[str, dict]:
    """Per user: the stored balance, minutes and the ledger (consistent reads, 8 at a time)."""
    def one(user: User) -> tuple[str, dict]:
        item = stored_item(stack, "users", {"id": {"S": user.id}}) or {}
        return user.id, {"balance": _number(item, "points_balance", None),
                         "minutes": _number(item, "volunteer_minutes"), "ledger": ledger_of(stack, user.id)}
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        return dict(pool.map(one, users))


def books_problems(found: dict[str, dict]) -> list[str]:
    """balance == sum(ledger) ≥ 0 for every user, and no ledger entry key twice (a source credited once)."""
    problems = []
    for uid, account in found.items():
        amounts = [int(e["amount"]["N"]) for e in account["ledger"]]
        if account["balance"] != sum(amounts) or sum(amounts) < 0:
            problems.append(f"{uid}: balance {account['balance']} but sum(ledger) = {sum(amounts)}")
        sources = Counter((e["kind"]["S"], e["source"]["S"]) for e in account["ledger"])
        twice = [s for s, n in sources.items() if n > 1]
        if twice:
            problems.append(f"{uid}: sources credited more than once: {twice}")
    return problems


def balanced(found: dict[str, dict]) -> int:
    """How many of the users have a stored balance equal to the sum of their ledger."""
    return sum(1 for a in found.values() if a["balance"] == sum(int(e["amount"]["N"]) for e in a["ledger"]))


def invariants(stack: BurstStack, **kwargs) -> tuple[list[str] | None, str]:
    """infra.invariants.check over every table, when it is there: (violations, note)."""
    try:
        from infra.invariants import check
    except ImportError:
        return None, "infra/invariants.py absent: not run"
    started = time.perf_counter()
    try:
        found = check(stack.dynamodb(), stack.table, **kwargs)
    except NotImplementedError:
        return None, "infra.invariants.check not written yet: not run"
    return list(found), f"infra.invariants.check: {len(found)} violation(s) in {time.perf_counter() - started:.1f} s"


def _finish(result: dict, stack: BurstStack, bursts: list[Burst], raw: bool, clients: int, **checker) -> dict:
    """Envelope check, the invariant checker (``checker``: its options), the raw ceiling; ``problems`` is
    everything that failed."""
    for burst in bursts:
        result["problems"] += undocumented(burst)
    found, note = invariants(stack, **checker)
    result["invariants"], result["invariants_note"] = found, note
    result["problems"] += [f"invariant: {v}" for v in found or []]
    requests_ = sum(len(b.answers) for b in bursts)
    seconds = sum(b.seconds for b in bursts)
    latencies = [a.seconds for b in bursts for a in b.answers]
    result["api"] = {"requests": requests_, "seconds": round(seconds, 3), "per_second": round(requests_ / seconds, 1),
                     "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
                     "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1)}
    result["bursts"] = {b.label or b.route: b.summary() for b in bursts}
    if raw:
        ceilings = [raw_ceiling(stack, b.transactions, [a.user.id for a in b.answers], clients) for b in bursts]
        raw_seconds = sum(c.get("seconds", 0) for c in ceilings)
        result["raw"] = {"phases": ceilings, "transactions": sum(c["transactions"] for c in ceilings),
                         "seconds": round(raw_seconds, 3)}
        if raw_seconds:
            result["raw"]["per_second"] = round(result["raw"]["transactions"] / raw_seconds, 1)
            result["ratio"] = round(result["api"]["per_second"] / result["raw"]["per_second"], 3)
    return result


# --- the scenarios ---------------------------------------------------------------------------------------

def _scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def _admin(stack: BurstStack) -> User:
    import requests
    with requests.Session() as session:
        login = _expect(_call(session, stack.api_url, "POST", "/v1/auth/login", body={"code": "dev:admin"}), 200,
                        "admin login")
    return User(login["token"], login["user"]["id"])


def signup(stack: BurstStack, people: People, scale: float = 1.0, clients: int = CLIENTS, raw: bool = True) -> dict:
    """300 sign-ups for 100 places at once (scaled): exactly the places signed, the rest waitlisted at distinct
    positions 1..n, counters equal to the items, answers equal to what is stored."""
    count, places = _scaled(FULL["signup"][0], scale), _scaled(FULL["signup"][1], scale)
    users = people.take(count)
    admin = _admin(stack)
    starts = (datetime.now(SHANGHAI) + timedelta(days=3)).replace(microsecond=0)
    import requests
    with requests.Session() as session:
        event_id = _expect(_call(session, stack.api_url, "POST", "/v1/events", admin.token, {
            "title": "报名高峰：社区运动会", "kind": "activity", "capacity": places,
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "description": "开放报名即刻爆满"}), 201, "publish the event")["id"]
    order = list(users)
    random.shuffle(order)
    burst = _fire(stack, "signup", [(u, "POST", f"/v1/events/{event_id}/signup", None) for u in order], clients)

    result = {"scenario": "signup", "people": count, "places": places, "clients": clients, "problems": []}
    problems = result["problems"]
    expected = {"201 signed": places, "201 waitlisted": count - places}
    histogram = Counter(a.label() for a in burst.answers)
    if histogram != Counter({k: v for k, v in expected.items() if v}):
        problems.append(f"answers {dict(histogram)}, expected {expected}")
    items = stored_signups(stack, event_id)
    event = stored_item(stack, "events", {"id": {"S": event_id}}) or {}
    by_status = Counter(item["status"]["S"] for item in items.values())
    waiting = {uid: _number(item, "position") for uid, item in items.items() if item["status"]["S"] == "waitlisted"}
    positions = sorted(waiting.values())
    result["stored"] = {"items": len(items), "by_status": dict(by_status),
                        "signed_count": _number(event, "signed_count"),
                        "waitlist_count": _number(event, "waitlist_count"), "capacity": _number(event, "capacity"),
                        "positions_distinct": len(set(positions)) == len(positions),
                        "positions": [positions[0], positions[-1]] if positions else []}
    if by_status != Counter({"signed": places, "waitlisted": count - places}) or len(items) != count:
        problems.append(f"stored sign-ups {dict(by_status)} ({len(items)} items), expected {places} signed and "
                        f"{count - places} waitlisted")
    if (result["stored"]["signed_count"], result["stored"]["waitlist_count"]) != \
            (by_status["signed"], by_status["waitlisted"]):
        problems.append(f"event counters signed {result['stored']['signed_count']} / waitlisted "
                        f"{result['stored']['waitlist_count']} differ from the items {dict(by_status)}")
    if positions != list(range(1, count - places + 1)):
        twice = sorted(p for p, n in Counter(positions).items() if n > 1)
        problems.append(f"waitlist positions not 1..{count - places} each once: {len(positions)} stored, "
                        f"{positions[:1] + positions[-1:]} first and last, duplicated {twice[:5]}")
    answered = {a.user.id: a.body for a in burst.answers if isinstance(a.body, dict) and a.status == 201}
    differing = [uid for uid, body in answered.items()
                 if uid not in items or body.get("status") != items[uid]["status"]["S"]
                 or (body.get("status") == "waitlisted" and body.get("position") != waiting.get(uid))]
    if differing:
        problems.append(f"{len(differing)} answers differ from the stored sign-up (e.g. {differing[0]})")
    return _finish(result, stack, [burst], raw, clients)


def _make_scan_code(event_id: str):
    from tongxin.config import DEV_CHECKIN_SECRET
    from tongxin.domain import checkin
    return lambda: {"code": checkin.make_code(DEV_CHECKIN_SECRET, event_id, "rotating",
                                              checkin.step_of(datetime.now(timezone.utc)))}


def _count_signups(client, event, signed: int) -> None:
    """The community's event statistics, as the sign-ups' transactions would have counted them
    (``usecases/events/signups.count``): bench_checkin's written sign-ups bump only the event's ``signed_count``,
    and the invariant checker holds the statistics counters to the items."""
    from tongxin.domain import events as event_rules
    named = event_rules.stats_deltas({"signups": signed, "signed": signed})
    for key in event_rules.stats_keys(event.community_id, event.created_at):
        client.update_item(
            TableName=BurstStack.table("counters"), Key={"key": {"S": key}},
            UpdateExpression="ADD " + ", ".join(f"#n{i} :n{i}" for i in range(len(named))),
            ExpressionAttributeNames={f"#n{i}": name for i, name in enumerate(named)},
            ExpressionAttributeValues={f":n{i}": {"N": str(amount)} for i, amount in enumerate(named.values())})


def _scans(users: list[User], code) -> list[tuple]:
    """One scan each, in a random order; every third volunteer's scan sent twice at the same moment (adjacent
    requests go to two threads released together): a double tap, which must be refused, not counted twice."""
    order = list(users)
    random.shuffle(order)
    scans = []
    for index, user in enumerate(order):
        scans += [(user, "POST", "/v1/checkins", code)] * (2 if index % DOUBLE_EVERY == 0 else 1)
    return scans


def _move_check_in(client, event_id: str, user_id: str, at: datetime) -> None:
    """The check-in happened at ``at``: rewrite the time it stored (see the module's docstring)."""
    from pynamodb.attributes import UTCDateTimeAttribute
    stamp = {"S": UTCDateTimeAttribute().serialize(at)}
    client.update_item(
        TableName=BurstStack.table("signups"), Key={"event_id": {"S": event_id}, "user_id": {"S": user_id}},
        UpdateExpression="SET checked_in_at = :at, attended_at = :at", ConditionExpression="#s = :in",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":at": stamp, ":in": {"S": "checked_in"}})


def _parse_time(value: str) -> datetime:
    from pynamodb.attributes import UTCDateTimeAttribute
    return UTCDateTimeAttribute().deserialize(value)


def checkin(stack: BurstStack, people: People, scale: float = 1.0, clients: int = CLIENTS, raw: bool = True) -> dict:
    """300 volunteers check in at once, then out at once (scaled): each credited once, minutes clipped to the
    event's window, minutes on the user raised by exactly those, balance == sum(ledger)."""
    from tongxin.domain import checkin as rules
    count = _scaled(FULL["checkin"][0], scale)
    users = people.take(count)
    admin = _admin(stack)
    client = stack.dynamodb()
    event = _started_event(stack.api_url, client, admin.token, count, "三百人签到签退：社区义诊")
    _write_signups(client, event, users, "signed")
    _count_signups(client, event, len(users))
    before = accounts(stack, users)
    code = _make_scan_code(event.id)
    arrive = _fire(stack, "checkin", _scans(users, code), clients)
    arrive.label = "check-in"

    # An hour passes: half checked in 1-10 minutes before the start (clipped there), half 20-49 minutes ago.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    arrived = {u.id: event.starts_at - timedelta(minutes=1 + i % 10) if i % 2 == 0
               else now - timedelta(minutes=20 + i % 30) for i, u in enumerate(users)}
    checked_in = {a.user.id for a in arrive.answers if a.status == 200}
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(lambda uid: _move_check_in(client, event.id, uid, arrived[uid]), checked_in))
    leave = _fire(stack, "checkin", _scans(users, code), clients)
    leave.label = "check-out"

    doubles = len(arrive.answers) - count
    result = {"scenario": "checkin", "volunteers": count, "double_scans": doubles, "clients": clients,
              "problems": [], "points_per_hour": POINTS_PER_HOUR}
    problems = result["problems"]
    for burst, action, again in ((arrive, "check_in", "ALREADY_CHECKED_IN"),
                                 (leave, "check_out", "ALREADY_CHECKED_OUT")):
        histogram = Counter(a.label() for a in burst.answers)
        expected = +Counter({f"200 {action}": count, f"409 {again}": doubles})
        if histogram != expected:
            problems.append(f"{burst.label}: answers {dict(histogram)}, expected {dict(expected)}")
        per_user = Counter(a.user.id for a in burst.answers if a.status == 200)
        if set(per_user.values()) != {1} or len(per_user) != count:
            problems.append(f"{burst.label}: not exactly one 200 per volunteer ({Counter(per_user.values())})")
    items = stored_signups(stack, event.id)
    after = accounts(stack, users)
    answered = {a.user.id: a.body["attendance"] for a in leave.answers
                if a.status == 200 and isinstance(a.body, dict) and "attendance" in a.body}
    source = f"checkout:{event.id}"
    clipped = credited = 0
    wrong: Counter = Counter()
    for user in users:
        item, account = items.get(user.id), after[user.id]
        if item is None or item["status"]["S"] != "checked_out":
            wrong["not stored as checked_out"] += 1
            continue
        checked_in_at = _parse_time(item["checked_in_at"]["S"])
        checked_out_at = _parse_time(item["checked_out_at"]["S"])
        minutes = rules.credited_minutes(checked_in_at, checked_out_at, event.starts_at, event.ends_at)
        points = rules.points_for(minutes, POINTS_PER_HOUR)
        if checked_in_at != arrived[user.id]:
            wrong["check-in time not the one written"] += 1
        if (_number(item, "minutes", None), _number(item, "points", None)) != (minutes, points):
            wrong["stored minutes/points not the window's"] += 1
        if checked_in_at < event.starts_at:
            clipped += 1
            if minutes >= int((checked_out_at - checked_in_at).total_seconds()) // 60:
                wrong["minutes before the start credited"] += 1
        shown = answered.get(user.id) or {}
        if (shown.get("minutes"), shown.get("points")) != (minutes, points):
            wrong["answered minutes/points differ from the stored"] += 1
        entries = [e for e in account["ledger"] if e["source"]["S"] == source]
        if [int(e["amount"]["N"]) for e in entries] != [points]:
            wrong[f"not one {source} ledger entry of the points"] += 1
        else:
            credited += 1
        if account["minutes"] - before[user.id]["minutes"] != minutes:
            wrong["volunteer_minutes not raised by exactly the minutes"] += 1
    problems += [f"{what}: {n} volunteer(s)" for what, n in wrong.items()]
    problems += books_problems(after)
    expected_clipped = (count + 1) // 2
    if clipped != expected_clipped:
        problems.append(f"{clipped} check-ins before the start, expected {expected_clipped}")
    result["stored"] = {"checked_out": sum(1 for i in items.values() if i["status"]["S"] == "checked_out"),
                        "credited_once": credited, "clipped_at_start": clipped,
                        "minutes": sum(_number(i, "minutes") for i in items.values()),
                        "points": sum(_number(i, "points") for i in items.values()),
                        "balance_is_sum_of_ledger": balanced(after)}
    return _finish(result, stack, [arrive, leave], raw, clients)


def redeem(stack: BurstStack, people: People, scale: float = 1.0, clients: int = CLIENTS, raw: bool = True) -> dict:
    """200 residents redeem one unit of an item of stock 20 at once (scaled): exactly the stock answered 201, the
    rest 409 OUT_OF_STOCK, stock 0, the redemptions and the ledger exact, balance == sum(ledger) ≥ 0."""
    import requests
    count, stock = _scaled(FULL["redeem"][0], scale), _scaled(FULL["redeem"][1], scale)
    users = people.take(count)
    with requests.Session() as session:
        shop = _open_shop(stack, session)
        goods_id = shop.goods("爆款：社区定制保温杯", stock=stock, price=1)
    started = time.perf_counter()

    def fund(user: User) -> None:
        with requests.Session() as own:
            shop.award(user, 1, own)
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(fund, users))
    people.setup_seconds += time.perf_counter() - started
    before = accounts(stack, users)
    order = list(users)
    random.shuffle(order)
    burst = _fire(stack, "redeem", [(u, "POST", "/v1/redemptions", {"goods_id": goods_id, "quantity": 1})
                                    for u in order], clients)

    result = {"scenario": "redeem", "residents": count, "stock": stock, "clients": clients, "problems": []}
    problems = result["problems"]
    histogram = Counter(f"{a.status} {a.code}".strip() for a in burst.answers)
    expected = Counter({"201": min(stock, count), "409 OUT_OF_STOCK": max(0, count - stock)})
    if histogram != +expected:
        problems.append(f"answers {dict(histogram)}, expected {dict(+expected)}")
    won = {a.user.id: a.body["id"] for a in burst.answers if a.status == 201 and isinstance(a.body, dict)}
    goods = stored_item(stack, "goods", {"id": {"S": goods_id}}) or {}
    client = stack.dynamodb()
    stored = _pages(client.scan, TableName=stack.table("redemptions"), FilterExpression="goods_id = :g",
                    ExpressionAttributeValues={":g": {"S": goods_id}}, ConsistentRead=True)
    after = accounts(stack, users)
    result["stored"] = {"stock": _number(goods, "stock", None), "redemptions": len(stored),
                        "pending_pickup": sum(1 for r in stored if r["status"]["S"] == "pending_pickup")}
    if result["stored"]["stock"] != stock - len(won) or (len(won) == stock and result["stored"]["stock"] != 0):
        problems.append(f"stock {result['stored']['stock']} after {len(won)} redemptions of stock {stock}")
    if {r["id"]["S"] for r in stored} != set(won.values()) or result["stored"]["pending_pickup"] != len(won):
        problems.append(f"stored redemptions {len(stored)} ({result['stored']['pending_pickup']} pending) differ "
                        f"from the {len(won)} answered 201")
    wrong: Counter = Counter()
    for user in users:
        entries = {e["entry_key"]["S"]: int(e["amount"]["N"]) for e in after[user.id]["ledger"]
                   if e["entry_key"]["S"].startswith("redeem#")}
        had = {k for k in (e["entry_key"]["S"] for e in before[user.id]["ledger"]) if k.startswith("redeem#")}
        new = {k: v for k, v in entries.items() if k not in had}
        expected_new = {f"redeem#{won[user.id]}": -1} if user.id in won else {}
        if new != expected_new:
            wrong["redeem# ledger entries not the redemption answered"] += 1
        if after[user.id]["balance"] != before[user.id]["balance"] - (1 if user.id in won else 0):
            wrong["balance not lowered by exactly the price"] += 1
    problems += [f"{what}: {n} resident(s)" for what, n in wrong.items()]
    problems += books_problems(after)
    result["stored"]["balance_is_sum_of_ledger"] = balanced(after)
    return _finish(result, stack, [burst], raw, clients, stock_issued={goods_id: stock})


RUNNERS = {"signup": signup, "checkin": checkin, "redeem": redeem}


# --- the command ------------------------------------------------------------------------------------------

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every count (1.0: the issue's)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent HTTP clients (threads)")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw storage ceiling")
    parser.add_argument("--json", action="store_true")
    # --serve: the stack's own process, started by this module (not for direct use)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    for name in ("api", "dynamodb", "wechat", "meter"):
        parser.add_argument(f"--{name}-port", type=int, default=0, help=argparse.SUPPRESS)
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


if __name__ == "__main__":
    sys.exit(main())
