"""Tests for the WeChat API stand-in, driven over real HTTP.

Where wechatpy has a helper for an endpoint the test goes through it, so the
stand-in is checked against the client the backend actually uses; the
remaining endpoints are called with ``requests`` or ``client.post``.
"""

from __future__ import annotations

import base64
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from infra.wechat_standin import WECHAT_ENDPOINTS, WeChatStandIn, fake_openid, fake_unionid

APPID = "wxdevappid"
SECRET = "devsecret"
REPO_ROOT = Path(__file__).resolve().parents[2]


class StandInClient(WeChatClient):
    """A wechatpy client pointed at the stand-in.

    wechatpy 1.8.18 hard-codes https://api.weixin.qq.com/cgi-bin/token in
    ``fetch_access_token``, so that method is redirected too; the API base
    URLs are plain attributes and are overridden per instance.
    """

    def __init__(self, base_url: str, **kwargs):
        super().__init__(APPID, SECRET, **kwargs)
        self.standin_base_url = base_url
        self.API_BASE_URL = base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.standin_base_url + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


@pytest.fixture(scope="module")
def standin():
    server = WeChatStandIn().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset(standin):
    standin.reset()
    yield
    standin.reset()


@pytest.fixture
def base_url(standin) -> str:
    return standin.base_url


@pytest.fixture
def client(base_url) -> StandInClient:
    return StandInClient(base_url, timeout=5)


@pytest.fixture
def token(base_url) -> str:
    response = requests.get(
        base_url + "cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
        timeout=5,
    )
    return response.json()["access_token"]


def post_wechat(base_url: str, path: str, token: str, payload) -> requests.Response:
    return requests.post(base_url + path, params={"access_token": token}, json=payload, timeout=5)


def assert_errcode(excinfo: pytest.ExceptionInfo, errcode: int) -> None:
    assert excinfo.value.errcode == errcode, excinfo.value.errmsg


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Minimal PNG reader: checks signature and chunk CRCs, returns (width, height, pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        tag = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF
        chunks.append((tag, body))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    pixels = zlib.decompress(b"".join(body for tag, body in chunks if tag == b"IDAT"))
    return width, height, pixels


# -- identities ---------------------------------------------------------------


def test_fake_identities_are_stable_and_openid_shaped():
    assert fake_openid("alice") == fake_openid("alice")
    assert fake_openid("alice") != fake_openid("bob")
    assert len(fake_openid("alice")) == 28 and fake_openid("alice").startswith("o")
    assert fake_unionid("alice").startswith("u") and fake_unionid("alice") != fake_openid("alice")


# -- login (jscode2session) ---------------------------------------------------


def test_code_to_session_returns_the_dev_identity(client):
    result = client.wxa.code_to_session("dev:alice")

    assert result["openid"] == fake_openid("alice")
    assert result["unionid"] == fake_unionid("alice")
    assert len(result["session_key"]) == 24
    assert len(base64.b64decode(result["session_key"])) == 16


def test_plain_dev_code_is_reusable_and_keeps_the_openid(client):
    first = client.wxa.code_to_session("dev:alice")
    second = client.wxa.code_to_session("dev:alice")

    assert first["openid"] == second["openid"] == fake_openid("alice")
    assert first["session_key"] != second["session_key"]


def test_one_time_dev_code_cannot_be_used_twice(client):
    assert client.wxa.code_to_session("dev:alice#n1")["openid"] == fake_openid("alice")
    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.code_to_session("dev:alice#n1")
    assert_errcode(excinfo, 40163)
    assert excinfo.value.errmsg == "code been used"
    # A fresh nonce is a fresh code.
    assert client.wxa.code_to_session("dev:alice#n2")["openid"] == fake_openid("alice")


@pytest.mark.parametrize("code", ["081abcDEF", "dev:", "dev:bad name", "dev:" + "a" * 65, "dev:é"])
def test_unknown_codes_are_invalid(client, code):
    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.code_to_session(code)
    assert_errcode(excinfo, 40029)


@pytest.mark.parametrize(
    ("appid", "secret", "errcode"),
    [(APPID, "wrong", 40125), ("wxother", SECRET, 40013)],
)
def test_login_checks_app_credentials(base_url, appid, secret, errcode):
    response = requests.get(
        base_url + "sns/jscode2session",
        params={"appid": appid, "secret": secret, "js_code": "dev:alice",
                "grant_type": "authorization_code"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["errcode"] == errcode


def test_login_needs_no_access_token(base_url):
    response = requests.get(
        base_url + "sns/jscode2session",
        params={"appid": APPID, "secret": SECRET, "js_code": "dev:bob",
                "grant_type": "authorization_code"},
        timeout=5,
    )
    assert response.json()["openid"] == fake_openid("bob")


# -- access tokens ------------------------------------------------------------


def stable_token(base_url: str, force_refresh: bool = False, secret: str = SECRET) -> dict:
    payload = {"grant_type": "client_credential", "appid": APPID, "secret": secret,
               "force_refresh": force_refresh}
    return requests.post(base_url + "cgi-bin/stable_token", json=payload, timeout=5).json()


def test_stable_token_is_stable_until_force_refresh(base_url):
    first = stable_token(base_url)
    second = stable_token(base_url)
    refreshed = stable_token(base_url, force_refresh=True)

    assert first["expires_in"] == 7200
    assert first["access_token"] == second["access_token"]
    assert refreshed["access_token"] != first["access_token"]


def test_token_endpoints_reject_wrong_secret(base_url):
    assert stable_token(base_url, secret="wrong")["errcode"] == 40125
    response = requests.get(
        base_url + "cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APPID, "secret": "wrong"},
        timeout=5,
    )
    assert response.json() == {"errcode": 40125, "errmsg": "invalid appsecret"}


def test_token_endpoint_rotates_and_old_tokens_stay_valid(base_url, token):
    newer = requests.get(
        base_url + "cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
        timeout=5,
    ).json()["access_token"]
    assert newer != token
    for current in (token, newer):
        response = post_wechat(base_url, "wxa/getwxacodeunlimit", current, {"scene": "x"})
        assert response.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("params", [{}, {"access_token": "forged"}])
def test_wechat_endpoints_require_an_issued_access_token(base_url, params):
    response = requests.post(
        base_url + "wxa/msg_sec_check",
        params=params,
        json={"content": "hello", "version": 2, "scene": 2, "openid": fake_openid("alice")},
        timeout=5,
    )
    assert response.json() == {
        "errcode": 40001,
        "errmsg": "invalid credential, access_token is invalid or not latest",
    }


def test_expired_tokens_are_rejected_and_wechatpy_refetches(standin, base_url, client, token):
    requests.post(base_url + "__dev/expire-tokens", timeout=5).raise_for_status()
    rejected = post_wechat(base_url, "wxa/getwxacodeunlimit", token, {"scene": "x"})
    assert rejected.json()["errcode"] == 40001

    # The client holds a token issued before the expiry; wechatpy sees 40001,
    # fetches a new token and retries transparently.
    stale_client = StandInClient(base_url, access_token=token, timeout=5)
    result = stale_client.wxa.send_subscribe_message(
        fake_openid("alice"), "tpl-1", {"thing1": {"value": "hello"}}
    )

    assert result["errcode"] == 0
    assert standin.counters["cgi-bin/token"] == 2  # the fixture's token + the refetch
    assert standin.counters["cgi-bin/message/subscribe/send"] == 2
    assert len(standin.messages) == 1


# -- content security ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "suggest", "label_check"),
    [
        ("今天一起去跑步吧", "pass", lambda label: label == 100),
        ("这里有违禁内容", "risky", lambda label: label >= 20001),
        ("这条内容待审", "review", lambda label: label != 100),
    ],
)
def test_msg_sec_check_v2_verdicts(client, base_url, content, suggest, label_check):
    result = client.post(
        "wxa/msg_sec_check",
        data={"content": content, "version": 2, "scene": 2, "openid": fake_openid("alice")},
        api_base_url=base_url,
    )

    assert result["errcode"] == 0 and result["errmsg"] == "ok"
    assert result["result"]["suggest"] == suggest
    assert label_check(result["result"]["label"])
    assert result["detail"] and result["trace_id"]


VALID_CHECK = {"content": "hi", "version": 2, "scene": 1, "openid": "oAbc"}


@pytest.mark.parametrize(
    "payload",
    [
        {key: value for key, value in VALID_CHECK.items() if key != "version"},
        {**VALID_CHECK, "version": 1},
        {**VALID_CHECK, "scene": 0},
        {**VALID_CHECK, "scene": 5},
        {key: value for key, value in VALID_CHECK.items() if key != "openid"},
        {key: value for key, value in VALID_CHECK.items() if key != "content"},
    ],
)
def test_msg_sec_check_rejects_malformed_requests(base_url, token, payload):
    response = post_wechat(base_url, "wxa/msg_sec_check", token, payload)
    assert response.json() == {"errcode": 47001, "errmsg": "data format error"}


def test_malformed_json_body_is_a_data_format_error(base_url, token):
    response = requests.post(
        base_url + "wxa/msg_sec_check", params={"access_token": token}, data=b"{not json",
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json() == {"errcode": 47001, "errmsg": "data format error"}


def test_wechatpy_text_check_helper_sends_the_legacy_v1_payload(client):
    # wechatpy's check_text_security posts only {"content"}; the v2 API needs
    # version/scene/openid, so the backend must call client.post itself.
    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.check_text_security("hello")
    assert_errcode(excinfo, 47001)


# -- phone numbers ------------------------------------------------------------


def test_phone_code_resolves_once(client, base_url):
    code = requests.post(
        base_url + "__dev/phone-codes", json={"phone": "13800138000"}, timeout=5
    ).json()["code"]

    result = client.post(
        "wxa/business/getuserphonenumber", data={"code": code}, api_base_url=base_url
    )
    info = result["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13800138000"
    assert info["countryCode"] == "86"
    assert info["watermark"]["appid"] == APPID
    assert isinstance(info["watermark"]["timestamp"], int)

    with pytest.raises(WeChatClientException) as excinfo:
        client.post("wxa/business/getuserphonenumber", data={"code": code}, api_base_url=base_url)
    assert_errcode(excinfo, 40029)


@pytest.mark.parametrize("phone", ["23800138000", "1380013800", "1380013800a", None])
def test_phone_code_issuer_validates_the_number(base_url, phone):
    response = requests.post(base_url + "__dev/phone-codes", json={"phone": phone}, timeout=5)
    assert response.status_code == 400
    assert "errmsg" in response.json()


# -- mini-program codes -------------------------------------------------------


def test_wxa_code_is_a_png_derived_from_the_scene(client):
    response = client.wxa.get_wxa_code_unlimited("t=abc123", page="pages/join/index")

    # wechatpy returns the raw requests.Response when the body is not JSON.
    assert isinstance(response, requests.Response)
    assert response.headers["Content-Type"] == "image/png"
    width, height, pixels = decode_png(response.content)
    assert (width, height) == (64, 64)
    assert len(pixels) == 64 * (64 + 1)

    again = client.wxa.get_wxa_code_unlimited("t=abc123")
    other = client.wxa.get_wxa_code_unlimited("t=xyz789")
    assert again.content == response.content
    assert other.content != response.content


@pytest.mark.parametrize("payload", [{"scene": "s" * 33}, {"page": "pages/index/index"}])
def test_wxa_code_rejects_bad_scene(base_url, token, payload):
    response = post_wechat(base_url, "wxa/getwxacodeunlimit", token, payload)
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"errcode": 40169, "errmsg": "invalid length for scene"}


def test_wechatpy_surfaces_scene_errors(client):
    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.get_wxa_code_unlimited("s" * 33)
    assert_errcode(excinfo, 40169)


# -- subscribe messages -------------------------------------------------------


def test_subscribe_message_is_recorded_and_listed(standin, client, base_url):
    alice, bob = fake_openid("alice"), fake_openid("bob")
    data = {"thing1": {"value": "周末羽毛球"}, "time2": {"value": "2024-05-01 10:00"}}

    first = client.wxa.send_subscribe_message(alice, "tpl-activity", data, page="pages/a/a")
    second = client.wxa.send_subscribe_message(bob, "tpl-activity", data)

    assert first["errcode"] == 0 and isinstance(first["msgid"], int)
    assert second["msgid"] != first["msgid"]

    items = requests.get(base_url + "__dev/messages", timeout=5).json()["items"]
    assert [item["touser"] for item in items] == [alice, bob]
    assert items[0]["template_id"] == "tpl-activity"
    assert items[0]["page"] == "pages/a/a"
    assert items[0]["data"] == data
    assert items[0]["received_at"].endswith("Z")
    assert items == standin.messages

    only_bob = requests.get(base_url + "__dev/messages", params={"touser": bob}, timeout=5)
    assert [item["touser"] for item in only_bob.json()["items"]] == [bob]


@pytest.mark.parametrize(
    ("data", "errmsg"),
    [
        ({"thing1": {"value": "一" * 21}}, "argument invalid! data.thing1.value invalid"),
        ({"phrase2": {"value": "六个字的短语"}}, "argument invalid! data.phrase2.value invalid"),
        ({"character_string3": {"value": "x" * 33}},
         "argument invalid! data.character_string3.value invalid"),
        ({"name4": {"value": "n" * 21}}, "argument invalid! data.name4.value invalid"),
        ({"phone_number5": {"value": "1" * 18}},
         "argument invalid! data.phone_number5.value invalid"),
        ({"number6": {"value": "9" * 33}}, "argument invalid! data.number6.value invalid"),
        ({"thing1": {"value": "two\nlines"}}, "argument invalid! data.thing1.value invalid"),
        ({"thing1": {"value": 42}}, "argument invalid! data.thing1.value invalid"),
        ({"thing1": "bare string"}, "argument invalid! data.thing1.value invalid"),
        ({}, "argument invalid! data is empty"),
    ],
)
def test_subscribe_message_field_limits(standin, client, data, errmsg):
    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.send_subscribe_message(fake_openid("alice"), "tpl", data)
    assert_errcode(excinfo, 47003)
    assert excinfo.value.errmsg == errmsg
    assert standin.messages == []


def test_subscribe_message_limits_are_inclusive(client):
    data = {"thing1": {"value": "一" * 20}, "phrase2": {"value": "五个字短语"}}
    assert client.wxa.send_subscribe_message(fake_openid("alice"), "tpl", data)["errcode"] == 0


@pytest.mark.parametrize(
    ("touser", "template_id", "errcode"), [("", "tpl", 40003), (fake_openid("a"), "", 40037)]
)
def test_subscribe_message_requires_recipient_and_template(client, touser, template_id, errcode):
    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.send_subscribe_message(touser, template_id, {"thing1": {"value": "x"}})
    assert_errcode(excinfo, errcode)


def test_subscribe_message_without_quota_is_refused(standin, client, base_url):
    alice = fake_openid("alice")
    requests.post(base_url + "__dev/no-quota", json={"touser": alice}, timeout=5).raise_for_status()

    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.send_subscribe_message(alice, "tpl", {"thing1": {"value": "x"}})

    assert_errcode(excinfo, 43101)
    assert excinfo.value.errmsg == "user refuse to accept the msg"
    assert standin.messages == []


# -- faults -------------------------------------------------------------------


def set_fault(base_url: str, **payload) -> None:
    requests.post(base_url + "__dev/faults", json=payload, timeout=5).raise_for_status()


def test_error_fault_hits_only_the_selected_endpoints(client, base_url):
    set_fault(base_url, mode="error", paths=["sns/jscode2session"], errcode=-1)

    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.code_to_session("dev:alice")
    assert_errcode(excinfo, -1)
    assert excinfo.value.errmsg == "system error"
    assert client.wxa.get_wxa_code_unlimited("x").headers["Content-Type"] == "image/png"

    set_fault(base_url, mode="none")
    assert client.wxa.code_to_session("dev:alice")["openid"] == fake_openid("alice")


def test_faults_default_to_all_endpoints_but_spare_dev_endpoints(base_url):
    set_fault(base_url, mode="error", errcode=45009)

    response = stable_token(base_url)
    assert response == {"errcode": 45009, "errmsg": "system error"}
    assert requests.get(base_url + "__dev/health", timeout=5).json() == {"status": "ok"}


def test_invalid_fault_requests_are_rejected(base_url):
    for payload in ({"mode": "explode"}, {"mode": "error", "paths": ["wxa/unknown"]}):
        response = requests.post(base_url + "__dev/faults", json=payload, timeout=5)
        assert response.status_code == 400


def test_hang_fault_times_out_until_cleared(client, base_url):
    client.timeout = 1
    client.fetch_access_token()  # keep the token fetch out of the hang
    set_fault(base_url, mode="hang", paths=["sns/jscode2session"])

    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        client.wxa.code_to_session("dev:alice")
    assert time.monotonic() - started < 3
    # Other requests are served while one hangs.
    assert requests.get(base_url + "__dev/health", timeout=1).json() == {"status": "ok"}

    set_fault(base_url, mode="none")
    started = time.monotonic()
    assert client.wxa.code_to_session("dev:alice")["openid"] == fake_openid("alice")
    assert time.monotonic() - started < 0.5


def test_stop_does_not_wait_for_hanging_requests():
    server = WeChatStandIn().start()
    server.set_fault("hang")
    outcome = []

    def call():
        try:
            requests.post(server.base_url + "cgi-bin/stable_token", json={}, timeout=5)
            outcome.append("answered")
        except requests.RequestException:
            outcome.append("failed")

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    caller.join(timeout=5)

    assert time.monotonic() - started < 2
    assert outcome  # released promptly, answered or dropped


# -- bookkeeping --------------------------------------------------------------


def test_counters_count_requests_per_endpoint(standin, client, base_url):
    client.wxa.code_to_session("dev:alice")
    client.wxa.code_to_session("dev:bob")
    stable_token(base_url)

    counters = requests.get(base_url + "__dev/stats", timeout=5).json()["counters"]
    assert counters == {"cgi-bin/token": 1, "sns/jscode2session": 2, "cgi-bin/stable_token": 1}
    assert standin.counters == counters
    assert set(counters) <= set(WECHAT_ENDPOINTS)

    requests.post(base_url + "__dev/reset", timeout=5).raise_for_status()
    assert standin.counters == {}


def test_unknown_path_is_a_json_404(base_url):
    response = requests.get(base_url + "cgi-bin/nope", timeout=5)
    assert response.status_code == 404
    assert response.json() == {"errcode": -1, "errmsg": "not found"}


def test_command_line_serves_until_interrupted():
    with subprocess.Popen(
        [sys.executable, "-m", "infra.wechat_standin", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            banner = process.stdout.readline()
            url = banner.split("listening on ")[1].split()[0]
            assert requests.get(url + "__dev/health", timeout=5).json() == {"status": "ok"}
        finally:
            process.send_signal(signal.SIGINT)  # what Ctrl-C delivers
            process.wait(timeout=5)
    assert process.returncode == 0


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as nohup and some CI runners start processes


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_command_line_stops_on_signal_even_when_sigint_was_ignored(signum):
    with subprocess.Popen(
        [sys.executable, "-m", "infra.wechat_standin", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    ) as process:
        try:
            banner = process.stdout.readline()  # the handlers are installed before the banner is printed
            assert "listening on" in banner
            process.send_signal(signum)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert process.returncode == 0
