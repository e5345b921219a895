"""The 积分存折 primitive shared by every area that credits or debits points.

``append`` adds, to a caller's transaction, the source-keyed ledger entry and the balance update:
the entry's Put carries ``attribute_not_exists`` (a source is credited once, ever) and the balance's
update carries ``points_balance = <value read>``, so balance == sum(ledger) holds at every commit, and each
entry's ``balance_after`` is exact. An earning (not a redemption or its refund) also moves ``earned_total`` and
the leaderboard scores, in the same transaction.
``run_with_balance`` reads the account (balance, community, grid), lets the caller build the transaction, and
rebuilds it if the balance moved in between (another credit or debit of the same user committed first). A
balance moves only when another change of it commits, so the races a request can lose are bounded by the
concurrent changes of that one user; ``MAX_BALANCE_RACES`` is set well above what a person's own taps make.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from pynamodb.expressions.operand import Path

from ..adapters.dynamo import counters, scores
from ..adapters.dynamo.models import LedgerEntryModel, UserModel
from ..adapters.dynamo.tx import NO_ANSWER, Tx
from ..domain.clock import utcnow
from ..domain.errors import DomainError, StorageBusy, Unauthenticated
from ..domain.ids import new_id
from ..domain.points import balance_after, score_keys
from ..domain.stats import bucket_names

MAX_BALANCE_RACES = 24
RACE_BACKOFF_SECONDS = 0.01


@dataclass(frozen=True)
class Account:
    """A user's points account as read: the balance the next entry is conditioned on, and where the user's
    earnings count on the leaderboards."""
    user_id: str
    balance: int
    community_id: str | None = None
    grid_id: str | None = None
    nickname: str | None = None  # copied onto the score items, as the grid is
    active: bool = True  # a closed account's earnings go on no board (注销 took it off them)


class _BalanceMoved(DomainError):
    """The balance changed between read and commit (internal: the transaction is rebuilt)."""


def append(tx: Tx, *, account: Account, amount: int, source_key: str, kind: str, source: str,
           note: str | None, duplicate_error: DomainError, community_id: str | None = None, earns: bool = True,
           earned_at: datetime | None = None, stats: dict[str, int] | None = None, also_user_actions: tuple = (),
           user_condition=None, gone_error: DomainError | None = None) -> LedgerEntryModel:
    """``earns``: an earning or its correction (it moves ``earned_total`` and the points leaderboards of the
    period of ``earned_at``, default now); a redemption and its refund do not. ``also_user_actions``: more changes
    to the user item (one transaction may touch an item once), e.g. the volunteer minutes a check-out credits
    with its points; ``user_condition`` more conditions on it (``gone_error``: what to answer when the account is
    closed meanwhile, when it is not the caller's own). The community's points statistics count every
    entry by kind (``k:<kind>``), plus ``stats`` (the award's category, the goods redeemed)."""
    now = utcnow()
    after = balance_after(account.balance, amount)
    community_id = community_id or account.community_id
    entry = LedgerEntryModel(account.user_id, source_key, id=new_id("pt"), kind=kind, amount=amount,
                             balance_after=after, source=source, note=note, community_id=community_id, created_at=now)
    tx.put(entry, condition=LedgerEntryModel.entry_key.does_not_exist(), error=duplicate_error)
    actions = [UserModel.points_balance.set(after), *also_user_actions]
    condition = UserModel.points_balance == account.balance
    if earns:
        actions.append(UserModel.earned_total.add(amount))
        if account.active and amount:
            scores.add(tx, score_keys("points", community_id, account.grid_id, earned_at or now), account.user_id,
                       amount, account.nickname)
            condition &= copied_as_read(account)
    if community_id:
        for key in points_stats_keys(community_id, now):
            counters.add(tx, key, {f"k:{kind}": amount, **(stats or {})})
    tx.update(UserModel(account.user_id), actions,
              condition=condition if user_condition is None else condition & user_condition,
              error=_moved_or(user_condition, gone_error))
    return entry


def points_stats_keys(community_id: str, at: datetime) -> list[str]:
    """The day and month buckets (Asia/Shanghai) of the community's points statistics."""
    return [f"points-stats#{community_id}#{bucket}" for bucket in bucket_names(at)]


def add_minutes(tx: Tx, account: Account, minutes: int, at: datetime, community_id: str | None = None) -> None:
    """Volunteer minutes on the leaderboards (微星光) of the period of ``at``; the user item's own total is the
    caller's (it touches that item once; the credit's own condition on it is ``copied_as_read``, when it has one)."""
    if account.active:
        scores.add(tx, score_keys("minutes", community_id or account.community_id, account.grid_id, at),
                   account.user_id, minutes, account.nickname)


def copied_as_read(account: Account):
    """The user item still as the score items' copies were taken from it (active, same nickname and grid): a credit
    racing a rename or a move fails this and is rebuilt from a fresh read, so no copy is left stale."""
    return (UserModel.status == "active") & _same(UserModel.nickname, account.nickname) \
        & _same(UserModel.grid_id, account.grid_id)


def credit_minutes_only(tx: Tx, account: Account, minutes_action, gone: DomainError) -> None:
    """Volunteer minutes credited without points: the user item's update carries the copies' condition as a points
    credit does (``copied_as_read``), so a rename or a move racing it rebuilds the credit from a fresh read
    (``run_with_balance``) instead of leaving a stale copy on the minutes boards; a closed account is ``gone``."""
    tx.update(UserModel(account.user_id), [minutes_action], condition=copied_as_read(account),
              error=_moved_or(True, gone))


def _same(attribute, value):
    return attribute.does_not_exist() | Path(attribute.attr_name).is_type("NULL") if value is None \
        else attribute == value


def _moved_or(user_condition, gone: DomainError | None):
    """With only the balance as condition, its failure means the balance moved; with more, look at the user: a
    closed account is ``gone`` (by default the caller's own: log in again)."""
    if user_condition is None:
        return _BalanceMoved()

    def classify(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active":
            return gone or Unauthenticated("账号已注销，请重新登录")
        return _BalanceMoved()
    return classify


def current_account(user_id: str) -> Account:
    try:
        user = UserModel.get(user_id, consistent_read=True,
                             attributes_to_get=["id", "points_balance", "community_id", "grid_id", "nickname",
                                                "status"])
    except UserModel.DoesNotExist:
        raise Unauthenticated() from None
    return account_of(user)


def account_of(user: UserModel) -> Account:
    """The account of a user item already read consistently in this request (the caller's, say)."""
    return Account(user.id, int(user.points_balance or 0), user.community_id, user.grid_id, user.nickname,
                   user.status == "active")


def run_with_balance(user_id: str, build: Callable[[Account], Tx], answer: Any = NO_ANSWER,
                     first: Account | None = None) -> None:
    """Commit ``build(account)``; rebuild it with a fresh read if the balance moved meanwhile. ``answer`` is
    the request's answer (see ``Tx.commit``); ``build`` may fill it in. ``first``: the account as this request
    already read it (consistently), used for the first attempt instead of reading it again."""
    for race in range(MAX_BALANCE_RACES):
        tx = build(first if race == 0 and first is not None else current_account(user_id))
        try:
            tx.commit(answer)
            return
        except _BalanceMoved:
            time.sleep(random.uniform(0, RACE_BACKOFF_SECONDS * min(race + 1, 8)))
    raise StorageBusy()
