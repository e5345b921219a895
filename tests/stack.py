"""The real local stack (``python -m infra.local.stack``, the ``make dev`` entry point) in a
subprocess on free ports, for the e2e and contention tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

from infra.local.stack import free_port
from tests.support import assert_no_secrets

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunningStack:
    process: subprocess.Popen
    api_url: str
    dynamodb_url: str
    wechat_url: str
    log: Path

    def dynamodb(self):
        return boto3.client("dynamodb", endpoint_url=self.dynamodb_url, region_name="cn-north-1",
                            aws_access_key_id="local", aws_secret_access_key="local")

    def table(self, name: str) -> str:
        return f"tongxin-dev-{name}"

    def query_all(self, table: str, key: str, value: str) -> list[dict]:
        """Every stored item of ``table`` (its short name) whose partition key ``key`` is the string ``value``: a
        consistent Query, page by page."""
        client, items, start = self.dynamodb(), [], None
        while True:
            page = client.query(TableName=self.table(table), KeyConditionExpression="#k = :v",
                                ExpressionAttributeNames={"#k": key}, ExpressionAttributeValues={":v": {"S": value}},
                                ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {}))
            items += page["Items"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def invariant_violations(self, **kwargs) -> list[str]:
        """What infra/proof/invariants/ finds in this stack's tables (every table read once)."""
        from infra.proof.invariants import check
        return check(self.dynamodb(), self.table, **kwargs)

    def check_invariants(self, *, ignore: tuple[str, ...] = (), **kwargs) -> None:
        """Every invariant of design.md holds over the stored data (``stock_issued``: see ``infra.proof.invariants``).
        ``ignore``: patterns (regular expressions, searched) of violations a module's own arranging explains — each
        with its reason where it is passed."""
        import re
        found = [v for v in self.invariant_violations(**kwargs) if not any(re.search(p, v) for p in ignore)]
        shown = "\n".join(found[:40]) + (f"\n... and {len(found) - 40} more" if len(found) > 40 else "")
        assert not found, f"{len(found)} invariant violation(s) in the stack's tables:\n{shown}"

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> tuple[int, str]:
        """Stop it as Ctrl-C (or ``signum``) does; kill it and fail if it has not stopped in ``timeout``."""
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"the local stack did not stop on signal {signum} in {timeout} s:\n{self.output()}")
        return self.process.returncode, self.output()


def stack_command(api: int, dynamodb: int, wechat: int, data_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "infra.local.stack", "--api-port", str(api), "--dynamodb-port", str(dynamodb),
            "--wechat-port", str(wechat), "--tick", "3600", "--data-dir", str(data_dir), *extra]


def stack_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TONGXIN_", "TABLE_", "WECHAT_"))}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers", "functions/api", ""))
    return env


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as nohup and some CI runners start processes


def start_stack(log: Path, timeout: float = 60.0, data_dir: Path | None = None, ignore_sigint: bool = False,
                extra_args: tuple[str, ...] = (), env: dict | None = None) -> RunningStack:
    """Start the stack writing its output to ``log`` (a file, not a pipe nobody drains while the
    test runs: a full pipe would block the server's access log and hang every request).

    Its tables are kept in ``data_dir`` (by default a fresh folder beside the log, never the
    developer's .local-data); ``ignore_sigint`` starts it with SIGINT ignored, as nohup does; ``env``
    adds to its environment (``WECHAT_BASE_URL``: an outside WeChat instead of the stand-in)."""
    api, dynamodb, wechat = free_port(), free_port(), free_port()
    data_dir = data_dir or log.parent / "data"
    process = subprocess.Popen(stack_command(api, dynamodb, wechat, data_dir, *extra_args),
                               cwd=ROOT, env={**stack_env(), **(env or {})}, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, text=True,
                               preexec_fn=_ignore_sigint if ignore_sigint else None)
    stack = RunningStack(process, f"http://127.0.0.1:{api}", f"http://127.0.0.1:{dynamodb}",
                         f"http://127.0.0.1:{wechat}/", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local stack exited early:\n{stack.output()}")
        try:
            if requests.get(stack.api_url + "/v1/health", timeout=1).status_code == 200:
                return stack
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("local stack did not become healthy in time")


class Client:
    """A mini-program over HTTP: log in with a dev code, then call with the token."""

    def __init__(self, base: str, session: requests.Session | None = None):
        self.base, self.http, self.token, self.user = base, session or requests.Session(), None, None

    def login(self, name: str) -> "Client":
        resp = self.http.post(self.base + "/v1/auth/login", json={"code": f"dev:{name}"}, timeout=30)
        assert resp.status_code == 200, resp.text
        assert_no_secrets(resp.text, "POST /v1/auth/login")
        self.token, self.user = resp.json()["token"], resp.json()["user"]
        return self

    def call(self, method: str, path: str, body=None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        resp = self.http.request(method, self.base + path, json=body, headers=headers, timeout=60, **kwargs)
        assert resp.status_code < 500 or resp.status_code == 503, resp.text
        if not resp.headers.get("Content-Type", "").startswith("image/png"):
            assert_no_secrets(resp.text, f"{method} {path}")
        return resp

    def adopt(self, resp: requests.Response) -> "Client":
        """Take the fresh token a join or volunteer registration returns."""
        assert resp.status_code == 200, resp.text
        self.token, self.user = resp.json()["token"], resp.json()["user"]
        return self

    def twin(self, session: requests.Session | None = None) -> "Client":
        """The same person on another HTTP session (a requests.Session is not shared between threads)."""
        twin = Client(self.base, session)
        twin.token, twin.user = self.token, self.user
        return twin


@contextmanager
def checked_stack(log: Path, *, ignore: tuple[str, ...] = (), stop_timeout: float = 30, **options):
    """A module's stack (``start_stack``): at the end, if it still runs, its tables must hold every invariant (but
    the violations ``ignore`` names: see ``RunningStack.check_invariants``) before it is stopped (in
    ``stop_timeout`` seconds)."""
    running = start_stack(log, **options)
    yield running
    if running.process.poll() is None:
        try:
            running.check_invariants(ignore=ignore)
        finally:
            running.stop(timeout=stop_timeout)


def stack_fixture(folder: str = "stack", *, scope: str = "module", **options):
    """The ``stack`` fixture of a module (or of a conftest's tests, ``scope``): the local stack of ``checked_stack``
    (its ``options``: ``ignore``, ``stop_timeout``, and ``start_stack``'s), its log in a fresh ``folder``. A module
    takes it as ``stack = stack_fixture(...)``."""

    @pytest.fixture(scope=scope, name="stack")
    def stack(tmp_path_factory):
        with checked_stack(tmp_path_factory.mktemp(folder) / "stack.log", **options) as running:
            yield running

    return stack


# --- people and races over HTTP (the contention modules and the outside walks) ---------------------------------------

def resident(base: str, name: str, invite: str = "DEMOGRID1") -> Client:
    """The dev user ``name``, joined to the demo community by ``invite`` (by default the demo grid 1's)."""
    client = Client(base).login(name)
    return client.adopt(client.call("POST", "/v1/me/community", {"invite": invite}))


def volunteer(base: str, name: str, real_name: str = "并发志愿者") -> Client:
    """A ``resident`` who has registered as a volunteer under ``real_name``."""
    client = resident(base, name)
    return client.adopt(client.call("POST", "/v1/me/volunteer", {"real_name": real_name}))


def party_member(base: str, admin: Client, name: str, real_name: str = "并发党员") -> Client:
    """A ``resident`` who reported as a party member (党员报到) and whom the community's ``admin`` approved (the one way
    to the role), logged in again so that the token carries it."""
    client = resident(base, name)
    reported = client.call("POST", "/v1/me/party-registration", {"real_name": real_name, "work_unit": "同心区教育局",
                                                                  "party_branch": "教育局机关第二党支部"})
    assert reported.status_code == 201, reported.text
    approved = admin.call("POST", f"/v1/admin/party-registrations/{reported.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    return client.login(name)


def in_threads(fn, args, threads: int = 8) -> list:
    """``fn(arg)`` for every arg on ``threads`` threads (arranging, not racing): the answers in order of ``args``."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(fn, args))


def in_parallel(fn, args) -> list:
    """``fn(arg)`` for every arg at the same moment: one thread each, released together by a barrier; the answers in
    the order of ``args``."""
    args = list(args)
    barrier = threading.Barrier(len(args))

    def run(arg):
        barrier.wait()
        return fn(arg)

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(run, args))


def error_code(resp: requests.Response) -> str:
    """The answer's error code ("" for a success)."""
    return resp.json().get("error", {}).get("code", "") if resp.status_code >= 400 else ""


def answer_counts(results) -> dict:
    """How many answers of each status and error code: {"200": 5, "409 POST_FULL": 15}."""
    return dict(Counter(f"{r.status_code} {error_code(r)}".strip() for r in results))
