"""A local stand-in for WeChat's server API (api.weixin.qq.com).

The stand-in is a real HTTP server on loopback, so the backend's genuine
wechatpy code path (HTTP requests, JSON decoding, errcode handling, token
retries) runs unchanged in development and in tests. It implements the
handful of endpoints Tongxin uses and answers the way WeChat does: HTTP 200
with a JSON body carrying ``errcode``/``errmsg`` on failure.

Besides the WeChat endpoints it offers ``/__dev/...`` endpoints (no access
token, never affected by faults) to inspect sent subscribe messages, mint
phone-number codes, inject faults, see the access tokens (``/__dev/tokens``),
move the stand-in's clock (``/__dev/clock``) and reset state.

Access tokens rotate as WeChat's do (see ``TOKEN_HANDOVER_SECONDS``), on the
stand-in's ``clock``: tests hand in the clock they move.

Fake login codes have the form ``dev:<name>`` (reusable, because the dev
backend sends the same code on every login) or ``dev:<name>#<nonce>``
(one-time, like a real ``wx.login()`` code).

Content checks (``wxa/msg_sec_check``, v2) judge by keyword (``违禁`` risky,
``待审`` review) and, as WeChat does, answer errcode 61010 for an openid that
has not visited the mini-program within two hours: here, one that has not
logged in (jscode2session) within two hours of the stand-in's ``clock``.

Subscribe messages are checked as WeChat checks them: the template must be
one the mini-program added (``DEV_TEMPLATES`` by default; ``/__dev/templates``)
(40037), the data exactly its keywords with values within each keyword type's
rules (47003), the page one of the mini-program's (41030), and an accept left
when the user's accepts are counted (``/__dev/subscriptions``; 43101).

Run it standalone with::

    python -m infra.local.wechat_standin --host 127.0.0.1 --port 8081
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from infra.local.stop_signals import StopSignals
from infra.local.wechat_dev import DevEndpoints
from infra.local.wechat_protocol import (  # noqa: F401 (_WeChatError: re-exported for tests)
    _Endpoint, _Fault, _is_int, _json_response, _Response, _StandInHTTPServer, _RequestHandler, _WeChatError)
from infra.local.wechat_services import (  # noqa: F401 (MINIPROGRAM_PAGES, fake_*: re-exported)
    MINIPROGRAM_PAGES, Services, _check_template, fake_openid, fake_unionid)
from infra.local.wechat_templates import (  # noqa: F401 (re-exported)
    DEV_TEMPLATES, SUBSCRIBE_KEYWORD_TYPES, subscribe_data_error, templates_from_config)
from infra.local.wechat_tokens import AccessTokens, _IssuedToken

__all__ = [
    "DEV_TEMPLATES",
    "MINIPROGRAM_PAGES",
    "SUBSCRIBE_KEYWORD_TYPES",
    "WECHAT_ENDPOINTS",
    "WeChatStandIn",
    "fake_openid",
    "fake_unionid",
    "main",
    "subscribe_data_error",
    "templates_from_config",
]

#: Endpoint paths (relative to the API root) that emulate WeChat. These are
#: the paths accepted by :meth:`WeChatStandIn.set_fault` and used as keys of
#: :attr:`WeChatStandIn.counters`.
WECHAT_ENDPOINTS: tuple[str, ...] = (
    "sns/jscode2session",
    "cgi-bin/token",
    "cgi-bin/stable_token",
    "wxa/msg_sec_check",
    "wxa/business/getuserphonenumber",
    "wxa/getwxacodeunlimit",
    "cgi-bin/message/subscribe/send",
)

FAULT_MODES: tuple[str, ...] = ("none", "error", "hang")

#: How long a request held by a ``hang`` fault waits before answering.
HANG_TIMEOUT_SECONDS = 60.0


# --------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------


class WeChatStandIn(AccessTokens, Services, DevEndpoints):
    """An in-process HTTP server that emulates the WeChat server API.

    All state lives in memory and is guarded by one lock, so the public
    attributes and methods are safe to use from tests while the server
    threads handle requests. The endpoints live by area: the access tokens
    (wechat_tokens.py), the services (wechat_services.py: login, content
    checks, phone numbers, codes, subscribe messages) and ``/__dev``
    (wechat_dev.py); this class holds their state, dispatches and serves.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        appid: str = "wxdevappid",
        secret: str = "devsecret",
        verbose: bool = False,
        clock: Callable[[], float] | None = None,
        templates: dict[str, tuple[str, ...] | list[str]] | None = None,
        strict_accepts: bool = False,
    ) -> None:
        """``clock`` (seconds since the epoch) is when a login happens and when a content check asks for it:
        tests hand in the clock they move (``tongxin.domain.clock``) so two hours can pass without waiting."""
        self.host = host
        self.port = port
        self.appid = appid
        self.secret = secret
        self.verbose = verbose
        self.hang_timeout = HANG_TIMEOUT_SECONDS
        self.clock: Callable[[], float] = clock or time.time

        self._lock = threading.Condition()
        self._server: _StandInHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

        self._messages: list[dict[str, Any]] = []
        self._used_codes: set[str] = set()
        self._phone_codes: dict[str, str] = {}
        self._no_quota: set[str] = set()
        # Access tokens (see TOKEN_HANDOVER_SECONDS): every token issued -> its state; the current one of each kind.
        self._tokens: dict[str, _IssuedToken] = {}
        self._current_token: dict[str, str] = {}  # "plain" (getAccessToken) | "stable" -> token
        self._forced: dict[str, int] = {}  # Asia/Shanghai day -> forced refreshes asked (refused ones not counted)
        self._last_forced_at: float | None = None
        self._token_log: list[dict[str, Any]] = []  # each stable_token call: at, force, refreshed, errcode
        # /__dev/clock: ``clock`` becomes the clock given plus a shift (a driver in another process moves time)
        self._base_clock = self.clock
        self._clock_shift = 0.0
        self._fault: _Fault | None = None
        self._counters: dict[str, int] = {}
        self._wxacodes: list[dict[str, Any]] = []  # what each mini-program code was asked with
        #: The mini-program's pages: a code asked with ``check_path`` for another page is refused (41030).
        self.pages: set[str] = set(MINIPROGRAM_PAGES)
        # Subscribe messages: the templates the mini-program added (id -> keywords; DEV_TEMPLATES unless
        # ``templates`` is given), and the accepts users gave (openid, template id) -> sends left. A pair told of
        # through add_accepts (POST /__dev/subscriptions) is counted: each send takes one, none left is 43101.
        # The stand-in does not see wx.requestSubscribeMessage, so a pair never told of is sent to freely, as
        # before, unless ``strict_accepts``: then it has none (43101), as on WeChat.
        self._configured_templates = {
            template_id: tuple(keywords)
            for template_id, keywords in (DEV_TEMPLATES if templates is None else templates).items()
        }
        for template_id, keywords in self._configured_templates.items():
            _check_template(template_id, keywords)
        self._templates: dict[str, tuple[str, ...]] = dict(self._configured_templates)
        self._accepts: dict[tuple[str, str], int] = {}
        self.strict_accepts = strict_accepts
        self._next_msgid = 1
        self._visits: dict[str, float] = {}  # openid -> when it last logged in (self.clock)
        self._content_checks: list[dict[str, Any]] = []

        self._endpoints: dict[str, _Endpoint] = {
            "sns/jscode2session": _Endpoint("GET", self._jscode2session, wechat=True),
            "cgi-bin/token": _Endpoint("GET", self._token, wechat=True),
            "cgi-bin/stable_token": _Endpoint("POST", self._stable_token_endpoint, wechat=True),
            "wxa/msg_sec_check": _Endpoint(
                "POST", self._msg_sec_check, wechat=True, needs_token=True
            ),
            "wxa/business/getuserphonenumber": _Endpoint(
                "POST", self._get_user_phone_number, wechat=True, needs_token=True
            ),
            "wxa/getwxacodeunlimit": _Endpoint(
                "POST", self._get_wxa_code_unlimit, wechat=True, needs_token=True
            ),
            "cgi-bin/message/subscribe/send": _Endpoint(
                "POST", self._subscribe_send, wechat=True, needs_token=True
            ),
            "__dev/health": _Endpoint("GET", self._dev_health, wechat=False),
            "__dev/messages": _Endpoint("GET", self._dev_messages, wechat=False),
            "__dev/wxacodes": _Endpoint("GET", self._dev_wxacodes, wechat=False),
            "__dev/stats": _Endpoint("GET", self._dev_stats, wechat=False),
            "__dev/phone-codes": _Endpoint("POST", self._dev_phone_codes, wechat=False),
            "__dev/faults": _Endpoint("POST", self._dev_faults, wechat=False),
            "__dev/no-quota": _Endpoint("POST", self._dev_no_quota, wechat=False),
            "__dev/subscriptions": _Endpoint("POST", self._dev_subscriptions, wechat=False),
            "__dev/templates": _Endpoint("POST", self._dev_templates, wechat=False),
            "__dev/expire-tokens": _Endpoint("POST", self._dev_expire_tokens, wechat=False),
            "__dev/tokens": _Endpoint("GET", self._dev_tokens, wechat=False),
            "__dev/clock": _Endpoint("POST", self._dev_clock, wechat=False),
            "__dev/reset": _Endpoint("POST", self._dev_reset, wechat=False),
        }

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> WeChatStandIn:
        """Start serving in a daemon thread. Port 0 picks a free port."""
        if self._server is not None:
            raise RuntimeError("the WeChat stand-in is already running")
        server = _StandInHTTPServer((self.host, self.port), _RequestHandler)
        server.standin = self
        self._stopping = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="wechat-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving. Requests held by a ``hang`` fault are released."""
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> WeChatStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Root URL of the running server, with a trailing slash."""
        if self._server is None:
            raise RuntimeError("the WeChat stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    # -- state inspection and control -------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        """A snapshot of requests served per WeChat endpoint path."""
        with self._lock:
            return dict(self._counters)

    def reset(self) -> None:
        """Forget messages, codes, tokens, faults, no-quota users, counters and logins (visits)."""
        with self._lock:
            self._messages.clear()
            self._used_codes.clear()
            self._phone_codes.clear()
            self._no_quota.clear()
            self._accepts.clear()
            self._templates = dict(self._configured_templates)
            self._forget_tokens()
            self._forced.clear()
            self._last_forced_at = None
            self._token_log.clear()
            self._fault = None
            self._counters.clear()
            self._wxacodes.clear()
            self._next_msgid = 1
            self._visits.clear()
            self._content_checks.clear()
            self._lock.notify_all()

    def set_fault(self, mode: str, paths: list[str] | None = None, errcode: int = -1) -> None:
        """Make WeChat endpoints fail.

        ``error`` answers ``{"errcode": errcode, "errmsg": "system error"}``;
        ``hang`` holds the request until the fault is changed (or
        :attr:`hang_timeout` passes) and then answers the same error;
        ``none`` clears the fault. ``paths`` defaults to every WeChat endpoint.
        """
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
        if not _is_int(errcode):
            raise ValueError("errcode must be an integer")
        if paths is None:
            selected = frozenset(WECHAT_ENDPOINTS)
        else:
            if not paths or not all(isinstance(path, str) for path in paths):
                raise ValueError("paths must be a non-empty list of endpoint paths")
            selected = frozenset(path.strip("/") for path in paths)
            unknown = sorted(selected.difference(WECHAT_ENDPOINTS))
            if unknown:
                raise ValueError(f"unknown endpoint paths: {', '.join(unknown)}")
        with self._lock:
            self._fault = None if mode == "none" else _Fault(mode, selected, errcode)
            self._lock.notify_all()

    @property
    def now(self) -> float:
        """The stand-in's time (``clock``, plus the /__dev/clock shift), seconds since the epoch."""
        return self.clock()

    def set_clock_shift(self, seconds: float) -> None:
        """Answer as if ``seconds`` later than the clock given (POST /__dev/clock): for a driver that cannot share
        the stand-in's clock (another process)."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ValueError("shift_seconds must be a number")
        base, shift = self._base_clock, float(seconds)
        with self._lock:
            self._clock_shift = shift
            self.clock = base if not shift else (lambda: base() + shift)

    # -- request dispatch --------------------------------------------------

    def _dispatch(self, method: str, target: str, raw_body: bytes) -> _Response:
        split = urlsplit(target)
        route = split.path.strip("/")
        query = {
            key: values[0]
            for key, values in parse_qs(split.query, keep_blank_values=True).items()
        }
        endpoint = self._endpoints.get(route)
        if endpoint is None:
            return _json_response({"errcode": -1, "errmsg": "not found"}, 404)
        if method != endpoint.method:
            return _json_response({"errcode": -1, "errmsg": "method not allowed"}, 405)

        try:
            if endpoint.wechat:
                self._count(route)
                self._apply_fault(route)
                if endpoint.needs_token:
                    self._check_access_token(query)
            body = self._parse_body(raw_body, endpoint) if method == "POST" else {}
            try:
                return endpoint.handler(query, body)
            except ValueError as error:
                if endpoint.wechat:
                    raise
                # Dev endpoints delegate to the public methods, which reject bad input this way.
                return _json_response({"errcode": 47001, "errmsg": str(error)}, 400)
        except _WeChatError as error:
            return error.to_response()

    @staticmethod
    def _parse_body(raw_body: bytes, endpoint: _Endpoint) -> dict[str, Any]:
        status = 200 if endpoint.wechat else 400
        if not raw_body.strip() and not endpoint.wechat:
            return {}
        try:
            body = json.loads(raw_body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        if not isinstance(body, dict):
            raise _WeChatError(47001, "data format error", status)
        return body

    def _count(self, route: str) -> None:
        with self._lock:
            self._counters[route] = self._counters.get(route, 0) + 1

    def _fault_for(self, route: str) -> _Fault | None:
        fault = self._fault
        if fault is not None and route in fault.paths:
            return fault
        return None

    def _apply_fault(self, route: str) -> None:
        with self._lock:
            fault = self._fault_for(route)
            if fault is None:
                return
            if fault.mode == "hang":
                deadline = time.monotonic() + self.hang_timeout
                while self._fault_for(route) is fault and not self._stopping:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._lock.wait(remaining)
        raise _WeChatError(fault.errcode, "system error")



# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Serve the stand-in until interrupted (Ctrl-C or SIGTERM)."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.wechat_standin",
        description="Serve a local stand-in for the WeChat server API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--appid", default="wxdevappid")
    parser.add_argument("--secret", default="devsecret")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--templates",
        metavar="JSON",
        help="the subscribe-message templates, as WECHAT_TEMPLATES names them (message kind -> "
        '{"id", "data"}); default: the dev templates (tmpl_<kind>)',
    )
    parser.add_argument(
        "--strict-accepts",
        action="store_true",
        help="a user has no accepts of a template until POST /__dev/subscriptions gives some (43101)",
    )
    args = parser.parse_args(argv)

    standin = WeChatStandIn(
        host=args.host, port=args.port, appid=args.appid, secret=args.secret, verbose=args.verbose,
        templates=templates_from_config(args.templates) if args.templates else None,
        strict_accepts=args.strict_accepts,
    )
    in_main_thread = threading.current_thread() is threading.main_thread()
    stop_signals = StopSignals().install() if in_main_thread else None
    standin.start()
    print(f"WeChat stand-in listening on {standin.base_url} (appid {args.appid})", flush=True)
    try:
        if stop_signals is not None:
            stop_signals.wait()
        else:
            threading.Event().wait()
    except KeyboardInterrupt:  # main() called from another thread keeps the default Ctrl-C
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
