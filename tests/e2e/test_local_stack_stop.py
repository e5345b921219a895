"""Issue 19 (5, 6): ``make dev`` as a newcomer runs it, on non-default ports, through the real Makefile.

Every stop the README promises saves: SIGINT or SIGTERM, once or twice in quick succession, to the stack's process
alone or to the whole process group (make and the stack; make forwards SIGTERM to its child, so one group SIGTERM
reaches the stack twice). One chain of starts on one data dir: each start finds what the stop before it saved (a wish
written over HTTP), writes its own, and is stopped a different way; the last is killed (no save).

The stack's ports reach the operator CLI and ``make invariants`` through ``<data dir>/endpoints.json``: with no
endpoint given, both work against the running stack (the CLI's community is seen over the API); a second stack on
the same data dir is refused; with the stack stopped or killed, both fail with one line and a non-zero exit."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from infra.local.stack import free_port
from tests.stack import ROOT, Client, stack_command, stack_env

pytestmark = pytest.mark.e2e

TIMEOUT = 60


def _make_env(data_dir: Path) -> dict:
    env = {k: v for k, v in stack_env().items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DYNAMODB_ENDPOINT")}
    env["TONGXIN_LOCAL_DATA"] = str(data_dir)  # where the CLI and the checker look (the stack's --data-dir)
    return env


class MakeDev:
    """``make dev API_PORT=… DYNAMODB_PORT=… WECHAT_PORT=…`` in a session (process group) of its own. The venv
    stamp is left out (``STAMP=``) and ``BIN`` holds a ``python`` that execs this interpreter: the real ``dev``
    target."""

    def __init__(self, tmp: Path, data_dir: Path, name: str):
        self.tmp, self.data_dir, self.log = tmp, data_dir, tmp / f"{name}.log"
        self.ports = (free_port(), free_port(), free_port())
        api, dynamodb, wechat = self.ports
        self.api_url = f"http://127.0.0.1:{api}"
        self.make = subprocess.Popen(
            ["make", "--no-print-directory", "dev", "STAMP=", f"BIN={_bin(tmp)}", f"API_PORT={api}",
             f"DYNAMODB_PORT={dynamodb}", f"WECHAT_PORT={wechat}", f"ARGS=--tick 3600 --data-dir {data_dir}"],
            cwd=ROOT, env=_make_env(data_dir), stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert self.make.poll() is None, f"make dev exited early:\n{self.output()}"
            try:
                if requests.get(self.api_url + "/v1/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            self.kill()
            raise AssertionError(f"make dev did not come up:\n{self.output()}")
        self.endpoints = json.loads((data_dir / "endpoints.json").read_text("utf-8"))
        self.pid = self.endpoints["pid"]  # the stack's own process, make's child

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while text not in self.output():
            assert time.monotonic() < deadline, f"{text!r} never came:\n{self.output()}"
            time.sleep(0.02)

    def stop(self, signum: int, to_group: bool, twice: str | None) -> str:
        """Send ``signum`` (to the group or to the stack alone); ``twice``: again at once ("now") or once the stop
        is under way ("stopping"). Returns the output once make and the stack have exited."""
        send = (lambda: os.killpg(self.make.pid, signum)) if to_group else (lambda: os.kill(self.pid, signum))
        send()
        if twice == "stopping":
            self.wait_for("stopping...")
        if twice:
            send()
        try:
            self.make.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            try:  # what the stack's threads are doing (faulthandler on SIGUSR1), into the output, before killing it
                os.kill(self.pid, signal.SIGUSR1)
                time.sleep(1)
            except ProcessLookupError:
                pass
            self.kill()
            raise AssertionError(f"make dev did not stop on {signal.Signals(signum).name}:\n{self.output()}")
        return self.output()

    def kill(self) -> None:
        try:
            os.killpg(self.make.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.make.wait(timeout=TIMEOUT)


def _bin(tmp: Path) -> Path:
    folder = tmp / "bin"
    if not folder.exists():
        folder.mkdir()
        (folder / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (folder / "python").chmod(0o755)
    return folder


def _write_marker(api_url: str, name: str) -> str:
    author = Client(api_url).login(name)
    author.adopt(author.call("POST", "/v1/me/community", {"invite": "DEMOGRID1"}))
    wish = author.call("POST", "/v1/wishes", {"title": f"停止后还在 {name}", "content": "本地数据要保留", "category": "维修"})
    assert wish.status_code == 201, wish.text
    return wish.json()["id"]


def _assert_marker(api_url: str, name: str, wish_id: str) -> None:
    got = Client(api_url).login(name).call("GET", f"/v1/wishes/{wish_id}")
    assert got.status_code == 200 and got.json()["title"] == f"停止后还在 {name}", got.text


def _cli(env: dict, *argv: str) -> subprocess.CompletedProcess:
    env = {**env, "TONGXIN_STAGE": "dev"}  # the README's command: no endpoint, no credentials
    return subprocess.run([sys.executable, "-m", "tongxin.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def _make_invariants(tmp: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "invariants", "STAMP=", f"BIN={_bin(tmp)}"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT)


# (signal, to the whole group?, a second one: None, "now", or once "stopping..." is printed)
STOPS = [
    (signal.SIGTERM, True, None),         # kill -TERM -- -<pgid>: make forwards it, the stack gets two
    (signal.SIGINT, True, "stopping"),    # Ctrl-C, Ctrl-C in the terminal
    (signal.SIGTERM, True, "stopping"),
    (signal.SIGINT, True, None),          # Ctrl-C
    (signal.SIGTERM, False, "now"),       # kill -TERM <pid> twice
    (signal.SIGINT, False, "stopping"),
]


def test_every_stop_saves_and_the_ports_reach_the_cli_and_the_checker(tmp_path):
    data = tmp_path / "data"
    env = _make_env(data)
    previous = None
    for step, (signum, to_group, twice) in enumerate(STOPS):
        stack = MakeDev(tmp_path, data, f"run{step}")
        try:
            if previous:
                _assert_marker(stack.api_url, *previous)
            else:
                _endpoints_reach_the_running_stack(tmp_path, stack, env)
            name = f"stop-{step}"
            previous = (name, _write_marker(stack.api_url, name))
            output = stack.stop(signum, to_group, twice)
        finally:
            if stack.make.poll() is None:
                stack.kill()
        how = f"{signal.Signals(signum).name} to the {'group' if to_group else 'process'}, twice={twice}"
        assert "stopped without saving" not in output, f"{how}:\n{output}"
        assert "\nsaved " in output and "\nstopped\n" in output, f"{how}:\n{output}"
        if twice == "stopping":  # the second signal came while stopping, before the save: noted, not obeyed
            assert output.index("again: still stopping") < output.index("saved "), f"{how}:\n{output}"
        assert not (data / "endpoints.json").exists() and not list(data.glob("*.tmp")), how

    # Stopped: no endpoints file. Neither falls back to a default port: one line, non-zero.
    for result in (_cli(env, "create-street", "--name", "无处可去"), _make_invariants(tmp_path, env)):
        assert result.returncode != 0, result.stdout
        assert "error: no local stack is running" in result.stderr and "endpoints.json" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "all invariants hold" not in result.stdout

    last = MakeDev(tmp_path, data, "last")
    try:
        _assert_marker(last.api_url, *previous)
    finally:
        last.kill()  # SIGKILL: no clean stop, the endpoints file stays behind naming a dead stack
    assert (data / "endpoints.json").exists()
    for result in (_cli(env, "create-street", "--name", "无处可去"), _make_invariants(tmp_path, env)):
        assert result.returncode != 0, result.stdout
        line = [x for x in result.stderr.splitlines() if x.startswith("error:")]
        assert len(line) == 1 and f"pid {last.pid}" in line[0], result.stderr
        assert "not running" in line[0] or "refuses connections" in line[0], result.stderr


def _endpoints_reach_the_running_stack(tmp: Path, stack: MakeDev, env: dict) -> None:
    api, dynamodb, wechat = stack.ports
    assert stack.endpoints["api"] == stack.api_url and stack.endpoints["dynamodb"] == f"http://127.0.0.1:{dynamodb}"
    assert stack.endpoints["wechat"] == f"http://127.0.0.1:{wechat}/"

    founder = Client(stack.api_url).login("cli-founder")
    created = _cli(env, "create-community", "--name", "端口社区", "--admin-user-id", founder.user["id"], "--grid", "一网格")
    assert created.returncode == 0, created.stderr
    community_id = json.loads(created.stdout)["id"]
    me = Client(stack.api_url).login("cli-founder").call("GET", "/v1/me").json()  # the CLI wrote to this stack
    assert me["community_id"] == community_id and "admin" in me["roles"], me

    checked = _make_invariants(tmp, env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"at http://127.0.0.1:{dynamodb})" in checked.stdout, checked.stdout

    # A second stack on the same data dir would overwrite the first one's endpoints and saves: refused, one line.
    second = subprocess.run(stack_command(free_port(), free_port(), free_port(), stack.data_dir), cwd=ROOT,
                            env=stack_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert second.returncode == 1 and "Traceback" not in second.stderr, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "another local stack" in lines[0] and f"pid {stack.pid}" in lines[0], second.stderr
    assert json.loads((stack.data_dir / "endpoints.json").read_text("utf-8"))["pid"] == stack.pid
