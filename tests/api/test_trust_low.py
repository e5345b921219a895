"""Issue 19, item 4 — trust at the edges, over HTTP against moto (each test is a sequence that failed before the fix):

a. 核销: a code of another store is 404 exactly like an unknown one, and a keeper's failed verifications are capped
   (20 in a 10-minute window, then 429 RATE_LIMITED with Retry-After until the window ends);
b. text made only of invisible characters (U+200B, U+200C/D, U+2060, U+FEFF, …) is empty in every text field, and
   noncharacters are refused anywhere;
c. a template's subscription quota never passes 100, however many accepts are reported;
d. a second reversal of an award — after the first, or racing it — is 409 INVALID_STATE, never INSUFFICIENT_POINTS;
e. a request's location gives lat and lng together, or neither.

Races are made deterministic with botocore's event hooks on the app's one DynamoDB client: the second request is
held at a chosen call while the first runs to its end in another thread; nothing of ours is stubbed.
"""
from __future__ import annotations

import concurrent.futures
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import pytest

from tests.api.test_checkins import assert_refused, at
from tests.support import Community, Member
from tongxin.adapters.dynamo import binding
from tongxin.adapters.dynamo.models import CounterModel
from tongxin.domain.clock import SHANGHAI, to_api, utcnow
from tongxin.usecases import push

WISH = {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮", "category": "维修"}


@contextmanager
def hooked(event: str, hook: Callable) -> Iterator[None]:
    """``hook(params, **kwargs)`` runs before the app's DynamoDB client builds each ``event`` call."""
    client = binding.connection().client
    client.meta.events.register_first(f"before-parameter-build.dynamodb.{event}", hook)
    try:
        yield
    finally:
        client.meta.events.unregister(f"before-parameter-build.dynamodb.{event}", hook)


def in_other_thread(fn: Callable):
    """Run ``fn`` to its end in another thread (its own request context) and return what it returned."""
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", fn()))
    worker.start()
    worker.join(timeout=60)
    assert "result" in done, "the other request did not finish"
    return done["result"]


def give_points(community: Community, member: Member, points: int) -> None:
    while points > 0:
        chunk = min(points, 50)
        resp = community.admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity",
                                                          "points": chunk, "reason": "楼道义务清扫"})
        assert resp.status == 201, resp.body
        points -= chunk


def balance(member: Member) -> int:
    resp = member.get("/v1/me")
    assert resp.status == 200, resp.body
    return resp.json["points_balance"]


# --- a. 核销: no telling codes apart, and no guessing them --------------------------------------------------------

class Counter_:
    """Two stores of one community, each with its keeper, and goods in each."""

    def __init__(self, community: Community):
        self.community = community
        self.stores, self.keepers, self.goods = [], [], []
        for name in ("幸福积分超市", "第二积分超市"):
            store = community.admin.post("/v1/stores", {"name": name})
            assert store.status == 201, store.body
            goods = community.admin.post(f"/v1/stores/{store.json['id']}/goods",
                                         {"name": "洗衣液", "price_points": 1, "stock": 50})
            assert goods.status == 201, goods.body
            keeper = community.with_roles(community.resident(0), ["store_keeper"], store_ids=[store.json["id"]])
            self.stores.append(store.json)
            self.goods.append(goods.json)
            self.keepers.append(keeper)
        self.owner = community.resident(0)
        give_points(community, self.owner, 30)

    def redemption(self, store: int = 0) -> dict:
        resp = self.owner.post("/v1/redemptions", {"goods_id": self.goods[store]["id"], "quantity": 1})
        assert resp.status == 201, resp.body
        return resp.json

    def status(self, redemption: dict) -> str:
        resp = self.owner.get(f"/v1/redemptions/{redemption['id']}")
        assert resp.status == 200, resp.body
        return resp.json["status"]


def verify(member: Member, code: str):
    return member.post("/v1/redemptions/verify", {"pickup_code": code})


def unknown_code(taken: set[str], n: int) -> str:
    """The n-th well-formed code (of the pickup alphabet) that no redemption here holds."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    while True:
        code = "".join(alphabet[(n // len(alphabet) ** i) % len(alphabet)] for i in range(6))
        if code not in taken:
            return code
        n += 7919


def next_window_start(length: int = 600) -> datetime:
    """The start of the next 10-minute window of the clock (windows start at …:00, …:10, … UTC)."""
    now = utcnow().timestamp()
    return datetime.fromtimestamp((int(now) // length + 1) * length, tz=timezone.utc)


@pytest.fixture
def counter(community) -> Counter_:
    return Counter_(community)


def test_another_stores_code_is_404_exactly_like_an_unknown_code(counter):
    theirs = counter.redemption(store=0)
    other_keeper = counter.keepers[1]
    elsewhere = verify(other_keeper, theirs["pickup_code"])
    nowhere = verify(other_keeper, unknown_code({theirs["pickup_code"]}, 1))
    assert_refused(elsewhere, 404, "NOT_FOUND")
    assert_refused(nowhere, 404, "NOT_FOUND")
    assert elsewhere.json == nowhere.json  # the same answer: nothing tells the two apart
    # lower case and blanks are the same code: still not this keeper's
    assert verify(other_keeper, f" {theirs['pickup_code'].lower()} ").json == nowhere.json
    assert counter.status(theirs) == "pending_pickup"
    # the store's own keeper verifies it; someone who keeps no store is still told 403 before any code is looked at
    assert_refused(verify(counter.owner, theirs["pickup_code"]), 403, "FORBIDDEN")
    resp = verify(counter.keepers[0], theirs["pickup_code"])
    assert resp.status == 200 and resp.json["status"] == "picked_up", resp.body


def test_twenty_failed_verifications_then_429_with_retry_after_until_the_window_passes(counter):
    keeper, colleague = counter.keepers[0], counter.community.with_roles(
        counter.community.resident(0), ["store_keeper"], store_ids=[counter.stores[0]["id"]])
    mine = [counter.redemption(store=0) for _ in range(3)]
    theirs = counter.redemption(store=1)
    taken = {r["pickup_code"] for r in mine} | {theirs["pickup_code"]}
    start = next_window_start()
    with at(start + timedelta(seconds=5)):
        # 18 unknown codes and one of another store: 19 failures, each 404
        for n in range(18):
            assert_refused(verify(keeper, unknown_code(taken, n)), 404, "NOT_FOUND")
        assert_refused(verify(keeper, theirs["pickup_code"]), 404, "NOT_FOUND")
        # under the limit a correct code still works, and costs no failure
        assert verify(keeper, mine[0]["pickup_code"]).status == 200
        # a used code is a refusal of a bad code too: the 20th failure
        assert_refused(verify(keeper, mine[0]["pickup_code"]), 409, "INVALID_STATE")
        # from now on every attempt is 429, a correct code included, before the code is looked at
        for code in (mine[1]["pickup_code"], unknown_code(taken, 99), "garbage"):
            limited = verify(keeper, code)
            answered = utcnow()
            assert_refused(limited, 429, "RATE_LIMITED")
            wait = int(limited.headers["Retry-After"])
            assert 0 < wait <= 600 and limited.json["error"]["details"]["retry_after"] == wait, limited.headers
            assert "分钟后再试" in limited.json["error"]["message"]
        assert counter.status(mine[1]) == "pending_pickup"
        # the limit is the keeper's own: a colleague at the same counter verifies
        assert verify(colleague, mine[2]["pickup_code"]).status == 200
    with at(answered + timedelta(seconds=wait - 2)):  # not yet
        assert_refused(verify(keeper, mine[1]["pickup_code"]), 429, "RATE_LIMITED")
    with at(answered + timedelta(seconds=wait + 1)):  # the window has passed (as Retry-After said)
        resp = verify(keeper, mine[1]["pickup_code"])
        assert resp.status == 200 and resp.json["status"] == "picked_up", resp.body


def test_concurrent_failures_never_count_past_the_limit(counter):
    keeper = counter.keepers[0]
    taken = {counter.redemption(store=0)["pickup_code"]}
    start = next_window_start()
    with at(start + timedelta(seconds=5)):
        for n in range(17):
            assert_refused(verify(keeper, unknown_code(taken, n)), 404, "NOT_FOUND")
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda n: verify(keeper, unknown_code(taken, 100 + n)), range(8)))
    outcomes = Counter((a.status, a.error_code) for a in answers)
    assert outcomes == {(404, "NOT_FOUND"): 3, (429, "RATE_LIMITED"): 5}, outcomes
    [failures] = [c for c in CounterModel.scan(CounterModel.key.startswith(f"verify-fail#{keeper.id}#"))]
    assert failures.n == 20


# --- b. invisible text is empty text --------------------------------------------------------------------------------

INVISIBLE = ["\u200b", "\u200c\u200d", "\u2060", "\ufeff", " \u200b\u3000\ufeff ", "\u00ad\u200b", "\u3164"]


def event_body(**overrides) -> dict:
    start = (utcnow() + timedelta(days=2)).astimezone(SHANGHAI).replace(microsecond=0)
    return {"title": "周末楼道清扫", "kind": "activity", "starts_at": to_api(start),
            "ends_at": to_api(start + timedelta(hours=2)), "capacity": 10, **overrides}


def _text_cases(community: Community) -> list[tuple[Member, str, str, Callable[[str], dict], str]]:
    """(who, method, path, body with the text, field) across the areas' text fields."""
    resident, admin = community.resident(0), community.admin
    return [
        (resident, "POST", "/v1/wishes", lambda t: {**WISH, "title": t}, "title"),
        (resident, "POST", "/v1/wishes", lambda t: {**WISH, "content": t}, "content"),
        (admin, "POST", "/v1/events", lambda t: event_body(title=t), "title"),
        (resident, "POST", "/v1/requests", lambda t: {"category": "环境卫生", "content": t}, "content"),
        (resident, "PATCH", "/v1/me", lambda t: {"nickname": t}, "nickname"),
        (admin, "POST", "/v1/points/awards",
         lambda t: {"user_id": resident.id, "category": "charity", "points": 5, "reason": t}, "reason"),
    ]


@pytest.mark.parametrize("invisible", INVISIBLE, ids=lambda t: "+".join(f"U+{ord(c):04X}" for c in t))
def test_text_made_only_of_invisible_characters_is_empty_in_every_field(community, invisible):
    cases = _text_cases(community)
    for who, method, path, body, field in cases:
        resp = who.api.request(method, path, token=who.token, json_body=body(invisible))
        assert_refused(resp, 400, "VALIDATION_FAILED", field)
        assert resp.json["error"]["message"] == f"{field}：不能为空", resp.body
    resident = cases[0][0]  # nothing was made or changed
    assert resident.get("/v1/wishes/mine").json["items"] == []
    assert resident.get("/v1/requests/mine").json["items"] == []
    assert resident.get("/v1/me").json["nickname"] != invisible and balance(resident) == 0


def test_a_reason_to_reject_or_to_escalate_made_of_invisible_characters_is_refused(community):
    community.set(wish_review_required=True)
    wish = community.resident(0).post("/v1/wishes", WISH)
    assert wish.status == 201 and wish.json["status"] == "pending_review", wish.body
    resp = community.admin.post(f"/v1/wishes/{wish.json['id']}/reject", {"reason": "\u200b\u2060"})
    assert_refused(resp, 400, "VALIDATION_FAILED", "reason")
    member = community.resident(0)
    request = member.post("/v1/requests", {"category": "环境卫生", "content": "垃圾没人清"})
    assert request.status == 201, request.body
    worker = community.grid_worker(0)
    resp = worker.post(f"/v1/requests/{request.json['id']}/escalate", {"reason": "\ufeff"})
    assert_refused(resp, 400, "VALIDATION_FAILED", "reason")


def test_invisible_characters_are_cut_from_the_ends_and_kept_inside(community):
    resident = community.resident(0)
    family = "👨\u200d👩\u200d👧"  # the joiners hold the emoji together
    resp = resident.post("/v1/wishes", {**WISH, "title": "\u200b\ufeff楼道灯坏了\u2060 ",
                                        "content": f"\u200c{family}一家三口\u200b\n"})
    assert resp.status == 201, resp.body
    assert resp.json["title"] == "楼道灯坏了" and resp.json["content"] == f"{family}一家三口"
    me = resident.patch("/v1/me", {"nickname": "\u3164小明\u200b"})
    assert me.status == 200 and me.json["nickname"] == "小明", me.body


@pytest.mark.parametrize("noncharacter", ["\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_noncharacters_are_refused_anywhere(community, noncharacter):
    resident = community.resident(0)
    for body, field in (({**WISH, "title": f"楼道{noncharacter}灯坏了"}, "title"),
                        ({**WISH, "content": f"灯不亮{noncharacter}"}, "content")):
        resp = resident.post("/v1/wishes", body)
        assert_refused(resp, 400, "VALIDATION_FAILED", field)
        assert "非字符" in resp.json["error"]["message"]
    assert_refused(resident.patch("/v1/me", {"nickname": f"{noncharacter}小明"}), 400, "VALIDATION_FAILED",
                   "nickname")
    assert_refused(resident.post("/v1/requests", {"category": "其他", "content": f"{noncharacter}"}), 400,
                   "VALIDATION_FAILED", "content")
    assert resident.get("/v1/wishes/mine").json["items"] == []


def test_the_old_rules_still_hold_behind_invisible_characters(community):
    resident = community.resident(0)
    resp = resident.post("/v1/wishes", {**WISH, "title": "\u200b灯坏了\u202e87654321"})
    assert_refused(resp, 400, "VALIDATION_FAILED", "title")
    assert "方向控制符" in resp.json["error"]["message"]
    assert_refused(resident.post("/v1/wishes", {**WISH, "title": "\u200b\x07"}), 400, "VALIDATION_FAILED", "title")
    assert_refused(resident.post("/v1/wishes", {**WISH, "title": "灯\u200b\n坏了"}), 400, "VALIDATION_FAILED",
                   "title")


# --- c. a subscription quota stops at 100 ---------------------------------------------------------------------------

CLAIMED = "tmpl_wish_claimed"


def report(member: Member, *template_ids: str) -> dict:
    resp = member.post("/v1/me/subscriptions", {"accepted": list(template_ids)})
    assert resp.status == 200, resp.body
    return resp.json


def remaining(view: dict, template_id: str) -> int:
    [left] = {item["remaining"] for item in view["items"] if item["template_id"] == template_id}
    return left


def report_times(member: Member, template_id: str, times: int) -> dict:
    view = None
    while times > 0:  # at most 20 ids a call
        view = report(member, *[template_id] * min(times, 20))
        times -= 20
    return view


def stored_quota(member: Member, template_id: str) -> int:
    return int(CounterModel.get(f"quota#{member.id}#{template_id}").n)


def test_99_then_5_is_100_and_100_then_1_stays_100(community):
    resident = community.resident(0)
    assert remaining(report_times(resident, CLAIMED, 99), CLAIMED) == 99
    view = report(resident, *[CLAIMED] * 5)
    assert remaining(view, CLAIMED) == 100 and stored_quota(resident, CLAIMED) == 100
    assert resident.get("/v1/me/subscriptions").json == view  # the POST answers what is stored
    assert remaining(report(resident, CLAIMED), CLAIMED) == 100
    # a body naming the full template many times and another template: the other still counts each
    view = report(resident, *[CLAIMED] * 18, "tmpl_wish_fulfilled", "tmpl_wish_fulfilled")
    assert (remaining(view, CLAIMED), remaining(view, "tmpl_wish_fulfilled")) == (100, 2)
    assert stored_quota(resident, CLAIMED) == 100


def test_a_full_quota_still_sends_and_refills_to_100(container, wechat, community):
    author, volunteer = community.resident(0), community.volunteer(0)
    report_times(author, CLAIMED, 120)
    assert stored_quota(author, CLAIMED) == 100
    wish = author.post("/v1/wishes", WISH)
    assert wish.status == 201, wish.body
    assert volunteer.post(f"/v1/wishes/{wish.json['id']}/claim").status == 200
    for _ in range(50):
        if not push.sweep(container).get("left_for_next_run"):
            break
    from infra.local.wechat_standin import fake_openid
    sent = [m for m in wechat.messages if m["touser"] == fake_openid(author.name)]
    assert [m["template_id"] for m in sent] == [CLAIMED]
    assert remaining(author.get("/v1/me/subscriptions").json, CLAIMED) == 99
    assert remaining(report(author, CLAIMED, CLAIMED), CLAIMED) == 100


def test_concurrent_reports_never_pass_100(community):
    resident = community.resident(0)
    report_times(resident, CLAIMED, 90)
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        views = list(pool.map(lambda _: report(resident, *[CLAIMED] * 20), range(6)))
    assert all(90 < remaining(view, CLAIMED) <= 100 for view in views), [remaining(v, CLAIMED) for v in views]
    assert stored_quota(resident, CLAIMED) == 100


# --- d. a second reversal is INVALID_STATE ------------------------------------------------------------------------

def award(community: Community, member: Member, points: int) -> dict:
    resp = community.admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity", "points": points,
                                                      "reason": "帮助独居老人买菜"})
    assert resp.status == 201, resp.body
    return resp.json


def reverse(admin: Member, award_id: str):
    return admin.post(f"/v1/points/awards/{award_id}/reverse", {"reason": "核实后发现重复发放"})


def reversals(member: Member) -> list[dict]:
    resp = member.get("/v1/me/points?limit=100")
    assert resp.status == 200, resp.body
    return [item for item in resp.json["items"] if item["kind"] == "reversal"]


def test_reversing_twice_is_invalid_state_the_second_time(community):
    member = community.resident(0)
    given = award(community, member, 30)  # the whole balance: after the first reversal nothing is left
    assert reverse(community.admin, given["id"]).status == 200
    assert_refused(reverse(community.admin, given["id"]), 409, "INVALID_STATE")
    assert balance(member) == 0 and len(reversals(member)) == 1


def test_a_reversal_racing_another_of_the_same_award_is_invalid_state(community):
    """The second reversal reads the award active; the first then commits; only then does the second read the
    balance — now short by exactly the award. That is not a shortfall of points: the award is already reversed."""
    member = community.resident(0)
    given = award(community, member, 30)
    other_admin = community.with_roles(community.resident(0), ["admin"])
    main, first = threading.get_ident(), {}

    def hook(params, **kwargs):  # the second reversal's balance read: let the first reversal run to its end
        if (threading.get_ident() == main and not first and params.get("TableName", "").endswith("users")
                and params.get("Key", {}).get("id", {}).get("S") == member.id):
            first["resp"] = in_other_thread(lambda: reverse(other_admin, given["id"]))

    with hooked("GetItem", hook):
        second = reverse(community.admin, given["id"])
    assert first["resp"].status == 200, first["resp"].body
    assert_refused(second, 409, "INVALID_STATE")
    assert balance(member) == 0 and len(reversals(member)) == 1


def test_a_shortfall_that_ends_before_it_is_confirmed_lets_the_reversal_through(community):
    """A real shortfall is INSUFFICIENT_POINTS only if the balance is still what was read when the refusal is
    decided: here the points come back (a redemption cancelled) in between, and the reversal goes through."""
    member, admin = community.resident(0), community.admin
    given = award(community, member, 30)
    store = admin.post("/v1/stores", {"name": "幸福积分超市"}).json
    goods = admin.post(f"/v1/stores/{store['id']}/goods", {"name": "洗衣液", "price_points": 25, "stock": 5}).json
    redemption = member.post("/v1/redemptions", {"goods_id": goods["id"], "quantity": 1})
    assert redemption.status == 201 and balance(member) == 5, redemption.body
    assert_refused(reverse(admin, given["id"]), 409, "INSUFFICIENT_POINTS")  # spent: a real shortfall
    main, cancelled = threading.get_ident(), {}

    def hook(params, **kwargs):  # the reversal's refusal about to be confirmed: the points come back first
        checks_only = all("ConditionCheck" in item for item in params.get("TransactItems", []))
        if threading.get_ident() == main and not cancelled and checks_only:
            cancelled["resp"] = in_other_thread(
                lambda: member.post(f"/v1/redemptions/{redemption.json['id']}/cancel"))

    with hooked("TransactWriteItems", hook):
        resp = reverse(admin, given["id"])
    assert cancelled["resp"].status == 200, cancelled["resp"].body
    assert resp.status == 200 and resp.json["status"] == "reversed", resp.body
    assert balance(member) == 0 and len(reversals(member)) == 1


def test_an_admin_does_not_reverse_an_award_made_to_themselves(community):
    """(Found on the way: the reversal's transaction named the admin's user item twice — the grant's check and the
    balance — and DynamoDB refused it: a 500.) As no one awards themselves, no one reverses their own award."""
    other_admin = community.with_roles(community.resident(0), ["admin"])
    resp = other_admin.post("/v1/points/awards", {"user_id": community.admin.id, "category": "charity",
                                                  "points": 5, "reason": "组织楼道清扫"})
    assert resp.status == 201, resp.body
    assert_refused(reverse(community.admin, resp.json["id"]), 409, "SELF_AWARD")
    assert balance(community.admin) == 5
    assert reverse(other_admin, resp.json["id"]).status == 200
    assert balance(community.admin) == 0


def test_concurrent_reversals_of_one_award_one_wins_the_rest_are_invalid_state(community):
    member = community.resident(0)
    given = award(community, member, 30)
    admins = [community.admin] + [community.with_roles(community.resident(0), ["admin"]) for _ in range(3)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(admins)) as pool:
        answers = list(pool.map(lambda admin: reverse(admin, given["id"]), admins))
    outcomes = Counter((a.status, a.error_code) for a in answers)
    assert outcomes == {(200, None): 1, (409, "INVALID_STATE"): len(admins) - 1}, outcomes
    assert balance(member) == 0 and len(reversals(member)) == 1


# --- e. a request's location: both coordinates or neither -------------------------------------------------------

@pytest.mark.parametrize("location,missing", [
    ({"address": "幸福小区3栋", "lat": 30.66}, "lng"),
    ({"address": "幸福小区3栋", "lng": 104.06}, "lat"),
    ({"address": "幸福小区3栋", "lat": 30.66, "lng": None}, "lng"),
    ({"address": "幸福小区3栋", "lat": None, "lng": 104}, "lat"),
])
def test_a_location_with_one_coordinate_is_refused_naming_the_other(community, location, missing):
    resident = community.resident(0)
    resp = resident.post("/v1/requests", {"category": "环境卫生", "content": "垃圾没人清", "location": location})
    assert_refused(resp, 400, "VALIDATION_FAILED", f"location.{missing}")
    assert missing in resp.json["error"]["message"] and "必须同时提供" in resp.json["error"]["message"]
    assert resident.get("/v1/requests/mine").json["items"] == []


def test_a_location_with_both_coordinates_or_neither_is_accepted(community):
    resident = community.resident(0)
    both = resident.post("/v1/requests", {"category": "环境卫生", "content": "垃圾没人清",
                                          "location": {"address": "幸福小区3栋", "lat": 30.66, "lng": 104}})
    assert both.status == 201 and both.json["location"] == {"address": "幸福小区3栋", "lat": 30.66, "lng": 104.0}
    neither = resident.post("/v1/requests", {"category": "环境卫生", "content": "路灯不亮",
                                             "location": {"address": "幸福小区5栋"}})
    assert neither.status == 201, neither.body
    assert neither.json["location"] == {"address": "幸福小区5栋", "lat": None, "lng": None}
