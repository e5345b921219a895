"""The scheduler and the sender killed mid-run, and run again (issue 13, part 2): every step done once.

In process (the fast suite's harness), with the same code the stack runs: the scheduler function's handler
(``functions/scheduler``: wishes, events, redemptions, requests, then the push sweep) and the sender function's
handler (``functions/sender``, fed the outbox stream's records), each in a thread of its own, against moto (the
suite's harness: one DynamoDB request at a time, ClientRequestToken honoured) and the WeChat stand-in over HTTP. The
local stack runs these handlers in threads too (infra/local/stack.py); a subprocess stack here would add its own
stream-driven sender, racing ours on a clock a week ahead of it.

A kill is ``Killed`` raised by a botocore hook right after the N-th write of the run took effect: a BaseException, so
no ``except Exception`` of ours survives it — the run ends there as a process that dies does (Lambda's timeout, an
out-of-memory, a deployment). The next run comes five minutes later, as EventBridge's next tick would (a sender's
60-s lease has run out by then). Killing right after a write never falls in the one window docs/push.md documents
(WeChat took the message, the sender died before writing so: sent again), which needs a death in the middle of a
WeChat call.

Then every step is checked done exactly once: each wish escalated or expired once, each redemption expired and
refunded once, each attendance closed once, each fan-out expanded once, each message sent to WeChat once (the
stand-in's own record); a further run changes nothing; and every invariant of design.md holds (infra/proof/invariants/).
"""
from __future__ import annotations

import threading
import traceback
from collections import Counter
from datetime import datetime, timedelta

import pytest

from infra.local.wechat_standin import fake_openid
from tests.api.test_checkins import at
from tests.support import Community, Member, make_community
from tongxin.adapters.dynamo import binding
from tongxin.adapters.dynamo.models import (
    LedgerEntryModel, OutboxModel, RedemptionModel, SignupModel, StoreModel, UserModel, WishModel,
)
from tongxin.domain.clock import SHANGHAI, to_api, utcnow
from tongxin.usecases import push
from tongxin.wiring import get_container

WRITES = {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
NEXT_RUN = timedelta(minutes=5)
LOCATION = {"address": "社区广场", "lat": 30.0, "lng": 103.8, "radius_m": 200}


class Killed(BaseException):
    """The process running the handler died here."""


class Run:
    """One run of ``handler`` in its own thread, killed right after its ``kill_after``-th DynamoDB write (None: let it
    finish). ``where`` names the module of ours that made the write it died after."""

    def __init__(self, handler, event: dict, kill_after: int | None):
        self.handler, self.event, self.kill_after = handler, event, kill_after
        self.writes, self.killed, self.where, self.result, self.error = 0, False, None, None, None

    def _after_call(self, model, http_response, **kwargs):
        if threading.current_thread() is not self.thread or model.name not in WRITES:
            return
        if http_response.status_code == 200:
            self.writes += 1
            if self.writes == self.kill_after:
                ours = [f for f in traceback.extract_stack() if "/tongxin/usecases/" in f.filename]
                self.where = ours[-1].filename.split("/tongxin/", 1)[1] if ours else "?"
                raise Killed()

    def _target(self):
        try:
            self.result = self.handler(self.event, None)
        except Killed:
            self.killed = True
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            self.error = exc

    def go(self, moment: datetime) -> "Run":
        events = binding.connection().client.meta.events
        self.thread = threading.Thread(target=self._target, name="killable-run")
        events.register("after-call.dynamodb", self._after_call)
        try:
            with at(moment):
                self.thread.start()
                self.thread.join(timeout=60)
        finally:
            events.unregister("after-call.dynamodb", self._after_call)
        assert not self.thread.is_alive(), "the run did not end"
        assert self.error is None, f"the run failed: {self.error!r}"
        return self


def run_killed_again_and_again(handler, event: dict, start: datetime, kills: list[int]) -> tuple[list[str], datetime]:
    """Runs ``handler`` killed after ``kills[0]`` writes, five minutes later killed after ``kills[1]``, … until a run
    finishes; then once more. Answers where each run died and the moment of the last run."""
    moment, died = start, []
    for kill_after in kills + [None]:
        run = Run(handler, event, kill_after).go(moment)
        moment += NEXT_RUN
        if not run.killed:
            break
        died.append(run.where)
    Run(handler, event, None).go(moment)  # a run with nothing left to do
    return died, moment


def _load(name: str):
    from infra.local.stack import _load_function
    return _load_function(name)


@pytest.fixture(scope="module", autouse=True)
def invariants_hold(container, fresh_tables_per_module):
    """After the module: every invariant of design.md over what it left in the tables (infra/proof/invariants/)."""
    yield
    from infra.proof.invariants import check
    found = check(binding.connection().client, container.settings.table_name,
                  now=utcnow() + timedelta(days=30))  # the clock the module's last runs ran at, and beyond
    assert not found, "\n".join(found[:40])


def accept(member: Member, kind: str, times: int) -> None:
    resp = member.post("/v1/me/subscriptions", {"accepted": [f"tmpl_{kind}"] * times})
    assert resp.status == 200, resp.body


def sent_to(wechat, *members: Member) -> list[tuple[str, str, str]]:
    """(recipient, template, first field) of every message the stand-in took for ``members``."""
    wanted = {fake_openid(m.name): m.name for m in members}
    return [(wanted[m["touser"]], m["template_id"], next(iter(m["data"].values()))["value"])
            for m in wechat.messages if m["touser"] in wanted]


def _outbox(recipient: Member) -> list[OutboxModel]:
    return list(OutboxModel.scan(OutboxModel.recipient_id == recipient.id))


# --- the scheduler --------------------------------------------------------------------------------------------

def _due_work(api) -> dict:
    """A community with a week of work waiting for the scheduler: wishes to escalate (no one claimed them in 72 h)
    and wishes past their deadline, redemptions never picked up, an event whose attendance was never closed —
    each with the people told accepting the message it brings."""
    c: Community = make_community(api)
    worker = c.grid_worker(0)
    accept(worker, "wish_overdue", 5)
    authors = [c.resident(0) for _ in range(3)]
    now = utcnow()
    wishes = {"escalate": [], "expire": []}
    for n, author in enumerate(authors):
        accept(author, "wish_expired", 1)
        body = {"title": f"无人认领{n}", "content": "一直没人来帮忙", "category": "维修"}
        wishes["escalate"].append(author.post("/v1/wishes", body).json["id"])
        body = {"title": f"将过期{n}", "content": "过了截止时间", "category": "维修",
                "deadline": to_api(now + timedelta(hours=2))}
        wishes["expire"].append(author.post("/v1/wishes", body).json["id"])
    shopper = authors[0]
    accept(shopper, "redemption_expired", 2)
    resp = c.admin.post("/v1/points/awards", {"user_id": shopper.id, "category": "participation", "points": 10,
                                              "reason": "参加活动"})
    assert resp.status == 201, resp.body
    store_id = "s_killed"
    StoreModel(c.id, store_id, name="积分超市", created_at=now).save()
    redemptions = []
    for name in ("肥皂", "毛巾"):  # told apart at the stand-in by the goods' name
        goods = c.admin.post(f"/v1/stores/{store_id}/goods", {"name": name, "price_points": 3, "stock": 10}).json
        redemptions.append(shopper.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1}).json["id"])

    start = now.astimezone(SHANGHAI).replace(microsecond=0) + timedelta(days=2)
    event = c.admin.post("/v1/events", {"title": "清洁家园", "kind": "activity", "capacity": 10,
                                        "starts_at": start.isoformat(), "location": LOCATION,
                                        "ends_at": (start + timedelta(hours=1)).isoformat(),
                                        "grid_id": c.grid_ids[0]}).json["id"]
    volunteers = [c.volunteer(0) for _ in range(3)]
    for v in volunteers:
        accept(v, "checkin_unsettled", 1)
        assert v.post(f"/v1/events/{event}/signup").status == 201
    code = c.admin.get(f"/v1/events/{event}/qrcode?kind=poster").json["code"]
    with at(start + timedelta(minutes=5)):  # the first comes and never checks out; the others never come
        resp = volunteers[0].post("/v1/checkins", {"code": code, "lat": 30.0, "lng": 103.8})
        assert resp.status == 200 and resp.json["action"] == "check_in", resp.body
    return {"community": c, "worker": worker, "authors": authors, "shopper": shopper, "wishes": wishes,
            "redemptions": redemptions, "event": event, "volunteers": volunteers, "start": now + timedelta(days=8)}


def test_the_scheduler_killed_again_and_again_does_every_step_once(api, wechat):
    work = _due_work(api)
    people = [work["worker"], *work["authors"], *work["volunteers"]]
    before = Counter(sent_to(wechat, *people))
    assert not before, before

    died, last = run_killed_again_and_again(_load("scheduler").handler, {"source": "test"}, work["start"],
                                            kills=[3] * 40)
    # Killed a dozen times or so, in every part of a run: the areas' steps, the fan-outs' expansion, the sending.
    assert len(died) >= 10 and len(set(died)) >= 4, died
    assert {"usecases/wishes/upkeep.py", "usecases/notifications.py", "usecases/push/sender.py"} <= set(died), died

    # Wishes: three escalated (once: one fan-out each), three expired.
    for wish_id in work["wishes"]["escalate"]:
        wish = WishModel.get(wish_id, consistent_read=True)
        assert wish.status == "open" and wish.escalated_at is not None, (wish_id, wish.status)
    for wish_id in work["wishes"]["expire"]:
        assert WishModel.get(wish_id, consistent_read=True).status == "expired"
    overdue = [m for m in OutboxModel.scan(OutboxModel.kind == "wish_overdue")]
    fanouts = [m for m in overdue if m.status in ("fanout", "expanded")]
    assert sorted(m.data["wish_id"] for m in fanouts) == sorted(work["wishes"]["escalate"])
    assert {m.status for m in fanouts} == {"expanded"}
    told = Counter(m.data.get("wish_id") for m in overdue if m.recipient_id == work["worker"].id)
    assert told == Counter(work["wishes"]["escalate"]), told

    # Redemptions: both expired, each refunded once.
    shopper = work["shopper"]
    for redemption_id in work["redemptions"]:
        assert RedemptionModel.get(redemption_id, consistent_read=True).status == "expired"
    entries = list(LedgerEntryModel.query(shopper.id))
    refunds = Counter(e.source for e in entries if e.kind == "refund")
    assert refunds == Counter(f"redemption:{r}" for r in work["redemptions"]), refunds
    assert int(UserModel.get(shopper.id, consistent_read=True).points_balance) == 10

    # The event: the one who never checked out unsettled, the two who never came no-shows; each once.
    statuses = {s.user_id: s.status for s in SignupModel.query(work["event"])}
    first, *others = work["volunteers"]
    assert statuses == {first.id: "unsettled", **{v.id: "no_show" for v in others}}, statuses
    assert len([m for m in _outbox(first) if m.kind == "checkin_unsettled"]) == 1

    # WeChat took each message once; every message is final.
    sent = sent_to(wechat, *people)
    assert Counter(sent).most_common(1)[0][1] == 1, f"sent twice: {Counter(sent).most_common(3)}"
    expected = {("worker", "tmpl_wish_overdue"): 3, ("author", "tmpl_wish_expired"): 3,
                ("author", "tmpl_redemption_expired"): 2, ("volunteer", "tmpl_checkin_unsettled"): 1}
    role = {work["worker"].name: "worker", **{m.name: "author" for m in work["authors"]},
            **{m.name: "volunteer" for m in work["volunteers"]}}
    assert Counter((role[name], template) for name, template, _ in sent) == expected, sent
    for member in people:
        assert {m.status for m in _outbox(member)} <= {"sent", "skipped", "fanout", "expanded"}, member.name

    # Later runs find nothing to do.
    outbox = sorted((m.id, m.status, m.attempts) for m in OutboxModel.scan())
    Run(_load("scheduler").handler, {"source": "test"}, None).go(last + timedelta(days=1))
    assert sorted((m.id, m.status, m.attempts) for m in OutboxModel.scan()) == outbox
    assert sent_to(wechat, *people) == sent


# --- the sender (the outbox stream) ------------------------------------------------------------------------------

def _record(message: OutboxModel) -> dict:
    """The outbox stream's INSERT record of a message, as Lambda hands it to the sender (NEW_IMAGE)."""
    return {"eventID": f"ev-{message.id}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"id": {"S": message.id}}, "NewImage": message.serialize(),
                         "StreamViewType": "NEW_IMAGE"}}


def test_the_sender_killed_mid_batch_and_the_batch_delivered_again_sends_each_message_once(api, wechat):
    """Lambda hands the same batch again after the sender died (the records were never acknowledged)."""
    c = make_community(api)
    volunteer = c.volunteer(0)
    authors = [c.resident(0) for _ in range(6)]
    for n, author in enumerate(authors):
        accept(author, "wish_claimed", 1)
        wish = author.post("/v1/wishes", {"title": f"帮忙{n}", "content": "需要帮忙", "category": "助老"}).json
        assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    messages = [m for a in authors for m in _outbox(a) if m.kind == "wish_claimed"]
    assert len(messages) == 6 and {m.status for m in messages} == {"pending"}
    batch = {"Records": [_record(m) for m in messages]}

    # Each message is two writes (its claim, then its outcome): every third write kills the sender, after a claim
    # (the message is left "sending": the batch again sees its record as stale and leaves it to the sweep, once the
    # lease has run out) or after an outcome.
    died, last = run_killed_again_and_again(_load("sender").handler, batch, utcnow(), kills=[3] * 10)
    assert len(died) == 3 and set(died) == {"usecases/push/sender.py"}, died
    with at(last + NEXT_RUN):  # the scheduler's sweep finds nothing left either
        push.sweep(get_container())

    sent = sent_to(wechat, *authors)
    assert Counter(name for name, _, _ in sent) == Counter(a.name for a in authors), sent
    for message in messages:
        stored = OutboxModel.get(message.id, consistent_read=True)
        assert stored.status == "sent" and stored.lease_token is None, (message.id, stored.status)
