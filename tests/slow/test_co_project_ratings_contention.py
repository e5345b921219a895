"""群众评单 under contention, on the real local stack over HTTP (issue 23, part G): 20 residents rate a done 共建项目 at
the same moment, each sending the rating twice at once → 20 answers 201 and 20 answers 409 ALREADY_RATED, never a 5xx;
the project's ``ratings_count`` and ``ratings_sum`` equal the rating items stored (kept by each rating's own
transaction, no recount), and the detail's average is theirs."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.stack import Client, answer_counts, in_parallel, in_threads, resident, stack_fixture

pytestmark = pytest.mark.slow

PEOPLE = 20


stack = stack_fixture()


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
    residents = in_threads(lambda i: resident(stack.api_url, f"rate{run}-{i}"), range(PEOPLE), threads=4)
    ratings = {r.user["id"]: 1 + i % 5 for i, r in enumerate(residents)}
    rate = f"/v1/co-projects/{project_id}/rating"
    results = in_parallel(lambda r: r.call("POST", rate, {"rating": ratings[r.user["id"]]}),
                          [r for r in residents for _ in range(2)])
    summary = answer_counts(results)
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
