"""绑定 (issue 25): a managed resident gets WeChat and takes their managed account over with a one-time code.

The story: staff publish a wish and redeem goods for the resident, an admin issues a code, the resident signs in with
WeChat for the first time, joins (or not) and binds — one transaction — and sees their points, wish, redemption and
history under their own WeChat; their old token is refused, their next login lands on the managed account, messages
reach them now. Sequences: the code twice, a newer code replacing an older one, an expired code, a caller who holds
points / records / a staff role / another community, a volunteer carrying the role over (the volunteer count), a
proxy action after the bind, the invariants after it all; exact calls."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import (
    BindingCodeModel, IdentityModel, MemberEntryModel, ProjectRoundModel, UserModel)
from tongxin.domain.clock import utcnow

WISH = {"title": "帮忙买菜", "content": "腿脚不便，想请人帮忙买一周的菜", "category": "生活帮扶"}
REASON = "老人无智能手机，本人到社区服务站委托"


class Town:
    def __init__(self, api):
        self.api = api
        self.c = make_community(api)
        self.admin = self.c.admin
        self.worker = self.c.grid_worker(0)
        self.other = make_community(api)
        resp = self.admin.post("/v1/stores", {"name": "同心积分超市"})
        assert resp.status == 201, resp.body
        self.store_id = resp.json["id"]
        self.c.set(award_daily_cap=100_000)
        self.residents: list[str] = []

    def managed(self, grid: int = 0, phone: str | None = "13800138000") -> str:
        body = {"real_name": "王秀兰", "grid_id": self.c.grid_ids[grid], "address": "幸福里 3 栋 2 单元 101"}
        if phone:
            body["phone"] = phone
        resp = (self.worker if grid == 0 else self.admin).post("/v1/admin/managed-residents", body)
        assert resp.status == 201, resp.body
        self.residents.append(resp.json["id"])
        return resp.json["id"]

    def award(self, user_id: str, points: int) -> None:
        resp = self.admin.post("/v1/points/awards", {"user_id": user_id, "category": "charity", "points": points,
                                                     "reason": "助人为乐"})
        assert resp.status == 201, resp.body

    def code(self, user_id: str) -> str:
        resp = self.admin.post(f"/v1/admin/managed-residents/{user_id}/binding-code")
        assert resp.status == 201, resp.body
        return resp.json["code"]


@pytest.fixture(scope="module")
def town(api):
    return Town(api)


def entries_of(community_id: str, user_id: str) -> set[str]:
    return {e.entry_key for e in MemberEntryModel.query(community_id) if e.user_id == user_id}


def test_the_resident_binds_wechat_and_sees_what_staff_did_for_them(town, api, wechat):
    resident = town.managed()
    town.award(resident, 30)
    wish = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON})
    assert wish.status == 201, wish.body
    goods = town.admin.post(f"/v1/stores/{town.store_id}/goods", {"name": "大米", "price_points": 10, "stock": 5})
    redeemed = town.worker.post(f"/v1/proxy/{resident}/redemptions", {"goods_id": goods.json["id"], "quantity": 1,
                                                                      "reason": REASON})
    assert redeemed.status == 201, redeemed.body

    issued = town.admin.post(f"/v1/admin/managed-residents/{resident}/binding-code")
    assert issued.status == 201, issued.body
    assert issued.json["user_id"] == resident and issued.json["real_name"] == "王秀兰"
    assert len(issued.json["code"]) == 8

    newcomer = api.login()  # the resident's first WeChat sign-in: an empty account, in no community yet
    newcomer.patch("/v1/me", {"nickname": "秀兰阿姨"})
    bound = newcomer.post("/v1/me/bind", {"code": issued.json["code"].lower()})  # typed in lower case: accepted
    assert bound.status == 200, bound.body
    me = bound.json["user"]
    assert me["id"] == resident and me["points_balance"] == 20 and me["community_id"] == town.c.id
    assert me["nickname"] == "秀兰阿姨" and me["grid_id"] == town.c.grid_ids[0] and me["phone_bound"] is True

    # The caller's old token: its account is retired (log in again: it lands on the resident's account). The new
    # token reads the resident's own lists.
    stale = newcomer.get("/v1/me")
    assert stale.status == 401 and stale.json["error"]["details"] == {"reason": "account_merged"}
    newcomer.token = bound.json["token"]
    assert newcomer.get("/v1/me").json["points_balance"] == 20
    assert [w["id"] for w in newcomer.get("/v1/wishes/mine").json["items"]] == [wish.json["id"]]
    assert [r["id"] for r in newcomer.get("/v1/redemptions/mine").json["items"]] == [redeemed.json["id"]]
    passbook = newcomer.get("/v1/me/points").json
    assert passbook["balance"] == 20 and sum(e["amount"] for e in passbook["items"]) == 20
    # The next WeChat login lands on the resident's account.
    again = api.login(newcomer.name)
    assert again.id == resident and again.user["points_balance"] == 20

    # Staff see a member with WeChat now: no longer managed, no longer in the managed list, not acted for.
    member = town.admin.get(f"/v1/admin/members/{resident}").json
    assert member["managed"] is False and member["nickname"] == "秀兰阿姨"
    listed = [m["id"] for m in town.admin.get("/v1/admin/managed-residents").json["items"]]
    assert resident not in listed
    acted = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON})
    assert acted.status == 409 and acted.json["error"]["code"] == "HAS_ACCOUNT"
    # The code is spent.
    again_bind = api.login().post("/v1/me/bind", {"code": issued.json["code"]})
    assert again_bind.status == 404 and again_bind.json["error"]["code"] == "BINDING_CODE_INVALID"


def test_the_retired_account_and_the_identity(town, api):
    resident = town.managed()
    caller = api.login()
    retired_id, openid = caller.id, UserModel.get(caller.id).openid
    assert caller.post("/v1/me/bind", {"code": town.code(resident)}).status == 200
    retired = UserModel.get(retired_id)
    assert retired.status == "merged" and retired.merged_into == resident and retired.openid is None
    assert IdentityModel.get(openid).user_id == resident
    stored = UserModel.get(resident)
    assert stored.openid == openid and not stored.managed and stored.binding_code is None
    assert stored.bound_at is not None
    assert not any(k.startswith(("managed#", "gm#")) for k in entries_of(town.c.id, resident))
    assert entries_of(town.c.id, retired_id) == set()


def test_a_member_of_the_community_binds_and_their_entries_move(town):
    resident = town.managed(1)
    member = town.c.resident(1)
    assert entries_of(town.c.id, member.id)
    bound = member.post("/v1/me/bind", {"code": town.code(resident)})
    assert bound.status == 200, bound.body
    assert entries_of(town.c.id, member.id) == set()
    assert entries_of(town.c.id, resident)


def test_a_volunteer_carries_the_role_and_the_count_stays(town, api):
    from tongxin.usecases import volunteer_count

    def counted() -> int:
        return volunteer_count._stored(town.c.id)[0]
    resident = town.managed()
    volunteer = town.c.volunteer(0)
    before = counted()
    bound = volunteer.post("/v1/me/bind", {"code": town.code(resident)})
    assert bound.status == 200, bound.body
    assert bound.json["user"]["is_volunteer"] is True
    assert counted() == before  # the volunteer left the count as the resident joined it: one person


def test_a_newer_code_replaces_the_older_one(town, api):
    resident = town.managed()
    old, new = town.code(resident), town.code(resident)
    refused = api.login().post("/v1/me/bind", {"code": old})
    assert refused.status == 404 and refused.json["error"]["code"] == "BINDING_CODE_INVALID"
    assert api.login().post("/v1/me/bind", {"code": new}).status == 200


def test_an_expired_code_is_refused(town, api):
    resident = town.managed()
    code = town.code(resident)
    BindingCodeModel(code).update(actions=[BindingCodeModel.expires_at.set(utcnow() - timedelta(seconds=1))])
    refused = api.login().post("/v1/me/bind", {"code": code})
    assert refused.status == 404 and refused.json["error"]["code"] == "BINDING_CODE_INVALID"
    assert UserModel.get(resident).managed


@pytest.mark.parametrize("code", ["", "   ", "ABC", "ABCDEFGH", "ABCDEFG!", "A" * 32])
def test_codes_at_the_edges(town, api, code):
    resp = api.login().post("/v1/me/bind", {"code": code})
    assert resp.status in (400, 404), resp.body
    assert resp.json["error"]["code"] in ("VALIDATION_FAILED", "BINDING_CODE_INVALID")


def test_an_account_that_holds_anything_is_refused_whole(town, api):
    resident = town.managed()
    code = town.code(resident)
    with_points = town.c.resident(0)
    town.award(with_points.id, 5)
    refused = with_points.post("/v1/me/bind", {"code": code})
    assert refused.status == 409 and refused.json["error"]["code"] == "ACCOUNT_IN_USE"
    assert refused.json["error"]["details"] == {"reason": "points"}

    with_wish = town.c.resident(0)
    assert with_wish.post("/v1/wishes", WISH).status == 201
    refused = with_wish.post("/v1/me/bind", {"code": code})
    assert refused.status == 409 and refused.json["error"]["details"] == {"reason": "records"}

    refused = town.worker.post("/v1/me/bind", {"code": code})
    assert refused.status == 409 and refused.json["error"]["details"] == {"reason": "staff"}

    elsewhere = town.other.resident(0)
    refused = elsewhere.post("/v1/me/bind", {"code": code})
    assert refused.status == 409 and refused.json["error"]["code"] == "ALREADY_IN_COMMUNITY"

    # Nothing was written by any refusal: the code still works.
    stored = UserModel.get(resident)
    assert stored.managed and stored.binding_code == code and stored.openid is None
    assert api.login().post("/v1/me/bind", {"code": code}).status == 200


def refused_for_records(member, code: str) -> None:
    refused = member.post("/v1/me/bind", {"code": code})
    assert refused.status == 409 and refused.json["error"]["code"] == "ACCOUNT_IN_USE", refused.body
    assert refused.json["error"]["details"] == {"reason": "records"}


def test_a_ballot_in_a_round_the_resident_voted_in_by_proxy_is_not_folded_into_their_account(town, api):
    """The managed resident voted by 代办; the same person, with WeChat, also voted from their own account. Binding
    would leave both ballots standing for one person: refused, and both counts stay as they were."""
    from tests.api.test_ballots import bind_phone, seed_round, votes_of
    round_id, (project,), _ = seed_round(town.c.id, [100])
    resident = town.managed()
    cast = town.worker.post(f"/v1/proxy/{resident}/project-rounds/{round_id}/ballot",
                            {"project_ids": [project], "reason": REASON})
    assert cast.status == 201, cast.body
    voter = bind_phone(town.c.resident(0))
    assert voter.post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": [project]}).status == 201
    code = town.code(resident)
    refused_for_records(voter, code)
    assert votes_of(round_id, project) == 2
    assert UserModel.get(voter.id).status == "active" and UserModel.get(resident).managed
    # A ballot in any round counts, as any other record: one who never voted binds with the same code.
    assert api.login().post("/v1/me/bind", {"code": code}).status == 200


def test_a_proposal_a_rating_a_commendation_or_a_party_report_are_records(town, api):
    from tests.api.test_ballots import seed_round
    from tests.api.test_party_registration import REPORT
    resident = town.managed()
    code = town.code(resident)

    reporter = town.c.resident(0)
    assert reporter.post("/v1/me/party-registration", REPORT).status == 201
    refused_for_records(reporter, code)

    commended = town.c.resident(0)
    now = utcnow()
    resp = town.admin.post("/v1/admin/commendations", {"user_id": commended.id, "title": "热心居民",
                                                       "story": "常年义务为独居老人理发，十年如一日。",
                                                       "period": f"{now.year:04d}-{now.month:02d}"})
    assert resp.status == 201, resp.body
    refused_for_records(commended, code)

    round_id, _, _ = seed_round(town.c.id, [100], opens=timedelta(hours=2), closes=timedelta(hours=3))
    ProjectRoundModel(round_id).update(actions=[ProjectRoundModel.proposals_until.set(utcnow() + timedelta(hours=1))])
    proposer = town.c.resident(0)
    proposed = proposer.post(f"/v1/project-rounds/{round_id}/projects",
                             {"title": "楼道加装扶手", "description": "三号楼老人多，楼道需要扶手", "cost_yuan": 300,
                              "category": "环境美化"})
    assert proposed.status == 201, proposed.body
    refused_for_records(proposer, code)

    # Each refusal wrote nothing: the code still works, for one who holds nothing.
    assert api.login().post("/v1/me/bind", {"code": code}).status == 200


def test_a_commendation_given_between_the_read_and_the_bind_is_refused_by_the_transaction(town, api, monkeypatch):
    from tongxin.usecases import binding
    resident = town.managed()
    code = town.code(resident)
    caller = town.c.resident(0)
    read_records = binding._has_records

    def read_then_commended(user, registration):
        found = read_records(user, registration)
        # What the commendation's own transaction adds to the person (usecases/commendations.py).
        UserModel(user.id).update(actions=[UserModel.commendations_count.add(1)])
        return found

    monkeypatch.setattr(binding, "_has_records", read_then_commended)
    refused_for_records(caller, code)
    monkeypatch.undo()
    stored = UserModel.get(resident)
    assert stored.managed and stored.binding_code == code and UserModel.get(caller.id).status == "active"


def test_who_may_issue_a_code(town):
    resident = town.managed()
    refused = town.worker.post(f"/v1/admin/managed-residents/{resident}/binding-code")
    assert refused.status == 403
    refused = town.other.admin.post(f"/v1/admin/managed-residents/{resident}/binding-code")
    assert refused.status == 404
    wechat_member = town.c.resident(0)
    refused = town.admin.post(f"/v1/admin/managed-residents/{wechat_member.id}/binding-code")
    assert refused.status == 409 and refused.json["error"]["code"] == "HAS_ACCOUNT"
    refused = town.admin.post("/v1/admin/managed-residents/u_nobody/binding-code")
    assert refused.status == 404


def test_a_bound_resident_gets_no_second_code_and_a_second_bind_is_refused(town, api):
    resident = town.managed()
    code = town.code(resident)
    assert api.login().post("/v1/me/bind", {"code": code}).status == 200
    refused = town.admin.post(f"/v1/admin/managed-residents/{resident}/binding-code")
    assert refused.status == 409 and refused.json["error"]["code"] == "HAS_ACCOUNT"
    refused = api.login().post("/v1/me/bind", {"code": code})
    assert refused.status == 404


def test_the_bind_and_the_code_cost(town, api):
    resident = town.managed()
    issued = town.admin.post(f"/v1/admin/managed-residents/{resident}/binding-code")
    assert issued.status == 201
    # The admin (GetItem), the resident (BatchGetItem), ONE transaction.
    assert {op: n for op, n in api.last_meter.dynamo.items() if n} == {
        "GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    resp = api.login().post("/v1/me/bind", {"code": issued.json["code"]})
    assert resp.status == 200
    # The caller and the code (GetItem), the resident and the caller's 党员报到 (BatchGetItem), the caller's records
    # (8 Queries of one item), ONE transaction.
    assert {op: n for op, n in api.last_meter.dynamo.items() if n} == {
        "GetItem": 2, "BatchGetItem": 1, "Query": 8, "TransactWriteItems": 1}


def test_the_invariants_hold_after_every_bind_of_this_module(town, container):
    from infra.proof.invariants import check
    from tongxin.adapters.dynamo.binding import connection
    ids = set(town.residents) | {town.c.id}
    found = [v for v in check(connection().client, container.settings.table_name) if any(i in v for i in ids)]
    assert found == []
