"""The 积分存折 primitive shared by every area that credits or debits points.

``append`` adds, to a caller's transaction, the source-keyed ledger entry and the balance update:
the entry's Put carries ``attribute_not_exists`` (a source is credited once, ever) and the balance's
update carries ``points_balance = <value read>``, so balance == sum(ledger) holds at every commit.
``run_with_balance`` reads the balance, lets the caller build the transaction, and rebuilds it if the
balance moved in between (another credit or debit of the same user committed first).
"""
from __future__ import annotations

from typing import Any, Callable

from ..adapters.dynamo.models import LedgerEntryModel, UserModel
from ..adapters.dynamo.tx import NO_ANSWER, Tx
from ..domain.clock import utcnow
from ..domain.errors import DomainError, StorageBusy, Unauthenticated
from ..domain.ids import new_id
from ..domain.points import balance_after

MAX_BALANCE_RACES = 8


class _BalanceMoved(DomainError):
    """The balance changed between read and commit (internal: the transaction is rebuilt)."""


def append(tx: Tx, *, user_id: str, balance_before: int, amount: int, source_key: str, kind: str, source: str,
           note: str | None, community_id: str | None, duplicate_error: DomainError,
           also_user_actions: tuple = (), user_condition=None) -> LedgerEntryModel:
    """``also_user_actions``: more changes to the user item (one transaction may touch an item once), e.g. the
    volunteer minutes a check-out credits with its points; ``user_condition`` more conditions on it."""
    after = balance_after(balance_before, amount)
    entry = LedgerEntryModel(user_id, source_key, id=new_id("pt"), kind=kind, amount=amount, balance_after=after,
                             source=source, note=note, community_id=community_id, created_at=utcnow())
    tx.put(entry, condition=LedgerEntryModel.entry_key.does_not_exist(), error=duplicate_error)
    actions = [UserModel.points_balance.set(after), *also_user_actions]
    if amount > 0:
        actions.append(UserModel.earned_total.add(amount))
    condition = UserModel.points_balance == balance_before
    tx.update(UserModel(user_id), actions, condition=condition if user_condition is None else condition & user_condition,
              error=_moved_or(user_condition, user_id))
    return entry


def _moved_or(user_condition, user_id: str):
    """With only the balance as condition, its failure means the balance moved; with more, look at the user."""
    if user_condition is None:
        return _BalanceMoved()

    def classify(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active":
            return Unauthenticated("账号已注销，请重新登录")
        return _BalanceMoved()
    return classify


def current_balance(user_id: str) -> int:
    try:
        user = UserModel.get(user_id, consistent_read=True, attributes_to_get=["points_balance"])
    except UserModel.DoesNotExist:
        raise Unauthenticated() from None
    return int(user.points_balance or 0)


def run_with_balance(user_id: str, build: Callable[[int], Tx], answer: Any = NO_ANSWER) -> None:
    """Commit ``build(balance)``; rebuild it with a fresh balance if the balance moved meanwhile. ``answer`` is
    the request's answer (see ``Tx.commit``); ``build`` may fill it in."""
    for _ in range(MAX_BALANCE_RACES):
        tx = build(current_balance(user_id))
        try:
            tx.commit(answer)
            return
        except _BalanceMoved:
            continue
    raise StorageBusy()
