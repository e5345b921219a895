"""``Idempotency-Key``: the same key from the same user within 24 h gets the first answer and changes nothing.

The record (request hash, status, the answer) is written as ONE MORE ITEM of the change's own transaction,
conditioned on not existing (or being expired): a change with a key is still one write call, and there is no
moment where the change is done but its answer is lost. So the answer is built before the commit, and
``Tx.commit(answer=...)`` hands it to the open ``Slot`` of this request (a ``tx.Rider``), which renders it and adds
the record to that transaction.

- Before the route runs, the middleware reads the record together with the caller (one BatchGetItem): a
  finished first request is replayed from it (one read, no write); another body under the same key is 409.
- Two copies racing past that read: the loser's transaction fails on the record's condition, and the winner's
  stored answer is replayed (``Slot.replay``) — its change was never applied.
- A refusal (4xx) writes nothing else, so its answer is stored by one conditional Put after the route
  (``store_after``): the same key keeps getting the same refusal, as the contract says.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ...domain.errors import DomainError, IdempotencyKeyReused, RequestInProgress
from . import tx
from .models import IdempotencyModel


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    content_type: str | None


class ReplayStored(DomainError):
    """The same request committed first under this key (internal: the middleware answers ``Slot.replay``)."""
    status, code = 409, "REPLAYED"


@dataclass
class Slot:
    """The Idempotency-Key of the request being served; ``render`` turns a use case's answer into the response."""
    record_id: str
    request_hash: str
    ttl_seconds: int
    render: Callable[[Any], StoredResponse] = field(repr=False)
    stored: bool = False
    replay: StoredResponse | None = None

    def ride(self, transaction: tx.Tx, answer: Any) -> bool:
        """The record holding ``answer``: one more item of the change's transaction (not once it is stored)."""
        if self.stored:
            return False
        record, condition, taken = record_for(self, answer)
        transaction.put(record, condition=condition, error=taken)
        return True

    def landed(self) -> None:
        self.stored = True


def record_id(user_id: str, key: str) -> str:
    return f"{user_id}#{key}"


def open_slot(slot: Slot):
    """The request's commits carry ``slot`` from now on (until ``close_slot``)."""
    return tx.board(slot)


def close_slot(token) -> None:
    tx.alight(token)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def stored_answer(record: IdempotencyModel | None, request_hash: str) -> StoredResponse | None:
    """The first answer under this key, None if there is none yet; 409 if the key named another request."""
    if record is None or record.expires_at <= _now() or record.response_status is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return StoredResponse(int(record.response_status), record.response_body or "", record.response_content_type)


def _free():
    return IdempotencyModel.id.does_not_exist() | (IdempotencyModel.expires_at < _now())


def _record(slot: Slot, response: StoredResponse) -> IdempotencyModel:
    return IdempotencyModel(slot.record_id, request_hash=slot.request_hash, response_status=response.status,
                            response_body=response.body, response_content_type=response.content_type,
                            expires_at=timedelta(seconds=slot.ttl_seconds))


def record_for(slot: Slot, answer: Any) -> tuple[IdempotencyModel, Any, Callable]:
    """The record holding ``answer``, its condition, and what its failure means (for ``Slot.ride``)."""
    record = _record(slot, slot.render(answer))

    def taken(current: IdempotencyModel | None) -> DomainError:
        slot.replay = stored_answer(current, slot.request_hash)  # 409 REUSED if another body took the key
        return ReplayStored() if slot.replay is not None else RequestInProgress()
    return record, _free(), taken


def store_after(slot: Slot, response: StoredResponse) -> None:
    """Store the answer of a request that committed nothing under this key (a refusal): one conditional Put."""
    try:
        tx.conditional_put(_record(slot, response), condition=_free(), error=ReplayStored())
    except ReplayStored:  # a copy of this request answered first: its answer stays
        pass
    slot.stored = True
