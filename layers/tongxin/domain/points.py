"""积分: pure rules of the passbook (ledger), awards, the store and leaderboards."""
from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import SHANGHAI
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


# --- awards ---------------------------------------------------------------------------------------------------

AWARD_CATEGORIES = ("charity", "mediation", "participation")  # 雪中送炭, 息事宁人, 锦上添花
# One award at most (per category), one awarder per Asia/Shanghai day at most: the community's settings override.
DEFAULT_AWARD_CAPS = {"charity": 50, "mediation": 30, "participation": 20}
DEFAULT_AWARD_DAILY_CAP = 500
CATEGORY_NAMES = {"charity": "雪中送炭", "mediation": "息事宁人", "participation": "锦上添花"}


def award_source(award_id: str) -> str:
    return f"award#{award_id}"


def reversal_source(award_id: str) -> str:
    return f"award#{award_id}#reverse"


def awarder_day_counter(awarder_id: str, now: datetime) -> tuple[str, datetime]:
    """The awarder's points handed out on this Asia/Shanghai day: (counter key, when it may be forgotten)."""
    day = now.astimezone(SHANGHAI).date()
    return f"award-day#{awarder_id}#{day.isoformat()}", now + timedelta(days=2)


# --- the store ----------------------------------------------------------------------------------------------------

# Typable and readable aloud: no 0/O, no 1/I.
PICKUP_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PICKUP_CODE_LENGTH = 6
REDEMPTION_TTL = timedelta(days=7)
EXPIRY_REMINDER_BEFORE = timedelta(days=1)
REDEMPTION_STATUSES = ("pending_pickup", "picked_up", "cancelled", "expired")
DUE_SHARDS = 4


def new_pickup_code() -> str:
    return "".join(secrets.choice(PICKUP_ALPHABET) for _ in range(PICKUP_CODE_LENGTH))


def normalise_pickup_code(text: str) -> str:
    """What a keeper types or a scanner reads: case, spaces and dashes do not matter."""
    return text.strip().upper().replace(" ", "").replace("-", "")


def pickup_key(community_id: str, code: str) -> str:
    return f"{community_id}#{code}"


def allowance_counter(goods_id: str, user_id: str) -> str:
    """How many of a goods item a user holds pending or picked up (the per-user limit counts it)."""
    return f"allow#{goods_id}#{user_id}"


def redemption_due(expires_at: datetime, reminded: bool) -> datetime:
    """The next scheduled step of a pending redemption: the reminder a day before expiry, then the expiry."""
    return expires_at if reminded else expires_at - EXPIRY_REMINDER_BEFORE


def due_shard(redemption_id: str) -> str:
    return f"due#{zlib.crc32(redemption_id.encode()) % DUE_SHARDS}"


# --- leaderboards -------------------------------------------------------------------------------------------------

PERIODS = ("month", "year", "all")
SCOPES = ("community", "grid")
METRICS = ("points", "minutes")
LEADERBOARD_SIZE = 50


def period_key(period: str, at: datetime) -> str:
    local = at.astimezone(SHANGHAI)
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if period == "year":
        return f"{local.year:04d}"
    return "all"


def board(metric: str, scope: str, scope_id: str, period: str, at: datetime) -> str:
    return f"{metric}#{scope}#{scope_id}#{period_key(period, at)}"


@dataclass(frozen=True)
class ScoreKey:
    """One score item: a user's score of one metric and period on their community's board (``board``, the item's
    key) and, through the second index, on their grid's board of the same period (``grid_board``; None outside a
    grid). One item serves both boards: a member counts on one grid's board, the one they live in."""
    board: str
    grid_board: str | None


def score_keys(metric: str, community_id: str | None, grid_id: str | None, at: datetime) -> list[ScoreKey]:
    """The score items a credit at ``at`` adds to: month, year and all time (Asia/Shanghai) — three items, each on
    the community's board and the grid's. Outside a community, none (no board can be asked for)."""
    if not community_id:
        return []
    return [ScoreKey(board(metric, "community", community_id, period, at),
                     board(metric, "grid", grid_id, period, at) if grid_id else None) for period in PERIODS]


def periods_since(since: datetime, until: datetime) -> list[str]:
    """Every period key (months, years, all time) a board of the span ``since``..``until`` may be keyed by."""
    first, last = since.astimezone(SHANGHAI), until.astimezone(SHANGHAI)
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months + [f"{y:04d}" for y in range(first.year, last.year + 1)] + ["all"]


def ranked(scores: list[tuple[str, int]]) -> list[tuple[int, str, int]]:
    """(rank, user id, score) for scores sorted high to low; equal scores share a rank (1, 2, 2, 4)."""
    out: list[tuple[int, str, int]] = []
    for index, (user_id, score) in enumerate(scores):
        rank = out[-1][0] if out and out[-1][2] == score else index + 1
        out.append((rank, user_id, score))
    return out
