"""The local API server of ``make dev``: Chalice's local server, answering like the deployed API.

chalice.local imitates API Gateway's own answers and leaves the rest to the stdlib: an unknown path is a
403 ``{"message": ...}`` that echoes the Authorization header, an unknown method an HTML 501, oversized or
malformed request heads HTML 4xx, and HEAD writes a body. Here every one of them is our envelope
``{"error": {"code", "message", "details"}}`` as JSON: an unknown path is 404 ``NOT_FOUND`` (the gateway
response the SAM template configures), any method a route lacks is the app's 405 with ``Allow``, HEAD
sends the head only, and a request head the server cannot take is 400/411/413/414/431.

The handler and the server are subclasses handed to chalice's ``LocalDevServer``; nothing global is patched.
"""
from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler

from chalice.local import (
    ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, LocalGateway,
    LocalGatewayException, ThreadedHTTPServer,
)

from chalicelib.http import JSON_UTF8
from tongxin.domain.errors import DomainError, InternalError, NotFound

log = logging.getLogger("tongxin.local")

# API Gateway's payload limit: a larger body would never reach the Lambda function.
MAX_BODY_BYTES = 10 * 1024 * 1024


def _request_target(raw_requestline: bytes, parsed: str) -> str:
    """The request's path and query as UTF-8, as API Gateway reads them. The stdlib reads the request line as
    Latin-1 and splits it on any whitespace, which cuts unescaped UTF-8 (curl with ``?q=志愿者``: its last byte is
    U+0085 in Latin-1, a blank); so the target is taken from the raw line. Not UTF-8: the stdlib's reading."""
    words = raw_requestline.rstrip(b"\r\n").split(b" ")
    if len(words) == 3:
        try:
            return words[1].decode("utf-8")
        except UnicodeError:
            pass
    return parsed


def _error(status: int, code: str, message: str) -> DomainError:
    error = DomainError(message, code=code)
    error.status = status
    return error


# What the stdlib's request parsing refuses (BaseHTTPRequestHandler.send_error), in the envelope.
_STDLIB_ERRORS = {
    400: lambda: _error(400, "BAD_REQUEST", "请求格式不正确"),
    414: lambda: _error(414, "URI_TOO_LONG", "请求地址过长"),
    431: lambda: _error(431, "HEADERS_TOO_LARGE", "请求头过大"),
    505: lambda: _error(505, "HTTP_VERSION_NOT_SUPPORTED", "不支持的 HTTP 版本"),
}


def _body(error: DomainError) -> bytes:
    return json.dumps(error.to_body(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Refused(LocalGatewayException):
    """An answer given before (or instead of) the app: the status and body of a domain error."""

    def __init__(self, error: DomainError, close: bool = False) -> None:
        self.CODE = error.status
        self.close = close
        super().__init__({"Content-Type": JSON_UTF8}, _body(error))


class TongxinGateway(LocalGateway):
    def _generate_lambda_event(self, method, path, headers, body):
        try:
            return super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # no route has this path: what the deployed gateway answers, token not echoed
            raise _Refused(NotFound()) from None

    def _has_user_defined_options_method(self, lambda_event) -> bool:
        # The deployed API defines no OPTIONS (no CORS: mini-programs do not preflight); let the app refuse
        # it with 405 and Allow rather than chalice inventing a CORS answer.
        return True


class TongxinRequestHandler(ChaliceRequestHandler):
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits ~40 ms for the
    # second (delayed ACK). StreamRequestHandler.setup() sets TCP_NODELAY when this is true.
    disable_nagle_algorithm = True
    server_version = "tongxin-local"
    sys_version = ""

    def __init__(self, request, client_address, server, app_object, config) -> None:
        self.local_gateway = TongxinGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def __getattr__(self, name: str):
        # The stdlib answers a method without a do_<METHOD> with an HTML 501; send every method to the
        # gateway instead, so that an unknown one is the app's 405 (or 404 for an unknown path).
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _parse_payload(self):
        if self.headers.get("Transfer-Encoding"):
            # API Gateway takes a Content-Length body; without one the end of the body cannot be found.
            raise _Refused(_error(411, "LENGTH_REQUIRED", "请求需要 Content-Length"), close=True)
        lengths = set(self.headers.get_all("Content-Length") or ["0"])
        length = lengths.pop().strip() if len(lengths) == 1 else ""
        if not length.isdigit():
            raise _Refused(_error(400, "BAD_REQUEST", "Content-Length 不正确"), close=True)
        if int(length) > MAX_BODY_BYTES:
            raise _Refused(_error(413, "PAYLOAD_TOO_LARGE", "请求体过大"), close=True)
        body = self.rfile.read(int(length)) if int(length) else None
        return dict(self.headers), body

    def _generic_handle(self) -> None:
        try:
            headers, body = self._parse_payload()
            response = self.local_gateway.handle_request(method=self.command, path=_request_target(self.raw_requestline, self.path),
                                                         headers=headers, body=body)
            status = response["statusCode"]
            out_headers = {**response["headers"], **response["multiValueHeaders"]}
            body = self._handle_binary(response)["body"]
        except _Refused as refused:
            status, out_headers, body = refused.CODE, dict(refused.headers), refused.body
            if refused.close:  # the rest of what was sent cannot be read as a next request
                self.close_connection = True
                out_headers["Connection"] = "close"
        except Exception:  # the gateway itself failed: log it, answer like the deployed DEFAULT_5XX
            log.exception("local gateway failed on %s %s", self.command, self.path.split("?")[0])
            status, out_headers, body = 500, {"Content-Type": JSON_UTF8}, _body(InternalError())
        self._answer(status, out_headers, body)

    # chalice binds its do_<METHOD> names to its own _generic_handle; bind them to this one.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def version_string(self) -> str:
        return self.server_version

    def _answer(self, status: int, headers: dict, body) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        body = body or b""
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-type")} | {
            "Content-Type": next((v for k, v in headers.items() if k.lower() == "content-type"), JSON_UTF8),
            "Content-Length": str(len(body)),
        }
        if status == 204:  # no body, so neither of its headers
            del headers["Content-Type"], headers["Content-Length"]
        self.send_response(status)
        self._send_headers(headers)
        if self.command != "HEAD" and body:  # HEAD: the head of the answer, never its body
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's refusals (bad request line, head too large, HTTP/2 preface ...) in the envelope."""
        make = _STDLIB_ERRORS.get(code)
        error = make() if make else _error(code, "BAD_REQUEST" if code < 500 else "INTERNAL", "请求有误")
        body = _body(error)
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # still the default: the request line was refused before
            self.request_version = self.protocol_version  # its version was read; answer with a status line
        self.send_response(code)
        self.send_header("Content-Type", JSON_UTF8)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)


class TongxinHTTPServer(ThreadedHTTPServer):
    # The stdlib listens with a backlog of 5: a burst (300 check-ins, 50 claims) must queue, not be dropped
    # and retried a second later.
    request_queue_size = 256


def create_server(app, config, host: str, port: int) -> LocalDevServer:
    """``chalice.local.create_local_server`` with our handler and server (binds ``host:port`` now)."""
    if not isinstance(app, LocalChalice):
        # What create_local_server does: per-thread current_request for a threaded server.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=TongxinRequestHandler,
                          server_cls=TongxinHTTPServer)
