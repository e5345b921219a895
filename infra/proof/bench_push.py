"""Subscribe messages (订阅消息) delivered per second by ONE sender against the WeChat stand-in, and DynamoDB calls
per message (printed, not asserted): issue 11.

    python -m infra.proof.bench_push [--messages 500] [--stream 50] [--retries 20] [--json]

The embedded DynamoDB of ``make dev`` (moto's server, one request at a time: infra/local/embedded_dynamodb.py) and the
WeChat stand-in (infra/local/wechat_standin.py) run in their own process on free ports, fresh and empty — that process
is this module in ``--serve`` mode — so the sender does not share its interpreter with them. The sender is this
process: the dev settings (every kind configured as ``tmpl_<kind>``), one container, the tables created, and a
botocore event hook on the one DynamoDB client every model shares (infra/proof/bench_stack.py's ``DynamoMeter``)
counting each call by operation. WeChat calls are the stand-in's own counters (``/__dev/stats``).

Users (one per message, active, with the openid the stand-in gives ``dev:<name>``) are written directly, their
accepts go through the use case (``push.accept``, one per user: one send each), and the messages are built by
``notifications.enqueue`` as the changes that cause them build them, written with BatchWriteItem. None of that is
timed or counted. A warm-up message is sent first, so the access_token is fetched (and stored) before the clock
starts. Then, each counted from the meter before to the meter after:

- sent (sweep): ``--messages`` messages, each to a user with one accept left, delivered by ONE
  ``push.sweep(container)`` — the scheduler's step, here with no time budget (the scheduler's runs stop after
  one): a Query per retry shard, then each message claimed (with the quota), sent, recorded. Messages per
  second = messages sent / the sweep's wall time; also the rate over the first and the last 100 sends (the
  stand-in's ``received_at``), since moto slows down as the run goes.
- skipped, no quota (sweep): as many again to the same users, whose accepts are now spent: recorded ``skipped``
  without a WeChat call.
- sent (stream handler): ``--stream`` messages with an accept each, handed to the sender function's handler
  (functions/sender/app.py, as Lambda invokes it for the outbox stream) in batches of 25 records — the path most
  messages take in AWS.
- retried, then sent: ``--retries`` messages with an accept each; WeChat answers -1 to the first sweep (back to
  pending with a backoff, the accept given back), a second sweep past the backoff sends them. Calls per message
  over both sweeps.

Caveat: the embedded DynamoDB (moto) applies one request at a time, its index Query walks the
whole table, so each write costs more as the tables grow (the users,
the quota counters and the outbox all grow here); the stand-in answers at once and WeChat does not. Messages per
second measure this machine's sender against local stand-ins, not DynamoDB or WeChat (whose subscribe-send
latency, tens of milliseconds and more, would dominate in production). The calls per message are the
application's and carry over.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for _sub in ("layers", "functions/api", ""):
    if str(ROOT / _sub) not in sys.path:
        sys.path.insert(0, str(ROOT / _sub))

SEND = "cgi-bin/message/subscribe/send"
KIND = "points_awarded"
COMMUNITY_ID = "c_bench"
GRID_ID = "g_bench1"
STREAM_BATCH = 25  # records per handler call (the event source mapping's BatchSize)


# --- the servers' process (--serve) -------------------------------------------------------------------

def serve(args) -> int:
    import logging
    from infra.local.embedded_dynamodb import EmbeddedDynamoDB
    from infra.local.stop_signals import StopSignals
    from infra.local.wechat_standin import WeChatStandIn

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stop_signals = StopSignals().install()
    stopping = threading.Event()  # set by the main thread, never by the handler (infra/local/stop_signals.py says why)
    dynamodb = EmbeddedDynamoDB(args.host, args.dynamodb_port).start()
    wechat = WeChatStandIn(args.host, args.wechat_port).start()
    threading.Thread(target=_forget_moto_instances, args=(stopping,), name="moto-instances", daemon=True).start()
    sys.stdout.write(f"ready {dynamodb.url} {wechat.base_url}\n")
    sys.stdout.flush()
    stop_signals.wait()
    stopping.set()
    wechat.stop()
    dynamodb.stop()
    return 0


def _forget_moto_instances(stopping: threading.Event) -> None:
    """moto's ``BaseModel.__new__`` appends every model instance it ever makes to a class list (for its dashboard),
    and moto's own TransactWriteItems deep-copies every table it touches (infra/local/moto_transactions.py now copies
    only the written items). On the outbox table (streamed, written twice per message) that keeps every copy alive: memory grows
    with the square of the writes (a 500-message run passed 11 GB and was killed). Dropping those lists (moto's own
    ``reset_model_data``, which touches no table) keeps the server's memory flat."""
    from moto.core.model_instances import reset_model_data
    while not stopping.wait(1.0):
        reset_model_data()


class Servers:
    """The embedded DynamoDB and the stand-in in a child process (``--serve``), on free ports."""

    def __init__(self, work: Path):
        import requests
        from infra.local.stack import free_port
        self.http = requests
        dynamodb_port, wechat_port = free_port(), free_port()
        self.dynamodb_url = f"http://127.0.0.1:{dynamodb_port}"
        self.wechat_url = f"http://127.0.0.1:{wechat_port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TONGXIN_", "TABLE_", "WECHAT_"))}
        env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers", "functions/api", ""))
        self.log = work / "servers.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.proof.bench_push", "--serve", "--dynamodb-port", str(dynamodb_port),
             "--wechat-port", str(wechat_port)],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the servers exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.wechat_url + "__dev/health", timeout=1).status_code == 200:
                    requests.get(self.dynamodb_url, timeout=1)
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("the servers did not come up in 60 s")

    def wechat_counters(self) -> dict:
        return self.http.get(self.wechat_url + "__dev/stats", timeout=10).json()["counters"]

    def wechat_messages(self) -> int:
        return len(self.received())

    def received(self) -> list[dict]:
        return self.http.get(self.wechat_url + "__dev/messages", timeout=60).json()["items"]

    def fault(self, mode: str, errcode: int = -1) -> None:
        resp = self.http.post(self.wechat_url + "__dev/faults",
                              json={"mode": mode, "paths": [SEND], "errcode": errcode}, timeout=10)
        resp.raise_for_status()

    def stop(self) -> None:
        from infra.proof.bench_stack import stop_process
        stop_process(self.process)


# --- the sender (this process) ------------------------------------------------------------------------

def _configure(servers: Servers):
    """The dev settings pointed at the servers; every model bound to one client; the tables created."""
    os.environ.update({
        "TONGXIN_STAGE": "dev", "TABLE_PREFIX": f"bench-push-{uuid.uuid4().hex[:6]}",
        "DYNAMODB_ENDPOINT": servers.dynamodb_url, "WECHAT_BASE_URL": servers.wechat_url,
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "cn-north-1",
        "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
        # moto's calls slow down as its tables grow: past the default 5 s, botocore would time out and re-send
        "DYNAMODB_TIMEOUT_SECONDS": "120",
    })
    for name in ("AWS_PROFILE", "WECHAT_TEMPLATES"):
        os.environ.pop(name, None)
    import logging
    logging.getLogger("tongxin").setLevel(logging.WARNING)
    from tongxin.adapters.dynamo.binding import create_tables
    from tongxin.config import load_settings
    from tongxin.wiring import Container, set_container
    settings = load_settings()
    container = Container(settings)
    set_container(container)
    create_tables(settings)
    return container


def _meter():
    from infra.proof.bench_stack import DynamoMeter
    from tongxin.adapters.dynamo import binding
    events = binding.connection().client.meta.events

    class Meter(DynamoMeter):
        """Also the time spent in DynamoDB calls (botocore's before-call to after-call: building and parsing the
        request included; this sender is one thread) and waiting for WeChat (requests' ``elapsed``)."""

        def __init__(self):
            super().__init__()
            self.dynamodb_seconds = self.wechat_seconds = 0.0
            self._started = threading.local()

        def before_call(self, **_):
            self._started.at = time.perf_counter()

        def after_call(self, **kwargs):
            super().after_call(**kwargs)
            self._waited()

        def after_call_error(self, event_name="", **_):  # botocore passes no ``model`` to after-call-error
            with self.lock:
                self.calls[event_name.rsplit(".", 1)[-1] + " (no answer)"] += 1
            self._waited()

        def _waited(self):
            started = getattr(self._started, "at", None)
            if started is not None:
                with self.lock:
                    self.dynamodb_seconds += time.perf_counter() - started
                self._started.at = None

        def wechat_response(self, response, *args, **kwargs):
            with self.lock:
                self.wechat_seconds += response.elapsed.total_seconds()

        def snapshot(self) -> dict:
            counted = super().snapshot()
            with self.lock:
                return {**counted, "dynamodb_seconds": self.dynamodb_seconds, "wechat_seconds": self.wechat_seconds}

    meter = Meter()
    events.register("before-call.dynamodb", meter.before_call)
    events.register("after-call.dynamodb", meter.after_call)
    events.register("after-call-error.dynamodb", meter.after_call_error)
    events.register("before-send.dynamodb", meter.before_send)
    return meter


def _delta(before: dict, after: dict) -> dict:
    calls = Counter(after["calls"])
    calls.subtract(before["calls"])
    return {"calls": {op: n for op, n in sorted(calls.items()) if n}, "total": sum(calls.values()),
            "cancelled": after["cancelled"] - before["cancelled"], "attempts": after["attempts"] - before["attempts"]}


class People:
    """Users written directly (active, with the stand-in's openid for ``dev:<name>``), as infra/local/seed.py does."""

    def __init__(self, run: str):
        self.run, self.made = run, 0

    def make(self, count: int) -> list[str]:
        from infra.local.wechat_standin import fake_openid
        from tongxin.adapters.dynamo.models import UserModel
        from tongxin.domain.clock import utcnow
        now, ids = utcnow(), []
        for _ in range(count):
            self.made += 1
            user_id = f"u_bench_{self.run}_{self.made}"
            UserModel(user_id, status="active", nickname=f"压测居民{self.made}", openid=fake_openid(user_id),
                      community_id=COMMUNITY_ID, grid_id=GRID_ID, roles={"resident"}, points_balance=0,
                      earned_total=0, volunteer_minutes=0, created_at=now, joined_at=now).save()
            ids.append(user_id)
        return ids


def _accept(container, user_ids: list[str]) -> None:
    """One accept each, through the use case the route calls."""
    from tongxin.domain.access import Principal
    from tongxin.usecases import push
    template_id = container.settings.wechat_templates[KIND]
    for user_id in user_ids:
        principal = Principal(user_id=user_id, community_id=COMMUNITY_ID, roles=frozenset({"resident"}))
        push.accept(container, principal, [template_id])


def _enqueue(user_ids: list[str]) -> list[str]:
    """The messages exactly as ``notifications.enqueue`` builds them in the causing change's transaction, written
    here with BatchWriteItem (moto's transactions copy whole tables: setup would cost more than the bench)."""
    from tongxin.adapters.dynamo.models import OutboxModel
    from tongxin.adapters.dynamo.tx import Tx
    from tongxin.usecases import notifications
    tx = Tx()  # only collects; never committed
    items = [notifications.enqueue(tx, kind=KIND, recipient_id=user_id, page="pages/points/index",
                                   data={"reason": "楼道义务清扫", "category": "charity", "points": 5},
                                   community_id=COMMUNITY_ID) for user_id in user_ids]
    with OutboxModel.batch_write() as batch:
        for item in items:
            batch.save(item)
    return [item.id for item in items]


def _statuses(message_ids: list[str]) -> Counter:
    from tongxin.adapters.dynamo.models import OutboxModel
    found = Counter()
    for start in range(0, len(message_ids), 100):
        for item in OutboxModel.batch_get(message_ids[start:start + 100]):
            found[f"{item.status}" + (f" ({item.reason})" if item.reason and item.status != "pending" else "")] += 1
    return found


def _measured(servers: Servers, meter, action, message_ids: list[str]) -> dict:
    counters, sent_before = servers.wechat_counters(), servers.wechat_messages()
    before = meter.snapshot()
    started = time.perf_counter()
    returned = action()
    wall = time.perf_counter() - started
    now_meter = meter.snapshot()
    used = _delta(before, now_meter)
    waited = {"dynamodb": now_meter["dynamodb_seconds"] - before["dynamodb_seconds"],
              "wechat": now_meter["wechat_seconds"] - before["wechat_seconds"]}
    after = servers.wechat_counters()
    wechat = {path: after.get(path, 0) - counters.get(path, 0) for path in after if after.get(path, 0) -
              counters.get(path, 0)}
    count = max(1, len(message_ids))
    arrivals = sorted(datetime.fromisoformat(m["received_at"].replace("Z", "+00:00"))
                      for m in servers.received()[sent_before:])
    return {"first_100_per_second": _rate(arrivals[:100]), "last_100_per_second": _rate(arrivals[-100:]),
            "messages": len(message_ids), "seconds": round(wall, 3), "per_second": round(len(message_ids) / wall, 1),
            "dynamodb_calls_per_message": round(used["total"] / count, 2),
            "ms_per_message": {"all": round(wall * 1000 / count, 1),
                               "waiting_for_dynamodb": round(waited["dynamodb"] * 1000 / count, 1),
                               "waiting_for_wechat": round(waited["wechat"] * 1000 / count, 1),
                               "the_rest": round((wall - waited["dynamodb"] - waited["wechat"]) * 1000 / count, 1)},
            "dynamodb_by_operation_per_message": {op: round(n / count, 3) for op, n in used["calls"].items()},
            "dynamodb_calls": used["total"], "cancelled_transactions": used["cancelled"],
            "wechat_calls": wechat, "wechat_sends_per_message": round(wechat.get(SEND, 0) / count, 3),
            "received_by_wechat": servers.wechat_messages() - sent_before, "returned": returned,
            "outcome": dict(_statuses(message_ids))}


def _rate(arrivals: list) -> float | None:
    """Sends per second between the first and the last of ``arrivals`` (None for fewer than 10)."""
    if len(arrivals) < 10:
        return None
    span = (arrivals[-1] - arrivals[0]).total_seconds()
    return round((len(arrivals) - 1) / span, 1) if span > 0 else None


def _sweep(container, now=None) -> dict:
    """ONE sweep that runs until every message due is done: the scheduler's runs stop after a time budget and leave
    the rest for the next run; the bench wants one sender's rate over all of them."""
    import inspect
    from tongxin.usecases import push
    if "budget_seconds" in inspect.signature(push.sweep).parameters:
        return push.sweep(container, now=now, budget_seconds=24 * 3600)
    return push.sweep(container, now=now)


def _stream_event(message_ids: list[str], offset: int) -> dict:
    return {"Records": [{"eventID": f"bench-{offset + i}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
                         "dynamodb": {"Keys": {"id": {"S": mid}},
                                      "NewImage": {"id": {"S": mid}, "status": {"S": "pending"}}}}
                        for i, mid in enumerate(message_ids)]}


def bench(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="tongxin-bench-push-"))
    started = time.perf_counter()
    servers = Servers(work)
    try:
        container = _configure(servers)
        from infra.local.stack import _load_function
        from tongxin.domain.clock import utcnow
        sender = _load_function("sender")
        meter = _meter()
        container.wechat._http.hooks["response"].append(meter.wechat_response)  # as tests/conftest.py counts
        startup = time.perf_counter() - started
        people = People(uuid.uuid4().hex[:6])

        # warm-up: the access_token fetched and stored, every code path imported (not counted)
        [warm] = people.make(1)
        _accept(container, [warm])
        _enqueue([warm])
        _sweep(container)

        results, setup = {}, 0.0

        t0 = time.perf_counter()
        users = people.make(args.messages)
        _accept(container, users)
        ids = _enqueue(users)
        setup += time.perf_counter() - t0
        results["sent (sweep)"] = _measured(servers, meter, lambda: _sweep(container), ids)

        t0 = time.perf_counter()
        ids = _enqueue(users)  # their accepts are spent
        setup += time.perf_counter() - t0
        results["skipped, no quota (sweep)"] = _measured(servers, meter, lambda: _sweep(container), ids)

        if args.stream:
            t0 = time.perf_counter()
            streamed = people.make(args.stream)
            _accept(container, streamed)
            stream_ids = _enqueue(streamed)
            setup += time.perf_counter() - t0

            def by_stream():
                failures = []
                for start in range(0, len(stream_ids), STREAM_BATCH):
                    answer = sender.handler(_stream_event(stream_ids[start:start + STREAM_BATCH], start), None)
                    failures += answer.get("batchItemFailures", [])
                return {"batchItemFailures": len(failures)}

            results["sent (stream handler)"] = _measured(servers, meter, by_stream, stream_ids)

        if args.retries:
            t0 = time.perf_counter()
            retried = people.make(args.retries)
            _accept(container, retried)
            retry_ids = _enqueue(retried)
            setup += time.perf_counter() - t0

            def fail_then_send():
                servers.fault("error", -1)
                try:
                    first = _sweep(container)
                finally:
                    servers.fault("none")
                second = _sweep(container, now=utcnow() + timedelta(hours=2))
                return {"first": first, "second": second}

            results["retried once, then sent (2 sweeps)"] = _measured(servers, meter, fail_then_send, retry_ids)
    finally:
        servers.stop()
    return {"cpus": os.cpu_count(), "startup_s": round(startup, 1), "setup_s": round(setup, 1), "kind": KIND,
            "results": results}


def _print(results: dict) -> None:
    print(f"subscribe messages delivered by ONE sender (this process) against the WeChat stand-in and the embedded "
          f"DynamoDB\n(their own process; {results['cpus']} CPUs; servers up in {results['startup_s']} s; users, "
          f"accepts and messages written in {results['setup_s']} s, not timed; kind {results['kind']}):")
    print(f"  {'path':<38} {'msgs':>5} {'seconds':>8} {'msgs/s':>7} {'first/last 100 /s':>17} {'DDB calls/msg':>13} "
          f"{'WeChat sends/msg':>16}  outcome")
    for what, row in results["results"].items():
        outcome = ", ".join(f"{k} {v}" for k, v in sorted(row["outcome"].items()))
        ends = "-" if row["first_100_per_second"] is None else \
            f"{row['first_100_per_second']}/{row['last_100_per_second']}"
        print(f"  {what:<38} {row['messages']:>5} {row['seconds']:>8.2f} {row['per_second']:>7.1f} {ends:>17} "
              f"{row['dynamodb_calls_per_message']:>13.2f} {row['wechat_sends_per_message']:>16.2f}  {outcome}")
    print("Milliseconds per message: all = in DynamoDB calls (moto; botocore's building and parsing included) +\n"
          "waiting for WeChat (the stand-in) + the rest (the sender's own code, PynamoDB, wechatpy, the meter):")
    for what, row in results["results"].items():
        ms = row["ms_per_message"]
        print(f"  {what:<38} {ms['all']:>7.1f} = {ms['waiting_for_dynamodb']:>7.1f} + {ms['waiting_for_wechat']:>5.1f} "
              f"+ {ms['the_rest']:>5.1f}")
    print("DynamoDB calls per message by operation (the sweep's Queries spread over its messages):")
    for what, row in results["results"].items():
        ops = ", ".join(f"{op} {n}" for op, n in row["dynamodb_by_operation_per_message"].items())
        extra = f"; {row['cancelled_transactions']} cancelled transactions" if row["cancelled_transactions"] else ""
        print(f"  {what:<38} {ops}{extra}")
        print(f"  {'':<38} WeChat calls {row['wechat_calls']}, received by the stand-in {row['received_by_wechat']};"
              f" returned {row['returned']}")
    print("Caveats: the embedded DynamoDB (moto) applies one request at a time, its index Query walks\n"
          "the whole table, so reads cost more as the tables grow;\n"
          "the stand-in answers at once, WeChat does not (its latency would dominate a real sender). Messages per\n"
          "second are this machine's sender against local stand-ins, not DynamoDB or WeChat; the call counts carry\n"
          "over.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500, help="messages of the sent and skipped sweeps")
    parser.add_argument("--stream", type=int, default=50, help="messages through the stream handler (0: none)")
    parser.add_argument("--retries", type=int, default=20, help="messages retried once, then sent (0: none)")
    parser.add_argument("--json", action="store_true")
    # --serve: the servers' own process, started by the bench (not for direct use)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument("--dynamodb-port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--wechat-port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args)
    if args.messages < 1 or args.stream < 0 or args.retries < 0:
        parser.error("--messages must be at least 1; --stream and --retries at least 0")
    import contextlib
    # Powertools Metrics prints an EMF line to stdout every 100 values of a metric, even with metrics disabled:
    # keep stdout for the results.
    with contextlib.redirect_stdout(sys.stderr):
        results = bench(args)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        _print(results)
    failed = any(
        row["outcome"] != ({"skipped (no_quota)": row["messages"]} if "skipped" in what else {"sent": row["messages"]})
        or row["received_by_wechat"] != (0 if "skipped" in what else row["messages"])
        for what, row in results["results"].items())
    if failed:
        sys.stderr.write("some messages did not end as expected (see outcome / received by the stand-in)\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
