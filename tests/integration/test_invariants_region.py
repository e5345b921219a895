"""The invariant checker above the streets (街呼区应, issue 22): a region made as the operator makes it (districts,
departments, their staff: ``tests/api/requests_region.py``), requests driven through the API up to a department
(one answered, solved and rated there, one waiting at another department, one at the street), a registered
volunteer, and the month's bulletins made final by the scheduler (snapshots, their ``bulletin_ready`` fan-outs, the
month's ``done`` marker) satisfy every invariant; then each new invariant, broken in the tables directly (and put
back after), is reported under its tag — the structure above the streets (``structure``), the departments' request
statistics (``statistics``), a department's own facts on a request (``request``), the bulletin's snapshots
(``bulletin``) and the registered-volunteers counter (``volunteers``).

As ``test_invariants.py`` (whose planting helpers this uses): every violation planted at once, each on items no
other plant touches in a way that would raise the same report, and the stack checked once."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from pynamodb.attributes import UTCDateTimeAttribute

from tests.api.requests_region import at_department, at_street, make_region
from tests.api.test_requests import step
from tests.integration.test_invariants import Tables, number, reported, violations
from tongxin.domain import requests as request_rules
from tongxin.usecases import bulletin, notifications, volunteer_count

LONG_AGO = UTCDateTimeAttribute().serialize(datetime(2020, 1, 15, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def region(api, container, fresh_tables_per_module):
    r = make_region(api)
    r.author = r.a.resident(0)
    r.volunteer = r.a.volunteer(0)
    # 城管局 answers in its limit, solves in time, the resident is satisfied: its own facts are all of those.
    r.done = at_department(r, r.author)
    step(r.cg_staff, r.done, "accept")
    step(r.cg_staff, r.done, "resolve", {"note": "城管已清理"})
    step(r.author, r.done, "rate", {"satisfaction": 5})
    r.waiting = at_department(r, r.author, r.zj)  # at 住建局, not answered yet
    r.at_street = at_street(r, r.author)
    # The previous month made final (snapshots of every street and district, their fan-outs, the marker).
    r.finalized = bulletin.run_schedule()
    r.month = r.finalized["month"]
    notifications.expand_fanouts()
    return r


def test_a_region_driven_through_the_api_holds_every_invariant(region, container):
    from tongxin.adapters.dynamo.models import CounterModel, RequestModel
    done = RequestModel.get(region.done, consistent_read=True)
    assert done.department_facts == {"answered_on_time", "resolved", request_rules.RESOLVED_ON_TIME, "satisfied"}
    assert region.finalized["streets"] >= 2 and region.finalized["districts"] >= 2
    assert CounterModel.get(volunteer_count.key(region.a.id)).attribute_values  # the counter exists
    assert violations(container) == []


# --- planting ----------------------------------------------------------------------------------------------------

def strings(name: str, add=(), drop=()):
    """Add to / take from the string set ``name`` (dropped when it would be empty: DynamoDB keeps no empty set)."""
    def change(item):
        values = (set(item.get(name, {}).get("SS", ())) | set(add)) - set(drop)
        if values:
            item[name] = {"SS": sorted(values)}
        else:
            item.pop(name, None)
    return change


def put_new(t: Tables, table: str, item: dict, *key_names: str) -> None:
    t.put(table, item, {name: item[name] for name in key_names})


def snapshot_of(t: Tables, level: str, unit_id: str, month: str) -> dict:
    return t.get("counters", key=bulletin.snapshot_key(level, unit_id, month))


def plant(t: Tables, r) -> dict:
    """Every violation at once (see each test for what it breaks); answers the ids the tests look for."""
    ids = {"stray_department": "dp_stray", "old_street": "st_old", "gone_district": "dt_gone",
           "current": bulletin.current_month()}
    # the structure above the streets
    t.edit("districts", strings("street_ids", add={"st_ghost"}), id=r.other_district)
    t.edit("streets", lambda item: item.__setitem__("district_id", {"S": r.other_district}), id=r.lone_street)
    t.edit("districts", strings("department_ids", add={r.other_dept}), id=r.district)
    stray = {**t.get("departments", id=r.cg), "id": {"S": ids["stray_department"]}, "name": {"S": "无主部门"}}
    stray.pop("staff_ids", None)
    put_new(t, "departments", stray, "id")
    t.edit("communities", lambda item: item.__setitem__("district_id", {"S": r.other_district}), id=r.a.id)
    t.edit("districts", strings("staff_ids", add={r.outsider.id}), id=r.district)
    t.edit("districts", strings("staff_ids", drop={r.other_district_staff.id}), id=r.other_district)
    t.edit("users", strings("roles", drop={"district_staff"}), id=r.district_staff.id)
    t.edit("departments", strings("staff_ids", add={r.outsider.id}), id=r.zj)
    t.edit("departments", strings("staff_ids", drop={r.other_dept_staff.id}), id=r.other_dept)
    t.edit("users", strings("roles", drop={"department_staff"}), id=r.zj_staff.id)
    # a department's own facts on a request
    t.edit("requests", strings("department_facts", add={"resolved"}), id=r.at_street)
    t.edit("requests", strings("department_facts", add={"answered_on_time", request_rules.FIRST_ANSWER_LATE}),
           id=r.waiting)
    t.edit("requests", strings("department_facts", drop={"resolved"}), id=r.done)
    # the departments' request statistics: 城管局's month counter
    month = t.find("counters", lambda i: i["key"]["S"].startswith(f"stats#requests-dept#{r.cg}#m#"))
    t.edit("counters", number("n:received", +1), key=month["key"]["S"])
    # the bulletin: a snapshot of the month under way, one of a district that does not exist, one not final, a
    # fan-out lost, and a street older than the finalized month without its snapshot
    early = {**snapshot_of(t, "street", r.street, r.month), "key": {"S": bulletin.snapshot_key(
        "street", r.street, ids["current"])}}
    early["snapshot"] = {"S": json.dumps({**json.loads(early["snapshot"]["S"]), "month": ids["current"]})}
    put_new(t, "counters", early, "key")
    gone = {**snapshot_of(t, "district", r.district, r.month),
            "key": {"S": bulletin.snapshot_key("district", ids["gone_district"], r.month)}}
    gone["snapshot"] = {"S": json.dumps({**json.loads(gone["snapshot"]["S"]),
                                         "district": {"id": ids["gone_district"], "name": "撤销的区"}})}
    put_new(t, "counters", gone, "key")

    def not_final(item):
        item["snapshot"] = {"S": json.dumps({**json.loads(item["snapshot"]["S"]), "final": False})}
    t.edit("counters", not_final, key=bulletin.snapshot_key("street", r.lone_street, r.month))
    t.delete("outbox", id=bulletin.snapshot_key("district", r.other_district, r.month))
    old = {"id": {"S": ids["old_street"]}, "name": {"S": "老街道"}, "created_at": {"S": LONG_AGO}}
    put_new(t, "streets", old, "id")
    # the registered volunteers of community A
    t.edit("counters", number(volunteer_count.VOLUNTEERS, +1), key=volunteer_count.key(r.a.id))
    return ids


@pytest.fixture(scope="module")
def report(region, container):
    """What the checker reports with every violation planted (then put back)."""
    tables = Tables(container)
    try:
        ids = plant(tables, region)
        found = violations(container)
    finally:
        tables.restore()
    return SimpleNamespace(found=found, **ids)


def test_the_planted_violations_were_put_back(report, container):
    assert violations(container) == []


# the structure above the streets (街呼区应)

def test_a_district_listing_a_street_of_another(report, region):
    reported(report, "structure", f"districts {region.other_district}", "street_ids has st_ghost")


def test_a_street_its_district_does_not_list(report, region):
    reported(report, "structure", f"streets {region.lone_street}", f"district_id {region.other_district} does not "
                                                                    "list it")


def test_a_district_listing_a_department_of_another(report, region):
    reported(report, "structure", f"districts {region.district}", f"department_ids has {region.other_dept}",
             f"whose district_id is {region.other_district}")


def test_a_department_its_district_does_not_list(report, region):
    reported(report, "structure", f"departments {report.stray_department}", f"district_id {region.district} does "
                                                                            "not list it")


def test_a_community_in_another_district_than_its_street(report, region):
    reported(report, "structure", f"communities {region.a.id}", f"district_id {region.other_district} != its street "
                                                                f"{region.street}'s district_id {region.district}")


def test_district_staff_of_nobody(report, region):
    reported(report, "structure", f"districts {region.district}", f"staff_ids has {region.outsider.id}")


def test_district_staff_the_district_does_not_know(report, region):
    reported(report, "structure", f"users {region.other_district_staff.id}",
             f"district_ids has {region.other_district}, whose staff_ids do not list them")


def test_district_ids_without_the_role(report, region):
    reported(report, "structure", f"users {region.district_staff.id}", "and district_ids", "disagree")


def test_department_staff_of_nobody(report, region):
    reported(report, "structure", f"departments {region.zj}", f"staff_ids has {region.outsider.id}")


def test_department_staff_the_department_does_not_know(report, region):
    reported(report, "structure", f"users {region.other_dept_staff.id}",
             f"department_ids has {region.other_dept}, whose staff_ids do not list them")


def test_department_ids_without_the_role(report, region):
    reported(report, "structure", f"users {region.zj_staff.id}", "and department_ids", "disagree")


# a department's own facts on a request

def test_department_facts_on_a_request_not_at_a_department(report, region):
    reported(report, "request", f"requests {region.at_street}", "department_facts ['resolved'] at level street")


def test_answered_in_time_and_late_at_once(report, region):
    reported(report, "request", f"requests {region.waiting}", "both answered_on_time and first_answer_late")


def test_resolved_in_time_without_resolved(report, region):
    reported(report, "request", f"requests {region.done}", "resolved_on_time without resolved")


# the departments' request statistics

def test_a_department_statistics_counter_off(report, region):
    reported(report, "statistics", f"counters stats#requests-dept#{region.cg}#m#",
             "n:received 2 != what the items count 1")


# the bulletin (通报)

def test_a_snapshot_of_the_month_under_way(report, region):
    reported(report, "bulletin", f"counters bulletin#street#{region.street}#{report.current}",
             "not before the current month")


def test_a_snapshot_of_a_district_that_does_not_exist(report, region):
    reported(report, "bulletin", f"counters bulletin#district#{report.gone_district}#{region.month}",
             "which does not exist")


def test_a_snapshot_not_final(report, region):
    reported(report, "bulletin", f"counters bulletin#street#{region.lone_street}#{region.month}", "not final")


def test_a_snapshot_without_its_fan_out(report, region):
    reported(report, "bulletin", f"counters bulletin#district#{region.other_district}#{region.month}",
             "no bulletin_ready fan-out")


def test_a_month_done_without_a_streets_snapshot(report, region):
    reported(report, "bulletin", f"counters bulletin#done#{region.month}",
             f"the street {report.old_street} has no snapshot of {region.month}")


# the registered volunteers (注册志愿者数)

def test_the_registered_volunteers_counter_off(report, region):
    reported(report, "volunteers", f"counters community-stats#{region.a.id}",
             "!= its active members with the volunteer role")
