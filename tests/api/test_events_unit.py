"""An event's running unit (`unit_id`, one of a co-building unit's pledged activities) set, changed or cleared by the
event's PATCH, under publication's rule: the unit's agreement with the community in force (404/409 naming
`unit_id`, checked again in the PATCH's transaction), only before the event ended (409 INVALID_STATE), by its
organisers (publication lets grid workers name a unit too). The unit's service card counts the event by the unit
it names when held. Sequences: set, change, clear, the same unit again; refusals with nothing written; an agreement
lapsing between the read and the write; after the end; who; exact calls."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests import budget
from tests.api.test_checkins import at, publish, when
from tests.api.test_service_cards import World, agreement_row
from tests.api.test_units import assert_refused, days_ahead
from tongxin.adapters.dynamo.models import EventModel, UnitAgreementModel
from tongxin.domain import units as unit_rules
from tongxin.domain.clock import utcnow
from tongxin.usecases import events as event_usecases
from tongxin.usecases import service_cards as service_cards_usecase


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    return World(api)


def patch(who, event: dict, **body):
    return who.patch(f"/v1/events/{event['id']}", body)


def stored_unit(event: dict) -> tuple:
    item = EventModel.get(event["id"], consistent_read=True)
    return item.unit_id, item.unit_name


def test_the_admin_sets_changes_and_clears_the_unit(w):
    admin = w.c.admin
    event = publish(admin)
    assert event["unit"] is None
    resp = patch(admin, event, unit_id=w.unit_id)
    assert resp.status == 200, resp.body
    assert resp.json["unit"] == {"id": w.unit_id, "name": w.unit["name"]}
    assert admin.get(f"/v1/events/{event['id']}").json["unit"] == {"id": w.unit_id, "name": w.unit["name"]}
    assert stored_unit(event) == (w.unit_id, w.unit["name"])
    # Another unit co-building with the community.
    school = w.r.unit(name="同心区第二中学", kind="学校")
    w.r.agreement(school["id"])
    resp = patch(admin, event, unit_id=school["id"], title="改由学校承办")
    assert resp.status == 200, resp.body
    assert (resp.json["unit"], resp.json["title"]) == ({"id": school["id"], "name": "同心区第二中学"}, "改由学校承办")
    # null: no unit any more (the attributes removed, not set to NULL).
    resp = patch(admin, event, unit_id=None)
    assert resp.status == 200 and resp.json["unit"] is None, resp.body
    assert stored_unit(event) == (None, None)
    raw = EventModel.get(event["id"], consistent_read=True).serialize()
    assert "unit_id" not in raw and "unit_name" not in raw
    # Sending other fields leaves the unit as it is.
    patch(admin, event, unit_id=w.unit_id)
    assert patch(admin, event, capacity=12).json["unit"]["id"] == w.unit_id


def test_a_unit_without_an_agreement_in_force_is_refused_and_nothing_changes(w):
    admin = w.c.admin
    event = publish(admin, unit_id=w.unit_id)
    lonely = w.r.unit(name="无协议单位")
    foreign = w.r.unit(name="外社区单位")
    w.r.agreement(foreign["id"], admin=w.c2.admin)  # an agreement with another community of the street only
    for unit_id in (lonely["id"], foreign["id"], "unit_nothing"):
        assert_refused(patch(admin, event, unit_id=unit_id, title="不该改"), 404, "NOT_FOUND", "unit_id")
    lapsed = w.r.unit(name="过期单位")
    w.r.agreement(lapsed["id"])
    UnitAgreementModel(lapsed["id"], w.c.id).update(actions=[
        UnitAgreementModel.valid_until.set(unit_rules.today(utcnow() - timedelta(days=1)).isoformat())])
    assert_refused(patch(admin, event, unit_id=lapsed["id"], title="不该改"), 409, "CONFLICT", "unit_id")
    for bad in ("", "a" * 200):
        assert patch(admin, event, unit_id=bad).status == 400
    assert stored_unit(event) == (w.unit_id, w.unit["name"])
    assert EventModel.get(event["id"], consistent_read=True).title == event["title"]


def test_an_agreement_lapsing_between_the_read_and_the_write_is_caught_by_the_transaction(w, monkeypatch):
    admin = w.c.admin
    event = publish(admin)
    unit = w.r.unit(name="临界单位")
    w.r.agreement(unit["id"], valid_until=days_ahead(30))
    real = service_cards_usecase.batch.get_many

    def read_then_lapse(*keys):
        found = real(*keys)
        if any(key[0] is UnitAgreementModel for key in keys):
            saved, budget._local.meter = budget._local.meter, None  # the race is not the request's call
            try:
                UnitAgreementModel(unit["id"], w.c.id).update(actions=[UnitAgreementModel.valid_until.set(
                    unit_rules.today(utcnow() - timedelta(days=1)).isoformat())])
            finally:
                budget._local.meter = saved
        return found
    monkeypatch.setattr(service_cards_usecase.batch, "get_many", read_then_lapse)
    resp = patch(admin, event, unit_id=unit["id"])
    monkeypatch.undo()
    assert_refused(resp, 409, "CONFLICT", "unit_id")
    assert admin.api.last_meter.dynamo["TransactWriteItems"] == 1  # the read said yes; the condition said no
    assert stored_unit(event) == (None, None)


def test_after_the_end_the_unit_cannot_change(w):
    admin = w.c.admin
    with_unit = publish(admin, unit_id=w.unit_id)
    without = publish(admin)
    with at(when(with_unit, "ends_at") + timedelta(minutes=1)):
        admin = admin.relogin()
        assert_refused(patch(admin, with_unit, unit_id=None), 409, "INVALID_STATE")
        assert_refused(patch(admin, without, unit_id=w.unit_id), 409, "INVALID_STATE")
        assert_refused(patch(admin, without, unit_id="unit_nothing"), 409, "INVALID_STATE")  # the state first
    assert stored_unit(with_unit) == (w.unit_id, w.unit["name"]) and stored_unit(without) == (None, None)
    cancelled = publish(admin)
    assert admin.post(f"/v1/events/{cancelled['id']}/cancel", {"reason": "下雨"}).status == 200
    assert_refused(patch(admin, cancelled, unit_id=w.unit_id), 409, "INVALID_STATE")


def test_who_sets_the_unit(w):
    worker = w.c.grid_worker(0)
    event = publish(worker, grid_id=w.c.grid_ids[0])
    resp = patch(worker, event, unit_id=w.unit_id)  # an organiser, as publication lets them name a unit
    assert resp.status == 200 and resp.json["unit"]["id"] == w.unit_id, resp.body
    assert_refused(patch(w.c.resident(0), event, unit_id=None), 403, "FORBIDDEN")
    assert_refused(patch(w.liaison, event, unit_id=None), 409, "NOT_IN_COMMUNITY")  # the unit's liaison: no
    assert_refused(patch(w.c2.admin, event, unit_id=None), 404, "NOT_FOUND")
    assert stored_unit(event) == (w.unit_id, w.unit["name"])


def test_exact_call_counts(w):
    admin = w.c.admin
    event = publish(admin)
    patch(admin, event, unit_id=w.unit_id)
    # The caller; the event; the unit and its agreement (one BatchGetItem); one transaction.
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 2, "TransactWriteItems": 1}
    patch(admin, event, unit_id=w.unit_id, capacity=11)  # the unit already named: no read of it
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    patch(admin, event, unit_id=None)
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}


def test_the_service_card_counts_the_unit_the_event_names_when_held(w):
    """Set by the PATCH: counted for the unit; cleared by the PATCH: not counted (the pledge counter is the unit's of
    the event as closed)."""
    admin = w.c.admin
    unit = w.r.unit(name="同心区卫健委", kind="机关")
    liaison = w.r.liaison(unit["id"])
    w.r.agreement(unit["id"])  # 2 activities a quarter

    def done() -> int:
        resp = liaison.get(f"/v1/units/{unit['id']}/service-cards")
        assert resp.status == 200, resp.body
        return agreement_row(resp.json, w.c.id)["activities_done"]
    set_later = publish(admin)
    assert patch(admin, set_later, unit_id=unit["id"]).status == 200
    cleared = publish(admin, unit_id=unit["id"])
    assert patch(admin, cleared, unit_id=None).status == 200
    moved_away = publish(admin, unit_id=unit["id"])
    assert patch(admin, moved_away, unit_id=w.unit_id).status == 200
    assert done() == 0  # nothing held yet
    with at(max(when(e, "ends_at") for e in (set_later, cleared, moved_away)) + timedelta(hours=2, minutes=1)):
        event_usecases.run_schedule()
    assert all(EventModel.get(e["id"]).closed_at is not None for e in (set_later, cleared, moved_away))
    assert done() == 1  # only the event the PATCH gave it
