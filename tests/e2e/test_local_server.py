"""The local API server (``make dev``) answers what API Gateway and the stdlib would answer on their own
(unknown path, unknown method, HEAD, request heads it cannot take) in our envelope, as JSON, without echoing
the caller's token, and keeps a keep-alive connection usable after each."""
import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.stack import checked_stack

pytestmark = pytest.mark.e2e

JSON_UTF8 = "application/json; charset=utf-8"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJlLXNlY3JldA"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with checked_stack(tmp_path_factory.mktemp("server") / "stack.log") as running:
        yield running


def _envelope(status: int, headers, body: bytes, code: str) -> dict:
    assert headers["Content-Type"] == JSON_UTF8, headers
    payload = json.loads(body)
    assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message", "details"}, payload
    assert payload["error"]["code"] == code, payload
    assert any("\u4e00" <= ch <= "\u9fff" for ch in payload["error"]["message"])  # Chinese for the user
    return payload


def _raw(stack, data: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send raw bytes on a new connection; read the answer until the server closes it."""
    url = urlsplit(stack.api_url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("auth", [{"Authorization": f"Bearer {TOKEN}"}, {}], ids=["bearer", "anonymous"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_path_is_our_404_and_never_echoes_the_token(stack, method, auth):
    resp = requests.request(method, stack.api_url + "/v1/no-such-thing/42", headers=auth, timeout=10)
    assert resp.status_code == 404
    _envelope(resp.status_code, resp.headers, resp.content, "NOT_FOUND")
    assert TOKEN not in resp.text and all(TOKEN not in v for v in resp.headers.values())
    assert not any(k.lower().startswith("x-amzn") for k in resp.headers)


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "OPTIONS", "DELETE"])
def test_a_method_the_route_lacks_is_405_with_allow(stack, method):
    resp = requests.request(method, stack.api_url + "/v1/health", timeout=10)
    assert resp.status_code == 405
    _envelope(resp.status_code, resp.headers, resp.content, "METHOD_NOT_ALLOWED")
    assert resp.headers["Allow"] == "GET"


def test_head_sends_no_body_and_the_connection_stays_usable(stack):
    url = urlsplit(stack.api_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("HEAD", "/v1/health")
        head = conn.getresponse()
        assert head.status == 405 and head.getheader("Allow") == "GET"
        assert head.getheader("Content-Type") == JSON_UTF8
        assert head.read() == b""
        # Had the server written a body after the head, this answer would be read from its bytes.
        conn.request("GET", "/v1/health")
        after = conn.getresponse()
        assert after.status == 200 and json.loads(after.read()) == {"status": "ok"}
    finally:
        conn.close()


@pytest.mark.parametrize("request_bytes, status, code", [
    (b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431, "HEADERS_TOO_LARGE"),
    (b"GET /v1/health HTTP/1.1\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(120)) + b"\r\n",
     431, "HEADERS_TOO_LARGE"),
    (b"GET /v1/" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414, "URI_TOO_LONG"),
    (b"NONSENSE\r\n\r\n", 400, "BAD_REQUEST"),
    (b"GET /v1/health HTTP/2.0\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
    (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400, "BAD_REQUEST"),
    (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
     400, "BAD_REQUEST"),
    (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
     411, "LENGTH_REQUIRED"),
    (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413, "PAYLOAD_TOO_LARGE"),
], ids=["header-line-too-long", "too-many-headers", "uri-too-long", "garbage", "http2", "bad-length",
        "two-lengths", "chunked", "too-large"])
def test_request_heads_the_server_cannot_take_are_enveloped_and_close(stack, request_bytes, status, code):
    got, headers, body = _raw(stack, request_bytes)
    assert got == status
    _envelope(got, headers, body, code)
    assert headers.get("Connection") == "close"  # the rest of the bytes cannot be read as a next request


def test_the_server_still_serves_after_all_that(stack):
    assert requests.get(stack.api_url + "/v1/health", timeout=10).json() == {"status": "ok"}
    assert "Traceback" not in stack.output()


def test_a_query_sent_as_raw_utf8_reads_as_utf8_like_the_gateway(stack):
    """curl sends ``?q=志愿者`` unescaped; API Gateway reads it as UTF-8, and so must the local server (the stdlib
    reads the request line as Latin-1, which made the text look like control characters: 400)."""
    token = requests.post(stack.api_url + "/v1/auth/login", json={"code": "dev:admin"}, timeout=10).json()["token"]
    escaped = requests.get(stack.api_url + "/v1/admin/members", params={"q": "志愿者"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert escaped.status_code == 200 and escaped.json()["items"], escaped.text
    status, _headers, body = _raw(stack, "GET /v1/admin/members?q=志愿者 HTTP/1.1\r\nHost: x\r\n"
                                          f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode())
    assert status == 200, body
    assert json.loads(body)["items"] == escaped.json()["items"]
