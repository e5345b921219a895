"""The demo community of the local stack's contract (docs/contract.md, "The local stack"): admin, grid1, store1, vol1..vol5,
res1..res5 (res1 with 200 points), two grids, a store with goods, upcoming events of both kinds; the demo
street 同心街道 above it, with its staff member street1 (who belongs to no community: street staff work above them);
and above the street the demo district 同心区 with its departments 城管局 and 住建局, its staff member district1 and
城管局's dept1 (in no community either); the street's unit 同心区人民医院 (共建单位) with its liaison unit1 (in no
community), its agreement with the demo community and two resources.

Demo users are bound to the openids the WeChat stand-in gives ``dev:<name>``, so logging in with
``{"code": "dev:res1"}`` is logging in as the seeded res1. Run against empty tables.
"""
from __future__ import annotations

from datetime import timedelta

from infra.local.wechat_standin import fake_openid, fake_unionid
from pynamodb.expressions.operand import Path, Value

from tongxin.adapters.dynamo.models import (
    CommunityModel, CounterModel, EventModel, GoodsModel, GridModel, IdentityModel, InviteModel, LedgerEntryModel,
    DepartmentModel, DistrictModel, MemberEntryModel, ScoreModel, StoreModel, StreetModel, UserModel,
)
from tongxin.adapters.dynamo.models import PartyRegistrationModel
from tongxin.adapters.dynamo.models import PostModel
from tongxin.adapters.dynamo.models.commendations import CommendationModel, LatestCommendation
from tongxin.domain import commendations as commendation_rules
from tongxin.adapters.dynamo.models import UnitAgreementModel, UnitLiaisonModel, UnitModel, UnitResourceModel
from tongxin.domain.party import registration_key
from tongxin.domain import events as event_rules
from tongxin.domain.clock import utcnow
from tongxin.domain.points import score_keys
from tongxin.domain.requests import district_settings
from tongxin.usecases import directory, volunteer_count

COMMUNITY_ID = "c_demo"
STREET_ID = "st_demo"
DISTRICT_ID = "dt_demo"
DEPARTMENT_IDS = {"城管局": "dp_demo_cg", "住建局": "dp_demo_zj"}
# Staff above communities, in none: name → (user id, nickname, role, scope attribute, scope).
ABOVE_STAFF = {
    "street1": ("u_demo_street1", "街道工作人员小周", "street_staff", "street_ids", STREET_ID),
    "district1": ("u_demo_district1", "区指挥中心小赵", "district_staff", "district_ids", DISTRICT_ID),
    "dept1": ("u_demo_dept1", "城管局老孙", "department_staff", "department_ids", DEPARTMENT_IDS["城管局"]),
    # 共建单位: the liaison of the demo street's unit 同心区人民医院 (UNIT_ID).
    "unit1": ("u_demo_unit1", "人民医院联络员小陈", "unit_liaison", "unit_ids", "unit_demo_hospital"),
}
UNIT_ID = "unit_demo_hospital"
GRID_IDS = ("g_demo1", "g_demo2")
STORE_ID = "s_demo1"
DEMO_INVITES = {"DEMOGRID1": "g_demo1", "DEMOGRID2": "g_demo2"}

# name → (nickname, roles, grid, extra)
DEMO_USERS = {
    "admin": ("社区书记老王", {"admin", "resident", "party_member"}, "g_demo1", {}),
    "grid1": ("网格员小李", {"grid_worker", "resident"}, "g_demo1", {"grid_ids": {"g_demo1"}}),
    "store1": ("超市管理员张姐", {"store_keeper", "resident"}, "g_demo1", {"store_ids": {STORE_ID}}),
    # vol1 is also a party member who reported (党员报到, approved: PARTY_REGISTRATIONS).
    **{f"vol{i}": (f"志愿者{i}号", {"volunteer", "resident"} | ({"party_member"} if i == 1 else set()),
                   "g_demo1" if i <= 4 else "g_demo2", {}) for i in range(1, 6)},
    **{f"res{i}": (f"居民{i}号", {"resident"}, "g_demo1" if i <= 4 else "g_demo2", {}) for i in range(1, 6)},
}
RES1_POINTS = 200
# 双报到: vol1 and the admin reported and were approved (party_member comes only with an approved registration);
# res2's report waits for the admin (so `make dev` shows one to approve).
PARTY_REGISTRATIONS = {"admin": "approved", "vol1": "approved", "res2": "pending"}


def seed_commendation(now) -> None:
    """微星光: vol1 commended by the admin for this month, with the items a commendation's transaction writes (the
    natural key, the period's count, the profile's counter and latest), so GET /v1/me and the list show it."""
    from tongxin.domain.clock import SHANGHAI
    period = now.astimezone(SHANGHAI).strftime("%Y-%m")
    user_id, title = "u_demo_vol1", "优秀志愿者"
    CommendationModel("cmd_demo1", community_id=COMMUNITY_ID, user_id=user_id, user_nickname=DEMO_USERS["vol1"][0],
                      title=title, story="每周为独居老人上门理发，风雨无阻。", period=period, status="active",
                      listed_community=COMMUNITY_ID, listed_person=commendation_rules.person_key(COMMUNITY_ID, user_id),
                      commended_by="u_demo_admin", commended_by_nickname=DEMO_USERS["admin"][0], created_at=now).save()
    CounterModel(commendation_rules.key_of(COMMUNITY_ID, user_id, period, title), n=1).save()
    CounterModel(commendation_rules.period_counter(COMMUNITY_ID, user_id, period), n=1).save()
    UserModel(user_id).update(actions=[UserModel.commendations_count.set(1), UserModel.latest_commendation.set(
        LatestCommendation(id="cmd_demo1", title=title, period=period, created_at=now))])


MANAGED_RESIDENT = "u_demo_managed1"


def seed_managed_resident(now) -> None:
    """代办: 赵桂芳, a resident of grid 1 without a smartphone, registered by grid1 (as ``POST
    /v1/admin/managed-residents`` writes one: no openid, ``managed``, the masked name as nickname, her directory
    entries), so ``make dev`` shows someone to act for and to issue a binding code to."""
    from tongxin.domain.proxy import display_nickname
    user = UserModel(MANAGED_RESIDENT, status="active", nickname=display_nickname("赵桂芳"), real_name="赵桂芳",
                     phone="13900000001", address="幸福里 5 栋 101", community_id=COMMUNITY_ID, grid_id="g_demo1",
                     roles={"resident"}, managed=True, managed_by="u_demo_grid1", points_balance=0, earned_total=0,
                     volunteer_minutes=0, created_at=now, joined_at=now, updated_at=now)
    user.save()
    for community_id, key in sorted(directory.keys_of(user)):
        MemberEntryModel(community_id, key, user_id=user.id).save()


def seed() -> dict:
    now = utcnow()
    CommunityModel(COMMUNITY_ID, name="同心示范社区", wish_review_required=False, wish_points=20, street_id=STREET_ID,
                   district_id=DISTRICT_ID, admin_ids={"u_demo_admin"},
                   certificate_signatory="王主任",  # 志愿服务记录证明's 负责人
                   created_at=now).save()
    StreetModel(STREET_ID, name="同心街道", community_ids={COMMUNITY_ID}, staff_ids={"u_demo_street1"},
                district_id=DISTRICT_ID, created_at=now).save()
    DistrictModel(DISTRICT_ID, name="同心区", street_ids={STREET_ID}, department_ids=set(DEPARTMENT_IDS.values()),
                  staff_ids={"u_demo_district1"}, created_at=now, **district_settings(None)).save()
    for name, department_id in DEPARTMENT_IDS.items():
        DepartmentModel(department_id, district_id=DISTRICT_ID, name=name, created_at=now,
                        staff_ids={"u_demo_dept1"} if name == "城管局" else None).save()
    for name, (user_id, nickname, role, scope_attribute, scope) in ABOVE_STAFF.items():
        IdentityModel(fake_openid(name), user_id=user_id, unionid=fake_unionid(name), created_at=now).save()
        UserModel(user_id, status="active", nickname=nickname, openid=fake_openid(name), roles={role},
                  points_balance=0, earned_total=0, volunteer_minutes=0, created_at=now,
                  **{scope_attribute: {scope}}).save()
    for index, grid_id in enumerate(GRID_IDS, start=1):
        workers = {"u_demo_grid1"} if index == 1 else None
        GridModel(COMMUNITY_ID, grid_id, name=f"第{index}网格", worker_ids=workers, created_at=now).save()
    for code, grid_id in DEMO_INVITES.items():
        InviteModel(code, community_id=COMMUNITY_ID, grid_id=grid_id, created_by="u_demo_admin", created_at=now,
                    expires_at=now + timedelta(days=365)).save()
    for name, (nickname, roles, grid_id, extra) in DEMO_USERS.items():
        user_id = f"u_demo_{name}"
        openid = fake_openid(name)
        IdentityModel(openid, user_id=user_id, unionid=fake_unionid(name), created_at=now).save()
        user = UserModel(user_id, status="active", nickname=nickname, openid=openid, community_id=COMMUNITY_ID,
                         grid_id=grid_id, roles=roles, grid_ids=extra.get("grid_ids"), store_ids=extra.get("store_ids"),
                         points_balance=0, earned_total=0, volunteer_minutes=0, created_at=now, joined_at=now,
                         real_name=nickname if "volunteer" in roles or "party_member" in roles else None,
                         volunteer_since=now if "volunteer" in roles else None)
        user.save()
        for community_id, key in sorted(directory.keys_of(user)):  # the member directory (成员名录): their entries
            MemberEntryModel(community_id, key, user_id=user_id).save()
    seed_managed_resident(now)
    volunteer_count.recount(COMMUNITY_ID)  # the community's registered volunteers, from the directory just written
    for name, status in PARTY_REGISTRATIONS.items():
        user_id = f"u_demo_{name}"
        PartyRegistrationModel(
            registration_key(COMMUNITY_ID, user_id), community_id=COMMUNITY_ID, user_id=user_id, status=status,
            status_key=f"{COMMUNITY_ID}#{status}", real_name=DEMO_USERS[name][0], work_unit="同心区税务局",
            party_branch="同心社区第一党支部", nickname=DEMO_USERS[name][0], submitted_at=now, updated_at=now,
            decided_at=now if status == "approved" else None,
            decided_by=("u_demo_admin" if name != "admin" else "platform") if status == "approved" else None).save()
    # res1's 200 points are a ledger entry like any other credit: balance == sum(ledger).
    LedgerEntryModel("u_demo_res1", "award#demo-seed", id="pt_demo_seed", kind="award", amount=RES1_POINTS,
                     balance_after=RES1_POINTS, source="award:demo-seed", note="示范数据：社区表彰",
                     community_id=COMMUNITY_ID, created_at=now).save()
    UserModel("u_demo_res1").update(actions=[UserModel.points_balance.set(RES1_POINTS),
                                             UserModel.earned_total.set(RES1_POINTS)])
    for key in score_keys("points", COMMUNITY_ID, "g_demo1", now):  # and on the leaderboards, as a credit is
        ScoreModel(key.board, "u_demo_res1", score=RES1_POINTS, grid_board=key.grid_board,
                   nickname=DEMO_USERS["res1"][0]).save()
    seed_commendation(now)
    StoreModel(COMMUNITY_ID, STORE_ID, name="同心积分超市", address="社区服务中心一楼", created_at=now).save()
    for index, (name, price, stock, limit) in enumerate(
            [("洗衣液", 50, 30, 2), ("大米 5kg", 120, 10, 1), ("毛巾", 20, 100, 5), ("保温杯", 80, 3, 1)], start=1):
        GoodsModel(f"goods_demo{index}", store_id=STORE_ID, community_id=COMMUNITY_ID, name=name, price_points=price,
                   stock=stock, per_user_limit=limit, on_shelf=True, created_at=now).save()
    day = timedelta(days=1)
    # (id, title, kind, start, capacity, points per hour, organiser, grid): real events of the model, open for
    # sign-up; the third has few places, so the README tour can show the waitlist.
    events = [
        ("ev_demo1", "周末楼道清洁志愿服务", "volunteer_service", now + 2 * day, 20, 10, "grid1", "g_demo1"),
        ("ev_demo2", "重阳节敬老茶话会", "activity", now + 5 * day, 50, 0, "admin", None),
        ("ev_demo3", "招募令：社区反诈宣传员", "volunteer_service", now + 7 * day, 2, 15, "admin", None),
    ]
    for event_id, title, kind, starts, capacity, points, organiser, grid_id in events:
        deadline = starts - timedelta(hours=12)
        EventModel(event_id, community_id=COMMUNITY_ID, grid_id=grid_id, title=title, kind=kind, status="open",
                   starts_at=starts, ends_at=starts + timedelta(hours=2), signup_deadline=deadline,
                   signup_closes_at=event_rules.signup_closes_at(starts, deadline),
                   location={"address": "同心社区服务中心", "lat": 30.0, "lng": 103.8, "radius_m": 200},
                   capacity=capacity, signed_count=0, waitlist_count=0, waitlist_seq=0, promotions=0,
                   points_per_hour=points, allow_walk_ins=kind == "activity", organiser_id=f"u_demo_{organiser}",
                   organiser_nickname=DEMO_USERS[organiser][0], due_shard=event_rules.due_shard(event_id),
                   due_at=event_rules.reminder_due(starts, None, now), created_at=now, updated_at=now).save()
        for key in event_rules.stats_keys(COMMUNITY_ID, now):
            CounterModel(key).update(actions=[Path(name).add(Value({"N": str(n)})) for name, n in
                                              event_rules.stats_deltas({"published": 1, "capacity": capacity}).items()])
    # 共建单位: 同心区人民医院 of the demo street, its liaison unit1, its agreement with the demo community (a year),
    # and two items of its 资源清单 (usecases/units.py).
    UnitModel(UNIT_ID, name="同心区人民医院", kind="医院", street_id=STREET_ID, contact_name="陈主任",
              contact_phone="02888886666", liaison_ids={"u_demo_unit1"}, agreement_count=1, resource_count=2,
              created_by="u_demo_street1", created_at=now).save()
    UnitLiaisonModel(UNIT_ID, "u_demo_unit1", nickname="人民医院联络员小陈", since=now).save()  # the street's list
    UnitAgreementModel(UNIT_ID, COMMUNITY_ID, community_name="同心示范社区", street_id=STREET_ID,
                       pledges=["每季度到社区义诊一次", "为社区老人开展健康讲座"], activities_per_quarter=1,
                       valid_until=(now + timedelta(days=365)).date().isoformat(), signed_by="u_demo_admin",
                       created_at=now).save()
    for index, (title, description, capacity) in enumerate((
            ("义诊", "内科、外科医生各一名，测血压、血糖，解答用药问题", 60),
            ("急救培训", "心肺复苏和 AED 使用培训，每期两小时", 30)), start=1):
        UnitResourceModel(UNIT_ID, f"res_demo{index}", title=title, description=description, capacity=capacity,
                          created_by="u_demo_unit1", created_at=now + timedelta(seconds=index)).save()
    # 领岗: two open posts of the demo community, published by its admin (usecases/posts.py).
    for index, (title, description, skills, headcount) in enumerate((
            ("楼栋长", "负责本楼栋的联络、通知和邻里纠纷的初步调解", ["沟通", "组织"], 2),
            ("文明劝导员", "周末在小区门口和广场劝导不文明养犬、乱停车等行为", ["沟通"], 5)), start=1):
        PostModel(f"pst_demo{index}", community_id=COMMUNITY_ID, title=title, description=description, skills=skills,
                  headcount=headcount, claimed_count=0, status="open", status_key=f"{COMMUNITY_ID}#open",
                  created_by="u_demo_admin", created_by_nickname=DEMO_USERS["admin"][0],
                  created_at=now + timedelta(seconds=index), updated_at=now).save()
    _seed_project_round(now)
    return {"community_id": COMMUNITY_ID, "street_id": STREET_ID, "district_id": DISTRICT_ID,
            "department_ids": DEPARTMENT_IDS, "users": sorted([*DEMO_USERS, *ABOVE_STAFF]), "invites": DEMO_INVITES}


def _seed_project_round(now) -> None:
    """微实事: a round of the demo community voting now (proposals closed a day ago, voting for a week, 公示 three
    days), with two projects res1 and res2 proposed and the admin approved — so a resident can vote at once
    (usecases/project_rounds.py; ballots: usecases/ballots.py). Written as the use cases write them, under fixed ids
    (seeding twice writes the same items)."""
    from tongxin.adapters.dynamo.models import ProjectRoundModel, RoundProjectModel
    from tongxin.domain import project_rounds as round_rules
    round_id, day = "prd_demo1", timedelta(days=1)
    opened = now - 3 * day
    proposals_until, voting_from, voting_until = now - day, now - timedelta(minutes=1), now + 7 * day
    publicity_until = round_rules.publicity_until(voting_until, 3)
    ProjectRoundModel(round_id, community_id=COMMUNITY_ID, title="2026 年冬季民生微实事", budget_yuan=30000,
                      style="approval", max_choices=1, proposals_until=proposals_until, voting_from=voting_from,
                      voting_until=voting_until, publicity_days=3, publicity_until=publicity_until, proposed_count=2,
                      approved_count=2, done_count=0, finalise_shard="r", finalise_due=voting_until,
                      created_by="u_demo_admin", created_by_nickname=DEMO_USERS["admin"][0], created_at=opened,
                      updated_at=now).save()
    for index, (name, title, description, cost, category) in enumerate((
            ("res1", "3 栋楼道加装扶手", "老人上下楼不方便，楼道两侧加装不锈钢扶手", 12000, "设施维修"),
            ("res2", "小区广场添置健身器材", "广场上的健身器材年久失修，添置一组适合老人的器材", 18000, "文体活动")), start=1):
        user_id = f"u_demo_{name}"
        RoundProjectModel(
            f"rpj_demo{index}", round_id=round_id, community_id=COMMUNITY_ID, title=title, description=description,
            cost_yuan=cost, category=category, proposer_id=user_id, proposer_nickname=DEMO_USERS[name][0],
            proposer_key=round_rules.proposer_key(round_id, user_id), round_budget_yuan=30000,
            round_voting_from=voting_from, round_voting_until=voting_until, round_publicity_until=publicity_until,
            status=round_rules.APPROVED, status_key=round_rules.status_key(round_id, round_rules.APPROVED),
            reviewed_by="u_demo_admin", reviewed_at=opened + day + timedelta(seconds=index),
            approved_at=opened + day + timedelta(seconds=index), percent=0, progress_count=0, timeline=[],
            ratings_count=0, ratings_sum=0, created_at=opened + timedelta(seconds=index), updated_at=now).save()
        CounterModel(round_rules.proposals_counter(round_id, user_id), n=1,
                     expires_at=proposals_until + timedelta(days=30)).save()
