"""Profile, joining a community, phone binding, volunteer registration and 注销 (account deletion)."""
from datetime import timedelta

from tongxin.adapters.dynamo.models import IdentityModel, InviteModel, UserModel
from tongxin.domain.clock import utcnow
from infra.local.wechat_standin import fake_openid


def test_me_shows_profile_with_community(community):
    member = community.resident(1)
    me = member.get("/v1/me").json
    assert me["community_id"] == community.id and me["grid_id"] == community.grid_ids[1]
    assert me["points_balance"] == 0 and me["volunteer_minutes"] == 0 and me["phone"] is None
    assert me["community_name"].startswith("测试社区")


def test_patch_me_changes_nickname_and_avatar(api):
    member = api.login()
    resp = member.patch("/v1/me", {"nickname": "  小明  ", "avatar_url": "https://img.example/a.png"})
    assert resp.status == 200 and resp.json["nickname"] == "小明"
    assert member.get("/v1/me").json["avatar_url"] == "https://img.example/a.png"


def test_patch_me_rejects_bad_values(api):
    member = api.login()
    for body, field in [({"nickname": "长" * 21}, "nickname"), ({"nickname": ""}, "nickname"),
                        ({"avatar_url": "http://insecure/a.png"}, "avatar_url"), ({"nickname": 5}, "nickname")]:
        resp = member.patch("/v1/me", body)
        assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", body
        assert resp.json["error"]["details"]["field"] == field


def test_join_with_invite_gives_resident_role_and_new_token(community, api):
    member = api.login()
    resp = member.post("/v1/me/community", {"invite": "inv=" + community.invite(0).lower()})
    assert resp.status == 200
    assert resp.json["user"]["roles"] == ["resident"] and resp.json["token"] != member.token
    assert resp.json["user"]["grid_id"] == community.grid_ids[0]


def test_join_with_unknown_or_expired_invite_is_404(community, api):
    member = api.login()
    assert member.post("/v1/me/community", {"invite": "NOSUCHCODE"}).error_code == "INVITE_INVALID"
    code = community.invite(0)
    InviteModel(code).update(actions=[InviteModel.expires_at.set(utcnow() - timedelta(minutes=1))])
    resp = member.post("/v1/me/community", {"invite": code})
    assert resp.status == 404 and resp.error_code == "INVITE_INVALID"


def test_join_another_community_is_409_but_moving_grid_works(api):
    from tests.support import make_community
    first, second = make_community(api), make_community(api)
    member = first.resident(0)
    resp = member.post("/v1/me/community", {"invite": second.invite(0)})
    assert resp.status == 409 and resp.error_code == "ALREADY_IN_COMMUNITY"
    moved = member.post("/v1/me/community", {"invite": first.invite(1)})
    assert moved.status == 200 and moved.json["user"]["grid_id"] == first.grid_ids[1]


def test_bind_phone_through_wechat(api, wechat):
    member = api.login()
    code = wechat.issue_phone_code("13912345678")
    resp = member.post("/v1/me/phone", {"code": code})
    assert resp.status == 200 and resp.json["phone"] == "139****5678"
    assert UserModel.get(member.id).phone == "13912345678"
    reused = member.post("/v1/me/phone", {"code": code})
    assert reused.status == 400 and reused.error_code == "PHONE_CODE_INVALID"


def test_bind_phone_when_wechat_is_down_is_503(api, wechat):
    member = api.login()
    wechat.set_fault("error", ["wxa/business/getuserphonenumber"])
    resp = member.post("/v1/me/phone", {"code": "whatever"})
    assert resp.status == 503 and resp.error_code == "UPSTREAM_UNAVAILABLE"


def test_volunteer_registration_needs_a_community(community, api):
    outsider = api.login()
    resp = outsider.post("/v1/me/volunteer", {"real_name": "张三", "skills": []})
    assert resp.status == 409 and resp.error_code == "NOT_IN_COMMUNITY"
    member = community.resident()
    resp = member.post("/v1/me/volunteer", {"real_name": "张三", "skills": ["维修", "陪伴"]})
    assert resp.status == 200
    assert "volunteer" in resp.json["user"]["roles"] and resp.json["user"]["is_volunteer"]
    assert resp.json["user"]["skills"] == ["维修", "陪伴"]


def test_volunteer_registration_validates(community):
    member = community.resident()
    for body in ({"real_name": "张"}, {"real_name": "张三", "skills": ["x" * 11]},
                 {"real_name": "张三", "skills": ["a"] * 11}, {"skills": []}):
        assert member.post("/v1/me/volunteer", body).status == 400, body


def test_delete_me_erases_personal_data_and_next_login_is_a_new_user(community, wechat):
    worker = community.grid_worker(0)
    worker.patch("/v1/me", {"nickname": "要注销的人"})
    worker.post("/v1/me/phone", {"code": wechat.issue_phone_code("13700000000")})
    assert worker.delete("/v1/me").status == 204
    stored = UserModel.get(worker.id)
    assert stored.status == "deleted"
    assert stored.nickname is None and stored.phone is None and stored.openid is None and stored.roles is None
    assert not IdentityModel.count(fake_openid(worker.name))
    from tongxin.adapters.dynamo.models import GridModel
    assert worker.id not in (GridModel.get(community.id, community.grid_ids[0]).worker_ids or set())
    again = community.api.login(worker.name)
    assert again.id != worker.id and again.user["community_id"] is None
    assert community.api.get("/v1/me", token=worker.token).status == 401
