"""代办 (issue 25, part G) over HTTP: staff act for a managed resident (no WeChat) through the resident's own use
cases — wishes, requests, event sign-up, redemptions, ballots — with the same rules, caps and answers; every action
is one proxy-log entry written in the action's own transaction (none when refused), listed at
GET /v1/admin/proxy-log.

Sequences: the grid worker's story (wish + redemption, points and stock, the log with actor and reason), the same
call twice with one Idempotency-Key, another grid's worker, a WeChat user, oneself, a resident, a reason empty after
trimming and at its edges, the daily wish cap, too few points, a role taken away in between, a ballot with and
without the registered phone, a sign-up twice, the message to the resident skipped by the sender; exact calls."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import OutboxModel, ProxyLogModel, UserModel, WishModel
from tongxin.domain.clock import to_api, utcnow

WISH = {"title": "帮忙买菜", "content": "腿脚不便，想请人帮忙买一周的菜", "category": "生活帮扶"}
REQUEST = {"category": "设施维修", "content": "楼道灯坏了，晚上看不见"}
REASON = "老人无智能手机，本人到社区服务站委托"


class Town:
    def __init__(self, api):
        self.api = api
        self.c = make_community(api)
        self.admin = self.c.admin
        self.worker = self.c.grid_worker(0)
        self.other_worker = self.c.grid_worker(1)
        self.volunteer = self.c.volunteer(0)
        self.other = make_community(api)
        resp = self.admin.post("/v1/stores", {"name": "同心积分超市"})
        assert resp.status == 201, resp.body
        self.store_id = resp.json["id"]

    def managed(self, grid: int = 0, *, phone: str | None = None, by=None) -> str:
        body = {"real_name": "王秀兰", "grid_id": self.c.grid_ids[grid], "address": "幸福里 3 栋 2 单元 101"}
        if phone:
            body["phone"] = phone
        resp = (by or self.admin).post("/v1/admin/managed-residents", body)
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def award(self, user_id: str, points: int) -> None:
        self.c.set(award_daily_cap=100_000)
        resp = self.admin.post("/v1/points/awards", {"user_id": user_id, "category": "charity", "points": points,
                                                     "reason": "助人为乐"})
        assert resp.status == 201, resp.body

    def goods(self, price: int = 10, stock: int = 5) -> str:
        resp = self.admin.post(f"/v1/stores/{self.store_id}/goods", {"name": "大米", "price_points": price,
                                                                     "stock": stock})
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def log(self, user_id: str | None = None) -> list[dict]:
        path = "/v1/admin/proxy-log" + (f"?user_id={user_id}" if user_id else "")
        resp = self.admin.get(path)
        assert resp.status == 200, resp.body
        return resp.json["items"]


@pytest.fixture(scope="module")
def town(api):
    return Town(api)


def entries_for(user_id: str) -> list[ProxyLogModel]:
    return [e for e in ProxyLogModel.by_subject.query(f"{UserModel.get(user_id).community_id}#{user_id}")]


def openid_of(member) -> str:
    return UserModel.get(member.id).openid


# --- the story ------------------------------------------------------------------------------------------------------

def test_a_grid_worker_publishes_a_wish_and_redeems_goods_for_a_managed_resident(town, wechat):
    resident = town.managed(0, by=town.worker)
    town.award(resident, 30)
    goods = town.goods(price=10, stock=5)

    wish = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON})
    assert wish.status == 201, wish.body
    assert wish.json["author"] == {"id": resident, "nickname": "王**"} and wish.json["status"] == "open"
    # WeChat's check was asked with the worker's openid: the resident has none.
    assert wechat.content_checks[-1]["openid"] == openid_of(town.worker)

    redeemed = town.worker.post(f"/v1/proxy/{resident}/redemptions", {"goods_id": goods, "quantity": 2,
                                                                      "reason": REASON})
    assert redeemed.status == 201, redeemed.body
    assert redeemed.json["points"] == 20 and redeemed.json["status"] == "pending_pickup"
    assert len(redeemed.json["pickup_code"]) == 6  # handed to the worker, who gives it to the resident

    member = town.admin.get(f"/v1/admin/members/{resident}").json
    assert member["points_balance"] == 10 and member["managed"] is True
    stock = {g["id"]: g["stock"] for g in town.admin.get(f"/v1/stores/{town.store_id}/goods").json["items"]}
    assert stock[goods] == 3

    log = town.log(resident)
    assert [(e["kind"], e["result_id"]) for e in log] == [("redemption", redeemed.json["id"]),
                                                          ("wish", wish.json["id"])]
    for entry in log:
        assert entry["actor"]["id"] == town.worker.id and entry["actor_role"] == "grid_worker"
        assert entry["subject"] == {"id": resident, "real_name": "王秀兰"} and entry["reason"] == REASON
    assert log[0]["target_id"] == goods and log[0]["kind_label"] == "代兑换商品"
    # The community's log holds them too, newest first.
    community_log = [e["id"] for e in town.log()]
    assert community_log.index(log[0]["id"]) < community_log.index(log[1]["id"])
    # The resident's own lists show what was done for them.
    stored = WishModel.get(wish.json["id"])
    assert stored.author_id == resident and stored.grid_id == town.c.grid_ids[0]


def test_the_same_proxy_call_twice_with_one_key_is_one_wish_and_one_entry(town):
    resident = town.managed(0)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}, headers=key)
    again = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}, headers=key)
    assert first.status == again.status == 201 and first.json == again.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(entries_for(resident)) == 1
    assert [w.id for w in WishModel.by_author.query(resident)] == [first.json["id"]]
    # Without the key the same body is a second wish (and a second entry).
    assert town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}).status == 201
    assert len(entries_for(resident)) == 2


# --- who may act ----------------------------------------------------------------------------------------------------

def test_who_may_act_for_whom(town):
    resident = town.managed(0)
    body = {**WISH, "reason": REASON}
    path = f"/v1/proxy/{resident}/wishes"
    other_grid = town.other_worker.post(path, body)
    assert other_grid.status == 404 and other_grid.error_code == "NOT_FOUND"
    assert town.c.resident(0).post(path, body).status == 403  # not staff
    assert town.volunteer.post(path, body).status == 403
    other_admin = town.other.admin.post(path, body)
    assert other_admin.status == 404
    assert town.worker.post("/v1/proxy/u_nobody/wishes", body).status == 404
    # A WeChat user speaks for themself.
    wechat_user = town.c.resident(0)
    has_account = town.worker.post(f"/v1/proxy/{wechat_user.id}/wishes", body)
    assert has_account.status == 409 and has_account.error_code == "HAS_ACCOUNT"
    assert has_account.json["error"]["message"]
    # Nobody acts for themself (a grid worker living in their own grid, an admin).
    assert town.worker.post(f"/v1/proxy/{town.worker.id}/wishes", body).status == 403
    assert town.admin.post(f"/v1/proxy/{town.admin.id}/requests", {**REQUEST, "reason": REASON}).status == 403
    # The admin acts for any grid's managed resident.
    far = town.managed(1)
    assert town.admin.post(f"/v1/proxy/{far}/wishes", body).status == 201
    assert town.worker.post(f"/v1/proxy/{far}/wishes", body).status == 404
    assert entries_for(resident) == []  # none of the refusals wrote anything


def test_a_worker_whose_role_was_taken_away_can_no_longer_act(town):
    worker = town.c.grid_worker(0)
    resident = town.managed(0)
    assert worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}).status == 201
    town.c.with_roles(worker, [])  # roles are read as stored on every request
    assert worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}).status == 403
    assert len(entries_for(resident)) == 1


@pytest.mark.parametrize("reason,status", [("", 400), ("   \n\t ", 400), ("a" * 201, 400), (None, 400),
                                           ("a" * 200, 201), ("好", 201), ("第一行\n第二行", 201),
                                           ("坏\u202e字", 400)])
def test_the_reason_at_its_edges(town, reason, status):
    resident = town.managed(0)
    body = {**WISH} if reason is None else {**WISH, "reason": reason}
    resp = town.worker.post(f"/v1/proxy/{resident}/wishes", body)
    assert resp.status == status, resp.body
    if status == 400:
        assert resp.error_code == "VALIDATION_FAILED" and resp.json["error"]["details"]
        assert entries_for(resident) == []


# --- the resident's rules and caps apply -----------------------------------------------------------------------------

def test_the_residents_daily_wish_cap_applies_and_a_refusal_writes_no_entry(town):
    resident = town.managed(0)
    town.c.set(wish_publish_daily_cap=1)
    try:
        assert town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}).status == 201
        capped = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON})
        assert capped.status == 429 and capped.error_code == "RATE_LIMITED"
        # The cap is the resident's, not the worker's: the worker's own wish is not capped by it.
        assert town.worker.post("/v1/wishes", WISH).status == 201
    finally:
        town.c.set(wish_publish_daily_cap=10)
    assert len(entries_for(resident)) == 1


def test_too_few_points_is_the_same_409_as_the_residents_own(town):
    resident = town.managed(0)
    goods = town.goods(price=10)
    own = town.c.resident(0).post("/v1/redemptions", {"goods_id": goods, "quantity": 1})
    proxied = town.worker.post(f"/v1/proxy/{resident}/redemptions", {"goods_id": goods, "quantity": 1,
                                                                     "reason": REASON})
    assert own.status == proxied.status == 409
    assert own.error_code == proxied.error_code == "INSUFFICIENT_POINTS"
    assert entries_for(resident) == []
    stock = {g["id"]: g["stock"] for g in town.admin.get(f"/v1/stores/{town.store_id}/goods").json["items"]}
    assert stock[goods] == 5
    # Given the points, the same call succeeds: one entry, the points gone, the stock taken once.
    town.award(resident, 10)
    done = town.worker.post(f"/v1/proxy/{resident}/redemptions", {"goods_id": goods, "quantity": 1,
                                                                  "reason": REASON})
    assert done.status == 201, done.body
    assert [e.result_id for e in entries_for(resident)] == [done.json["id"]]
    assert town.admin.get(f"/v1/admin/members/{resident}").json["points_balance"] == 0
    again = town.worker.post(f"/v1/proxy/{resident}/redemptions", {"goods_id": goods, "quantity": 1,
                                                                   "reason": REASON})
    assert again.status == 409 and again.error_code == "INSUFFICIENT_POINTS"
    assert len(entries_for(resident)) == 1


@pytest.mark.parametrize("deadline", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+08:00",
                                      "2026-13-45T00:00:00+08:00", "2030-01-01T00:00:00"])
def test_the_residents_body_rules_apply_to_dates_at_the_edges(town, deadline):
    resident = town.managed(0)
    resp = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "deadline": deadline, "reason": REASON})
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert entries_for(resident) == []


def test_a_request_for_a_resident_goes_to_their_grid(town):
    resident = town.managed(0)
    resp = town.worker.post(f"/v1/proxy/{resident}/requests", {**REQUEST, "reason": REASON})
    assert resp.status == 201, resp.body
    assert resp.json["author"]["id"] == resident and resp.json["grid_id"] == town.c.grid_ids[0]
    assert [e.kind for e in entries_for(resident)] == ["request"]


def test_an_event_sign_up_twice(town):
    start = utcnow() + timedelta(days=2)
    event = town.admin.post("/v1/events", {
        "title": "重阳节茶话会", "kind": "activity", "capacity": 10, "starts_at": to_api(start),
        "ends_at": to_api(start + timedelta(hours=2)),
        "location": {"address": "服务中心", "lat": 30.0, "lng": 103.8, "radius_m": 200}})
    assert event.status == 201, event.body
    resident = town.managed(0)
    path = f"/v1/proxy/{resident}/events/{event.json['id']}/signup"
    first = town.worker.post(path, {"reason": REASON})
    assert first.status == 201 and first.json["status"] == "signed", first.body
    again = town.worker.post(path, {"reason": REASON})
    assert again.status == 409 and again.error_code == "ALREADY_SIGNED_UP"
    entries = entries_for(resident)
    assert [(e.kind, e.target_id) for e in entries] == [("event_signup", event.json["id"])]
    # A 招募令 (volunteer service) needs a volunteer: the resident is not one.
    service = town.admin.post("/v1/events", {
        "title": "清扫楼道", "kind": "volunteer_service", "capacity": 10, "starts_at": to_api(start),
        "ends_at": to_api(start + timedelta(hours=2)),
        "location": {"address": "服务中心", "lat": 30.0, "lng": 103.8, "radius_m": 200}})
    assert town.worker.post(f"/v1/proxy/{resident}/events/{service.json['id']}/signup",
                            {"reason": REASON}).status == 403


def test_a_ballot_counts_the_phone_given_at_registration(town):
    from tests.api.test_ballots import seed_round
    round_id, (project,), _ = seed_round(town.c.id, [100])
    with_phone = town.managed(0, phone="13912345678")
    cast = town.worker.post(f"/v1/proxy/{with_phone}/project-rounds/{round_id}/ballot",
                            {"project_ids": [project], "reason": REASON})
    assert cast.status == 201, cast.body
    assert cast.json["proxy"] is True and cast.json["project_ids"] == [project]
    again = town.worker.post(f"/v1/proxy/{with_phone}/project-rounds/{round_id}/ballot",
                             {"project_ids": [project], "reason": REASON})
    assert again.status == 409 and again.error_code == "ALREADY_VOTED"
    without = town.managed(0)
    refused = town.worker.post(f"/v1/proxy/{without}/project-rounds/{round_id}/ballot",
                               {"project_ids": [project], "reason": REASON})
    assert refused.status == 409 and refused.error_code == "PHONE_REQUIRED"
    assert [e.kind for e in entries_for(with_phone)] == ["ballot"] and entries_for(without) == []


def test_a_message_for_the_resident_is_skipped_by_the_sender(town, container):
    from tongxin.usecases import push
    resident = town.managed(0)
    wish = town.worker.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}).json
    claimed = town.volunteer.post(f"/v1/wishes/{wish['id']}/claim")
    assert claimed.status == 200, claimed.body
    messages = [m for m in OutboxModel.scan(OutboxModel.recipient_id == resident)]
    assert messages, "the claim tells the author"
    for message in messages:
        assert push.deliver(container, message.id) == "skipped"
        assert OutboxModel.get(message.id).reason == "no_wechat"  # not "user_gone": the resident is there


# --- the log ---------------------------------------------------------------------------------------------------------

def test_the_proxy_log_is_for_admins_and_pages(town):
    resident = town.managed(0)
    for _ in range(3):
        assert town.admin.post(f"/v1/proxy/{resident}/wishes", {**WISH, "reason": REASON}).status == 201
    assert town.worker.get("/v1/admin/proxy-log").status == 403
    assert town.other.admin.get(f"/v1/admin/proxy-log?user_id={resident}").json["items"] == []
    seen, cursor = [], None
    while True:
        page = f"&cursor={cursor}" if cursor else ""
        resp = town.admin.get(f"/v1/admin/proxy-log?user_id={resident}&limit=2{page}")
        assert resp.status == 200 and len(resp.json["items"]) <= 2
        assert town.api.last_meter.dynamo["Query"] == 1
        seen += [e["id"] for e in resp.json["items"]]
        cursor = resp.json["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 3
    assert town.admin.get("/v1/admin/proxy-log?limit=0").status == 400
    assert town.admin.get("/v1/admin/proxy-log?limit=101").status == 400
    assert town.admin.get("/v1/admin/proxy-log?cursor=forged").status == 400


# --- exact calls ---------------------------------------------------------------------------------------------------

def _calls(meter) -> dict:
    return {op: n for op, n in meter.dynamo.items() if n}


def test_a_proxy_action_costs_the_residents_own_calls_and_one_read(town):
    """A proxy action reads the resident once more (GetItem) and writes with the SAME number of transactions."""
    goods = town.goods(price=1, stock=100)
    own = town.c.resident(0)
    town.award(own.id, 5)
    resident = town.managed(0)
    town.award(resident, 5)
    pairs = [
        (lambda: own.post("/v1/wishes", WISH), lambda: town.worker.post(f"/v1/proxy/{resident}/wishes",
                                                                        {**WISH, "reason": REASON})),
        (lambda: own.post("/v1/redemptions", {"goods_id": goods, "quantity": 1}),
         lambda: town.worker.post(f"/v1/proxy/{resident}/redemptions", {"goods_id": goods, "quantity": 1,
                                                                        "reason": REASON})),
        (lambda: own.post("/v1/requests", REQUEST), lambda: town.worker.post(f"/v1/proxy/{resident}/requests",
                                                                             {**REQUEST, "reason": REASON})),
    ]
    for mine, proxied in pairs:
        a = mine()
        a_calls = _calls(town.api.last_meter)
        b = proxied()
        b_calls = _calls(town.api.last_meter)
        assert a.status == b.status == 201, (a.body, b.body)
        expected = dict(a_calls)
        expected["GetItem"] = expected.get("GetItem", 0) + 1
        assert b_calls == expected, (a_calls, b_calls)
        assert b_calls["TransactWriteItems"] == 1


def test_a_role_taken_away_between_the_read_and_the_write_refuses_the_action_whole(town, container):
    """The actor's grant is re-checked inside the action's own transaction: a worker whose role went away after
    the request read it (here: a principal as read before the change) gets 403 and nothing is written — no wish,
    no proxy-log entry, no cap counted."""
    from tongxin.usecases import access, proxy
    worker = town.c.grid_worker(0)
    resident = town.managed(0)
    principal = access.principal_of(UserModel.get(worker.id))  # as the middleware read it
    UserModel(worker.id).update(actions=[UserModel.roles.delete({"grid_worker"})])
    from tongxin.domain.errors import DomainError
    with pytest.raises(DomainError) as refused:
        proxy.publish_wish(container, principal, resident, reason=REASON, title="买药", content="帮忙买降压药",
                           category="生活帮扶", deadline=None, contact_phone=None, address=None)
    assert refused.value.status == 403 and refused.value.message == "您的权限已变更，请重新登录后再试"
    assert entries_for(resident) == []
    assert list(WishModel.by_author.query(resident)) == []
    access.forget()
