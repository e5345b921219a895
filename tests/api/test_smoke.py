def test_health(api):
    resp = api.get("/v1/health")
    assert resp.status == 200 and resp.json == {"status": "ok"}


def test_login_join_me(community):
    member = community.resident()
    me = member.get("/v1/me")
    assert me.status == 200
    assert me.json["community_id"] == community.id and "resident" in me.json["roles"]
