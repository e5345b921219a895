"""双报到 服务卡: a unit's service cards (``GET /v1/units/{unit_id}/service-cards``), its pledged activities (承诺活动)
and the quarter's close (the scheduler tells each unit's liaisons once that the quarter's cards are ready).

Who: the unit's liaison (``require_unit``) and its street's staff; another unit's liaison or another street's staff
404 (the unit is not acknowledged); anyone else 403.

A page is O(page): the unit (GetItem: who may see it, its name and kind), its agreements (one Query, ≤ 80), ONE Query
of the registrations' sparse ``by_unit`` index (the unit's approved party members, oldest approval first, ≤ 20), ONE
BatchGetItem of the page's service record items of the year up to the quarter asked (``service_record.read``: ≤ 4 a
member, ≤ 80 keys), and ONE BatchGetItem of the page's members' communities (their rules and names) with the unit's
activity counters of the quarter, one per agreement (≤ 20 + 80 keys). So 6 reads with the caller's, whatever the
unit's size; ``format=csv`` pages through every member (the unit, then 2 reads per 20 members, the communities read
once each): O(members).

Counted is the service record (``usecases/service_record.py``: what the members already do, never typed twice); a
member meets the rules by THEIR community's settings (``party_assessment.community_rules``).

Pledged activities: an event run by the unit (``unit_id`` on ``POST /v1/events``, checked here by
``running_unit`` / ``agreement_checks``) counts as held when the scheduler closes its attendance
(``checkins/settling.close_attendance`` → ``count_held``, in the closing's own transaction, once): ``activities_done``
of the quarter of its start in its community, against the agreement's ``activities_per_quarter``.
"""
from __future__ import annotations

import codecs
import csv
import io
import logging
from datetime import datetime

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.operand import Path, Value

from ..adapters.dynamo import batch
from ..adapters.dynamo.models import (
    CommunityModel, CounterModel, EventModel, OutboxModel, PartyRegistrationModel, UnitAgreementModel, UnitModel,
)
from ..adapters.dynamo.models.units import REGISTRY
from ..adapters.dynamo.tx import Tx
from ..domain import party as party_rules
from ..domain import service_cards as rules
from ..domain import units as unit_rules
from ..domain.access import Principal, Role
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, NotFound
from . import notifications, paging, service_record
from .party_assessment import community_rules
from ..domain.text import csv_cell

log = logging.getLogger(__name__)

PAGE_MAX = 20  # members a page: 20 × ≤ 4 quarters = 80 service record keys, one BatchGetItem
AGREEMENTS_MAX = 80  # a unit's agreements shown (one Query); with ≤ 20 communities: ≤ 100 keys, one BatchGetItem
UNIT_PAGE = "pages/unit/detail?id={id}"
CSV_HEADER = ("单位", "成员ID", "姓名", "社区", "所在党组织", "季度", "服务次数", "参加活动", "圆梦心愿", "领岗", "响应诉求",
              "本季度服务分钟", "本年服务分钟", "是否达标", "未达标项")
MISSING_NAMES = {"services": "服务次数", "hours": "服务时长"}
UNIT_INVALID = NotFound("共建单位不存在，或与本社区没有有效的共建协议", details={"field": "unit_id"})
AGREEMENT_LAPSED = Conflict("该共建单位与本社区的共建协议已过期，请先续签", details={"field": "unit_id"})


# --- who sees a unit's cards ---------------------------------------------------------------------------------------

def card_unit(principal: Principal, unit_id: str) -> UnitModel:
    """The unit, for its liaison or its street's staff (one GetItem). 403 for anyone who is neither a liaison nor
    street staff; 404 for another unit's liaison or another street's staff (and for a unit that does not exist)."""
    liaison = Role.UNIT_LIAISON.value in principal.roles and bool(principal.unit_ids)
    staff = Role.STREET_STAFF.value in principal.roles and bool(principal.street_ids)
    if not (liaison or staff):
        raise Forbidden()
    try:
        unit = UnitModel.get(unit_id, consistent_read=True)
    except DoesNotExist:
        raise unit_rules.UNIT_NOT_FOUND from None
    if liaison and unit_id in principal.unit_ids:
        return unit
    if staff and unit.street_id in principal.street_ids:
        return unit
    raise unit_rules.UNIT_NOT_FOUND


# --- the cards -----------------------------------------------------------------------------------------------------

def _query(unit_id: str):
    def query(**kw):
        return PartyRegistrationModel.by_unit.query(unit_id, **kw)
    return query


def _community_view(community_id: str, communities: dict[str, CommunityModel | None]) -> dict:
    community = communities.get(community_id)
    return {"id": community_id, "name": community.name if community is not None else None}


def _cards(registrations: list[PartyRegistrationModel], quarter: str,
           communities: dict[str, CommunityModel | None], extra: list[tuple] = ()) -> tuple[list[dict], list]:
    """The page's cards: ONE BatchGetItem of their service records (``service_record.read``), then ONE of the
    communities not read yet together with ``extra`` keys (answered raw, in order)."""
    shown = [r for r in registrations if r.status == party_rules.APPROVED and r.unit_key]
    quarters = party_rules.quarters_to(quarter)
    records = service_record.read([(r.user_id, q) for r in shown for q in quarters]) if shown else {}
    missing = sorted({r.community_id for r in shown} - set(communities))
    wanted = [(CommunityModel, cid) for cid in missing] + list(extra)
    raw = batch.get_raw(*wanted) if wanted else []
    for cid, item in zip(missing, raw):
        communities[cid] = CommunityModel.from_raw_data(item) if item is not None else None
    cards = []
    for r in shown:
        this = party_rules.Quarter.of(records.get((r.user_id, quarter)))
        year_minutes = sum(max(0, records.get((r.user_id, q), {}).get(party_rules.MINUTES, 0)) for q in quarters)
        meets, short = party_rules.assess(this, year_minutes, community_rules(communities.get(r.community_id)))
        cards.append({"member": {"id": r.user_id, "name": r.real_name,
                                 "community": _community_view(r.community_id, communities),
                                 "party_branch": r.party_branch},
                      "quarter": this.to_api(), "year_minutes": year_minutes, "meets_rules": meets,
                      "missing": short})
    return cards, raw[len(missing):]


def _in_quarter(agreement: UnitAgreementModel, quarter: str) -> bool:
    """An agreement that was in force at some moment of ``quarter`` (signed before its end, valid through a day of
    it)."""
    start, end = party_rules.quarter_bounds(quarter)
    return (end is None or agreement.created_at < end) and agreement.valid_until >= unit_rules.today_key(start)


def _agreements(unit_id: str, quarter: str) -> list[UnitAgreementModel]:
    """The unit's agreements in force during ``quarter``: one Query (≤ 80)."""
    return [a for a in UnitAgreementModel.query(unit_id, limit=AGREEMENTS_MAX, page_size=AGREEMENTS_MAX)
            if _in_quarter(a, quarter)]


def _activity_view(agreement: UnitAgreementModel, counter: dict | None) -> dict:
    done = max(0, int(counter[rules.DONE]["N"])) if counter and rules.DONE in counter else 0
    pledged = int(agreement.activities_per_quarter)
    return {"community": {"id": agreement.community_id, "name": agreement.community_name},
            "activities_per_quarter": pledged, "activities_done": done, "met": rules.pledge_met(done, pledged),
            "valid_until": agreement.valid_until}


def unit_view(unit: UnitModel) -> dict:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind}


def cards_page(principal: Principal, unit_id: str, *, quarter: str | None, limit: int, cursor: str | None) -> dict:
    """A page (≤ 20) of the unit's members' cards for ``quarter`` (default the current Shanghai quarter; 400 when
    malformed or to come), and the unit's pledged activities done in each community it co-builds with."""
    unit = card_unit(principal, unit_id)
    asked = party_rules.parse_quarter(quarter, utcnow())
    agreements = _agreements(unit.id, asked)
    counters: list = []

    def present(items: list[PartyRegistrationModel]) -> list[dict]:
        extra = [(CounterModel, rules.activity_key(unit.id, a.community_id, asked)) for a in agreements]
        cards, raw = _cards(items, asked, {}, extra)
        counters.extend(raw)
        return cards

    page = paging.page(_query(unit.id), min(limit, PAGE_MAX), cursor, present, scope=f"service-cards:{unit.id}",
                       model=PartyRegistrationModel)
    return {"quarter": asked, "unit": unit_view(unit),
            "agreements": [_activity_view(a, c) for a, c in zip(agreements, counters)], **page}


def all_cards(unit_id: str, quarter: str, communities: dict | None = None) -> list[dict]:
    """Every card of the unit for ``quarter``: the pages one after another (2 reads per 20 members, each community
    read once)."""
    communities = {} if communities is None else communities
    cards: list[dict] = []
    cursor = None
    while True:
        page = paging.page(_query(unit_id), PAGE_MAX, cursor,
                           lambda items: _cards(items, quarter, communities)[0],
                           scope=f"service-cards:{unit_id}", model=PartyRegistrationModel)
        cards += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return cards


def cards_csv(principal: Principal, unit_id: str, quarter: str | None) -> tuple[str, bytes]:
    """``format=csv``: every card of the unit's quarter, UTF-8 with a BOM, for the liaison to send to the employer."""
    unit = card_unit(principal, unit_id)
    asked = party_rules.parse_quarter(quarter, utcnow())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for card in all_cards(unit.id, asked):
        m, q = card["member"], card["quarter"]
        writer.writerow([csv_cell(unit.name), m["id"], csv_cell(m["name"]), csv_cell(m["community"]["name"]),
                         csv_cell(m["party_branch"]), asked, q["services"], q["events"], q["wishes"], q["posts"],
                         q["requests"], q["minutes"], card["year_minutes"], "是" if card["meets_rules"] else "否",
                         "、".join(MISSING_NAMES[x] for x in card["missing"])])
    return asked, codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


# --- pledged activities (events a unit runs) -----------------------------------------------------------------------

def running_unit(unit_id: str, community_id: str, now: datetime) -> UnitModel:
    """The unit that is to run an event of ``community_id``: it exists and its agreement with the community is in
    force (one BatchGetItem: the unit and the agreement). 404 naming ``unit_id`` for none (or no agreement), 409
    naming it for a lapsed agreement. The publication's transaction re-checks it (``agreement_checks``)."""
    unit, agreement = batch.get_many((UnitModel, unit_id), (UnitAgreementModel, unit_id, community_id))
    if unit is None or agreement is None:
        raise UNIT_INVALID
    if not unit_rules.is_valid(agreement.valid_until, now):
        raise AGREEMENT_LAPSED
    return unit


def agreement_checks(tx: Tx, unit_id: str, community_id: str, now: datetime) -> Tx:
    """The invariant in the event's creation transaction: the agreement is in force (valid_until ≥ today)."""
    def refused(current: UnitAgreementModel | None):
        return UNIT_INVALID if current is None else AGREEMENT_LAPSED
    tx.check(UnitAgreementModel, unit_id, community_id,
             condition=UnitAgreementModel.valid_until >= unit_rules.today_key(now), error=refused)
    return tx


def count_held(tx: Tx, event: EventModel) -> Tx:
    """One activity of ``event.unit_id`` held in the event's community in the quarter of its start: ONE update in the
    caller's transaction (the closing of its attendance, conditioned on not being closed yet: counted once)."""
    key = rules.activity_key(event.unit_id, event.community_id, party_rules.quarter_of(event.starts_at))
    return tx.update(CounterModel(key), [Path(rules.DONE).add(Value({"N": "1"}))])


# --- the quarter's close (the scheduler) ---------------------------------------------------------------------------

def _close_one(unit: UnitModel, quarter: str, communities: dict) -> bool:
    """Tell the unit's liaisons that ``quarter``'s cards are ready (members, how many meet the rules): one fan-out
    item keyed by unit and quarter, refused by its condition when written before. False when already told."""
    key = rules.close_key(unit.id, quarter)
    if batch.get_raw((OutboxModel, key))[0] is not None:  # a run killed half-way: the unit was told before
        return False
    cards = all_cards(unit.id, quarter, communities)
    meeting = sum(1 for card in cards if card["meets_rules"])
    tx = Tx()
    notifications.fan_out(tx, key=key, kind="unit_service_cards_ready",
                          audience=notifications.unit_liaisons_audience(unit.id),
                          data={"unit_id": unit.id, "quarter": quarter, "name": unit.name, "members": len(cards),
                                "meeting": meeting},
                          page=UNIT_PAGE.format(id=unit.id), community_id=None,
                          duplicate_error=Conflict("服务卡通知已发出"))
    try:
        tx.commit()
    except Conflict:
        return False
    return True


def run_schedule(now: datetime | None = None) -> dict:
    """On and after the 1st day of a quarter (Shanghai), the previous quarter's cards are ready: each unit with a
    liaison is told once (``unit_service_cards_ready``; a run that stops half-way is finished by the next, the units
    told refused by their item's condition), then a done marker, so every later run of the quarter costs one read.

    The units are listed from their own table once a quarter: the scheduler's, never a request's path — a Query of
    the units' ``by_registry`` index (every unit in one partition; no function may Scan: template.yaml), a district's
    units being hundreds; the cards themselves are read O(members) from the ``by_unit`` index."""
    now = now or utcnow()
    quarter = rules.previous_quarter(now)
    done = {"quarter": quarter, "units": 0}
    if batch.get_raw((CounterModel, rules.close_done_key(quarter)))[0] is not None:
        return done
    communities: dict = {}
    _, end = party_rules.quarter_bounds(quarter)
    registered = UnitModel.by_registry.query(REGISTRY, UnitModel.created_at < end) if end is not None \
        else UnitModel.by_registry.query(REGISTRY)  # a unit registered since has no card of the quarter
    for unit in registered:
        if unit.liaison_ids:
            if _close_one(unit, quarter, communities):
                done["units"] += 1
    CounterModel(rules.close_done_key(quarter), n=1).save()
    if done["units"]:
        log.info("service cards closed", extra=done)
    return done
