"""Period counters with a cap, bumped inside the caller's transaction (fairness caps: wishes published per day,
wish points per claimer per day and per author–claimer pair per month).

The cap is the update's condition, so the count never passes it whatever the concurrency, and the bump costs no
write call of its own.
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ...domain.errors import DomainError
from .models import CounterModel
from .tx import Tx


def bump(tx: Tx, key: str, *, cap: int, expires_at: datetime, error: DomainError) -> Tx:
    """Add 1 to ``key`` in ``tx`` if it is below ``cap``; otherwise the transaction fails with ``error``."""
    return tx.update(CounterModel(key), [CounterModel.n.add(1), CounterModel.expires_at.set(expires_at)],
                     condition=CounterModel.n.does_not_exist() | (CounterModel.n < cap), error=error)


def value(key: str, now: datetime) -> int:
    """The count as stored (0 when absent or expired: DynamoDB's TTL deletes lazily)."""
    try:
        counter = CounterModel.get(key, consistent_read=True)
    except DoesNotExist:
        return 0
    if counter.expires_at is not None and counter.expires_at <= now:
        return 0
    return int(counter.n or 0)
