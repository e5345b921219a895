"""代办 (proxy actions): staff act for a managed resident who is present, through the resident's OWN use case.

Acting for someone is a principal, not a bypass: each action here reads the resident (one consistent GetItem),
decides whether the caller may act for them (``domain/proxy.check_subject``: 403 for non-staff and for oneself, 404
outside the actor's community or grids, 409 HAS_ACCOUNT for a user with WeChat), then runs the resident's own use
case with the resident as the principal (``access.adopt``: their roles, grid, balance — the same rules, caps and
answers) while this request's ``acting`` slot names the actor. The use case's own commit then carries the actor's
grant check and the proxy-log entry (``adapters/dynamo/acting``): an action refused writes nothing, an action done
has exactly one entry, and the number of transactions is the resident's own.

Cost: the resident's own calls, plus one GetItem of the resident (the caller's read is the actor's).
Content checks (wishes, requests) are asked with the actor's openid (the resident has none).
The ballot needs a bound phone: a managed resident's phone written at registration counts.

``GET /v1/admin/proxy-log``: the community's entries newest first (one Query a page), or one resident's
(``user_id``: one Query of ``by_subject``).
"""
from __future__ import annotations

from typing import Any, Callable

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo import acting
from ..adapters.dynamo.models import ProxyLogModel, UserModel
from ..domain import proxy as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api
from ..domain.proxy import ProxyKind
from ..domain.text import DEFAULT_NICKNAME
from ..wiring import Container
from . import access, ballots, events, paging, points, requests, wishes


def _subject(principal: Principal, user_id: str) -> tuple:
    """(the actor's grant, scoped to the resident's grid; the resident's user item), or the refusal."""
    require_role(principal, *rules.STAFF_ROLES)  # 403 for everyone but the community's staff
    if user_id == principal.user_id:
        raise rules.NOT_FOR_SELF
    try:
        user = UserModel.get(user_id, consistent_read=True)
    except DoesNotExist:
        user = None
    rules.check_subject(principal, None if user is None else rules.Subject(
        user_id=user.id, active=user.status == "active", community_id=user.community_id, grid_id=user.grid_id,
        managed=bool(user.managed), has_wechat=bool(user.openid)))
    grant = require_role(principal, *rules.STAFF_ROLES, grid_id=user.grid_id)
    return grant, user


def _act(principal: Principal, user_id: str, kind: ProxyKind, reason: str, run: Callable[[Principal], Any], *,
         target_id: str | None = None) -> Any:
    grant, user = _subject(principal, user_id)
    actor = access.current_user(principal)  # as the middleware read it: no second read
    slot = acting.Acting(grant=grant, actor_nickname=actor.nickname, actor_openid=actor.openid,
                         subject_id=user.id, subject_name=user.real_name, community_id=user.community_id,
                         kind=kind.value, reason=reason, target_id=target_id)
    subject = access.adopt(user)  # from here the request's caller is the resident (their reads, rules, caps)
    token = acting.open_slot(slot)
    try:
        return run(subject)
    finally:
        acting.close_slot(token)


def publish_wish(container: Container, principal: Principal, user_id: str, *, reason: str, **body) -> dict:
    return _act(principal, user_id, ProxyKind.WISH, reason, lambda subject: wishes.publish(container, subject, **body))


def submit_request(container: Container, principal: Principal, user_id: str, *, reason: str, category: str,
                   content: str, location: dict | None, urgent: bool) -> dict:
    return _act(principal, user_id, ProxyKind.REQUEST, reason, lambda subject: requests.submit(
        container, subject, category=category, content=content, location=location, urgent=urgent))


def sign_up(principal: Principal, user_id: str, event_id: str, *, reason: str) -> dict:
    return _act(principal, user_id, ProxyKind.EVENT_SIGNUP, reason,
                lambda subject: events.sign_up(subject, event_id), target_id=event_id)


def redeem(principal: Principal, user_id: str, *, reason: str, goods_id: str, quantity: int) -> dict:
    return _act(principal, user_id, ProxyKind.REDEMPTION, reason,
                lambda subject: points.redeem(subject, goods_id, quantity), target_id=goods_id)


def cast_ballot(principal: Principal, user_id: str, round_id: str, *, reason: str, project_ids: list[str]) -> dict:
    return _act(principal, user_id, ProxyKind.BALLOT, reason,
                lambda subject: ballots.cast(subject, round_id, project_ids=project_ids), target_id=round_id)


# --- the log ------------------------------------------------------------------------------------------------------

def present_entry(entry: ProxyLogModel) -> dict:
    kind = ProxyKind(entry.kind)
    return {
        "id": entry.id,
        "kind": kind.value,
        "kind_label": rules.KIND_LABELS[kind],
        "at": to_api(entry.at),
        "actor": {"id": entry.actor_id, "nickname": entry.actor_nickname or DEFAULT_NICKNAME},
        "actor_role": entry.actor_role,
        "subject": {"id": entry.subject_id, "real_name": entry.subject_name},
        "target_id": entry.target_id,
        "result_id": entry.result_id,
        "reason": entry.reason,
    }


def proxy_log(principal: Principal, *, user_id: str | None, limit: int, cursor: str | None) -> dict:
    """The community's admin: every proxy action, newest first; ``user_id``: one resident's. One Query a page."""
    grant = require_role(principal, Role.ADMIN)
    cid = grant.community_id
    if user_id:
        key = f"{cid}#{user_id}"

        def query(**kw):
            return ProxyLogModel.by_subject.query(key, scan_index_forward=False, **kw)
        scope = f"proxy-log:{key}"
    else:
        def query(**kw):
            return ProxyLogModel.query(cid, scan_index_forward=False, **kw)
        scope = f"proxy-log:{cid}"
    return paging.page(query, limit, cursor, lambda items: [present_entry(e) for e in items], scope=scope,
                       model=ProxyLogModel)
