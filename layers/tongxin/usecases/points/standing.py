"""Where I stand: my passbook (积分存折) and the leaderboards (积分排名, 微星光).

The passbook is one Query on the ledger's ``by_time`` index, newest first; the balance and the earned total are on
the caller's user item, already read by the request (a member's passbook as staff see it: the member's user item,
read by the member detail's scope check, then the same Query). A leaderboard is one Query of the board's top
scores, descending (``scores.by_score`` for a community's board, ``by_grid_score`` for a grid's), whose entries carry
the names shown — one item read per row — and, when I am not among them, one GetItem of my own score.
"""
from __future__ import annotations

from ...adapters.dynamo.models import LedgerEntryModel, ScoreModel, UserModel
from ...domain import points as rules
from ...domain.access import Principal, require_member
from ...domain.clock import to_api, utcnow
from ...domain.masking import mask_name
from .. import directory, paging
from ..access import current_user
from ...domain.text import DEFAULT_NICKNAME

def present_entry(entry: LedgerEntryModel) -> dict:
    return {"id": entry.id, "kind": entry.kind, "amount": int(entry.amount),
            "balance_after": int(entry.balance_after), "source": entry.source, "note": entry.note,
            "created_at": to_api(entry.created_at)}


def passbook_of(user: UserModel, *, limit: int, cursor: str | None) -> dict:
    """The passbook of ``user`` (an item already read): one Query of the ledger's ``by_time`` index, newest first;
    the balance and the earned total from the item."""
    page = paging.page(lambda **kw: LedgerEntryModel.by_time.query(user.id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present_entry(e) for e in items], scope=f"ledger:{user.id}",
                       model=LedgerEntryModel)
    return {"balance": int(user.points_balance or 0), "earned_total": int(user.earned_total or 0), **page}


def passbook(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    return passbook_of(current_user(principal), limit=limit, cursor=cursor)


def member_passbook(principal: Principal, user_id: str, *, limit: int, cursor: str | None) -> dict:
    """A member's passbook as staff see it: whom the member detail shows (``directory.member_in_scope``: an admin,
    any member of the community; a grid worker, a member of their grids), the same shape as my own."""
    _, user = directory.member_in_scope(principal, user_id)
    return passbook_of(user, limit=limit, cursor=cursor)


def leaderboard(principal: Principal, *, period: str, scope: str, metric: str) -> dict:
    community_id = require_member(principal)
    me = current_user(principal)
    now = utcnow()
    answer = {"period": period, "period_key": rules.period_key(period, now), "scope": scope, "metric": metric,
              "items": [], "me": _scored({"rank": None}, metric, 0)}
    scope_id = community_id if scope == "community" else me.grid_id
    if not scope_id:  # a member of no grid has no grid board
        return answer
    board = rules.board(metric, scope, scope_id, period, now)
    index = ScoreModel.by_score if scope == "community" else ScoreModel.by_grid_score
    # Every entry is a row: a closed account left the boards (注销: scores.forget, scores.follow), each carries its name.
    top = list(index.query(board, ScoreModel.score > 0, scan_index_forward=False, limit=rules.LEADERBOARD_SIZE,
                           page_size=rules.LEADERBOARD_SIZE))
    shown = [(item.user_id, int(item.score)) for item in top]
    names = {item.user_id: item.nickname for item in top}
    answer["items"] = [_scored({"rank": rank, "user": {"id": user_id, "nickname": mask_name(
        names.get(user_id) or DEFAULT_NICKNAME)}}, metric, score) for rank, user_id, score in rules.ranked(shown)]
    mine = next(((item["rank"], item["score"]) for item in answer["items"] if item["user"]["id"] == me.id), None)
    answer["me"] = _scored({"rank": mine[0]}, metric, mine[1]) if mine else \
        _scored({"rank": None}, metric, _my_score(metric, community_id, board, period, now, me.id))
    return answer


def _my_score(metric: str, community_id: str, board: str, period: str, now, user_id: str) -> int:
    """My score outside the rows shown: my item of the period (keyed by the community's board; on a grid's board
    when it carries that grid), one GetItem."""
    key = rules.board(metric, "community", community_id, period, now)
    try:
        item = ScoreModel.get(key, user_id, attributes_to_get=["score", "grid_board"])
    except ScoreModel.DoesNotExist:
        return 0
    if board != key and item.grid_board != board:
        return 0
    return int(item.score or 0)


def _scored(entry: dict, metric: str, score: int) -> dict:
    """The score under its own name (the contract's ``points``, or ``minutes``; the other null) and as ``score``."""
    return {**entry, "score": score, "points": score if metric == "points" else None,
            "minutes": score if metric == "minutes" else None}
