"""Where I stand: my passbook (积分存折) and the leaderboards (积分排名, 微星光).

The passbook is one Query on the ledger's ``by_time`` index, newest first; the balance and the earned total are on
the caller's user item, already read by the request (a member's passbook as staff see it: the member's user item,
read by the member detail's scope check, then the same Query). A leaderboard is one Query on ``scores.by_score``
(the board's top scores, descending) and one BatchGetItem (their names, and my own score).
"""
from __future__ import annotations

from ...adapters.dynamo import batch
from ...adapters.dynamo.models import LedgerEntryModel, ScoreModel, UserModel
from ...domain import points as rules
from ...domain.access import Principal, require_member
from ...domain.clock import to_api, utcnow
from ...domain.masking import mask_name
from .. import directory, paging
from ..access import current_user
from ...domain.text import DEFAULT_NICKNAME

# Read a few more than shown: a closed account's score stays on its boards and is left out when shown.
OVERREAD = 10


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
    top = [(item.user_id, int(item.score)) for item in
           ScoreModel.by_score.query(board, ScoreModel.score > 0, scan_index_forward=False,
                                     limit=rules.LEADERBOARD_SIZE + OVERREAD,
                                     page_size=rules.LEADERBOARD_SIZE + OVERREAD)]
    found = batch.get_many(*[(UserModel, user_id) for user_id, _ in top], (ScoreModel, board, me.id))
    people, mine = found[:-1], found[-1]
    shown = [(user_id, score) for (user_id, score), person in zip(top, people)
             if person is not None and person.status == "active"][:rules.LEADERBOARD_SIZE]
    names = {person.id: person.nickname for person in people if person is not None}
    answer["items"] = [_scored({"rank": rank, "user": {"id": user_id, "nickname": mask_name(
        names.get(user_id) or DEFAULT_NICKNAME)}}, metric, score) for rank, user_id, score in rules.ranked(shown)]
    my_score = int(mine.score) if mine is not None and mine.score else 0
    my_rank = next((item["rank"] for item in answer["items"] if item["user"]["id"] == me.id), None)
    answer["me"] = _scored({"rank": my_rank}, metric, my_score)
    return answer


def _scored(entry: dict, metric: str, score: int) -> dict:
    """The score under its own name (the contract's ``points``, or ``minutes``; the other null) and as ``score``."""
    return {**entry, "score": score, "points": score if metric == "points" else None,
            "minutes": score if metric == "minutes" else None}
