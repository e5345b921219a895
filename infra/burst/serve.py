"""The stack's own process (``python -m infra.burst --serve``, started by ``stack.BurstStack``): ``make dev``'s
local stack (infra/local_stack.py) on the ports it is given, fresh tables, no data file, the scheduler's timer set
to an hour, plus ``Recorder``: a botocore hook on the one DynamoDB client the stack's models share that counts the
API's calls by operation (the sender's and the scheduler's threads, ``BACKGROUND``, apart) and, while a burst is
recorded, keeps each TransactWriteItems sent, the thread that sent it and how it ended; served as JSON on the meter
port (``/``: the counts, ``/record/start``, ``/record/stop``: the transactions recorded).
"""
from __future__ import annotations

import json
import signal
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from infra.bench_signup import DynamoMeter

BACKGROUND = {"sender", "scheduler"}  # the stack's threads that are not the API's (infra/local_stack.py)


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
