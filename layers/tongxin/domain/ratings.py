"""A finished project rated by the residents it served, once each, 1–5 (群众评单 of 共建项目, 验收 of 微实事): the
average shown."""
from __future__ import annotations


def average(count: int, total: int) -> float | None:
    """The average rating shown (one decimal), None before the first rating."""
    return round(total / count, 1) if count > 0 else None
