"""双报到 党员报到 over HTTP against moto: a resident reports, an admin approves or rejects, the role and the unit follow,
one registration per person per community, the messages, and how a registration ends (注销, the role taken away)."""
from __future__ import annotations

import threading

import pytest

from tests.api.test_requests import messages
from tongxin.adapters.dynamo.models import PartyRegistrationModel, UserModel
from tongxin.usecases import streets

PR, PRS = "/v1/me/party-registration", "/v1/admin/party-registrations"
REPORT = {"real_name": "李党员", "work_unit": "区税务局", "party_branch": "同心社区第一党支部"}


def report(member, **changes):
    return member.post(PR, {**REPORT, **changes})


def pending_ids(admin, status="pending") -> list[str]:
    resp = admin.get(f"{PRS}?status={status}")
    assert resp.status == 200, resp.body
    return [r["id"] for r in resp.json["items"]]


def roles_of(user_id: str) -> set[str]:
    return set(UserModel.get(user_id, consistent_read=True).roles or ())


def test_a_report_is_pending_the_admin_approves_and_the_member_becomes_a_party_member(community):
    member, admin = community.resident(), community.admin
    resp = report(member)
    assert resp.status == 201, resp.body
    reg = resp.json
    assert reg["status"] == "pending" and reg["user"]["id"] == member.id and reg["real_name"] == "李党员"
    assert reg["work_unit"] == "区税务局" and reg["party_branch"] == "同心社区第一党支部" and reg["unit_id"] is None
    assert reg["decided_at"] is None and reg["reason"] is None
    assert member.get(PR).json == reg
    assert reg["id"] in pending_ids(admin)
    # The admins are told of it (a fan-out to the community's admins), the name masked.
    told = [m for m in messages(admin.id, "party_registration_submitted") if m.data["registration_id"] == reg["id"]]
    assert len(told) == 1 and told[0].data["name"] == "李**"

    approved = admin.post(f"{PRS}/{reg['id']}/approve")
    assert approved.status == 200, approved.body
    assert approved.json["status"] == "approved" and approved.json["decided_at"] is not None
    assert approved.json == member.get(PR).json  # the answer is what was written
    assert "party_member" in member.relogin().user["roles"]
    stored = UserModel.get(member.id, consistent_read=True)
    assert stored.real_name == "李党员" and stored.party_unit_id is None
    assert reg["id"] not in pending_ids(admin) and reg["id"] in pending_ids(admin, "approved")
    decided = [m for m in messages(member.id, "party_registration_decided") if m.data["registration_id"] == reg["id"]]
    assert [m.data["result"] for m in decided] == ["approved"]
    # The member directory lists them under the role at once.
    listed = admin.get("/v1/admin/members?role=party_member").json["items"]
    assert member.id in [m["id"] for m in listed]
    # Approving again: the state has moved on.
    again = admin.post(f"{PRS}/{reg['id']}/approve")
    assert again.status == 409 and again.error_code == "INVALID_STATE"
    assert admin.post(f"{PRS}/{reg['id']}/reject", {"reason": "晚了"}).error_code == "INVALID_STATE"


def test_one_registration_per_person_while_pending_or_approved(community):
    member = community.resident()
    assert report(member).status == 201
    second = report(member, work_unit="另一个单位")
    assert second.status == 409 and second.error_code == "ALREADY_REGISTERED"
    assert sum(member.api.last_meter.wechat.values()) == 0  # refused before WeChat's check is spent
    assert member.get(PR).json["work_unit"] == "区税务局"  # nothing replaced
    assert community.admin.post(f"{PRS}/{member.get(PR).json['id']}/approve").status == 200
    assert report(member).error_code == "ALREADY_REGISTERED"


def test_concurrent_reports_make_one_registration(community):
    member = community.resident()
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(report(member).status)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 409, 409, 409, 409]


def test_a_rejected_report_tells_why_and_may_be_sent_again(community):
    member, admin = community.resident(), community.admin
    reg = report(member).json
    rejected = admin.post(f"{PRS}/{reg['id']}/reject", {"reason": "  党组织名称不完整  "})
    assert rejected.status == 200, rejected.body
    assert rejected.json["status"] == "rejected" and rejected.json["reason"] == "党组织名称不完整"
    assert "party_member" not in roles_of(member.id)
    told = [m for m in messages(member.id, "party_registration_decided") if m.data["registration_id"] == reg["id"]]
    assert [(m.data["result"], m.data["reason"]) for m in told] == [("rejected", "党组织名称不完整")]
    assert reg["id"] in pending_ids(admin, "rejected")
    # Sent again: the same registration, pending again, with the new text; the old reason gone.
    again = report(member, party_branch="同心社区第二党支部")
    assert again.status == 201 and again.json["id"] == reg["id"]
    assert again.json["status"] == "pending" and again.json["reason"] is None
    assert again.json["party_branch"] == "同心社区第二党支部"
    assert reg["id"] in pending_ids(admin) and reg["id"] not in pending_ids(admin, "rejected")
    assert admin.post(f"{PRS}/{reg['id']}/approve").status == 200
    told = [m for m in messages(member.id, "party_registration_decided") if m.data["registration_id"] == reg["id"]]
    assert sorted(m.data["result"] for m in told) == ["approved", "rejected"]  # one message per decision


def test_bad_input_is_400_in_chinese_and_nothing_is_written(community):
    member = community.resident()
    for field, value in (("real_name", "   "), ("real_name", "李"), ("real_name", "李" * 21), ("work_unit", ""),
                         ("work_unit", "单" * 61), ("party_branch", "第一\n党支部"), ("party_branch", "支部\u202e")):
        resp = report(member, **{field: value})
        assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", (field, value, resp.body)
        assert resp.json["error"]["details"]["field"] == field
        assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json["error"]["message"])
    assert member.get(PR).status == 404
    # The longest allowed values are taken.
    edge = report(member, real_name="李" * 20, work_unit="单" * 60, party_branch="支" * 60)
    assert edge.status == 201 and edge.json["real_name"] == "李" * 20
    reject = community.admin.post(f"{PRS}/{edge.json['id']}/reject", {"reason": "理" * 201})
    assert reject.status == 400 and reject.error_code == "VALIDATION_FAILED"
    assert community.admin.post(f"{PRS}/{edge.json['id']}/reject", {"reason": "理" * 200}).status == 200


def test_risky_text_is_refused_by_the_content_check(community):
    member = community.resident()
    resp = report(member, work_unit="违禁单位")
    assert resp.status == 400 and resp.error_code == "CONTENT_REJECTED"
    assert member.get(PR).status == 404


def test_who_may_report_and_decide(api, community):
    outsider = api.login()
    assert report(outsider).error_code == "NOT_IN_COMMUNITY"
    assert outsider.get(PR).error_code == "NOT_IN_COMMUNITY"
    member = community.resident()
    assert member.get(PR).status == 404
    reg = report(member).json
    worker = community.grid_worker(0)
    assert worker.post(f"{PRS}/{reg['id']}/approve").status == 403
    assert member.post(f"{PRS}/{reg['id']}/approve").status == 403
    assert member.get(PRS).status == 403
    # Another community's admin: it does not exist for them; a made-up id is 404 too.
    from tests.support import make_community
    other = make_community(api)
    assert other.admin.post(f"{PRS}/{reg['id']}/approve").status == 404
    assert reg["id"] not in pending_ids(other.admin)
    assert community.admin.post(f"{PRS}/nothing/approve").status == 404
    assert community.admin.post(f"{PRS}/{community.id}.u_nobody/approve").status == 404
    # An admin's own report is decided by another admin.
    own = report(community.admin).json
    refused = community.admin.post(f"{PRS}/{own['id']}/approve")
    assert refused.status == 403
    second_admin = community.with_roles(community.resident(), ["admin"])
    assert second_admin.post(f"{PRS}/{own['id']}/approve").status == 200
    assert "party_member" in roles_of(community.admin.id)


def test_an_admin_whose_role_was_taken_away_cannot_decide(community):
    member = community.resident()
    reg = report(member).json
    deputy = community.with_roles(community.resident(), ["admin"])
    community.with_roles(deputy, [])  # taken away, the token still says admin until it is read again
    assert deputy.post(f"{PRS}/{reg['id']}/approve").status == 403
    assert member.get(PR).json["status"] == "pending"


def test_the_unit_must_exist_and_is_recorded_on_approval(api, community):
    street = streets.create_street("报到街道")
    streets.attach_community(street["id"], community.id)
    staff = api.login()
    streets.add_staff(street["id"], staff.id)
    staff.relogin()
    unit = staff.post("/v1/street/units", {"name": "区税务局", "kind": "机关", "contact_name": "王主任",
                                           "contact_phone": "13800000001"})
    assert unit.status == 201, unit.body
    member = community.resident()
    missing = report(member, unit_id="un_nothing")
    assert missing.status == 404 and missing.json["error"]["details"]["field"] == "unit_id"
    assert member.get(PR).status == 404
    reg = report(member, unit_id=unit.json["id"]).json
    assert reg["unit_id"] == unit.json["id"]
    assert community.admin.post(f"{PRS}/{reg['id']}/approve").status == 200
    assert UserModel.get(member.id, consistent_read=True).party_unit_id == unit.json["id"]
    by_unit = list(PartyRegistrationModel.by_unit.query(unit.json["id"]))
    assert [r.user_id for r in by_unit] == [member.id]


def test_the_unit_must_be_of_the_communitys_own_street(api, community):
    """A unit of another street (or any unit while the community belongs to no street) is 404 naming unit_id, in
    Chinese; the unit's street is checked by the registration's own transaction."""
    other_street = streets.create_street("别的街道")
    other_staff = api.login()
    streets.add_staff(other_street["id"], other_staff.id)
    other_staff.relogin()
    elsewhere = other_staff.post("/v1/street/units", {"name": "外街道单位", "kind": "企业", "contact_name": "赵经理",
                                                      "contact_phone": "13800000002"}).json
    member = community.resident()
    # The community belongs to no street yet: no unit is its street's.
    lonely = report(member, unit_id=elsewhere["id"])
    assert lonely.status == 404 and lonely.error_code == "NOT_FOUND"
    assert lonely.json["error"]["details"]["field"] == "unit_id" and "unit_id" in lonely.json["error"]["message"]
    assert sum(member.api.last_meter.wechat.values()) == 0  # refused before WeChat's check is spent
    street = streets.create_street("本街道")
    streets.attach_community(street["id"], community.id)
    refused = report(member, unit_id=elsewhere["id"])
    assert refused.status == 404 and refused.json["error"]["details"]["field"] == "unit_id", refused.body
    assert "街道" in refused.json["error"]["message"]
    assert member.get(PR).status == 404  # nothing written
    staff = api.login()
    streets.add_staff(street["id"], staff.id)
    staff.relogin()
    own = staff.post("/v1/street/units", {"name": "本街道单位", "kind": "学校", "contact_name": "钱校长",
                                          "contact_phone": "13800000003"}).json
    ok = report(member, unit_id=own["id"])
    assert ok.status == 201 and ok.json["unit_id"] == own["id"]
    # The same call again: one registration per person.
    assert report(member, unit_id=own["id"]).error_code == "ALREADY_REGISTERED"


def test_a_unit_moved_to_another_street_between_read_and_write_is_refused_by_the_transaction(api, community,
                                                                                            monkeypatch):
    """The unit's street is a condition of the registration's transaction, not a read: a unit whose street changes
    after the community was read is refused, and nothing is written."""
    import tongxin.usecases.party as party_module
    from tongxin.adapters.dynamo.models import UnitModel
    street = streets.create_street("本街道")
    streets.attach_community(street["id"], community.id)
    staff = api.login()
    streets.add_staff(street["id"], staff.id)
    staff.relogin()
    unit = staff.post("/v1/street/units", {"name": "会搬走的单位", "kind": "企业", "contact_name": "孙经理",
                                           "contact_phone": "13800000004"}).json
    member = community.resident()
    real_check = party_module.content_check

    def move_then_check(*args, **kwargs):  # runs after the read, before the transaction
        UnitModel(unit["id"]).update(actions=[UnitModel.street_id.set("st_elsewhere")])
        return real_check(*args, **kwargs)

    monkeypatch.setattr(party_module, "content_check", move_then_check)
    resp = report(member, unit_id=unit["id"])
    assert resp.status == 404 and resp.json["error"]["details"]["field"] == "unit_id", resp.body
    assert member.get(PR).status == 404


def test_a_member_who_left_cannot_be_approved(community):
    member = community.resident()
    reg = report(member).json
    assert member.delete("/v1/me").status == 204
    # 注销 ended the registration and erased what it said.
    stored = PartyRegistrationModel.get(reg["id"], consistent_read=True)
    assert stored.status == "ended" and stored.real_name is None and stored.work_unit is None
    assert stored.party_branch is None
    resp = community.admin.post(f"{PRS}/{reg['id']}/approve")
    assert resp.status == 409
    assert reg["id"] not in pending_ids(community.admin)


def test_deletion_ends_an_approved_registration(community):
    member = community.resident()
    reg = report(member).json
    assert community.admin.post(f"{PRS}/{reg['id']}/approve").status == 200
    assert member.delete("/v1/me").status == 204
    ended = pending_ids(community.admin, "ended")
    assert reg["id"] in ended and reg["id"] not in pending_ids(community.admin, "approved")
    shown = next(r for r in community.admin.get(f"{PRS}?status=ended").json["items"] if r["id"] == reg["id"])
    assert shown["real_name"] is None and shown["reason"] == "本人注销账号" and shown["ended_at"] is not None
    stored = UserModel.get(member.id, consistent_read=True)
    assert stored.party_unit_id is None and not stored.roles


def test_taking_the_role_away_ends_the_registration_and_the_member_may_report_again(community):
    member, admin = community.resident(), community.admin
    reg = report(member).json
    assert admin.post(f"{PRS}/{reg['id']}/approve").status == 200
    resp = admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": ["volunteer"]})
    assert resp.status == 200, resp.body
    assert member.get(PR).json["status"] == "ended"
    assert member.get(PR).json["reason"] == "管理员取消了党员身份"
    assert "party_member" not in roles_of(member.id)
    # The role given back by an admin does not revive the registration; reporting again does.
    again = report(member)
    assert again.status == 201 and again.json["status"] == "pending"
    assert admin.post(f"{PRS}/{reg['id']}/approve").status == 200
    assert {"party_member", "volunteer"} <= roles_of(member.id)


def test_the_roles_route_never_adds_party_member_but_keeps_and_removes_it(community):
    """Only an approved registration grants party_member: the admin's roles route refuses to add it (400 naming
    roles, as a role the admin may not give), keeps it when a list read back carries it, and removing it there
    ends the registration; the refusal repeats identically and changes nothing."""
    member, admin = community.resident(), community.admin
    path = f"/v1/admin/members/{member.id}/roles"
    for _ in range(2):  # the same call twice: refused twice, nothing written
        refused = admin.put(path, {"roles": ["volunteer", "party_member"]})
        assert refused.status == 400 and refused.error_code == "VALIDATION_FAILED", refused.body
        assert refused.json["error"]["details"] == {"field": "roles", "not_assignable": ["party_member"]}
        assert "党员报到" in refused.json["error"]["message"]
        assert roles_of(member.id) == {"resident"}
    # A pending registration is no approval.
    reg = report(member).json
    assert admin.put(path, {"roles": ["party_member"]}).status == 400
    assert admin.post(f"{PRS}/{reg['id']}/approve").status == 200
    # Held: a list read back (GET /v1/me) keeps it, with other roles changed around it.
    me = member.get("/v1/me").json
    kept = admin.put(path, {"roles": me["roles"] + ["volunteer"]})
    assert kept.status == 200 and set(kept.json["roles"]) == {"resident", "party_member", "volunteer"}
    assert member.get(PR).json["status"] == "approved"
    # Removed: the registration ends; then adding it back is refused again (the member reports again).
    assert admin.put(path, {"roles": ["volunteer"]}).status == 200
    assert member.get(PR).json["status"] == "ended"
    again = admin.put(path, {"roles": ["volunteer", "party_member"]})
    assert again.status == 400 and again.json["error"]["details"]["field"] == "roles"
    assert roles_of(member.id) == {"resident", "volunteer"}
    # An admin cannot give it to themself either.
    own = admin.put(f"/v1/admin/members/{admin.id}/roles", {"roles": ["admin", "party_member"]})
    assert own.status == 400 and "party_member" not in roles_of(admin.id)


def test_the_role_taken_between_the_admins_read_and_write_is_not_restored(community, monkeypatch):
    """The admin's list carries party_member while held; removed meanwhile (注销 of the registration's role by
    another admin), the write's condition on the roles as read refuses (409), it does not grant it back."""
    import tongxin.usecases.admin as admin_module
    member = community.party_member(community.resident())
    deputy = community.with_roles(community.resident(), ["admin"])
    real = admin_module.directory.sync

    def remove_then_sync(tx, before, after):  # after the read, before the write
        if before.id == member.id and "party_member" in (before.roles or ()):
            monkeypatch.setattr(admin_module.directory, "sync", real)
            assert deputy.put(f"/v1/admin/members/{member.id}/roles", {"roles": []}).status == 200
        return real(tx, before, after)

    monkeypatch.setattr(admin_module.directory, "sync", remove_then_sync)
    resp = community.admin.put(f"/v1/admin/members/{member.id}/roles", {"roles": ["party_member", "volunteer"]})
    assert resp.status == 409, resp.body
    assert "party_member" not in roles_of(member.id)


def test_lists_page_newest_first_with_a_cursor(community):
    admin = community.admin
    ids = [report(community.resident()).json["id"] for _ in range(3)]
    first = admin.get(f"{PRS}?limit=2")
    assert first.status == 200 and len(first.json["items"]) == 2
    assert [r["id"] for r in first.json["items"]] == ids[::-1][:2]
    rest = admin.get(f"{PRS}?limit=2&cursor={first.json['next_cursor']}")
    assert [r["id"] for r in rest.json["items"]] == ids[:1]
    assert rest.json["next_cursor"] is None
    assert admin.get(f"{PRS}?cursor=forged.cursor").error_code == "VALIDATION_FAILED"
    assert admin.get(f"{PRS}?status=unknown").error_code == "VALIDATION_FAILED"
    # One Query a page (and the caller).
    assert admin.api.last_meter.reads <= 2


@pytest.mark.parametrize("route", ["submit", "submit_with_unit", "approve", "reject", "list", "mine"])
def test_exact_call_counts(api, community, route):
    member, admin = community.resident(), community.admin
    if route == "submit":
        resp = report(member)
        assert resp.status == 201
    elif route == "submit_with_unit":
        street = streets.create_street("计数街道")
        streets.attach_community(street["id"], community.id)
        staff = api.login()
        streets.add_staff(street["id"], staff.id)
        staff.relogin()
        unit = staff.post("/v1/street/units", {"name": "计数单位", "kind": "机关", "contact_name": "周主任",
                                               "contact_phone": "13800000005"}).json
        resp = report(member, unit_id=unit["id"])
        assert resp.status == 201, resp.body
    else:
        reg = report(member).json
        resp = {"approve": lambda: admin.post(f"{PRS}/{reg['id']}/approve"),
                "reject": lambda: admin.post(f"{PRS}/{reg['id']}/reject", {"reason": "不符合"}),
                "list": lambda: admin.get(PRS), "mine": lambda: member.get(PR)}[route]()
        assert resp.status == 200, resp.body
    meter = member.api.last_meter
    calls = dict(meter.dynamo)
    expected = {"submit": {"GetItem": 2, "TransactWriteItems": 1},  # the caller; mine (refused before WeChat's check)
                # the caller; mine and the community's street (one BatchGetItem); the unit's street a condition
                "submit_with_unit": {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1},
                "approve": {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1},
                "reject": {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1},
                "list": {"GetItem": 1, "Query": 1}, "mine": {"GetItem": 2}}[route]
    assert calls == expected, calls
    assert sum(meter.wechat.values()) == (1 if route.startswith("submit") else 0)


def test_the_demo_seed_has_a_party_member_and_a_report_to_approve(api):
    """`make dev`: vol1 is an approved party member; res2's report waits for the admin, who approves it over HTTP."""
    from infra.local import seed
    seed.seed()
    admin, vol1, res2 = api.login("admin"), api.login("vol1"), api.login("res2")
    assert "party_member" in vol1.user["roles"]
    assert vol1.get(PR).json["status"] == "approved"
    # Every seeded party member holds the role through an approved registration (the only way it is granted).
    holders = admin.get("/v1/admin/members?role=party_member").json["items"]
    assert {m["id"] for m in holders} == {admin.id, vol1.id}
    for holder in (admin, vol1):
        assert holder.get(PR).json["status"] == "approved"
    assert vol1.get(PR).json["party_branch"] == "同心社区第一党支部"
    pending = admin.get(PRS).json["items"]
    assert [r["user"]["id"] for r in pending] == [res2.id]
    assert admin.post(f"{PRS}/{pending[0]['id']}/approve").status == 200
    assert "party_member" in res2.relogin().user["roles"]
    assert {vol1.id, res2.id} <= set(assessed_ids(admin))


def assessed_ids(admin) -> list[str]:
    resp = admin.get("/v1/admin/party-members")
    assert resp.status == 200, resp.body
    return [r["user"]["id"] for r in resp.json["items"]]
