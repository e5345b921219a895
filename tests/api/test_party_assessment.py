"""双报到 考核 over HTTP against moto: a party member's service record counts what they already do — a real event
check-out settlement, a real wish confirmation, a request answered as staff — in the Shanghai quarter it was served,
corrections keep it true, and GET /v1/admin/party-members judges it against the community's rules, O(page)."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.test_checkins import at, check, publish, sign_up, when
from tests.support import make_community
from tongxin.domain.clock import SHANGHAI, utcnow
from tongxin.domain.party import quarter_of
from tongxin.usecases import service_record

PM = "/v1/admin/party-members"
REPORT = {"real_name": "李党员", "work_unit": "区税务局", "party_branch": "同心社区第一党支部"}
MIN = timedelta(minutes=1)


def party_member(community, grid_index: int = 0):
    """A resident who reported (党员报到) and whom the admin approved."""
    member = community.resident(grid_index)
    reg = member.post("/v1/me/party-registration", REPORT)
    assert reg.status == 201, reg.body
    assert community.admin.post(f"/v1/admin/party-registrations/{reg.json['id']}/approve").status == 200
    return member.relogin()


def assessed(admin, quarter: str | None = None) -> dict[str, dict]:
    """Every party member's row of the quarter, by user id (all pages)."""
    rows, cursor = {}, None
    while True:
        query = "&".join(p for p in (f"quarter={quarter}" if quarter else "", f"cursor={cursor}" if cursor else "") if p)
        resp = admin.get(PM + (f"?{query}" if query else ""))
        assert resp.status == 200, resp.body
        rows.update({r["user"]["id"]: r for r in resp.json["items"]})
        cursor = resp.json["next_cursor"]
        if not cursor:
            return rows


def attend(community, member, minutes_after_check_in: int = 60) -> tuple[dict, datetime]:
    """A real attendance: an activity starting in an hour, the member signs up, checks in 5 minutes after the start
    and out ``minutes_after_check_in`` later (the check-out's credit is the settlement). Answers the event and its
    start."""
    admin = community.admin
    event = publish(admin, length=timedelta(hours=2))
    sign_up(member, event)
    start = when(event)
    with at(start + 5 * MIN):
        check(member, admin, event, "check_in")
    with at(start + 5 * MIN + minutes_after_check_in * MIN + timedelta(seconds=20)):
        out = check(member, admin, event, "check_out")
    assert out["minutes"] == minutes_after_check_in
    return event, start


def fulfil_a_wish(community, member) -> str:
    author = community.resident(0)
    wish = author.post("/v1/wishes", {"title": "帮忙取药", "content": "去卫生服务中心取降压药", "category": "助老"})
    assert wish.status == 201, wish.body
    wid = wish.json["id"]
    assert member.post(f"/v1/wishes/{wid}/claim").status == 200
    assert member.post(f"/v1/wishes/{wid}/fulfil", {"note": "已送到"}).status == 200
    confirmed = author.post(f"/v1/wishes/{wid}/confirm", {"rating": 5})
    assert confirmed.status == 200, confirmed.body
    return wid


def test_services_come_from_the_same_credits_and_the_rules_judge_them(community):
    admin = community.admin
    member = party_member(community)
    idle = party_member(community, 1)
    attend(community, member, 60)
    wish_id = fulfil_a_wish(community, member)
    # A request answered as staff: the member also works grid 0.
    community.with_roles(member, ["party_member", "grid_worker"], [0])
    request = community.resident(0).post("/v1/requests", {"category": "设施维修", "content": "楼道灯坏了"})
    assert request.status == 201, request.body
    assert member.post(f"/v1/requests/{request.json['id']}/accept").status == 200
    # Resolving what one accepted is the same service, not a second one.
    assert member.post(f"/v1/requests/{request.json['id']}/resolve", {"note": "已更换灯泡"}).status == 200

    rows = assessed(admin)
    mine = rows[member.id]
    assert mine["quarter"] == {"services": 3, "events": 1, "wishes": 1, "posts": 0, "requests": 1, "minutes": 60}
    assert mine["year_minutes"] == 60
    assert mine["user"] == {"id": member.id, "nickname": member.user["nickname"], "real_name": "李党员"}
    assert mine["unit_id"] is None
    assert (mine["meets_rules"], mine["missing"]) == (False, ["hours"])  # 1 h of the year's 20
    assert rows[idle.id]["quarter"]["services"] == 0
    assert (rows[idle.id]["meets_rules"], rows[idle.id]["missing"]) == (False, ["services", "hours"])
    # Nothing typed twice: confirming again is refused and counts nothing.
    assert community.resident(0).post(f"/v1/wishes/{wish_id}/confirm", {"rating": 5}).status in (403, 404, 409)
    # The community's rules, changed by its admin, judge the same record at once.
    assert admin.patch("/v1/admin/community", {"party_hours_per_year_min": 1}).status == 200
    rows = assessed(admin)
    assert (rows[member.id]["meets_rules"], rows[member.id]["missing"]) == (True, [])
    assert admin.patch("/v1/admin/community", {"party_services_per_quarter_min": 4}).status == 200
    assert assessed(admin)[member.id]["missing"] == ["services"]
    answer = admin.get(PM).json
    assert answer["rules"] == {"services_per_quarter_min": 4, "hours_per_year_min": 1}
    assert answer["quarter"] == quarter_of(utcnow())
    for bad in ({"party_hours_per_year_min": -1}, {"party_hours_per_year_min": 1001},
                {"party_services_per_quarter_min": 101}, {"party_services_per_quarter_min": "2"}):
        refused = admin.patch("/v1/admin/community", bad)
        assert refused.status == 400 and refused.error_code == "VALIDATION_FAILED", bad


def test_a_non_party_member_is_not_listed_but_their_record_is_kept(community):
    volunteer = community.volunteer(0)
    attend(community, volunteer, 30)
    assert volunteer.id not in assessed(community.admin)
    # Approved later in the quarter: what they already did counts.
    reg = volunteer.post("/v1/me/party-registration", REPORT).json
    assert community.admin.post(f"/v1/admin/party-registrations/{reg['id']}/approve").status == 200
    assert assessed(community.admin)[volunteer.id]["quarter"]["minutes"] == 30


def test_corrections_keep_the_record_true(community):
    admin = community.admin
    member = party_member(community)
    event, start = attend(community, member, 60)
    adjust = f"/v1/events/{event['id']}/attendance/{member.id}/adjust"
    with at(start + timedelta(hours=3)):
        assert admin.post(adjust, {"minutes": 30, "reason": "提前离开"}).status == 200
    assert assessed(admin)[member.id]["quarter"] == {"services": 1, "events": 1, "wishes": 0, "posts": 0,
                                                     "requests": 0, "minutes": 30}
    with at(start + timedelta(hours=3, minutes=1)):
        assert admin.post(adjust, {"minutes": 0, "reason": "实际未参加"}).status == 200
    assert assessed(admin)[member.id]["quarter"]["services"] == 0
    assert assessed(admin)[member.id]["quarter"]["minutes"] == 0
    with at(start + timedelta(hours=3, minutes=2)):
        assert admin.post(adjust, {"minutes": 45, "reason": "补录"}).status == 200
        assert admin.post(adjust, {"minutes": 45, "reason": "同样的值"}).status == 200  # the same twice: no change
    row = assessed(admin)[member.id]
    assert (row["quarter"]["services"], row["quarter"]["events"], row["quarter"]["minutes"], row["year_minutes"]) \
        == (1, 1, 45, 45)


def test_the_quarter_is_the_shanghai_quarter_of_the_moment_served(api):
    """Checked in at 23:59 on 31 March (Shanghai): the first quarter; at 00:00 on 1 April: the second."""
    evening = datetime(2027, 3, 31, 21, 0, tzinfo=SHANGHAI)
    with at(evening):
        community = make_community(api)
        admin = community.admin
        late, early = party_member(community), party_member(community)
        event = publish(admin, starts_in=timedelta(hours=2), length=timedelta(hours=3))  # 23:00 – 02:00
        sign_up(late, event)
        sign_up(early, event)
    with at(datetime(2027, 3, 31, 23, 59, 0, tzinfo=SHANGHAI)):
        check(late, admin, event, "check_in")
    with at(datetime(2027, 4, 1, 0, 0, 0, tzinfo=SHANGHAI)):
        check(early, admin, event, "check_in")
    with at(datetime(2027, 4, 1, 1, 0, 30, tzinfo=SHANGHAI)):
        check(late, admin, event, "check_out")
        check(early, admin, event, "check_out")
    with at(datetime(2027, 4, 2, 9, 0, tzinfo=SHANGHAI)):
        q1, q2 = assessed(admin, "2027Q1"), assessed(admin, "2027Q2")
        assert admin.get(f"{PM}?quarter=2027Q3").error_code == "VALIDATION_FAILED"  # still to come
    assert (q1[late.id]["quarter"]["services"], q1[late.id]["quarter"]["minutes"]) == (1, 61)
    assert (q1[early.id]["quarter"]["services"], q1[early.id]["quarter"]["minutes"]) == (0, 0)
    assert (q2[early.id]["quarter"]["services"], q2[early.id]["quarter"]["minutes"]) == (1, 60)
    assert q2[late.id]["quarter"]["services"] == 0
    assert q2[late.id]["year_minutes"] == 61 and q2[early.id]["year_minutes"] == 60  # the year so far
    assert q1[early.id]["year_minutes"] == 0


def test_quarter_values_at_the_edges(community):
    admin = community.admin
    party_member(community)
    now_q = quarter_of(utcnow())
    for good in (now_q, "0001Q1", "2026Q1", "%202026Q1"):  # surrounding blanks are trimmed, as in every query
        assert admin.get(f"{PM}?quarter={good}").status == 200, good
    assert admin.get(f"{PM}?quarter=0001Q1").json["items"][0]["quarter"]["services"] == 0
    for bad in ("9999Q4", "2026Q0", "2026Q5", "2026-Q1", "26Q1", "2026q1", "0000Q1", "2026Q1x", "Q1"):
        resp = admin.get(f"{PM}?quarter={bad}")
        assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", (bad, resp.body)
        assert resp.json["error"]["details"]["field"] == "quarter"


def test_pages_of_at_most_20_and_exact_calls(api):
    community = make_community(api)
    members = [party_member(community, i % 2) for i in range(23)]
    admin = community.admin
    first = admin.get(f"{PM}?limit=100")
    assert first.status == 200 and len(first.json["items"]) == 20 and first.json["next_cursor"]
    calls = dict(admin.api.last_meter.dynamo)
    assert calls == {"GetItem": 2, "Query": 1, "BatchGetItem": 1}, calls  # caller, community; the page; 100 keys
    rest = admin.get(f"{PM}?limit=100&cursor={first.json['next_cursor']}")
    assert len(rest.json["items"]) == 3 and rest.json["next_cursor"] is None
    seen = [r["user"]["id"] for r in first.json["items"] + rest.json["items"]]
    assert sorted(seen) == sorted(m.id for m in members) and len(set(seen)) == 23
    assert [r["user"]["id"] for r in first.json["items"][:3]] == [m.id for m in members[::-1][:3]]  # newest first
    small = admin.get(f"{PM}?limit=5")
    assert len(small.json["items"]) == 5
    # The whole community as CSV: every member, 2 reads per page of 20 and the caller and the community.
    csv = admin.get(f"{PM}?format=csv")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    text = csv.body.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("成员ID,昵称,姓名") and len(lines) == 24
    assert dict(admin.api.last_meter.dynamo) == {"GetItem": 2, "Query": 2, "BatchGetItem": 2}


def test_a_member_removed_from_the_role_leaves_the_list(community):
    admin = community.admin
    member = party_member(community)
    assert member.id in assessed(admin)
    community.with_roles(member, [])
    assert member.id not in assessed(admin)
    assert community.resident().get(PM).status == 403
    assert member.get(PM).status == 403


def test_service_record_add_is_one_update_in_the_callers_transaction(container):
    """The function other areas call (posts' claim): one update of one item, nothing read, nothing committed."""
    from tongxin.adapters.dynamo.tx import Tx
    tx = Tx()
    moment = datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)
    service_record.add(tx, user_id="u_record", community_id="c_record", at=moment, kind="post")
    assert len(tx) == 1
    tx.commit()
    again = Tx()
    service_record.add(again, user_id="u_record", community_id="c_record", at=moment, kind="post", minutes=15)
    again.commit()
    found = service_record.read([("u_record", "2026Q4"), ("u_record", "2027Q1")])
    assert found == {("u_record", "2026Q4"): {"services": 2, "post": 2, "minutes": 15}}
