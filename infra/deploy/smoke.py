"""``make smoke URL=https://api.example.cn [CODE=<a wx.login code>]``: a short check of a deployed stage (or of the
local stack) over HTTP, one line per check (✓/✗, what, milliseconds), exit 1 on any failure.

Read-only by design, but for two writes the API makes on its own: the logins (the user item a login makes or
finds) and the public certificate check's per-address minute counter (a TTL item, its rate limit). Nothing else is
written, so it can run against production at any time. Standard library only: it runs from an operator's machine.

The dev login (``POST /v1/auth/login {"code": "dev:smoke"}``) exists only on the local stack, whose WeChat stand-in
accepts ``dev:`` codes; a deployed stage sends the code to WeChat, which refuses it (401 WECHAT_CODE_INVALID). The
check expects one or the other: the local stack for a loopback address, a deployed stage for any other host
(``--expect-dev-login`` / ``--deployed`` say it instead; health does not name the stage). With ``--code`` (or
``SMOKE_CODE``), a real wx.login code from the mini-program's 体验版 debugger, it also logs in for real and reads
``GET /v1/me``. No token, openid, unionid or session_key is ever printed; an answer naming one is a failure.

Exit codes: 0 every check passed; 1 a check failed; 2 the API could not be reached (nothing listens, no such host,
a TLS certificate that does not verify, a timeout: the first check stops the run) or the arguments are wrong.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

TIMEOUT_SECONDS = 5.0
DEV_LOGIN_CODE = "dev:smoke"
# What must never be in an answer (docs/api.md, design.md): WeChat's identifiers and the session key.
SECRET_NAMES = ("openid", "unionid", "session_key")
USER_AGENT = "tongxin-smoke/1"


class Failed(Exception):
    """A check's expectation did not hold: the message says what was seen."""


class Unreachable(Exception):
    """No HTTP answer at all: nothing listens, no such host, TLS refused, a timeout."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failed(f"{self.status}, not JSON: {self.text[:120]!r}") from None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to report (an http:// URL sent to https://, a wrong base path), not one to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Api:
    base: str
    timeout: float = TIMEOUT_SECONDS
    _opener: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # TLS verified against the system's CAs (SSL_CERT_FILE names another bundle); the environment's proxy
        # (HTTPS_PROXY) for a deployed stage, never for a loopback stack (a proxy would answer for it instead)
        tls = ssl.create_default_context()
        proxies = urllib.request.ProxyHandler({} if is_loopback(self.base) else None)
        self._opener = urllib.request.build_opener(proxies, _NoRedirect(), urllib.request.HTTPSHandler(context=tls))

    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> Answer:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"User-Agent": USER_AGENT, "Accept": "application/json",
                                                  **({"Content-Type": "application/json"} if data else {}),
                                                  **(headers or {})})
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                answer = Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as exc:  # any status ≥ 400 (and the redirects not followed)
            answer = Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())
        except (urllib.error.URLError, OSError) as exc:
            scheme = urllib.parse.urlsplit(self.base).scheme
            proxy = None if is_loopback(self.base) else urllib.request.getproxies().get(scheme)
            via = f" (through the proxy {urllib.parse.urlsplit(proxy).netloc.rpartition('@')[2]})" if proxy else ""
            raise Unreachable(_why_unreachable(self.base, exc) + via) from None  # the proxy's password not shown
        for name in SECRET_NAMES:
            if f'"{name}"' in answer.text.lower():
                raise Failed(f"the answer to {method} {path} names {name}: nothing of WeChat's may leave the server")
        return answer


def _why_unreachable(base: str, exc: Exception) -> str:
    reason = getattr(exc, "reason", exc)
    host = urllib.parse.urlsplit(base).netloc
    if isinstance(reason, ConnectionRefusedError):
        return f"cannot connect to {host}: connection refused (nothing listens there)"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve {host}: {reason.strerror or reason} (DNS: is the domain's record in place?)"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate of {host} does not verify: {reason.verify_message or reason}"
    if isinstance(reason, ssl.SSLError):
        return f"TLS with {host} failed: {reason}"
    if isinstance(reason, (TimeoutError, socket.timeout)) or "timed out" in str(reason):
        return f"no answer from {host} within the timeout"
    return f"cannot reach {host}: {reason}"


def envelope(answer: Answer, status: int | tuple[int, ...], code: str | tuple[str, ...] | None = None) -> dict:
    """The API's error envelope ``{"error": {"code", "message", "details"}}`` with this status (and code)."""
    statuses = (status,) if isinstance(status, int) else status
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    if answer.status not in statuses:
        raise Failed(f"{answer.status} (expected {'/'.join(map(str, statuses))}): {answer.text[:160]}")
    if not (isinstance(error, dict) and set(body) == {"error"} and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str) and error["message"] and isinstance(error.get("details"), dict)):
        raise Failed(f"{answer.status} but not the error envelope: {answer.text[:160]}")
    codes = (code,) if isinstance(code, str) else code
    if codes and error["code"] not in codes:
        raise Failed(f"{answer.status} {error['code']} (expected {'/'.join(codes)}): {error['message']}")
    return error


def _forged_token() -> str:
    """A well-formed HS256 token signed with a key nobody has: the API must say bad_signature, never accept it."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    now = int(time.time())
    signing_input = part({"alg": "HS256", "typ": "JWT"}) + "." + part(
        {"iss": "tongxin", "sub": "u_smoke_forged", "iat": now, "exp": now + 600})
    signature = hmac.new(secrets.token_bytes(32), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


# --- the checks: each returns what it saw (printed after ✓) or raises Failed ---------------------------------------

def check_health(api: Api) -> str:
    answer = api.call("GET", "/v1/health")
    if answer.status == 503:
        raise Failed(f"503: the API runs but its tables do not answer ({answer.text[:120]})")
    body = answer.json()
    if answer.status != 200 or body != {"status": "ok"}:
        raise Failed(f"{answer.status} {answer.text[:120]} (expected 200 {{\"status\": \"ok\"}})")
    if not answer.header("x-amzn-RequestId"):
        raise Failed("200 ok but no x-amzn-RequestId header (every answer carries the request's id)")
    return "200 ok, x-amzn-RequestId present"


def check_openapi(api: Api) -> str:
    answer = api.call("GET", "/v1/openapi.json")
    if answer.status != 200:
        raise Failed(f"{answer.status}: {answer.text[:120]}")
    doc = answer.json()
    version = (doc.get("info") or {}).get("version") if isinstance(doc, dict) else None
    if not (str(doc.get("openapi", "")).startswith("3.") and version and isinstance(doc.get("paths"), dict)):
        raise Failed(f"not an OpenAPI 3 document: {answer.text[:120]}")
    missing = [p for p in ("/v1/health", "/v1/auth/login", "/v1/me") if p not in doc["paths"]]
    if missing:
        raise Failed(f"OpenAPI {doc['openapi']} without {', '.join(missing)}")
    return f"OpenAPI {doc['openapi']}, API version {version}, {len(doc['paths'])} paths"


def check_unknown_path(api: Api) -> str:
    path = f"/v1/smoke-no-such-path-{secrets.token_hex(4)}"
    envelope(api.call("GET", path), 404, "NOT_FOUND")
    return "404 NOT_FOUND in the envelope"


def check_me_without_token(api: Api) -> str:
    error = envelope(api.call("GET", "/v1/me"), 401, "UNAUTHENTICATED")
    if error["details"].get("reason") != "missing_token":
        raise Failed(f"401 with reason {error['details'].get('reason')!r} (expected missing_token)")
    return "401 UNAUTHENTICATED, missing_token"


def check_me_with_bad_token(api: Api) -> str:
    error = envelope(api.call("GET", "/v1/me", headers={"Authorization": f"Bearer {_forged_token()}"}),
                     401, "UNAUTHENTICATED")
    if error["details"].get("reason") != "bad_signature":
        raise Failed(f"401 with reason {error['details'].get('reason')!r} (expected bad_signature)")
    return "401 UNAUTHENTICATED, bad_signature"


def check_preflight(api: Api) -> str:
    """The API serves no CORS (wx.request does not preflight; the console is same-origin): a preflight from another
    origin is refused in the envelope (405 locally, API Gateway's 404 for a method the path lacks), never allowed."""
    answer = api.call("OPTIONS", "/v1/me", headers={"Origin": "https://smoke.invalid",
                                                    "Access-Control-Request-Method": "GET"})
    allowed = answer.header("Access-Control-Allow-Origin")
    if allowed:
        raise Failed(f"{answer.status} with Access-Control-Allow-Origin: {allowed} "
                     "(the API opens itself to other sites)")
    error = envelope(answer, (404, 405), ("NOT_FOUND", "METHOD_NOT_ALLOWED"))
    return f"{answer.status} {error['code']}, no Access-Control-Allow-Origin"


def check_certificate(api: Api) -> str:
    query = urllib.parse.urlencode({"number": "TXZM-2000-SMOK-000000", "name": "烟测"})
    answer = api.call("GET", f"/v1/certificates/verify?{query}")
    if answer.status == 429:
        envelope(answer, 429, "RATE_LIMITED")
        return "429 RATE_LIMITED in the envelope (20 checks a minute from this address)"
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict) or body.get("valid") is not False:
        raise Failed(f"{answer.status} {answer.text[:160]} (expected 200 with valid: false)")
    if any(value is not None for key, value in body.items() if key != "valid"):
        raise Failed(f"a made-up number answered more than valid: false: {answer.text[:160]}")
    return "200 valid: false, every other field null"


def login(api: Api, code: str) -> tuple[Answer, dict | None]:
    answer = api.call("POST", "/v1/auth/login", {"code": code})
    if answer.status != 200:
        return answer, None
    body = answer.json()
    if not (isinstance(body, dict) and isinstance(body.get("token"), str) and body["token"]
            and isinstance((body.get("user") or {}).get("id"), str)):
        raise Failed(f"200 without {{token, user.id}}: keys {sorted(body) if isinstance(body, dict) else body!r}")
    return answer, body


def read_me(api: Api, session: dict) -> str:
    answer = api.call("GET", "/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
    me = answer.json()
    if answer.status != 200 or not isinstance(me, dict) or me.get("id") != session["user"]["id"]:
        raise Failed(f"{answer.status} {answer.text[:160]} (expected 200, the user the login named)")
    return f"200, {me['id']}"


def dev_login_checks(api: Api, expect_dev_login: bool) -> list[tuple[str, Callable[[], str]]]:
    state: dict = {}

    def dev_login() -> str:
        answer, session = login(api, DEV_LOGIN_CODE)
        if expect_dev_login:
            if session is None:
                raise Failed(f"dev login refused on the local stack: {answer.status} {answer.text[:160]}")
            state["session"] = session
            return "200 accepted (the local stack's WeChat stand-in)"
        if session is not None:
            raise Failed("dev login ACCEPTED: a deployed stage must send login codes to WeChat, which refuses "
                         "made-up ones (is WECHAT_BASE_URL pointing at a stand-in?)")
        if answer.status == 503:
            envelope(answer, 503)
            raise Failed("503: WeChat did not answer, or refused the stage's appid/secret (log: 'wechat call failed')")
        envelope(answer, 401, "WECHAT_CODE_INVALID")
        return "401 WECHAT_CODE_INVALID: refused by WeChat, as on every deployed stage"

    checks = [(f"POST /v1/auth/login {DEV_LOGIN_CODE} ({'accepted' if expect_dev_login else 'refused'})", dev_login)]
    if expect_dev_login:
        checks.append(("GET /v1/me with the dev login's token", lambda: read_me(api, _session(state))))
    return checks


def real_login_checks(api: Api, code: str) -> list[tuple[str, Callable[[], str]]]:
    state: dict = {}

    def real_login() -> str:
        answer, session = login(api, code)
        if session is None:
            error = envelope(answer, (400, 401, 403, 429, 503))
            used = error["code"] == "WECHAT_CODE_INVALID"
            hint = " (a wx.login code works once, for 5 minutes: get a new one)" if used else ""
            raise Failed(f"{answer.status} {error['code']}: {error['message']}{hint}")
        state["session"] = session
        return f"200, token of {session['user']['id']} (not shown)"

    return [("POST /v1/auth/login with the wx.login code", real_login),
            ("GET /v1/me with its token", lambda: read_me(api, _session(state)))]


def _session(state: dict) -> dict:
    if "session" not in state:
        raise Failed("skipped: the login before it failed")
    return state["session"]


# --- running ----------------------------------------------------------------------------------------------------

def is_loopback(base: str) -> bool:
    host = urllib.parse.urlsplit(base).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise(url: str) -> str:
    """The API's base: the URL as given without a trailing ``/`` or ``/v1`` (an execute-api URL keeps its stage)."""
    base = url.strip().rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def plan(api: Api, expect_dev_login: bool, code: str | None) -> list[tuple[str, Callable[[], str]]]:
    checks = [("GET /v1/health", lambda: check_health(api)),
              ("GET /v1/openapi.json", lambda: check_openapi(api)),
              ("GET an unknown path", lambda: check_unknown_path(api)),
              ("GET /v1/me without a token", lambda: check_me_without_token(api)),
              ("GET /v1/me with a forged token", lambda: check_me_with_bad_token(api)),
              ("OPTIONS /v1/me (CORS preflight)", lambda: check_preflight(api)),
              ("GET /v1/certificates/verify, made-up number", lambda: check_certificate(api))]
    checks += dev_login_checks(api, expect_dev_login)
    if code:
        checks += real_login_checks(api, code)
    return checks


def _marks() -> tuple[str, str]:
    try:
        "✓✗".encode(sys.stdout.encoding or "ascii")
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "OK", "FAIL"


def run(base: str, *, expect_dev_login: bool, code: str | None = None, timeout: float = TIMEOUT_SECONDS,
        out=print) -> int:
    api = Api(base, timeout)
    ok_mark, fail_mark = _marks()
    failures = 0
    for what, check in plan(api, expect_dev_login, code):
        started = time.perf_counter()
        try:
            detail, passed = check(), True
        except Failed as exc:
            detail, passed = str(exc), False
        except Unreachable as exc:
            ms = (time.perf_counter() - started) * 1000
            out(f"{fail_mark} {what:<46} {ms:6.0f} ms  {exc}")
            out(f"smoke: stopped, {base} cannot be reached")
            return 2
        ms = (time.perf_counter() - started) * 1000
        failures += not passed
        out(f"{ok_mark if passed else fail_mark} {what:<46} {ms:6.0f} ms  {detail}")
    out(f"smoke: {'all checks passed' if not failures else f'{failures} check(s) failed'} against {base}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy.smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the API's base URL, e.g. https://api.example.cn (the custom domain) or an "
                                    "execute-api URL with its stage")
    stage = parser.add_mutually_exclusive_group()
    stage.add_argument("--expect-dev-login", action="store_true",
                      help="the local stack: the dev login must be accepted (the default for a loopback address)")
    stage.add_argument("--deployed", action="store_true",
                      help="a deployed stage: the dev login must be refused (the default for any other host)")
    parser.add_argument("--code", default=os.environ.get("SMOKE_CODE") or None,
                        help="a real wx.login code (体验版 debugger) to log in with and read GET /v1/me; "
                             "also from SMOKE_CODE")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per request (default 5)")
    args = parser.parse_args(argv)
    base = normalise(args.url)
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        parser.error(f"not an http(s) URL: {args.url!r}")
    local = args.expect_dev_login or (not args.deployed and is_loopback(base))
    if parts.scheme == "http" and not is_loopback(base):
        print(f"smoke: {base} is plain HTTP: wx.request reaches HTTPS domains only", file=sys.stderr)
        return 2
    kind = "the local stack (dev login accepted)" if local else "a deployed stage (dev login refused)"
    print(f"smoke: {base} as {kind}"
          f"{', with a real login' if args.code else ''}; timeout {args.timeout:g} s")
    return run(base, expect_dev_login=local, code=args.code, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
