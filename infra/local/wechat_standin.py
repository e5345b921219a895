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
import base64
import copy
import hashlib
import json
import re
import secrets
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from infra.local.stop_signals import StopSignals
from infra.local.wechat_images import _render_jpeg, _render_png
from infra.local.wechat_templates import (  # noqa: F401 (DEV_TEMPLATES, keyword_type: re-exported)
    DEV_TEMPLATES, SUBSCRIBE_KEYWORD_TYPES, keyword_type, subscribe_data_error, templates_from_config)

__all__ = [
    "DEV_TEMPLATES",
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

TOKEN_EXPIRES_IN = 7200
#: Access tokens, as WeChat documents them (getAccessToken, getStableAccessToken; docs/architecture.md, WeChat).
#: A token lives TOKEN_EXPIRES_IN seconds from its issue. getAccessToken issues a new one at every call; the
#: previous one keeps working TOKEN_HANDOVER_SECONDS more. getStableAccessToken in normal mode answers the current
#: token with the time LEFT, and in its last TOKEN_HANDOVER_SECONDS issues a new one (the old working till its own
#: end: any answer has ≥ 300 s left). force_refresh issues a new one at once; the previous one keeps working
#: FORCE_REFRESH_GRACE_SECONDS (WeChat gives no figure: its docs only say two forced refreshes 30 s apart end a
#: leaked token at once, so one alone leaves it a while) and any older one ends; forced refreshes are limited to
#: FORCED_REFRESHES_PER_DAY a day (Asia/Shanghai; beyond: 45009), and one within FORCE_REFRESH_INTERVAL_SECONDS of
#: the last does not refresh (answered as normal mode, still counted). A token unknown or ended early is 40001, one
#: past its end 42001.
TOKEN_HANDOVER_SECONDS = 300
FORCE_REFRESH_GRACE_SECONDS = 30
FORCE_REFRESH_INTERVAL_SECONDS = 30
FORCED_REFRESHES_PER_DAY = 20
QUOTA_SPENT = (45009, "reach max api daily quota limit")
TOKEN_EXPIRED = (42001, "access_token expired")
_SHANGHAI = timezone(timedelta(hours=8))
MAX_SCENE_LENGTH = 32
#: getwxacodeunlimit: the scene's characters, the versions a code may open, and the pages the mini-program has
#: (``WeChatStandIn.pages``), which ``check_path`` (WeChat's default: true) requires the page to be one of.
_SCENE_RE = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+")
_PAGE_RE = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*")
WXACODE_ENV_VERSIONS = ("release", "trial", "develop")
MINIPROGRAM_PAGES = ("pages/index/index", "pages/join/index", "pages/checkin/index",
                     "pages/console/login",  # the staff console's scan-login code (usecases/console.py)
                     # the pages subscribe messages open (usecases/notifications.py, points/): a message's
                     # ``page`` (its path, before any ``?``) must be one of the pages too (41030)
                     "pages/wish/detail", "pages/event/detail", "pages/request/detail", "pages/points/index",
                     "pages/points/redemption",
                     # 双报到: a registration (its member), the registrations to review (admins), a post, a unit
                     "pages/party/registration", "pages/admin/party-registrations", "pages/post/detail",
                     "pages/unit/detail", "pages/co-project/detail",
                     # 微实事: a round (voting, results), a proposed project (its review, progress)
                     "pages/round/detail", "pages/round/project",
                     # 志愿服务记录证明: my certificates (its messages)
                     "pages/certificates/index")
MSG_SEC_CHECK_SCENES = (1, 2, 3, 4)
#: msgSecCheck v2 answers only for an openid that visited the mini-program in the last two hours; otherwise
#: errcode 61010 (用户访问记录超时), whose errmsg WeChat words "code is expired". A visit, here, is a login
#: (jscode2session): the one sign of a user opening the mini-program the stand-in sees.
VISIT_WINDOW_SECONDS = 2 * 3600
VISIT_EXPIRED = (61010, "code is expired")

_DEV_CODE_RE = re.compile(r"dev:(?P<name>[A-Za-z0-9_.-]{1,64})(?P<nonce>#.+)?")
_OPENID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PHONE_RE = re.compile(r"1\d{10}")

_SUBSCRIBE_STATES = ("developer", "trial", "formal")
_SUBSCRIBE_LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")

# Content moderation: keyword -> (suggest, label).
_RISKY_KEYWORD = "违禁"
_REVIEW_KEYWORD = "待审"
_LABEL_NORMAL = 100
_LABEL_ILLEGAL = 20006
_LABEL_OTHER = 21000



def fake_openid(name: str) -> str:
    """Return the stable fake openid (28 chars, like real ones) for a dev login name."""
    return "o" + hashlib.sha256(b"tongxin-dev:" + name.encode("utf-8")).hexdigest()[:27]


def fake_unionid(name: str) -> str:
    """Return the stable fake unionid for a dev login name."""
    return "u" + hashlib.sha256(b"tongxin-dev-unionid:" + name.encode("utf-8")).hexdigest()[:27]


# --------------------------------------------------------------------------
# Internal helpers
# --------------------------------------------------------------------------


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


@dataclass
class _IssuedToken:
    kind: str  # "plain" (getAccessToken) | "stable" (getStableAccessToken)
    ends_at: float  # seconds since the epoch (the stand-in's clock)
    ended_early: bool = False  # cut short by a newer token (a forced refresh, getAccessToken): 40001, not 42001


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


def _check_template(template_id: Any, keywords: Any) -> None:
    """A template as the console has it: an id, and keywords each a type and a number, none twice."""
    if not isinstance(template_id, str) or not _OPENID_RE.fullmatch(template_id):
        raise ValueError("template_id must be letters, digits, - and _")
    if (
        not isinstance(keywords, (list, tuple))
        or not keywords
        or len(set(keywords)) != len(keywords)
        or not all(keyword_type(keyword) for keyword in keywords)
    ):
        raise ValueError(
            f"keywords must be distinct keywords of the types {', '.join(SUBSCRIBE_KEYWORD_TYPES)}"
            " with their numbers (thing27, time4)"
        )


def _utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_token() -> str:
    return secrets.token_urlsafe(48)


# --------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------


class WeChatStandIn:
    """An in-process HTTP server that emulates the WeChat server API.

    All state lives in memory and is guarded by one lock, so the public
    attributes and methods are safe to use from tests while the server
    threads handle requests.
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
    def messages(self) -> list[dict[str, Any]]:
        """A snapshot of the accepted subscribe messages, oldest first."""
        with self._lock:
            return copy.deepcopy(self._messages)

    @property
    def counters(self) -> dict[str, int]:
        """A snapshot of requests served per WeChat endpoint path."""
        with self._lock:
            return dict(self._counters)

    @property
    def content_checks(self) -> list[dict[str, Any]]:
        """The well-formed content checks asked, oldest first: openid, scene, content, and the errcode answered
        (0, or 61010 for a user who has not visited within two hours) with the verdict (``suggest``, or None)."""
        with self._lock:
            return copy.deepcopy(self._content_checks)

    @property
    def wxacodes(self) -> list[dict[str, Any]]:
        """The mini-program codes made, oldest first: scene, page, env_version, check_path, is_hyaline and the
        content type answered (also ``GET /__dev/wxacodes``)."""
        with self._lock:
            return copy.deepcopy(self._wxacodes)

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

    def issue_phone_code(self, phone: str) -> str:
        """Mint a one-time code that getuserphonenumber resolves to ``phone``."""
        if not isinstance(phone, str) or not _PHONE_RE.fullmatch(phone):
            raise ValueError("phone must be 11 digits starting with 1")
        code = secrets.token_hex(32)
        with self._lock:
            self._phone_codes[code] = phone
        return code

    def set_no_quota(self, touser: str) -> None:
        """Make subscribe messages to ``touser`` fail with 43101 (no subscription left)."""
        if not _is_non_empty_str(touser):
            raise ValueError("touser must be a non-empty string")
        with self._lock:
            self._no_quota.add(touser)

    def register_template(self, template_id: str, keywords: tuple[str, ...] | list[str]) -> None:
        """Add (or replace) a template the mini-program uses: its id and its keywords (``thing27``, ``time4`` …),
        as WeChat's console shows them under 我的模板."""
        _check_template(template_id, keywords)
        with self._lock:
            self._templates[template_id] = tuple(keywords)

    @property
    def templates(self) -> dict[str, tuple[str, ...]]:
        """A snapshot of the registered templates: id -> keywords."""
        with self._lock:
            return dict(self._templates)

    def add_accepts(self, touser: str, template_ids: list[str]) -> None:
        """What ``wx.requestSubscribeMessage`` reports accepted: one send more per id (an id twice, two)."""
        if not isinstance(touser, str) or not _OPENID_RE.fullmatch(touser):
            raise ValueError("touser must be an openid")
        if not isinstance(template_ids, list) or not all(_is_non_empty_str(t) for t in template_ids):
            raise ValueError("template_ids must be a list of template ids")
        with self._lock:
            unknown = sorted(set(template_ids) - set(self._templates))
            if unknown:
                raise ValueError(f"unknown template ids: {', '.join(unknown)}")
            for template_id in template_ids:
                key = (touser, template_id)
                self._accepts[key] = self._accepts.get(key, 0) + 1

    def accepts(self, touser: str) -> dict[str, int]:
        """The sends left of ``touser``'s counted accepts, per template id."""
        with self._lock:
            return {tid: n for (user, tid), n in self._accepts.items() if user == touser}

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (unknown from now on: 40001), as a reset appsecret would."""
        with self._lock:
            self._forget_tokens()

    def _forget_tokens(self) -> None:
        self._tokens.clear()
        self._current_token.clear()

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

    def token_error(self, token: Any) -> tuple[int, str] | None:
        """What an API call with ``token`` is answered now: None (accepted), 40001 (unknown, or ended early by a
        newer token) or 42001 (past its end). The check every endpoint that needs a token applies."""
        with self._lock:
            issued = self._tokens.get(token) if isinstance(token, str) else None
            if issued is None:
                return 40001, _invalid_credential().errmsg
            if self.clock() < issued.ends_at:
                return None
            return (40001, _invalid_credential().errmsg) if issued.ended_early else TOKEN_EXPIRED

    @property
    def token_stats(self) -> dict[str, Any]:
        """stable_token calls: ``normal`` (normal-mode calls), ``forced`` (force_refresh calls answered with a
        token), ``refused`` (45009), ``issued`` (new stable tokens), ``forced_by_day`` and ``log`` (each call:
        ``at``, ``force``, ``issued``, ``errcode``), the current stable token's ``expires_at`` and when each stable
        token still working ends (``working``)."""
        with self._lock:
            now = self.clock()
            current = self._tokens.get(self._current_token.get("stable", ""))
            log = [dict(entry) for entry in self._token_log]
            return {
                "working": sorted(issued.ends_at for issued in self._tokens.values()
                                  if issued.kind == "stable" and issued.ends_at > now),
                "normal": sum(1 for entry in log if not entry["force"]),
                "forced": sum(1 for entry in log if entry["force"] and not entry["errcode"]),
                "refused": sum(1 for entry in log if entry["errcode"]),
                "issued": sum(1 for entry in log if entry["issued"]),
                "forced_by_day": dict(self._forced),
                "expires_at": current.ends_at if current is not None else None,
                "log": log,
            }

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

    def _check_access_token(self, query: dict[str, str]) -> None:
        error = self.token_error(query.get("access_token"))
        if error is not None:
            raise _WeChatError(*error)

    def _check_credentials(self, appid: Any, secret: Any) -> None:
        if not _is_non_empty_str(appid):
            raise _WeChatError(41002, "appid missing")
        if appid != self.appid:
            raise _WeChatError(40013, "invalid appid")
        if not _is_non_empty_str(secret):
            raise _WeChatError(41004, "appsecret missing")
        if secret != self.secret:
            raise _WeChatError(40125, "invalid appsecret")

    def _issue_token(self, kind: str, now: float, previous_ends_at: float | None = None) -> str:
        """A new current token of ``kind`` (the lock held); the previous current one ends at ``previous_ends_at``
        (if sooner than its own end), any older one of a forced refresh at once."""
        token = _new_token()
        previous = self._tokens.get(self._current_token.get(kind, ""))
        if previous is not None and previous_ends_at is not None and previous_ends_at < previous.ends_at:
            previous.ends_at, previous.ended_early = max(now, previous_ends_at), True
        self._tokens[token] = _IssuedToken(kind, now + TOKEN_EXPIRES_IN)
        self._current_token[kind] = token
        return token

    def _stable_answer(self, force: bool, now: float) -> tuple[str, float, bool]:
        """(token, time left, issued) of a stable_token call (the lock held; a refused force raises 45009)."""
        current = self._tokens.get(self._current_token.get("stable", ""))
        if force:
            day = datetime.fromtimestamp(now, _SHANGHAI).date().isoformat()
            if self._forced.get(day, 0) >= FORCED_REFRESHES_PER_DAY:
                raise _WeChatError(*QUOTA_SPENT)
            self._forced[day] = self._forced.get(day, 0) + 1
            recent = self._last_forced_at is not None and now - self._last_forced_at < FORCE_REFRESH_INTERVAL_SECONDS
            if not recent:
                self._last_forced_at = now
                for issued in self._tokens.values():  # only the token just replaced keeps a grace
                    if issued.kind == "stable" and issued is not current and issued.ends_at > now:
                        issued.ends_at, issued.ended_early = now, True
                token = self._issue_token("stable", now, now + FORCE_REFRESH_GRACE_SECONDS)
                return token, TOKEN_EXPIRES_IN, True
        if current is not None and now < current.ends_at - TOKEN_HANDOVER_SECONDS:
            return self._current_token["stable"], current.ends_at - now, False
        return self._issue_token("stable", now), TOKEN_EXPIRES_IN, True

    # -- WeChat endpoints --------------------------------------------------

    def _jscode2session(self, query: dict[str, str], _body: dict[str, Any]) -> _Response:
        self._check_credentials(query.get("appid"), query.get("secret"))
        grant_type = query.get("grant_type", "authorization_code")
        if grant_type != "authorization_code":
            raise _WeChatError(40002, "invalid grant_type")
        code = query.get("js_code", "")
        if not code:
            raise _WeChatError(41008, "missing code")
        match = _DEV_CODE_RE.fullmatch(code)
        if match is None:
            raise _WeChatError(40029, "invalid code")
        if match.group("nonce") is not None:
            with self._lock:
                if code in self._used_codes:
                    raise _WeChatError(40163, "code been used")
                self._used_codes.add(code)
        name = match.group("name")
        with self._lock:
            self._visits[fake_openid(name)] = self.clock()
        return _json_response(
            {
                "openid": fake_openid(name),
                "session_key": base64.b64encode(secrets.token_bytes(16)).decode("ascii"),
                "unionid": fake_unionid(name),
            }
        )

    def _token(self, query: dict[str, str], _body: dict[str, Any]) -> _Response:
        if query.get("grant_type") != "client_credential":
            raise _WeChatError(40002, "invalid grant_type")
        self._check_credentials(query.get("appid"), query.get("secret"))
        with self._lock:
            now = self.clock()
            token = self._issue_token("plain", now, now + TOKEN_HANDOVER_SECONDS)
        return _json_response({"access_token": token, "expires_in": TOKEN_EXPIRES_IN})

    def _stable_token_endpoint(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        if body.get("grant_type") != "client_credential":
            raise _WeChatError(40002, "invalid grant_type")
        self._check_credentials(body.get("appid"), body.get("secret"))
        force_refresh = body.get("force_refresh", False)
        if not isinstance(force_refresh, bool):
            raise _data_format_error()
        with self._lock:
            now = self.clock()
            entry: dict[str, Any] = {"at": now, "force": force_refresh, "issued": False, "errcode": 0}
            self._token_log.append(entry)
            try:
                token, left, entry["issued"] = self._stable_answer(force_refresh, now)
            except _WeChatError as refused:
                entry["errcode"] = refused.errcode
                raise
        # The time left, whole seconds (never more than 7200, never rounded up past the token's end).
        return _json_response({"access_token": token, "expires_in": max(0, min(TOKEN_EXPIRES_IN, int(left)))})

    def _msg_sec_check(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        content = body.get("content")
        scene = body.get("scene")
        if (
            not isinstance(content, str)
            or body.get("version") != 2
            or not _is_int(body.get("version"))
            or not _is_int(scene)
            or scene not in MSG_SEC_CHECK_SCENES
            or not _is_non_empty_str(body.get("openid"))
        ):
            raise _data_format_error()
        if _RISKY_KEYWORD in content:
            suggest, label, keyword = "risky", _LABEL_ILLEGAL, _RISKY_KEYWORD
        elif _REVIEW_KEYWORD in content:
            suggest, label, keyword = "review", _LABEL_OTHER, _REVIEW_KEYWORD
        else:
            suggest, label, keyword = "pass", _LABEL_NORMAL, None
        with self._lock:
            visited = self._visits.get(body["openid"])
            stale = visited is None or self.clock() - visited > VISIT_WINDOW_SECONDS
            self._content_checks.append({"openid": body["openid"], "scene": scene, "content": content,
                                         "errcode": VISIT_EXPIRED[0] if stale else 0,
                                         "suggest": None if stale else suggest})
        if stale:
            raise _WeChatError(*VISIT_EXPIRED)

        detail: list[dict[str, Any]] = [
            {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label,
             "prob": 90 if keyword else 0},
        ]
        if keyword:
            detail.append(
                {"strategy": "keyword", "errcode": 0, "suggest": suggest, "label": label,
                 "level": 20, "keyword": keyword}
            )
        trace_id = "-".join(secrets.token_hex(4) for _ in range(3))
        return _json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "result": {"suggest": suggest, "label": label},
                "detail": detail,
                "trace_id": trace_id,
            }
        )

    def _get_user_phone_number(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        code = body.get("code")
        with self._lock:
            phone = self._phone_codes.pop(code, None) if isinstance(code, str) else None
        if phone is None:
            raise _WeChatError(40029, "invalid code")
        return _json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": phone,
                    "purePhoneNumber": phone,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": self.appid},
                },
            }
        )

    def _get_wxa_code_unlimit(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        """As WeChat: a JPEG (``image/jpeg``), or a PNG with a transparent background when ``is_hyaline``; refused
        with 40169 for a scene over 32 characters, 40129 for other characters than WeChat allows, 40097 for an
        ``env_version`` not release/trial/develop, 41030 for a malformed page or, with ``check_path`` (default
        true), one the mini-program does not have (``pages``). Each code is recorded (``wxacodes``)."""
        scene = body.get("scene")
        if not _is_non_empty_str(scene) or len(scene) > MAX_SCENE_LENGTH:
            raise _WeChatError(40169, "invalid length for scene, or the data is not json string")
        if not _SCENE_RE.fullmatch(scene):
            raise _WeChatError(40129, "invalid scene")
        env_version = body.get("env_version", "release")
        if env_version not in WXACODE_ENV_VERSIONS:
            raise _WeChatError(40097, "invalid args")
        check_path, is_hyaline = body.get("check_path", True), body.get("is_hyaline", False)
        if not isinstance(check_path, bool):
            raise _argument_invalid("check_path")
        if not isinstance(is_hyaline, bool):
            raise _argument_invalid("is_hyaline")
        page = body.get("page")
        if page is not None and (not isinstance(page, str) or not _PAGE_RE.fullmatch(page)
                                 or (check_path and page not in self.pages)):
            raise _WeChatError(41030, "invalid page")
        content_type = "image/png" if is_hyaline else "image/jpeg"
        with self._lock:
            self._wxacodes.append({"scene": scene, "page": page, "env_version": env_version,
                                   "check_path": check_path, "is_hyaline": is_hyaline,
                                   "content_type": content_type, "received_at": _utc_now_iso()})
        seed = scene.encode("utf-8")
        image = _render_png(seed, hyaline=True) if is_hyaline else _render_jpeg(seed)
        return _Response(200, image, content_type)

    def _subscribe_send(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        touser = body.get("touser")
        if not isinstance(touser, str) or not _OPENID_RE.fullmatch(touser):
            raise _WeChatError(40003, "invalid openid")
        template_id = body.get("template_id")
        with self._lock:
            keywords = self._templates.get(template_id) if isinstance(template_id, str) else None
        if keywords is None:
            raise _WeChatError(40037, "invalid template_id")
        page = body.get("page")
        if page is not None and not isinstance(page, str):
            raise _argument_invalid("page")
        if page and page.split("?", 1)[0] not in self.pages:
            raise _WeChatError(41030, "invalid page")
        if body.get("miniprogram_state", "formal") not in _SUBSCRIBE_STATES:
            raise _argument_invalid("miniprogram_state")
        if body.get("lang", "zh_CN") not in _SUBSCRIBE_LANGS:
            raise _argument_invalid("lang")
        data = body.get("data")
        problem = subscribe_data_error(keywords, data)
        if problem is not None:
            raise _WeChatError(47003, problem)

        with self._lock:
            counted = (touser, template_id)
            if touser in self._no_quota or (
                (counted in self._accepts or self.strict_accepts) and self._accepts.get(counted, 0) < 1
            ):
                raise _WeChatError(43101, "user refuse to accept the msg")
            if counted in self._accepts:
                self._accepts[counted] -= 1
            msgid = self._next_msgid
            self._next_msgid += 1
            self._messages.append(
                {
                    "touser": touser,
                    "template_id": template_id,
                    "page": page,
                    "data": copy.deepcopy(data),
                    "received_at": _utc_now_iso(),
                    "msgid": msgid,
                }
            )
        return _json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    # -- dev endpoints -----------------------------------------------------

    def _dev_health(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"status": "ok"})

    def _dev_messages(self, query: dict[str, str], _body: dict[str, Any]) -> _Response:
        items = self.messages
        touser = query.get("touser")
        if touser:
            items = [item for item in items if item["touser"] == touser]
        return _json_response({"items": items})

    def _dev_stats(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"counters": self.counters})

    def _dev_wxacodes(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"items": self.wxacodes})

    def _dev_phone_codes(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        return _json_response({"code": self.issue_phone_code(body.get("phone"))})

    def _dev_faults(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        paths = body.get("paths")
        if paths is not None and not isinstance(paths, list):
            raise ValueError("paths must be a list of endpoint paths")
        self.set_fault(body.get("mode"), paths, body.get("errcode", -1))
        return _json_response({"status": "ok"})

    def _dev_no_quota(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        self.set_no_quota(body.get("touser"))
        return _json_response({"status": "ok"})

    def _dev_subscriptions(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        """``{"touser": openid, "template_ids": [...]}``: what the user accepted in wx.requestSubscribeMessage
        (the mini-program tells WeChat; here, tests and tools do); answers the sends left per template."""
        touser = body.get("touser")
        self.add_accepts(touser, body.get("template_ids"))
        return _json_response({"status": "ok", "accepts": self.accepts(touser)})

    def _dev_templates(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        """``{"template_id": id, "keywords": ["thing1", ...]}``: a template added in the console (我的模板)."""
        self.register_template(body.get("template_id"), body.get("keywords"))
        return _json_response({"status": "ok"})

    def _dev_expire_tokens(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        self.expire_tokens()
        return _json_response({"status": "ok"})

    def _dev_tokens(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"now": self.now, "shift_seconds": self._clock_shift, **self.token_stats})

    def _dev_clock(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        self.set_clock_shift(body.get("shift_seconds"))
        return _json_response({"now": self.now, "shift_seconds": self._clock_shift})

    def _dev_reset(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        self.reset()
        return _json_response({"status": "ok"})


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class _StandInHTTPServer(ThreadingHTTPServer):
    # Handler threads are daemons and are not joined on close, so a request
    # held by a "hang" fault can never block stop() or interpreter exit.
    daemon_threads = True
    # Bursts of concurrent logins must queue, not be dropped (the default backlog is 5).
    request_queue_size = 256
    standin: WeChatStandIn


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
