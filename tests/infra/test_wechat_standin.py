"""Tests for the WeChat API stand-in, driven over real HTTP.

Where wechatpy has a helper for an endpoint the test goes through it, so the
stand-in is checked against the client the backend actually uses; the
remaining endpoints are called with ``requests`` or ``client.post``.
"""

from __future__ import annotations

import base64
import json
import re
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

from infra.local.wechat_standin import (
    DEV_TEMPLATES,
    MINIPROGRAM_PAGES,
    WECHAT_ENDPOINTS,
    WeChatStandIn,
    fake_openid,
    fake_unionid,
    templates_from_config,
)

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


# The mini-program's templates in these tests (id -> keywords): the dev ones, and a few of the tests' own.
TEMPLATES = {
    **DEV_TEMPLATES,
    "tpl-1": ("thing1",),
    "tpl-activity": ("thing1", "time2"),
    "tpl-signup": ("thing27", "time4", "phrase16", "character_string9"),
}


@pytest.fixture(scope="module")
def standin():
    server = WeChatStandIn(templates=TEMPLATES).start()
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
        assert response.headers["Content-Type"] == "image/jpeg"


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
    client.wxa.code_to_session("dev:alice")  # alice opened the mini-program just now
    result = client.post(
        "wxa/msg_sec_check",
        data={"content": content, "version": 2, "scene": 2, "openid": fake_openid("alice")},
        api_base_url=base_url,
    )

    assert result["errcode"] == 0 and result["errmsg"] == "ok"
    assert result["result"]["suggest"] == suggest
    assert label_check(result["result"]["label"])
    assert result["detail"] and result["trace_id"]


def _check(client, base_url, openid):
    return client.post("wxa/msg_sec_check", data={"content": "你好", "version": 2, "scene": 1, "openid": openid},
                       api_base_url=base_url)


def test_msg_sec_check_answers_61010_for_an_openid_that_never_logged_in(client, base_url):
    with pytest.raises(WeChatClientException) as excinfo:
        _check(client, base_url, fake_openid("never-seen"))
    assert_errcode(excinfo, 61010)  # 用户访问记录超时; WeChat's errmsg is "code is expired rid: …"
    assert excinfo.value.errmsg == "code is expired"


def test_msg_sec_check_needs_a_login_within_two_hours_of_the_stand_ins_clock():
    now = [1_800_000_000.0]
    with WeChatStandIn(clock=lambda: now[0]) as server:
        client = StandInClient(server.base_url, timeout=5)
        client.wxa.code_to_session("dev:bob")
        now[0] += 2 * 3600  # exactly two hours later: still within
        assert _check(client, server.base_url, fake_openid("bob"))["result"]["suggest"] == "pass"
        now[0] += 1
        with pytest.raises(WeChatClientException) as excinfo:
            _check(client, server.base_url, fake_openid("bob"))
        assert_errcode(excinfo, 61010)
        client.wxa.code_to_session("dev:bob#again")  # reopened (a one-time code counts the same)
        assert _check(client, server.base_url, fake_openid("bob"))["result"]["suggest"] == "pass"
        server.reset()  # forgets who visited
        with pytest.raises(WeChatClientException) as excinfo:
            _check(client, server.base_url, fake_openid("bob"))
        assert_errcode(excinfo, 61010)


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


def jpeg_segments(data: bytes) -> list[int]:
    """Minimal JPEG reader: the markers of a baseline JFIF up to its scan, which must end with EOI."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    offset, markers = 2, []
    while True:
        assert data[offset] == 0xFF, offset
        marker = data[offset + 1]
        (length,) = struct.unpack(">H", data[offset + 2:offset + 4])
        markers.append(marker)
        offset += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return markers


def test_wxa_code_is_a_jpeg_derived_from_the_scene(client):
    """As WeChat: a JPEG unless a transparent background is asked for."""
    response = client.wxa.get_wxa_code_unlimited("t=abc123", page="pages/join/index")

    # wechatpy returns the raw requests.Response when the body is not JSON.
    assert isinstance(response, requests.Response)
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"
    markers = jpeg_segments(response.content)
    assert markers[0] == 0xE0 and 0xC0 in markers and markers.count(0xC4) == 2  # JFIF, baseline, two tables

    again = client.wxa.get_wxa_code_unlimited("t=abc123")
    other = client.wxa.get_wxa_code_unlimited("t=xyz789")
    assert again.content == response.content
    assert other.content != response.content


def test_wxa_code_with_a_transparent_background_is_a_png(client):
    response = client.wxa.get_wxa_code_unlimited("t=abc123", is_hyaline=True)
    assert response.headers["Content-Type"] == "image/png"
    width, height, pixels = decode_png(response.content)
    assert (width, height) == (64, 64)
    assert len(pixels) == 64 * (1 + 64 * 2)  # grayscale with alpha
    alphas = {pixels[row * (1 + 128) + 1 + 2 * x + 1] for row in range(64) for x in range(64)}
    assert alphas == {0, 255}  # light cells transparent


@pytest.mark.parametrize("payload", [{"scene": "s" * 33}, {"page": "pages/index/index"}])
def test_wxa_code_rejects_bad_scene(base_url, token, payload):
    response = post_wechat(base_url, "wxa/getwxacodeunlimit", token, payload)
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"errcode": 40169, "errmsg": "invalid length for scene, or the data is not json string"}


@pytest.mark.parametrize("payload, errcode", [
    ({"scene": "a b"}, 40129),  # a character WeChat does not allow in a scene
    ({"scene": "x", "env_version": "beta"}, 40097),
    ({"scene": "x", "env_version": 1}, 40097),
    ({"scene": "x", "page": "pages/nowhere/index"}, 41030),  # check_path is true by default
    ({"scene": "x", "page": "pages/nowhere/index", "check_path": True, "env_version": "trial"}, 41030),
    ({"scene": "x", "page": "/pages/join/index", "check_path": False}, 41030),  # malformed, whatever check_path
    ({"scene": "x", "page": "pages/join/index?a=1", "check_path": False}, 41030),
])
def test_wxa_code_refuses_what_wechat_refuses(base_url, token, payload, errcode):
    response = post_wechat(base_url, "wxa/getwxacodeunlimit", token, payload)
    assert response.json()["errcode"] == errcode, response.json()


def test_wxa_codes_are_recorded_with_the_version_they_open(standin, base_url, token):
    for payload in ({"scene": "a=1", "page": "pages/checkin/index", "env_version": "trial", "check_path": False},
                    {"scene": "b=2", "page": "pages/not/published", "env_version": "develop", "check_path": False},
                    {"scene": "c=3"}):
        response = post_wechat(base_url, "wxa/getwxacodeunlimit", token, payload)
        assert response.headers["Content-Type"] == "image/jpeg", response.content[:200]
    listed = requests.get(base_url + "__dev/wxacodes", timeout=5).json()["items"]
    assert [(i["scene"], i["page"], i["env_version"], i["check_path"]) for i in listed] == [
        ("a=1", "pages/checkin/index", "trial", False), ("b=2", "pages/not/published", "develop", False),
        ("c=3", None, "release", True)]
    assert listed == standin.wxacodes and {i["content_type"] for i in listed} == {"image/jpeg"}
    standin.reset()
    assert standin.wxacodes == []


def test_wechatpy_surfaces_scene_errors(client):
    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.get_wxa_code_unlimited("s" * 33)
    assert_errcode(excinfo, 40169)


# -- subscribe messages -------------------------------------------------------


SIGNUP = {
    "thing27": {"value": "重阳节敬老志愿服务"},
    "time4": {"value": "2026年12月06日 10:30"},
    "phrase16": {"value": "报名成功"},
    "character_string9": {"value": "ev_0193a2f1c4"},
}


def send(client, data=None, *, template_id="tpl-signup", touser=None, page=None):
    return client.wxa.send_subscribe_message(
        touser or fake_openid("alice"), template_id, SIGNUP if data is None else data, page=page
    )


def refused(client, errcode, *args, **kwargs) -> str:
    with pytest.raises(WeChatClientException) as excinfo:
        send(client, *args, **kwargs)
    assert_errcode(excinfo, errcode)
    return excinfo.value.errmsg


def accept(base_url, touser, *template_ids) -> requests.Response:
    return requests.post(
        base_url + "__dev/subscriptions",
        json={"touser": touser, "template_ids": list(template_ids)},
        timeout=5,
    )


def test_subscribe_message_is_recorded_and_listed(standin, client, base_url):
    alice, bob = fake_openid("alice"), fake_openid("bob")
    data = {"thing1": {"value": "周末羽毛球"}, "time2": {"value": "2024-05-01 10:00"}}

    first = client.wxa.send_subscribe_message(alice, "tpl-activity", data, page="pages/event/detail?id=ev_1")
    second = client.wxa.send_subscribe_message(bob, "tpl-activity", data)

    assert first["errcode"] == 0 and isinstance(first["msgid"], int)
    assert second["msgid"] != first["msgid"]

    items = requests.get(base_url + "__dev/messages", timeout=5).json()["items"]
    assert [item["touser"] for item in items] == [alice, bob]
    assert items[0]["template_id"] == "tpl-activity"
    assert items[0]["page"] == "pages/event/detail?id=ev_1"
    assert items[0]["data"] == data
    assert items[0]["received_at"].endswith("Z")
    assert items == standin.messages

    only_bob = requests.get(base_url + "__dev/messages", params={"touser": bob}, timeout=5)
    assert [item["touser"] for item in only_bob.json()["items"]] == [bob]


# 40037: a template the mini-program never added


@pytest.mark.parametrize("template_id", ["", "tpl-unknown", "TPL-SIGNUP", "tmpl_wish_claimd"])
def test_an_unknown_template_id_is_40037(standin, client, template_id):
    assert refused(client, 40037, template_id=template_id) == "invalid template_id"
    assert standin.messages == []


def test_a_template_added_over_http_is_known_until_reset(standin, client, base_url):
    data = {"thing2": {"value": "楼道灯坏了"}, "date5": {"value": "2026年12月06日"}}
    refused(client, 40037, data, template_id="tpl-new")
    added = requests.post(
        base_url + "__dev/templates", json={"template_id": "tpl-new", "keywords": ["thing2", "date5"]}, timeout=5
    )
    assert added.status_code == 200, added.text
    assert send(client, data, template_id="tpl-new")["errcode"] == 0
    assert standin.templates["tpl-new"] == ("thing2", "date5")
    standin.reset()  # back to the templates it was started with
    assert "tpl-new" not in standin.templates and "tpl-signup" in standin.templates


@pytest.mark.parametrize(
    "payload",
    [
        {"template_id": "tpl-x", "keywords": []},
        {"template_id": "tpl-x", "keywords": ["keyword1"]},
        {"template_id": "tpl-x", "keywords": ["thing1", "thing1"]},
        {"template_id": "tpl-x", "keywords": "thing1"},
        {"template_id": "", "keywords": ["thing1"]},
        {"keywords": ["thing1"]},
    ],
)
def test_a_malformed_template_is_not_registered(base_url, payload):
    response = requests.post(base_url + "__dev/templates", json=payload, timeout=5)
    assert response.status_code == 400 and "errmsg" in response.json()


def test_templates_as_wechat_templates_names_them():
    raw = json.dumps(
        {
            "wish_claimed": {"id": "T1", "data": {"thing9": "title", "time4": "sent"}},
            "points_awarded": "T2",  # the old format: a bare id, thing1 phrase2 time3 thing4
        }
    )
    assert templates_from_config(raw) == {"T1": ("thing9", "time4"), "T2": ("thing1", "phrase2", "time3", "thing4")}


def test_the_dev_templates_are_registered_by_default():
    assert WeChatStandIn().templates == DEV_TEMPLATES
    for keywords in DEV_TEMPLATES.values():  # the dev keywords are a library's, never the bare four
        assert set(keywords) != {"thing1", "phrase2", "time3", "thing4"}


# 47003: a missing or extra keyword, or a value outside its type's rules


def test_a_missing_keyword_is_47003(standin, client):
    data = {key: value for key, value in SIGNUP.items() if key != "phrase16"}
    assert refused(client, 47003, data) == "argument invalid! data.phrase16.value is empty"
    assert standin.messages == []


def test_an_extra_keyword_is_47003(standin, client):
    errmsg = refused(client, 47003, {**SIGNUP, "thing1": {"value": "多余"}})
    assert errmsg == "argument invalid! data.thing1 is not a keyword of the template"
    assert standin.messages == []


def test_our_old_four_keywords_are_47003_for_a_library_template(client):
    """What every message was before issue 20: thing1/phrase2/time3/thing4 into a template with other keywords."""
    old = {"thing1": {"value": "帮忙买药"}, "phrase2": {"value": "已认领"},
           "time3": {"value": "2026年12月06日 10:30"}, "thing4": {"value": "志愿者已认领您的心愿"}}
    assert refused(client, 47003, old, template_id="tmpl_wish_claimed").startswith("argument invalid! data.")


@pytest.mark.parametrize(
    ("data", "errmsg"),
    [
        ({}, "argument invalid! data is empty"),
        ({**SIGNUP, "thing27": {"value": 42}}, "argument invalid! data.thing27.value invalid"),
        ({**SIGNUP, "thing27": "bare string"}, "argument invalid! data.thing27.value invalid"),
        ({**SIGNUP, "thing27": {"value": ""}}, "argument invalid! data.thing27.value is empty"),
        ({**SIGNUP, "thing27": {"value": "  "}}, "argument invalid! data.thing27.value is empty"),
    ],
)
def test_malformed_data_is_47003(standin, client, data, errmsg):
    assert refused(client, 47003, data) == errmsg
    assert standin.messages == []


# Each keyword type's rule (订阅消息参数值内容限制说明): values WeChat takes, at the limits, and values it refuses.
TYPE_RULES = {
    "thing": (
        ["帮忙买药", "一" * 20, "a" * 20, "3栋2单元 (楼道灯)", "活动时间：2026年12月06日"],
        ["一" * 21, "two\nlines", "tab\there", "零宽\u200b字符", "表情🎉", "\x07"],
    ),
    "phrase": (
        ["已认领", "五个字短语", "待"],
        ["六个字的短语啊", "已认领1", "OK", "已认领！", "已 认领", "审核未通…"],
    ),
    "name": (
        ["王志愿", "欧阳娜娜娜娜娜娜娜娜", "Mary Ann", "a" * 20, "张三Tom", "约翰·史密斯"],
        ["欧阳娜娜娜娜娜娜娜娜娜", "a" * 21, "用户410774", "志愿者1号", "12345", "张三🎉"],
    ),
    "character_string": (
        ["ev_0193a2f1c4", "RDM-2026-0001", "x" * 32, "A1!#$%&*+"],
        ["x" * 33, "订单12", "a b", "tab\t1", "é"],
    ),
    "letter": (["abc", "A" * 32], ["a" * 33, "abc1", "a-b", "汉"]),
    "number": (["20", "3.14", "9" * 32, "0"], ["9" * 33, "-3", "1.2.3", "12积分", "1e5", "", ".5"]),
    "amount": (
        ["30", "¥214.00", "0.02元", "¥8.88元", "1234567890", "￥12"],
        ["12345678901", "-1", "¥", "元", "12.5美元", "$1,000"],
    ),
    "phone_number": (["13800138000", "+86-0766-66888866", "1" * 17], ["1" * 18, "138 0013 8000", "电话138"]),
    "symbol": (["!", "%%%%%", "…"], ["!!!!!!", "a", "1", "汉"]),
    "car_number": (["粤A8Z888挂", "京A12345"], ["粤A8Z888挂9", "A", "粤-A123"]),
    "time": (
        ["15:01", "15:01:30", "2019年10月1日 15:01", "2026年12月06日 10:30", "2024-05-01 10:00",
         "10:00~11:30", "2026年12月06日 10:30~2026年12月06日 12:00"],
        ["25:00", "10:60", "2026年12月06日", "明天上午", "2026年13月01日 10:00", "10:00~11:00~12:00", "1030"],
    ),
    "date": (
        ["2026年12月06日", "2019年10月1日", "2019年10月1日 15:01", "2018-01-01", "2018/01/01", "2018.01.01",
         "2018-01", "01-01", "12月6日", "2026年12月06日~2026年12月08日"],
        ["2026年13月01日", "2026年12月32日", "15:01", "下周一", "2018-01/01", "20180101"],
    ),
}
VALID = [(ktype, value) for ktype, (good, _bad) in TYPE_RULES.items() for value in good]
INVALID = [(ktype, value) for ktype, (_good, bad) in TYPE_RULES.items() for value in bad if value]


def test_the_rules_cover_every_type():
    from infra.local.wechat_standin import SUBSCRIBE_KEYWORD_TYPES

    assert set(TYPE_RULES) == set(SUBSCRIBE_KEYWORD_TYPES)


@pytest.mark.parametrize(("ktype", "value"), VALID)
def test_a_value_within_its_types_rule_is_sent(standin, client, ktype, value):
    standin.register_template(f"tpl-{ktype}", (f"{ktype}3",))
    data = {f"{ktype}3": {"value": value}}
    assert send(client, data, template_id=f"tpl-{ktype}")["errcode"] == 0
    assert standin.messages[-1]["data"] == data


@pytest.mark.parametrize(("ktype", "value"), INVALID)
def test_a_value_outside_its_types_rule_is_47003(standin, client, ktype, value):
    standin.register_template(f"tpl-{ktype}", (f"{ktype}3",))
    errmsg = refused(client, 47003, {f"{ktype}3": {"value": value}}, template_id=f"tpl-{ktype}")
    assert errmsg == f"argument invalid! data.{ktype}3.value invalid"
    assert standin.messages == []


# 41030: a page the mini-program does not have


@pytest.mark.parametrize("page", ["pages/a/a", "pages/wishes/detail?id=w_1", "pages/wish/details", "/pages/wish/detail",
                                  "pages/wish", "https://example.com/pages/wish/detail"])
def test_a_page_the_mini_program_does_not_have_is_41030(standin, client, page):
    assert refused(client, 41030, page=page) == "invalid page"
    assert standin.messages == []


@pytest.mark.parametrize("page", [None, "", "pages/wish/detail", "pages/wish/detail?id=w_1&from=msg",
                                  "pages/points/index"])
def test_a_page_of_the_mini_program_or_none_is_sent(client, page):
    assert send(client, page=page)["errcode"] == 0


def test_every_page_our_code_opens_is_a_page_of_the_mini_program():
    """Every mini-program page the backend names (messages' pages, mini-program codes' pages) is registered."""
    root = Path(__file__).resolve().parents[2] / "layers" / "tongxin"
    source = "\n".join(path.read_text(encoding="utf-8") for path in root.rglob("*.py"))
    named = set(re.findall(r'"(pages/[A-Za-z0-9_/-]+)', source))
    assert {"pages/wish/detail", "pages/event/detail", "pages/request/detail", "pages/points/index",
            "pages/points/redemption"} <= named
    assert named <= set(MINIPROGRAM_PAGES), named - set(MINIPROGRAM_PAGES)


# 43101: no accept left


def test_no_quota_user_is_refused(standin, client, base_url):
    alice = fake_openid("alice")
    requests.post(base_url + "__dev/no-quota", json={"touser": alice}, timeout=5).raise_for_status()
    assert refused(client, 43101) == "user refuse to accept the msg"
    assert standin.messages == []


def test_one_send_per_accept_then_43101(standin, client, base_url):
    alice, bob = fake_openid("alice"), fake_openid("bob")
    reported = accept(base_url, alice, "tpl-signup", "tpl-signup")  # an id twice: two sends
    assert reported.status_code == 200 and reported.json()["accepts"] == {"tpl-signup": 2}
    assert send(client)["errcode"] == 0
    assert send(client)["errcode"] == 0
    assert refused(client, 43101) == "user refuse to accept the msg"
    assert standin.accepts(alice) == {"tpl-signup": 0}
    assert len(standin.messages) == 2
    # another user, another template: counted apart (never told of: the lenient default sends)
    assert send(client, touser=bob)["errcode"] == 0
    accept(base_url, alice, "tpl-signup")
    assert send(client)["errcode"] == 0


def test_a_refused_send_does_not_spend_the_accept(standin, client, base_url):
    alice = fake_openid("alice")
    accept(base_url, alice, "tpl-signup")
    refused(client, 47003, {**SIGNUP, "phrase16": {"value": "报名成功了吗"}})
    refused(client, 41030, page="pages/nowhere")
    assert standin.accepts(alice) == {"tpl-signup": 1}
    assert send(client)["errcode"] == 0
    refused(client, 43101)


def test_strict_accepts_nothing_is_sent_without_an_accept():
    strict = WeChatStandIn(templates=TEMPLATES, strict_accepts=True).start()
    try:
        client = StandInClient(strict.base_url, timeout=5)
        refused(client, 43101)
        accept(strict.base_url, fake_openid("alice"), "tpl-signup").raise_for_status()
        assert send(client)["errcode"] == 0
        refused(client, 43101)
        assert len(strict.messages) == 1
    finally:
        strict.stop()


@pytest.mark.parametrize(
    "payload",
    [
        {"touser": fake_openid("alice"), "template_ids": ["tpl-unknown"]},
        {"touser": fake_openid("alice"), "template_ids": "tpl-signup"},
        {"touser": "", "template_ids": ["tpl-signup"]},
        {"template_ids": ["tpl-signup"]},
    ],
)
def test_malformed_accepts_are_refused(standin, base_url, payload):
    response = requests.post(base_url + "__dev/subscriptions", json=payload, timeout=5)
    assert response.status_code == 400 and "errmsg" in response.json()
    assert standin.accepts(fake_openid("alice")) == {}


def test_reset_forgets_the_accepts(standin, base_url):
    accept(base_url, fake_openid("alice"), "tpl-signup").raise_for_status()
    standin.reset()
    assert standin.accepts(fake_openid("alice")) == {}


# 40003 and the order of checks


def test_an_invalid_openid_is_40003(client):
    assert refused(client, 40003, touser="not an openid!") == "invalid openid"


# -- faults -------------------------------------------------------------------


def set_fault(base_url: str, **payload) -> None:
    requests.post(base_url + "__dev/faults", json=payload, timeout=5).raise_for_status()


def test_error_fault_hits_only_the_selected_endpoints(client, base_url):
    set_fault(base_url, mode="error", paths=["sns/jscode2session"], errcode=-1)

    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.code_to_session("dev:alice")
    assert_errcode(excinfo, -1)
    assert excinfo.value.errmsg == "system error"
    assert client.wxa.get_wxa_code_unlimited("x").headers["Content-Type"] == "image/jpeg"

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
        [sys.executable, "-m", "infra.local.wechat_standin", "--port", "0"],
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
        [sys.executable, "-m", "infra.local.wechat_standin", "--port", "0"],
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
