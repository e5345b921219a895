"""The outbox sender (issue 11) against moto in-process and the WeChat stand-in over HTTP: each outcome of one
delivery, WeChat down then back, two senders racing, quota bookkeeping, a sender that dies after claiming, and the
stream handler (``functions/sender``).

Messages come from the real API where natural (a claimed wish tells its author ``wish_claimed``) or from
``notifications.enqueue`` inside a ``Tx`` (in bulk: the same items, ``notifications.new_message``, batch-written).
Time moves with ``now=``, never by sleeping. The stand-in and
the outbox table are shared by the session, so every check is filtered by recipient (the stand-in's ``touser``)
or by message id; "no WeChat call" is the stand-in's request counter for ``message/subscribe/send`` unchanged
around one delivery.

The stand-in is as strict as WeChat here (issue 20): it knows the dev templates' own keywords (``thing9``,
``phrase16``, ``time4`` … — never the bare thing1/phrase2/time3/thing4), answers 47003 for a keyword missing, extra
or out of its type's rules, 41030 for a page the mini-program does not have, and counts accepts (``strict_accepts``
for this module): ``accept`` reports them to our API AND to the stand-in (``/__dev/subscriptions``, what
wx.requestSubscribeMessage tells WeChat), and a user with none left there is 43101.
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
import requests

from infra.local.wechat_standin import DEV_TEMPLATES, WeChatStandIn, fake_openid
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


def title_key(container, kind: str = "wish_claimed") -> str:
    """The keyword the configuration fills with the message's title (``thing9`` for the dev wish_claimed)."""
    [key] = [k for k, field in container.settings.wechat_template_keywords[kind].items() if field == "title"]
    return key


def title(container, message: dict, kind: str = "wish_claimed") -> str:
    return message["data"][title_key(container, kind)]["value"]


def received(wechat, *members: Member) -> list[dict]:
    wanted = {openid(m) for m in members}
    return [m for m in wechat.messages if m["touser"] in wanted]


def sends(wechat) -> int:
    return wechat.counters.get(SEND, 0)


def tell_wechat(wechat_url: str, member: Member, template_id: str, times: int = 1) -> None:
    """What wx.requestSubscribeMessage tells WeChat: ``times`` accepts of ``template_id`` (the stand-in at
    ``wechat_url`` counts them)."""
    resp = requests.post(wechat_url + "__dev/subscriptions",
                         json={"touser": openid(member), "template_ids": [template_id] * times}, timeout=5)
    assert resp.status_code == 200, resp.text


def accept(container, member: Member, kind: str = "wish_claimed", times: int = 1) -> dict:
    """The user accepts ``times``: WeChat learns it (the stand-in the container talks to), and the mini-program
    reports it to our API."""
    tell_wechat(container.settings.wechat_base_url, member, tmpl(container, kind), times)
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


@pytest.fixture(scope="module", autouse=True)
def strict_wechat(wechat):
    """The session's stand-in counts accepts for this module: nothing is sent to a user WeChat was not told
    accepted (43101)."""
    wechat.strict_accepts = True
    yield wechat
    wechat.strict_accepts = False


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
    titles = [(m["touser"], title(container, m)) for m in got]
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
    # the template's own keywords (the dev wish_claimed: thing9, phrase16, time4, thing27), as WeChat takes them
    assert sent["data"] == {"thing9": {"value": "帮忙买药"}, "phrase16": {"value": "已认领"},
                            "time4": {"value": shanghai_time(message.created_at)},
                            "thing27": {"value": "志愿者已认领您的心愿"}}
    assert set(sent["data"]) == set(DEV_TEMPLATES[sent["template_id"]])
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


# --- every kind against the strict stand-in: the template's own keywords ----------------------------------------

def page_for(kind: str, data: dict) -> str:
    """The page a message of ``kind`` opens, as the use cases build it."""
    from tongxin.usecases.points.awards import POINTS_PAGE
    from tongxin.usecases.points.redemptions import REDEMPTION_PAGE
    if kind.startswith("wish_"):
        return notifications.WISH_PAGE.format(id=data["wish_id"])
    if kind.startswith(("event_", "checkin_")):
        return notifications.EVENT_PAGE.format(id=data["event_id"])
    if kind.startswith("request_"):
        return notifications.REQUEST_PAGE.format(id=data["request_id"])
    if kind.startswith("redemption_"):
        return REDEMPTION_PAGE.format(id=data["redemption_id"])
    return POINTS_PAGE


def enqueue_kind(recipient: Member, kind: str, data: dict, page: str | None = None) -> str:
    tx = Tx()
    message = notifications.enqueue(tx, kind=kind, recipient_id=recipient.id, data=data,
                                    page=page or page_for(kind, data))
    tx.commit()
    return message.id


def test_every_kind_is_delivered_once_with_its_templates_own_keywords(container, wechat, town):
    """Each message kind, with the data its use case writes (realistic and at its worst), reaches the strict stand-in
    with exactly the keywords of its template — none of them ours — and values WeChat's type rules take."""
    from tests.unit.test_push_shaping import hostile, realistic
    member = town.resident(0)
    for kind in rules.KINDS:
        keywords = container.settings.wechat_template_keywords[kind]
        assert set(keywords) != {"thing1", "phrase2", "time3", "thing4"}, kind
        accept(container, member, kind, times=2)
        ids = [enqueue_kind(member, kind, realistic(kind)), enqueue_kind(member, kind, hostile(kind),
                                                                        page_for(kind, realistic(kind)))]
        before = sends(wechat)
        assert [push.deliver(container, i) for i in ids] == ["sent", "sent"], (kind, [item(i).reason for i in ids])
        assert sends(wechat) - before in (2, 3), kind  # one call each (+1 if the shared access_token was stale)
        got = [m for m in received(wechat, member) if m["template_id"] == tmpl(container, kind)]
        assert len(got) == 2, kind
        for message in got:
            assert tuple(message["data"]) == tuple(keywords) and set(message["data"]) == set(
                DEV_TEMPLATES[tmpl(container, kind)]), (kind, message["data"])
        assert got[0]["data"][next(iter(keywords))]["value"] != "无", (kind, got[0]["data"])
        assert _quota_left(member, tmpl(container, kind)) == 0  # (GET /v1/me/subscriptions lists a role's kinds)
        assert wechat.accepts(openid(member))[tmpl(container, kind)] == 0


def test_a_library_template_a_deployment_configured_is_sent_with_its_keywords(container, with_container, wechat,
                                                                            recipient):
    """A template of WeChat's library with keywords of its own, configured as WECHAT_TEMPLATES has it."""
    from tongxin.adapters.dynamo.models import CounterModel
    from tongxin.config import load_settings
    from tongxin.usecases.push.sender import quota_key
    template_id = "Ve6DxPMUv6nkwZ79KVwhnO_mVj2Be8v6PZ7yj5dPMyE"
    entry = {"id": template_id, "data": {"thing27": "title", "time4": "time", "thing7": "place",
                                         "phrase16": "state", "character_string9": "code"}}
    import json
    loaded = load_settings({"TONGXIN_STAGE": "test", "WECHAT_TEMPLATES": json.dumps({"event_reminder": entry})})
    configured = with_container(wechat_templates=loaded.wechat_templates,
                                wechat_template_keywords=loaded.wechat_template_keywords)
    wechat.register_template(template_id, tuple(entry["data"]))
    tell_wechat(wechat.base_url, recipient, template_id)
    Tx().update(CounterModel(quota_key(recipient.id, template_id)), [CounterModel.n.add(1)]).commit()
    data = {"event_id": "ev_lib1", "title": "重阳节敬老志愿服务", "starts_at": "2026-12-31T16:30:00+00:00",
            "address": "幸福小区党群服务中心二楼活动室"}
    message_id = enqueue_kind(recipient, "event_reminder", data)
    assert push.deliver(configured, message_id) == "sent"
    [got] = [m for m in received(wechat, recipient) if m["template_id"] == template_id]
    assert got["data"] == {"thing27": {"value": "重阳节敬老志愿服务"}, "time4": {"value": "2027年01月01日 00:30"},
                           "thing7": {"value": "幸福小区党群服务中心二楼活动室"}, "phrase16": {"value": "即将开始"},
                           "character_string9": {"value": "ev_lib1"}}


def _quota_left(member: Member, template_id: str) -> int:
    from tongxin.adapters.dynamo.models import CounterModel
    from tongxin.usecases.push.sender import quota_key
    try:
        return int(CounterModel.get(quota_key(member.id, template_id), consistent_read=True).n or 0)
    except CounterModel.DoesNotExist:
        return 0


def _quota(recipient: Member, template_id: str, n: int = 1) -> None:
    from tongxin.adapters.dynamo.models import CounterModel
    from tongxin.usecases.push.sender import quota_key
    Tx().update(CounterModel(quota_key(recipient.id, template_id)), [CounterModel.n.add(n)]).commit()


def test_keywords_that_are_not_the_templates_fail_47003_with_wechats_errmsg(container, with_container, wechat,
                                                                          recipient):
    """What every message did before keywords were configurable: our four keywords into a template of the library
    that has others. WeChat refuses it (47003, naming the keyword), for good: failed, the accept given back."""
    legacy = {**container.settings.wechat_template_keywords, "wish_claimed": dict(rules.LEGACY_KEYWORDS)}
    old_style = with_container(wechat_template_keywords=legacy)
    accept(container, recipient)
    [message_id] = enqueue(recipient)
    before = sends(wechat)
    assert push.deliver(old_style, message_id) == "failed"
    assert sends(wechat) > before
    stored = item(message_id)
    assert (stored.status, stored.errcode, stored.attempts) == ("failed", 47003, 1)
    assert stored.reason.startswith("argument invalid! data.") and "thing" in stored.reason, stored.reason
    assert remaining(container, recipient) == 1 and received(wechat, recipient) == []
    assert wechat.accepts(openid(recipient)) == {tmpl(container, "wish_claimed"): 1}  # WeChat's accept unspent


def test_a_page_the_mini_program_does_not_have_fails_41030(container, wechat, recipient):
    accept(container, recipient)
    message_id = enqueue_kind(recipient, "wish_claimed", {"wish_id": "w_1", "title": "帮忙买药"},
                              page="pages/wishes/detail?id=w_1")
    assert push.deliver(container, message_id) == "failed"
    stored = item(message_id)
    assert (stored.status, stored.errcode, stored.reason) == ("failed", 41030, "invalid page")
    assert remaining(container, recipient) == 1 and received(wechat, recipient) == []


def test_a_template_id_wechat_does_not_know_fails_40037(container, with_container, wechat, recipient):
    unknown = with_container(wechat_templates={**container.settings.wechat_templates, "wish_claimed": "tpl-removed"})
    _quota(recipient, "tpl-removed")
    [message_id] = enqueue(recipient)
    assert push.deliver(unknown, message_id) == "failed"
    stored = item(message_id)
    assert (stored.status, stored.errcode, stored.reason) == ("failed", 40037, "invalid template_id")
    assert received(wechat, recipient) == []


def test_fewer_accepts_at_wechat_than_reported_the_rest_is_43101_and_never_retried(container, wechat, recipient):
    """The mini-program reported two accepts, WeChat has one (a report repeated, say): the first message is sent,
    the second is WeChat's 43101 — skipped (no_quota), our quota set to none, so the third is not even tried."""
    tell_wechat(wechat.base_url, recipient, tmpl(container, "wish_claimed"))
    resp = recipient.post("/v1/me/subscriptions", {"accepted": [tmpl(container, "wish_claimed")] * 3})
    assert resp.status == 200, resp.body
    ids = enqueue(recipient, 3)
    before = sends(wechat)
    assert [push.deliver(container, i) for i in ids] == ["sent", "skipped", "skipped"]
    assert sends(wechat) - before in (2, 3)  # the third never reached WeChat (+1 for a stale access_token)
    assert (item(ids[1]).reason, item(ids[1]).errcode) == ("no_quota", 43101)
    assert (item(ids[2]).reason, item(ids[2]).errcode) == ("no_quota", None)
    assert len(received(wechat, recipient)) == 1 and remaining(container, recipient) == 0


def test_sends_per_kind_against_the_strict_stand_in(container, wechat, town, capsys):
    """The figure for the issue note: PER_KIND messages of each kind delivered one by one against the strict stand-in
    (each one WeChat call, none refused), and the sends per second per kind on this machine."""
    from tests.unit.test_push_shaping import realistic
    per_kind = 10
    member = town.resident(1)
    rows = []
    for kind in rules.KINDS:
        accept(container, member, kind, times=per_kind)
        ids = [enqueue_kind(member, kind, realistic(kind)) for _ in range(per_kind)]
        trim_moto_outbox_stream(container)
        before, started = sends(wechat), time.perf_counter()
        outcomes = Counter(push.deliver(container, i) for i in ids)
        took = time.perf_counter() - started
        calls = sends(wechat) - before
        assert outcomes == {"sent": per_kind}, (kind, outcomes)
        assert per_kind <= calls <= per_kind + 1, (kind, calls)
        rows.append((kind, outcomes["sent"], calls, per_kind / took))
    with capsys.disabled():
        print(f"\nsends per kind against the strict stand-in ({per_kind} messages each, one sender):")
        print(f"{'kind':22} {'sent':>4} {'WeChat calls':>12} {'sends/s':>8}")
        for kind, sent, calls, rate in rows:
            print(f"{kind:22} {sent:>4} {calls:>12} {rate:>8.1f}")
        total = sum(r[1] for r in rows)
        print(f"{'all':22} {total:>4} {sum(r[2] for r in rows):>12} "
              f"{total / sum(per_kind / r[3] for r in rows):>8.1f}")


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
    assert sorted(title(container, m) for m in got) == ["帮忙买药0", "帮忙买药1"]
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
    from infra.local.stack import _load_function
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
        assert title(container, got[0], "wish_to_review") == "帮忙搬家具"
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
    assert len({(m["touser"], title(container, m)) for m in got}) == 200, "a message was sent twice"
    assert {item(i).status for i in ids} == {"sent"}
    for member in members:
        assert remaining(container, member) == 0
