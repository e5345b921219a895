"""积分 arithmetic: pure rules of the passbook (ledger)."""
from __future__ import annotations

from .errors import InsufficientPoints


def balance_after(balance_before: int, amount: int) -> int:
    """The balance after ``amount`` (negative for a debit); a balance never goes below zero."""
    after = balance_before + amount
    if after < 0:
        raise InsufficientPoints(details={"balance": balance_before, "needed": -amount})
    return after


def wish_confirm_source(wish_id: str) -> str:
    """Ledger key of the credit for a confirmed wish: one per wish, ever."""
    return f"wish#{wish_id}#confirm"
