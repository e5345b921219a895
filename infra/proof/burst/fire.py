"""Firing one burst and judging its answers: ``_fire`` sends a scenario's requests from ``clients`` threads (one
``requests.Session`` each, its connection opened before the clock starts) released together and returns a
``Burst``: its ``Answer``s, its seconds, the stack's DynamoDB calls and the transactions recorded meanwhile, and
its figures (``Burst.summary``); ``undocumented`` lists every answer that is not a documented status of its route
(``DOCUMENTED`` and ``COMMON``, from docs/api.md) with the error envelope ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from infra.proof.bench_runs import _percentile
from infra.proof.bench_stack import User, _call, _delta

from .stack import BurstStack

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
