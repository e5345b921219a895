"""普通链接二维码 and mini-program codes (issue 20, parts 3 and 4), over HTTP against moto and the WeChat stand-in.

Printed check-in, invite and pickup codes carry a link ``<QR_LINK_BASE>/c|i|p/<code>`` so that WeChat's own scanner
opens the mini-program; the routes that take a code take the link too, strictly (the configured base and the right
letter); the images are read back with a QR decoder (tests/qr_read.py); the links answer a page saying to scan with
WeChat outside it; the domain serves WeChat's verification file. Mini-program codes come back as WeChat makes them
(JPEG) and open the version of the mini-program the deployment's state names.
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import requests

from tests.api.test_checkins import CENTRE, assert_refused, at, publish, qr, sign_up, when
from tests.qr_read import read_png, read_svg
from tongxin.config import DEV_QR_VERIFY_FILE, ConfigurationError, load_settings

BASE = "http://127.0.0.1:8000"  # the test stage's QR_LINK_BASE (tongxin.config.Settings)
JPEG = b"\xff\xd8\xff"
MIN = timedelta(minutes=1)
PAGE_TEXT = "请使用微信扫一扫"
PROD = {"TONGXIN_STAGE": "prod", "TOKEN_SECRET": "k" * 40, "CHECKIN_SECRET": "c" * 40, "WECHAT_APPID": "wx123",
        "WECHAT_SECRET": "s" * 32, "QR_LINK_BASE": "https://tongxin.example.cn"}


@pytest.fixture
def configured(container, monkeypatch):
    """Run the API with some settings changed (the container's settings are read on every request)."""
    def change(**changes):
        monkeypatch.setattr(container, "settings", dataclasses.replace(container.settings, **changes))
    return change


def content_type(resp) -> str:
    return resp.headers.get("Content-Type") or resp.headers.get("content-type") or ""


# --- check-in ------------------------------------------------------------------------------------------------------

def test_a_check_in_codes_json_carries_its_link_and_its_images_encode_the_link(community):
    admin = community.admin
    event = publish(admin)
    for kind in ("rotating", "poster"):
        answer = qr(admin, event, kind).json
        assert answer["url"] == f"{BASE}/c/{answer['code']}", answer
        assert set(answer) == {"code", "url", "kind", "valid_until"}
        png, svg = qr(admin, event, kind, "png"), qr(admin, event, kind, "svg")
        assert content_type(png).startswith("image/png") and content_type(svg).startswith("image/svg+xml")
        # What a scanner reads: the link (a rotating code may have turned meanwhile: the same event's link).
        for text in (read_png(png.body), read_svg(svg.body)):
            assert text.startswith(f"{BASE}/c/") and text.split("/c/")[1].split("-")[0] == answer["code"].split("-")[0]
    poster = qr(admin, event, "poster").json
    assert read_png(qr(admin, event, "poster", "png").body) == poster["url"]
    assert read_svg(qr(admin, event, "poster", "svg").body) == poster["url"]


def test_checking_in_and_out_with_the_links_the_qr_codes_carry(community):
    admin, member = community.admin, community.resident()
    event = publish(admin)
    sign_up(member, event)
    with at(when(event) - 10 * MIN):
        url = read_png(qr(admin, event, "rotating", "png").body)  # what WeChat's scanner hands the mini-program
        assert url.startswith(f"{BASE}/c/R")
        resp = member.post("/v1/checkins", {"code": url})
        assert resp.status == 200 and resp.json["action"] == "check_in", resp.body
    with at(when(event) + 30 * MIN):
        poster = read_svg(qr(admin, event, "poster", "svg").body)
        resp = member.post("/v1/checkins", {"code": f"  {poster} ", **CENTRE})
        assert resp.status == 200 and resp.json["action"] == "check_out", resp.body


def test_a_check_in_link_of_another_base_or_kind_is_code_invalid(community):
    admin, member = community.admin, community.resident()
    event = publish(admin)
    sign_up(member, event)
    with at(when(event) - 10 * MIN):
        code = qr(admin, event, "poster").json["code"]
        for text in (f"https://tongxin.example.cn/c/{code}",  # another deployment's base
                     f"https://127.0.0.1:8000/c/{code}", f"{BASE}:80/c/{code}", f"{BASE}/api/c/{code}",
                     f"{BASE}/i/{code}", f"{BASE}/p/{code}", f"{BASE}/C/{code}",  # another kind's letter
                     f"{BASE}/c/{code}/", f"{BASE}/c/{code}?from=poster", f"{BASE}/c/{code}#x", f"{BASE}//c/{code}",
                     f"{BASE}/c/", f"{BASE}/c/%3Cscript%3E", "/", "garbage", f"{BASE}/c/{code}X"):
            assert_refused(member.post("/v1/checkins", {"code": text, **CENTRE}), 400, "CODE_INVALID")
        # The bare code still works (a typed code, the mini-program code's scene).
        assert member.post("/v1/checkins", {"code": code, **CENTRE}).json["action"] == "check_in"
    assert_refused(member.post("/v1/checkins", {"code": f"{BASE}/c/" + "A" * 240}), 400, "VALIDATION_FAILED", "code")


def test_another_configured_base_makes_other_links_and_refuses_the_old_ones(community, configured):
    admin, member = community.admin, community.resident()
    event = publish(admin)
    sign_up(member, event)
    configured(qr_link_base="https://tongxin.example.cn/api")
    poster = qr(admin, event, "poster").json
    assert poster["url"] == f"https://tongxin.example.cn/api/c/{poster['code']}"
    assert read_png(qr(admin, event, "poster", "png").body) == poster["url"]
    with at(when(event) - 10 * MIN):
        assert_refused(member.post("/v1/checkins", {"code": f"{BASE}/c/{poster['code']}", **CENTRE}), 400,
                       "CODE_INVALID")
        assert member.post("/v1/checkins", {"code": poster["url"], **CENTRE}).json["action"] == "check_in"


# --- invites -------------------------------------------------------------------------------------------------------

def test_joining_with_the_link_of_the_invite_poster(api, community):
    invite = community.admin.post("/v1/admin/invites", {"grid_id": community.grid_ids[1]}).json
    assert invite["url"] == f"{BASE}/i/{invite['code']}"
    qrcode = f"/v1/admin/invites/{invite['code']}/qrcode"
    assert read_png(community.admin.get(qrcode + "?format=png").body) == invite["url"]
    assert read_svg(community.admin.get(qrcode + "?format=svg").body) == invite["url"]
    as_json = community.admin.get(qrcode + "?format=json").json
    assert as_json == {"code": invite["code"], "url": invite["url"], "scene": f"inv={invite['code']}",
                       "valid_until": invite["expires_at"]}
    newcomer = api.login()
    resp = newcomer.post("/v1/me/community", {"invite": invite["url"]})
    assert resp.status == 200, resp.body
    assert (resp.json["user"]["community_id"], resp.json["user"]["grid_id"]) == (community.id, community.grid_ids[1])


def test_an_invite_link_of_another_base_or_kind_is_invite_invalid(api, community):
    code = community.invite(0)
    newcomer = api.login()
    for text in (f"https://tongxin.example.cn/i/{code}", f"{BASE}/c/{code}", f"{BASE}/p/{code}", f"{BASE}/i/",
                 f"{BASE}/i/{code}?x=1", f"{BASE}/i/{code}/", f"{BASE}/i/inv={code}", f"{BASE}/i/NOSUCHCODE",
                 "https://evil.example/"):
        assert_refused(newcomer.post("/v1/me/community", {"invite": text}), 404, "INVITE_INVALID")
    assert_refused(newcomer.post("/v1/me/community", {"invite": "no such code!"}), 400, "VALIDATION_FAILED")
    assert_refused(newcomer.post("/v1/me/community", {"invite": f"{BASE}/i/" + "A" * 240}), 400, "VALIDATION_FAILED")
    assert newcomer.get("/v1/me").json["community_id"] is None
    # The scene of the mini-program code and the bare code, lower-cased, still work.
    assert newcomer.post("/v1/me/community", {"invite": f"inv={code.lower()}"}).status == 200


# --- pickup codes --------------------------------------------------------------------------------------------------

@pytest.fixture
def pickup(community):
    """A store, its keeper, and a resident's pending redemption."""
    admin = community.admin
    store = admin.post("/v1/stores", {"name": "链接积分超市"}).json
    keeper = community.with_roles(community.resident(), ["store_keeper"], store_ids=[store["id"]])
    goods = admin.post(f"/v1/stores/{store['id']}/goods", {"name": "毛巾", "price_points": 5, "stock": 10}).json
    owner = community.resident()
    assert admin.post("/v1/points/awards", {"user_id": owner.id, "category": "charity", "points": 20,
                                            "reason": "楼道义务清扫"}).status == 201

    def redeem() -> dict:
        resp = owner.post("/v1/redemptions", {"goods_id": goods["id"]})
        assert resp.status == 201, resp.body
        return resp.json
    return owner, keeper, redeem


def test_verifying_a_pickup_with_the_link_its_qr_carries(pickup):
    owner, keeper, redeem = pickup
    redemption = redeem()
    qrcode = f"/v1/redemptions/{redemption['id']}/qrcode"
    as_json = owner.get(qrcode + "?format=json").json
    url = f"{BASE}/p/{redemption['pickup_code']}"
    assert (as_json["code"], as_json["url"], as_json["valid_until"]) == (redemption["pickup_code"], url,
                                                                         redemption["expires_at"])
    assert read_svg(owner.get(qrcode + "?format=svg").body) == url
    scanned = read_png(owner.get(qrcode + "?format=png").body)
    assert scanned == url
    resp = keeper.post("/v1/redemptions/verify", {"pickup_code": scanned})
    assert resp.status == 200 and resp.json["status"] == "picked_up", resp.body
    assert_refused(keeper.post("/v1/redemptions/verify", {"pickup_code": scanned}), 409, "INVALID_STATE")


def test_a_pickup_link_of_another_base_or_kind_is_not_found(pickup):
    _, keeper, redeem = pickup
    code = redeem()["pickup_code"]
    for text in (f"https://tongxin.example.cn/p/{code}", f"{BASE}/c/{code}", f"{BASE}/i/{code}", f"{BASE}/p/",
                 f"{BASE}/p/{code}?x", f"{BASE}/p/{code}/1"):
        assert_refused(keeper.post("/v1/redemptions/verify", {"pickup_code": text}), 404, "NOT_FOUND")
    assert keeper.post("/v1/redemptions/verify", {"pickup_code": f"{BASE}/p/{code}"}).status == 200
    assert_refused(keeper.post("/v1/redemptions/verify", {"pickup_code": f"{BASE}/p/" + "A" * 240}), 400,
                   "VALIDATION_FAILED", "pickup_code")


# --- what a link opens outside WeChat, and WeChat's verification file ----------------------------------------------

def test_a_links_page_says_to_scan_with_wechat_and_tells_nothing_about_the_code(api, community, pickup):
    admin = community.admin
    event = publish(admin)
    codes = {"c": qr(admin, event, "poster").json["code"], "i": community.invite(0),
             "p": pickup[2]()["pickup_code"]}
    pages = {}
    for letter, code in codes.items():
        for shown in (code, "NOSUCHCODE2345"):
            resp = api.get(f"/{letter}/{shown}", headers={"accept": "text/html"})  # no token: a browser
            assert resp.status == 200 and content_type(resp) == "text/html; charset=utf-8", resp.body[:200]
            page = resp.body.decode("utf-8")
            assert PAGE_TEXT in page and "<html" in page and shown not in page and code not in page
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
            assert resp.headers["Referrer-Policy"] == "no-referrer"
            pages.setdefault(letter, set()).add(page)
    # The same page for a real code and a made-up one, one per kind (what the code is for).
    assert all(len(seen) == 1 for seen in pages.values()) and len({p for seen in pages.values() for p in seen}) == 3
    assert "签到" in next(iter(pages["c"])) and "加入社区" in next(iter(pages["i"])) and "取货" in next(iter(pages["p"]))


def test_the_verification_file_is_served_at_the_top_and_under_each_prefix(api, configured):
    name, content = DEV_QR_VERIFY_FILE
    for path in (f"/{name}", f"/c/{name}", f"/i/{name}", f"/p/{name}"):
        resp = api.get(path)
        assert resp.status == 200 and resp.body.decode("utf-8") == content, (path, resp.body)
        assert content_type(resp) == "text/plain; charset=utf-8"
    for other in ("/robots.txt", "/tongxin-dev-verify.TXT", "/index.html", "/v1"):
        assert_refused(api.get(other), 404, "NOT_FOUND")
    configured(qr_verify_file=("Xy12AbCd34.txt", "0123456789abcdef0123456789abcdef"))
    resp = api.get("/Xy12AbCd34.txt")
    assert (resp.status, resp.body) == (200, b"0123456789abcdef0123456789abcdef")
    assert_refused(api.get(f"/{name}"), 404, "NOT_FOUND")
    configured(qr_verify_file=None)
    assert_refused(api.get("/Xy12AbCd34.txt"), 404, "NOT_FOUND")
    assert PAGE_TEXT in api.get("/c/Xy12AbCd34.txt").body.decode("utf-8")  # no file: the page, as for any code


# --- configuration ------------------------------------------------------------------------------------------------

def test_outside_dev_the_link_base_is_required_and_https():
    assert load_settings(PROD).qr_link_base == "https://tongxin.example.cn"
    for missing in ({k: v for k, v in PROD.items() if k != "QR_LINK_BASE"}, {**PROD, "QR_LINK_BASE": "  "}):
        with pytest.raises(ConfigurationError, match="QR_LINK_BASE"):
            load_settings(missing)
    for bad in ("http://tongxin.example.cn", "ftp://tongxin.example.cn", "tongxin.example.cn", "https://",
                "https://tongxin.example.cn/c?x=1", "https://tongxin.example.cn/#top", "https://u:p@tongxin.example.cn",
                "https://tongxin.example.cn/a b", "https://tongxin.example.cn:0", "https://" + "a" * 200 + ".cn"):
        with pytest.raises(ConfigurationError, match="QR_LINK_BASE"):
            load_settings({**PROD, "QR_LINK_BASE": bad})
    assert load_settings({**PROD, "QR_LINK_BASE": "HTTPS://TongXin.Example.cn/api/"}).qr_link_base == \
        "https://tongxin.example.cn/api"
    # The local stack and the tests: its own API address by default, http allowed.
    assert load_settings({"TONGXIN_STAGE": "dev"}).qr_link_base == BASE
    assert load_settings({"TONGXIN_STAGE": "dev", "QR_LINK_BASE": "http://127.0.0.1:8100"}).qr_link_base == \
        "http://127.0.0.1:8100"


def test_the_verification_file_setting():
    assert load_settings(PROD).qr_verify_file is None
    assert load_settings({**PROD, "QR_VERIFY_FILE": "Xy12AbCd34.txt:0123abcd"}).qr_verify_file == \
        ("Xy12AbCd34.txt", "0123abcd")
    assert load_settings({"TONGXIN_STAGE": "test"}).qr_verify_file == DEV_QR_VERIFY_FILE
    assert load_settings({"TONGXIN_STAGE": "test", "QR_VERIFY_FILE": ""}).qr_verify_file is None
    for bad in ("Xy12AbCd34.txt", "Xy12AbCd34.txt:", ":0123", "../etc/passwd:x", "a.html:x", "a.txt:two\nlines"):
        with pytest.raises(ConfigurationError, match="QR_VERIFY_FILE"):
            load_settings({**PROD, "QR_VERIFY_FILE": bad})


# --- mini-program codes --------------------------------------------------------------------------------------------

def made_codes(wechat) -> list[dict]:
    """What the stand-in was asked, through its own HTTP hook."""
    return requests.get(wechat.base_url + "__dev/wxacodes", timeout=5).json()["items"]


@pytest.mark.parametrize("state, env_version", [("developer", "develop"), ("trial", "trial"), ("formal", "release")])
def test_mini_program_codes_are_jpeg_and_open_the_deployments_version(community, wechat, configured, state,
                                                                      env_version):
    configured(miniprogram_state=state)
    admin = community.admin
    code = community.invite(0)
    before = len(made_codes(wechat))
    # A client that asks for image/png gets WeChat's JPEG, with its content type.
    resp = admin.get(f"/v1/admin/invites/{code}/qrcode?format=wxacode", headers={"accept": "image/png"})
    assert resp.status == 200 and content_type(resp) == "image/jpeg" and resp.body.startswith(JPEG), resp.body[:200]
    event = publish(admin)
    resp = admin.get(f"/v1/events/{event['id']}/qrcode?kind=wxacode&format=png", headers={"accept": "image/jpeg"})
    assert resp.status == 200 and content_type(resp) == "image/jpeg" and resp.body.startswith(JPEG), resp.body[:200]
    invite_code, checkin_code = made_codes(wechat)[before:]
    assert (invite_code["scene"], invite_code["page"]) == (f"inv={code}", "pages/join/index")
    assert (checkin_code["scene"], checkin_code["page"]) == (qr(admin, event, "poster").json["code"],
                                                             "pages/checkin/index")
    for made in (invite_code, checkin_code):
        # A released version's page must exist (check_path); a trial or develop build's need not be published.
        assert (made["env_version"], made["check_path"]) == (env_version, state == "formal"), made


def test_a_formal_deployments_code_for_a_page_the_mini_program_lacks_is_refused(community, configured):
    configured(miniprogram_state="formal", wechat_invite_page="pages/unpublished/index")
    resp = community.admin.get(f"/v1/admin/invites/{community.invite(0)}/qrcode?format=wxacode")
    assert_refused(resp, 503, "UPSTREAM_UNAVAILABLE")  # WeChat's 41030: no code that opens nothing
    configured(miniprogram_state="trial")  # a trial build's page need not be published
    assert community.admin.get(f"/v1/admin/invites/{community.invite(0)}/qrcode?format=wxacode").status == 200


def test_a_mini_program_code_is_only_an_image(community):
    event = publish(community.admin)
    for fmt in ("svg", "json"):
        assert_refused(qr(community.admin, event, "wxacode", fmt), 400, "VALIDATION_FAILED", "format")
