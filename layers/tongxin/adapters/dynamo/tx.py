"""One DynamoDB transaction (or one conditional write) whose failed conditions become domain errors.

Each operation names the domain error its condition stands for. DynamoDB reports cancellation reasons in
the order PynamoDB sends the operations (condition checks, deletes, puts, updates), not the order they
were added; ``Tx`` keeps the same grouping to map a reason back to its operation.

A condition failure is an answer (409 and friends), never retried. Transaction conflicts and
throttling are retried with full-jitter backoff, then reported as ``StorageBusy`` (503).

Every write is a TransactWriteItems, single-item writes included, each attempt with its own
ClientRequestToken: when botocore re-sends an attempt that timed out after it took effect, DynamoDB recognises
the token and answers success without applying it again — a plain conditional write would fail its own
condition and tell the user 409 for a change that succeeded.

``commit(answer=...)`` is the request's change: what rides with the request (``board``) adds its items to that same
transaction — the Idempotency-Key record holding the answer (``idempotency.Slot``); with staff acting for a managed
resident (代办), the actor's grant check and the proxy-log entry (``acting.Acting``). This module knows them only as
riders: they import it, it imports neither.
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Union

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ...domain.errors import Conflict, DomainError, StorageBusy
from . import binding

log = logging.getLogger(__name__)

# What a failed condition means: a fixed error, or a function of the item as it stood (None if absent).
ErrorFor = Union[DomainError, Callable[[Any], DomainError], None]

RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                     "RequestLimitExceeded", "InternalServerError"}
RETRYABLE_CODES = RETRYABLE_REASONS | {"ThrottlingException", "ProvisionedThroughputExceededException",
                                       "TransactionInProgressException", "InternalServerError"}
MAX_ATTEMPTS = 5
# A call throttled at the request level was already tried binding.BOTOCORE_ATTEMPTS times by botocore: one more
# round is all a user can wait for (two rounds of botocore's waits stay far below the API function's timeout).
THROTTLED_CODES = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
MAX_THROTTLED_ATTEMPTS = 2
BACKOFF_BASE_SECONDS = 0.05
NO_ANSWER = object()


@dataclass
class _Op:
    kind: str  # check | delete | put | update
    model_cls: type[Model]
    hash_key: Any
    range_key: Any
    error: ErrorFor
    apply: Callable[[TransactWrite], None]


class Rider(Protocol):
    """Something of the request that rides in the commit of its change (``Tx.commit(answer=...)``)."""

    def ride(self, tx: "Tx", answer: Any) -> bool:
        """Add this rider's items to ``tx`` for the request's ``answer``; False: nothing to add (already landed)."""

    def landed(self) -> None:
        """Its items were committed."""


_riders: ContextVar[tuple[Rider, ...]] = ContextVar("tx_riders", default=())


def board(rider: Rider) -> Token:
    """``rider`` rides in this request's commits from now on (until ``alight``), after those aboard already."""
    return _riders.set(_riders.get() + (rider,))


def alight(token: Token) -> None:
    _riders.reset(token)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, BACKOFF_BASE_SECONDS * (2 ** attempt)))


def _keys(model: Model) -> tuple[Any, Any]:
    hash_attr, range_attr = model._hash_key_attribute(), model._range_key_attribute()
    return getattr(model, hash_attr.attr_name), (getattr(model, range_attr.attr_name) if range_attr else None)


def _resolve(error: ErrorFor, model_cls: type[Model], hash_key: Any, range_key: Any, raw: dict | None) -> DomainError:
    if error is None:
        return Conflict()
    if isinstance(error, DomainError):
        return error
    if raw:
        current = model_cls.from_raw_data(raw)
    else:  # the error depends on the item: read it (for the answer only, nothing is written after)
        try:
            current = model_cls.get(hash_key, range_key, consistent_read=True)
        except DoesNotExist:
            current = None
    return error(current)


class Tx:
    """Collects operations and commits them as ONE TransactWriteItems."""

    def __init__(self) -> None:
        self._ops: list[_Op] = []

    def __len__(self) -> int:
        return len(self._ops)

    def check(self, model_cls: type[Model], hash_key: Any, range_key: Any = None, *, condition, error: ErrorFor) -> "Tx":
        self._ops.append(_Op("check", model_cls, hash_key, range_key, error,
                             lambda t: t.condition_check(model_cls, hash_key, range_key, condition=condition)))
        return self

    def put(self, model: Model, *, condition=None, error: ErrorFor = None) -> "Tx":
        hk, rk = _keys(model)
        self._ops.append(_Op("put", type(model), hk, rk, error,
                             lambda t: t.save(model, condition=condition, return_values="ALL_OLD")))
        return self

    def update(self, model: Model, actions: list, *, condition=None, error: ErrorFor = None) -> "Tx":
        hk, rk = _keys(model)
        self._ops.append(_Op("update", type(model), hk, rk, error,
                             lambda t: t.update(model, actions, condition=condition, return_values="ALL_OLD")))
        return self

    def delete(self, model: Model, *, condition=None, error: ErrorFor = None) -> "Tx":
        hk, rk = _keys(model)
        self._ops.append(_Op("delete", type(model), hk, rk, error,
                             lambda t: t.delete(model, condition=condition, add_version_condition=False)))
        return self

    def _in_wire_order(self) -> list[_Op]:
        order = {"check": 0, "delete": 1, "put": 2, "update": 3}
        return sorted(self._ops, key=lambda op: order[op.kind])  # sorted() is stable within a group

    def commit(self, answer: Any = NO_ANSWER) -> None:
        """Commit as one TransactWriteItems. ``answer`` is what the request will answer if this commit is its
        change: the request's riders (its Idempotency-Key record, 代办's grant check and log entry) add their items
        to this same transaction, in the order they boarded."""
        riding = [rider for rider in _riders.get() if rider.ride(self, answer)] if answer is not NO_ANSWER else []
        if not self._ops:
            return
        throttled = 0
        for attempt in range(MAX_ATTEMPTS):
            try:
                # A token per attempt: botocore's own re-sends of this attempt reuse it (DynamoDB de-duplicates),
                # our retries after a cancellation are new attempts.
                with TransactWrite(connection=binding.connection(), client_request_token=uuid.uuid4().hex) as tw:
                    for op in self._ops:
                        op.apply(tw)
                for rider in riding:
                    rider.landed()
                return
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                codes = [r.code if r else "None" for r in reasons]
                if exc.cause_response_code == "TransactionCanceledException":
                    for op, reason in zip(self._in_wire_order(), reasons):
                        if reason is not None and reason.code == "ConditionalCheckFailed":
                            raise _resolve(op.error, op.model_cls, op.hash_key, op.range_key, reason.raw_item) from None
                    if not any(code in RETRYABLE_REASONS for code in codes):
                        raise
                elif exc.cause_response_code not in RETRYABLE_CODES:
                    raise
                throttled += exc.cause_response_code in THROTTLED_CODES
                if throttled >= MAX_THROTTLED_ATTEMPTS or attempt + 1 == MAX_ATTEMPTS:
                    break  # no pause before giving up: the user's 503 goes out at once
                log.warning("transaction retried", extra={"attempt": attempt + 1, "reasons": codes,
                                                          "cause": exc.cause_response_code})
                _backoff(attempt)
        raise StorageBusy()


def storage_refusal(exc: BaseException) -> StorageBusy | None:
    """A DynamoDB refusal that outlived the retries (throttling, a conflict, DynamoDB unreachable), raised as
    PynamoDB's or botocore's own error by a read or a plain write: the 503 it stands for (None: not one)."""
    from botocore.exceptions import ClientError, ConnectionError as EndpointUnreachable, ReadTimeoutError
    from pynamodb.exceptions import PynamoDBException
    seen = exc
    for _ in range(4):  # PynamoDB wraps botocore's error: look through the causes
        if isinstance(seen, (EndpointUnreachable, ReadTimeoutError)):
            return StorageBusy()
        code = None
        if isinstance(seen, PynamoDBException):
            code = seen.cause_response_code
        elif isinstance(seen, ClientError):
            code = seen.response.get("Error", {}).get("Code")
        if code in RETRYABLE_CODES:
            return StorageBusy()
        seen = seen.__cause__ or seen.__context__
        if seen is None:
            break
    return None


def conditional_put(model: Model, *, condition, error: ErrorFor, answer: Any = NO_ANSWER) -> None:
    """One conditional Put, as a one-item transaction (see the module's note on tokens)."""
    Tx().put(model, condition=condition, error=error).commit(answer)


def conditional_update(model: Model, actions: list, *, condition, error: ErrorFor, answer: Any = NO_ANSWER) -> None:
    """One conditional update, as a one-item transaction. Nothing is read back: build answers from what you wrote."""
    Tx().update(model, actions, condition=condition, error=error).commit(answer)


def conditional_delete(model: Model, *, condition, error: ErrorFor, answer: Any = NO_ANSWER) -> None:
    Tx().delete(model, condition=condition, error=error).commit(answer)
