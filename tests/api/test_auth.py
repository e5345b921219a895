"""Login through the WeChat stand-in, and what tokens the API accepts."""
import concurrent.futures
import time
import uuid

import jwt

from tongxin.adapters.dynamo.models import IdentityModel, UserModel
from infra.local.wechat_standin import fake_openid


def test_first_login_creates_user_and_returning_login_finds_it(api, wechat):
    name = f"new{uuid.uuid4().hex[:8]}"
    first = api.post("/v1/auth/login", {"code": f"dev:{name}"})
    assert first.status == 200
    body = first.json
    assert body["expires_in"] > 0 and body["token"]
    assert body["user"]["community_id"] is None and body["user"]["roles"] == []
    again = api.post("/v1/auth/login", {"code": f"dev:{name}"})
    assert again.status == 200 and again.json["user"]["id"] == body["user"]["id"]
    assert IdentityModel.get(fake_openid(name)).user_id == body["user"]["id"]


def test_login_does_not_fetch_an_access_token(api, wechat):
    before = wechat.counters
    api.post("/v1/auth/login", {"code": f"dev:tok{uuid.uuid4().hex[:8]}"})
    after = wechat.counters
    assert after.get("sns/jscode2session", 0) == before.get("sns/jscode2session", 0) + 1
    assert after.get("cgi-bin/stable_token", 0) == before.get("cgi-bin/stable_token", 0)
    assert after.get("cgi-bin/token", 0) == before.get("cgi-bin/token", 0)


def test_invalid_code_is_401_wechat_code_invalid(api):
    resp = api.post("/v1/auth/login", {"code": "not-a-wechat-code"})
    assert resp.status == 401 and resp.error_code == "WECHAT_CODE_INVALID"


def test_used_code_is_401_wechat_code_invalid(api):
    code = f"dev:once{uuid.uuid4().hex[:6]}#nonce1"
    assert api.post("/v1/auth/login", {"code": code}).status == 200
    resp = api.post("/v1/auth/login", {"code": code})
    assert resp.status == 401 and resp.error_code == "WECHAT_CODE_INVALID"


def test_wechat_down_is_503(api, wechat):
    wechat.set_fault("error", ["sns/jscode2session"], errcode=-1)
    resp = api.post("/v1/auth/login", {"code": "dev:someone"})
    assert resp.status == 503 and resp.error_code == "UPSTREAM_UNAVAILABLE"


def test_wechat_hanging_is_503_within_the_timeout(api, wechat, settings):
    wechat.set_fault("hang", ["sns/jscode2session"])
    started = time.monotonic()
    resp = api.post("/v1/auth/login", {"code": "dev:someone"})
    elapsed = time.monotonic() - started
    assert resp.status == 503 and resp.error_code == "UPSTREAM_UNAVAILABLE"
    assert elapsed < settings.wechat_timeout_seconds + 2


def test_concurrent_first_logins_of_one_openid_create_one_user(api):
    name = f"race{uuid.uuid4().hex[:8]}"
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: api.post("/v1/auth/login", {"code": f"dev:{name}"}), range(20)))
    assert all(r.status == 200 for r in results), [r.body for r in results if r.status != 200]
    ids = {r.json["user"]["id"] for r in results}
    assert len(ids) == 1
    assert IdentityModel.get(fake_openid(name)).user_id in ids


def test_missing_token_is_401(api):
    resp = api.get("/v1/me")
    assert resp.status == 401 and resp.error_code == "UNAUTHENTICATED"


def test_malformed_token_is_401(api):
    for header in ("Bearer", "Bearer not.a.jwt", "Basic abc", "token"):
        resp = api.get("/v1/me", headers={"authorization": header})
        assert resp.status == 401 and resp.error_code == "UNAUTHENTICATED", header


def _claims(member):
    return jwt.decode(member.token, options={"verify_signature": False})


def test_expired_token_is_401(api, settings):
    member = api.login()
    claims = _claims(member) | {"iat": int(time.time()) - 7300, "exp": int(time.time()) - 100}
    expired = jwt.encode(claims, settings.token_secret, algorithm="HS256")
    resp = api.get("/v1/me", token=expired)
    assert resp.status == 401 and resp.error_code == "UNAUTHENTICATED"
    assert resp.json["error"]["details"]["reason"] == "token_expired"


def test_wrong_signature_is_401(api):
    member = api.login()
    forged = jwt.encode(_claims(member) | {"roles": ["admin"]}, "not-our-key-" * 3, algorithm="HS256")
    resp = api.get("/v1/me", token=forged)
    assert resp.status == 401 and resp.error_code == "UNAUTHENTICATED"


def test_unsigned_token_is_401(api):
    member = api.login()
    unsigned = jwt.encode(_claims(member), None, algorithm="none")
    assert api.get("/v1/me", token=unsigned).status == 401


def test_removed_role_is_refused_at_once_for_reads_and_writes(community):
    worker = community.grid_worker(0)
    assert worker.get("/v1/grid/tasks").status == 200
    old_token = worker.token
    assert community.admin.put(f"/v1/admin/members/{worker.id}/roles", {"roles": []}).status == 200
    read = community.api.get("/v1/grid/tasks", token=old_token)
    assert read.status == 403 and read.error_code == "FORBIDDEN"
    author = community.resident(0)
    community.set(wish_review_required=True)
    wish = author.post("/v1/wishes", {"title": "需要审核", "content": "内容", "category": "其他"}).json
    write = community.api.post(f"/v1/wishes/{wish['id']}/approve", token=old_token)
    assert write.status == 403 and write.error_code == "FORBIDDEN"
    assert UserModel.get(worker.id).roles == {"resident"}


def test_deleted_account_token_cannot_write(community):
    member = community.resident()
    token = member.token
    assert member.delete("/v1/me").status == 204
    resp = community.api.patch("/v1/me", {"nickname": "还在吗"}, token=token)
    assert resp.status == 401


def test_why_a_token_is_refused_is_in_details_reason(community, settings):
    """The mini-program's rule: 401 with ``details.reason: token_expired`` → ``wx.login``, ``POST
    /v1/auth/login`` again, silently, and the request retried once with the new token."""
    api, secret = community.api, settings.token_secret
    member = community.resident()
    claims = _claims(member) | {"iat": int(time.time()) - 7300, "exp": int(time.time()) - 1}
    expired = api.get("/v1/wishes", token=jwt.encode(claims, secret, algorithm="HS256"))
    assert expired.status == 401 and expired.error_code == "UNAUTHENTICATED"
    assert expired.json["error"]["details"]["reason"] == "token_expired"
    assert "过期" in expired.json["error"]["message"]
    # a write is refused the same way, before anything changes
    write = api.post("/v1/wishes", {"title": "灯坏了", "content": "楼道灯", "category": "维修"},
                     token=jwt.encode(claims, secret, algorithm="HS256"))
    assert write.status == 401 and write.json["error"]["details"]["reason"] == "token_expired"
    # what the mini-program does next: log in again (a new wx.login code) and retry once
    again = member.relogin()
    retried = api.get("/v1/wishes", token=again.token)
    assert retried.status == 200
    # the other reasons
    assert api.get("/v1/me").json["error"]["details"]["reason"] == "missing_token"
    assert api.get("/v1/me", token="not.a.jwt").json["error"]["details"]["reason"] == "malformed"
    forged = jwt.encode(_claims(member), "not-our-key-" * 3, algorithm="HS256")
    assert api.get("/v1/me", token=forged).json["error"]["details"]["reason"] == "bad_signature"
    token = again.token
    assert again.delete("/v1/me").status == 204
    gone = api.get("/v1/me", token=token)
    assert gone.status == 401 and gone.json["error"]["details"]["reason"] == "account_deleted"
