"""代办: a request in which staff act for a managed resident (a principal, not a bypass).

The resident's own use case runs with the resident as its principal (the subject); this request's ``Acting`` slot
names the actor (the staff member, the grant they act under) and why. The slot rides with the request (a
``tx.Rider``): ``Tx.commit(answer=...)`` — the commit that is the request's change, the one that would also store its
Idempotency-Key answer — adds two items to the SAME transaction whenever a slot is open:

- a ConditionCheck on the actor's user item: they still hold the role (and grid) they act under (403 otherwise);
- the proxy-log entry (``ProxyLogModel``): who, for whom, what, why, when, and the id of what the answer made.

So every proxied use case is covered in one place, a refused action writes no entry (its transaction never
commits), and a done action always has exactly one. The slot is per request (a ContextVar; ``open_slot`` also
boards it onto the request's commits, ``tx.board``, as idempotency's ``Slot`` is).

WeChat needs an openid for its content check (msgSecCheck v2); a managed resident has none, so text typed for them
is checked with the actor's openid (``openid_for``): the staff member typed it and is the one WeChat knows.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...domain.access import Grant
from ...domain.clock import utcnow
from ...domain.ids import new_id
from . import tx
from .guards import check_grant
from .models.audit import time_key
from .models.proxy import ProxyLogModel


@dataclass
class Acting:
    grant: Grant  # the actor's: re-checked in the action's transaction
    actor_nickname: str | None
    actor_openid: str | None
    subject_id: str
    subject_name: str | None
    community_id: str
    kind: str
    reason: str
    target_id: str | None = None
    logged: bool = False

    @property
    def actor_id(self) -> str:
        return self.grant.user_id

    def ride(self, transaction: tx.Tx, answer: Any) -> bool:
        """The actor's grant check and the proxy-log entry, two more items of the action's transaction (once)."""
        if self.logged:
            return False
        check_grant(transaction, self.grant)
        transaction.put(entry(self, answer), condition=ProxyLogModel.log_key.does_not_exist())
        return True

    def landed(self) -> None:
        self.logged = True


_slot: ContextVar[Acting | None] = ContextVar("acting_slot", default=None)


def open_slot(acting: Acting):
    return _slot.set(acting), tx.board(acting)


def close_slot(tokens) -> None:
    slot_token, rider_token = tokens
    tx.alight(rider_token)
    _slot.reset(slot_token)


def actor_for(user_id: str) -> str | None:
    """The staff member acting for ``user_id`` in this request (None: the user acts for themself)."""
    acting = _slot.get()
    return acting.actor_id if acting is not None and acting.subject_id == user_id else None


def openid_for(user_id: str) -> str | None:
    """The openid WeChat's content check is asked with for text written for ``user_id``: the actor's, when staff
    act for them in this request (a managed resident has none)."""
    acting = _slot.get()
    return acting.actor_openid if acting is not None and acting.subject_id == user_id else None


def entry(acting: Acting, answer: Any, now: datetime | None = None) -> ProxyLogModel:
    now = now or utcnow()
    entry_id = new_id("px")
    result_id = answer.get("id") if isinstance(answer, dict) and isinstance(answer.get("id"), str) else None
    return ProxyLogModel(acting.community_id, f"{time_key(now)}#{entry_id}", id=entry_id,
                         subject_key=f"{acting.community_id}#{acting.subject_id}", kind=acting.kind, at=now,
                         actor_id=acting.actor_id, actor_nickname=acting.actor_nickname,
                         actor_role=acting.grant.role, subject_id=acting.subject_id,
                         subject_name=acting.subject_name, target_id=acting.target_id, result_id=result_id,
                         reason=acting.reason)

