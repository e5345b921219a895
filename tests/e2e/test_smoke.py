"""``make smoke URL=…`` (infra/deploy/smoke.py), the deployed smoke test, run against the real local stack over HTTP: as
the local stack (the dev login accepted), told the stack is deployed (the dev login must then be refused: a
failure), against a stack whose WeChat refuses made-up codes as WeChat does (a deployed stage's answers), behind
API Gateway's raw answers (a stage deployed without our gateway responses), against a self-signed certificate and
against a port where nothing listens."""
from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.local.stack import free_port
from infra.local.wechat_standin import WeChatStandIn, _WeChatError, fake_openid
from tests.stack import ROOT, Client, checked_stack, stack_env, stack_fixture

pytestmark = pytest.mark.e2e

stack = stack_fixture("smoke")

CHECKS = ["GET /v1/health", "GET /v1/openapi.json", "GET an unknown path", "GET /v1/me without a token",
          "GET /v1/me with a forged token", "OPTIONS /v1/me (CORS preflight)",
          "GET /v1/certificates/verify, made-up number"]


CHECK_LINE = re.compile(r"(?P<mark>[✓✗]) (?P<what>.+?) +(?P<ms>\d+) ms  (?P<detail>.+)")


def smoke(*args: str, make: bool = False, **make_vars: str) -> tuple[int, str]:
    """``python -m infra.deploy.smoke ARGS`` (or ``make smoke VAR=…``): its exit code and output."""
    command = (["make", "--no-print-directory", "smoke", *(f"{k}={v}" for k, v in make_vars.items())] if make
               else [sys.executable, "-m", "infra.deploy.smoke", *args])
    done = subprocess.run(command, cwd=ROOT, env={**stack_env(), "PYTHONIOENCODING": "utf-8"}, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    return done.returncode, done.stdout + done.stderr


def check_lines(output: str) -> dict[str, tuple[bool, str]]:
    """Each check's line: what → (passed, the rest of the line)."""
    lines = {}
    for line in output.splitlines():
        if line[:1] in ("✓", "✗"):
            match = CHECK_LINE.fullmatch(line)
            assert match, f"not a check line (mark, what, milliseconds, detail): {line!r}"
            lines[match["what"]] = (match["mark"] == "✓", match["detail"])
    return lines


def failed(lines: dict[str, tuple[bool, str]]) -> set[str]:
    return {what for what, (passed, _) in lines.items() if not passed}


def test_make_smoke_passes_on_the_local_stack_with_a_real_login_and_shows_no_secret(stack):
    code = f"dev:smoke-operator#{uuid.uuid4().hex}"  # single-use, as a real wx.login code
    status, output = smoke(make=True, URL=stack.api_url + "/v1/", CODE=code)
    lines = check_lines(output)
    assert status == 0, output
    assert list(lines) == CHECKS + ["POST /v1/auth/login dev:smoke (accepted)", "GET /v1/me with the dev login's token",
                                    "POST /v1/auth/login with the wx.login code", "GET /v1/me with its token"]
    assert not failed(lines), output
    assert "all checks passed" in output and "OpenAPI 3.1" in lines["GET /v1/openapi.json"][1]
    # the real login's /v1/me named the user that code logs in (the same user as any later login of that name)
    operator = Client(stack.api_url).login("smoke-operator").user["id"]
    assert lines["GET /v1/me with its token"][1] == f"200, {operator}"
    assert "eyJ" not in output and code not in output  # no token (a JWT starts so), not the code either
    assert fake_openid("smoke") not in output and fake_openid("smoke-operator") not in output


def test_told_deployed_the_local_stack_fails_on_its_dev_login_only(stack):
    status, output = smoke(stack.api_url, "--deployed")
    lines = check_lines(output)
    assert status == 1, output
    assert failed(lines) == {"POST /v1/auth/login dev:smoke (refused)"}, output
    assert "dev login ACCEPTED" in lines["POST /v1/auth/login dev:smoke (refused)"][1]
    assert "1 check(s) failed" in output


def test_a_loopback_address_is_taken_for_the_local_stack_and_non_loopback_http_is_refused(stack):
    status, output = smoke(stack.api_url.replace("127.0.0.1", "localhost"))
    assert status == 0 and "as the local stack" in output, output
    status, output = smoke("http://api.example.cn")
    assert status == 2 and "HTTPS domains only" in output and not check_lines(output), output


def test_nothing_listening_stops_at_the_first_check_with_a_clear_message():
    status, output = smoke(f"http://127.0.0.1:{free_port()}")
    lines = check_lines(output)
    assert status == 2, output
    assert list(lines) == ["GET /v1/health"] and "connection refused" in lines["GET /v1/health"][1], output
    assert "cannot be reached" in output


# --- a deployed stage's WeChat: no reusable dev codes ------------------------------------------------------------

class WeChatWithoutDevCodes(WeChatStandIn):
    """As WeChat: every code works once. The stand-in's reusable ``dev:<name>`` codes are refused (40029, what WeChat
    answers for a made-up code); the single-use ``dev:<name>#<nonce>`` ones stand for real wx.login codes."""

    def _jscode2session(self, query, body):
        if "#" not in query.get("js_code", ""):
            raise _WeChatError(40029, "invalid code")
        return super()._jscode2session(query, body)


@pytest.fixture(scope="module")
def deployed_like(tmp_path_factory):
    wechat = WeChatWithoutDevCodes().start()
    try:
        with checked_stack(tmp_path_factory.mktemp("smoke-deployed") / "stack.log",
                           env={"WECHAT_BASE_URL": wechat.base_url}) as running:
            yield running
    finally:
        wechat.stop()


def test_a_stage_whose_wechat_refuses_made_up_codes_passes_as_deployed(deployed_like):
    code = f"dev:smoke-deployed#{uuid.uuid4().hex}"
    status, output = smoke(deployed_like.api_url, "--deployed", "--code", code)
    lines = check_lines(output)
    assert status == 0, output
    assert not failed(lines) and len(lines) == len(CHECKS) + 3, output
    assert lines["POST /v1/auth/login dev:smoke (refused)"][1].startswith("401 WECHAT_CODE_INVALID")
    # expecting the dev login there (as for the local stack) is a failure naming it
    status, output = smoke(deployed_like.api_url, "--expect-dev-login")
    lines = check_lines(output)
    assert status == 1 and failed(lines) == {"POST /v1/auth/login dev:smoke (accepted)",
                                             "GET /v1/me with the dev login's token"}, output
    assert "dev login refused on the local stack: 401" in lines["POST /v1/auth/login dev:smoke (accepted)"][1]


def test_a_used_code_is_reported_with_what_to_do(deployed_like):
    code = f"dev:smoke-used#{uuid.uuid4().hex}"
    Client(deployed_like.api_url).http.post(deployed_like.api_url + "/v1/auth/login", json={"code": code}, timeout=30)
    status, output = smoke(deployed_like.api_url, "--deployed", "--code", code)
    lines = check_lines(output)
    assert status == 1 and failed(lines) == {"POST /v1/auth/login with the wx.login code",
                                             "GET /v1/me with its token"}, output
    assert "WECHAT_CODE_INVALID" in lines["POST /v1/auth/login with the wx.login code"][1]
    assert "get a new one" in lines["POST /v1/auth/login with the wx.login code"][1]


# --- API Gateway without our gateway responses; TLS ----------------------------------------------------------------

def serve(handler_class, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def bare_gateway(api_url: str):
    """A proxy to the stack answering as API Gateway does for a path or method it lacks when the template declares no
    gateway responses: 403 ``{"message": "Missing Authentication Token"}`` (where the stack says 404 or 405)."""

    class Gateway(BaseHTTPRequestHandler):
        def handle_one(self):
            length = int(self.headers.get("Content-Length") or 0)
            request = urllib.request.Request(api_url + self.path, data=self.rfile.read(length) or None,
                                             method=self.command, headers=dict(self.headers))
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    status, headers, body = resp.status, resp.headers, resp.read()
            except urllib.error.HTTPError as exc:
                status, headers, body = exc.code, exc.headers, exc.read()
            if status in (404, 405):
                status, body = 403, json.dumps({"message": "Missing Authentication Token"}).encode()
            self.send_response(status)
            for name in ("Content-Type", "x-amzn-RequestId"):
                if headers.get(name):
                    self.send_header(name, headers[name])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_OPTIONS = handle_one

        def log_message(self, *args):
            pass

    return Gateway


def test_a_stage_without_our_gateway_responses_fails_on_the_envelope(stack):
    server = serve(bare_gateway(stack.api_url))
    try:
        status, output = smoke(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    lines = check_lines(output)
    assert status == 1, output
    assert failed(lines) == {"GET an unknown path", "OPTIONS /v1/me (CORS preflight)"}, output
    assert lines["GET an unknown path"][1].startswith("403 (expected 404)")


def self_signed(tmp_path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_a_certificate_that_does_not_verify_stops_the_run(stack, tmp_path):
    server = serve(bare_gateway(stack.api_url), tls=self_signed(tmp_path))
    try:
        status, output = smoke(f"https://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    lines = check_lines(output)
    assert status == 2, output
    assert list(lines) == ["GET /v1/health"] and "does not verify" in lines["GET /v1/health"][1], output
