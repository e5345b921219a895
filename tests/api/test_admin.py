"""Administration: grids, invites and their QR posters, member roles; the operator's CLI."""
from tongxin.adapters.dynamo.models import GridModel, UserModel

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
LINK_BASE = "http://127.0.0.1:8000"  # QR_LINK_BASE of the test stage (tongxin.config.Settings)


def test_admin_creates_grid_and_lists_grids(community):
    resp = community.admin.post("/v1/admin/grids", {"name": "第三网格"})
    assert resp.status == 201 and resp.json["name"] == "第三网格"
    listed = community.admin.get("/v1/admin/grids").json["items"]
    assert {g["id"] for g in listed} == set(community.grid_ids) | {resp.json["id"]}


def test_invite_for_unknown_grid_is_404(community):
    resp = community.admin.post("/v1/admin/invites", {"grid_id": "g_nope"})
    assert resp.status == 404 and resp.error_code == "NOT_FOUND"


def test_invite_has_code_scene_and_expiry(community):
    resp = community.admin.post("/v1/admin/invites", {"grid_id": community.grid_ids[0], "valid_days": 7})
    assert resp.status == 201
    invite = resp.json
    assert invite["grid_id"] == community.grid_ids[0] and len(invite["code"]) == 8
    assert invite["scene"] == "inv=" + invite["code"] and len(invite["scene"]) <= 32
    assert invite["url"] == f"{LINK_BASE}/i/{invite['code']}"
    assert invite["expires_at"].endswith("+08:00")


def test_invite_qrcode_png_svg_and_wxacode(community, wechat):
    code = community.invite(0)
    png = community.admin.get(f"/v1/admin/invites/{code}/qrcode?format=png")
    assert png.status == 200 and png.body.startswith(PNG)
    svg = community.admin.get(f"/v1/admin/invites/{code}/qrcode?format=svg")
    assert svg.status == 200 and b"<svg" in svg.body
    wxacode = community.admin.get(f"/v1/admin/invites/{code}/qrcode?format=wxacode")
    # WeChat's mini-program codes are JPEG: its content type passes through.
    assert wxacode.status == 200 and wxacode.body.startswith(JPEG)
    assert wxacode.headers["Content-Type"] == "image/jpeg"
    as_json = community.admin.get(f"/v1/admin/invites/{code}/qrcode?format=json").json
    assert as_json["code"] == code and as_json["url"] == f"{LINK_BASE}/i/{code}"
    assert as_json["scene"] == f"inv={code}" and as_json["valid_until"].endswith("+08:00")
    assert community.admin.get(f"/v1/admin/invites/{code}/qrcode?format=gif").status == 400


def test_plain_qr_carries_exactly_the_link(community):
    """The printed QR is the invite's link ``<QR_LINK_BASE>/i/<code>`` (普通链接二维码: WeChat's own scanner opens
    the join page, which sends the link as it is): the same image as a reference QR of that text."""
    import io
    import qrcode
    import qrcode.image.svg
    code = community.invite(0)
    reference = io.BytesIO()
    qrcode.make(f"{LINK_BASE}/i/{code}", image_factory=qrcode.image.svg.SvgPathImage, box_size=10,
                border=4).save(reference)
    served = community.admin.get(f"/v1/admin/invites/{code}/qrcode?format=svg").body
    assert served == reference.getvalue()


def test_other_communitys_invite_qrcode_is_404(api, community):
    from tests.support import make_community
    other = make_community(api)
    resp = other.admin.get(f"/v1/admin/invites/{community.invite(0)}/qrcode?format=png")
    assert resp.status == 404


def test_assign_grid_worker_updates_grid_and_takes_effect_at_once(community):
    member = community.party_member(community.resident(0))  # party_member: only an approved 党员报到 grants it
    resp = community.admin.put(f"/v1/admin/members/{member.id}/roles",
                               {"roles": ["grid_worker", "party_member"], "grid_ids": [community.grid_ids[0]]})
    assert resp.status == 200 and set(resp.json["roles"]) == {"grid_worker", "party_member", "resident"}
    assert member.id in GridModel.get(community.id, community.grid_ids[0]).worker_ids
    assert member.get("/v1/grid/tasks").status == 200  # the token names the user; roles are read as stored
    moved = community.admin.put(f"/v1/admin/members/{member.id}/roles",
                                {"roles": ["grid_worker"], "grid_ids": [community.grid_ids[1]]})
    assert moved.status == 200
    assert member.id not in (GridModel.get(community.id, community.grid_ids[0]).worker_ids or set())
    assert member.id in GridModel.get(community.id, community.grid_ids[1]).worker_ids


def test_role_assignment_refusals(community, api):
    member = community.resident(0)
    path = f"/v1/admin/members/{member.id}/roles"
    assert community.admin.put(path, {"roles": ["grid_worker"]}).status == 400
    assert community.admin.put(path, {"roles": ["store_keeper"]}).status == 400
    assert community.admin.put(path, {"roles": ["emperor"]}).status == 400
    unknown_grid = community.admin.put(path, {"roles": ["grid_worker"], "grid_ids": ["g_nope"]})
    assert unknown_grid.status == 404
    assert UserModel.get(member.id).roles == {"resident"}  # nothing half-written
    assert community.admin.put("/v1/admin/members/u_nobody/roles", {"roles": []}).status == 404
    outsider = api.login()
    assert community.admin.put(f"/v1/admin/members/{outsider.id}/roles", {"roles": []}).status == 404


def test_cli_creates_community_with_first_admin(api, capsys):
    from tongxin import cli
    from tongxin.adapters.dynamo.models import CommunityModel
    founder = api.login()
    assert cli.main(["create-community", "--name", "命令行社区", "--admin-user-id", founder.id,
                     "--grid", "东区", "--grid", "西区", "--wish-points", "30"]) == 0
    out = capsys.readouterr().out
    community_id = UserModel.get(founder.id).community_id
    assert community_id and community_id in out
    assert CommunityModel.get(community_id).wish_points == 30
    assert {g.name for g in GridModel.query(community_id)} == {"东区", "西区"}
    founder.relogin()
    assert "admin" in founder.user["roles"]
    assert founder.get("/v1/admin/grids").status == 200
    assert cli.main(["create-community", "--name", "再来一个", "--admin-user-id", founder.id]) == 1
