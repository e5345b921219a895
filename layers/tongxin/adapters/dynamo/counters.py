"""Counters written inside the caller's transaction, so they cost no write call of their own.

- Period counters with a cap (fairness: wishes published per day, wish points per claimer per day and per
  author–claimer pair per month): the cap is the update's condition, so the count never passes it whatever the
  concurrency.
- Rate limits over a short window (a store keeper's failed pickup codes: ``window``): the window is part of the
  key and the item expires with it, so counting is the same capped ``bump``.
- Statistics (``add``/``read_sums``): many named counts on one item per bucket, read back by the bucket.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pynamodb.expressions.operand import Path, Value

from ...domain.errors import DomainError
from ...domain.stats import add_up
from .models import CounterModel
from .tx import Tx


def bump(tx: Tx, key: str, *, cap: int, expires_at: datetime, error: DomainError) -> Tx:
    """Add 1 to ``key`` in ``tx`` if it is below ``cap``; otherwise the transaction fails with ``error``."""
    return tx.update(CounterModel(key), [CounterModel.n.add(1), CounterModel.expires_at.set(expires_at)],
                     condition=CounterModel.n.does_not_exist() | (CounterModel.n < cap), error=error)


def add_capped(tx: Tx, key: str, amount: int, *, cap: int, expires_at: datetime | None, error: DomainError) -> Tx:
    """Add ``amount`` to ``key`` in ``tx`` if the total stays within ``cap`` (an awarder's points of the day, a
    user's allowance of a goods item); otherwise the transaction fails with ``error``."""
    if amount > cap:  # no count can take it
        raise error
    actions = [CounterModel.n.add(amount)]
    if expires_at is not None:
        actions.append(CounterModel.expires_at.set(expires_at))
    return tx.update(CounterModel(key), actions,
                     condition=CounterModel.n.does_not_exist() | (CounterModel.n <= cap - amount), error=error)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def window(prefix: str, now: datetime, length: timedelta) -> tuple[str, datetime]:
    """The key of the fixed window of ``length`` that holds ``now`` (windows start at whole multiples of ``length``
    since the epoch: 10-minute windows at …:00, …:10, … UTC) and when that window ends (the item's expiry)."""
    size = int(length.total_seconds())
    start = int((now - _EPOCH).total_seconds()) // size * size
    return f"{prefix}#{start}", _EPOCH + timedelta(seconds=start + size)


def current(counter: CounterModel | None, now: datetime) -> int:
    """The count of an item already read (0 when absent or expired)."""
    if counter is None or (counter.expires_at is not None and counter.expires_at <= now):
        return 0
    return int(counter.n or 0)


def add(tx: Tx, key: str, deltas: dict[str, int]) -> Tx:
    """Add ``deltas`` (attribute name → amount) to the counter item ``key`` in ``tx`` (statistics: no cap, no
    expiry). The names are data (``s:open``, ``c:维修``), so they are written as raw paths."""
    if deltas:
        tx.update(CounterModel(key), [Path(name).add(Value({"N": str(amount)})) for name, amount in sorted(deltas.items())])
    return tx


def read_items(keys: list[str]) -> dict[str, dict[str, int]]:
    """The counted names of each counter item of ``keys`` that exists (key → name → count), in the keys' order: one
    BatchGetItem per 100 keys."""
    from .batch import MAX_KEYS, get_raw_many
    found: dict[str, dict[str, int]] = {}
    for first in range(0, len(keys), MAX_KEYS):
        for item in get_raw_many(CounterModel, keys[first:first + MAX_KEYS]):
            found[item["key"]["S"]] = {name: int(value["N"]) for name, value in item.items()
                                       if ":" in name and "N" in value}
    return {key: found[key] for key in keys if key in found}


def read_sums(keys: list[str]) -> dict[str, int]:
    """The sum over the counter items ``keys`` of each counted name (one BatchGetItem for up to 100 keys)."""
    return add_up(read_items(keys).values())
