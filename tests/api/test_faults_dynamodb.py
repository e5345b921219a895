"""DynamoDB faults on every route (issue 13, part 2): throttling and transaction conflicts, refused writes and reads,
and a write whose answer was lost.

Faults are injected where the app meets DynamoDB: the harness in front of moto (``dynamodb_faults`` in
tests/conftest.py) answers a call ``ThrottlingException`` (and its kin) or a TransactionCanceledException with a
``TransactionConflict`` reason *without applying it* — as DynamoDB does — and botocore, PynamoDB and our ``Tx`` see
the real error on the wire. A "timeout after the write" is the other fault: the write is applied and its answer lost.

For every route a request is prepared that succeeds (``CASES`` for the changes, ``READS`` for the reads, each with a
role the authorisation table allows), and then:

- a refused write (throttled every time, or conflicting every time) → 503 ``UPSTREAM_UNAVAILABLE`` in the contract's
  envelope with ``Retry-After``, never 500; the refused call was tried more than once; every table exactly as before;
- the same request again (same Idempotency-Key) while the write is refused twice and then let through → the
  route's success, with the same effect as the same request made on a twin without any fault (``Effect``: the
  items written and removed per table and every counter's increment), so the effect happened once;
- a write that took effect and whose answer was lost (botocore sends it again) → the success, no false 409, the
  same effect as the twin's;
- reads throttled until botocore gives up → 503, never 500, nothing written (today every route but /v1/health
  answers 500: marked as the known bug, strict, so the fix shows); throttled twice → botocore's own retry, the
  success.

botocore's and our backoff sleeps are recorded, not slept (``no_waiting``): what a user would wait is asserted
against the API function's timeout in its own test. botocore's retry quota (a token bucket per client, shared by
the whole session) is refilled before each faulted request, so every request sees botocore's full retries.
"""
from __future__ import annotations

import itertools
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.api.test_authorization_table import AGREEMENT, EVENT, QUERIES, REQUEST, TABLE, WISH, World
from tests.api.test_checkins import at
from tests.support import Member, Resp
from tongxin.adapters.dynamo import binding
from tongxin.adapters.dynamo import tx as tx_module
from tongxin.adapters.dynamo.models import CounterModel
from tongxin.config import DEV_CHECKIN_SECRET, DEV_QR_VERIFY_FILE
from tongxin.domain import checkin
from tongxin.domain import requests as request_rules
from tongxin.domain.clock import SHANGHAI, to_api, utcnow

# A throttled TransactWriteItems: botocore's attempts (binding.BOTOCORE_ATTEMPTS) within each of Tx's rounds for a
# throttled call (tx.MAX_THROTTLED_ATTEMPTS).
THROTTLED_WRITE_ATTEMPTS = binding.BOTOCORE_ATTEMPTS * tx_module.MAX_THROTTLED_ATTEMPTS

ROOT = Path(__file__).resolve().parents[2]
WRITES = ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
READS_OPS = ("GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems")
_serial = itertools.count(1)


# --- the request each route is tried with ----------------------------------------------------------------------

@dataclass
class Call:
    """One request ready to be sent, as many times as a test needs (``body`` may be a function: a fresh phone
    code per send). ``moment``: the clock the request runs at (events happen in the future)."""
    world: "FaultWorld"
    method: str
    path: str
    person: Member | None
    status: int
    body: Any = None
    moment: datetime | None = None
    headers: dict | None = None  # X-HTTP-Method-Override for the POST form of a PATCH route; a console cookie

    @property
    def signed_in(self) -> bool:
        """A Bearer token or the console's session cookie: an Idempotency-Key is kept for it."""
        return self.person is not None or "Cookie" in (self.headers or {})

    def send(self, key: str | None = None) -> Resp:
        body = self.body() if callable(self.body) else self.body
        headers = {**(self.headers or {}), **({"Idempotency-Key": key} if key else {})} or None
        token = self.person.token if self.person else None

        def go():
            return self.world.api.request(self.method, self.path, token=token, headers=headers,
                                          json_body=body if body is not None else None)
        if self.moment is None:
            return go()
        with at(self.moment):
            return go()


class FaultWorld(World):
    """The authorisation table's world (two communities, a street, a store, one person per role) and what this
    module needs on top: fresh people, events happening now, twins."""

    def __init__(self, api, wechat):
        self.wechat = wechat
        super().__init__(api)
        self.c.set(wish_publish_daily_cap=100_000, award_daily_cap=100_000)
        self.effects: dict[tuple, "Effect"] = {}

    def fresh(self, role: str = "resident") -> Member:
        return self.make(role)

    def open_request(self) -> None:
        """The author may submit again today (the module submits more than a resident's daily cap)."""
        day = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d")
        CounterModel(request_rules.submit_counter(self.people["author"].id, day)).delete()

    def started_event(self, person: Member) -> tuple[str, datetime]:
        """A fresh activity of grid 0 (published two days ahead, as events must be) that ``person`` signed up
        for, and when it starts."""
        event_id = self.event_in("activity")
        assert person.post(f"/v1/events/{event_id}/signup").status == 201
        resp = self.api.get(f"/v1/events/{event_id}", token=self.people["admin"].token)
        return event_id, datetime.fromisoformat(resp.json["starts_at"])

    def scan(self, person: Member, event_id: str, moment: datetime) -> Resp:
        code = checkin.make_code(DEV_CHECKIN_SECRET, event_id, "poster")
        with at(moment):
            return person.post("/v1/checkins", {"code": code, "lat": 30.0, "lng": 103.8})


# Checked in five minutes after the start, out an hour and 20 s later: 60 whole minutes, whatever the milliseconds
# each request takes (the clock runs on from the moment travelled to).
LATER = timedelta(minutes=65, seconds=20)


def _checked_in(w: FaultWorld) -> tuple[Member, str, datetime]:
    person = w.fresh()
    event_id, start = w.started_event(person)
    resp = w.scan(person, event_id, start + timedelta(minutes=5))
    assert resp.status == 200 and resp.json["action"] == "check_in", resp.body
    return person, event_id, start


def _checkout(w: FaultWorld) -> Call:
    person, event_id, start = _checked_in(w)
    code = checkin.make_code(DEV_CHECKIN_SECRET, event_id, "poster")
    return Call(w, "POST", "/v1/checkins", person, 200, {"code": code, "lat": 30.0, "lng": 103.8},
                moment=start + LATER)


def _checkin(w: FaultWorld) -> Call:
    person = w.fresh()
    event_id, start = w.started_event(person)
    code = checkin.make_code(DEV_CHECKIN_SECRET, event_id, "poster")
    return Call(w, "POST", "/v1/checkins", person, 200, {"code": code, "lat": 30.0, "lng": 103.8},
                moment=start + timedelta(minutes=5))


def _adjust(w: FaultWorld) -> Call:
    person, event_id, start = _checked_in(w)
    assert w.scan(person, event_id, start + LATER).json["action"] == "check_out"
    return Call(w, "POST", f"/v1/events/{event_id}/attendance/{person.id}/adjust", w.people["admin"], 200,
                {"minutes": 30, "reason": "补录"}, moment=start + timedelta(hours=3))


def _leaver(w: FaultWorld) -> Call:
    """注销 of someone who holds things in three areas: an open wish, a request, a pending redemption."""
    person = w.fresh()
    assert person.post("/v1/wishes", WISH).status == 201
    assert person.post("/v1/requests", REQUEST).status == 201
    w.award(person)
    assert person.post("/v1/redemptions", {"goods_id": w.goods(), "quantity": 1}).status == 201
    return Call(w, "DELETE", "/v1/me", person, 204)


def _signed_up(w: FaultWorld) -> Call:
    person, event_id = w.fresh(), w.event_in("activity")
    assert person.post(f"/v1/events/{event_id}/signup").status == 201
    return Call(w, "DELETE", f"/v1/events/{event_id}/signup", person, 200)


def _new_event(w: FaultWorld) -> Call:
    start = utcnow() + timedelta(days=2)
    return Call(w, "POST", "/v1/events", w.people["admin"], 201,
                {**EVENT, "grid_id": w.c.grid_ids[0], "starts_at": to_api(start),
                 "ends_at": to_api(start + timedelta(hours=2))})


def _redeem(w: FaultWorld) -> Call:
    author = w.people["author"]
    w.award(author)
    return Call(w, "POST", "/v1/redemptions", author, 201, {"goods_id": w.goods(), "quantity": 1})


def _new_request(w: FaultWorld) -> Call:
    w.open_request()
    return Call(w, "POST", "/v1/requests", w.people["author"], 201, REQUEST)


def _console_ticket(w: FaultWorld) -> Call:
    w.open_tickets()  # the module asks for more tickets than one address may in a minute
    return Call(w, "POST", "/v1/console/sessions", None, 201)


def _wish_step(state: str, role: str, step: str, body: Any = None) -> Callable[[FaultWorld], Call]:
    return lambda w: Call(w, "POST", f"/v1/wishes/{w.wish_in(state)}/{step}", w.people[role], 200,
                          body if body is not None else {})


def _request_step(state: str, role: str, step: str, body: Any = None) -> Callable[[FaultWorld], Call]:
    def prepare(w: FaultWorld) -> Call:
        w.open_request()
        return Call(w, "POST", f"/v1/requests/{w.request_in(state)}/{step}", w.people[role], 200,
                    body if body is not None else {})
    return prepare


def _admin(method: str, path: str, status: int, body: Callable[[FaultWorld], Any]) -> Callable[[FaultWorld], Call]:
    return lambda w: Call(w, method, path.replace("{store_id}", w.store_id), w.people["admin"], status, body(w))


# Every route that changes something: (method, path) → how to prepare a request that succeeds. A variant after the
# path (``#out``) is the same route taking another step.
CASES: dict[tuple[str, ...], Callable[[FaultWorld], Call]] = {
    ("POST", "/v1/auth/login"): lambda w: Call(w, "POST", "/v1/auth/login", None, 200,
                                               {"code": f"dev:fault{uuid.uuid4().hex[:10]}"}),
    ("PATCH", "/v1/me"): lambda w: Call(w, "PATCH", "/v1/me", w.fresh(), 200, {"nickname": "故障演练"}),
    ("DELETE", "/v1/me"): _leaver,
    ("POST", "/v1/me/community"): lambda w: Call(w, "POST", "/v1/me/community", w.api.login(), 200,
                                                 {"invite": w.c.invite(0)}),
    ("POST", "/v1/me/phone"): lambda w: Call(w, "POST", "/v1/me/phone", w.fresh(), 200,
                                             lambda: {"code": w.wechat.issue_phone_code("13800138000")}),
    ("POST", "/v1/me/volunteer"): lambda w: Call(w, "POST", "/v1/me/volunteer", w.fresh(), 200,
                                                 {"real_name": "故障演练"}),
    ("POST", "/v1/admin/grids"): _admin("POST", "/v1/admin/grids", 201,
                                        lambda w: {"name": f"故障网格{next(_serial)}"}),
    ("POST", "/v1/admin/invites"): _admin("POST", "/v1/admin/invites", 201, lambda w: {"grid_id": w.c.grid_ids[0]}),
    ("PUT", "/v1/admin/members/{user_id}/roles"): lambda w: Call(
        w, "PUT", f"/v1/admin/members/{w.fresh().id}/roles", w.people["admin"], 200, {"roles": ["volunteer"]}),
    ("PATCH", "/v1/admin/community"): lambda w: Call(w, "PATCH", "/v1/admin/community", w.people["admin"], 200,
                                                     {"wish_points": 20}),
    ("POST", "/v1/wishes"): lambda w: Call(w, "POST", "/v1/wishes", w.people["author"], 201, WISH),
    ("POST", "/v1/wishes/{wish_id}/approve"): _wish_step("pending", "grid_worker", "approve"),
    ("POST", "/v1/wishes/{wish_id}/reject"): _wish_step("pending", "grid_worker", "reject", {"reason": "不合适"}),
    ("POST", "/v1/wishes/{wish_id}/claim"): _wish_step("open", "claimer", "claim"),
    ("POST", "/v1/wishes/{wish_id}/release"): _wish_step("claimed", "claimer", "release"),
    ("POST", "/v1/wishes/{wish_id}/fulfil"): _wish_step("claimed", "claimer", "fulfil", {"note": "完成"}),
    ("POST", "/v1/wishes/{wish_id}/confirm"): _wish_step("fulfilled", "author", "confirm", {"rating": 5}),
    ("POST", "/v1/wishes/{wish_id}/cancel"): _wish_step("open", "author", "cancel"),
    ("POST", "/v1/events"): _new_event,
    ("PATCH", "/v1/events/{event_id}"): lambda w: Call(w, "PATCH", f"/v1/events/{w.event_in('activity')}",
                                                       w.people["admin"], 200, {"title": "改个名字"}),
    ("POST", "/v1/events/{event_id}/cancel"): lambda w: Call(
        w, "POST", f"/v1/events/{w.event_in('activity')}/cancel", w.people["admin"], 200, {"reason": "天气原因"}),
    ("POST", "/v1/events/{event_id}/signup"): lambda w: Call(
        w, "POST", f"/v1/events/{w.event_in('volunteer_service')}/signup", w.people["volunteer"], 201, {}),
    ("DELETE", "/v1/events/{event_id}/signup"): _signed_up,
    ("POST", "/v1/checkins"): _checkin,
    ("POST", "/v1/checkins", "#out"): _checkout,
    ("POST", "/v1/events/{event_id}/attendance/{user_id}/adjust"): _adjust,
    ("POST", "/v1/points/awards"): lambda w: Call(
        w, "POST", "/v1/points/awards", w.people["admin"], 201,
        {"user_id": w.people["resident"].id, "category": "participation", "points": 1, "reason": "故障演练"}),
    ("POST", "/v1/points/awards/{award_id}/reverse"): lambda w: Call(
        w, "POST", f"/v1/points/awards/{w.award(w.people['resident'])}/reverse", w.people["admin"], 200,
        {"reason": "发错了"}),
    ("POST", "/v1/stores"): _admin("POST", "/v1/stores", 201, lambda w: {"name": f"故障超市{next(_serial)}"}),
    ("POST", "/v1/stores/{store_id}/goods"): _admin("POST", "/v1/stores/{store_id}/goods", 201,
                                                    lambda w: {"name": "故障商品", "price_points": 1, "stock": 5}),
    ("PATCH", "/v1/goods/{goods_id}"): lambda w: Call(w, "PATCH", f"/v1/goods/{w.goods()}", w.people["admin"], 200,
                                                      {"restock": 1}),
    ("POST", "/v1/redemptions"): _redeem,
    ("POST", "/v1/redemptions/{redemption_id}/cancel"): lambda w: Call(
        w, "POST", f"/v1/redemptions/{w.redemption()['id']}/cancel", w.people["author"], 200, {}),
    ("POST", "/v1/redemptions/verify"): lambda w: Call(w, "POST", "/v1/redemptions/verify", w.people["admin"], 200,
                                                       {"pickup_code": w.redemption()["pickup_code"]}),
    ("POST", "/v1/me/subscriptions"): lambda w: Call(w, "POST", "/v1/me/subscriptions", w.people["resident"], 200,
                                                     {"accepted": ["tmpl_wish_claimed"]}),
    ("POST", "/v1/requests"): _new_request,
    ("POST", "/v1/requests/{request_id}/accept"): _request_step("submitted", "grid_worker", "accept"),
    ("POST", "/v1/requests/{request_id}/escalate"): _request_step("submitted", "grid_worker", "escalate",
                                                                  {"reason": "需要社区协调"}),
    ("POST", "/v1/requests/{request_id}/resolve"): _request_step("accepted", "grid_worker", "resolve",
                                                                 {"note": "已更换灯泡"}),
    ("POST", "/v1/requests/{request_id}/rate"): _request_step("resolved", "author", "rate", {"satisfaction": 5}),
    ("POST", "/v1/requests/{request_id}/escalate", "#department"): lambda w: _request_step(
        "at_street", "street_staff", "escalate", {"reason": "需要城管执法", "department_id": w.department_id})(w),
    ("POST", "/v1/requests/{request_id}/extend"): _request_step("accepted", "grid_worker", "extend",
                                                                {"days": 2, "reason": "等维修材料"}),
    ("POST", "/v1/requests/{request_id}/extension/approve"): _request_step("extension_asked", "admin",
                                                                           "extension/approve"),
    ("POST", "/v1/requests/{request_id}/extension/reject"): _request_step("extension_asked", "admin",
                                                                          "extension/reject", {"reason": "时限内能办完"}),
    ("POST", "/v1/requests/{request_id}/supervise"): _request_step("submitted", "admin", "supervise",
                                                                   {"note": "请尽快处理"}),
    # 管理后台 扫码登录: a ticket (the address's counter in its transaction), its approval, logout by the cookie
    # session (with its CSRF token and Origin), the test stage's dev-login of someone who exists.
    ("POST", "/v1/console/sessions"): _console_ticket,
    ("POST", "/v1/console/sessions/{ticket}/approve"): lambda w: Call(
        w, "POST", f"/v1/console/sessions/{w.ticket().split('.', 1)[0]}/approve", w.people["admin"], 200),
    ("DELETE", "/v1/console/sessions/current"): lambda w: Call(
        w, "DELETE", "/v1/console/sessions/current", None, 204, headers=w.console_session(w.people["admin"])),
    ("POST", "/v1/console/dev-login"): lambda w: Call(w, "POST", "/v1/console/dev-login", None, 200,
                                                      {"name": w.fresh().name}),
}



UNIT = {"name": "故障演练单位", "kind": "企业", "contact_name": "演练", "contact_phone": "13800000000"}


def _fresh_unit(w: FaultWorld) -> str:
    """A new unit of the table's street, registered by its staff over HTTP."""
    resp = w.people["street_staff"].post("/v1/street/units", UNIT)
    assert resp.status == 201, resp.body
    return resp.json["id"]


def _unit_invite(w: FaultWorld) -> Call:
    resp = w.people["street_staff"].post(f"/v1/street/units/{w.unit_id}/invites")
    assert resp.status == 201, resp.body
    return Call(w, "POST", "/v1/me/unit", w.api.login(), 200, {"invite": resp.json["code"]})


# 共建单位 (usecases/units.py): the street registers and invites, a user becomes a liaison, a community's admin signs
# a fresh unit's agreement, the liaison adds a resource.
CASES.update({
    ("POST", "/v1/street/units"): lambda w: Call(w, "POST", "/v1/street/units", w.people["street_staff"], 201, UNIT),
    ("POST", "/v1/street/units/{unit_id}/invites"): lambda w: Call(
        w, "POST", f"/v1/street/units/{w.unit_id}/invites", w.people["street_staff"], 201, {}),
    ("POST", "/v1/me/unit"): _unit_invite,
    # The street takes a fresh liaison of the table's unit off again (204).
    ("DELETE", "/v1/street/units/{unit_id}/liaisons/{user_id}"): lambda w: Call(
        w, "DELETE", f"/v1/street/units/{w.unit_id}/liaisons/{w.unit_liaison().id}", w.people["street_staff"], 204),
    ("POST", "/v1/admin/units/{unit_id}/agreement"): lambda w: Call(
        w, "POST", f"/v1/admin/units/{_fresh_unit(w)}/agreement", w.people["admin"], 201, AGREEMENT),
    ("POST", "/v1/units/{unit_id}/resources"): lambda w: Call(
        w, "POST", f"/v1/units/{w.unit_id}/resources", w.people["unit_liaison"], 201,
        {"title": "故障演练资源", "description": "演练", "capacity": 1}),
})


PARTY_REPORT = {"real_name": "故障演练", "work_unit": "演练单位", "party_branch": "演练党支部"}
# 双报到 党员报到 (usecases/party.py): a fresh resident reports; an admin approves or rejects a fresh registration.
CASES.update({
    ("POST", "/v1/me/party-registration"): lambda w: Call(w, "POST", "/v1/me/party-registration", w.fresh(), 201,
                                                          PARTY_REPORT),
    ("POST", "/v1/admin/party-registrations/{registration_id}/approve"): lambda w: Call(
        w, "POST", f"/v1/admin/party-registrations/{w.party_registration()}/approve", w.people["admin"], 200, {}),
    ("POST", "/v1/admin/party-registrations/{registration_id}/reject"): lambda w: Call(
        w, "POST", f"/v1/admin/party-registrations/{w.party_registration()}/reject", w.people["admin"], 200,
        {"reason": "信息不全"}),
})

# 领岗 (usecases/posts.py): the admin publishes and closes a fresh post; the party member claims one, and gives back
# one they claimed. Publishing asks WeChat (content check): a post published first keeps the container's access_token
# fresh, so the reference request does not write the token's item where the faulted one would not.
POST_BODY = {"title": "故障演练岗位", "description": "演练", "skills": ["沟通"], "headcount": 100}
CASES.update({
    ("POST", "/v1/admin/posts"): lambda w: w.post_in("open") and Call(w, "POST", "/v1/admin/posts",
                                                                      w.people["admin"], 201, POST_BODY),
    ("POST", "/v1/posts/{post_id}/claim"): lambda w: Call(
        w, "POST", f"/v1/posts/{w.post_in('open')}/claim", w.people["party_member"], 200, {}),
    ("POST", "/v1/posts/{post_id}/withdraw"): lambda w: Call(
        w, "POST", f"/v1/posts/{w.post_in('claimed')}/withdraw", w.people["party_member"], 200, {}),
    ("POST", "/v1/admin/posts/{post_id}/close"): lambda w: Call(
        w, "POST", f"/v1/admin/posts/{w.post_in('open')}/close", w.people["admin"], 200, {}),
})


# 共建项目 and 群众评单 (usecases/co_projects.py): the admin records, reports on and completes a fresh project; a fresh
# resident rates a fresh done one. A project recorded first keeps the container's access_token fresh (content check).
CASES.update({
    ("POST", "/v1/admin/co-projects"): lambda w: w.co_project_in("planned") and Call(
        w, "POST", "/v1/admin/co-projects", w.people["admin"], 201, w.co_project_body()),
    ("POST", "/v1/admin/co-projects/{project_id}/progress"): lambda w: Call(
        w, "POST", f"/v1/admin/co-projects/{w.co_project_in('planned')}/progress", w.people["admin"], 200,
        {"note": "故障演练进展", "percent": 50}),
    ("POST", "/v1/admin/co-projects/{project_id}/complete"): lambda w: Call(
        w, "POST", f"/v1/admin/co-projects/{w.co_project_in('planned')}/complete", w.people["admin"], 200, {}),
    ("POST", "/v1/co-projects/{project_id}/rating"): lambda w: Call(
        w, "POST", f"/v1/co-projects/{w.co_project_in('done')}/rating", w.fresh(), 201, {"rating": 4}),
})


def _ballot(w: FaultWorld) -> Call:
    """微实事 票选: a fresh resident with a bound phone votes in a fresh round (voting now, two approved projects)."""
    from tests.api.test_ballots import bind_phone, seed_round
    round_id, ids, _ = seed_round(w.c.id, [100, 200])
    return Call(w, "POST", f"/v1/project-rounds/{round_id}/ballot", bind_phone(w.fresh()), 201, {"project_ids": ids})


CASES[("POST", "/v1/project-rounds/{round_id}/ballot")] = _ballot


# 代办 (usecases/proxy.py): the grid's worker acts for a fresh managed resident (registered by the admin over HTTP;
# given a point, a phone where the action needs them); the admin registers one.
PROXY_REASON = "故障演练代办"


def _managed(w: FaultWorld, *, phone: str | None = None, points: int = 0) -> str:
    body = {"real_name": "故障演练", "grid_id": w.c.grid_ids[0], **({"phone": phone} if phone else {})}
    resp = w.people["admin"].post("/v1/admin/managed-residents", body)
    assert resp.status == 201, resp.body
    if points:
        award = w.people["admin"].post("/v1/points/awards", {"user_id": resp.json["id"], "category": "participation",
                                                             "points": points, "reason": "故障演练"})
        assert award.status == 201, award.body
    return resp.json["id"]


def _proxy(step: str, body: Callable[[FaultWorld], Any], **managed) -> Callable[[FaultWorld], Call]:
    def prepare(w: FaultWorld) -> Call:
        resident = _managed(w, **managed)
        path, payload = body(w)
        return Call(w, "POST", f"/v1/proxy/{resident}/{path}", w.people["grid_worker"], 201,
                    {**payload, "reason": PROXY_REASON})
    return prepare


def _proxy_ballot(w: FaultWorld) -> tuple[str, dict]:
    from tests.api.test_ballots import seed_round
    round_id, ids, _ = seed_round(w.c.id, [100, 200])
    return f"project-rounds/{round_id}/ballot", {"project_ids": ids}


CASES.update({
    ("POST", "/v1/admin/managed-residents"): lambda w: Call(
        w, "POST", "/v1/admin/managed-residents", w.people["admin"], 201,
        {"real_name": "故障演练", "grid_id": w.c.grid_ids[0], "phone": "13800138000"}),
    ("POST", "/v1/proxy/{user_id}/wishes"): _proxy("wishes", lambda w: ("wishes", WISH)),
    ("POST", "/v1/proxy/{user_id}/requests"): _proxy("requests", lambda w: ("requests", REQUEST)),
    ("POST", "/v1/proxy/{user_id}/events/{event_id}/signup"): _proxy(
        "signup", lambda w: (f"events/{w.event_in('activity')}/signup", {})),
    ("POST", "/v1/proxy/{user_id}/redemptions"): _proxy(
        "redemptions", lambda w: ("redemptions", {"goods_id": w.goods(), "quantity": 1}), points=1),
    ("POST", "/v1/proxy/{user_id}/project-rounds/{round_id}/ballot"): _proxy(
        "ballot", _proxy_ballot, phone="13800138000"),
    ("POST", "/v1/admin/managed-residents/{user_id}/binding-code"): lambda w: Call(
        w, "POST", f"/v1/admin/managed-residents/{_managed(w)}/binding-code", w.people["admin"], 201),
    ("POST", "/v1/me/bind"): lambda w: _bind(w),
})


def _bind(w: FaultWorld) -> Call:
    """绑定: a fresh WeChat account (no community yet) binds a fresh managed resident with its code."""
    resident = _managed(w, points=1)
    issued = w.people["admin"].post(f"/v1/admin/managed-residents/{resident}/binding-code")
    assert issued.status == 201, issued.body
    return Call(w, "POST", "/v1/me/bind", w.api.login(), 200, {"code": issued.json["code"]})


def _round_project_delivered(w: FaultWorld, *, done: bool) -> str:
    """微实事: a fresh approved project whose round's vote and 公示 are over and which the results selected (written
    as the finalisation writes them: part A2's, tested in tests/api/test_ballots.py); ``done``: completed too."""
    from tongxin.adapters.dynamo.models import ProjectRoundModel, RoundProjectModel
    project_id = w.round_project_in("approved")
    project = RoundProjectModel.get(project_id)
    past = utcnow() - timedelta(minutes=1)
    ProjectRoundModel(project.round_id).update(actions=[ProjectRoundModel.selected_count.set(1),
                                                        ProjectRoundModel.results_final_at.set(past)])
    actions = [RoundProjectModel.selected.set(True), RoundProjectModel.votes.set(1), RoundProjectModel.rank.set(1),
               RoundProjectModel.round_voting_until.set(past), RoundProjectModel.round_publicity_until.set(past)]
    if done:
        actions += [RoundProjectModel.done_at.set(past), RoundProjectModel.percent.set(100)]
    RoundProjectModel(project_id).update(actions=actions)
    return project_id


# 微实事 rounds, proposals, review, delivery (usecases/project_rounds.py, round_delivery.py): the admin opens a round,
# reviews a fresh proposal, reports on a fresh selected project; a fresh resident proposes in a fresh round and rates a
# fresh done project. A round opened first keeps the container's access_token fresh (content check).
CASES.update({
    ("POST", "/v1/admin/project-rounds"): lambda w: w.project_round() and Call(
        w, "POST", "/v1/admin/project-rounds", w.people["admin"], 201, w.project_round_body()),
    ("POST", "/v1/project-rounds/{round_id}/projects"): lambda w: Call(
        w, "POST", f"/v1/project-rounds/{w.project_round()}/projects", w.fresh(), 201,
        {"title": "故障演练项目", "description": "演练", "cost_yuan": 100, "category": "其他"}),
    ("POST", "/v1/projects/{project_id}/approve"): lambda w: Call(
        w, "POST", f"/v1/projects/{w.round_project_in('proposed')}/approve", w.people["admin"], 200, {}),
    ("POST", "/v1/projects/{project_id}/reject"): lambda w: Call(
        w, "POST", f"/v1/projects/{w.round_project_in('proposed')}/reject", w.people["admin"], 200,
        {"reason": "故障演练"}),
    ("POST", "/v1/projects/{project_id}/progress"): lambda w: Call(
        w, "POST", f"/v1/projects/{_round_project_delivered(w, done=False)}/progress", w.people["admin"], 200,
        {"note": "故障演练进展", "percent": 100}),
    ("POST", "/v1/projects/{project_id}/rate"): lambda w: Call(
        w, "POST", f"/v1/projects/{_round_project_delivered(w, done=True)}/rate", w.fresh(), 201, {"rating": 4}),
})

# 微星光 (usecases/commendations.py): the admin commends a fresh resident, and revokes a fresh commendation of one.
CASES.update({
    ("POST", "/v1/admin/commendations"): lambda w: Call(
        w, "POST", "/v1/admin/commendations", w.people["admin"], 201, w.commendation_body(w.fresh())),
    ("POST", "/v1/admin/commendations/{commendation_id}/revoke"): lambda w: Call(
        w, "POST", f"/v1/admin/commendations/{w.commendation(w.fresh())}/revoke", w.people["admin"], 200,
        {"reason": "故障演练撤销"}),
})


def _certificate_asker(w: FaultWorld) -> Member:
    """A fresh volunteer of grid 0 with two services recorded (test-only writes of attendances)."""
    from tests.api.test_certificates import seed_services
    person = w.fresh("volunteer")
    seed_services(person.id, w.c.id, 2)
    return person


def _certificate_ask() -> dict:
    day = utcnow().astimezone(SHANGHAI).date()
    return {"from": (day - timedelta(days=30)).isoformat(), "to": day.isoformat(), "purpose": "故障演练"}


def _certificate_of(w: FaultWorld, status: str) -> str:
    """A fresh certificate of a fresh resident, as a request (and an issue) would have left it."""
    from tests.api.test_certificates import seed_certificate
    return seed_certificate(w.c.id, w.fresh().id, status)


def _certificate_to_issue(w: FaultWorld) -> Call:
    person = _certificate_asker(w)
    resp = person.post("/v1/me/certificates", _certificate_ask())
    assert resp.status == 201, resp.body
    return Call(w, "POST", f"/v1/admin/certificates/{resp.json['id']}/issue", w.people["admin"], 200)


# 志愿服务记录证明 (usecases/certificates.py): a fresh volunteer asks; the admin issues a fresh request, refuses a fresh
# one, revokes a fresh issued one.
CASES.update({
    ("POST", "/v1/me/certificates"): lambda w: Call(w, "POST", "/v1/me/certificates", _certificate_asker(w), 201,
                                                    _certificate_ask()),
    ("POST", "/v1/admin/certificates/{certificate_id}/issue"): _certificate_to_issue,
    ("POST", "/v1/admin/certificates/{certificate_id}/refuse"): lambda w: Call(
        w, "POST", f"/v1/admin/certificates/{_certificate_of(w, 'pending')}/refuse", w.people["admin"], 200,
        {"reason": "故障演练"}),
    ("POST", "/v1/admin/certificates/{certificate_id}/revoke"): lambda w: Call(
        w, "POST", f"/v1/admin/certificates/{_certificate_of(w, 'issued')}/revoke", w.people["admin"], 200,
        {"reason": "故障演练"}),
})


def _correction(w: FaultWorld) -> tuple[Member, str]:
    """A fresh resident checked out of a fresh event of grid 0 that took place yesterday (test-only writes)."""
    from tests.api.test_corrections import seed_attendance
    person, event_id = w.fresh(), w.event_in("activity")
    seed_attendance(event_id, person.id, w.c.id)
    return person, event_id


def _correction_decision(w: FaultWorld, step: str, body: Any = None) -> Call:
    from tests.api.test_corrections import seed_correction
    person, event_id = _correction(w)
    return Call(w, "POST", f"/v1/admin/corrections/{seed_correction(event_id, person.id, w.c.id)}/{step}",
                w.people["admin"], 200, body)


# 志愿服务记录更正 (usecases/corrections.py): a fresh resident asks about a fresh attendance; the admin approves (the
# adjustment applied) or refuses a fresh pending correction.
CASES.update({
    ("POST", "/v1/me/volunteer-record/corrections"): lambda w: (lambda person, event_id: Call(
        w, "POST", "/v1/me/volunteer-record/corrections", person, 201,
        {"attendance_id": f"{event_id}.{person.id}", "minutes": 60, "reason": "故障演练"}))(*_correction(w)),
    ("POST", "/v1/admin/corrections/{correction_id}/approve"): lambda w: _correction_decision(w, "approve"),
    ("POST", "/v1/admin/corrections/{correction_id}/refuse"): lambda w: _correction_decision(
        w, "refuse", {"reason": "故障演练"}),
})


def _post_form(prepare: Callable[[FaultWorld], Call]) -> Callable[[FaultWorld], Call]:
    """The POST form of a PATCH route (wx.request has no PATCH): the same request, POST with the override header."""
    def post(w: FaultWorld) -> Call:
        call = prepare(w)
        call.method, call.headers = "POST", {"X-HTTP-Method-Override": "PATCH"}
        return call
    return post


CASES.update({("POST", *case[1:]): _post_form(prepare) for case, prepare in list(CASES.items()) if case[0] == "PATCH"})

# Who reads each route (one the authorisation table allows), most privileged first.
READERS = ("admin", "street_staff", "district_staff", "department_staff", "grid_worker", "author", "store_keeper",
           "resident")


def _read(route: tuple[str, str]) -> Callable[[FaultWorld], Call]:
    method, template = route
    state, _body, expected = TABLE[route]
    role = next((r for r in READERS if expected[r] == "ok"), "anonymous")

    def prepare(w: FaultWorld) -> Call:
        path = template.replace("{code}", w.c.invite(0)).replace("{store_id}", w.store_id) \
            .replace("{file_name}", DEV_QR_VERIFY_FILE[0])  # the test stage's verification file
        path = path.replace("{page}", "members").replace("{name}", "app.js")  # the console's page and script
        path = path.replace("{user_id}", w.people["resident"].id)  # a member of grid 0 (the directory)
        path = path.replace("{unit_id}", w.unit_id)  # the table's unit (of its street, with its agreement)
        if state and state.startswith("event:"):
            path = path.replace("{event_id}", w.event_in(state.split(":", 1)[1]))
        elif state and state.startswith("request:"):
            w.open_request()
            path = path.replace("{request_id}", w.request_in(state.split(":", 1)[1]))
        elif state == "redemption":
            path = path.replace("{redemption_id}", w.redemption()["id"])
        elif state == "ticket":
            path = path.replace("{ticket}", w.ticket())
        elif state and state.startswith("post:"):
            path = path.replace("{post_id}", w.post_in(state.split(":", 1)[1]))
        elif state and state.startswith("co_project:"):
            path = path.replace("{project_id}", w.co_project_in(state.split(":", 1)[1]))
        elif state == "project_round":
            path = path.replace("{round_id}", w.project_round())
        elif state and state.startswith("round_project:"):
            path = path.replace("{project_id}", w.round_project_in(state.split(":", 1)[1]))
        elif state == "ballot_round":  # 微实事: the receipt of the reader's ballot; the results of a closed round
            from tests.api.test_ballots import bind_phone, seed_round
            if template.endswith("/results"):
                round_id, _, _ = seed_round(w.c.id, [100, 200], opens=-timedelta(hours=2), closes=-timedelta(minutes=1))
            else:
                round_id, ids, _ = seed_round(w.c.id, [100])
                voted = bind_phone(w.people[role]).post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": ids})
                assert voted.status == 201, voted.body
            path = path.replace("{round_id}", round_id)
        elif state == "unit_invite":  # an unused liaison invite of the table's unit, as a QR
            path = template.replace("{unit_id}", w.unit_id).replace("{code}", w.unit_invite_code())
        elif state and state.startswith("certificate"):  # 志愿服务记录证明: an issued one of the resident; the check
            from tests.api.test_certificates import table_path
            path = table_path(path, state, w.c.id, w.people["resident"].id)
        elif state == "party_registered":  # the reader's own 党员报到 (201, or 409 once done)
            w.people[role].post("/v1/me/party-registration", {"real_name": "故障演练", "work_unit": "演练单位",
                                                              "party_branch": "演练党支部"})
        elif state:
            path = path.replace("{wish_id}", w.wish_in(state))
        return Call(w, method, path + QUERIES.get(route, ""), w.people.get(role), 200)
    return prepare


READS = {route: _read(route) for route in TABLE if route[0] == "GET"}
ALL = {**CASES, **READS}
# Routes that read nothing from DynamoDB: the document, the link codes' landing pages and verification file
# (fixed answers, whatever the code), and the console's static files.
NO_READS = {("GET", "/v1/openapi.json"), ("GET", "/c/{code}"), ("GET", "/i/{code}"), ("GET", "/p/{code}"),
            ("GET", "/u/{code}"), ("GET", "/{file_name}"),
            # the console's pages, script and style: static files of the function
            ("GET", "/console"), ("GET", "/console/{page}"), ("GET", "/console/assets/{name}"),
            ("GET", "/console/events/{event_id}/screen"),
            # a console ticket: one transaction (the ticket and its address's counter), nothing read first
            ("POST", "/v1/console/sessions")}


def route_id(case: tuple) -> str:
    return " ".join(case)


# --- what the tables hold, and what a request changed ----------------------------------------------------------

def snapshot(container) -> dict[str, dict[tuple, tuple[str, dict]]]:
    """Every item of every table as stored (moto's own items: no DynamoDB call, nothing counted): per key, the
    item's text (sorted by attribute) and its numbers."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][container.settings.aws_region].tables
    found: dict[str, dict[tuple, tuple[str, dict]]] = {}
    for name, table in tables.items():
        items = found.setdefault(name, {})
        for hash_key, stored in table.items.items():
            for item in (stored.values() if table.has_range_key else [stored]):
                attrs = item.attrs
                numbers = {k: float(v.value) for k, v in attrs.items() if v.type == "N"}
                items[(str(hash_key), str(item.range_key))] = (repr(sorted(attrs.items())), numbers)
    return found


def _table(name: str) -> str:
    return name.split("-", 1)[-1]


ID = re.compile(r"[a-z]+_[0-9a-f]{16,}")
TALLIES = {"counters", "scores"}  # items that only ever count: a new one counts from zero


@dataclass(frozen=True)
class Effect:
    """What a request changed, told apart from ids and clocks so that two twins compare: per table, the items
    written (added or changed: a daily counter one twin creates the other bumps) and removed; and every increment
    of a number on an item that was there before (a counter, a balance, a capacity), or on a new tally item. A
    second effect shows as one more item written (a ledger entry, a message, an award) or a doubled increment."""
    written: tuple
    removed: tuple
    increments: tuple

    @staticmethod
    def between(before: dict, after: dict) -> "Effect":
        written, removed, increments = Counter(), Counter(), Counter()
        for name in set(before) | set(after):
            old, new = before.get(name, {}), after.get(name, {})
            table = _table(name)
            removed[table] += len(set(old) - set(new))
            for key in new:
                if old.get(key) == new[key]:
                    continue
                written[table] += 1
                if key in old or table in TALLIES:
                    for attr, delta in _numeric_deltas(old.get(key), new[key]).items():
                        increments[f"{table}.{ID.sub('<id>', attr)}"] += delta
        clean = lambda c: tuple(sorted((k, v) for k, v in c.items() if v))  # noqa: E731
        return Effect(clean(written), clean(removed), clean(increments))


def _numeric_deltas(old: tuple | None, new: tuple) -> dict[str, float]:
    """Each number's change (absent counts as 0), epoch times (TTL) left out."""
    a = {k: v for k, v in (old[1] if old else {}).items() if abs(v) < 1e9}
    b = {k: v for k, v in new[1].items() if abs(v) < 1e9}
    return {attr: b.get(attr, 0) - a.get(attr, 0) for attr in set(a) | set(b) if b.get(attr, 0) != a.get(attr, 0)}


# --- the harness ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(api, wechat):
    return FaultWorld(api, wechat)


@dataclass
class Waits:
    """What botocore and our retries asked to sleep during a test (nothing is slept)."""
    asked: list

    @property
    def total(self) -> float:
        return sum(self.asked)


@pytest.fixture
def no_waiting(monkeypatch) -> Waits:
    waits = Waits([])
    monkeypatch.setattr(time, "sleep", lambda seconds: waits.asked.append(seconds))
    return waits


def retry_quota(container):
    """botocore's retry quota of the shared DynamoDB client (standard retry mode: a token bucket of 500; a throttled
    retry costs 5, a success gives 1 back). Refilled before each faulted request so each sees botocore's full
    retries; a client drained by a throttling storm stops retrying at botocore's level (ours still retries)."""
    from tongxin.adapters.dynamo import binding
    emitter = binding.connection().client.meta.events._emitter
    handler = emitter._unique_id_handlers["retry-config-dynamodb"]["handler"]
    return handler.__self__._retry_quota._quota


@pytest.fixture
def faults(dynamodb_faults, container):
    quota = retry_quota(container)
    before = quota._available_capacity
    dynamodb_faults.clear()
    yield dynamodb_faults
    dynamodb_faults.clear()
    quota._available_capacity = before


def full_quota(container) -> None:
    quota = retry_quota(container)
    quota._available_capacity = quota._max_capacity


def reference(world: FaultWorld, container, case: tuple) -> Effect:
    """The effect of the case's request on a twin, without any fault (once per case and module)."""
    if case not in world.effects:
        call = ALL[case](world)
        before = snapshot(container)
        resp = call.send(key=f"ref-{uuid.uuid4().hex}" if call.signed_in else None)
        assert resp.status == call.status, f"{route_id(case)} without a fault: {resp.status} {resp.body[:300]!r}"
        world.effects[case] = Effect.between(before, snapshot(container))
    return world.effects[case]


def assert_busy(resp: Resp, case: tuple) -> None:
    """503 UPSTREAM_UNAVAILABLE in the contract's envelope, with Retry-After."""
    assert resp.status == 503, f"{route_id(case)}: {resp.status} {resp.body[:300]!r}"
    error = resp.json["error"]
    assert error["code"] == "UPSTREAM_UNAVAILABLE" and error["message"] and error["details"] == {}, resp.body
    retry_after = {k.lower(): v for k, v in resp.headers.items()}.get("retry-after")
    assert retry_after is not None and int(retry_after) >= 1, resp.headers


# --- every route --------------------------------------------------------------------------------------------------

def test_every_served_route_is_tried(app_module):
    served = {(method, path) for path, methods in app_module.app.routes.items() for method in methods}
    assert {case[:2] for case in ALL} == served
    assert {case[:2] for case in CASES} == {r for r in served if r[0] != "GET"}


@pytest.mark.parametrize("case", sorted(CASES), ids=route_id)
def test_a_refused_write_is_503_with_nothing_written_then_succeeds_once(world, container, faults, no_waiting, case):
    expected = reference(world, container, case)
    assert expected.written, f"{route_id(case)} changed nothing: not a write to fault"
    call = CASES[case](world)
    key = f"k-{uuid.uuid4().hex}"
    before = snapshot(container)

    # Every write is one TransactWriteItems: throttled, botocore tries it BOTOCORE_ATTEMPTS times within each of
    # Tx's rounds for a throttled call; cancelled for a conflict, Tx alone tries again. (注销 goes on to its
    # next step after one gave up: see the test of deletions below.)
    for error, operations, attempts in (("ThrottlingException", WRITES, THROTTLED_WRITE_ATTEMPTS),
                                        ("TransactionConflict", ("TransactWriteItems",), tx_module.MAX_ATTEMPTS)):
        faults.clear()
        full_quota(container)
        faults.refuse(operations, error)
        assert_busy(call.send(key), case)
        assert set(faults.refused) == {"TransactWriteItems"}, faults.refused
        tried = faults.refused["TransactWriteItems"]
        assert tried == attempts or (case == ("DELETE", "/v1/me") and tried % attempts == 0), \
            f"{route_id(case)} under {error}: {tried} attempts"
        assert snapshot(container) == before, f"{route_id(case)}: something was written under {error}"

    # Throttled twice, then let through: the same request (the same Idempotency-Key: a 503 is not kept) succeeds,
    # with the twin's effect.
    faults.clear()
    full_quota(container)
    faults.refuse("TransactWriteItems", "ThrottlingException", times=2)
    resp = call.send(key)
    assert resp.status == call.status, f"{route_id(case)}: {resp.status} {resp.body[:300]!r}"
    assert faults.refused == {"TransactWriteItems": 2}
    assert Effect.between(before, snapshot(container)) == expected


@pytest.mark.parametrize("case", sorted(CASES), ids=route_id)
def test_a_write_whose_answer_was_lost_takes_effect_once_without_a_false_409(world, container, faults, no_waiting,
                                                                               case):
    expected = reference(world, container, case)
    call = CASES[case](world)
    before = snapshot(container)
    full_quota(container)
    faults.time_out_after("TransactWriteItems")
    resp = call.send(f"k-{uuid.uuid4().hex}" if call.signed_in else None)
    assert faults.timeouts_after_write["TransactWriteItems"] == 0, "the fault did not fire"
    assert resp.status == call.status, f"{route_id(case)}: {resp.status} {resp.body[:300]!r}"
    assert Effect.between(before, snapshot(container)) == expected




def _read_call(world: FaultWorld, case: tuple) -> Call:
    """One prepared request per case for both read tests: a throttled read writes nothing, so it is sent again."""
    calls = world.__dict__.setdefault("read_calls", {})
    if case not in calls:
        calls[case] = ALL[case](world)
    return calls[case]


@pytest.mark.parametrize("case", sorted(ALL), ids=route_id)
def test_reads_throttled_until_botocore_gives_up_are_503_not_500(world, container, faults, no_waiting, case):
    call = _read_call(world, case)
    before = snapshot(container)
    full_quota(container)
    faults.refuse(READS_OPS, "ThrottlingException")
    try:
        resp = call.send()
    except AssertionError as exc:  # tests.support.Api refuses any 5xx but 503
        raise AssertionError(f"{route_id(case)}: {exc}") from None
    if not faults.refused:  # the route reads nothing from DynamoDB (what it writes, it writes)
        assert case in NO_READS and resp.status == call.status, resp.body
        return
    assert snapshot(container) == before, f"{route_id(case)} wrote something with its reads refused"
    assert_busy(resp, case)
    # botocore's own retries: every refused read was tried BOTOCORE_ATTEMPTS times
    assert all(n % binding.BOTOCORE_ATTEMPTS == 0 for n in faults.refused.values()), faults.refused


@pytest.mark.parametrize("case", sorted(ALL), ids=route_id)
def test_reads_throttled_twice_are_retried_by_botocore(world, container, faults, no_waiting, case):
    call = _read_call(world, case)
    full_quota(container)
    faults.refuse(READS_OPS, "ThrottlingException", times=2)
    resp = call.send(f"k-{uuid.uuid4().hex}" if call.person else None)
    assert resp.status == call.status, f"{route_id(case)}: {resp.status} {resp.body[:300]!r}"
    assert faults.refused or case in NO_READS, "nothing was refused"


# --- the retries themselves -----------------------------------------------------------------------------------

CLAIM = ("POST", "/v1/wishes/{wish_id}/claim")


@pytest.mark.parametrize("error, attempts", [
    # botocore retries a throttled call itself (binding.BOTOCORE_ATTEMPTS), Tx once more
    # (tx.MAX_THROTTLED_ATTEMPTS); a cancelled transaction reaches Tx at once (tx.MAX_ATTEMPTS).
    ("ThrottlingException", THROTTLED_WRITE_ATTEMPTS),
    ("ProvisionedThroughputExceededException", THROTTLED_WRITE_ATTEMPTS),
    ("RequestLimitExceeded", THROTTLED_WRITE_ATTEMPTS),
    ("TransactionConflict", tx_module.MAX_ATTEMPTS),
    ("ThrottlingError", tx_module.MAX_ATTEMPTS),
])
def test_each_kind_of_refusal_is_retried_then_503(world, container, faults, no_waiting, error, attempts):
    call = CASES[CLAIM](world)
    before = snapshot(container)
    full_quota(container)
    faults.refuse("TransactWriteItems", error)
    assert_busy(call.send(), CLAIM)
    assert faults.refused == {"TransactWriteItems": attempts}
    assert snapshot(container) == before
    # A pause between attempts, botocore's within a round and ours between rounds; none before giving up: the 503
    # goes out at once.
    assert len(no_waiting.asked) == attempts - 1, no_waiting.asked


def test_a_deletion_refused_half_way_is_completed_by_calling_again(world, container, faults, no_waiting):
    """注销 releases what the user holds area by area (each its own write), then closes the account: a refusal in
    between answers 503 with part of it done; the same DELETE again finishes it, each step once."""
    case = ("DELETE", "/v1/me")
    expected = reference(world, container, case)
    call = CASES[case](world)
    before = snapshot(container)
    full_quota(container)
    faults.refuse(WRITES, "ThrottlingException", after=1)  # the first release goes through, then DynamoDB refuses
    key = f"k-{uuid.uuid4().hex}"
    assert_busy(call.send(key), case)
    assert snapshot(container) != before, "the first step was not written: not a refusal half-way"
    faults.clear()
    resp = call.send(key)
    assert resp.status == 204, resp.body
    assert Effect.between(before, snapshot(container)) == expected


def _api_timeout_seconds() -> float:
    """The API function's timeout as template.yaml deploys it."""
    import yaml
    template = yaml.safe_load((ROOT / "template.yaml").read_text(encoding="utf-8"))
    own = template["Resources"]["ApiFunction"]["Properties"].get("Timeout")
    return float(own or template["Globals"]["Function"]["Timeout"])


def test_a_write_throttled_every_time_answers_before_the_api_function_times_out(world, container, faults,
                                                                               no_waiting, monkeypatch):
    """The worst case of the jitter (botocore's and ours at their maximum): the waits asked for, summed, leave the
    503 time to reach the user within the API function's timeout."""
    from tongxin.adapters.dynamo import binding
    emitter = binding.connection().client.meta.events._emitter
    backoff = emitter._unique_id_handlers["retry-config-dynamodb"]["handler"].__self__._retry_policy._retry_backoff
    monkeypatch.setattr(backoff, "_random", lambda: 1.0)
    monkeypatch.setattr(tx_module.random, "uniform", lambda low, high: high)
    call = CASES[CLAIM](world)
    full_quota(container)
    faults.refuse("TransactWriteItems", "ThrottlingException")
    assert_busy(call.send(), CLAIM)
    budget = _api_timeout_seconds()
    assert no_waiting.total <= budget - 1, (
        f"a throttled write waits {no_waiting.total:.2f} s in all before its 503; the API function times out after "
        f"{budget:.0f} s ({len(no_waiting.asked)} pauses: {[round(s, 3) for s in no_waiting.asked]})")


def test_a_token_refresh_while_dynamodb_throttles_writes_is_503(world, container, faults, no_waiting):
    client = container.wechat
    client.session.delete(client.access_token_key)  # expired: the next content check fetches and keeps a new one
    client.expires_at = None
    call = CASES[("POST", "/v1/wishes")](world)
    before = snapshot(container)
    full_quota(container)
    faults.refuse(WRITES, "ThrottlingException")
    try:
        resp = call.send(f"k-{uuid.uuid4().hex}")
    except AssertionError as exc:  # tests.support.Api refuses any 5xx but 503
        raise AssertionError(f"POST /v1/wishes: {exc}") from None
    finally:
        faults.clear()
        client.session.delete(client.access_token_key)  # whatever was kept of it: the next call fetches again
        client.expires_at = None
    assert_busy(resp, ("POST", "/v1/wishes"))
    assert snapshot(container) == before


def test_a_deletion_answers_204_only_with_every_step_done(world, container, faults, no_waiting):
    """DynamoDB refuses one step's every attempt, then recovers: 注销 must either finish every step (204) or answer
    503 so that it is called again — never close the account with a step skipped."""
    from tongxin.adapters.dynamo.models import RequestModel, WishModel
    call = CASES[("DELETE", "/v1/me")](world)
    user_id = call.person.id
    full_quota(container)
    faults.refuse("TransactWriteItems", "ThrottlingException", times=THROTTLED_WRITE_ATTEMPTS)
    resp = call.send(f"k-{uuid.uuid4().hex}")
    assert faults.refused == {"TransactWriteItems": THROTTLED_WRITE_ATTEMPTS}, "the fault did not fire"
    if resp.status != 204:
        assert_busy(resp, ("DELETE", "/v1/me"))
        return
    wishes = [(w.id, WishModel.get(w.id, consistent_read=True).status)  # the index holds keys only
              for w in WishModel.by_author.query(user_id)]
    assert all(status == "cancelled" for _, status in wishes), f"closed with its wish left: {wishes}"
    requests = [RequestModel.get(r.id, consistent_read=True) for r in RequestModel.by_author.query(user_id)]
    assert all(r.author_phone is None and r.address is None for r in requests), "closed with a request not erased"
