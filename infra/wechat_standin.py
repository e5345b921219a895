"""A local stand-in for WeChat's server API (api.weixin.qq.com).

The stand-in is a real HTTP server on loopback, so the backend's genuine
wechatpy code path (HTTP requests, JSON decoding, errcode handling, token
retries) runs unchanged in development and in tests. It implements the
handful of endpoints Tongxin uses and answers the way WeChat does: HTTP 200
with a JSON body carrying ``errcode``/``errmsg`` on failure.

Besides the WeChat endpoints it offers ``/__dev/...`` endpoints (no access
token, never affected by faults) to inspect sent subscribe messages, mint
phone-number codes, inject faults and reset state.

Fake login codes have the form ``dev:<name>`` (reusable, because the dev
backend sends the same code on every login) or ``dev:<name>#<nonce>``
(one-time, like a real ``wx.login()`` code).

Run it standalone with::

    python -m infra.wechat_standin --host 127.0.0.1 --port 8081
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import re
import secrets
import signal
import struct
import threading
import time
import traceback
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "WECHAT_ENDPOINTS",
    "WeChatStandIn",
    "fake_openid",
    "fake_unionid",
    "main",
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
MAX_SCENE_LENGTH = 32
MSG_SEC_CHECK_SCENES = (1, 2, 3, 4)

_DEV_CODE_RE = re.compile(r"dev:(?P<name>[A-Za-z0-9_.-]{1,64})(?P<nonce>#.+)?")
_OPENID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PHONE_RE = re.compile(r"1\d{10}")

# Maximum value length per subscribe-message keyword type, as documented by
# WeChat. Keys are the keyword type prefix of a data key ("thing1" -> "thing").
_SUBSCRIBE_VALUE_LIMITS: tuple[tuple[str, int], ...] = (
    ("character_string", 32),
    ("phone_number", 17),
    ("car_number", 8),
    ("thing", 20),
    ("phrase", 5),
    ("name", 20),
    ("number", 32),
    ("letter", 32),
    ("symbol", 5),
)
_SUBSCRIBE_STATES = ("developer", "trial", "formal")
_SUBSCRIBE_LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")

# Content moderation: keyword -> (suggest, label).
_RISKY_KEYWORD = "违禁"
_REVIEW_KEYWORD = "待审"
_LABEL_NORMAL = 100
_LABEL_ILLEGAL = 20006
_LABEL_OTHER = 21000

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


def _subscribe_value_limit(key: str) -> int | None:
    for prefix, limit in _SUBSCRIBE_VALUE_LIMITS:
        if key.startswith(prefix):
            return limit
    return None


def _utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_token() -> str:
    return secrets.token_urlsafe(48)


def _render_png(seed: bytes, size: int = 64, cells: int = 16) -> bytes:
    """Render a valid grayscale PNG whose black/white cells derive from ``seed``.

    The image is a ``cells`` x ``cells`` grid (one bit of SHA-256 per cell), so
    equal seeds give identical images and different seeds visibly differ.
    """
    digest = hashlib.sha256(seed).digest()
    cell_size = size // cells
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type "None" for this scanline
        for x in range(size):
            bit = (y // cell_size) * cells + (x // cell_size)
            dark = (digest[bit // 8] >> (7 - bit % 8)) & 1
            rows.append(0 if dark else 255)

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (
        _PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


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
    ) -> None:
        self.host = host
        self.port = port
        self.appid = appid
        self.secret = secret
        self.verbose = verbose
        self.hang_timeout = HANG_TIMEOUT_SECONDS

        self._lock = threading.Condition()
        self._server: _StandInHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

        self._messages: list[dict[str, Any]] = []
        self._used_codes: set[str] = set()
        self._phone_codes: dict[str, str] = {}
        self._no_quota: set[str] = set()
        self._valid_tokens: set[str] = set()
        self._stable_token: str | None = None
        self._fault: _Fault | None = None
        self._counters: dict[str, int] = {}
        self._next_msgid = 1

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
            "__dev/stats": _Endpoint("GET", self._dev_stats, wechat=False),
            "__dev/phone-codes": _Endpoint("POST", self._dev_phone_codes, wechat=False),
            "__dev/faults": _Endpoint("POST", self._dev_faults, wechat=False),
            "__dev/no-quota": _Endpoint("POST", self._dev_no_quota, wechat=False),
            "__dev/expire-tokens": _Endpoint("POST", self._dev_expire_tokens, wechat=False),
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

    def reset(self) -> None:
        """Forget messages, codes, tokens, faults, no-quota users and counters."""
        with self._lock:
            self._messages.clear()
            self._used_codes.clear()
            self._phone_codes.clear()
            self._no_quota.clear()
            self._valid_tokens.clear()
            self._stable_token = None
            self._fault = None
            self._counters.clear()
            self._next_msgid = 1
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

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far."""
        with self._lock:
            self._valid_tokens.clear()
            self._stable_token = None

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
        with self._lock:
            if query.get("access_token") not in self._valid_tokens:
                raise _invalid_credential()

    def _check_credentials(self, appid: Any, secret: Any) -> None:
        if not _is_non_empty_str(appid):
            raise _WeChatError(41002, "appid missing")
        if appid != self.appid:
            raise _WeChatError(40013, "invalid appid")
        if not _is_non_empty_str(secret):
            raise _WeChatError(41004, "appsecret missing")
        if secret != self.secret:
            raise _WeChatError(40125, "invalid appsecret")

    def _issue_token(self) -> str:
        token = _new_token()
        with self._lock:
            self._valid_tokens.add(token)
        return token

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
        return _json_response({"access_token": self._issue_token(), "expires_in": TOKEN_EXPIRES_IN})

    def _stable_token_endpoint(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        if body.get("grant_type") != "client_credential":
            raise _WeChatError(40002, "invalid grant_type")
        self._check_credentials(body.get("appid"), body.get("secret"))
        force_refresh = body.get("force_refresh", False)
        if not isinstance(force_refresh, bool):
            raise _data_format_error()
        with self._lock:
            if force_refresh or self._stable_token not in self._valid_tokens:
                self._stable_token = _new_token()
                self._valid_tokens.add(self._stable_token)
            token = self._stable_token
        return _json_response({"access_token": token, "expires_in": TOKEN_EXPIRES_IN})

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
        scene = body.get("scene")
        if not _is_non_empty_str(scene) or len(scene) > MAX_SCENE_LENGTH:
            raise _WeChatError(40169, "invalid length for scene")
        return _Response(200, _render_png(scene.encode("utf-8")), "image/png")

    def _subscribe_send(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        touser = body.get("touser")
        if not isinstance(touser, str) or not _OPENID_RE.fullmatch(touser):
            raise _WeChatError(40003, "invalid openid")
        template_id = body.get("template_id")
        if not _is_non_empty_str(template_id):
            raise _WeChatError(40037, "invalid template_id")
        page = body.get("page")
        if page is not None and not isinstance(page, str):
            raise _argument_invalid("page")
        if body.get("miniprogram_state", "formal") not in _SUBSCRIBE_STATES:
            raise _argument_invalid("miniprogram_state")
        if body.get("lang", "zh_CN") not in _SUBSCRIBE_LANGS:
            raise _argument_invalid("lang")
        data = body.get("data")
        self._validate_subscribe_data(data)

        with self._lock:
            if touser in self._no_quota:
                raise _WeChatError(43101, "user refuse to accept the msg")
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

    @staticmethod
    def _validate_subscribe_data(data: Any) -> None:
        if not isinstance(data, dict) or not data:
            raise _WeChatError(47003, "argument invalid! data is empty")
        for key, entry in data.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
                raise _argument_invalid(f"data.{key}.value")
            value = entry["value"]
            limit = _subscribe_value_limit(key)
            if _has_control_characters(value) or (limit is not None and len(value) > limit):
                raise _argument_invalid(f"data.{key}.value")

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

    def _dev_expire_tokens(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        self.expire_tokens()
        return _json_response({"status": "ok"})

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
        prog="python -m infra.wechat_standin",
        description="Serve a local stand-in for the WeChat server API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--appid", default="wxdevappid")
    parser.add_argument("--secret", default="devsecret")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    standin = WeChatStandIn(
        host=args.host, port=args.port, appid=args.appid, secret=args.secret, verbose=args.verbose
    )
    stopping = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # Our own handlers for Ctrl-C and `kill`/`docker stop`: under nohup or a CI runner SIGINT may be
        # inherited as ignored (SIG_IGN), and relying on KeyboardInterrupt would never stop.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _signum, _frame: stopping.set())
    standin.start()
    print(f"WeChat stand-in listening on {standin.base_url} (appid {args.appid})", flush=True)
    try:
        stopping.wait()
    except KeyboardInterrupt:  # main() called from another thread keeps the default Ctrl-C
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
