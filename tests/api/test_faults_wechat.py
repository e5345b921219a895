"""WeChat down or hanging where a user waits (issue 13, part 2): login, content checks (wishes, requests, and the
other text others read: nicknames, notes, events, goods),
mini-program codes (invite, event), phone numbers, and the access_token they need → 503 UPSTREAM_UNAVAILABLE, within
the client's timeout, nothing written. And pushing while WeChat is down → the message stays due, is tried again, and
is delivered once after WeChat recovers.

The faults are the stand-in's own (``WeChatStandIn.set_fault``: ``error`` answers errcode -1 at once, ``hang`` holds
the request past the client's timeout), spoken to over HTTP by wechatpy as in production. "Within the timeout" is a
correctness bound (a user must get the 503 before they give up, and before the API function's own timeout): the
elapsed time is at most the configured WeChat timeout per call the route makes (one: tests/budget.py) plus a margin
for the request itself on a busy machine.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest

from tests.api.test_faults_dynamodb import REQUEST, WISH, FaultWorld, assert_busy, snapshot
from tests.integration.test_sender import SEND, accept, item, received, sweep
from tests.support import Member
from tongxin.domain.clock import utcnow

SECOND = timedelta(seconds=1)
MARGIN_SECONDS = 1.5  # the request's own work, on a machine the suite shares


@pytest.fixture(scope="module")
def world(api, wechat):
    return FaultWorld(api, wechat)


@pytest.fixture
def short_hangs(wechat):
    """A held request is let go 5 s after it came (the client gave up long before), so no stand-in thread waits
    out its default minute; the fault is cleared after each test (conftest's ``clean_wechat``)."""
    before = wechat.hang_timeout
    wechat.hang_timeout = 5.0
    yield
    wechat.hang_timeout = before


@dataclass
class Case:
    """A route that calls WeChat (``wechat_path``) while the user waits; ``prepare`` readies one request that
    succeeds: (path, who, body)."""
    wechat_path: str
    method: str
    prepare: Callable[[FaultWorld], tuple[str, Member | None, dict | None]]


def _request(w: FaultWorld):
    w.open_request()
    return "/v1/requests", w.people["author"], REQUEST


def _resolve(w: FaultWorld):
    w.open_request()
    return f"/v1/requests/{w.request_in('accepted')}/resolve", w.people["grid_worker"], {"note": "已修好"}


CASES = {
    "login": Case("sns/jscode2session", "POST", lambda w: ("/v1/auth/login", None, {"code": "dev:wechatdown"})),
    "wish content check": Case("wxa/msg_sec_check", "POST", lambda w: ("/v1/wishes", w.people["author"], WISH)),
    "request content check": Case("wxa/msg_sec_check", "POST", _request),
    # Text others read (tongxin/usecases/content.py): the same check, every route that writes such text.
    "nickname content check": Case("wxa/msg_sec_check", "PATCH", lambda w: ("/v1/me", w.fresh(), {"nickname": "老邻居"})),
    "fulfil note content check": Case("wxa/msg_sec_check", "POST", lambda w: (
        f"/v1/wishes/{w.wish_in('claimed')}/fulfil", w.people["claimer"], {"note": "换好了"})),
    "event content check": Case("wxa/msg_sec_check", "PATCH", lambda w: (
        f"/v1/events/{w.event_in('activity')}", w.people["admin"], {"title": "改个名字"})),
    "goods content check": Case("wxa/msg_sec_check", "POST", lambda w: (
        f"/v1/stores/{w.store_id}/goods", w.people["admin"], {"name": "肥皂", "price_points": 1, "stock": 1})),
    "resolve note content check": Case("wxa/msg_sec_check", "POST", _resolve),
    "invite mini-program code": Case(
        "wxa/getwxacodeunlimit", "GET",
        lambda w: (f"/v1/admin/invites/{w.c.invite(0)}/qrcode?format=wxacode", w.people["admin"], None)),
    "event mini-program code": Case(
        "wxa/getwxacodeunlimit", "GET",
        lambda w: (f"/v1/events/{w.event_in('activity')}/qrcode?kind=wxacode&format=png", w.people["admin"], None)),
    "phone number": Case(
        "wxa/business/getuserphonenumber", "POST",
        lambda w: ("/v1/me/phone", w.people["resident"], {"code": w.wechat.issue_phone_code("13800138000")})),
}


def _send(world: FaultWorld, case: Case, prepared: tuple):
    path, person, body = prepared
    started = time.monotonic()
    resp = world.api.request(case.method, path, token=person.token if person else None, json_body=body)
    return resp, time.monotonic() - started


@pytest.mark.parametrize("mode", ["error", "hang"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_wechat_down_or_hanging_is_503_within_the_timeout_with_nothing_written(world, container, wechat, short_hangs,
                                                                               name, mode):
    case = CASES[name]
    resp, _ = _send(world, case, case.prepare(world))  # the route works (and the access_token is fetched, kept)
    assert resp.status < 300, f"{name} without a fault: {resp.status} {resp.body[:300]!r}"
    prepared = case.prepare(world)
    asked = wechat.counters.get(case.wechat_path, 0)
    before = snapshot(container)

    wechat.set_fault(mode, [case.wechat_path])
    resp, elapsed = _send(world, case, prepared)
    wechat.set_fault("none")

    assert_busy(resp, (case.method, name))
    assert wechat.counters.get(case.wechat_path, 0) == asked + 1, "WeChat was not asked (once)"
    timeout = container.settings.wechat_timeout_seconds
    assert elapsed <= timeout + MARGIN_SECONDS, f"{name}: the 503 took {elapsed:.2f} s (timeout {timeout} s)"
    assert snapshot(container) == before, f"{name}: something was written while WeChat was {mode}"


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_the_access_token_unobtainable_is_503_within_the_timeout(world, container, wechat, short_hangs, mode,
                                                                  monkeypatch):
    """A content check needs an access_token; the one kept is gone (expired) and WeChat does not hand out another."""
    # The call budget excuses a request its token refresh (tests/budget.py), seen by the refresh's answer: a refresh
    # that hangs has none, and the read of the kept token would count against the route.
    monkeypatch.setenv("CALL_REPORT_ONLY", "1")
    case = CASES["wish content check"]
    client = container.wechat
    client.session.delete(client.access_token_key)  # what _call does when WeChat rejects the token
    client.expires_at = None
    before = snapshot(container)
    wechat.set_fault(mode, ["cgi-bin/stable_token"])
    resp, elapsed = _send(world, case, case.prepare(world))
    wechat.set_fault("none")
    assert_busy(resp, ("POST", "token"))
    timeout = container.settings.wechat_timeout_seconds
    assert elapsed <= timeout + MARGIN_SECONDS, f"the 503 took {elapsed:.2f} s (timeout {timeout} s)"
    assert snapshot(container) == before
    resp, _ = _send(world, case, case.prepare(world))  # WeChat back: a token is fetched, the wish published
    assert resp.status == 201, resp.body


# --- pushing -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sender_function(container):
    from infra.local.stack import _load_function
    return _load_function("sender")


def _stream_record(message_id: str) -> dict:
    """The outbox stream's INSERT record of a message, as Lambda hands it to the sender (NEW_IMAGE)."""
    return {"eventID": f"ev-{message_id}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"id": {"S": message_id}}, "NewImage": item(message_id).serialize(),
                         "StreamViewType": "NEW_IMAGE"}}


def test_a_message_pushed_while_wechat_is_down_is_delivered_once_after_it_recovers(world, container, wechat,
                                                                                   short_hangs, sender_function):
    from tongxin.adapters.dynamo.models import OutboxModel
    author, volunteer = world.fresh(), world.people["volunteer"]
    accept(container, author)
    wish = author.post("/v1/wishes", WISH).json
    assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    [message] = [m for m in OutboxModel.scan(OutboxModel.recipient_id == author.id) if m.kind == "wish_claimed"]
    timeout = container.settings.wechat_timeout_seconds

    # The stream hands the new message to the sender while WeChat hangs: the sender gives up after its timeout,
    # the record is not reported failed (the message is due again, for the sweep), nothing was delivered.
    wechat.set_fault("hang", [SEND])
    started = time.monotonic()
    assert sender_function.handler({"Records": [_stream_record(message.id)]}, None) == {"batchItemFailures": []}
    assert time.monotonic() - started <= timeout + MARGIN_SECONDS
    first = item(message.id)
    assert (first.status, first.attempts) == ("pending", 1) and first.next_attempt_at is not None

    # Still down (errors now) when it is due again: tried, due once more.
    wechat.set_fault("error", [SEND])
    sweep(container, now=first.next_attempt_at + SECOND)
    second = item(message.id)
    assert (second.status, second.attempts) == ("pending", 2) and second.next_attempt_at > first.next_attempt_at
    wechat.set_fault("none")
    assert received(wechat, author) == []

    # WeChat is back: the next sweep delivers it; the same stream record again, and later sweeps, change nothing.
    sweep(container, now=second.next_attempt_at + SECOND)
    assert item(message.id).status == "sent"
    assert sender_function.handler({"Records": [_stream_record(message.id)]}, None) == {"batchItemFailures": []}
    sweep(container, now=utcnow() + timedelta(days=1))
    got = received(wechat, author)
    title_key = next(k for k, field in container.settings.wechat_template_keywords["wish_claimed"].items()
                     if field == "title")  # the template's own keyword (the dev wish_claimed: thing9)
    assert len(got) == 1 and got[0]["data"][title_key]["value"] == WISH["title"][:20], got
    assert item(message.id).attempts == 3
