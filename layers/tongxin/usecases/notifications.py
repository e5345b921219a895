"""Outbox items: messages to push (订阅消息), written inside the transaction of the change that causes them.

The sender (``usecases/push``) maps ``kind`` to a template and ``data`` to its fields. An item with a ``key``
derived from its cause (e.g. ``wish#<id>#overdue#<worker>``) can be written only once.

A change that must tell many people (an event cancelled for 300, a grid with many workers) writes ONE fan-out
item (``fan_out``) in its transaction: a DynamoDB transaction holds at most 100 items, so no audience size can
break the change. ``expand`` (the sender, from the outbox stream) or ``expand_fanouts`` (the scheduler's sweep, for
what the stream missed) turns it into one message per person, each keyed ``<fan-out id>#<person>``: a repeated or
resumed expansion adds nothing.
"""
from __future__ import annotations

import logging
from typing import Iterator

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..adapters.dynamo import binding
from ..adapters.dynamo.models import (
    CommunityModel, DepartmentModel, DistrictModel, GridModel, OutboxModel, SignupModel, StreetModel,
)
from ..adapters.dynamo.tx import Tx
from ..domain import push as push_rules
from ..domain.clock import utcnow
from ..domain.errors import Conflict, DomainError, StorageBusy
from ..domain.ids import new_id

log = logging.getLogger(__name__)

WISH_PAGE = "pages/wish/detail?id={id}"
EVENT_PAGE = "pages/event/detail?id={id}"
REQUEST_PAGE = "pages/request/detail?id={id}"
FANOUT_PENDING = "pending"
# Messages written per transaction while expanding (DynamoDB's limit is 100 items).
EXPANSION_BATCH = 50


def enqueue(tx: Tx, *, kind: str, recipient_id: str, data: dict, page: str | None = None,
            community_id: str | None = None, key: str | None = None,
            duplicate_error: Conflict | None = None) -> OutboxModel:
    item = new_message(key or new_id("msg"), recipient_id=recipient_id, kind=kind, data=data, page=page,
                       community_id=community_id, now=utcnow())
    tx.put(item, condition=OutboxModel.id.does_not_exist(), error=duplicate_error)
    return item


def new_message(message_id: str, *, recipient_id: str, kind: str, data: dict, page: str | None,
                community_id: str | None, now) -> OutboxModel:
    """A pending message, due at once on the sender's index (the stream delivers it within seconds in AWS; the
    sweep finds it if the stream did not)."""
    return OutboxModel(message_id, recipient_id=recipient_id, kind=kind, data=data, page=page, status="pending",
                       attempts=0, community_id=community_id, created_at=now, retry_shard=push_rules.retry_shard(
                           message_id), next_attempt_at=now)


# --- fan-out -------------------------------------------------------------------------------------------

def roster_audience(event_id: str, statuses: list[str], *, sync_starts_at: str | None = None) -> dict:
    """Everyone of ``event_id`` whose sign-up is in one of ``statuses`` when the item is expanded.
    ``sync_starts_at``: also move their sign-up's copy of the start time (an event rescheduled)."""
    audience = {"type": "roster", "event_id": event_id, "statuses": list(statuses)}
    if sync_starts_at:
        audience["sync_starts_at"] = sync_starts_at
    return audience


def grid_audience(community_id: str, grid_id: str | None) -> dict:
    """The grid's workers when the item is expanded (none for a wish with no grid)."""
    return {"type": "grid_workers", "community_id": community_id, "grid_id": grid_id}


def community_admins_audience(community_id: str) -> dict:
    """The community's admins when the item is expanded (``CommunityModel.admin_ids``)."""
    return {"type": "community_admins", "community_id": community_id}


def street_staff_audience(street_id: str) -> dict:
    """The street's staff when the item is expanded (``StreetModel.staff_ids``)."""
    return {"type": "street_staff", "street_id": street_id}


def district_staff_audience(district_id: str) -> dict:
    """The district's staff when the item is expanded (``DistrictModel.staff_ids``)."""
    return {"type": "district_staff", "district_id": district_id}


def department_staff_audience(department_id: str) -> dict:
    """The department's staff when the item is expanded (``DepartmentModel.staff_ids``)."""
    return {"type": "department_staff", "department_id": department_id}


def unit_liaisons_audience(unit_id: str) -> dict:
    """A unit's liaisons when the item is expanded (``UnitModel.liaison_ids``)."""
    return {"type": "unit_liaisons", "unit_id": unit_id}


def community_members_audience(community_id: str) -> dict:
    """Every member of the community when the item is expanded (the directory's ``all#`` entries, page by page)."""
    return {"type": "community_members", "community_id": community_id}


def round_non_voters_audience(community_id: str, round_id: str) -> dict:
    """The community's members who have no ballot in ``round_id`` when each page is expanded (微实事's reminder)."""
    return {"type": "round_non_voters", "community_id": community_id, "round_id": round_id}


def fan_out(tx: Tx, *, key: str, kind: str, audience: dict, data: dict, page: str | None,
            community_id: str | None, duplicate_error: DomainError | None = None) -> OutboxModel:
    """Add to ``tx`` one fan-out item, written once per ``key`` (a cause already told is not told again)."""
    item = OutboxModel(key, recipient_id="*", kind=kind, data=data, page=page, status="fanout", attempts=0,
                       community_id=community_id, audience=audience, fanout_key=FANOUT_PENDING, created_at=utcnow())
    tx.put(item, condition=OutboxModel.id.does_not_exist(), error=duplicate_error or Conflict("这个通知已经发出"))
    return item


def _roster_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    """Pages of recipients from ``cursor`` on, each with the cursor that resumes after it."""
    from ..domain.events import roster_key
    statuses = audience["statuses"]
    section, key = (cursor or {}).get("section", 0), (cursor or {}).get("key")
    while section < len(statuses):
        results = SignupModel.by_roster.query(roster_key(audience["event_id"], statuses[section]),
                                              last_evaluated_key=key, page_size=EXPANSION_BATCH)
        raw = next(results.page_iter, None) or {}
        people = [item["user_id"]["S"] for item in raw.get("Items", [])]
        key = results.page_iter.last_evaluated_key
        if not key:
            section, key = section + 1, None
        yield people, {"section": section, "key": key}


def _set_pages(people: set | None) -> Iterator[tuple[list[str], dict | None]]:
    """A set kept on one item (a grid's workers, a community's admins, a street's staff), in pages."""
    ordered = sorted(people or ())
    for start in range(0, len(ordered), EXPANSION_BATCH):
        yield ordered[start:start + EXPANSION_BATCH], {"section": 1, "key": None}


def _item_set(model_cls, keys: tuple, attribute: str) -> set | None:
    try:
        return getattr(model_cls.get(*keys), attribute)
    except DoesNotExist:
        return None


def _grid_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    if cursor or not audience.get("grid_id"):
        return
    yield from _set_pages(_item_set(GridModel, (audience["community_id"], audience["grid_id"]), "worker_ids"))


def _admin_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    if not cursor:
        yield from _set_pages(_item_set(CommunityModel, (audience["community_id"],), "admin_ids"))


def _street_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    if not cursor and audience.get("street_id"):
        yield from _set_pages(_item_set(StreetModel, (audience["street_id"],), "staff_ids"))


def _district_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    if not cursor and audience.get("district_id"):
        yield from _set_pages(_item_set(DistrictModel, (audience["district_id"],), "staff_ids"))


def _department_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    if not cursor and audience.get("department_id"):
        yield from _set_pages(_item_set(DepartmentModel, (audience["department_id"],), "staff_ids"))


def _unit_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    from ..adapters.dynamo.models import UnitModel
    if not cursor and audience.get("unit_id"):
        yield from _set_pages(_item_set(UnitModel, (audience["unit_id"],), "liaison_ids"))


def _member_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    """The community's members, a page of the directory at a time, from ``cursor`` on."""
    from ..adapters.dynamo.models import MemberEntryModel
    if cursor is not None and cursor.get("key") is None:
        return  # finished
    key = (cursor or {}).get("key")
    while True:
        results = MemberEntryModel.query(audience["community_id"], MemberEntryModel.entry_key.startswith("all#"),
                                         last_evaluated_key=key, page_size=EXPANSION_BATCH)
        raw = next(results.page_iter, None) or {}
        people = [item["user_id"]["S"] for item in raw.get("Items", [])]
        key = results.page_iter.last_evaluated_key
        yield people, {"section": 0, "key": key}
        if not key:
            return


def _non_voter_pages(audience: dict, cursor: dict | None) -> Iterator[tuple[list[str], dict | None]]:
    """The members' pages without those who voted in the round (one BatchGet of the page's ballots each)."""
    from ..adapters.dynamo.models import BallotModel
    for people, next_cursor in _member_pages(audience, cursor):
        voted = {b.user_id for b in BallotModel.batch_get([(audience["round_id"], p) for p in people],
                                                           attributes_to_get=["round_id", "user_id"])} if people else set()
        yield [p for p in people if p not in voted], next_cursor


AUDIENCES = {"roster": _roster_pages, "grid_workers": _grid_pages, "community_admins": _admin_pages,
             "street_staff": _street_pages, "district_staff": _district_pages, "department_staff": _department_pages,
             "unit_liaisons": _unit_pages, "community_members": _member_pages, "round_non_voters": _non_voter_pages}


def _put_new(messages: list[OutboxModel]) -> int:
    """Write the messages not written yet, as one transaction (a repeat finds them and leaves them)."""
    written = 0
    while messages:
        try:
            with TransactWrite(connection=binding.connection()) as tw:
                for message in messages:
                    tw.save(message, condition=OutboxModel.id.does_not_exist())
            return written + len(messages)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            taken = {i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"}
            if not taken:
                raise
            messages = [m for i, m in enumerate(messages) if i not in taken]
    return written


def _sync_starts_at(event_id: str, people: list[str], starts_at: str) -> None:
    from datetime import datetime
    moment = datetime.fromisoformat(starts_at)
    for user_id in people:
        try:
            Tx().update(SignupModel(event_id, user_id), [SignupModel.event_starts_at.set(moment)],
                        condition=SignupModel.user_id.exists()).commit()
        except StorageBusy:
            raise  # not "gone": the expansion stays pending and is resumed
        except DomainError:
            pass  # the sign-up is gone: nothing to move


def expand(item: OutboxModel) -> int:
    """Write the per-person messages of one fan-out item from where a previous run stopped; mark it expanded."""
    pages = AUDIENCES[item.audience["type"]](item.audience, item.fanout_cursor)
    total = int(item.expanded_count or 0)
    for people, cursor in pages:
        now = utcnow()
        if people:
            total += _put_new([new_message(f"{item.id}#{person}", recipient_id=person, kind=item.kind,
                                           data=item.data, page=item.page, community_id=item.community_id, now=now)
                               for person in people])
            if item.audience.get("sync_starts_at"):
                _sync_starts_at(item.audience["event_id"], people, item.audience["sync_starts_at"])
        OutboxModel(item.id).update(actions=[OutboxModel.fanout_cursor.set(cursor),
                                             OutboxModel.expanded_count.set(total)],
                                    condition=OutboxModel.status == "fanout")
    from datetime import timedelta
    expires = utcnow() + timedelta(days=push_rules.FINAL_KEPT_DAYS)  # final: kept as long as its messages
    OutboxModel(item.id).update(actions=[OutboxModel.status.set("expanded"), OutboxModel.fanout_key.remove(),
                                         OutboxModel.expires_at.set(expires)],
                                condition=OutboxModel.status == "fanout")
    return total


def expand_fanouts() -> dict:
    """Expand every fan-out item still waiting (the sweep's first step: the stream handler expands new ones)."""
    done = {"fanouts": 0, "messages": 0}
    for item in OutboxModel.by_fanout.query(FANOUT_PENDING):
        try:
            done["messages"] += expand(item)
            done["fanouts"] += 1
        except Exception:  # one bad item must not starve the others; it stays pending for the next run
            log.exception("fan-out expansion failed", extra={"fanout_id": item.id})
    if done["fanouts"]:
        log.info("fan-outs expanded", extra=done)
    return done
