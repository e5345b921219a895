"""群众评单 under contention, on the real local stack over HTTP (issue 23, part G): 20 residents rate a done 共建项目 at
the same moment, each sending the rating twice at once → 20 answers 201 and 20 answers 409 ALREADY_RATED, never a 5xx;
the project's ``ratings_count`` and ``ratings_sum`` equal the rating items stored (kept by each rating's own
transaction, no recount), and the detail's average is theirs."""
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from tests.stack import Client, start_stack

pytestmark = pytest.mark.slow

PEOPLE = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("stack") / "stack.log")
    yield running
    try:
        running.check_invariants()
    finally:
        running.stop()


def _in_parallel(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _resident(stack, name):
    client = Client(stack.api_url).login(name)
    client.adopt(client.call("POST", "/v1/me/community", {"invite": "DEMOGRID1"}))
    return client


def _done_project(stack) -> str:
    """A unit of the demo street (its staff registers it), the demo community's agreement with it, a project, done."""
    admin, staff = Client(stack.api_url).login("admin"), Client(stack.api_url).login("street1")
    unit = staff.call("POST", "/v1/street/units", {"name": "并发评单单位", "kind": "企业", "contact_name": "王经理",
                                                   "contact_phone": "13800002222"})
    assert unit.status_code == 201, unit.text
    unit_id = unit.json()["id"]
    today = datetime.now(timezone(timedelta(hours=8))).date()
    signed = admin.call("POST", f"/v1/admin/units/{unit_id}/agreement", {
        "pledges": ["每季度一次志愿服务"], "activities_per_quarter": 1,
        "valid_until": (today + timedelta(days=90)).isoformat()})
    assert signed.status_code == 201, signed.text
    made = admin.call("POST", "/v1/admin/co-projects", {
        "title": "并发评单项目", "need": {"text": "楼道清理"}, "unit_id": unit_id, "starts_on": today.isoformat(),
        "ends_on": today.isoformat(), "beneficiaries_note": "一网格居民"})
    assert made.status_code == 201, made.text
    done = admin.call("POST", f"/v1/admin/co-projects/{made.json()['id']}/complete", {})
    assert done.status_code == 200, done.text
    return made.json()["id"]


def test_twenty_residents_rating_twice_at_once_are_counted_exactly_once_each(stack):
    project_id = _done_project(stack)
    run = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(max_workers=4) as pool:
        residents = list(pool.map(lambda i: _resident(stack, f"rate{run}-{i}"), range(PEOPLE)))
    ratings = {r.user["id"]: 1 + i % 5 for i, r in enumerate(residents)}
    calls = [lambda r=r: r.call("POST", f"/v1/co-projects/{project_id}/rating", {"rating": ratings[r.user["id"]]})
             for r in residents for _ in range(2)]
    results = _in_parallel(calls)
    summary = Counter(f"{x.status_code} {x.json().get('error', {}).get('code', '')}".strip() for x in results)
    assert all(x.status_code < 500 for x in results), summary
    assert summary == {"201": PEOPLE, "409 ALREADY_RATED": PEOPLE}, summary

    db = stack.dynamodb()
    item = db.get_item(TableName=stack.table("co_projects"), Key={"id": {"S": project_id}}, ConsistentRead=True)["Item"]
    stored = db.query(TableName=stack.table("co_project_ratings"), KeyConditionExpression="project_id = :p",
                      ExpressionAttributeValues={":p": {"S": project_id}}, ConsistentRead=True)["Items"]
    assert {s["user_id"]["S"]: int(s["rating"]["N"]) for s in stored} == ratings
    assert (int(item["ratings_count"]["N"]), int(item["ratings_sum"]["N"])) == (PEOPLE, sum(ratings.values()))
    view = residents[0].call("GET", f"/v1/co-projects/{project_id}")
    assert view.status_code == 200, view.text
    assert (view.json()["ratings_count"], view.json()["rating_average"]) == \
        (PEOPLE, round(sum(ratings.values()) / PEOPLE, 1))
