"""Reading requests: who sees one (one rule for the detail and every list), who handles it now, how it is shown,
and the lists (mine, a level's queue, the community's).

Requests are never public: the author, the handlers of the levels it reached (the grid's workers, the street's
staff, the department's staff), the community's admins, and the level that oversees a level it reached (the
street's staff from the community level on, the district's staff from the street on: they approve its extensions
and supervise it) see one; anyone else is told it does not exist (404). Everyone who sees a request may see the
author's phone: they are the author or the people who must call them.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ...adapters.dynamo.models import DepartmentModel, RequestModel, StreetModel
from ...domain import requests as rules
from ...domain.access import (
    Grant, Principal, Role, require_department, require_district, require_role, require_street,
)
from ...domain.clock import to_api, utcnow
from ...domain.errors import Forbidden, NotFound, NotInCommunity, ValidationFailed
from ...domain.requests import Level as L, RequestStatus as S
from .. import paging
from ...domain.text import DEFAULT_NICKNAME

REQUEST_NOT_FOUND = NotFound("诉求不存在")


def visible(principal: Principal, request: RequestModel) -> bool:
    if principal.user_id == request.author_id:
        return True
    reached = set(request.levels_reached or ())
    if principal.community_id == request.community_id:
        if principal.has(Role.ADMIN):
            return True
        if L.GRID.value in reached and principal.has(Role.GRID_WORKER) and request.grid_id in principal.grid_ids:
            return True
    if principal.has(Role.STREET_STAFF) and request.street_id in principal.street_ids \
            and reached & {L.COMMUNITY.value, L.STREET.value}:
        return True  # the street's from the community level on, which it oversees
    if principal.has(Role.DISTRICT_STAFF) and request.district_id in principal.district_ids \
            and reached & {L.STREET.value, L.DEPARTMENT.value}:
        return True  # the district's from the street on, which it oversees with its departments
    return L.DEPARTMENT.value in reached and principal.has(Role.DEPARTMENT_STAFF) \
        and request.department_id in principal.department_ids


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
    """The grant to act at the request's current level: its grid's worker, the community's admin, the street's
    staff or the department's staff (403 for anyone else, who may still see it: the author, a lower level's
    handler, a level above)."""
    level = L(request.level)
    try:
        if level is L.GRID:
            return require_role(principal, Role.GRID_WORKER, community_id=request.community_id,
                                grid_id=request.grid_id)
        if level is L.COMMUNITY:
            return require_role(principal, Role.ADMIN, community_id=request.community_id)
    except NotInCommunity:
        raise Forbidden() from None
    if level is L.DEPARTMENT:
        return require_department(principal, request.department_id)
    return require_street(principal, request.street_id)


def overseer_grant(principal: Principal, request: RequestModel) -> Grant:
    """The grant of the level above the request's current one (rules.overseer): the community's admin above the
    grid, the street's staff above the community, the district's staff above the street and its departments; 403
    for anyone else (and where there is no level above)."""
    above = rules.overseer(request.level, request.street_id, request.district_id)
    if above == L.COMMUNITY.value:
        try:
            return require_role(principal, Role.ADMIN, community_id=request.community_id)
        except NotInCommunity:
            raise Forbidden() from None
    if above == L.STREET.value:
        return require_street(principal, request.street_id)
    if above == rules.DISTRICT:
        return require_district(principal, request.district_id)
    raise Forbidden()


# --- presenting ----------------------------------------------------------------------------------------------

def _person(user_id: str | None, nickname: str | None) -> dict | None:
    return {"id": user_id, "nickname": nickname or DEFAULT_NICKNAME} if user_id else None


def _ordered_levels(request: RequestModel) -> list[str]:
    reached = set(request.levels_reached or ())
    return [level.value for level in rules.LEVELS if level.value in reached]


def _extension(request: RequestModel) -> dict | None:
    if not request.extension_level:
        return None
    return {"level": request.extension_level, "days": int(request.extension_days), "reason": request.extension_reason,
            "asked_by": _person(request.extension_asked_by, request.extension_asked_by_nickname),
            "asked_at": to_api(request.extension_asked_at)}


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
        "street_id": request.street_id,
        "district_id": request.district_id,
        "department": {"id": request.department_id, "name": request.department_name} if request.department_id
        else None,
        "card": rules.card(request.status, solve_due=request.solve_due, overdue=bool(request.overdue),
                           late=bool(request.late), supervised=request.supervised_at is not None, now=utcnow()),
        "supervised": request.supervised_at is not None,
        "extension": _extension(request),
        "extensions_used": [level.value for level in rules.LEVELS if level.value in (request.extensions_used or ())],
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


def _queues(principal: Principal, scopes: list[str], name: str, key_of, limit: int, cursor: str | None) -> dict:
    """The queues of the ``scopes`` (streets, departments) the caller works, one after the other, the most urgent
    first within each: one Query a page."""
    if not scopes:
        raise Forbidden()
    scope = f"{name}-tasks:{principal.user_id}"
    position = paging.decode_cursor(cursor, scope) or {name: scopes[0], "key": None}
    if position.get(name) not in scopes:
        raise paging.BAD_CURSOR  # taken away since that page
    current = position[name]
    items, last_key = queue_page(key_of(current), position.get("key"), limit)
    if last_key:
        after = {name: current, "key": last_key}
    elif scopes.index(current) + 1 < len(scopes):
        after = {name: scopes[scopes.index(current) + 1], "key": None}
    else:
        after = None
    return {"items": items, "next_cursor": paging.encode_cursor(after, scope)}


def street_tasks(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """The street staff's queue: requests escalated to the streets they work, street by street."""
    streets = sorted(principal.street_ids) if principal.has(Role.STREET_STAFF) else []
    return _queues(principal, streets, "street", lambda street_id: rules.handler_key(L.STREET, "", None, street_id),
                   limit, cursor)


def department_tasks(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """The department staff's queue: requests a street escalated to the departments they work, department by
    department."""
    departments = sorted(principal.department_ids) if principal.has(Role.DEPARTMENT_STAFF) else []
    return _queues(principal, departments, "department",
                   lambda department_id: rules.handler_key(L.DEPARTMENT, "", None, None, department_id), limit, cursor)


MAX_DEPARTMENTS = 100  # a district's departments are a short list: one Query, one page


def street_departments(principal: Principal, street_id: str | None) -> dict:
    """Street staff: the departments of their street's district, by name — where the street's 吹哨 may go (empty
    while the street belongs to no district). ``street_id`` names the street when they staff several."""
    if street_id is None:
        streets = sorted(principal.street_ids) if principal.has(Role.STREET_STAFF) else []
        if len(streets) > 1:
            raise ValidationFailed("您负责多个街道，请指定 street_id", details={"field": "street_id"})
        street_id = streets[0] if streets else None
    require_street(principal, street_id)
    try:
        street = StreetModel.get(street_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("街道不存在") from None
    if not street.district_id:
        return {"street_id": street_id, "district_id": None, "items": []}
    departments = DepartmentModel.by_district.query(street.district_id, limit=MAX_DEPARTMENTS,
                                                    page_size=MAX_DEPARTMENTS)
    return {"street_id": street_id, "district_id": street.district_id,
            "items": [{"id": d.id, "name": d.name} for d in departments]}


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
