"""The outbox sender (订阅消息): each message claimed once, sent at most once per claim, its outcome recorded.

A delivery is three steps, each one DynamoDB write at most:
1. read the message, its recipient and the recipient's quota for the template (one BatchGetItem);
2. claim: ONE transaction — the message ``pending → sending`` with a lease (condition: still pending as read, or its
   lease expired) and the quota ``- 1`` (condition: ``≥ 1``; no quota → ``skipped`` without calling WeChat);
3. call WeChat, then record the outcome conditioned on holding the lease: ``sent``; ``skipped`` (43101);
   ``failed`` (40003, 40037, 41030, 47003 — permanent; the quota given back); or ``pending`` again with a jittered
   ``next_attempt_at`` (no answer, -1, 45009, anything else — the quota given back), ``failed`` after
   ``MAX_ATTEMPTS``.

Two senders never send one message: only one claim can succeed. WeChat has no idempotency key, so a duplicate is
still possible in one window only: WeChat accepted the send but its answer never reached us (a timeout after
WeChat processed it, or the sender died between WeChat's answer and step 3's write). The message then goes back to
pending (or its lease expires) and is sent again. The window is the request timeout (3 s) plus the one write.
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import datetime, timedelta

from ... import metrics
from ...adapters.dynamo import batch
from ...adapters.dynamo.models import CounterModel, OutboxModel, UserModel
from ...adapters.dynamo.tx import Tx
from ...domain import push as rules
from ...domain.clock import utcnow
from ...domain.errors import DomainError
from ...wiring import Container
from .. import notifications
from .metrics import count

log = logging.getLogger(__name__)

FINAL = ("sent", "skipped", "failed")
# The scheduler function has 60 s; the sweep is its last step and WeChat's timeout is 3 s a call.
SWEEP_BUDGET_SECONDS = 30.0
# A message due this long and still not sent, skipped or failed after the sweep tried it is the outbox's backlog
# (``outbox_backlog``); younger ones are the stream's, in flight.
BACKLOG_AFTER = timedelta(minutes=1)


class _Lost(DomainError):
    """Another sender claimed the message, or it changed since read (internal)."""


class _NoQuota(DomainError):
    """The recipient's quota for the template ran out between read and claim (internal)."""


def quota_key(user_id: str, template_id: str) -> str:
    return f"quota#{user_id}#{template_id}"


def deliver(container: Container, message_id: str, now: datetime | None = None) -> str:
    try:
        message = OutboxModel.get(message_id, consistent_read=True)
    except OutboxModel.DoesNotExist:
        return "done"
    return deliver_item(container, message, now or utcnow())


def deliver_written(container: Container, image: dict, now: datetime | None = None) -> str:
    """A message as a stream record's new image shows it (DynamoDB's JSON): delivered without reading it again."""
    return deliver_item(container, OutboxModel.from_raw_data(image), now or utcnow())


def deliver_item(container: Container, message: OutboxModel, now: datetime) -> str:
    """One message, as read: its outcome (``sent``, ``skipped``, ``failed``, ``retry``, or ``busy``/``done``/
    ``not_due`` when there was nothing for this sender to do)."""
    if message.status in FINAL or message.status in ("fanout", "expanded"):
        return "done"
    if message.status == "sending" and message.lease_until is not None and message.lease_until > now:
        return "busy"
    if message.status == "pending" and message.next_attempt_at is not None and message.next_attempt_at > now:
        return "not_due"
    settings = container.settings
    template = rules.TEMPLATES.get(message.kind)
    template_id = settings.wechat_templates.get(message.kind)
    keywords = settings.wechat_template_keywords.get(message.kind)
    if template is None or not template_id or not keywords:
        return _finish_unclaimed(message, "skipped", "no_template" if template else "unknown_kind", now)
    user, quota = batch.get_many((UserModel, message.recipient_id),
                                 (CounterModel, quota_key(message.recipient_id, template_id)))
    if user is not None and user.status == "active" and user.managed:
        return _finish_unclaimed(message, "skipped", "no_wechat", now)  # 代办: a resident served in person
    if user is None or user.status != "active" or not user.openid:
        return _finish_unclaimed(message, "skipped", "user_gone", now)
    # A claim left by a sender that died still holds the one quota unit it took: taking it over takes no other.
    taken_over = message.status == "sending"
    if not taken_over and (quota is None or int(quota.n or 0) < 1):
        return _finish_unclaimed(message, "skipped", "no_quota", now)
    token = uuid.uuid4().hex
    lease_until = now + timedelta(seconds=rules.LEASE_SECONDS)
    try:
        _claim(message, template_id, token, lease_until, now, take_quota=not taken_over)
    except _NoQuota:
        return _finish_unclaimed(message, "skipped", "no_quota", now)
    except _Lost:
        return "busy"
    fields = template.fields(message.data or {}, message.created_at, keywords)
    result = container.wechat.deliver_subscribe(user.openid, template_id, fields, message.page,
                                                state=settings.miniprogram_state, lang=settings.wechat_lang)
    attempts = int(message.attempts or 0) + 1
    if result.errcode == 0:
        outcome, reason, give_back = "sent", None, False
    elif result.errcode == rules.NO_QUOTA_ERRCODE:
        outcome, reason, give_back = "skipped", "no_quota", False  # WeChat says none left: ours was wrong
        _forget_quota(message.recipient_id, template_id)
    elif result.errcode in rules.PERMANENT_ERRCODES:
        outcome, reason, give_back = "failed", result.errmsg or rules.PERMANENT_ERRCODES[result.errcode], True
    elif attempts >= rules.MAX_ATTEMPTS:
        outcome, reason, give_back = "failed", "gave_up", True
    else:
        outcome, reason, give_back = "retry", result.errmsg or str(result.errcode), True
    _record(message, token, outcome, reason, result, attempts, template_id, give_back, now)
    count(outcome)
    log.info("message " + outcome, extra={"message_id": message.id, "kind": message.kind,
                                           "user_id": message.recipient_id, "errcode": result.errcode,
                                           "attempts": attempts})
    return outcome


def _claim(message: OutboxModel, template_id: str, token: str, lease_until: datetime, now: datetime, *,
           take_quota: bool) -> None:
    as_read = (OutboxModel.status == message.status) & (OutboxModel.attempts == int(message.attempts or 0))
    if message.status == "sending":
        as_read &= OutboxModel.lease_until < now
    tx = Tx()
    tx.update(OutboxModel(message.id), [
        OutboxModel.status.set("sending"), OutboxModel.lease_token.set(token), OutboxModel.lease_until.set(lease_until),
        OutboxModel.template_id.set(template_id), OutboxModel.updated_at.set(now),
        # On the sweep's index until the lease ends: a sender that dies mid-send is found again then.
        OutboxModel.retry_shard.set(rules.retry_shard(message.id)), OutboxModel.next_attempt_at.set(lease_until),
    ], condition=as_read, error=_Lost())
    if take_quota:
        tx.update(CounterModel(quota_key(message.recipient_id, template_id)), [CounterModel.n.add(-1)],
                  condition=CounterModel.n >= 1, error=_NoQuota())
    tx.commit()


def final_expiry(now: datetime) -> datetime:
    """When DynamoDB may delete an item that became final ``now`` (its TTL)."""
    return now + timedelta(days=rules.FINAL_KEPT_DAYS)


def _record(message: OutboxModel, token: str, outcome: str, reason: str | None, result, attempts: int,
            template_id: str, give_back: bool, now: datetime) -> None:
    actions = [OutboxModel.attempts.set(attempts), OutboxModel.updated_at.set(now), OutboxModel.lease_token.remove(),
               OutboxModel.lease_until.remove(),
               OutboxModel.errcode.set(result.errcode) if result.errcode else OutboxModel.errcode.remove()]
    if reason:
        actions.append(OutboxModel.reason.set(reason))
    if outcome == "retry":
        wait = rules.backoff_seconds(attempts, random.random())
        actions += [OutboxModel.status.set("pending"), OutboxModel.next_attempt_at.set(now + timedelta(seconds=wait))]
    else:
        actions += [OutboxModel.status.set(outcome), OutboxModel.retry_shard.remove(),
                    OutboxModel.next_attempt_at.remove(), OutboxModel.expires_at.set(final_expiry(now))]
        if outcome == "sent":
            actions += [OutboxModel.sent_at.set(now), OutboxModel.reason.remove()]
            if result.msgid:
                actions.append(OutboxModel.msgid.set(result.msgid))
        elif message.community_id:
            actions.append(OutboxModel.problem_key.set(f"{message.community_id}#{outcome}"))
    tx = Tx().update(OutboxModel(message.id), actions, condition=OutboxModel.lease_token == token, error=_Lost())
    if give_back:  # WeChat did not take it: the user's accept still stands for the next try
        tx.update(CounterModel(quota_key(message.recipient_id, template_id)), [CounterModel.n.add(1)])
    try:
        tx.commit()
    except _Lost:  # our lease ran out and another sender took it over: its outcome stands
        log.warning("message outcome lost its lease", extra={"message_id": message.id, "outcome": outcome})


def _finish_unclaimed(message: OutboxModel, outcome: str, reason: str, now: datetime) -> str:
    """Skip without sending (no quota, no template, the user gone): one conditional write on the message."""
    as_read = (OutboxModel.status == message.status) & (OutboxModel.attempts == int(message.attempts or 0))
    actions = [OutboxModel.status.set(outcome), OutboxModel.reason.set(reason), OutboxModel.updated_at.set(now),
               OutboxModel.retry_shard.remove(), OutboxModel.next_attempt_at.remove(),
               OutboxModel.lease_token.remove(), OutboxModel.lease_until.remove(),
               OutboxModel.expires_at.set(final_expiry(now))]
    if message.community_id:
        actions.append(OutboxModel.problem_key.set(f"{message.community_id}#{outcome}"))
    try:
        Tx().update(OutboxModel(message.id), actions, condition=as_read, error=_Lost()).commit()
    except _Lost:
        return "busy"
    count(outcome)
    log.info("message " + outcome, extra={"message_id": message.id, "kind": message.kind,
                                           "user_id": message.recipient_id, "reason": reason})
    return outcome


def _forget_quota(user_id: str, template_id: str) -> None:
    """WeChat says the user has no subscription left for the template: so do we, until they accept again."""
    try:
        Tx().update(CounterModel(quota_key(user_id, template_id)), [CounterModel.n.set(0)]).commit()
    except DomainError:
        pass


def sweep(container: Container, now: datetime | None = None, budget_seconds: float | None = None) -> dict:
    """The scheduler's step: fan-outs waiting are expanded, then every message due — new ones the stream missed,
    retries whose backoff ended, claims whose lease ran out — is delivered, oldest due first, for at most
    ``budget_seconds`` (a run must end within the function's timeout even if WeChat hangs on every call; what is
    left stays due for the next run). Its metrics: ``outbox_due`` (found due), ``outbox_backlog`` (of those, due for
    over ``BACKLOG_AFTER`` and still not final after this run) and ``outbox_sweep_unfinished`` (ran out of time)."""
    now = now or utcnow()
    stop_at = time.monotonic() + (SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds)
    done: dict[str, int] = {"expanded": notifications.expand_fanouts()["messages"]}
    now = max(now, utcnow())  # the messages just expanded are due too
    due = backlog = 0  # the outbox's metrics: messages found due, and those of them still not final after
    for shard in range(rules.RETRY_SHARDS):
        if done.get("left_for_next_run"):
            break
        for message in OutboxModel.by_retry.query(f"retry#{shard}", OutboxModel.next_attempt_at <= now):
            if time.monotonic() > stop_at:  # out of time: what is left stays due for the next run
                done["left_for_next_run"] = 1
                backlog += 1  # at least this one (the backlog is then a lower bound)
                break
            due += 1
            try:
                outcome = deliver_item(container, message, now)
            except DomainError:  # storage busy: the message stays due for the next run
                outcome = "busy"
            done[outcome] = done.get(outcome, 0) + 1
            if outcome not in FINAL and outcome != "done" and message.next_attempt_at <= now - BACKLOG_AFTER:
                backlog += 1
    metrics.count("outbox_due", due)
    metrics.count("outbox_backlog", backlog)
    metrics.count("outbox_sweep_unfinished", done.get("left_for_next_run", 0))
    return done
