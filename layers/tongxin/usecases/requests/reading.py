"""Reading requests: who sees one (one rule for the detail and every list), who handles it now, how it is shown,
and the lists (mine, a level's queue, the community's).

Requests are never public: the author, the handlers of the levels it reached (the grid's workers, the street's
staff) and the community's admins see one; anyone else is told it does not exist (404). Everyone who sees a
request may see the author's phone: they are the author or the people who must call them.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ...adapters.dynamo.models import RequestModel
from ...domain import requests as rules
from ...domain.access import Grant, Principal, Role, require_role, require_street
from ...domain.clock import to_api
from ...domain.errors import Forbidden, NotFound, NotInCommunity
from ...domain.requests import Level as L, RequestStatus as S
from .. import paging

REQUEST_NOT_FOUND = NotFound("诉求不存在")
DEFAULT_NICKNAME = "微信用户"
DELETED_NICKNAME = "已注销用户"


def visible(principal: Principal, request: RequestModel) -> bool:
    if principal.user_id == request.author_id:
        return True
    reached = set(request.levels_reached or ())
    if principal.community_id == request.community_id:
        if principal.has(Role.ADMIN):
            return True
        if L.GRID.value in reached and principal.has(Role.GRID_WORKER) and request.grid_id in principal.grid_ids:
            return True
    return L.STREET.value in reached and principal.has(Role.STREET_STAFF) and request.street_id in principal.street_ids


def load(principal: Principal, request_id: str) -> RequestModel:
    """The request, if the caller may see it (404 otherwise: its existence is not even acknowledged)."""
    try:
        request = RequestModel.get(request_id, consistent_read=True)
    except DoesNotExist:
        raise REQUEST_NOT_FOUND from None
    if not visible(principal, request):
        raise REQUEST_NOT_FOUND
    return request


def handler_grant(principal: Principal, request: RequestModel) -> Grant:
    """The grant to act at the request's current level: its grid's worker, the community's admin, or the
    street's staff (403 for anyone else, who may still see it: the author, a lower level's handler)."""
    level = L(request.level)
    try:
        if level is L.GRID:
            return require_role(principal, Role.GRID_WORKER, community_id=request.community_id,
                                grid_id=request.grid_id)
        if level is L.COMMUNITY:
            return require_role(principal, Role.ADMIN, community_id=request.community_id)
    except NotInCommunity:
        raise Forbidden() from None
    return require_street(principal, request.street_id)


# --- presenting ----------------------------------------------------------------------------------------------

def _person(user_id: str | None, nickname: str | None) -> dict | None:
    return {"id": user_id, "nickname": nickname or DEFAULT_NICKNAME} if user_id else None


def _ordered_levels(request: RequestModel) -> list[str]:
    reached = set(request.levels_reached or ())
    return [level.value for level in rules.LEVELS if level.value in reached]


def present(request: RequestModel, *, detail: bool = False) -> dict:
    location = None
    if request.address or request.lat is not None:
        location = {"address": request.address,
                    "lat": float(request.lat) if request.lat is not None else None,
                    "lng": float(request.lng) if request.lng is not None else None}
    answer = {
        "id": request.id,
        "category": request.category,
        "content": request.content,
        "location": location,
        "urgent": bool(request.urgent),
        "status": request.status,
        "status_label": rules.STATUS_LABELS[S(request.status)],
        "outcome": request.outcome,
        "level": request.level,
        "level_label": rules.LEVEL_LABELS[L(request.level)],
        "levels_reached": _ordered_levels(request),
        "community_id": request.community_id,
        "grid_id": request.grid_id,
        "author": {**_person(request.author_id, request.author_nickname), "phone": request.author_phone},
        "handler": _person(request.handler_id, request.handler_nickname),
        "answer_due": to_api(request.answer_due) if S(request.status) in rules.WAITING_ANSWER else None,
        "solve_due": to_api(request.solve_due) if S(request.status) in rules.WITH_HANDLER else None,
        "answer_minutes": int(request.answer_minutes),
        "solve_minutes": int(request.solve_minutes),
        "late": bool(request.late),
        "overdue": bool(request.overdue),
        "reopened": request.reopened_at is not None,
        "resolve_note": request.resolve_note,
        "rating": int(request.rating) if request.rating is not None else None,
        "comment": request.comment,
        "created_at": to_api(request.created_at),
        "first_answered_at": to_api(request.first_answered_at),
        "resolved_at": to_api(request.resolved_at),
        "closed_at": to_api(request.closed_at),
    }
    if detail:
        answer["timeline"] = [{
            "at": to_api(entry.at), "action": entry.action, "action_label": rules.ACTION_LABELS.get(entry.action,
                                                                                                  entry.action),
            "level": entry.level, "level_label": rules.LEVEL_LABELS[L(entry.level)],
            "actor": ({"id": entry.actor_id, "nickname": entry.actor_nickname or DEFAULT_NICKNAME,
                       "role": entry.actor_role} if entry.actor_id else None),
            "note": entry.note,
        } for entry in request.timeline or ()]
    return answer


# --- reads ---------------------------------------------------------------------------------------------------

def get(principal: Principal, request_id: str) -> dict:
    return present(load(principal, request_id), detail=True)


def _present_page(items: list) -> list:
    return [present(r) for r in items]


def list_mine(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    return paging.page(lambda **kw: RequestModel.by_author.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, _present_page, scope=f"requests-by-author:{principal.user_id}",
                       model=RequestModel)


def task_of(request: RequestModel) -> str | None:
    """What the current level must do: answer it (响应/报到), solve it, or nothing (resolved, closed)."""
    status = S(request.status)
    if status in rules.WAITING_ANSWER:
        return "answer_request"
    return "solve_request" if status in rules.IN_HAND else None


def _tasks(items: list) -> list:
    return [{"task": task_of(r), "request": present(r)} for r in items]


def queue_page(key: str, start_key: dict | None, limit: int) -> tuple[list, dict | None]:
    """One page (one Query) of a level's queue, the most urgent deadline first, each with what it needs."""
    results = RequestModel.by_handler.query(key, scan_index_forward=True, last_evaluated_key=start_key,
                                            page_size=limit)
    raw = next(results.page_iter, None) or {}
    return _tasks([RequestModel.from_raw_data(item) for item in raw.get("Items", [])]), \
        results.page_iter.last_evaluated_key


def grid_queue_page(community_id: str, grid_id: str, start_key: dict | None, limit: int) -> tuple[list, dict | None]:
    return queue_page(rules.handler_key(L.GRID, community_id, grid_id, None), start_key, limit)


def street_tasks(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """The street staff's queue: requests escalated to the streets they work, street by street (one Query a page)."""
    streets = sorted(principal.street_ids) if principal.has(Role.STREET_STAFF) else []
    if not streets:
        raise Forbidden()
    scope = f"street-tasks:{principal.user_id}"
    position = paging.decode_cursor(cursor, scope) or {"street": streets[0], "key": None}
    if position.get("street") not in streets:
        raise paging.BAD_CURSOR  # the street was taken away since that page
    street_id = position["street"]
    items, last_key = queue_page(rules.handler_key(L.STREET, "", None, street_id), position.get("key"), limit)
    if last_key:
        after = {"street": street_id, "key": last_key}
    elif streets.index(street_id) + 1 < len(streets):
        after = {"street": streets[streets.index(street_id) + 1], "key": None}
    else:
        after = None
    return {"items": items, "next_cursor": paging.encode_cursor(after, scope)}


def community_list(principal: Principal, *, view: str, limit: int, cursor: str | None) -> dict:
    """Admins: the community level's queue (``view=queue``, most urgent first) or every request of the community
    (``view=all``, newest first)."""
    grant = require_role(principal, Role.ADMIN)
    if view == "queue":
        key = rules.handler_key(L.COMMUNITY, grant.community_id, None, None)
        scope = f"requests-queue:{key}"
        items, last_key = queue_page(key, paging.decode_cursor(cursor, scope), limit)
        return {"items": items, "next_cursor": paging.encode_cursor(last_key, scope)}
    return paging.page(
        lambda **kw: RequestModel.by_community.query(grant.community_id, scan_index_forward=False, **kw),
        limit, cursor, _tasks, scope=f"requests-by-community:{grant.community_id}", model=RequestModel)
