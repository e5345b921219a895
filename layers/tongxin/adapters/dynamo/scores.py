"""Leaderboard scores written inside the caller's transaction: one ADD per board (month, year, all time; community
and grid), so a leaderboard is one Query on ``scores.by_score`` and costs no write call of its own."""
from __future__ import annotations

from .models import ScoreModel
from .tx import Tx


def add(tx: Tx, boards: list[str], user_id: str, amount: int) -> Tx:
    if amount:
        for board in boards:
            tx.update(ScoreModel(board, user_id), [ScoreModel.score.add(amount)])
    return tx
