"""The staff console's scan-login (扫码登录) and its cookie sessions, over HTTP: a ticket, its code, the approval
from the mini-program (a staff Bearer token), the console's poll that collects the session cookie and its CSRF
token, the cookie on every /v1 route (rights read per request), CSRF and Origin on its writes, logout, expiry, and
the dev-only login."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tongxin.adapters.dynamo.models import CounterModel
from tongxin.config import ConfigurationError, load_settings
from tongxin.domain.clock import travel, utcnow
from tongxin.usecases import console as console_usecase

HOST = "console.test"
ORIGIN = f"http://{HOST}"
SOURCE = "127.0.0.1"  # the test client's source address


@pytest.fixture(autouse=True)
def ticket_allowance():
    """Each test may ask for its tickets: the source address's count for this minute starts again (the module asks
    for more than 30 a minute in all; the limit itself has its own test, in a minute of its own)."""
    CounterModel(console_usecase.rate_key(SOURCE, utcnow())).delete()


def header(resp, name: str) -> str | None:
    return {k.lower(): v for k, v in resp.headers.items()}.get(name.lower())


@dataclasses.dataclass
class Session:
    """A browser holding the console's session cookie."""
    api: object
    cookie: str  # name=value
    csrf: str

    def request(self, method, path, body=None, *, csrf=True, origin=ORIGIN, headers=None):
        sent = {"Cookie": self.cookie, "Host": HOST, **(headers or {})}
        if csrf:
            sent["X-CSRF-Token"] = self.csrf if csrf is True else csrf
        if origin:
            sent["Origin"] = origin
        return self.api.request(method, path, json_body=body, headers=sent)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)


def new_ticket(api) -> str:
    resp = api.post("/v1/console/sessions")
    assert resp.status == 201, resp.body
    return resp.json["ticket"]


def ticket_id(ticket: str) -> str:
    return ticket.split(".", 1)[0]


def collect(api, ticket: str) -> Session:
    resp = api.get(f"/v1/console/sessions/{ticket}")
    assert resp.status == 200 and resp.json["status"] == "approved", resp.body
    cookie = header(resp, "Set-Cookie")
    assert cookie, resp.headers
    return Session(api, cookie.split(";", 1)[0], resp.json["session"]["csrf_token"])


def scan_login(api, staff) -> Session:
    """The whole flow: the console's ticket, the staff member's approval by the scene's id, the console's poll."""
    ticket = new_ticket(api)
    resp = staff.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve")
    assert resp.status == 200, resp.body
    return collect(api, ticket)


def test_the_whole_scan_flow(api, community, wechat):
    admin = community.admin
    created = api.post("/v1/console/sessions")
    assert created.status == 201 and set(created.json) == {"ticket", "expires_at"}
    ticket = created.json["ticket"]
    assert len(ticket_id(ticket)) >= 22 and len(ticket.split(".", 1)[1]) >= 22  # ≥ 128 bits each
    assert header(created, "Cache-Control") is None or "no-store" in header(created, "Cache-Control")

    code = api.get(f"/v1/console/sessions/{ticket}/qrcode?format=json")
    assert code.status == 200, code.body
    assert code.json["scene"] == f"lg={ticket_id(ticket)}" and len(code.json["scene"]) <= 32
    assert code.json["ticket"] == ticket and code.json["page"] == "pages/console/login"
    assert code.json["expires_at"] == created.json["expires_at"]
    image = api.get(f"/v1/console/sessions/{ticket}/qrcode")
    assert image.status == 200 and header(image, "Content-Type") == "image/jpeg", image.headers
    assert wechat.wxacodes[-1]["scene"] == code.json["scene"]
    assert wechat.wxacodes[-1]["page"] == "pages/console/login"

    assert api.get(f"/v1/console/sessions/{ticket}").json["status"] == "waiting"
    # The scene's id alone approves (what the mini-program has); it does not let anyone poll or see the code.
    assert api.get(f"/v1/console/sessions/{ticket_id(ticket)}").status == 404
    assert api.get(f"/v1/console/sessions/{ticket_id(ticket)}.{'A' * 22}").status == 404
    assert api.get(f"/v1/console/sessions/{ticket_id(ticket)}/qrcode?format=json").status == 404

    approved = admin.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve")
    assert approved.status == 200 and approved.json == {"status": "approved"}, approved.body

    polled = api.get(f"/v1/console/sessions/{ticket}")
    assert polled.status == 200 and polled.json["status"] == "approved", polled.body
    cookie = header(polled, "Set-Cookie")
    flags = [part.strip() for part in cookie.split(";")]
    assert flags[0].startswith("tongxin_console=") and len(flags[0]) > 60
    assert {"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"} <= set(flags)
    assert "Secure" not in flags  # the test stage is plain http, as the local stack
    assert header(polled, "Cache-Control") == "no-store"
    session = Session(api, flags[0], polled.json["session"]["csrf_token"])
    assert polled.json["session"]["expires_at"] > created.json["expires_at"]

    # The cookie answers as the admin's Bearer token would, reads and writes.
    me = session.get("/v1/me")
    assert me.status == 200 and me.json["id"] == admin.id, me.body
    grid = session.post("/v1/admin/grids", {"name": "后台网格"})
    assert grid.status == 201, grid.body
    assert any(g["id"] == grid.json["id"] for g in admin.get("/v1/admin/grids").json["items"])

    # A cookie write without the CSRF token, with another one, from a foreign origin or with no Origin: 403.
    for kw in ({"csrf": False}, {"csrf": "forged"}, {"origin": "http://evil.test"}, {"origin": None},
               {"origin": "null"}, {"origin": f"https://{HOST}.evil.test"}):
        refused = session.post("/v1/admin/grids", {"name": "伪造网格"}, **kw)
        assert refused.status == 403 and refused.error_code == "CSRF_FAILED", (kw, refused.body)
    assert session.get("/v1/me", csrf=False, origin=None).status == 200  # reads need neither

    # Single use: the ticket is spent, its code gone, a second approval refused.
    again = api.get(f"/v1/console/sessions/{ticket}")
    assert again.json["status"] == "expired" and again.json["session"] is None
    assert header(again, "Set-Cookie") is None
    assert api.get(f"/v1/console/sessions/{ticket}/qrcode?format=json").status == 404
    assert admin.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve").error_code == "TICKET_USED"


def test_a_bearer_header_wins_over_the_cookie(api, community):
    session = scan_login(api, community.admin)
    resident = community.resident()
    both = {"Cookie": session.cookie, "Host": HOST}
    me = resident.get("/v1/me", headers=both)
    assert me.json["id"] == resident.id
    # and a Bearer write needs no CSRF token, whatever cookie rides along
    resp = resident.patch("/v1/me", {"avatar_url": "https://example.cn/a.png"}, headers=both)
    assert resp.status == 200, resp.body
    # the admin's cookie did not make the resident an admin
    assert resident.post("/v1/admin/grids", {"name": "越权"}, headers=both).status == 403


def test_approving_twice_is_ticket_used(api, community):
    ticket = new_ticket(api)
    first = community.admin.post(f"/v1/console/sessions/{ticket}/approve")  # the whole ticket approves too
    assert first.status == 200, first.body
    worker = community.grid_worker(0)
    for who in (community.admin, worker):
        resp = who.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve")
        assert resp.status == 409 and resp.error_code == "TICKET_USED", resp.body
    session = collect(api, ticket)  # the first approver's session
    assert session.get("/v1/me").json["id"] == community.admin.id


def test_only_staff_may_approve(api, community):
    ticket = new_ticket(api)
    resident, volunteer, outsider = community.resident(), community.volunteer(), api.login()
    for person in (resident, volunteer, outsider):
        resp = person.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve")
        assert resp.status == 403 and resp.error_code == "FORBIDDEN", resp.body
    assert api.get(f"/v1/console/sessions/{ticket}").json["status"] == "waiting"
    assert api.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve").status == 401  # no token
    store = community.admin.post("/v1/stores", {"name": "后台超市"})
    assert store.status == 201, store.body
    store_keeper = community.with_roles(community.resident(), ["store_keeper"], store_ids=[store.json["id"]])
    for staff in (community.grid_worker(1), store_keeper):
        session = scan_login(api, staff)
        assert session.get("/v1/me").json["id"] == staff.id


def test_a_console_session_cannot_approve_another(api, community):
    session = scan_login(api, community.admin)
    ticket = new_ticket(api)
    resp = session.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve")
    assert resp.status == 403 and resp.json["error"]["details"]["reason"] == "bearer_required", resp.body
    assert api.get(f"/v1/console/sessions/{ticket}").json["status"] == "waiting"


def test_a_ticket_dies_after_two_minutes(api, community):
    ticket = new_ticket(api)
    with travel(timedelta(seconds=110)):
        assert api.get(f"/v1/console/sessions/{ticket}").json["status"] == "waiting"
    with travel(timedelta(minutes=2, seconds=1)):
        assert api.get(f"/v1/console/sessions/{ticket}").json["status"] == "expired"
        assert api.get(f"/v1/console/sessions/{ticket}/qrcode?format=json").status == 404
        late = community.admin.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve")
        assert late.status == 404 and late.error_code == "NOT_FOUND", late.body
    # approved in its last seconds, the console still collects it on its next poll; a minute later it may not
    ticket = new_ticket(api)
    with travel(timedelta(seconds=115)):
        assert community.admin.post(f"/v1/console/sessions/{ticket}/approve").status == 200
    with travel(timedelta(seconds=125)):
        assert collect(api, ticket).get("/v1/me").status == 200
    ticket = new_ticket(api)
    assert community.admin.post(f"/v1/console/sessions/{ticket}/approve").status == 200
    with travel(timedelta(seconds=61)):
        resp = api.get(f"/v1/console/sessions/{ticket}")
        assert resp.json["status"] == "expired" and header(resp, "Set-Cookie") is None


def test_logout_revokes_the_session_at_once(api, community):
    session = scan_login(api, community.admin)
    refused = session.request("DELETE", "/v1/console/sessions/current", csrf=False)
    assert refused.status == 403 and refused.error_code == "CSRF_FAILED"
    out = session.request("DELETE", "/v1/console/sessions/current")
    assert out.status == 204, out.body
    cleared = [part.strip() for part in header(out, "Set-Cookie").split(";")]
    assert cleared[0] == "tongxin_console=" and "Max-Age=0" in cleared
    after = session.get("/v1/me")
    assert after.status == 401 and after.json["error"]["details"]["reason"] == "session_revoked", after.body
    assert "Max-Age=0" in header(after, "Set-Cookie")  # the browser is told to forget it
    assert session.request("DELETE", "/v1/console/sessions/current").status == 401
    # the admin's Bearer token is untouched, and has no console session to log out
    assert community.admin.get("/v1/me").status == 200
    no_session = community.admin.delete("/v1/console/sessions/current")
    assert no_session.status == 401 and no_session.json["error"]["details"]["reason"] == "missing_session"


def test_a_removed_role_stops_the_sessions_writes_at_once(api, community):
    deputy = community.with_roles(community.resident(), ["admin"])
    session = scan_login(api, deputy)
    assert session.post("/v1/admin/grids", {"name": "副书记的网格"}).status == 201
    resp = community.admin.put(f"/v1/admin/members/{deputy.id}/roles", {"roles": ["resident"]})
    assert resp.status == 200, resp.body
    refused = session.post("/v1/admin/grids", {"name": "撤权之后"})
    assert refused.status == 403 and refused.error_code == "FORBIDDEN", refused.body
    assert session.get("/v1/admin/grids").status == 403
    assert session.get("/v1/me").json["roles"] == ["resident"]  # still signed in, as what they are now


def test_a_deleted_account_is_401_on_its_session(api, community):
    leaver = community.with_roles(community.resident(), ["admin"])
    session = scan_login(api, leaver)
    # a ticket the leaver approved but the console had not collected yet dies with the account
    pending = new_ticket(api)
    assert leaver.post(f"/v1/console/sessions/{pending}/approve").status == 200
    assert leaver.delete("/v1/me").status == 204
    resp = session.get("/v1/me")
    assert resp.status == 401 and resp.json["error"]["details"]["reason"] == "account_deleted", resp.body
    assert session.post("/v1/admin/grids", {"name": "注销之后"}).status == 401
    late = api.get(f"/v1/console/sessions/{pending}")
    assert late.json["status"] == "expired" and header(late, "Set-Cookie") is None


def test_a_session_lasts_eight_hours(api, community):
    session = scan_login(api, community.admin)
    with travel(timedelta(hours=7, minutes=59)):
        assert session.get("/v1/me").status == 200
    with travel(timedelta(hours=8, seconds=1)):
        resp = session.get("/v1/me")
        assert resp.status == 401 and resp.json["error"]["details"]["reason"] == "session_expired", resp.body


def test_cookies_that_name_no_session(api, community):
    session = scan_login(api, community.admin)
    name, value = session.cookie.split("=", 1)
    user_id, secret = value.rsplit(".", 1)
    for forged, reason in ((f"{user_id}.{'A' * 43}", "session_expired"), ("garbage", "malformed"),
                           (f"u_someone_else.{secret}", "session_expired")):
        resp = api.get("/v1/me", headers={"Cookie": f"{name}={forged}", "Host": HOST})
        assert resp.status == 401 and resp.json["error"]["details"]["reason"] == reason, (forged, resp.body)
    # another cookie name (the deployed __Host- one in the test stage) is no cookie at all
    resp = api.get("/v1/me", headers={"Cookie": f"__Host-{name}={value}", "Host": HOST})
    assert resp.json["error"]["details"]["reason"] == "missing_token"


def test_idempotency_keys_work_with_the_cookie(api, community):
    session = scan_login(api, community.admin)
    first = session.post("/v1/admin/grids", {"name": "幂等网格"}, headers={"Idempotency-Key": "console-k1"})
    second = session.post("/v1/admin/grids", {"name": "幂等网格"}, headers={"Idempotency-Key": "console-k1"})
    assert first.status == second.status == 201 and first.json == second.json
    assert header(second, "Idempotent-Replayed") == "true"
    # the key belongs to the person: the same key by Bearer replays too
    third = community.admin.post("/v1/admin/grids", {"name": "幂等网格"}, headers={"Idempotency-Key": "console-k1"})
    assert third.json == first.json


def test_tickets_are_rate_limited_per_source_address(api):
    with travel(timedelta(days=1)):  # a minute nobody else has counted in
        for _ in range(console_usecase.TICKETS_PER_MINUTE):
            assert api.post("/v1/console/sessions").status == 201
        resp = api.post("/v1/console/sessions")
        assert resp.status == 429 and resp.error_code == "RATE_LIMITED", resp.body
        assert 1 <= int(header(resp, "Retry-After")) <= 60
        assert resp.json["error"]["details"]["retry_after"] == int(header(resp, "Retry-After"))
    with travel(timedelta(days=1, minutes=1)):
        assert api.post("/v1/console/sessions").status == 201  # the next minute


def test_dev_login_in_the_test_stage(api):
    person = api.login("console-dev-user")
    resp = api.post("/v1/console/dev-login", {"name": "console-dev-user"})
    assert resp.status == 200, resp.body
    assert set(resp.json) == {"csrf_token", "expires_at"}
    session = Session(api, header(resp, "Set-Cookie").split(";", 1)[0], resp.json["csrf_token"])
    assert session.get("/v1/me").json["id"] == person.id
    assert session.request("PATCH", "/v1/me", {"avatar_url": "https://example.cn/b.png"}).status == 200
    assert api.post("/v1/console/dev-login", {"name": "../admin"}).status == 400


@pytest.fixture
def deployed_stage(container):
    """The same app and tables as a deployed stage would run them: stage prod, the console on its https origin."""
    from tongxin.wiring import Container, set_container
    prod = dataclasses.replace(container.settings, stage="prod", console_origin="https://tongxin.example.cn")
    deployed = Container(prod)
    deployed.__dict__["wechat"] = container.wechat  # the stand-in, as the tests' own container has it
    set_container(deployed)
    try:
        yield deployed
    finally:
        set_container(container)


def test_outside_dev_the_cookie_is_secure_and_dev_login_does_not_exist(api, community, deployed_stage):
    resp = api.post("/v1/console/dev-login", {"name": "admin"})
    assert resp.status == 404 and resp.error_code == "NOT_FOUND", resp.body
    ticket = new_ticket(api)
    assert community.admin.post(f"/v1/console/sessions/{ticket_id(ticket)}/approve").status == 200
    polled = api.get(f"/v1/console/sessions/{ticket}")
    flags = [part.strip() for part in header(polled, "Set-Cookie").split(";")]
    assert flags[0].startswith("__Host-tongxin_console=") and "Secure" in flags and "HttpOnly" in flags
    csrf = polled.json["session"]["csrf_token"]
    base = {"Cookie": flags[0], "X-CSRF-Token": csrf}
    assert api.get("/v1/me", headers=base).json["id"] == community.admin.id
    ok = api.post("/v1/admin/grids", {"name": "正式环境网格"},
                  headers={**base, "Origin": "https://tongxin.example.cn", "Host": "evil.test"})
    assert ok.status == 201, ok.body
    # the configured origin decides, not the Host a request brings
    same_host = api.post("/v1/admin/grids", {"name": "伪造"}, headers={**base, "Origin": "https://evil.test",
                                                                      "Host": "evil.test"})
    assert same_host.error_code == "CSRF_FAILED"
    plain = api.post("/v1/admin/grids", {"name": "伪造"}, headers={**base, "Origin": "http://tongxin.example.cn"})
    assert plain.error_code == "CSRF_FAILED"
    assert api.get("/v1/me", headers={"Cookie": flags[0].removeprefix("__Host-")}).status == 401


def test_the_console_origin_fails_closed_outside_dev():
    prod = {"TONGXIN_STAGE": "prod", "TOKEN_SECRET": "t" * 40, "CHECKIN_SECRET": "c" * 40, "WECHAT_APPID": "wxa",
            "WECHAT_SECRET": "s", "QR_LINK_BASE": "https://tongxin.example.cn/api"}
    assert load_settings(prod).console_origin == "https://tongxin.example.cn"
    assert load_settings(prod).console_cookie_secure
    assert load_settings({**prod, "CONSOLE_ORIGIN": "https://console.example.cn"}).console_origin == \
        "https://console.example.cn"
    for bad in ("http://console.example.cn", "https://console.example.cn/path", "console.example.cn"):
        with pytest.raises(ConfigurationError):
            load_settings({**prod, "CONSOLE_ORIGIN": bad})
    dev = load_settings({"TONGXIN_STAGE": "dev"})
    assert dev.console_origin is None and not dev.console_cookie_secure
