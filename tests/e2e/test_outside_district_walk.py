"""街呼区应 from the outside (issue 22, "Done when"): an outside client walks a request from a resident to a district
department and back — grid, community, street, department, with one extension approved and one supervision —,
reads it on the month's bulletins with the right counts, rates and rank, and sees the street's and the district's
roll-ups agree with the community's own statistics.

The real local stack (``make dev``'s entry point, ``tests/stack.py``) in a subprocess with its demo seed
(``infra/local/seed.py``), driven over HTTP only, as the mini-program and the console drive it: ``dev:<name>`` logins of
the demo users (vol2 raises the request in grid 1; grid1, admin, street1 send it up to 城管局; dept1 handles it;
district1 approves the extension and supervises). The tests below are the walk's steps in order and share the
module's state (``walk``); the figures the bulletins and statistics held before the walk are read first
(``before``), so counts are asserted as what the walk added. Nothing waits on a wall clock: the one push is polled.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.outside import accept_template, keyword, messages, need, ok, only, read_csv, refused, wait_for
from tests.stack import Client, stack_fixture

pytestmark = pytest.mark.e2e

SHANGHAI = timezone(timedelta(hours=8))
COMMUNITY, STREET, DISTRICT = "同心示范社区", "同心街道", "同心区"
NAMES = ("vol2", "res1", "res2", "res3", "vol3", "grid1", "admin", "street1", "district1", "dept1")
BULLETIN_COUNTS = ("received", "answered_on_time", "resolved_on_time", "overdue", "extended")
WALK_ADDS = {"received": 1, "answered_on_time": 1, "resolved_on_time": 1, "overdue": 0, "extended": 1}
PERFECT = {"response_rate": 1.0, "resolve_rate": 1.0, "satisfaction_rate": 1.0, "rank": 1, "flagged": False,
           "below": []}
# A row of GET /v1/street/stats (and of GET /v1/district/stats, per street) without its unit.
STATS_FIELDS = ("wishes", "volunteers", "volunteer_minutes", "events", "events_cancelled", "points_issued",
                "points_redeemed", "points_refunded", "requests", "response_rate", "resolution_rate",
                "satisfaction_rate")


# --- helpers -------------------------------------------------------------------------------------------------

def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def month_now() -> str:
    return datetime.now(SHANGHAI).strftime("%Y-%m")


def today_window() -> dict:
    """``from``/``to`` covering the whole Shanghai day: what every statistics route below is asked."""
    start = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}


def row_of(table: list[dict], unit: str, name: str) -> dict:
    return only([r for r in table if r[unit]["name"] == name], f"{unit} row {name}")


def counts(row: dict) -> dict:
    return {name: row[name] for name in BULLETIN_COUNTS}


def added(before: dict, after: dict) -> dict:
    return {name: after[name] - before[name] for name in BULLETIN_COUNTS}


def street_bulletin(client: Client, month: str) -> dict:
    view = ok(client.call("GET", "/v1/street/bulletin", params={"month": month}))
    assert (view["street"]["name"], view["month"], view["final"]) == (STREET, month, False)
    return view


def district_bulletin(client: Client, month: str) -> dict:
    view = ok(client.call("GET", "/v1/district/bulletin", params={"month": month}))
    assert (view["district"]["name"], view["month"], view["final"]) == (DISTRICT, month, False)
    return view


def community_statistics(admin: Client, window: dict) -> dict:
    """The community's own figures, as its admin reads them, under the names of the street's row."""
    stats = ok(admin.call("GET", "/v1/admin/stats", params=window))
    asked = ok(admin.call("GET", "/v1/admin/requests/stats", params=window))
    assert asked["scope"] == "community"
    volunteers, cursor = 0, None
    while True:  # registered volunteers now: the member directory, page by page
        page = ok(admin.call("GET", "/v1/admin/members",
                             params={"role": "volunteer", "limit": 100, **({"cursor": cursor} if cursor else {})}))
        volunteers += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return {"wishes": stats["wishes"]["total"], "volunteers": volunteers,
            "volunteer_minutes": stats["volunteer_hours"]["total_minutes"], "events": stats["events"]["published"],
            "events_cancelled": stats["events"]["cancelled"],
            "points_issued": sum(stats["points"]["issued_by_source"].values()),
            "points_redeemed": stats["points"]["redeemed"], "points_refunded": stats["points"]["refunded"],
            "requests": asked["received"], "response_rate": asked["response_rate"],
            "resolution_rate": asked["resolution_rate"], "satisfaction_rate": asked["satisfaction_rate"]}


def figures(row: dict) -> dict:
    return {name: row[name] for name in STATS_FIELDS}


def steps(request: dict) -> list[tuple[str, str, str | None]]:
    return [(e["action"], e["level"], e["actor"]["id"] if e["actor"] else None) for e in request["timeline"]]


# --- the module's stack, people and state ----------------------------------------------------------------------

stack = stack_fixture("district-walk")


@pytest.fixture(scope="module")
def people(stack) -> dict[str, Client]:
    return {name: Client(stack.api_url).login(name) for name in NAMES}


@pytest.fixture(scope="module")
def walk(people) -> dict:
    """The walk's shared state, starting with what the bulletins and the statistics said before it."""
    month, window = month_now(), today_window()
    street, district = street_bulletin(people["street1"], month), district_bulletin(people["district1"], month)
    return {"month": month, "window": window, "before": {
        "street": row_of(street["items"], "community", COMMUNITY),
        "communities": row_of(district["communities"], "community", COMMUNITY),
        "streets": row_of(district["streets"], "street", STREET),
        "城管局": row_of(district["departments"], "department", "城管局"),
        "住建局": row_of(district["departments"], "department", "住建局"),
        "community": community_statistics(people["admin"], window)}}


# --- the walk ----------------------------------------------------------------------------------------------------

def test_a_request_climbs_grid_community_street_to_a_department_which_answers_in_time(people, walk):
    vol2, grid1, admin, street1, dept1 = (people[n] for n in ("vol2", "grid1", "admin", "street1", "dept1"))
    submitted = ok(vol2.call("POST", "/v1/requests", {
        "category": "环境卫生", "content": "小区东门外的垃圾堆了一个星期没人清运，\n气味很大。",
        "location": {"address": "同心社区东门", "lat": 30.0, "lng": 103.8}}), 201)
    assert (submitted["status"], submitted["level"], submitted["grid_id"]) == ("submitted", "grid", "g_demo1")
    assert submitted["created_at"][:7] == walk["month"], "the walk straddles a month: run it again"
    request_id = submitted["id"]
    path = f"/v1/requests/{request_id}"
    assert dept1.call("GET", path).status_code == 404  # not the department's business yet

    departments = ok(street1.call("GET", "/v1/street/departments"))
    assert {d["name"] for d in departments["items"]} == {"城管局", "住建局"}
    chengguan = only([d for d in departments["items"] if d["name"] == "城管局"], "城管局")
    zhujian = only([d for d in departments["items"] if d["name"] == "住建局"], "住建局")

    # a department is named at the street only: a grid worker naming one is refused, and nothing moves
    error = refused(grid1.call("POST", f"{path}/escalate", {"reason": "需要城管执法", "department_id": chengguan["id"]}),
                    400, "VALIDATION_FAILED")
    assert error["details"]["field"] == "department_id"
    assert ok(vol2.call("GET", path))["level"] == "grid"

    at_community = ok(grid1.call("POST", f"{path}/escalate", {"reason": "网格无法协调清运车辆"}))
    assert (at_community["status"], at_community["level"]) == ("escalated", "community")
    at_street = ok(admin.call("POST", f"{path}/escalate", {"reason": "需街道协调环卫所"}))
    assert (at_street["status"], at_street["level"]) == ("escalated", "street")
    assert request_id in [t["request"]["id"] for t in ok(street1.call("GET", "/v1/street/tasks"))["items"]]
    # at the street the department is required
    error = refused(street1.call("POST", f"{path}/escalate", {"reason": "请区里处理"}), 400, "VALIDATION_FAILED")
    assert error["details"]["field"] == "department_id"

    at_department = ok(street1.call("POST", f"{path}/escalate",
                                    {"reason": "占道堆放垃圾，请城管局执法清运", "department_id": chengguan["id"]}))
    assert (at_department["status"], at_department["level"]) == ("escalated", "department")
    assert at_department["department"] == chengguan
    assert at_department["levels_reached"] == ["grid", "community", "street", "department"]
    # the department's own limits (240 min to answer, 5 days to solve: the demo district sets none)
    assert (at_department["answer_minutes"], at_department["solve_minutes"]) == (240, 5 * 24 * 60)

    task = only([t for t in ok(dept1.call("GET", "/v1/department/tasks"))["items"]
                 if t["request"]["id"] == request_id], "department task")
    assert task["task"] == "answer_request" and task["request"]["card"] == "none"
    answer_due = at(task["request"]["answer_due"])

    accepted = ok(dept1.call("POST", f"{path}/accept"))
    assert accepted["status"] == "accepted" and accepted["handler"]["id"] == dept1.user["id"]
    assert accepted["late"] is False and accepted["card"] == "none"
    answered = accepted["timeline"][-1]
    assert (answered["action"], answered["level"]) == ("accept", "department")
    assert at(answered["at"]) <= answer_due, "the department answered past its answer limit"
    assert at(accepted["solve_due"]) - at(answered["at"]) <= timedelta(days=5)
    walk.update(request_id=request_id, path=path, chengguan=chengguan, zhujian=zhujian,
                solve_due=accepted["solve_due"])


def test_the_district_approves_one_extension_which_moves_the_solve_limit_by_exactly_three_days(people, walk):
    need(walk, "path", "solve_due")
    dept1, district1, path = people["dept1"], people["district1"], walk["path"]
    asked = ok(dept1.call("POST", f"{path}/extend", {"days": 3, "reason": "需协调环卫车辆，\n三天内完成清运"}))
    assert asked["extension"]["level"] == "department" and asked["extension"]["days"] == 3
    assert asked["extension"]["asked_by"]["id"] == dept1.user["id"]
    assert asked["extensions_used"] == ["department"]
    assert asked["solve_due"] == walk["solve_due"]  # the clock runs on until the district decides

    approved = ok(district1.call("POST", f"{path}/extension/approve"))
    assert at(approved["solve_due"]) - at(walk["solve_due"]) == timedelta(days=3)
    assert approved["extension"] is None and approved["extensions_used"] == ["department"]
    assert approved["status"] == "accepted" and approved["level"] == "department"

    # one extension per level, whatever became of the first
    error = refused(dept1.call("POST", f"{path}/extend", {"days": 1, "reason": "再延一天"}), 409, "EXTENSION_USED")
    assert error["details"]["level"] == "department"
    assert ok(dept1.call("GET", path))["solve_due"] == approved["solve_due"]
    walk["extended_solve_due"] = approved["solve_due"]


def test_supervision_puts_a_yellow_card_everywhere_and_is_pushed_to_the_department(stack, people, walk):
    need(walk, "request_id", "path")
    dept1, district1, vol2 = people["dept1"], people["district1"], people["vol2"]
    request_id, path = walk["request_id"], walk["path"]
    template_id = accept_template(stack, "dept1", dept1, "request_supervised")

    supervised = ok(district1.call("POST", f"{path}/supervise", {"note": "群众反映强烈，请加快清运"}))
    assert supervised["supervised"] is True and supervised["card"] == "yellow"

    task = only([t for t in ok(dept1.call("GET", "/v1/department/tasks"))["items"]
                 if t["request"]["id"] == request_id], "department task")
    assert (task["task"], task["request"]["card"]) == ("solve_request", "yellow")
    mine = only([r for r in ok(vol2.call("GET", "/v1/requests/mine"))["items"] if r["id"] == request_id],
                "the resident's request")
    assert mine["card"] == "yellow" and mine["supervised"] is True

    ids = {n: people[n].user["id"] for n in NAMES}
    assert steps(ok(vol2.call("GET", path))) == [
        ("submit", "grid", ids["vol2"]), ("escalate", "grid", ids["grid1"]),
        ("escalate", "community", ids["admin"]), ("escalate", "street", ids["street1"]),
        ("accept", "department", ids["dept1"]), ("extend", "department", ids["dept1"]),
        ("extension_approved", "department", ids["district1"]), ("supervise", "department", ids["district1"])]

    page = f"pages/request/detail?id={request_id}"

    message = only(wait_for("dept1's request_supervised message in /__dev/messages",
                            lambda: messages(stack, "dept1", template_id, page), stack), "supervision message")
    assert message["data"][keyword("request_supervised", "state")]["value"] == "督办"
    assert message["data"][keyword("request_supervised", "note")]["value"].startswith("区督办")


def test_the_department_resolves_it_and_the_resident_closes_it_satisfied(people, walk):
    need(walk, "path", "extended_solve_due")
    dept1, vol2, path = people["dept1"], people["vol2"], walk["path"]
    resolved = ok(dept1.call("POST", f"{path}/resolve", {"note": "已清运垃圾并设置临时围挡"}))
    assert resolved["status"] == "resolved" and at(resolved["resolved_at"]) <= at(walk["extended_solve_due"])
    closed = ok(vol2.call("POST", f"{path}/rate", {"satisfaction": 5, "comment": "处理及时，谢谢"}))
    assert (closed["status"], closed["outcome"], closed["rating"]) == ("closed", "satisfied", 5)
    assert (closed["late"], closed["overdue"], closed["reopened"]) == (False, False, False)
    assert [(e["action"], e["level"]) for e in closed["timeline"]][-2:] == [
        ("resolve", "department"), ("close", "department")]
    assert len(closed["timeline"]) == 10
    walk["closed"] = True


def test_the_street_bulletin_counts_the_walk_for_the_community_with_perfect_rates(people, walk):
    need(walk, "closed")
    before = walk["before"]["street"]
    assert before["received"] == 0, "the demo seed holds no request of this month: the walk's is its only one"
    view = street_bulletin(people["street1"], walk["month"])
    after = row_of(view["items"], "community", COMMUNITY)
    assert added(before, after) == WALK_ADDS
    assert {name: after[name] for name in PERFECT} == PERFECT
    assert view["thresholds"] == {"satisfaction_rate": 85, "resolve_rate": 90, "response_rate": 95}

    table = read_csv(people["street1"].call("GET", "/v1/street/bulletin",
                                            params={"month": walk["month"], "format": "csv"}))
    assert table[0] == ["社区", "收到", "按时响应", "按时办结", "超期", "延期", "响应率", "解决率", "满意率", "排名", "是否通报"]
    assert only([line for line in table[1:] if line[0] == COMMUNITY], "CSV community line") == [
        COMMUNITY, *(str(after[name]) for name in BULLETIN_COUNTS), "100%", "100%", "100%", "1", "否"]
    walk["street_row"] = after


def test_the_district_bulletin_shows_the_same_community_and_its_street(people, walk):
    need(walk, "street_row")
    view = district_bulletin(people["district1"], walk["month"])
    community = row_of(view["communities"], "community", COMMUNITY)
    assert community == walk["street_row"]  # the street's and the district's tables agree, row for row
    street = row_of(view["streets"], "street", STREET)
    assert added(walk["before"]["streets"], street) == WALK_ADDS
    assert {name: street[name] for name in PERFECT} == PERFECT
    assert counts(street) == counts(community)  # the demo street has one community

    table = read_csv(people["district1"].call("GET", "/v1/district/bulletin",
                                              params={"month": walk["month"], "format": "csv"}))
    assert table[0] == ["层级", "名称", "收到", "按时响应", "按时办结", "超期", "延期", "响应率", "解决率", "满意率",
                        "排名", "是否通报"]
    levels = [line[0] for line in table[1:]]
    assert levels == sorted(levels, key=["街道", "部门", "社区"].index)  # streets, then departments, then communities
    assert [line for line in table[1:] if line[:2] == ["社区", COMMUNITY]] == [
        ["社区", COMMUNITY, *(str(community[name]) for name in BULLETIN_COUNTS), "100%", "100%", "100%", "1", "否"]]
    assert {tuple(line[:2]) for line in table[1:] if line[0] == "部门"} == {("部门", "城管局"), ("部门", "住建局")}


def test_the_district_bulletin_counts_the_departments_own_work_on_its_row(people, walk):
    """The department's row is its own work: it received the request, answered it within its own answer limit,
    solved it within its (extended) solve limit, with one extension, and the resident was satisfied."""
    need(walk, "closed")
    view = district_bulletin(people["district1"], walk["month"])
    other = row_of(view["departments"], "department", "住建局")
    assert counts(other) == counts(walk["before"]["住建局"])  # the walk never went there
    row = row_of(view["departments"], "department", "城管局")
    assert row["department"] == walk["chengguan"]
    assert added(walk["before"]["城管局"], row) == WALK_ADDS, row
    assert {name: row[name] for name in PERFECT} == PERFECT, row


def test_street_and_district_rollups_agree_with_the_communitys_own_statistics(people, walk):
    need(walk, "closed")
    admin, window = people["admin"], walk["window"]
    # more of the community's life in the window, so that every area has something to agree on
    res3, vol3, res1 = people["res3"], people["vol3"], people["res1"]
    wish = ok(res3.call("POST", "/v1/wishes", {"title": "帮忙换灯泡", "content": "楼道灯泡坏了，够不着", "category": "维修"}),
              201)
    ok(vol3.call("POST", f"/v1/wishes/{wish['id']}/claim"))
    ok(vol3.call("POST", f"/v1/wishes/{wish['id']}/fulfil", {"note": "换好了"}))
    assert ok(res3.call("POST", f"/v1/wishes/{wish['id']}/confirm", {"rating": 5}))["points_awarded"] == 20
    ok(admin.call("POST", "/v1/points/awards", {"user_id": people["vol2"].user["id"], "category": "participation",
                                                "points": 10, "reason": "参与垃圾清运监督"}), 201)
    [store] = ok(res1.call("GET", "/v1/stores"))["items"]
    towel = only([g for g in ok(res1.call("GET", f"/v1/stores/{store['id']}/goods"))["items"] if g["name"] == "毛巾"],
                 "毛巾")
    ok(res1.call("POST", "/v1/redemptions", {"goods_id": towel["id"], "quantity": 1}), 201)

    own = community_statistics(admin, window)
    before = walk["before"]["community"]
    assert {name: own[name] - before[name] for name in (
        "wishes", "volunteers", "volunteer_minutes", "events", "points_issued", "points_redeemed", "requests")} == {
        "wishes": 1, "volunteers": 0, "volunteer_minutes": 0, "events": 0, "points_issued": 20 + 10,
        "points_redeemed": towel["price_points"], "requests": 1}
    assert own["events"] == 3 and own["volunteers"] == 5  # the demo seed's upcoming events and volunteers
    assert (own["response_rate"], own["resolution_rate"], own["satisfaction_rate"]) == (1.0, 1.0, 1.0)

    street = ok(people["street1"].call("GET", "/v1/street/stats", params=window))
    assert street["street"]["name"] == STREET
    row = row_of(street["items"], "community", COMMUNITY)
    assert figures(row) == own
    assert figures(street["total"]) == own  # one community: the street's total is its row

    district = ok(people["district1"].call("GET", "/v1/district/stats", params=window))
    assert district["district"]["name"] == DISTRICT
    street_row = row_of(district["items"], "street", STREET)
    assert street_row["communities"] == 1
    assert figures(street_row) == own
    assert figures(district["total"]) == own

    # and the street's request statistics name the same community with the same figures
    asked = ok(people["street1"].call("GET", "/v1/admin/requests/stats", params=window))
    by_community = only([c for c in asked["by_community"] if c["name"] == COMMUNITY], "street stats community")
    assert (by_community["received"], by_community["response_rate"], by_community["resolution_rate"],
            by_community["satisfaction_rate"]) == (own["requests"], own["response_rate"], own["resolution_rate"],
                                                   own["satisfaction_rate"])


def test_a_department_sees_neither_another_departments_request_nor_the_district_tables(people, walk):
    """Last: a second request goes to 住建局 (it would change the month's figures asserted above)."""
    need(walk, "zhujian")
    res2, grid1, admin, street1, dept1 = (people[n] for n in ("res2", "grid1", "admin", "street1", "dept1"))
    other = ok(res2.call("POST", "/v1/requests", {"category": "设施维修", "content": "5号楼外墙瓷砖脱落"}), 201)
    path = f"/v1/requests/{other['id']}"
    ok(grid1.call("POST", f"{path}/escalate", {"reason": "需要专业维修"}))
    ok(admin.call("POST", f"{path}/escalate", {"reason": "需街道协调"}))
    sent = ok(street1.call("POST", f"{path}/escalate", {"reason": "请住建局处理", "department_id": walk["zhujian"]["id"]}))
    assert sent["department"] == walk["zhujian"]
    # another department's request does not exist for dept1 (docs/api.md: anyone else who may not see it, 404)
    refused(dept1.call("GET", path), 404, "NOT_FOUND")
    refused(dept1.call("POST", f"{path}/accept"), 404, "NOT_FOUND")
    assert other["id"] not in [t["request"]["id"] for t in ok(dept1.call("GET", "/v1/department/tasks"))["items"]]
    # the district's tables are the district's staff's
    refused(dept1.call("GET", "/v1/district/bulletin"), 403, "FORBIDDEN")
    refused(dept1.call("GET", "/v1/district/stats"), 403, "FORBIDDEN")
    refused(street1.call("GET", "/v1/district/bulletin"), 403, "FORBIDDEN")
    refused(dept1.call("GET", "/v1/street/bulletin"), 403, "FORBIDDEN")
