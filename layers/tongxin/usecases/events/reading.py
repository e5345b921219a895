"""Reading events: who organises one, how it is shown, the lists (by start time, mine, the roster).

Every community member sees the community's events; the roster is the organiser's. Lists are one Query per page;
the caller's own status on a page's events is one BatchGetItem of their sign-ups.
"""
from __future__ import annotations

from datetime import datetime

from ...adapters.dynamo import batch
from ...adapters.dynamo.models import EventModel, SignupModel
from ...domain import events as rules
from ...domain.access import Grant, Principal, Role, require_member, require_role
from ...domain.clock import to_api, utcnow
from ...domain.errors import Forbidden, NotFound, ValidationFailed
from .. import paging
from ...domain.text import DEFAULT_NICKNAME

EVENT_NOT_FOUND = NotFound("活动不存在")
ORGANISER_ROLES = (Role.ADMIN, Role.GRID_WORKER)


def load(principal: Principal, event_id: str, *, with_mine: bool = False):
    """The event (404 unless it is of the caller's community), and with ``with_mine`` the caller's sign-up,
    read together in one BatchGetItem."""
    community_id = require_member(principal)
    if with_mine:
        event, mine = batch.get_many((EventModel, event_id), (SignupModel, event_id, principal.user_id))
    else:
        event, mine = batch.get_many((EventModel, event_id))[0], None
    if event is None or event.community_id != community_id:
        raise EVENT_NOT_FOUND
    return (event, mine) if with_mine else event


def organiser_grant(principal: Principal, event: EventModel) -> Grant:
    """How the caller organises ``event``, as their roles stand now: an admin of its community, a grid worker of
    its grid, or its creator while they still hold ``grid_worker`` there (an admin creator is covered as admin).
    The grant is re-checked in every write's transaction. Forbidden otherwise: a creator whose role was taken
    away keeps no power over what they created."""
    try:
        return require_role(principal, *ORGANISER_ROLES, community_id=event.community_id, grid_id=event.grid_id)
    except Forbidden:
        if principal.user_id == event.organiser_id:
            return require_role(principal, Role.GRID_WORKER, community_id=event.community_id)
        raise


def can_manage(principal: Principal, event: EventModel) -> bool:
    try:
        organiser_grant(principal, event)
        return True
    except Forbidden:
        return False


# --- presenting ----------------------------------------------------------------------------------------

def my_status(signup: SignupModel | None) -> str:
    return signup.status if signup is not None else "none"


def present(event: EventModel, *, mine: SignupModel | None = None, position: int | None = None,
            manage: bool = False, now: datetime | None = None) -> dict:
    now = now or utcnow()
    closes_at = event.signup_closes_at or rules.signup_closes_at(event.starts_at, event.signup_deadline)
    return {
        "id": event.id,
        "title": event.title,
        "kind": event.kind,
        "description": event.description,
        "status": rules.phase(event.status or "open", event.starts_at, event.ends_at, closes_at, now),
        "starts_at": to_api(event.starts_at),
        "ends_at": to_api(event.ends_at),
        "signup_deadline": to_api(closes_at),
        "location": _location(event.location),
        "capacity": int(event.capacity),
        "signed_count": int(event.signed_count or 0),
        "waitlist_count": int(event.waitlist_count or 0),
        "points_per_hour": int(event.points_per_hour or 0),
        "allow_walk_ins": bool(event.allow_walk_ins),
        "grid_id": event.grid_id,
        "organiser": {"id": event.organiser_id, "nickname": event.organiser_nickname or DEFAULT_NICKNAME},
        "unit": {"id": event.unit_id, "name": event.unit_name} if event.unit_id else None,
        "cancel_reason": event.cancel_reason,
        "cancelled_at": to_api(event.cancelled_at),
        "created_at": to_api(event.created_at),
        "my_status": my_status(mine),
        "position": position if mine is not None and mine.status == rules.SignupStatus.WAITLISTED.value else None,
        "can_manage": manage,
    }


def _location(location: dict | None) -> dict | None:
    if not location:
        return None
    return {"address": location.get("address"), "lat": float(location["lat"]), "lng": float(location["lng"]),
            "radius_m": int(location.get("radius_m") or rules.RADIUS_DEFAULT)}


def waitlist_position(signup: SignupModel) -> int:
    """1 + the tickets still waiting ahead of this one: a COUNT Query on the waitlist (no items returned; one
    call per MB read, so one call up to a few thousand people ahead)."""
    return 1 + SignupModel.by_roster.count(rules.roster_key(signup.event_id, rules.SignupStatus.WAITLISTED.value),
                                           SignupModel.roster_order < int(signup.position or 0))


# --- reads --------------------------------------------------------------------------------------------

def get(principal: Principal, event_id: str) -> dict:
    event, mine = load(principal, event_id, with_mine=True)
    position = waitlist_position(mine) if mine is not None and mine.status == "waitlisted" else None
    return present(event, mine=mine, position=position, manage=can_manage(principal, event))


def _mine_for(principal: Principal, event_ids: list[str]) -> dict[str, SignupModel]:
    if not event_ids:
        return {}
    found = batch.get_many(*[(SignupModel, event_id, principal.user_id) for event_id in event_ids])
    return {signup.event_id: signup for signup in found if signup is not None}


def list_community(principal: Principal, *, start: datetime | None, end: datetime | None, limit: int,
                   cursor: str | None) -> dict:
    """The community's events by start time, from ``start`` (default: now) up to ``end``: one Query per page.
    The cursor carries the window's start, so "now" does not move under a walk through the pages."""
    community_id = require_member(principal)
    scope = f"events:{community_id}:{start.isoformat() if start else 'now'}:{end.isoformat() if end else '-'}"
    position = paging.decode_cursor(cursor, scope) or {"from": (start or utcnow()).isoformat(), "key": None}
    try:
        start = datetime.fromisoformat(position["from"])
    except (KeyError, TypeError, ValueError):
        raise paging.BAD_CURSOR from None
    if end is not None and end <= start:
        raise ValidationFailed("结束时间必须晚于开始时间", details={"field": "to"})
    condition = EventModel.starts_at.between(start, end) if end is not None else EventModel.starts_at >= start
    results = EventModel.by_community.query(community_id, condition, last_evaluated_key=position.get("key"),
                                            page_size=limit)
    raw = next(results.page_iter, None) or {}
    events = [EventModel.from_raw_data(item) for item in raw.get("Items", [])]
    mine = _mine_for(principal, [event.id for event in events])
    now = utcnow()
    after = {"from": position["from"], "key": results.page_iter.last_evaluated_key} \
        if results.page_iter.last_evaluated_key else None
    return {"items": [present(event, mine=mine.get(event.id), manage=can_manage(principal, event), now=now)
                      for event in events],
            "next_cursor": paging.encode_cursor(after, scope)}


def list_mine(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """My sign-ups (cancelled ones drop out of the index): upcoming first (soonest first), then past (latest
    first). The cursor holds the moment that splits the two, so the pages of one walk never overlap."""
    scope = f"my-events:{principal.user_id}"
    position = paging.decode_cursor(cursor, scope) or {"phase": "upcoming", "pivot": utcnow().isoformat(),
                                                       "key": None}
    if position.get("phase") not in ("upcoming", "past") or not isinstance(position.get("pivot"), str):
        raise paging.BAD_CURSOR
    try:
        pivot = datetime.fromisoformat(position["pivot"])
    except ValueError:
        raise paging.BAD_CURSOR from None
    upcoming = position["phase"] == "upcoming"
    condition = SignupModel.event_starts_at >= pivot if upcoming else SignupModel.event_starts_at < pivot
    results = SignupModel.by_user.query(principal.user_id, condition, scan_index_forward=upcoming,
                                        last_evaluated_key=position.get("key"), page_size=limit)
    raw = next(results.page_iter, None) or {}
    signups = [SignupModel.from_raw_data(item) for item in raw.get("Items", [])]
    events = {event.id: event for event in batch.get_many(*[(EventModel, s.event_id) for s in signups])
              if event is not None} if signups else {}
    now = utcnow()
    items = [present(events[s.event_id], mine=s, manage=can_manage(principal, events[s.event_id]), now=now)
             for s in signups if s.event_id in events]
    if results.page_iter.last_evaluated_key:
        after = {**position, "key": results.page_iter.last_evaluated_key}
    elif upcoming:
        after = {"phase": "past", "pivot": position["pivot"], "key": None}
    else:
        after = None
    return {"items": items, "next_cursor": paging.encode_cursor(after, scope)}


def present_entry(signup: SignupModel) -> dict:
    return {
        "user": {"id": signup.user_id, "nickname": signup.nickname or DEFAULT_NICKNAME},
        "status": signup.status,
        "position": int(signup.position) if signup.status == "waitlisted" and signup.position is not None else None,
        "signed_at": to_api(signup.signed_at),
        "updated_at": to_api(signup.updated_at),
        "checked_in_at": to_api(signup.checked_in_at),
        "checked_out_at": to_api(signup.checked_out_at),
        "minutes": int(signup.minutes) if signup.minutes is not None else None,
        "points": int(signup.points) if signup.points is not None else None,
        "walk_in": bool(signup.walk_in),
    }


def roster(principal: Principal, event_id: str, *, status: str | None, limit: int, cursor: str | None) -> dict:
    """The organiser's roster, one Query per page: the whole roster section after section in ``ROSTER_ORDER``
    (signed, waitlisted by position, checked in, …), or one section (``status``)."""
    event = load(principal, event_id)
    organiser_grant(principal, event)
    if status:
        def query(**kwargs):
            return SignupModel.by_roster.query(rules.roster_key(event_id, status), **kwargs)
    else:
        def query(**kwargs):
            return SignupModel.by_event.query(event_id, **kwargs)
    return paging.page(query, limit, cursor, lambda items: [present_entry(s) for s in items],
                       scope=f"roster:{event_id}:{status or '*'}", model=SignupModel)
