"""Subscription quotas (订阅消息的授权次数) and what did not arrive.

WeChat counts one send per accept of a one-time subscription: after ``wx.requestSubscribeMessage`` the mini-program
reports the template ids the user accepted, and each adds one to the counter ``quota#<user>#<template id>``; each
send takes one (``sender._claim``). A template's quota holds at most ``QUOTA_MAX`` sends: accepts reported beyond it
are not counted (one conditional update per template, conditioned on the cap). ``GET /v1/me/subscriptions`` tells
the mini-program which templates relevant to the user's roles have none left, so it knows what to ask for next.
"""
from __future__ import annotations

from collections import Counter

from ...adapters.dynamo import batch
from ...adapters.dynamo.guards import check_active
from ...adapters.dynamo.models import CounterModel, OutboxModel, UserModel
from ...adapters.dynamo.tx import Tx
from ...domain import push as rules
from ...domain.access import Principal, Role, require_role
from ...domain.clock import to_api
from ...domain.errors import DomainError, StorageBusy, ValidationFailed
from ...wiring import Container
from .. import paging
from ..access import current_user
from .sender import quota_key
from ...domain.text import DEFAULT_NICKNAME

# Sends one template's quota holds at most: a client reporting accepts in a loop cannot pile up a count no one
# will ever use (WeChat's own count of one-time accepts is the real limit; ours only saves calls it would refuse).
QUOTA_MAX = 100
QUOTA_ROUNDS = 5  # another report of the same user landing between our read and our write: read again


class _QuotaMoved(DomainError):
    """A quota grew between the read and the write (internal: read again and rebuild)."""


def _view(container: Container, roles: set[str], counts: dict[str, int]) -> dict:
    templates = container.settings.wechat_templates
    items = [{"kind": kind, "template_id": templates[kind], "remaining": counts.get(templates[kind], 0)}
             for kind in rules.kinds_for(roles) if templates.get(kind)]
    ask = list(dict.fromkeys(item["template_id"] for item in items if item["remaining"] < 1))
    return {"items": items, "ask": ask}


def _counts(user_id: str, template_ids: list[str]) -> dict[str, int]:
    found = batch.get_many(*[(CounterModel, quota_key(user_id, tid)) for tid in template_ids])
    return {tid: max(int(item.n or 0), 0) for tid, item in zip(template_ids, found) if item is not None}


def subscriptions(container: Container, principal: Principal) -> dict:
    me = current_user(principal)
    roles = set(me.roles or ()) | {Role.RESIDENT.value}
    ids = sorted({container.settings.wechat_templates[k] for k in rules.kinds_for(roles)
                  if container.settings.wechat_templates.get(k)})
    return _view(container, roles, _counts(me.id, ids) if ids else {})


def accept(container: Container, principal: Principal, template_ids: list[str]) -> dict:
    """One more send for each template id accepted (an id twice: two more), up to ``QUOTA_MAX`` a template.

    The read chooses how much each quota can still take; the update adds that much on the condition that the
    quota is still low enough to take it (``n <= QUOTA_MAX - added``), so no interleaving of reports ever stores
    more than the cap (a send lowers it; only a failed send's unit given back meanwhile can pass it, by the sends in
    flight). A report that lost that race reads again."""
    known = set(container.settings.wechat_templates.values())
    unknown = sorted(set(template_ids) - known)
    if unknown:
        raise ValidationFailed("不认识的订阅消息模板", details={"field": "accepted", "unknown": unknown})
    me = current_user(principal)
    roles = set(me.roles or ()) | {Role.RESIDENT.value}
    reported = Counter(template_ids)
    relevant = sorted({container.settings.wechat_templates[k] for k in rules.kinds_for(roles)
                       if container.settings.wechat_templates.get(k)} | set(reported))
    for _ in range(QUOTA_ROUNDS):
        counts = _counts(me.id, relevant)
        tx = check_active(Tx(), me.id)
        for tid, n in sorted(reported.items()):
            room = QUOTA_MAX - counts.get(tid, 0)
            added = min(n, room) if room > 0 else 0
            if added:
                tx.update(CounterModel(quota_key(me.id, tid)), [CounterModel.n.add(added)],
                          condition=CounterModel.n.does_not_exist() | (CounterModel.n <= QUOTA_MAX - added),
                          error=_QuotaMoved())
                counts[tid] = counts.get(tid, 0) + added
        answer = _view(container, roles, counts)
        try:
            tx.commit(answer)
            return answer
        except _QuotaMoved:
            continue
    raise StorageBusy()


def present_problem(message: OutboxModel, nicknames: dict[str, str | None]) -> dict:
    return {"id": message.id, "recipient": {"id": message.recipient_id,
                                            "nickname": nicknames.get(message.recipient_id) or DEFAULT_NICKNAME},
            "kind": message.kind, "status": message.status, "reason": message.reason,
            "errcode": int(message.errcode) if message.errcode is not None else None,
            "attempts": int(message.attempts or 0), "created_at": to_api(message.created_at),
            "updated_at": to_api(message.updated_at)}


def problems(principal: Principal, status: str, *, limit: int, cursor: str | None) -> dict:
    """Messages of the community that were skipped or failed, newest first, so an admin can ask a grid worker who
    never subscribed to do so (one Query, and the page's names in one BatchGetItem)."""
    grant = require_role(principal, Role.ADMIN)
    key = f"{grant.community_id}#{status}"

    def present(items: list[OutboxModel]) -> list[dict]:
        people = sorted({m.recipient_id for m in items})
        found = batch.get_many(*[(UserModel, uid) for uid in people]) if people else []
        names = {user.id: user.nickname for user in found if user is not None}
        return [present_problem(m, names) for m in items]

    return paging.page(lambda **kw: OutboxModel.by_problem.query(key, scan_index_forward=False, **kw), limit, cursor,
                       present, scope=f"problems:{key}", model=OutboxModel)
