"""The local stack behind ``make dev``: embedded DynamoDB (moto server), the WeChat stand-in, tables
from the models, the demo seed, the scheduler on a timer, and the API on http://127.0.0.1:8000.

    python -m infra.local.stack [--api-port 8000] [--dynamodb-port 8002] [--wechat-port 8081]
                                [--data-dir .local-data] [--fresh]

The tables are saved to ``<data-dir>/dynamodb.json`` on a clean stop and loaded on the next start; the demo seed
is written only when nothing was loaded. ``--fresh`` starts empty (and the file is replaced at the next stop).

A clean stop is SIGINT or SIGTERM, once or more, to this process or to its whole process group (Ctrl-C in a
terminal; ``kill -TERM -- -<pgid>``, where make, which forwards SIGTERM to its child, sends the stack a second one):
the first starts the stop, any later one is noted and ignored, so nothing interrupts the save. The stand-in, the
API, the scheduler and the sender are threads of this process; DynamoDB is a child in a session of its own, which
no signal to the group reaches and which ends when this process closes its stdin (after the save) or dies
(infra/local/dynamodb_process.py), so a signal to the group stops nothing behind the save's back. Only SIGKILL or
SIGQUIT (Ctrl-\\) quit without saving.

While it is up, ``<data-dir>/endpoints.json`` names it (pid, API, DynamoDB and stand-in URLs, table prefix, region),
for the operator CLI (``python -m tongxin.cli``) and ``make invariants``; the stop removes it before saving, and a
second stack on the same data dir is refused. The e2e tests start this entry point on free ports and a temp data dir.
"""
from __future__ import annotations

import argparse
import errno
import faulthandler
import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for sub in ("layers", "functions/api", ""):
    path = str(ROOT / sub)
    if path not in sys.path:
        sys.path.insert(0, path)

from infra.local.stop_signals import StopSignals  # noqa: E402
from tongxin.cli import ENDPOINTS_FILE  # noqa: E402 (the CLI reads what the stack writes: one name)

DEFAULT_DATA_DIR = ROOT / ".local-data"
DATA_FILE = "dynamodb.json"


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


class StartupError(Exception):
    """A one-line reason the stack cannot start (a port taken, an unreadable data file)."""


# (what, command-line option, make variable) per listener
_LISTENERS = {"api": ("API", "--api-port", "API_PORT"),
              "dynamodb": ("embedded DynamoDB", "--dynamodb-port", "DYNAMODB_PORT"),
              "wechat": ("WeChat stand-in", "--wechat-port", "WECHAT_PORT")}


def _port_error(key: str, host: str, port: int, exc: OSError) -> StartupError:
    what, option, variable = _LISTENERS[key]
    reason = "port already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
    return StartupError(f"error: cannot listen on {host}:{port} for the {what} ({reason}); "
                        f"pick another with {option} <port> (make dev {variable}=<port>)")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_ports(host: str, ports: dict[str, int]) -> None:
    """Fail fast, before anything starts, when a port is taken (or the same port is given twice)."""
    held: list[socket.socket] = []
    try:
        for key, port in ports.items():
            if port == 0:  # any free port
                continue
            sock = socket.socket()
            held.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            try:
                sock.bind((host, port))
                sock.listen(1)
            except OSError as exc:
                raise _port_error(key, host, port, exc) from None
    finally:
        for sock in held:
            sock.close()


class LocalStack:
    def __init__(self, host: str = "127.0.0.1", api_port: int = 8000, dynamodb_port: int = 8002,
                 wechat_port: int = 8081, tick_seconds: float = 30.0, seed: bool = True,
                 data_dir: Path | None = DEFAULT_DATA_DIR, fresh: bool = False):
        self.host, self.api_port, self.dynamodb_port, self.wechat_port = host, api_port, dynamodb_port, wechat_port
        self.tick_seconds, self.should_seed, self.fresh = tick_seconds, seed, fresh
        self.data_file = Path(data_dir) / DATA_FILE if data_dir is not None else None
        self.endpoints_file = Path(data_dir) / ENDPOINTS_FILE if data_dir is not None else None
        self.api = self.wechat = self.dynamodb = None
        self.wechat_url = ""  # the stand-in's, or an outside WeChat-compatible server's (WECHAT_BASE_URL)
        self.data_note = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._serving = False

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    def _listen(self, key: str, port: int, make):
        """Bind one listener; a port taken since check_ports is the same one-line error."""
        try:
            return make()
        except OSError as exc:
            raise _port_error(key, self.host, port, exc) from None

    def start(self) -> "LocalStack":
        from infra.local import data as local_data
        from infra.local.dynamodb_process import DynamoDBProcess, DynamoDBStartError
        from infra.local.wechat_standin import WeChatStandIn

        # WECHAT_BASE_URL in the environment: an outside WeChat-compatible server (with WECHAT_TEMPLATES,
        # WECHAT_APPID and WECHAT_SECRET from the environment too) instead of the stand-in, which is not started.
        outside_wechat = os.environ.get("WECHAT_BASE_URL", "").strip()
        check_ports(self.host, {"api": self.api_port, "dynamodb": self.dynamodb_port,
                                **({} if outside_wechat else {"wechat": self.wechat_port})})
        self._refuse_a_second_stack()
        saved = None
        if self.data_file is not None and not self.fresh:
            try:  # read before starting anything: an unreadable file stops here, and is never overwritten
                saved = local_data.load(self.data_file)
            except local_data.DataFileError as exc:
                raise StartupError(f"error: {exc}; move it away, or start empty with --fresh (make dev FRESH=1)")

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # its own process, started first: it imports moto while this one goes on (infra/local/dynamodb_process.py)
        self.dynamodb = self._listen("dynamodb", self.dynamodb_port,
                                     lambda: DynamoDBProcess(self.host, self.dynamodb_port).start())
        self.dynamodb_port = self.dynamodb.port
        if outside_wechat:
            self.wechat_url = outside_wechat if outside_wechat.endswith("/") else outside_wechat + "/"
        else:
            self.wechat = self._listen("wechat", self.wechat_port,
                                       lambda: WeChatStandIn(self.host, self.wechat_port).start())
            self.wechat_url = self.wechat.base_url
        os.environ.update({
            "TONGXIN_STAGE": "dev",
            "TABLE_PREFIX": os.environ.get("TABLE_PREFIX", "tongxin-dev"),
            "DYNAMODB_ENDPOINT": self.dynamodb.url,
            "WECHAT_BASE_URL": self.wechat_url,
            # 普通链接二维码: printed codes link to this stack's own API (/c/<code>, /i/<code>, /p/<code>).
            "QR_LINK_BASE": os.environ.get("QR_LINK_BASE") or (self.api_url if self.api_port else ""),
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1"),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            # CloudWatch metrics (EMF lines on stdout) mean nothing locally; the sender's outcomes are in its log.
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
        })
        os.environ.pop("AWS_PROFILE", None)

        from tongxin.adapters.dynamo.binding import create_tables
        from tongxin.config import load_settings
        from tongxin.wiring import Container, set_container

        settings = load_settings()
        if self.wechat is not None and os.environ.get("WECHAT_TEMPLATES"):
            # the templates configured (checked by load_settings) are the stand-in's too: as if added in the console
            from infra.local.wechat_standin import templates_from_config
            for template_id, keywords in templates_from_config(os.environ["WECHAT_TEMPLATES"]).items():
                self.wechat.register_template(template_id, keywords)
        set_container(Container(settings))
        try:
            self.dynamodb.wait_ready()
        except DynamoDBStartError as exc:
            raise StartupError(f"error: {exc}") from None
        create_tables(settings)
        if saved is not None:
            written, skipped = local_data.restore(self._client(), saved)
            self.data_note = f"loaded {written} items from {_shown(self.data_file)}"
            if skipped:
                self.data_note += f" (skipped tables that no longer exist: {', '.join(sorted(skipped))})"
        else:
            if self.should_seed:
                from infra.local.seed import seed
                seed()
            self.data_note = "started empty" + (", demo data seeded" if self.should_seed else "")
            if self.data_file is not None:
                self.data_note += f"; saved to {_shown(self.data_file)} at Ctrl-C"

        from chalice.config import Config
        from infra.local.server import create_server
        import app as api_app

        # The scheduler and the sender first: once the API answers, the stack is up (tests wait for that).
        self.scheduler = _load_function("scheduler")
        self._spawn(self._tick, "scheduler")
        from infra.local.stream import OutboxStreamReader
        self.sender = _load_function("sender")
        reader = OutboxStreamReader(self.dynamodb.url, os.environ["AWS_DEFAULT_REGION"],
                                    settings.table_name("outbox"), self.sender.handler)
        self._spawn(lambda: reader.run(self._stop), "sender")
        self.api = self._listen("api", self.api_port, lambda: create_server(
            api_app.app, Config.create(chalice_stage="dev"), self.host, self.api_port))
        self.api_port = self.api.server.server_port
        self._spawn(self.api.server.serve_forever, "api")
        self._serving = True
        if self.endpoints_file is not None:  # up: the CLI and the invariant checker find it here
            local_data.write_endpoints(self.endpoints_file, api=self.api_url, dynamodb=self.dynamodb.url,
                                       wechat=self.wechat_url, table_prefix=settings.table_prefix,
                                       region=settings.aws_region)
        return self

    def _refuse_a_second_stack(self) -> None:
        """Two stacks on one data dir would overwrite each other's saves and endpoints: the second stops here."""
        if self.endpoints_file is None:
            return
        from tongxin.cli import NoLocalStack, running_local_stack
        try:
            other = running_local_stack(self.endpoints_file.parent)
        except NoLocalStack:  # none, or a stale file (killed): overwritten once this one is up
            return
        if other["pid"] != os.getpid():
            raise StartupError(f"error: another local stack (pid {other['pid']}, API {other['api']}) is running on "
                               f"{_shown(self.endpoints_file.parent)}; stop it first, or give this one its own "
                               f"--data-dir")

    def _client(self):
        import boto3
        return boto3.client("dynamodb", endpoint_url=self.dynamodb.url, region_name=os.environ["AWS_DEFAULT_REGION"],
                            aws_access_key_id="local", aws_secret_access_key="local")

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

    def stop(self, save: bool = True) -> str:
        """Stop everything; first, when the stack came up and ``save``, write the tables to the data file.
        Returns what was saved (or why not), for the console."""
        from infra.local import data as local_data

        note = ""
        if self.endpoints_file is not None:  # stopping: no client may write what the save below would miss
            local_data.remove_endpoints(self.endpoints_file)
        self._stop.set()
        if self.api is not None:
            self.api.server.shutdown()  # no new writes from here on
            self.api.server.server_close()
        for thread in self._threads:
            if thread.name in ("scheduler", "sender"):
                thread.join(timeout=30)  # let a run in progress finish its writes
        if save and self._serving and self.data_file is not None:
            try:
                tables = local_data.dump(self._client())
                local_data.save(self.data_file, tables)
                note = f"saved {local_data.count(tables)} items to {_shown(self.data_file)}"
            except Exception as exc:  # the previous file is left as it was
                note = f"error: could not save the tables to {_shown(self.data_file)}: {exc}"
        for component in (self.wechat, self.dynamodb):
            try:
                if component is not None:
                    component.stop()
            except Exception:  # best effort: stopping must stop everything it can
                pass
        return note

    def banner(self) -> str:
        return "\n".join([
            "同心 Tongxin — local stack is up",
            f"  API              {self.api_url}/v1   (OpenAPI: {self.api_url}/v1/openapi.json)",
            f"  DynamoDB (moto)  {self.dynamodb.url}",
            (f"  WeChat stand-in  {self.wechat_url}   (pushed messages: {self.wechat_url}__dev/messages)"
             if self.wechat is not None else f"  WeChat (outside) {self.wechat_url}   (WECHAT_BASE_URL)"),
            f"  Data             {self.data_note}",
            *([f"  Endpoints        {_shown(self.endpoints_file)} (for python -m tongxin.cli and make invariants)"]
              if self.endpoints_file is not None else []),
            "  Log in:  curl -s -X POST %s/v1/auth/login -H 'Content-Type: application/json' \\" % self.api_url,
            "                -d '{\"code\": \"dev:res1\"}'",
            "  Demo users: admin, grid1, store1, vol1..vol5, res1..res5 (res1 has 200 points),",
            "  street1 (street staff of 同心街道, above the demo community);",
            "  any other dev:<name> is a new user; join with invite DEMOGRID1 or DEMOGRID2.",
            "  Ctrl-C (or SIGTERM) stops everything and saves the data; a second one does not interrupt the save.",
        ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--dynamodb-port", type=int, default=8002)
    parser.add_argument("--wechat-port", type=int, default=8081)
    parser.add_argument("--tick", type=float, default=30.0, help="seconds between scheduler runs")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where the tables are kept across restarts (default: {DEFAULT_DATA_DIR})")
    parser.add_argument("--fresh", action="store_true",
                        help="start empty (demo seed only); the saved file is replaced at the next stop")
    args = parser.parse_args(argv)

    def say_still_stopping(signum: int) -> None:
        # Ctrl-C pressed twice, or a signal to the group: never abort the save for it. os.write, not sys.stderr: a
        # handler runs between any two bytecodes of the main thread, maybe inside a buffered write of its own.
        try:
            os.write(2, f"{signal.Signals(signum).name} again: still stopping, the data is saved first "
                        "(SIGKILL or Ctrl-\\ quits without saving)\n".encode())
        except OSError:  # no stderr (closed terminal): the note is all that is lost
            pass

    stop_signals = StopSignals(on_again=say_still_stopping).install()
    # SIGUSR1 prints every thread's stack to stderr and carries on: what a stop that does not come is waiting on.
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    stack = LocalStack(args.host, args.api_port, args.dynamodb_port, args.wechat_port, args.tick,
                       data_dir=args.data_dir, fresh=args.fresh)
    try:
        stack.start()
    except StartupError as exc:
        stack.stop(save=False)
        sys.stderr.write(f"{exc}\n")
        return 1
    sys.stdout.write(stack.banner() + "\n")
    sys.stdout.flush()
    stop_signals.wait()
    sys.stdout.write("stopping...\n")
    sys.stdout.flush()
    note = stack.stop()
    if note:
        sys.stdout.write(note + "\n")
    sys.stdout.write("stopped\n")
    sys.stdout.flush()
    return 1 if note.startswith("error") else 0


if __name__ == "__main__":
    sys.exit(main())
