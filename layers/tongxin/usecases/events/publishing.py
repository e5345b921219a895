"""Publishing events and what organisers do to them: change (PATCH) and cancel.

Each is one transaction: the event (conditions: still open, not ended, counters as read where the change depends
on them), the organiser's grant re-checked, the statistics, and the messages — one fan-out item when everyone
signed up must be told, however many they are.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ... import metrics
from ...adapters.dynamo.guards import check_grant
from ...adapters.dynamo.models import CommunityModel, EventModel, GridModel
from ...adapters.dynamo.tx import Tx
from ...domain import events as rules
from ...domain.access import Grant, Principal, Role, require_role
from ...domain.clock import utcnow
from ...domain.errors import CapacityBelowSigned, Conflict, DomainError, Forbidden, StorageBusy
from ...domain.ids import new_id
from ...wiring import Container
from .. import notifications, service_cards
from ..access import current_user
from ..content import Scene, check as content_check
from .reading import DEFAULT_NICKNAME, EVENT_NOT_FOUND, load, organiser_grant, present
from .signups import (CandidateGone, EventMoved, as_changed, backoff, count, fill, next_due, rounds,
                      not_cancelled, promotion_batch, reread)

log = logging.getLogger(__name__)

GRID_UNKNOWN = rules.invalid("grid_id", "网格不存在")


def _publishing_grant(principal: Principal, grid_id: str | None) -> tuple[Grant, str | None]:
    """Admins publish for any grid of theirs or the whole community; grid workers for a grid they work (theirs
    by default when they work one)."""
    if grid_id is not None:
        return require_role(principal, Role.ADMIN, Role.GRID_WORKER, grid_id=grid_id), grid_id
    if principal.has(Role.ADMIN):
        return require_role(principal, Role.ADMIN), None
    require_role(principal, Role.GRID_WORKER)  # 403 for anyone else
    if not principal.grid_ids:
        raise Forbidden("您还没有负责的网格")
    if len(principal.grid_ids) > 1:
        raise rules.invalid("grid_id", "您负责多个网格，请选择活动所属网格")
    only = next(iter(principal.grid_ids))
    return require_role(principal, Role.GRID_WORKER, grid_id=only), only


def _location(location: dict | None) -> dict | None:
    if location is None:
        return None
    return {"address": location["address"], "lat": location["lat"], "lng": location["lng"],
            "radius_m": location.get("radius_m") or rules.RADIUS_DEFAULT}


def _within_cap(points_per_hour: int):
    """The community's points-per-hour cap as the publication's condition (a setting changed meanwhile holds)."""
    within = CommunityModel.points_per_hour_cap >= points_per_hour
    if points_per_hour <= rules.POINTS_PER_HOUR_CAP_DEFAULT:
        within |= CommunityModel.points_per_hour_cap.does_not_exist()
    return within


def _over_cap(points_per_hour: int):
    def classify(current: CommunityModel | None) -> DomainError:
        cap = rules.points_per_hour_cap(current.points_per_hour_cap if current is not None else None)
        try:
            rules.check_points_per_hour(points_per_hour, cap)
        except DomainError as refusal:
            return refusal
        return Conflict("社区设置刚刚有变化，请重试")
    return classify


def publish(container: Container, principal: Principal, *, title: str, kind: str, starts_at: datetime,
            ends_at: datetime, signup_deadline: datetime | None, location: dict | None, capacity: int,
            points_per_hour: int, allow_walk_ins: bool, description: str | None, grid_id: str | None,
            unit_id: str | None = None) -> dict:
    """``unit_id``: the co-building unit that runs it (one of its pledged activities, usecases/service_cards.py):
    the unit read with its agreement with the community (one BatchGetItem: its name is carried), and the agreement
    in force a ConditionCheck of the publication's transaction (404/409 naming ``unit_id``)."""
    grant, grid_id = _publishing_grant(principal, grid_id)
    now = utcnow()
    rules.check_times(starts_at, ends_at, signup_deadline, now)
    unit = service_cards.running_unit(unit_id, grant.community_id, now) if unit_id else None
    organiser = current_user(principal)
    content_check(container, organiser, title, description, scene=Scene.FORUM, what="event")
    event = EventModel(new_id("ev"), community_id=grant.community_id, grid_id=grid_id, title=title, kind=kind,
                       description=description, status="open", starts_at=starts_at, ends_at=ends_at,
                       signup_deadline=signup_deadline or starts_at,
                       signup_closes_at=rules.signup_closes_at(starts_at, signup_deadline),
                       location=_location(location), capacity=capacity, signed_count=0, waitlist_count=0,
                       waitlist_seq=0, promotions=0, points_per_hour=points_per_hour, allow_walk_ins=allow_walk_ins,
                       organiser_id=organiser.id, organiser_nickname=organiser.nickname or DEFAULT_NICKNAME,
                       unit_id=unit.id if unit else None, unit_name=unit.name if unit else None,
                       created_at=now, updated_at=now)
    # The first scheduled step: the 24 h reminder, or (starting within the hour) closing attendance after the end.
    event.due_shard = rules.due_shard(event.id)
    event.due_at = rules.reminder_due(starts_at, None, now) or ends_at + rules.CLOSE_AFTER_END
    tx = check_grant(Tx(), grant).put(event, condition=EventModel.id.does_not_exist())
    if points_per_hour:
        tx.check(CommunityModel, grant.community_id, condition=_within_cap(points_per_hour),
                 error=_over_cap(points_per_hour))
    if grid_id is not None:  # the grid exists in this community (an admin may name any id)
        tx.check(GridModel, grant.community_id, grid_id, condition=GridModel.id.exists(), error=GRID_UNKNOWN)
    if unit is not None:
        service_cards.agreement_checks(tx, unit.id, grant.community_id, now)
    count(tx, event, {"published": 1, "capacity": capacity})
    answer = present(event, manage=True, now=now)
    tx.commit(answer)
    metrics.count("event_published")
    log.info("event published", extra={"event_id": event.id, "kind": kind, "capacity": capacity})
    return answer


def _refused_to_manage(now: datetime):
    def classify(current: EventModel | None) -> DomainError:
        if current is None:
            return EVENT_NOT_FOUND
        return rules.manage_refusal(current.status or "open", current.ends_at, now) or EventMoved()
    return classify


def _managed(now: datetime):
    return not_cancelled() & (EventModel.ends_at > now)


def _event_changed_message(event: EventModel, tx: Tx, after: EventModel, now: datetime) -> None:
    notifications.fan_out(
        tx, key=f"event#{event.id}#changed#{int(now.timestamp() * 1000)}", kind="event_changed",
        audience=notifications.roster_audience(event.id, ["signed", "waitlisted"],
                                               sync_starts_at=after.starts_at.isoformat()
                                               if after.starts_at != event.starts_at else None),
        data={"event_id": event.id, "title": after.title, "starts_at": after.starts_at.isoformat(),
              "ends_at": after.ends_at.isoformat()},
        page=notifications.EVENT_PAGE.format(id=event.id), community_id=event.community_id)


def _text_checked(container: Container, principal: Principal, event: EventModel, *texts: str | None,
                  what: str) -> None:
    """The organiser's text passes WeChat's content check, once, after the event's own refusal (cancelled,
    ended) and before the write's rounds."""
    if any(texts):
        refusal = rules.manage_refusal(event.status or "open", event.ends_at, utcnow())
        if refusal:
            raise refusal
        content_check(container, current_user(principal), *texts, scene=Scene.FORUM, what=what)


def update(container: Container, principal: Principal, event_id: str, changes: dict[str, Any]) -> dict:
    """PATCH: title, description, times, capacity, location, the running unit. Raising capacity promotes from the
    waitlist (the first batch in this transaction, the rest right after); lowering it below the signed is refused.
    ``unit_id`` (None: no unit) sets or clears the unit whose pledged activity it is, under publication's rule: a
    new unit is read with its agreement (``service_cards.running_unit``: 404/409 naming ``unit_id``) and the
    agreement in force is a ConditionCheck of this transaction; the unit already named is no change (no read)."""
    event = load(principal, event_id)
    grant = organiser_grant(principal, event)
    _text_checked(container, principal, event, changes.get("title"), changes.get("description"), what="event")
    unit_changed = "unit_id" in changes and changes["unit_id"] != event.unit_id
    unit = None
    if unit_changed and changes["unit_id"] is not None:
        refusal = rules.manage_refusal(event.status or "open", event.ends_at, utcnow())
        if refusal:  # an ended or cancelled event is 409 INVALID_STATE before the unit is looked at
            raise refusal
        unit = service_cards.running_unit(changes["unit_id"], event.community_id, utcnow())
    for attempt in rounds():
        now = utcnow()
        refusal = rules.manage_refusal(event.status or "open", event.ends_at, now)
        if refusal:
            raise refusal
        merged = {name: changes.get(name, getattr(event, name)) for name in ("starts_at", "ends_at", "signup_deadline")}
        times_changed = any(name in changes and changes[name] != getattr(event, name) for name in merged)
        if "starts_at" in changes and "signup_deadline" not in changes and event.signup_deadline is not None \
                and event.signup_deadline >= event.starts_at:
            merged["signup_deadline"] = merged["starts_at"]  # a deadline "at the start" follows the start
        if times_changed:
            rules.check_times(merged["starts_at"], merged["ends_at"], merged["signup_deadline"], now,
                              starts_changed="starts_at" in changes and changes["starts_at"] != event.starts_at,
                              deadline_changed="signup_deadline" in changes
                              and changes["signup_deadline"] != event.signup_deadline)
        capacity = changes.get("capacity", int(event.capacity))
        signed = int(event.signed_count or 0)
        if capacity < signed:
            raise CapacityBelowSigned(details={"signed_count": signed})
        values: dict[str, Any] = {"title": changes.get("title", event.title), **merged, "capacity": capacity,
                                  "signup_closes_at": rules.signup_closes_at(merged["starts_at"],
                                                                             merged["signup_deadline"]),
                                  "updated_at": now}
        if "description" in changes:
            values["description"] = changes["description"]
        if "location" in changes:
            values["location"] = _location(changes["location"])
        if unit_changed:
            values["unit_id"], values["unit_name"] = (unit.id, unit.name) if unit else (None, None)
        if times_changed and merged["starts_at"] != event.starts_at:
            values["reminded_for"] = None  # a new start gets its own reminder
        after = as_changed(event, values)
        tx = check_grant(Tx(), grant)
        free = capacity - signed if after.starts_at > now else 0  # no promotion once it has started
        k, more, promotion_actions, deltas = promotion_batch(tx, after, now, free=free)
        actions = [getattr(EventModel, name).remove() if value is None else getattr(EventModel, name).set(value)
                   for name, value in values.items()]
        tx.update(EventModel(event.id), actions + promotion_actions + next_due(after, now, fill_needed=more),
                  condition=_managed(now) & (EventModel.signed_count == signed)
                  & (EventModel.waitlist_count == int(event.waitlist_count or 0))
                  & (EventModel.capacity == int(event.capacity)), error=_refused_to_manage(now))
        if unit is not None:
            service_cards.agreement_checks(tx, unit.id, event.community_id, now)
        if capacity != int(event.capacity):
            deltas["capacity"] = capacity - int(event.capacity)
        count(tx, event, deltas)
        if times_changed:
            _event_changed_message(event, tx, after, now)
        shown = as_changed(after, {"signed_count": signed + k, "waitlist_count": int(event.waitlist_count or 0) - k})
        answer = present(shown, manage=True, now=now)
        try:
            tx.commit(answer)
        except (EventMoved, CandidateGone):
            backoff(attempt)
            event = reread(event.id)
            continue
        metrics.count("signup_promoted", k)
        if more:
            fill(event.id, now)
        log.info("event changed", extra={"event_id": event.id, "promoted": k, "fields": sorted(changes)})
        return answer
    raise StorageBusy()


def cancel(container: Container, principal: Principal, event_id: str, reason: str) -> dict:
    """Cancel before the end: everyone signed or waiting is told (one fan-out item)."""
    event = load(principal, event_id)
    grant = organiser_grant(principal, event)
    _text_checked(container, principal, event, reason, what="cancellation reason")
    for attempt in rounds():
        now = utcnow()
        refusal = rules.manage_refusal(event.status or "open", event.ends_at, now)
        if refusal:
            raise refusal
        signed, capacity = int(event.signed_count or 0), int(event.capacity)
        values = {"status": "cancelled", "cancel_reason": reason, "cancelled_at": now, "updated_at": now}
        tx = check_grant(Tx(), grant)
        # The counters as read are conditions: the statistics take this event's places and sign-ups out exactly.
        tx.update(EventModel(event.id), [getattr(EventModel, n).set(v) for n, v in values.items()]
                  + [EventModel.due_shard.remove(), EventModel.due_at.remove()],
                  condition=_managed(now) & (EventModel.signed_count == signed) & (EventModel.capacity == capacity),
                  error=_refused_to_manage(now))
        count(tx, event, {"cancelled": 1, "capacity": -capacity, "signed": -signed})
        notifications.fan_out(tx, key=f"event#{event.id}#cancelled", kind="event_cancelled",
                              audience=notifications.roster_audience(event.id, ["signed", "waitlisted"]),
                              data={"event_id": event.id, "title": event.title,
                                    "starts_at": event.starts_at.isoformat(), "reason": reason},
                              page=notifications.EVENT_PAGE.format(id=event.id), community_id=event.community_id)
        answer = present(as_changed(event, values), manage=True, now=now)
        try:
            tx.commit(answer)
        except EventMoved:
            backoff(attempt)
            event = reread(event.id)
            continue
        metrics.count("event_cancelled")
        log.info("event cancelled", extra={"event_id": event.id, "signed": signed})
        return answer
    raise StorageBusy()
