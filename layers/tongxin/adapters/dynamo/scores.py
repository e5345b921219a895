"""Leaderboard scores written inside the caller's transaction, so a leaderboard is one Query and costs no write call
of its own.

``add``: one ADD per period (month, year, all time) on an item that stands on the community's board (its key) and
on the grid's (``grid_board``, a second index), carrying the user's nickname and grid as the credit read them.
``follow``: the change of a user item that moves those copies (a nickname, another grid, 注销) moves them on the
current periods' items in the same transaction — the only ones a leaderboard can be asked for. An item that does
not exist yet is created without a score (it stands on no board) rather than read first: a read would race the
credit that creates it.
"""
from __future__ import annotations

from datetime import datetime

from ...domain.points import METRICS, ScoreKey, periods_since, score_keys
from .models import ScoreModel, UserModel
from .tx import Tx


def add(tx: Tx, keys: list[ScoreKey], user_id: str, amount: int, nickname: str | None) -> Tx:
    if amount:
        for key in keys:
            tx.update(ScoreModel(key.board, user_id), [ScoreModel.score.add(amount), *_copies(key, nickname)])
    return tx


def _copies(key: ScoreKey, nickname: str | None) -> list:
    return [ScoreModel.grid_board.set(key.grid_board) if key.grid_board else ScoreModel.grid_board.remove(),
            ScoreModel.nickname.set(nickname) if nickname else ScoreModel.nickname.remove()]


def _placed(user: UserModel | None) -> tuple[str | None, str | None, str | None]:
    """What the copies are made of: (community, grid, nickname) of an active member, or nothing."""
    if user is None or user.status != "active" or not user.community_id:
        return None, None, None
    return user.community_id, user.grid_id, user.nickname


def follow(tx: Tx, before: UserModel | None, after: UserModel | None, at: datetime):
    """Add to ``tx`` what ``before`` (the user as read) → ``after`` (None: deleted) does to the user's items on the
    boards of ``at``'s periods: gone with the account (or the community), copies moved with a nickname or a grid.
    A metric the user never scored in (its total 0: each period's net is ≥ 0, so no item of it stands on a board)
    is left alone rather than given empty items; answers the condition that keeps that true until the commit (None:
    none needed), to go on the user item's update."""
    old, new = _placed(before), _placed(after)
    if old == new or old[0] is None:
        return None  # unchanged, or a member only now joining: no score to move
    user_id = (before or after).id
    if new[0] != old[0]:  # 注销 (or leaving the community): off the boards with the account
        for metric in METRICS:
            for key in score_keys(metric, old[0], old[1], at):
                tx.delete(ScoreModel(key.board, user_id))
        return None
    condition = UserModel.status == "active"
    for metric, total in (("points", UserModel.earned_total), ("minutes", UserModel.volunteer_minutes)):
        if not getattr(before, total.attr_name):
            condition &= total.does_not_exist() | (total == 0)  # a credit landing meanwhile: read again
            continue
        for key, moved in zip(score_keys(metric, old[0], old[1], at), score_keys(metric, new[0], new[1], at)):
            tx.update(ScoreModel(key.board, user_id), _copies(moved, new[2]))
    return condition


def forget(user: UserModel, now: datetime) -> None:
    """注销: every item the account may hold on its community's boards (each month and year since it joined, and all
    time, of both metrics) deleted — they carry its nickname, and a closed account stands on no board. A release
    step before the account's closing transaction (which deletes the current periods' again, atomically with the
    closing): unconditional deletes, ≤ 100 a transaction, safe to repeat."""
    if not user.community_id:
        return
    since = min(user.joined_at or now, user.created_at or now)
    keys = [f"{metric}#community#{user.community_id}#{period}" for metric in METRICS
            for period in periods_since(since, now)]
    for start in range(0, len(keys), 100):
        tx = Tx()
        for board in keys[start:start + 100]:
            tx.delete(ScoreModel(board, user.id))
        tx.commit()
