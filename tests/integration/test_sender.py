"""The outbox sender (issue 11) against moto in-process and the WeChat stand-in over HTTP: each outcome of one
delivery, WeChat down then back, two senders racing, quota bookkeeping, a sender that dies after claiming, and the
stream handler (``functions/sender``).

Messages come from the real API where natural (a claimed wish tells its author ``wish_claimed``) or from
``notifications.enqueue`` inside a ``Tx`` (in bulk: the same items, ``notifications.new_message``, batch-written).
Time moves with ``now=``, never by sleeping. The stand-in and
the outbox table are shared by the session, so every check is filtered by recipient (the stand-in's ``touser``)
or by message id; "no WeChat call" is the stand-in's request counter for ``message/subscribe/send`` unchanged
around one delivery.
"""
from __future__ import annotations

import dataclasses
import random
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.wechat_standin import WeChatStandIn, fake_openid
from tests.support import Community, Member, make_community, trim_moto_outbox_stream
from tongxin.adapters.dynamo import binding
from tongxin.adapters.dynamo.models import OutboxModel
from tongxin.adapters.dynamo.tx import Tx
from tongxin.domain import push as rules
from tongxin.domain.clock import utcnow
from tongxin.usecases import notifications, push
from tongxin.wiring import Container

SEND = "cgi-bin/message/subscribe/send"
SECOND = timedelta(seconds=1)
WISH = {"title": "帮忙买药", "content": "腿脚不便，需要有人帮忙去药店取药", "category": "助老"}
FINAL = {"sent", "skipped", "failed"}


# --- helpers ---------------------------------------------------------------------------------------------------

def tmpl(container, kind: str) -> str:
    template_id = container.settings.wechat_templates.get(kind)
    assert template_id, f"the test settings configure no template id for {kind}: {container.settings.wechat_templates}"
    return template_id


def openid(member: Member) -> str:
    return fake_openid(member.name)


def received(wechat, *members: Member) -> list[dict]:
    wanted = {openid(m) for m in members}
    return [m for m in wechat.messages if m["touser"] in wanted]


def sends(wechat) -> int:
    return wechat.counters.get(SEND, 0)


def accept(container, member: Member, kind: str = "wish_claimed", times: int = 1) -> dict:
    resp = member.post("/v1/me/subscriptions", {"accepted": [tmpl(container, kind)] * times})
    assert resp.status == 200, resp.body
    return resp.json


def remaining(container, member: Member, kind: str = "wish_claimed") -> int:
    resp = member.get("/v1/me/subscriptions")
    assert resp.status == 200, resp.body
    found = [i["remaining"] for i in resp.json["items"] if i["template_id"] == tmpl(container, kind)]
    assert found, resp.json
    return found[0]


def enqueue(recipient: Member | str, n: int = 1, *, kind: str = "wish_claimed", title: str = "帮忙买药",
            community_id: str | None = None) -> list[str]:
    """``n`` messages for ``recipient`` (titles numbered when more than one, so each is told apart at the stand-in):
    ``notifications.enqueue`` inside a ``Tx``, as a use case writes them; in bulk, the same pending items
    (``notifications.new_message``) in BatchWriteItem, which moto writes without copying the table."""
    recipient_id = recipient if isinstance(recipient, str) else recipient.id

    def data(i: int) -> dict:
        return {"wish_id": f"wsh_{i}", "title": f"{title}{i}" if n > 1 else title, "category": "助老"}

    if n > 5:
        now = utcnow()
        items = [notifications.new_message(f"msg_{uuid.uuid4().hex}", recipient_id=recipient_id, kind=kind,
                                           data=data(i), page=f"pages/wish/detail?id=wsh_{i}",
                                           community_id=community_id, now=now) for i in range(n)]
        with OutboxModel.batch_write() as batch:
            for message in items:
                batch.save(message)
        return [message.id for message in items]
    tx, ids = Tx(), []
    for i in range(n):
        ids.append(notifications.enqueue(tx, kind=kind, recipient_id=recipient_id, data=data(i),
                                         page=f"pages/wish/detail?id=wsh_{i}", community_id=community_id).id)
    tx.commit()
    return ids


def item(message_id: str) -> OutboxModel:
    return OutboxModel.get(message_id, consistent_read=True)


def shanghai_time(moment: datetime) -> str:
    local = moment.astimezone(timezone.utc).replace(tzinfo=None) + timedelta(hours=8)
    return f"{local:%Y年%m月%d日 %H:%M}"


def claimed_wish_message(author: Member, volunteer: Member) -> tuple[dict, OutboxModel]:
    """A wish published by ``author`` and claimed by ``volunteer`` through the API: the author's message."""
    resp = author.post("/v1/wishes", WISH)
    assert resp.status == 201, resp.body
    wish = resp.json
    assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    found = [m for m in OutboxModel.scan(OutboxModel.recipient_id == author.id)
             if m.kind == "wish_claimed" and m.data.get("wish_id") == wish["id"]]
    assert len(found) == 1, found
    return wish, found[0]


def sweep(container, now: datetime) -> dict:
    """The scheduler's step until it has looked at everything due at ``now``: a run stops at its time budget and
    leaves the rest to the next one, and the session's other tests leave messages behind that are due too."""
    done: Counter = Counter()
    for _ in range(50):
        run = push.sweep(container, now=now)
        done.update(run)
        if not run.get("left_for_next_run"):
            return dict(done)
    raise AssertionError(f"the sweep never caught up: {dict(done)}")


def assert_final_off_the_index(message: OutboxModel) -> None:
    assert message.status in FINAL, message.status
    assert message.retry_shard is None and message.next_attempt_at is None, "a final message stays on by_retry"
    assert message.lease_until is None and message.lease_token is None
    # DynamoDB's TTL deletes it FINAL_KEPT_DAYS after it became final (the outbox does not keep every message ever)
    kept = message.expires_at - (message.updated_at or message.created_at)
    assert abs(kept - timedelta(days=rules.FINAL_KEPT_DAYS)) < timedelta(minutes=1), message.expires_at


@pytest.fixture(scope="module")
def town(api) -> Community:
    """One community for the module (each test has its own people in it): a community costs a few requests."""
    return make_community(api)


@pytest.fixture
def people(town):
    return town.resident(0), town.volunteer(0)


@pytest.fixture
def recipient(town):
    return town.resident(0)


@pytest.fixture
def with_container(container):
    """A Container with other settings, bound to the same tables (Container's own constructor)."""
    def build(**changes) -> Container:
        return Container(dataclasses.replace(container.settings, **changes))
    return build


# --- WeChat down for a while ------------------------------------------------------------------------------------

def test_wechat_down_then_back_every_message_delivered_exactly_once(container, wechat, town):
    members = [town.resident(i % 2) for i in range(3)]
    ids: dict[str, Member] = {}
    for n, member in enumerate(members, start=3):
        accept(container, member, times=n)
        ids.update({i: member for i in enqueue(member, n, title=f"第{n}批")})
    now = utcnow()
    wechat.set_fault("error", [SEND], errcode=-1)
    sweep(container, now=now)
    assert {item(i).status for i in ids} == {"pending"}
    sweep(container, now=now + timedelta(minutes=20))  # still down: each tried again, still pending
    assert {item(i).status for i in ids} == {"pending"}
    assert {int(item(i).attempts) for i in ids} == {2}
    assert received(wechat, *members) == []

    wechat.set_fault("none")
    sweep(container, now=now + timedelta(hours=3))
    assert {item(i).status for i in ids} == {"sent"}
    sweep(container, now=now + timedelta(hours=5))  # nothing more to do
    got = received(wechat, *members)
    per_person = Counter(m["touser"] for m in got)
    assert per_person == {openid(m): n for n, m in enumerate(members, start=3)}, per_person
    titles = [(m["touser"], m["data"]["thing1"]["value"]) for m in got]
    assert len(set(titles)) == len(titles) == len(ids), "a message was delivered twice"
    for member in members:
        assert remaining(container, member) == 0


# --- one delivery: each outcome ---------------------------------------------------------------------------------

def test_sent_with_the_stand_ins_message_content_checked(container, wechat, people):
    author, volunteer = people
    accept(container, author)
    assert remaining(container, author) == 1
    wish, message = claimed_wish_message(author, volunteer)
    assert message.status == "pending"

    assert push.deliver(container, message.id) == "sent"

    got = received(wechat, author)
    assert len(got) == 1, got
    sent = got[0]
    assert sent["template_id"] == tmpl(container, "wish_claimed")
    assert sent["page"] == f"pages/wish/detail?id={wish['id']}"
    assert sent["data"] == {"thing1": {"value": "帮忙买药"}, "phrase2": {"value": "已认领"},
                            "time3": {"value": shanghai_time(message.created_at)},
                            "thing4": {"value": "志愿者已认领您的心愿"}}
    stored = item(message.id)
    assert_final_off_the_index(stored)
    assert stored.status == "sent" and stored.attempts == 1 and stored.sent_at is not None
    assert stored.msgid == str(sent["msgid"]) and stored.template_id == tmpl(container, "wish_claimed")
    assert stored.reason is None and stored.errcode is None
    assert remaining(container, author) == 0

    before = sends(wechat)
    assert push.deliver(container, message.id) == "done"  # final: never sent again
    assert sends(wechat) == before and len(received(wechat, author)) == 1


def test_no_quota_is_skipped_without_calling_wechat(container, wechat, people):
    author, volunteer = people
    _, message = claimed_wish_message(author, volunteer)
    before = sends(wechat)
    assert push.deliver(container, message.id) == "skipped"
    assert sends(wechat) == before, "a message with no quota called WeChat"
    stored = item(message.id)
    assert_final_off_the_index(stored)
    assert (stored.status, stored.reason) == ("skipped", "no_quota")
    assert received(wechat, author) == []


def test_quota_for_another_template_does_not_count(container, wechat, recipient):
    accept(container, recipient, "points_awarded")
    [message_id] = enqueue(recipient)
    before = sends(wechat)
    assert push.deliver(container, message_id) == "skipped"
    assert sends(wechat) == before
    assert remaining(container, recipient, "points_awarded") == 1


def test_43101_from_wechat_is_skipped_and_never_retried(container, wechat, recipient):
    accept(container, recipient)
    wechat.set_no_quota(openid(recipient))  # WeChat says the user has no subscription left
    [message_id] = enqueue(recipient)
    before = sends(wechat)
    assert push.deliver(container, message_id) == "skipped"
    assert sends(wechat) > before  # WeChat was asked, once
    stored = item(message_id)
    assert_final_off_the_index(stored)
    assert (stored.status, stored.reason, stored.errcode) == ("skipped", "no_quota", 43101)
    assert stored.attempts == 1
    before = sends(wechat)
    assert push.deliver(container, message_id) == "done"
    assert sends(wechat) == before and received(wechat, recipient) == []
    # WeChat said none left: ours says so too (the next message is skipped without a call)
    assert remaining(container, recipient) == 0


@pytest.mark.parametrize("errcode", [47003, 40003, 40037, 41030])
def test_a_permanent_error_fails_with_wechats_errmsg_and_gives_the_quota_back(container, wechat, recipient, errcode):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    wechat.set_fault("error", [SEND], errcode=errcode)
    assert push.deliver(container, message_id) == "failed"
    wechat.set_fault("none")
    stored = item(message_id)
    assert_final_off_the_index(stored)
    assert (stored.status, stored.errcode, stored.attempts) == ("failed", errcode, 1)
    assert stored.reason == "system error"  # the stand-in's errmsg for an injected error
    assert remaining(container, recipient) == 1, "the quota of a send WeChat refused was not given back"
    assert push.deliver(container, message_id, now=utcnow() + timedelta(days=2)) == "done"
    assert item(message_id).status == "failed" and received(wechat, recipient) == []


def _retried(message_id: str, now: datetime) -> OutboxModel:
    stored = item(message_id)
    assert stored.status == "pending", stored.status
    assert stored.next_attempt_at is not None and stored.retry_shard is not None, "not on the sweep's index"
    assert now < stored.next_attempt_at <= now + timedelta(hours=1), (now, stored.next_attempt_at)
    assert stored.lease_until is None and stored.lease_token is None
    return stored


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_a_transient_error_goes_back_to_pending_then_is_delivered_once_when_due(container, wechat, recipient,
                                                                                 errcode):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    now = utcnow()
    wechat.set_fault("error", [SEND], errcode=errcode)
    assert push.deliver(container, message_id, now=now) == "retry"
    stored = _retried(message_id, now)
    assert stored.attempts == 1 and stored.errcode == errcode
    assert remaining(container, recipient) == 1, "the quota of a send that did not happen was not given back"

    wechat.set_fault("none")
    before = sends(wechat)
    assert push.deliver(container, message_id, now=now + SECOND) == "not_due"
    assert sends(wechat) == before  # not before its time
    sweep(container, now=stored.next_attempt_at + SECOND)
    stored = item(message_id)
    assert_final_off_the_index(stored)
    assert (stored.status, stored.attempts) == ("sent", 2)
    assert len(received(wechat, recipient)) == 1
    assert push.deliver(container, message_id, now=stored.sent_at + timedelta(hours=2)) == "done"
    assert len(received(wechat, recipient)) == 1
    assert remaining(container, recipient) == 0


def test_a_hang_times_out_and_goes_back_to_pending(container, wechat, recipient):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    now = utcnow()
    hang_timeout = wechat.hang_timeout
    wechat.hang_timeout = 3.0  # the held request is let go soon after; the client gives up after 1 s
    try:
        wechat.set_fault("hang", [SEND])
        started = time.monotonic()
        assert push.deliver(container, message_id, now=now) == "retry"
        assert time.monotonic() - started < 2.9, "the client did not time out before the stand-in answered"
    finally:
        wechat.set_fault("none")
        wechat.hang_timeout = hang_timeout
    stored = _retried(message_id, now)
    assert stored.attempts == 1
    assert remaining(container, recipient) == 1
    assert push.deliver(container, message_id, now=stored.next_attempt_at + SECOND) == "sent"
    assert len(received(wechat, recipient)) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_connection_refused_goes_back_to_pending(container, with_container, wechat, recipient):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    now = utcnow()
    unreachable = with_container(wechat_base_url=f"http://127.0.0.1:{_free_port()}/")
    assert push.deliver(unreachable, message_id, now=now) == "retry"
    _retried(message_id, now)
    assert remaining(container, recipient) == 1
    assert push.deliver(container, message_id, now=item(message_id).next_attempt_at + SECOND) == "sent"
    assert len(received(wechat, recipient)) == 1


class _BadGateway(BaseHTTPRequestHandler):
    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html>502 Bad Gateway</html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def test_an_http_5xx_goes_back_to_pending(container, with_container, wechat, recipient):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    now = utcnow()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BadGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gateway = with_container(wechat_base_url=f"http://127.0.0.1:{server.server_address[1]}/")
        assert push.deliver(gateway, message_id, now=now) == "retry"
    finally:
        server.shutdown()
        server.server_close()
    _retried(message_id, now)
    assert remaining(container, recipient) == 1


def test_after_max_attempts_it_fails_gave_up(container, wechat, recipient):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    now = utcnow()
    wechat.set_fault("error", [SEND], errcode=-1)
    outcomes = []
    for _ in range(rules.MAX_ATTEMPTS):
        outcomes.append(push.deliver(container, message_id, now=now))
        stored = item(message_id)
        if stored.status == "pending":
            now = stored.next_attempt_at + SECOND
    wechat.set_fault("none")
    assert outcomes == ["retry"] * (rules.MAX_ATTEMPTS - 1) + ["failed"], outcomes
    stored = item(message_id)
    assert_final_off_the_index(stored)
    assert (stored.status, stored.reason, stored.attempts) == ("failed", "gave_up", rules.MAX_ATTEMPTS)
    assert remaining(container, recipient) == 1
    assert push.deliver(container, message_id, now=now + timedelta(days=1)) == "done"
    assert received(wechat, recipient) == []


def test_backoff_is_jittered_and_grows(container, wechat, town):
    """Messages that failed at the same instant come back at different times (a WeChat outage's backlog does not
    return all at once), and later attempts wait longer than the first."""
    member = town.resident(0)
    accept(container, member)
    ids = enqueue(member, 6)
    now = utcnow()
    wechat.set_fault("error", [SEND], errcode=-1)
    waits: dict[str, list[timedelta]] = {i: [] for i in ids}
    for message_id in ids:
        at = now
        for _ in range(4):
            assert push.deliver(container, message_id, now=at) == "retry"
            due = item(message_id).next_attempt_at
            waits[message_id].append(due - at)
            at = due + SECOND
    wechat.set_fault("none")
    first = [w[0] for w in waits.values()]
    fourth = [w[3] for w in waits.values()]
    assert len(set(first)) == len(first), f"no jitter: {first}"
    assert min(fourth) > max(first), (first, fourth)


def test_a_deleted_user_is_skipped_user_gone(container, wechat, recipient):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    assert recipient.delete("/v1/me").status == 204
    before = sends(wechat)
    assert push.deliver(container, message_id) == "skipped"
    assert sends(wechat) == before
    stored = item(message_id)
    assert (stored.status, stored.reason) == ("skipped", "user_gone")
    assert_final_off_the_index(stored)


def test_a_kind_without_a_template_id_is_skipped_no_template(container, with_container, wechat, recipient):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    templates = {k: v for k, v in container.settings.wechat_templates.items() if k != "wish_claimed"}
    unconfigured = with_container(wechat_templates=templates)
    before = sends(wechat)
    assert push.deliver(unconfigured, message_id) == "skipped"
    assert sends(wechat) == before
    assert (item(message_id).status, item(message_id).reason) == ("skipped", "no_template")
    assert remaining(container, recipient) == 1


def test_a_missing_message_is_done(container):
    assert push.deliver(container, "msg_does_not_exist") == "done"


# --- quota bookkeeping ----------------------------------------------------------------------------------------

def test_accept_twice_two_sends_the_third_skipped_without_a_call(container, wechat, recipient):
    accept(container, recipient)
    accept(container, recipient)
    assert remaining(container, recipient) == 2
    ids = enqueue(recipient, 3)
    outcomes = []
    for message_id in ids:
        before = sends(wechat)
        outcomes.append(push.deliver(container, message_id))
        calls = sends(wechat) - before  # (2 for one send if the shared access_token was stale: 40001, retried)
        assert (calls >= 1) if outcomes[-1] == "sent" else (calls == 0), (outcomes, calls)
    assert outcomes == ["sent", "sent", "skipped"]
    assert item(ids[2]).reason == "no_quota"
    got = received(wechat, recipient)
    assert sorted(m["data"]["thing1"]["value"] for m in got) == ["帮忙买药0", "帮忙买药1"]
    assert remaining(container, recipient) == 0


def test_accepting_one_id_twice_in_one_call_counts_two(container, wechat, recipient):
    accept(container, recipient, times=2)
    ids = enqueue(recipient, 2)
    assert [push.deliver(container, i) for i in ids] == ["sent", "sent"]
    assert len(received(wechat, recipient)) == 2


# --- a sender that dies after claiming ----------------------------------------------------------------------------

def test_a_claim_left_by_a_dead_sender_is_delivered_after_its_lease(container, wechat, recipient):
    """What a sender that died right after its claim leaves: the message ``sending`` with a lease (and on the
    sweep's index until the lease ends), the quota taken — written here as ``_claim`` writes it."""
    from tongxin.adapters.dynamo.models import CounterModel
    from tongxin.usecases.push.sender import quota_key
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    now = utcnow()
    lease_until = now + timedelta(seconds=rules.LEASE_SECONDS)
    template_id = tmpl(container, "wish_claimed")
    (Tx().update(OutboxModel(message_id), [
        OutboxModel.status.set("sending"), OutboxModel.lease_token.set("dead-sender"),
        OutboxModel.lease_until.set(lease_until), OutboxModel.template_id.set(template_id),
        OutboxModel.retry_shard.set(rules.retry_shard(message_id)), OutboxModel.next_attempt_at.set(lease_until)])
     .update(CounterModel(quota_key(recipient.id, template_id)), [CounterModel.n.add(-1)],
             condition=CounterModel.n >= 1)
     .commit())

    before = sends(wechat)
    assert push.deliver(container, message_id, now=now + timedelta(seconds=30)) == "busy"
    assert sends(wechat) == before
    sweep(container, now=now + timedelta(seconds=30))
    assert item(message_id).status == "sending" and received(wechat, recipient) == []

    sweep(container, now=lease_until + SECOND)
    stored = item(message_id)
    assert (stored.status, stored.reason) == ("sent", None), \
        f"after the lease: {stored.status} ({stored.reason}) — the dead sender's claim still holds the quota"
    assert len(received(wechat, recipient)) == 1


def test_a_stuck_sender_loses_its_claim_and_cannot_overwrite_the_outcome(container, with_container, wechat,
                                                                        recipient):
    """A real claim by a sender whose WeChat call hangs (its own stand-in, a long timeout): before the lease ends
    nobody else sends; after, the sweep sends it; when the stuck call finally returns, its outcome is refused."""
    accept(container, recipient, times=2)  # the stuck claim took one (never given back): see the test above
    [message_id] = enqueue(recipient)
    stuck_wechat = WeChatStandIn(appid=container.settings.wechat_appid,
                                 secret=container.settings.wechat_secret).start()
    stuck_wechat.hang_timeout = 120.0  # held until the test lets it go (set_fault below)
    stuck_wechat.set_fault("hang", [SEND])
    stuck = with_container(wechat_base_url=stuck_wechat.base_url, wechat_timeout_seconds=150.0)
    now = utcnow()
    answer: list[str] = []
    thread = threading.Thread(target=lambda: answer.append(push.deliver(stuck, message_id, now=now)), daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 15
        while not (stuck_wechat.counters.get(SEND) and item(message_id).status == "sending"):
            assert time.monotonic() < deadline and thread.is_alive(), (answer, item(message_id).status)
            time.sleep(0.02)
        claimed = item(message_id)
        assert claimed.lease_until == now + timedelta(seconds=rules.LEASE_SECONDS)

        before = sends(wechat)
        assert push.deliver(container, message_id, now=now + timedelta(seconds=59)) == "busy"
        assert sends(wechat) == before
        sweep(container, now=now + timedelta(seconds=59))
        assert item(message_id).status == "sending" and received(wechat, recipient) == []

        sweep(container, now=claimed.lease_until + SECOND)
        assert item(message_id).status == "sent"
        assert len(received(wechat, recipient)) == 1
    finally:
        stuck_wechat.set_fault("none")  # the stuck call returns (errcode -1): it would record a retry
        thread.join(timeout=15)
        stuck_wechat.stop()
    assert not thread.is_alive()
    stored = item(message_id)
    assert stored.status == "sent", f"the stuck sender overwrote the outcome: {stored.status}"
    assert_final_off_the_index(stored)
    assert push.deliver(container, message_id, now=now + timedelta(hours=3)) == "done"
    assert len(received(wechat, recipient)) == 1


# --- the stream handler -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sender_function(container):
    from infra.local_stack import _load_function
    return _load_function("sender")


def record(message_id: str, event_id: str, event_name: str = "INSERT") -> dict:
    image = item(message_id).serialize()
    return {"eventID": event_id, "eventName": event_name, "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"id": {"S": message_id}}, "NewImage": image, "StreamViewType": "NEW_IMAGE"}}


def test_stream_records_are_delivered_and_only_the_failed_one_is_reported(container, wechat, town,
                                                                          sender_function, dynamodb_faults):
    first, second = town.resident(0), town.resident(1)
    for member in (first, second):
        accept(container, member)
    [unlucky] = enqueue(first)
    [lucky] = enqueue(second)
    records = [record(unlucky, "ev-1"), record(lucky, "ev-2")]
    # DynamoDB unreachable while the first record's recipient and quota are read (the sender's first BatchGetItem,
    # whether or not it reads the message first): every attempt botocore makes times out.
    attempts = binding.connection().client.meta.config.retries["total_max_attempts"]
    dynamodb_faults.time_out_after("BatchGetItem", times=attempts)
    try:
        result = sender_function.handler({"Records": records}, None)
        assert not dynamodb_faults.timeouts_after_write["BatchGetItem"], "the fault did not fire"
    finally:
        dynamodb_faults.timeouts_after_write.pop("BatchGetItem", None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "ev-1"}]}, result
    assert item(lucky).status == "sent" and len(received(wechat, second)) == 1
    assert item(unlucky).status == "pending" and received(wechat, first) == []

    # Lambda retries the failed record: delivered now, and the other one (a duplicate record) changes nothing.
    assert sender_function.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert item(unlucky).status == "sent"
    assert len(received(wechat, first)) == 1 and len(received(wechat, second)) == 1


def test_stream_ignores_what_is_not_a_new_pending_message(container, wechat, recipient, sender_function):
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    before = sends(wechat)
    removed = record(message_id, "ev-r", "REMOVE")
    result = sender_function.handler({"Records": [removed]}, None)
    assert result == {"batchItemFailures": []} and sends(wechat) == before
    assert item(message_id).status == "pending"
    assert sender_function.handler({"Records": []}, None) == {"batchItemFailures": []}


def test_stream_fan_out_items_are_expanded_then_each_message_delivered(container, wechat, community,
                                                                        sender_function):
    community.set(wish_review_required=True)
    workers = [community.grid_worker(0), community.grid_worker(0)]
    for worker in workers:
        accept(container, worker, "wish_to_review")
    author = community.resident(0)
    resp = author.post("/v1/wishes", {**WISH, "title": "帮忙搬家具"})
    assert resp.status == 201, resp.body
    fanout_id = f"wish#{resp.json['id']}#wish_to_review"
    fanout = item(fanout_id)
    assert fanout.status == "fanout"

    assert sender_function.handler({"Records": [record(fanout_id, "ev-f")]}, None) == {"batchItemFailures": []}
    assert item(fanout_id).status == "expanded"
    per_worker = [f"{fanout_id}#{w.id}" for w in workers]
    assert {item(i).status for i in per_worker} == {"pending"}
    # the same fan-out record again (Lambda's at-least-once): nothing more
    before_expanded = item(fanout_id).expanded_count
    sender_function.handler({"Records": [record(fanout_id, "ev-f")]}, None)
    assert item(fanout_id).expanded_count == before_expanded

    # the per-person messages' own INSERT records
    result = sender_function.handler({"Records": [record(i, f"ev-{n}") for n, i in enumerate(per_worker)]}, None)
    assert result == {"batchItemFailures": []}
    assert {item(i).status for i in per_worker} == {"sent"}
    for worker in workers:
        got = received(wechat, worker)
        assert len(got) == 1 and got[0]["template_id"] == tmpl(container, "wish_to_review")
        assert got[0]["data"]["thing1"]["value"] == "帮忙搬家具"
    assert received(wechat, author) == []


# --- two senders racing (last: moto copies the whole table in every transaction, so the more messages the
# table holds the slower every later test) ---
# ---------------------------------------------------------------------------------------

def test_two_senders_racing_over_200_messages_send_each_once(container, wechat, town):
    members = [town.resident(i % 2) for i in range(10)]
    ids: list[str] = []
    for member in members:
        accept(container, member, times=20)
        ids += enqueue(member, 20, title="消息")
    assert len(ids) == 200
    start = threading.Barrier(2)
    outcomes: list[Counter] = [Counter(), Counter()]
    errors: list[BaseException] = []

    def sender(slot: int, order: list[str]) -> None:
        try:
            start.wait()
            for message_id in order:
                outcomes[slot][push.deliver(container, message_id)] += 1
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    trim_moto_outbox_stream(container)  # the 200 INSERT records just written
    shuffled = ids[:]
    random.Random(11).shuffle(shuffled)
    threads = [threading.Thread(target=sender, args=(0, ids)), threading.Thread(target=sender, args=(1, shuffled))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    total = outcomes[0] + outcomes[1]
    assert total["sent"] == 200, total
    assert set(total) <= {"sent", "busy", "done"}, total
    got = received(wechat, *members)
    assert len(got) == 200, f"the stand-in has {len(got)} messages for 200"
    assert len({(m["touser"], m["data"]["thing1"]["value"]) for m in got}) == 200, "a message was sent twice"
    assert {item(i).status for i in ids} == {"sent"}
    for member in members:
        assert remaining(container, member) == 0
