"""Content security everywhere text is shown to others (issue 20, part 5), over HTTP against the WeChat stand-in.

Every field group others read goes through WeChat's msgSecCheck v2 with the writer's openid and its scene (1 资料,
2 评论, 3 论坛): risky → 400 CONTENT_REJECTED with nothing written; review → accepted where nobody reviews (a wish
still waits for its grid worker, test_wishes.py); one call per request, the fields joined; a writer WeChat has not
seen for two hours (errcode 61010) → 409 WECHAT_SESSION_STALE, not kept under an Idempotency-Key. The stand-in keeps
the tests' clock (``travel``), so two hours pass without waiting.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest

from infra.local.wechat_standin import fake_openid
from tests.support import Member, make_community
from tongxin.domain.clock import to_api, travel, utcnow

RISKY, REVIEW = "违禁", "待审"
PROFILE, COMMENT, FORUM = 1, 2, 3
OVERRIDE = {"X-HTTP-Method-Override": "PATCH"}


def event_body(**overrides) -> dict:
    start = utcnow() + timedelta(days=2)
    return {"title": "楼道清洁", "kind": "activity", "capacity": 10, "starts_at": to_api(start),
            "ends_at": to_api(start + timedelta(hours=2)), **overrides}


class Town:
    """One community with its admin, a grid worker, a store and its keeper; fresh residents and volunteers made on
    demand (each a WeChat login, so the stand-in has seen them just now)."""

    def __init__(self, api):
        self.api = api
        self.c = make_community(api)
        self.c.set(wish_publish_daily_cap=1000, request_submit_daily_cap=1000)
        self.admin = self.c.admin
        self.worker = self.c.grid_worker(0)
        self.store_id = self.admin.post("/v1/stores", {"name": "积分超市"}).json["id"]
        self.keeper = self.c.with_roles(self.c.resident(0), ["store_keeper"], store_ids=[self.store_id])

    def wish(self, state: str) -> tuple[str, Member, Member]:
        """A wish in ``state`` (open, claimed, fulfilled): its id, author and volunteer."""
        author, volunteer = self.c.resident(0), self.c.volunteer(0)
        wish = author.post("/v1/wishes", {"title": "修水管", "content": "厨房漏水", "category": "维修"}).json
        if state in ("claimed", "fulfilled"):
            assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
        if state == "fulfilled":
            assert volunteer.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "换了垫圈"}).status == 200
        return wish["id"], author, volunteer

    def request(self, state: str) -> tuple[str, Member]:
        """A request of grid 0 in ``state`` (submitted, accepted, resolved): its id and author."""
        author = self.c.resident(0)
        request_id = author.post("/v1/requests", {"category": "设施维修", "content": "楼道灯坏了"}).json["id"]
        if state in ("accepted", "resolved"):
            assert self.worker.post(f"/v1/requests/{request_id}/accept").status == 200
        if state == "resolved":
            assert self.worker.post(f"/v1/requests/{request_id}/resolve", {"note": "已更换"}).status == 200
        return request_id, author

    def event(self) -> str:
        resp = self.admin.post("/v1/events", event_body(grid_id=self.c.grid_ids[0]))
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def goods(self) -> str:
        resp = self.admin.post(f"/v1/stores/{self.store_id}/goods", {"name": "毛巾", "price_points": 5, "stock": 3})
        assert resp.status == 201, resp.body
        return resp.json["id"]


@pytest.fixture(scope="module")
def town(api):
    return Town(api)


@dataclass
class Case:
    """A request whose text others read: ``prepare`` makes the thing it acts on and answers (writer, method, path,
    body with the text in it, extra headers); ``scene`` is the one WeChat must be told."""
    scene: int
    prepare: Callable[[Town], tuple[Member, str, str, Callable[[str], dict], dict]]
    status: int = 200


def _wish_step(state: str, step: str, who: str, body: Callable[[str], dict]):
    def prepare(t: Town):
        wish_id, author, volunteer = t.wish(state)
        return ({"author": author, "volunteer": volunteer}[who], "POST", f"/v1/wishes/{wish_id}/{step}", body, {})
    return prepare


def _request_step(state: str, step: str, who: str, body: Callable[[str], dict]):
    def prepare(t: Town):
        request_id, author = t.request(state)
        return ({"author": author, "worker": t.worker}[who], "POST", f"/v1/requests/{request_id}/{step}", body, {})
    return prepare


CASES = {
    "wish (title, content)": Case(FORUM, lambda t: (t.c.resident(0), "POST", "/v1/wishes", lambda x: {
        "title": "借梯子", "content": f"换灯泡{x}", "category": "其他"}, {}), 201),
    "request (content, address)": Case(FORUM, lambda t: (t.c.resident(0), "POST", "/v1/requests", lambda x: {
        "category": "其他", "content": "门口积水", "location": {"address": f"3栋{x}"}}, {}), 201),
    "nickname": Case(PROFILE, lambda t: (t.c.resident(0), "PATCH", "/v1/me", lambda x: {"nickname": f"邻居{x}"}, {})),
    "nickname (POST form)": Case(PROFILE, lambda t: (t.c.resident(0), "POST", "/v1/me",
                                                     lambda x: {"nickname": f"邻居{x}"}, OVERRIDE)),
    "fulfil note": Case(COMMENT, _wish_step("claimed", "fulfil", "volunteer", lambda x: {"note": f"换好了{x}"})),
    "confirmation comment": Case(COMMENT, _wish_step("fulfilled", "confirm", "author",
                                                     lambda x: {"rating": 5, "comment": f"谢谢{x}"})),
    "event title": Case(FORUM, lambda t: (t.admin, "POST", "/v1/events", lambda x: event_body(title=f"义诊{x}"), {}),
                        201),
    "event description": Case(FORUM, lambda t: (t.admin, "POST", "/v1/events",
                                                lambda x: event_body(description=f"带好证件{x}"), {}), 201),
    "event change": Case(FORUM, lambda t: (t.admin, "PATCH", f"/v1/events/{t.event()}",
                                           lambda x: {"description": f"改在二楼{x}"}, {})),
    "event change (POST form)": Case(FORUM, lambda t: (t.admin, "POST", f"/v1/events/{t.event()}",
                                                       lambda x: {"title": f"改名{x}"}, OVERRIDE)),
    "event cancellation reason": Case(FORUM, lambda t: (t.admin, "POST", f"/v1/events/{t.event()}/cancel",
                                                        lambda x: {"reason": f"下雨{x}"}, {})),
    "goods (name, description)": Case(FORUM, lambda t: (t.admin, "POST", f"/v1/stores/{t.store_id}/goods", lambda x: {
        "name": "肥皂", "description": f"香皂{x}", "price_points": 1, "stock": 5}, {}), 201),
    "goods change": Case(FORUM, lambda t: (t.admin, "PATCH", f"/v1/goods/{t.goods()}", lambda x: {"name": f"毛巾{x}"},
                                           {})),
    "goods change (POST form)": Case(FORUM, lambda t: (t.admin, "POST", f"/v1/goods/{t.goods()}",
                                                       lambda x: {"description": f"纯棉{x}"}, OVERRIDE)),
    "escalation reason": Case(COMMENT, _request_step("submitted", "escalate", "worker",
                                                     lambda x: {"reason": f"需要社区协调{x}"})),
    "resolve note": Case(COMMENT, _request_step("accepted", "resolve", "worker", lambda x: {"note": f"已疏通{x}"})),
    "rating comment": Case(COMMENT, _request_step("resolved", "rate", "author",
                                                  lambda x: {"satisfaction": 4, "comment": f"还行{x}"})),
}


def _send(member: Member, method: str, path: str, body: dict, headers: dict):
    return member.api.request(method, path, token=member.token, json_body=body, headers=headers or None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_risky_text_is_refused_before_anything_is_written_and_review_is_accepted(town, wechat, container, name):
    case = CASES[name]
    member, method, path, body, headers = case.prepare(town)
    asked = len(wechat.content_checks)
    # The fleet's WeChat token is in hand before the request (a worker's first call fetches and stores it: the
    # token's writes are not the request's, which must write nothing).
    assert container.wechat.access_token

    refused = _send(member, method, path, body(RISKY), headers)
    assert refused.status == 400 and refused.error_code == "CONTENT_REJECTED", (name, refused.body)
    assert town.api.last_meter.writes == 0, town.api.last_meter.dynamo  # refused before the write
    assert refused.json["error"]["message"] == "内容未通过安全检查，请修改后再提交"
    checks = wechat.content_checks[asked:]
    assert len(checks) == 1, checks  # one call for the whole request, its fields joined
    assert checks[0]["scene"] == case.scene and checks[0]["openid"] == fake_openid(member.name), checks[0]
    assert RISKY in checks[0]["content"] and checks[0]["suggest"] == "risky"

    # Nothing moved: the same request with text WeChat wants a human to look at goes through (the state it needs
    # is still there), and what others will read is what was written.
    accepted = _send(member, method, path, body(REVIEW), headers)
    assert accepted.status == case.status, (name, accepted.body)
    assert REVIEW in json.dumps(accepted.json, ensure_ascii=False), accepted.json
    assert wechat.content_checks[-1]["suggest"] == "review"


def test_a_groups_fields_are_one_check_one_line_each(town, wechat):
    asked = len(wechat.content_checks)
    body = event_body(title="义诊活动", description="带好医保卡\n九点开始")
    resp = town.admin.post("/v1/events", body)
    assert resp.status == 201 and town.api.last_meter.wechat == {"wxa/msg_sec_check": 1}
    assert [c["content"] for c in wechat.content_checks[asked:]] == ["义诊活动\n带好医保卡\n九点开始"]
    event_id = resp.json["id"]
    resp = town.admin.patch(f"/v1/events/{event_id}", {"title": "义诊", "description": "十点开始", "capacity": 20})
    assert resp.status == 200 and wechat.content_checks[-1]["content"] == "义诊\n十点开始"


@pytest.mark.parametrize("name", ["keeper restock", "avatar only", "confirm without a comment",
                                  "capacity only", "rate without a comment"])
def test_no_text_for_others_no_check(town, wechat, name):
    def prepare():
        if name == "keeper restock":
            return town.keeper, "PATCH", f"/v1/goods/{town.goods()}", {"restock": 2, "on_shelf": False}
        if name == "avatar only":
            return town.c.resident(0), "PATCH", "/v1/me", {"avatar_url": "https://example.com/a.png"}
        if name == "confirm without a comment":
            wish_id, author, _ = town.wish("fulfilled")
            return author, "POST", f"/v1/wishes/{wish_id}/confirm", {"rating": 5}
        if name == "capacity only":
            return town.admin, "PATCH", f"/v1/events/{town.event()}", {"capacity": 30}
        request_id, author = town.request("resolved")
        return author, "POST", f"/v1/requests/{request_id}/rate", {"satisfaction": 5}
    member, method, path, body = prepare()
    asked = len(wechat.content_checks)
    resp = _send(member, method, path, body, {})
    assert resp.status == 200, resp.body
    assert town.api.last_meter.wechat == {} and len(wechat.content_checks) == asked


def test_a_refused_request_spends_no_check(town, wechat):
    """The request's own refusals (the wrong person, the wrong state) come before WeChat is asked."""
    wish_id, author, volunteer = town.wish("claimed")
    open_wish, _, _ = town.wish("open")
    goods_id = town.goods()
    request_id, _ = town.request("submitted")
    cancelled = town.event()
    assert town.admin.post(f"/v1/events/{cancelled}/cancel", {"reason": "下雨"}).status == 200
    asked = len(wechat.content_checks)
    assert author.post(f"/v1/wishes/{wish_id}/fulfil", {"note": "我来"}).status == 403  # not the claimer
    assert volunteer.post(f"/v1/wishes/{open_wish}/fulfil", {"note": "好了"}).status == 409  # not claimed
    assert town.keeper.patch(f"/v1/goods/{goods_id}", {"name": "新名字"}).status == 403  # admins only
    assert town.worker.post(f"/v1/requests/{request_id}/resolve", {"note": "还没响应"}).status == 409
    assert town.admin.patch(f"/v1/events/{cancelled}", {"title": "改名"}).status == 409  # cancelled
    assert town.admin.post(f"/v1/events/{cancelled}/cancel", {"reason": "再取消"}).status == 409
    assert len(wechat.content_checks) == asked


def _stale_member(town: Town) -> Member:
    """A resident who logged in, joined the community an hour later (a new token, without a WeChat login) and now,
    two hours and five minutes after the login, still holds a valid token but has not been seen by WeChat."""
    member = town.api.login()
    with travel(timedelta(hours=1)):
        joined = member.post("/v1/me/community", {"invite": town.c.invite(0)})
        assert joined.status == 200, joined.body
        member.token, member.user = joined.json["token"], joined.json["user"]
    return member


def test_a_writer_wechat_has_not_seen_for_two_hours_is_told_to_reopen_the_mini_program(town, wechat):
    member = _stale_member(town)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with travel(timedelta(hours=2, minutes=5)):
        stale = member.patch("/v1/me", {"nickname": "老张"}, headers=key)
        assert stale.status == 409 and stale.error_code == "WECHAT_SESSION_STALE", stale.body
        assert stale.json["error"]["message"] == "请重新打开小程序后再试"
        assert "Idempotent-Replayed" not in stale.headers
        assert wechat.content_checks[-1]["errcode"] == 61010
        assert member.get("/v1/me").json["nickname"] != "老张"  # nothing written
        again = member.patch("/v1/me", {"nickname": "老张"}, headers=key)  # not kept: asked again, refused again
        assert again.status == 409 and "Idempotent-Replayed" not in again.headers
        member.relogin()  # the mini-program reopened: wx.login, POST /v1/auth/login
        done = member.patch("/v1/me", {"nickname": "老张"}, headers=key)  # the same key runs now
        assert done.status == 200 and done.json["nickname"] == "老张" and "Idempotent-Replayed" not in done.headers
        replay = member.patch("/v1/me", {"nickname": "老张"}, headers=key)
        assert replay.status == 200 and replay.headers.get("Idempotent-Replayed") == "true"


def test_staff_without_a_fresh_session_are_refused_the_same_way(town):
    """Staff write through the mini-program too; one who has not opened it for two hours (or a console acting
    without it, later) gets the same 409 until they do."""
    admin = town.c.with_roles(town.c.resident(0), ["admin"])  # signed in (again) just now
    with travel(timedelta(hours=2, minutes=5)):
        for path, body in (("/v1/events", event_body(title="茶话会")),
                           (f"/v1/stores/{town.store_id}/goods", {"name": "香皂", "price_points": 1, "stock": 1})):
            resp = admin.post(path, body)
            assert resp.status == 409 and resp.error_code == "WECHAT_SESSION_STALE", (path, resp.body)
        admin.relogin()
        assert admin.post("/v1/events", event_body(title="茶话会")).status == 201


def test_every_field_group_fits_one_check(api):
    """msgSecCheck v2 takes at most 2,500 characters: each group, at its fields' longest, joined by line breaks."""
    from tongxin.usecases.content import MAX_CONTENT
    schemas = api.get("/v1/openapi.json").json["components"]["schemas"]

    def longest(schema: str, *fields: str) -> int:
        properties = schemas[schema]["properties"]
        limits = []
        for name in fields:
            prop = properties[name]
            limit = prop.get("maxLength") or max(p.get("maxLength", 0) for p in prop.get("anyOf", []))
            limits.append(limit)
        return sum(limits) + len(limits) - 1

    groups = {("WishBody", "title", "content"), ("EventBody", "title", "description"),
              ("EventPatchBody", "title", "description"), ("EventCancelBody", "reason"),
              ("GoodsBody", "name", "description"), ("GoodsPatchBody", "name", "description"),
              ("UpdateMeBody", "nickname"), ("FulfilBody", "note"), ("ConfirmBody", "comment"),
              ("EscalateBody", "reason"), ("ResolveBody", "note"), ("RateBody", "comment")}
    for schema, *fields in groups:
        assert longest(schema, *fields) <= MAX_CONTENT, (schema, fields)
    request = schemas["RequestBody"]["properties"]["content"]["maxLength"] + 1 + longest("RequestLocation", "address")
    assert request <= MAX_CONTENT
