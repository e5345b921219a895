"""Issue 19 (6): which DynamoDB the operator CLI and the invariant checker use. An explicit endpoint wins
(``--endpoint``, ``DYNAMODB_ENDPOINT``); a deployed stage is left to its configuration; the local stages use the
running local stack named in ``<data dir>/endpoints.json`` and fail with one line when there is none, or it is gone —
never a default port. The stack writes that file whole and removes only its own (tests/e2e/test_local_stack_stop.py
runs all of it against the real ``make dev``)."""
from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from infra.local import data as local_data
from tongxin import cli


@pytest.fixture
def listening():
    """A port taking connections, as a running stack's DynamoDB does."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid  # reaped: no such process (until the pid is reused, far later)


def _write(data_dir, dynamodb: str, pid: int | None = None) -> None:
    local_data.write_endpoints(data_dir / "endpoints.json", api="http://127.0.0.1:8100", dynamodb=dynamodb,
                               wechat="http://127.0.0.1:8181/", table_prefix="tongxin-dev", region="cn-north-1")
    if pid is not None:
        path = data_dir / "endpoints.json"
        path.write_text(json.dumps({**json.loads(path.read_text("utf-8")), "pid": pid}), "utf-8")


def test_the_running_stack_is_found_and_configures_the_cli(tmp_path, listening):
    _write(tmp_path, listening)
    assert not list(tmp_path.glob("*.tmp"))
    stack = cli.running_local_stack(tmp_path)
    assert stack["pid"] == os.getpid() and stack["dynamodb"] == listening and stack["api"] == "http://127.0.0.1:8100"

    env = {"TONGXIN_STAGE": "dev", "TONGXIN_LOCAL_DATA": str(tmp_path), "AWS_REGION": "us-east-1"}
    cli.resolve_endpoint(None, env)
    assert env["DYNAMODB_ENDPOINT"] == listening and env["WECHAT_BASE_URL"] == "http://127.0.0.1:8181/"
    assert env["TABLE_PREFIX"] == "tongxin-dev"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "cn-north-1"  # moto's tables are in the stack's region
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "local"


def test_an_explicit_endpoint_wins_and_a_deployed_stage_is_left_alone(tmp_path):
    local = {"TONGXIN_LOCAL_DATA": str(tmp_path)}  # no endpoints file there: reading it would fail
    env = {"TONGXIN_STAGE": "dev", **local}
    cli.resolve_endpoint("http://127.0.0.1:9999", env)
    assert env == {"TONGXIN_STAGE": "dev", **local, "DYNAMODB_ENDPOINT": "http://127.0.0.1:9999"}
    env = {"TONGXIN_STAGE": "dev", **local, "DYNAMODB_ENDPOINT": "http://127.0.0.1:9998"}
    cli.resolve_endpoint(None, env)
    assert env == {"TONGXIN_STAGE": "dev", **local, "DYNAMODB_ENDPOINT": "http://127.0.0.1:9998"}
    for stage in ("prod", ""):  # AWS as configured (and config.load_settings refuses a missing stage)
        env = {"TONGXIN_STAGE": stage, **local}
        cli.resolve_endpoint(None, env)
        assert env == {"TONGXIN_STAGE": stage, **local}


def test_no_stack_a_dead_one_or_a_closed_port_is_one_line(tmp_path, listening):
    with pytest.raises(cli.NoLocalStack, match="no local stack is running .*endpoints.json.*make dev"):
        cli.running_local_stack(tmp_path)
    env = {"TONGXIN_STAGE": "test", "TONGXIN_LOCAL_DATA": str(tmp_path)}
    with pytest.raises(cli.NoLocalStack, match="no local stack is running"):
        cli.resolve_endpoint(None, env)
    assert "DYNAMODB_ENDPOINT" not in env  # never the configuration's default port

    dead = _dead_pid()
    _write(tmp_path, listening, pid=dead)
    with pytest.raises(cli.NoLocalStack, match=f"pid {dead}\\) is not running"):
        cli.running_local_stack(tmp_path)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, not listening: refuses connections
        _write(tmp_path, closed)
        with pytest.raises(cli.NoLocalStack, match=f"refuses connections at {closed}"):
            cli.running_local_stack(tmp_path)

    (tmp_path / "endpoints.json").write_text("{half", "utf-8")
    with pytest.raises(cli.NoLocalStack, match="cannot read"):
        cli.running_local_stack(tmp_path)


def test_the_cli_and_the_checker_exit_nonzero_without_a_stack(tmp_path, monkeypatch, capsys):
    from infra.proof.invariants.cli import main as check_main
    from tongxin import wiring
    monkeypatch.setenv("TONGXIN_LOCAL_DATA", str(tmp_path))
    monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    monkeypatch.setenv("TONGXIN_STAGE", "dev")
    monkeypatch.setattr(wiring, "_container", None)
    assert cli.main(["create-street", "--name", "无处可去"]) == 2
    assert wiring._container is None  # nothing was configured
    assert check_main([]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("error: no local stack is running") for line in err), err


def test_the_stack_removes_only_its_own_endpoints_file(tmp_path, listening):
    path = tmp_path / "endpoints.json"
    _write(tmp_path, listening, pid=os.getpid() + 1)  # another stack's
    local_data.remove_endpoints(path)
    assert path.exists()
    _write(tmp_path, listening)
    local_data.remove_endpoints(path)
    assert not path.exists()
    local_data.remove_endpoints(path)  # already gone: nothing to do
