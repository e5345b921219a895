"""Signing up (报名), the waitlist and promotion.

- A sign-up is ONE transaction: the sign-up item (condition: none standing for this user) and the event's
  counter (condition: ``signed_count < capacity``, sign-up open). When the event is full the waitlist transaction
  runs instead: the sign-up with its ticket and the event's ``waitlist_count`` (condition: still full, still open).
  A place freed meanwhile fails the condition, and the request tries again from the event as it now stands.
- The ticket is taken first, from the event's dispenser: one atomic ADD on ``waitlist_seq`` (condition: full and
  open) that answers the ticket and the departures so far — unique tickets in order of arrival, and the position
  (ticket − departures) exact when answered. It used to be a compare-and-set inside the transaction: a burst of
  sign-ups for one event then lost round after round to each other (O(n²) work; 1–3 of 150 ran out of time). A
  ticket whose transaction then fails (a place freed, a double tap) is a gap: positions are counted from the
  tickets still waiting, so a gap moves nobody; only the answered position of a later ticket is one too high until
  it is read again.
- Giving up a place promotes the first ticket still waiting, in the same transaction (its condition: still
  waitlisted). The first is found by a Query on the waitlist index, ordered by ticket; a person who left meanwhile
  fails the condition and the next one is tried.
"""
from __future__ import annotations

import logging
import random
import time
from datetime import datetime
from typing import Any, Callable

from ... import metrics
from ...adapters.dynamo import counters
from ...adapters.dynamo.guards import check_active, check_grant
from ...adapters.dynamo.models import EventModel, SignupModel
from ...adapters.dynamo.tx import Tx
from ...domain import events as rules
from ...domain.access import Principal, Role, require_role
from ...domain.clock import utcnow
from ...domain.errors import AlreadySignedUp, DomainError, NotSignedUp, StorageBusy
from ...domain.events import SignupStatus as St
from .. import notifications
from ..access import current_user
from .reading import DEFAULT_NICKNAME, EVENT_NOT_FOUND, can_manage, load, present

log = logging.getLogger(__name__)

# Optimistic rounds under contention (a burst of sign-ups for one event: each round re-reads the event and tries
# again), at most this many and within this much time, then 503 (the client may retry). The time budget is what a
# user waits for: it stays within the API function's 10 s. A fixed count of 30 was used up by 1–2 of 300 sign-ups
# racing from 16 clients (infra/proof/burst/).
MAX_ATTEMPTS = 200
ROUNDS_BUDGET_SECONDS = 7.0
CANDIDATES = 5  # waitlisted people read per promotion round


class EventMoved(DomainError):
    """The event moved since it was read (a place freed or taken, a ticket issued): try again (internal).
    ``current``: the event as the failed condition saw it (DynamoDB returns it with the cancellation), so the next
    round need not read it again."""

    def __init__(self, current: EventModel | None = None):
        super().__init__()
        self.current = current


def rounds():
    """The attempt numbers of an optimistic loop, while its budget lasts (count and time)."""
    started = time.monotonic()
    for attempt in range(MAX_ATTEMPTS):
        if attempt and time.monotonic() - started > ROUNDS_BUDGET_SECONDS:
            return
        yield attempt


def backoff(attempt: int) -> None:
    """A short random pause before the next round, SHORTER the more rounds a request has lost: every round of a
    contended event has one winner, and a pause that grew with the losses (as exponential backoff does) let fresh
    requests overtake the old ones again and again — the oldest ran out of rounds (1–3 of 150 in a burst)."""
    time.sleep(random.uniform(0, max(0.005, 0.06 / (1 + attempt))))


def reread(event_id: str) -> EventModel:
    event = EventModel.get(event_id, consistent_read=True)
    return event


def count(tx: Tx, event: EventModel, deltas: dict[str, int]) -> None:
    """Add ``deltas`` to the community's event statistics (the day and month the event was published), in ``tx``."""
    named = rules.stats_deltas(deltas)
    for key in rules.stats_keys(event.community_id, event.created_at):
        counters.add(tx, key, named)


def not_cancelled():
    """The event stands. Events written before ``status`` and ``signup_closes_at`` existed (a developer's saved
    local data from the demo seed of earlier versions) lack them: absent means open, and the deadline decides."""
    return EventModel.status.does_not_exist() | (EventModel.status == "open")


def _open_condition(now: datetime):
    closes = (EventModel.signup_closes_at > now) | (EventModel.signup_closes_at.does_not_exist()
                                                    & (EventModel.signup_deadline > now) & (EventModel.starts_at > now))
    return not_cancelled() & closes


def _refusal_or_retry(now: datetime):
    """Classify a failed event condition of a sign-up from the event as it stood."""
    def classify(current: EventModel | None) -> DomainError:
        if current is None:
            return EVENT_NOT_FOUND
        closes_at = current.signup_closes_at or rules.signup_closes_at(current.starts_at, current.signup_deadline)
        refusal = rules.signup_refusal(current.status or "open", current.starts_at, current.ends_at, closes_at, now)
        return refusal or EventMoved(current)
    return classify


def _message_data(event: EventModel, **extra: Any) -> dict:
    return {"event_id": event.id, "title": event.title, "starts_at": event.starts_at.isoformat(), **extra}


def _signup(event: EventModel, user_id: str, nickname: str, status: St, now: datetime,
            position: int | None = None) -> SignupModel:
    return SignupModel(event.id, user_id, community_id=event.community_id, position=position,
                       nickname=nickname, event_starts_at=event.starts_at,
                       **rules.roster_fields(event.id, status.value, now, position), mine_key=user_id,
                       created_at=now, signed_at=now if status is St.SIGNED else None, updated_at=now)


def take_ticket(event_id: str, now: datetime) -> tuple[int, int] | None:
    """The next waitlist ticket and the departures from the waitlist so far (promotions and people who left), in
    one conditional UpdateItem; None when the event has a free place or sign-up closed (re-read and decide)."""
    from pynamodb.exceptions import UpdateError
    dispenser = EventModel(event_id)
    try:
        dispenser.update(actions=[EventModel.waitlist_seq.add(1)],
                         condition=_open_condition(now) & (EventModel.signed_count >= EventModel.capacity))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return int(dispenser.waitlist_seq), int(dispenser.promotions or 0) + int(dispenser.waitlist_left or 0)


def sign_up(principal: Principal, event_id: str) -> dict:
    event, mine = load(principal, event_id, with_mine=True)
    roles = (Role.VOLUNTEER, Role.PARTY_MEMBER) if event.kind == "volunteer_service" else (Role.RESIDENT,)
    grant = require_role(principal, *roles)
    now = utcnow()
    closes_at = event.signup_closes_at or rules.signup_closes_at(event.starts_at, event.signup_deadline)
    refusal = rules.signup_refusal(event.status or "open", event.starts_at, event.ends_at, closes_at, now)
    if refusal:
        raise refusal
    if mine is not None and mine.status in rules.STANDING:
        raise AlreadySignedUp()
    nickname = current_user(principal).nickname or DEFAULT_NICKNAME
    not_standing = SignupModel.user_id.does_not_exist() | (SignupModel.status == St.CANCELLED.value)
    ticket: tuple[int, int] | None = None
    for attempt in rounds():
        full = int(event.signed_count or 0) >= int(event.capacity)
        tx = check_grant(Tx(), grant)
        if not full:
            signup = _signup(event, principal.user_id, nickname, St.SIGNED, now)
            tx.update(EventModel(event.id), [EventModel.signed_count.add(1)],
                      condition=_open_condition(now) & (EventModel.signed_count < EventModel.capacity),
                      error=_refusal_or_retry(now))
            count(tx, event, {"signups": 1, "signed": 1})
            after = {"signed_count": int(event.signed_count or 0) + 1}
            position = None
        else:
            if ticket is None:  # kept across rounds: a request waits in the order it arrived
                ticket = take_ticket(event.id, now)
                if ticket is None:  # a place freed (or sign-up closed) since the read: decide again
                    backoff(attempt)
                    event = reread(event.id)
                    continue
            number, departed = ticket
            signup = _signup(event, principal.user_id, nickname, St.WAITLISTED, now, position=number)
            tx.update(EventModel(event.id), [EventModel.waitlist_count.add(1)],
                      condition=_open_condition(now) & (EventModel.signed_count >= EventModel.capacity),
                      error=_refusal_or_retry(now))
            count(tx, event, {"signups": 1, "waitlisted": 1})
            after = {"waitlist_seq": max(number, int(event.waitlist_seq or 0)),
                     "waitlist_count": int(event.waitlist_count or 0) + 1}
            position = max(1, number - departed)
        tx.put(signup, condition=not_standing, error=AlreadySignedUp())
        shown = as_changed(event, after)
        answer = {"event_id": event.id, "status": signup.status, "position": position,
                  "event": present(shown, mine=signup, position=position, manage=can_manage(principal, event), now=now)}
        try:
            tx.commit(answer)
        except EventMoved as moved:
            backoff(attempt)
            event = moved.current if moved.current is not None else reread(event.id)
            continue
        metrics.count(f"signup_{signup.status}")  # signed or waitlisted
        log.info("event sign-up", extra={"event_id": event.id, "status": signup.status, "attempts": attempt + 1})
        return answer
    raise StorageBusy()


def as_changed(event: EventModel, changes: dict) -> EventModel:
    copy = EventModel.from_raw_data(event.serialize(null_check=False))
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


# --- promotion ----------------------------------------------------------------------------------------

def first_waiting(event_id: str, limit: int = CANDIDATES, after: int = 0) -> list[SignupModel]:
    """The first ``limit`` tickets still waiting (by the index, which may lag: each is re-checked by its own
    condition when promoted)."""
    key = rules.roster_key(event_id, St.WAITLISTED.value)
    return list(SignupModel.by_roster.query(key, SignupModel.roster_order > after, limit=limit))


class CandidateGone(DomainError):
    """The waitlisted person chosen has left or been promoted meanwhile (internal: try the next)."""


def _set(fields: dict) -> list:
    return [getattr(SignupModel, name).set(value) for name, value in fields.items()]


def promote(tx: Tx, event: EventModel, candidate: SignupModel, now: datetime) -> None:
    """Add to ``tx``: ``candidate`` goes from the waitlist to signed (condition: still holding that ticket) and is
    told. The event's counters are the caller's to move."""
    tx.update(SignupModel(candidate.event_id, candidate.user_id), [
        *_set(rules.roster_fields(event.id, St.SIGNED.value, now)), SignupModel.signed_at.set(now),
        SignupModel.promoted_at.set(now), SignupModel.updated_at.set(now)],
        condition=(SignupModel.status == St.WAITLISTED.value) & (SignupModel.position == candidate.position),
        error=CandidateGone())
    notifications.enqueue(tx, kind="event_promoted", recipient_id=candidate.user_id, data=_message_data(event),
                          page=notifications.EVENT_PAGE.format(id=event.id), community_id=event.community_id,
                          key=f"event#{event.id}#promoted#{candidate.user_id}#{int(candidate.position)}",
                          # The message exists: another request promoted this ticket first (the put comes before
                          # the sign-up's update in DynamoDB's order of reasons, so it is the one reported).
                          duplicate_error=CandidateGone())


def _cancel_mine(tx: Tx, mine: SignupModel, now: datetime, extra: dict | None = None) -> None:
    def refused(current: SignupModel | None) -> DomainError:
        if current is None or current.status not in (St.SIGNED.value, St.WAITLISTED.value):
            return NotSignedUp()
        return EventMoved()  # promoted (or signed up again) since it was read: give up what is held now

    # A given-up sign-up leaves the user's list (GET /v1/me/events) but stays findable by its own key: 注销 erases
    # the name on every sign-up the person ever made.
    fields = {**rules.roster_fields(mine.event_id, St.CANCELLED.value, now),
              "mine_key": rules.cancelled_mine_key(mine.user_id), "cancelled_at": now, "updated_at": now,
              **(extra or {})}
    tx.update(SignupModel(mine.event_id, mine.user_id), _set(fields),
              condition=(SignupModel.status == mine.status) & _same_position(mine), error=refused)


def _same_position(signup: SignupModel):
    return SignupModel.position == signup.position if signup.position is not None else SignupModel.position.does_not_exist()


def _give_up_condition(now: datetime):
    return not_cancelled() & (EventModel.starts_at > now)


def _give_up_refusal(now: datetime):
    def classify(current: EventModel | None) -> DomainError:
        if current is None:
            return EVENT_NOT_FOUND
        return rules.give_up_refusal(current.status or "open", current.starts_at, now) or EventMoved()
    return classify


def give_up(principal: Principal, event_id: str) -> dict:
    """Give up a place (or leave the waitlist) until the start; the first waiting ticket takes the place."""
    event, mine = load(principal, event_id, with_mine=True)
    return release(event, mine, lambda: load(principal, event_id, with_mine=True),
                   manage=can_manage(principal, event))


def release(event: EventModel, mine: SignupModel | None, reread_both: Callable[[], tuple], *, manage: bool = False,
            erase: dict | None = None) -> dict:
    """``mine`` gives up its place or its ticket (the first waiting ticket takes a place given up), in one
    transaction that also checks the person is still active; ``erase`` adds fields to the cancelled sign-up (注销
    erases the name in the same write). After a lost race, ``reread_both()`` gives the event and sign-up anew."""
    tried: set[str] = set()
    for attempt in rounds():
        if mine is None or mine.status not in (St.SIGNED.value, St.WAITLISTED.value):
            raise NotSignedUp()
        now = utcnow()
        refusal = rules.give_up_refusal(event.status or "open", event.starts_at, now)
        if refusal:
            raise refusal
        tx = check_active(Tx(), mine.user_id)
        _cancel_mine(tx, mine, now, erase)
        candidate = None
        waiting = int(event.waitlist_count or 0)
        if mine.status == St.WAITLISTED.value:
            tx.update(EventModel(event.id), [EventModel.waitlist_count.add(-1), EventModel.waitlist_left.add(1)],
                      condition=_give_up_condition(now), error=_give_up_refusal(now))
            count(tx, event, {"left": 1})
            changes = {"waitlist_count": waiting - 1}
        else:
            candidates = [c for c in first_waiting(event.id) if c.user_id not in tried] if waiting else []
            candidate = candidates[0] if candidates else None
            if candidate is not None:
                promote(tx, event, candidate, now)
                tx.update(EventModel(event.id), [EventModel.waitlist_count.add(-1), EventModel.promotions.add(1)],
                          condition=_give_up_condition(now) & (EventModel.waitlist_count > 0),
                          error=_give_up_refusal(now))
                count(tx, event, {"left": 1, "promotions": 1})
                changes = {"waitlist_count": waiting - 1}
            else:
                # Nobody to promote as far as the index shows; if the event says someone waits, the index lags:
                # free the place and leave the filling to the scheduler (the event becomes due now).
                actions = [EventModel.signed_count.add(-1)]
                if waiting:
                    actions += [EventModel.due_shard.set(rules.due_shard(event.id)), EventModel.due_at.set(now)]
                tx.update(EventModel(event.id), actions,
                          condition=_give_up_condition(now) & (EventModel.waitlist_count == waiting),
                          error=_give_up_refusal(now))
                count(tx, event, {"left": 1, "signed": -1})
                changes = {"signed_count": int(event.signed_count or 0) - 1}
        answer = _left(event, mine, changes, manage, now)
        try:
            tx.commit(answer)
        except (CandidateGone, EventMoved) as lost:
            if isinstance(lost, CandidateGone):
                tried.add(candidate.user_id)  # promoted by another request, or gone: the next one
            backoff(attempt)
            event, mine = reread_both()
            if event is None:
                raise EVENT_NOT_FOUND from None
            continue
        metrics.count("signup_given_up")
        metrics.count("signup_promoted", int(candidate is not None))
        log.info("event place given up", extra={"event_id": event.id, "was": mine.status,
                                                "promoted": candidate is not None})
        return answer
    raise StorageBusy()


def _left(event: EventModel, mine: SignupModel, changes: dict, manage: bool, now: datetime) -> dict:
    cancelled = SignupModel.from_raw_data(mine.serialize(null_check=False))
    cancelled.status = St.CANCELLED.value
    return {"event_id": event.id, "status": St.CANCELLED.value, "position": None,
            "event": present(as_changed(event, changes), mine=cancelled, manage=manage, now=now)}


def next_due(event: EventModel, now: datetime, *, fill_needed: bool = False) -> list:
    """The actions that set (or clear) the event's next scheduled step: now when places are left to fill from
    the waitlist, else the 24 h reminder, else closing its attendance 2 h after the end (none once closed)."""
    due = now if fill_needed else rules.reminder_due(event.starts_at, event.reminded_for, now)
    if due is None and event.closed_at is None:
        due = event.ends_at + rules.CLOSE_AFTER_END
    if (event.status or "open") != "open" or due is None:
        return [EventModel.due_shard.remove(), EventModel.due_at.remove()]
    return [EventModel.due_shard.set(rules.due_shard(event.id)), EventModel.due_at.set(due)]


def promotion_batch(tx: Tx, event: EventModel, now: datetime, *, free: int) -> tuple[int, bool, list, dict]:
    """Add to ``tx`` the promotion of the first waiting tickets into ``free`` places (at most
    ``PROMOTIONS_PER_TRANSACTION``). Returns how many, whether places and tickets remain after, the event actions
    that keep its counters exact (the caller conditions the event on the counters it read) and the statistics
    deltas (the caller adds them, with its own, in one update per counter item)."""
    waiting = int(event.waitlist_count or 0)
    wanted = min(free, waiting, rules.PROMOTIONS_PER_TRANSACTION)
    candidates = first_waiting(event.id, limit=wanted) if wanted > 0 else []
    for candidate in candidates:
        promote(tx, event, candidate, now)
    k = len(candidates)
    if not k:
        return 0, False, [], {}
    actions = [EventModel.signed_count.add(k), EventModel.waitlist_count.add(-k), EventModel.promotions.add(k)]
    return k, free - k > 0 and waiting - k > 0, actions, {"signed": k, "promotions": k}


def fill(event_id: str, now: datetime) -> int:
    """Promote waiting tickets into free places until none is left or nobody waits, one transaction per batch,
    each conditioned on the counters it read (the scheduler's step, and the rest of a large capacity raise)."""
    promoted = 0
    for attempt in rounds():
        event = reread(event_id)
        free = int(event.capacity) - int(event.signed_count or 0)
        if (event.status or "open") != "open" or event.starts_at <= now:
            free = 0
        tx = Tx()
        k, more, actions, deltas = promotion_batch(tx, event, now, free=max(free, 0))
        count(tx, event, deltas)
        lagging = k == 0 and free > 0 and int(event.waitlist_count or 0) > 0  # the index has not caught up
        tx.update(EventModel(event.id), actions + next_due(event, now, fill_needed=more or lagging),
                  condition=(EventModel.signed_count == int(event.signed_count or 0))
                  & (EventModel.waitlist_count == int(event.waitlist_count or 0)), error=EventMoved())
        try:
            tx.commit()
        except (CandidateGone, EventMoved):
            backoff(attempt)
            continue
        promoted += k
        metrics.count("signup_promoted", k)
        if not more:
            break
    return promoted
