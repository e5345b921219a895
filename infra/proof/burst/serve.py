"""The stack's own process (``python -m infra.proof.burst --serve``, started by ``stack.BurstStack``): ``make dev``'s
local stack (infra/local/stack.py) on the ports it is given, fresh tables, no data file, the scheduler's timer set
to an hour, plus ``Recorder``: a botocore hook on the one DynamoDB client the stack's models share that counts the
API's calls by operation (the sender's and the scheduler's threads, ``BACKGROUND``, apart) and, while a burst is
recorded, keeps each TransactWriteItems sent, the thread that sent it and how it ended; served as JSON on the meter
port (``/``: the counts, ``/record/start``, ``/record/stop``: the transactions recorded).
"""
from __future__ import annotations

import threading
from collections import Counter

from infra.proof.bench_stack import DynamoMeter

BACKGROUND = {"sender", "scheduler"}  # the stack's threads that are not the API's (infra/local/stack.py)


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


def serve(args) -> int:
    """The stack with the recorder on its DynamoDB client, answering /record/start, /record/stop and the meter."""
    from infra.proof.bench_stack import serve as serve_metered
    recorder = Recorder()

    def answer(path: str) -> dict:
        if path == "/record/start":
            recorder.record(True)
            return {"recording": True}
        if path == "/record/stop":
            return {"transactions": recorder.record(False)}
        return recorder.snapshot()

    return serve_metered(args, meter=recorder, answer=answer,
                         hooks={"before-parameter-build.dynamodb.TransactWriteItems": recorder.before_parameter_build})
