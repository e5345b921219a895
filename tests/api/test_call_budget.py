"""Exact call counts of the routes that matter (issue 7): one write per change with the Idempotency-Key inside it,
no re-reads, a replay is one read; and proof that the budget check itself bites."""
import uuid

from tests import budget
from tests.budget import Meter

WISH = {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮", "category": "维修", "contact_phone": "13812345678"}


def metered(member, method, path, body=None, headers=None):
    """The request and the calls it made (the Api client checks the budget too; here we look at exact counts)."""
    resp = member.api.request(method, path, token=member.token, json_body=body, headers=headers)
    return resp, member.api.last_meter


def test_a_claim_is_two_reads_and_one_write_with_its_key_inside(community):
    author, volunteer = community.resident(0), community.volunteer(0)
    wish = author.post("/v1/wishes", WISH).json
    key = str(uuid.uuid4())
    resp, meter = metered(volunteer, "POST", f"/v1/wishes/{wish['id']}/claim", headers={"Idempotency-Key": key})
    assert resp.status == 200
    assert meter.dynamo == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1}, meter.dynamo
    replay, meter = metered(volunteer, "POST", f"/v1/wishes/{wish['id']}/claim", headers={"Idempotency-Key": key})
    assert replay.status == 200 and replay.json == resp.json and replay.headers.get("Idempotent-Replayed") == "true"
    assert meter.dynamo == {"BatchGetItem": 1}, meter.dynamo  # the caller and the record: one read, no write


def test_reads_are_the_caller_and_one_read(community):
    """A detail is the caller and the wish; a page the caller, its index entries and its wishes by key (issue 27:
    the indexes hold keys, not copies)."""
    author = community.resident(0)
    wish = author.post("/v1/wishes", WISH).json
    resp, meter = metered(author, "GET", f"/v1/wishes/{wish['id']}")
    assert resp.status == 200 and meter.dynamo == {"GetItem": 2}, meter.dynamo
    for path in ("/v1/wishes", "/v1/wishes/mine", "/v1/wishes?grid_id=" + community.grid_ids[0] + "&category=维修",
                 "/v1/wishes?status=open&category=维修"):
        resp, meter = metered(author, "GET", path)
        assert resp.status == 200 and [w["id"] for w in resp.json["items"]] == [wish["id"]], path
        assert meter.dynamo == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}, (path, meter.dynamo)


def test_publish_is_two_reads_one_content_check_and_one_write(community):
    author = community.resident(0)
    author.post("/v1/wishes", WISH)  # the deployment's access_token is fetched once, before
    resp, meter = metered(author, "POST", "/v1/wishes", WISH, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert resp.status == 201
    assert meter.dynamo == {"BatchGetItem": 2, "TransactWriteItems": 1}, meter.dynamo
    assert meter.wechat == {"wxa/msg_sec_check": 1}, meter.wechat


def test_a_refusal_under_a_key_is_stored_by_one_write_and_replayed(community):
    member = community.resident(0)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first, meter = metered(member, "POST", "/v1/wishes/w_nothing/claim", headers=key)
    assert first.status == 403 and meter.writes == 1
    again, meter = metered(member, "POST", "/v1/wishes/w_nothing/claim", headers=key)
    assert again.json == first.json and meter.writes == 0 and meter.reads == 1


def test_the_budget_check_names_the_route_and_what_it_overspent():
    meter = Meter()
    meter.dynamo.update({"GetItem": 3, "TransactWriteItems": 2})
    problem = budget.overspent("POST", "/v1/wishes/w_x/claim", meter)
    assert "POST /v1/wishes/{wish_id}/claim" in problem and "3 reads > 2" in problem and "2 writes > 1" in problem
    meter = Meter()
    meter.dynamo.update({"GetItem": 1, "Query": 1})
    assert budget.overspent("GET", "/v1/wishes?limit=5", meter) is None
    meter.wechat.update({"wxa/msg_sec_check": 1})
    assert "WeChat" in budget.overspent("GET", "/v1/wishes", meter)


def _event(admin, capacity):
    from datetime import timedelta
    from tongxin.domain.clock import to_api, utcnow
    start = utcnow() + timedelta(days=2)
    resp = admin.post("/v1/events", {"title": "计数活动", "kind": "activity", "capacity": capacity,
                                     "starts_at": to_api(start), "ends_at": to_api(start + timedelta(hours=2))})
    assert resp.status == 201, resp.body
    return resp.json["id"]


def test_a_sign_up_is_two_reads_and_one_write_and_a_waitlisted_one_takes_its_ticket_first(community):
    event_id = _event(community.admin, capacity=1)
    for expected, ticket in (("signed", {}), ("waitlisted", {"UpdateItem": 1})):
        member = community.resident(0)
        resp, meter = metered(member, "POST", f"/v1/events/{event_id}/signup",
                              headers={"Idempotency-Key": str(uuid.uuid4())})
        assert resp.status == 201 and resp.json["status"] == expected
        # The caller and the record (one BatchGetItem), the event and my sign-up (one), one transaction; when
        # full, the ticket from the event's dispenser before it (one atomic ADD).
        assert meter.dynamo == {"BatchGetItem": 2, **ticket, "TransactWriteItems": 1}, meter.dynamo


def test_giving_up_a_place_promotes_with_one_query_and_one_write(community):
    event_id = _event(community.admin, capacity=1)
    first, second = community.resident(0), community.resident(0)
    assert first.post(f"/v1/events/{event_id}/signup").status == 201
    assert second.post(f"/v1/events/{event_id}/signup").json["status"] == "waitlisted"
    resp, meter = metered(first, "DELETE", f"/v1/events/{event_id}/signup")
    assert resp.status == 200
    # The caller, the event and my sign-up, the waitlist's first (a Query); the promotion in the one transaction.
    assert meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "Query": 1, "TransactWriteItems": 1}, meter.dynamo
    assert second.get(f"/v1/events/{event_id}").json["my_status"] == "signed"


def test_a_check_in_scan_is_two_reads_and_one_write_and_a_check_out_adds_the_balance(community):
    from datetime import timedelta
    from tongxin.domain.clock import to_api, travel, utcnow
    start = utcnow() + timedelta(hours=2)
    event = community.admin.post("/v1/events", {"title": "计数签到", "kind": "activity", "capacity": 5,
                                                "points_per_hour": 10, "starts_at": to_api(start),
                                                "ends_at": to_api(start + timedelta(hours=2))}).json
    member = community.resident(0)
    assert member.post(f"/v1/events/{event['id']}/signup").status == 201
    with travel(timedelta(hours=2)):
        code = community.admin.get(f"/v1/events/{event['id']}/qrcode").json["code"]
        resp, meter = metered(member, "POST", "/v1/checkins", {"code": code})
        assert resp.status == 200 and resp.json["action"] == "check_in"
        # The code is checked by computation; the caller, the event with my sign-up, one transaction.
        assert meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}, meter.dynamo
    with travel(timedelta(hours=3)):
        code = community.admin.get(f"/v1/events/{event['id']}/qrcode").json["code"]
        resp, meter = metered(member, "POST", "/v1/checkins", {"code": code})
        assert resp.status == 200 and resp.json["attendance"]["points"] == 10
        # + the balance the ledger entry's balance_after is computed from
        assert meter.dynamo == {"GetItem": 2, "BatchGetItem": 1, "TransactWriteItems": 1}, meter.dynamo


def _shop(community, *, price=5, stock=10):
    admin = community.admin
    store = admin.post("/v1/stores", {"name": "计数超市"}).json
    goods = admin.post(f"/v1/stores/{store['id']}/goods", {"name": "毛巾", "price_points": price, "stock": stock}).json
    return store, goods


def test_an_award_is_two_reads_and_one_write(community):
    member = community.resident(0)
    resp, meter = metered(community.admin, "POST", "/v1/points/awards",
                          {"user_id": member.id, "category": "charity", "points": 30, "reason": "捐赠衣物"},
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert resp.status == 201
    # The caller and the record; the awarded user and the community's caps (one BatchGetItem); one transaction
    # (award, ledger, balance, day counter, scores, message, statistics, the key's record).
    assert meter.dynamo == {"BatchGetItem": 2, "TransactWriteItems": 1}, meter.dynamo


def test_a_redemption_is_two_reads_and_one_write_and_its_replay_one_read(community):
    member = community.resident(0)
    community.admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity", "points": 30,
                                               "reason": "捐赠衣物"})
    store, goods = _shop(community)
    key = str(uuid.uuid4())
    resp, meter = metered(member, "POST", "/v1/redemptions", {"goods_id": goods["id"], "quantity": 2},
                          headers={"Idempotency-Key": key})
    assert resp.status == 201
    # The caller and the record (its balance is the ledger's "before"), the goods; one transaction.
    assert meter.dynamo == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1}, meter.dynamo
    replay, meter = metered(member, "POST", "/v1/redemptions", {"goods_id": goods["id"], "quantity": 2},
                            headers={"Idempotency-Key": key})
    assert replay.status == 201 and replay.json == resp.json
    assert meter.dynamo == {"BatchGetItem": 1}, meter.dynamo
    refused, meter = metered(member, "POST", "/v1/redemptions", {"goods_id": goods["id"], "quantity": 9})
    assert refused.status == 409 and refused.error_code == "OUT_OF_STOCK"
    assert meter.dynamo == {"GetItem": 2}, meter.dynamo  # refused from the goods as read: no write
    resp, meter = metered(member, "POST", f"/v1/redemptions/{resp.json['id']}/cancel")
    assert resp.status == 200 and resp.json["status"] == "cancelled"
    # The caller (its balance again the ledger's "before"), the redemption; one transaction gives all back.
    assert meter.dynamo == {"GetItem": 2, "TransactWriteItems": 1}, meter.dynamo


def test_the_passbook_and_a_leaderboard_read_once_past_the_caller(community):
    member = community.resident(0)
    community.admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity", "points": 30,
                                               "reason": "捐赠衣物"})
    resp, meter = metered(member, "GET", "/v1/me/points")
    assert resp.status == 200 and resp.json["balance"] == 30
    assert meter.dynamo == {"GetItem": 1, "Query": 1}, meter.dynamo
    resp, meter = metered(member, "GET", "/v1/leaderboard?period=month&scope=grid")
    assert resp.status == 200 and resp.json["me"] == {"score": 30, "points": 30, "minutes": None, "rank": 1}
    # The board's top with their names (one Query): I am among them, so my score is read there.
    assert meter.dynamo == {"GetItem": 1, "Query": 1}, meter.dynamo
    resp, meter = metered(community.resident(0), "GET", "/v1/leaderboard?period=month&scope=grid")
    assert resp.status == 200 and resp.json["me"] == {"score": 0, "points": 0, "minutes": None, "rank": None}
    # Not among them: my own score, one GetItem more.
    assert meter.dynamo == {"GetItem": 2, "Query": 1}, meter.dynamo


# --- 接诉即办 (issue 12) ---------------------------------------------------------------------------------------

REQUEST = {"category": "设施维修", "content": "3栋2单元楼道灯坏了", "location": {"address": "3栋2单元", "lat": 30.5,
                                                                           "lng": 103.8}}


def _key():
    return {"Idempotency-Key": str(uuid.uuid4())}


def _submitted(author):
    resp = author.post("/v1/requests", REQUEST)
    assert resp.status == 201, resp.body
    return resp.json["id"]


def _street_of(api, *communities):
    """A street with ``communities`` attached and one staff member (the operator's use cases, as the CLI calls
    them)."""
    from tongxin.usecases import streets
    street = streets.create_street("计数街道")
    for community in communities:
        streets.attach_community(street["id"], community.id)
    staff = api.login()
    streets.add_staff(street["id"], staff.id)
    return street["id"], staff.relogin()


def test_a_submitted_request_is_two_reads_one_content_check_and_one_write(community):
    author = community.resident(0)
    _submitted(author)  # the deployment's access_token is fetched once, before
    key = _key()
    resp, meter = metered(author, "POST", "/v1/requests", REQUEST, headers=key)
    assert resp.status == 201
    # The caller and the record (one BatchGetItem), the community's limits and my day's count (one); one
    # transaction (the request, its statistics, the count, the grid's message, the key's record).
    assert meter.dynamo == {"BatchGetItem": 2, "TransactWriteItems": 1}, meter.dynamo
    assert meter.wechat == {"wxa/msg_sec_check": 1}, meter.wechat  # content and address in one check
    replay, meter = metered(author, "POST", "/v1/requests", REQUEST, headers=key)
    assert replay.status == 201 and replay.json == resp.json
    assert meter.dynamo == {"BatchGetItem": 1} and not meter.wechat, (meter.dynamo, meter.wechat)


def test_each_step_of_a_request_is_two_reads_and_one_write(api, community):
    """Accept, escalate, resolve, rate: the caller, the request (one GetItem), one transaction — the step, the
    timeline, the statistics, the message and the key's record inside it; with a key the caller and the record
    are one BatchGetItem."""
    street_id, staff = _street_of(api, community)
    author, worker, admin = community.resident(0), community.grid_worker(0), community.admin
    first, second = _submitted(author), _submitted(author)
    plain = {"GetItem": 2, "TransactWriteItems": 1}
    keyed = {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1}
    steps = [(worker, first, "accept", None), (worker, first, "resolve", {"note": "换了灯泡"}),
             (author, first, "rate", {"satisfaction": 1, "comment": "还是暗"}),  # reopened: the level is told
             (worker, first, "resolve", {"note": "换了灯座"}), (author, first, "rate", {"satisfaction": 5}),
             (worker, second, "escalate", {"reason": "需要物业配合"}), (admin, second, "accept", None),
             (admin, second, "escalate", {"reason": "需要街道协调"}), (staff, second, "accept", None),
             (staff, second, "resolve", {"note": "街道协调物业修好了"})]
    for number, (person, request_id, step, body) in enumerate(steps):
        headers = _key() if number % 2 else None
        resp, meter = metered(person, "POST", f"/v1/requests/{request_id}/{step}", body, headers=headers)
        assert resp.status == 200, (step, resp.body)
        assert meter.dynamo == (keyed if headers else plain), (step, meter.dynamo)
    assert author.get(f"/v1/requests/{first}").json["outcome"] == "satisfied"
    assert author.get(f"/v1/requests/{second}").json["level"] == "street"


def test_a_refused_step_is_refused_from_what_was_read_without_a_write(community):
    author, worker = community.resident(0), community.grid_worker(0)
    request_id = _submitted(author)
    for person, step, body, status in ((author, "accept", None, 403), (community.resident(0), "accept", None, 404),
                                       (worker, "resolve", {"note": "还没响应"}, 409),
                                       (author, "rate", {"satisfaction": 5}, 409)):
        resp, meter = metered(person, "POST", f"/v1/requests/{request_id}/{step}", body)
        assert resp.status == status, (step, resp.body)
        assert meter.dynamo == {"GetItem": 2}, (step, meter.dynamo)


def test_a_request_and_the_request_lists_read_once_past_the_caller(community):
    author, worker = community.resident(0), community.grid_worker(0)
    request_id = _submitted(author)
    for person, path, read in ((author, f"/v1/requests/{request_id}", "GetItem"),
                               (worker, f"/v1/requests/{request_id}", "GetItem"),
                               (community.admin, f"/v1/requests/{request_id}", "GetItem"),
                               (author, "/v1/requests/mine", "Query"),
                               (community.admin, "/v1/admin/requests?view=all", "Query")):
        resp, meter = metered(person, "GET", path)
        assert resp.status == 200, (path, resp.body)
        assert meter.dynamo == ({"GetItem": 2} if read == "GetItem" else {"GetItem": 1, "Query": 1}), \
            (path, meter.dynamo)


def test_the_admins_request_stats_are_one_read_of_counters(community):
    author = community.resident(0)
    _submitted(author)
    resp, meter = metered(community.admin, "GET", "/v1/admin/requests/stats")
    assert resp.status == 200 and resp.json["scope"] == "community" and resp.json["received"] == 1
    assert meter.dynamo == {"GetItem": 1, "BatchGetItem": 1}, meter.dynamo  # the caller, the window's counters


def test_a_streets_request_stats_grow_with_its_communities_not_its_requests(api):
    """The caller; the street; its communities' counters, 100 keys a BatchGetItem; their names (one more)."""
    import math
    from datetime import datetime, timedelta, timezone
    from tests.support import make_community
    from tongxin.domain.stats import window_buckets
    communities = [make_community(api, grids=1) for _ in range(3)]
    street_id, staff = _street_of(api, *communities)
    for community in communities:
        author = community.resident(0)
        for _ in range(2):
            _submitted(author)
    resp, meter = metered(staff, "GET", "/v1/admin/requests/stats")
    assert resp.status == 200 and resp.json["scope"] == "street" and resp.json["received"] == 6
    buckets = len(window_buckets(*_default_window()))
    assert meter.dynamo == {"GetItem": 1, "BatchGetItem": 2 + math.ceil(3 * buckets / 100)}, meter.dynamo
    # A window of more buckets than one call takes for three communities: one BatchGetItem more per 100 keys.
    shanghai = timezone(timedelta(hours=8))
    start, end = datetime(2026, 1, 15, tzinfo=shanghai), datetime(2026, 12, 20, tzinfo=shanghai)
    buckets = len(window_buckets(start, end))
    assert 100 < 3 * buckets <= 200, buckets
    query = f"from={start.isoformat()}&to={end.isoformat()}&street_id={street_id}".replace("+", "%2B")
    resp, meter = metered(staff, "GET", f"/v1/admin/requests/stats?{query}")
    assert resp.status == 200 and resp.json["street_id"] == street_id
    assert meter.dynamo == {"GetItem": 1, "BatchGetItem": 4}, meter.dynamo
    assert [c["community_id"] for c in resp.json["by_community"]] == sorted(c.id for c in communities)


def _default_window():
    from tongxin.domain.clock import utcnow
    from tongxin.usecases.stats import DEFAULT_WINDOW
    end = utcnow()
    return end - DEFAULT_WINDOW, end


def test_the_fourth_level_and_oversight_are_a_read_or_two_and_one_write(api, community):
    """街呼区应: the street's escalation to a department reads the department and the request's district (its limits)
    in one BatchGetItem; 延期 (asked, approved, rejected) and 督办 are the caller, the request and one transaction;
    the department's queue and the street's departments one read past the caller (the street, then one Query)."""
    from tongxin.usecases import districts
    street_id, staff = _street_of(api, community)
    district = districts.create_district("计数区")["id"]
    districts.attach_street(district, street_id)
    department = districts.add_department(district, "计数局")["id"]
    dept_staff, district_staff = api.login(), api.login()
    districts.add_department_staff(department, dept_staff.id)
    districts.add_district_staff(district, district_staff.id)
    dept_staff.relogin()
    district_staff.relogin()
    author, worker, admin = community.resident(0), community.grid_worker(0), community.admin
    request_id = _submitted(author)
    plain = step = {"GetItem": 2, "TransactWriteItems": 1}
    for person, path, body, expected in (
            (admin, "supervise", {"note": "请今天处理"}, plain),
            (worker, "accept", None, plain),
            (worker, "extend", {"days": 2, "reason": "等材料"}, plain),
            (admin, "extension/approve", None, plain),
            (worker, "escalate", {"reason": "上报社区"}, step),
            (admin, "escalate", {"reason": "上报街道"}, step),
            (staff, "escalate", {"reason": "城管执法", "department_id": department},
             {"GetItem": 2, "BatchGetItem": 1, "TransactWriteItems": 1}),
            (dept_staff, "accept", None, plain),
            (dept_staff, "extend", {"days": 3, "reason": "取证"}, plain),
            (district_staff, "extension/reject", {"reason": "时限内能办完"}, plain),
            (district_staff, "supervise", {"note": "区里督办"}, plain)):
        resp, meter = metered(person, "POST", f"/v1/requests/{request_id}/{path}", body)
        assert resp.status == 200, (path, resp.body)
        assert meter.dynamo == expected, (path, meter.dynamo)
    resp, meter = metered(dept_staff, "GET", "/v1/department/tasks")
    assert resp.status == 200 and meter.dynamo == {"GetItem": 1, "Query": 1}, meter.dynamo
    resp, meter = metered(staff, "GET", "/v1/street/departments")
    assert resp.status == 200 and len(resp.json["items"]) == 1
    assert meter.dynamo == {"GetItem": 2, "Query": 1}, meter.dynamo
