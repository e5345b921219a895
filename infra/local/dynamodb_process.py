"""The local stack's embedded DynamoDB in a process of its own (``python -m infra.local.embedded_dynamodb``).

In the stack's process, moto and the API shared one GIL: every DynamoDB call handed the interpreter back and forth
between the API's thread and moto's, and neither could use the second core. Apart, the API runs while moto applies
another request, and a call costs a round trip over a kept-alive local connection.

The stack binds the port itself (a port taken is the same one-line error as before) and hands the listening socket
down. The child runs in a session of its own, so the signals of a Ctrl-C or of a ``kill -- -<pgid>`` reach the stack
only: the stack saves the tables over HTTP first, then closes the child's stdin, which ends it. A stack that dies
without a word (SIGKILL, Ctrl-\\) closes that pipe too, so the child never outlives it.
"""
from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_SECONDS = 60  # importing moto on a busy 2-core machine takes a few seconds


class DynamoDBStartError(Exception):
    """The child exited (or said nothing) before it was ready."""


class DynamoDBProcess:
    def __init__(self, host: str = "127.0.0.1", port: int = 8002):
        self.host = host
        self._socket = socket.socket()
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug's server binds
            self._socket.bind((host, port))
            self._socket.listen(256)  # a burst queues: each of the API's threads may hold a connection
        except OSError:
            self._socket.close()
            raise
        self.port = self._socket.getsockname()[1]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "DynamoDBProcess":
        """Start the child (it imports moto while the stack goes on with its own start); ``wait_ready`` before use."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        fd = self._socket.fileno()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.embedded_dynamodb", "--fd", str(fd), "--host", self.host],
            cwd=ROOT, env=env, pass_fds=(fd,), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            start_new_session=True)
        self._socket.close()  # the child's now: when it ends, the port refuses connections
        return self

    def wait_ready(self, timeout: float = READY_SECONDS) -> "DynamoDBProcess":
        deadline = time.monotonic() + timeout
        out = self.process.stdout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([out], [], [], max(0.0, deadline - time.monotonic()))
            if readable:
                line = out.readline()
                if line.strip() == b"ready":
                    return self
                if not line:  # EOF: it exited; what it printed went to the stack's stderr
                    break
        self.stop()
        raise DynamoDBStartError(f"the embedded DynamoDB did not start (exit code {self.process.returncode})")

    def stop(self) -> None:
        if self.process is None:
            self._socket.close()
            return
        if self.process.poll() is None:
            self.process.stdin.close()  # its lifeline: it exits at once
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process.stdout.close()
