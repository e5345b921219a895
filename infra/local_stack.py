"""The local stack behind ``make dev``: embedded DynamoDB (moto server), the WeChat stand-in, tables
from the models, the demo seed, the scheduler on a timer, and the API on http://127.0.0.1:8000.

    python -m infra.local_stack [--api-port 8000] [--dynamodb-port 8002] [--wechat-port 8081]

Ctrl-C (or SIGTERM) stops all of it. The e2e tests start this same entry point on free ports.
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for sub in ("layers", "functions/api", ""):
    path = str(ROOT / sub)
    if path not in sys.path:
        sys.path.insert(0, path)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _load_function(name: str):
    """Import ``functions/<name>/app.py`` as the Lambda runtime would (its own module name)."""
    spec = importlib.util.spec_from_file_location(f"tongxin_fn_{name}", ROOT / "functions" / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LocalStack:
    def __init__(self, host: str = "127.0.0.1", api_port: int = 8000, dynamodb_port: int = 8002,
                 wechat_port: int = 8081, tick_seconds: float = 30.0, seed: bool = True):
        self.host, self.api_port, self.dynamodb_port, self.wechat_port = host, api_port, dynamodb_port, wechat_port
        self.tick_seconds, self.should_seed = tick_seconds, seed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    def start(self) -> "LocalStack":
        from infra.embedded_dynamodb import EmbeddedDynamoDB
        from infra.wechat_standin import WeChatStandIn

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.dynamodb = EmbeddedDynamoDB(self.host, self.dynamodb_port).start()
        self.wechat = WeChatStandIn(self.host, self.wechat_port).start()
        os.environ.update({
            "TONGXIN_STAGE": "dev",
            "TABLE_PREFIX": os.environ.get("TABLE_PREFIX", "tongxin-dev"),
            "DYNAMODB_ENDPOINT": f"http://{self.host}:{self.dynamodb_port}",
            "WECHAT_BASE_URL": self.wechat.base_url,
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1"),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        })
        os.environ.pop("AWS_PROFILE", None)

        from tongxin.adapters.dynamo.binding import create_tables
        from tongxin.config import load_settings
        from tongxin.wiring import Container, set_container

        settings = load_settings()
        set_container(Container(settings))
        create_tables(settings)
        if self.should_seed:
            from infra.seed import seed
            seed()

        from chalice.config import Config
        from chalice.local import create_local_server
        import app as api_app

        self.api = create_local_server(api_app.app, Config.create(chalice_stage="dev"), self.host, self.api_port)
        # The stdlib server listens with a backlog of 5: a burst (300 check-ins, 50 claims) must queue,
        # not be dropped and retried a second later. listen() again on Linux just raises the backlog.
        self.api.server.socket.listen(256)
        self._spawn(self.api.server.serve_forever, "api")
        self.scheduler = _load_function("scheduler")
        self._spawn(self._tick, "scheduler")
        return self

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _tick(self) -> None:
        """Run the scheduler handler on a timer, as EventBridge does in AWS."""
        while not self._stop.wait(self.tick_seconds):
            try:
                self.scheduler.handler({"source": "local-timer"}, None)
            except Exception:  # keep ticking; the next run retries whatever failed
                logging.getLogger("tongxin.local").exception("scheduler run failed")

    def stop(self) -> None:
        self._stop.set()
        for stopper in (lambda: self.api.server.shutdown(), self.wechat.stop, self.dynamodb.stop):
            try:
                stopper()
            except Exception:  # best effort: stopping must stop everything it can
                pass

    def banner(self) -> str:
        return "\n".join([
            "同心 Tongxin — local stack is up",
            f"  API              {self.api_url}/v1   (OpenAPI: {self.api_url}/v1/openapi.json)",
            f"  DynamoDB (moto)  http://{self.host}:{self.dynamodb_port}",
            f"  WeChat stand-in  {self.wechat.base_url}   (pushed messages: {self.wechat.base_url}__dev/messages)",
            "  Log in:  curl -s -X POST %s/v1/auth/login -H 'Content-Type: application/json' \\" % self.api_url,
            "                -d '{\"code\": \"dev:res1\"}'",
            "  Demo users: admin, grid1, store1, vol1..vol5, res1..res5 (res1 has 200 points);",
            "  any other dev:<name> is a new user; join with invite DEMOGRID1 or DEMOGRID2.",
            "  Ctrl-C stops everything.",
        ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--dynamodb-port", type=int, default=8002)
    parser.add_argument("--wechat-port", type=int, default=8081)
    parser.add_argument("--tick", type=float, default=30.0, help="seconds between scheduler runs")
    args = parser.parse_args(argv)
    stack = LocalStack(args.host, args.api_port, args.dynamodb_port, args.wechat_port, args.tick).start()
    sys.stdout.write(stack.banner() + "\n")
    sys.stdout.flush()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    stack.stop()
    sys.stdout.write("stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
