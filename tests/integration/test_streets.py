"""Streets (街道) and their staff, the platform operator's (``python -m tongxin.cli``, called here as
``tongxin.cli.main([...])``): both sides of every link kept in step (a community's ``street_id`` and the street's
``community_ids``; a user's ``street_staff`` role and ``street_ids`` and the street's ``staff_ids``), a removal that
works at once, refusals on the operator's terminal; and the community's own lists of who is told what — admins
(``CommunityModel.admin_ids``) through role changes and 注销, staff through 注销 — kept right by the API."""
from __future__ import annotations

import json

import pytest

from tongxin import cli
from tongxin.adapters.dynamo.models import CommunityModel, StreetModel, UserModel

REQUEST = {"category": "治安隐患", "content": "小区后门的监控坏了"}


def run(capsys, *argv: str) -> dict:
    """One operator command that must succeed: its JSON answer on stdout."""
    assert cli.main(list(argv)) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    return json.loads(out)


def refused(capsys, *argv: str) -> str:
    """One operator command that must fail: exit code 1, nothing on stdout, the reason on stderr."""
    assert cli.main(list(argv)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def street(street_id: str) -> StreetModel:
    return StreetModel.get(street_id, consistent_read=True)


def user(user_id: str) -> UserModel:
    return UserModel.get(user_id, consistent_read=True)


def community_item(community_id: str) -> CommunityModel:
    return CommunityModel.get(community_id, consistent_read=True)


# --- streets and their communities --------------------------------------------------------------------------

def test_create_street_with_its_communities(capsys, api):
    from tests.support import make_community
    first, second = make_community(api), make_community(api)
    made = run(capsys, "create-street", "--name", "同心街道", "--community", first.id, "--community", second.id)
    assert made["name"] == "同心街道" and made["id"]
    assert made["community_ids"] == sorted([first.id, second.id]) and made["staff_ids"] == []
    stored = street(made["id"])
    assert stored.name == "同心街道" and stored.community_ids == {first.id, second.id}
    assert community_item(first.id).street_id == made["id"] == community_item(second.id).street_id
    alone = run(capsys, "create-street", "--name", "和平街道")
    assert alone["community_ids"] == [] and alone["id"] != made["id"]
    assert not street(alone["id"]).community_ids


def test_a_community_moved_to_another_street_leaves_the_first(capsys, community):
    east = run(capsys, "create-street", "--name", "东街道")["id"]
    west = run(capsys, "create-street", "--name", "西街道")["id"]
    attached = run(capsys, "attach-community", "--street", east, "--community", community.id)
    assert attached["id"] == east and attached["community_ids"] == [community.id]
    assert community_item(community.id).street_id == east
    again = run(capsys, "attach-community", "--street", east, "--community", community.id)  # no change
    assert again["community_ids"] == [community.id] and street(east).community_ids == {community.id}
    moved = run(capsys, "attach-community", "--street", west, "--community", community.id)
    assert moved["id"] == west and moved["community_ids"] == [community.id]
    assert community_item(community.id).street_id == west
    assert street(west).community_ids == {community.id}
    assert not street(east).community_ids  # gone from the first street's list


def test_a_street_sees_only_the_communities_attached_to_it_in_its_stats(capsys, api, community):
    """Who the street answers for follows the move: the staff's statistics list the communities attached now."""
    from tests.support import make_community
    other = make_community(api)
    east = run(capsys, "create-street", "--name", "东街道", "--community", community.id, "--community", other.id)["id"]
    west = run(capsys, "create-street", "--name", "西街道")["id"]
    staff = api.login()
    run(capsys, "add-street-staff", "--street", east, "--user-id", staff.id)
    staff.relogin()
    listed = lambda: [c["community_id"] for c in staff.get("/v1/admin/requests/stats").json["by_community"]]  # noqa
    assert listed() == sorted([community.id, other.id])
    run(capsys, "attach-community", "--street", west, "--community", other.id)
    assert listed() == [community.id]


# --- staff ------------------------------------------------------------------------------------------------------

def test_naming_staff_gives_the_role_and_the_street(capsys, api, community):
    made = run(capsys, "create-street", "--name", "同心街道", "--community", community.id)
    staff = api.login()
    assert "street_staff" not in staff.user["roles"]
    named = run(capsys, "add-street-staff", "--street", made["id"], "--user-id", staff.id)
    assert named["staff_ids"] == [staff.id]
    assert street(made["id"]).staff_ids == {staff.id}
    stored = user(staff.id)
    assert "street_staff" in stored.roles and stored.street_ids == {made["id"]}
    assert stored.community_id is None  # street staff need belong to no community
    me = staff.get("/v1/me").json
    assert "street_staff" in me["roles"] and me["street_ids"] == [made["id"]]
    assert staff.get("/v1/street/tasks").status == 200  # the token issued before works: roles are read as stored


def test_removing_staff_takes_the_street_and_the_role_with_the_last(capsys, api, community):
    east = run(capsys, "create-street", "--name", "东街道", "--community", community.id)["id"]
    west = run(capsys, "create-street", "--name", "西街道")["id"]
    staff = api.login()
    run(capsys, "add-street-staff", "--street", east, "--user-id", staff.id)
    run(capsys, "add-street-staff", "--street", west, "--user-id", staff.id)
    assert user(staff.id).street_ids == {east, west}
    left = run(capsys, "remove-street-staff", "--street", west, "--user-id", staff.id)
    assert left["id"] == west and left["staff_ids"] == []
    stored = user(staff.id)
    assert "street_staff" in stored.roles and stored.street_ids == {east}  # still staff of the other street
    assert street(west).staff_ids in (None, set()) and street(east).staff_ids == {staff.id}
    run(capsys, "remove-street-staff", "--street", east, "--user-id", staff.id)
    stored = user(staff.id)
    assert "street_staff" not in (stored.roles or set()) and not stored.street_ids
    assert not street(east).staff_ids
    me = staff.get("/v1/me").json
    assert "street_staff" not in me["roles"] and me["street_ids"] == []


def test_a_removed_staff_members_token_is_refused_at_once(capsys, api, community):
    """The token carries what they held at login; every request reads them as stored, so what they lost is
    refused from the next request on — the street's queue, its statistics, and a request of the street."""
    street_id = run(capsys, "create-street", "--name", "同心街道", "--community", community.id)["id"]
    staff = api.login()
    run(capsys, "add-street-staff", "--street", street_id, "--user-id", staff.id)
    staff.relogin()
    author, worker = community.resident(0), community.grid_worker(0)
    request_id = author.post("/v1/requests", REQUEST).json["id"]
    assert worker.post(f"/v1/requests/{request_id}/escalate", {"reason": "需要社区"}).status == 200
    assert community.admin.post(f"/v1/requests/{request_id}/escalate", {"reason": "需要街道"}).status == 200
    assert staff.get(f"/v1/requests/{request_id}").status == 200
    assert staff.get("/v1/street/tasks").json["items"][0]["request"]["id"] == request_id
    token = staff.token
    run(capsys, "remove-street-staff", "--street", street_id, "--user-id", staff.id)
    assert staff.token == token  # no new login: the token issued while they were staff
    assert staff.get("/v1/street/tasks").status == 403
    assert staff.get("/v1/admin/requests/stats").status == 403
    assert staff.get(f"/v1/requests/{request_id}").status == 404
    assert staff.post(f"/v1/requests/{request_id}/accept").status == 404
    detail = author.get(f"/v1/requests/{request_id}").json
    assert detail["status"] == "escalated" and detail["level"] == "street"  # nothing was taken by them


def test_a_removal_between_the_read_and_the_write_is_refused_by_the_write(capsys, api, community, monkeypatch):
    """The grant is checked again inside the step's transaction: staff removed after the step read the request
    (and the caller) take no step."""
    from tongxin.usecases.requests import handling
    street_id = run(capsys, "create-street", "--name", "同心街道", "--community", community.id)["id"]
    staff = api.login()
    run(capsys, "add-street-staff", "--street", street_id, "--user-id", staff.id)
    staff.relogin()
    author, worker = community.resident(0), community.grid_worker(0)
    request_id = author.post("/v1/requests", REQUEST).json["id"]
    worker.post(f"/v1/requests/{request_id}/escalate", {"reason": "需要社区"})
    community.admin.post(f"/v1/requests/{request_id}/escalate", {"reason": "需要街道"})
    real = handling.handler_grant

    def removed_meanwhile(principal, request):
        grant = real(principal, request)
        assert cli.main(["remove-street-staff", "--street", street_id, "--user-id", staff.id]) == 0
        return grant

    monkeypatch.setattr(handling, "handler_grant", removed_meanwhile)
    resp = staff.post(f"/v1/requests/{request_id}/accept")
    assert resp.status == 403, resp.body
    monkeypatch.undo()
    assert author.get(f"/v1/requests/{request_id}").json["status"] == "escalated"


@pytest.mark.parametrize("command", ["add-street-staff", "remove-street-staff"])
def test_unknown_street_or_user_is_exit_code_1_with_the_code(capsys, api, command):
    real_street = run(capsys, "create-street", "--name", "同心街道")["id"]
    person = api.login()
    assert refused(capsys, command, "--street", "st_nothing", "--user-id", person.id).startswith("NOT_FOUND")
    assert refused(capsys, command, "--street", real_street, "--user-id", "u_nobody").startswith("NOT_FOUND")
    assert "street_staff" not in (user(person.id).roles or set()) and not street(real_street).staff_ids


def test_attaching_to_an_unknown_street_or_community_is_exit_code_1(capsys, community):
    real_street = run(capsys, "create-street", "--name", "同心街道")["id"]
    assert refused(capsys, "attach-community", "--street", "st_nothing", "--community", community.id) \
        .startswith("NOT_FOUND")
    assert refused(capsys, "attach-community", "--street", real_street, "--community", "c_nothing") \
        .startswith("NOT_FOUND")
    assert community_item(community.id).street_id is None and not street(real_street).community_ids


def test_a_deleted_user_cannot_be_named_staff(capsys, api):
    street_id = run(capsys, "create-street", "--name", "同心街道")["id"]
    gone = api.login()
    assert gone.delete("/v1/me").status == 204
    assert refused(capsys, "add-street-staff", "--street", street_id, "--user-id", gone.id).startswith("NOT_FOUND")
    assert not street(street_id).staff_ids


# --- what the API keeps right ----------------------------------------------------------------------------------

def test_an_admins_role_change_keeps_a_members_street_staff_role(capsys, community):
    """street_staff is the operator's: a community admin neither takes it away nor gives it."""
    street_id = run(capsys, "create-street", "--name", "同心街道", "--community", community.id)["id"]
    member = community.resident(0)
    run(capsys, "add-street-staff", "--street", street_id, "--user-id", member.id)
    resp = community.admin.put(f"/v1/admin/members/{member.id}/roles",
                               {"roles": ["volunteer", "grid_worker"], "grid_ids": community.grid_ids[:1]})
    assert resp.status == 200, resp.body
    stored = user(member.id)
    assert {"street_staff", "volunteer", "grid_worker", "resident"} <= stored.roles
    assert stored.street_ids == {street_id} and street(street_id).staff_ids == {member.id}
    resp = community.admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": []})
    assert resp.status == 200, resp.body
    assert user(member.id).roles == {"resident", "street_staff"}
    assert member.get("/v1/street/tasks").status == 200
    other = community.resident(0)
    resp = community.admin.put(f"/v1/admin/members/{other.id}/roles", {"roles": ["street_staff"]})
    assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED"), resp.body
    assert "street_staff" not in user(other.id).roles and not user(other.id).street_ids


def test_granting_and_removing_admin_keeps_the_communitys_admin_list(community):
    founder = community.admin
    assert community_item(community.id).admin_ids == {founder.id}  # the operator's first admin
    member = community.resident(0)
    community.with_roles(member, ["admin", "volunteer"])
    assert community_item(community.id).admin_ids == {founder.id, member.id}
    community.with_roles(member, ["admin"])  # still admin: listed once
    assert community_item(community.id).admin_ids == {founder.id, member.id}
    community.with_roles(member, ["volunteer"])
    assert community_item(community.id).admin_ids == {founder.id}
    assert "admin" not in user(member.id).roles


def test_leaving_removes_an_admin_from_the_admin_list_and_staff_from_the_street(capsys, api, community):
    street_id = run(capsys, "create-street", "--name", "同心街道", "--community", community.id)["id"]
    admin = community.with_roles(community.resident(0), ["admin"])
    staff, colleague = api.login(), api.login()
    for person in (staff, colleague):
        run(capsys, "add-street-staff", "--street", street_id, "--user-id", person.id)
    assert admin.id in community_item(community.id).admin_ids
    assert admin.delete("/v1/me").status == 204
    assert community_item(community.id).admin_ids == {community.admin.id}
    assert staff.delete("/v1/me").status == 204
    assert street(street_id).staff_ids == {colleague.id}
    gone = user(staff.id)
    assert gone.status == "deleted" and not gone.street_ids and not gone.roles
