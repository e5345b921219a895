"""The WeChat stand-in's wire (infra/local/wechat_standin.py and its endpoint modules): answers as WeChat gives them
(HTTP 200 with ``errcode``/``errmsg`` on failure), the endpoint table's rows, the small checks the endpoints share,
and the HTTP server that hands each request to the stand-in's ``_dispatch``."""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"


def _json_response(payload: dict[str, Any], status: int = 200) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


class _WeChatError(Exception):
    """An error answered in WeChat's format (HTTP 200 unless stated otherwise)."""

    def __init__(self, errcode: int, errmsg: str, status: int = 200) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.status = status

    def to_response(self) -> _Response:
        return _json_response({"errcode": self.errcode, "errmsg": self.errmsg}, self.status)


def _data_format_error() -> _WeChatError:
    return _WeChatError(47001, "data format error")


def _invalid_credential() -> _WeChatError:
    return _WeChatError(40001, "invalid credential, access_token is invalid or not latest")


def _argument_invalid(field: str) -> _WeChatError:
    return _WeChatError(47003, f"argument invalid! {field} invalid")




@dataclass(frozen=True)
class _Fault:
    mode: str
    paths: frozenset[str]
    errcode: int


@dataclass(frozen=True)
class _Endpoint:
    method: str
    handler: Callable[[dict[str, str], dict[str, Any]], _Response]
    wechat: bool
    needs_token: bool = False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_non_empty_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""



def _utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class _StandInHTTPServer(ThreadingHTTPServer):
    # Handler threads are daemons and are not joined on close, so a request
    # held by a "hang" fault can never block stop() or interpreter exit.
    daemon_threads = True
    # Bursts of concurrent logins must queue, not be dropped (the default backlog is 5).
    request_queue_size = 256
    standin: Any  # the WeChatStandIn served: its _dispatch answers every request


class _RequestHandler(BaseHTTPRequestHandler):
    server: _StandInHTTPServer
    server_version = "WeChatStandIn/1.0"

    def do_GET(self) -> None:  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            response = _json_response({"errcode": -1, "errmsg": "invalid Content-Length"}, 400)
        else:
            raw_body = self.rfile.read(length) if length else b""
            try:
                response = self.server.standin._dispatch(self.command, self.path, raw_body)
            except Exception:  # a bug in the stand-in: report it, but still answer
                traceback.print_exc()
                response = _json_response({"errcode": -1, "errmsg": "system error"}, 500)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, e.g. it timed out on a "hang" fault

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        if self.server.standin.verbose:
            super().log_message(format, *args)
