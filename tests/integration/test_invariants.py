"""The invariant checker (infra/proof/invariants/, issue 13): a community driven through the real API — wishes,
events with a waitlist and attendance, awards, the store, 接诉即办 up to the street, messages — satisfies every
invariant; then each kind of violation, planted in the table directly (and put back after), is reported under its
own tag, so no invariant can pass silently. Every violation is planted at once, each on items no other plant
touches in a way that would raise the same report, and the stack checked once (a check reads every table: one per
test would cost the fast suite half a minute).

In-process moto (fast suite); the clock moves with ``travel`` for the attendance, after every other credit of the
same people (the ledger's balance chain is read in time order).
"""
from __future__ import annotations

import copy
from datetime import timedelta
from types import SimpleNamespace

import pytest

from infra.proof.invariants import check
from tests.api.test_attendance import adjust, run_scheduler
from tests.api.test_checkins import at, check as scan_as, publish, when
from tests.api.test_store import add_goods, grant, keeper_of, open_store, redeemed
from tests.support import make_community
from tongxin.usecases import notifications, streets

WISH = {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮，老人晚上下楼不方便", "category": "维修"}
REQUEST = {"category": "环境卫生", "content": "3栋楼下垃圾三天没人清运", "location": {"address": "幸福小区3栋"}}


def ok(resp, status: int = 200) -> dict:
    assert resp.status == status, resp.body
    return resp.json


def violations(container, **kwargs) -> list[str]:
    from tongxin.adapters.dynamo.binding import connection
    return check(connection().client, container.settings.table_name, **kwargs)


@pytest.fixture(scope="module")
def town(api, container, fresh_tables_per_module):
    """One community of every area, made through the API (the street by the operator's use cases)."""
    s = SimpleNamespace()
    c = s.community = make_community(api)
    s.admin = c.admin
    s.street = streets.create_street("同心街道")["id"]
    streets.attach_community(s.street, c.id)
    s.staff = api.login()
    streets.add_staff(s.street, s.staff.id)
    s.staff.relogin()
    s.worker = c.grid_worker(0)
    s.author, s.resident, s.shopper = c.resident(0), c.resident(0), c.resident(1)
    s.v1, s.v2, s.v3 = c.volunteer(0), c.volunteer(0), c.volunteer(1)

    # 微心愿: confirmed (credited), claimed, and cancelled while claimed (the claimer stays on it).
    s.confirmed = ok(s.author.post("/v1/wishes", WISH), 201)["id"]
    ok(s.v1.post(f"/v1/wishes/{s.confirmed}/claim"))
    ok(s.v1.post(f"/v1/wishes/{s.confirmed}/fulfil", {"note": "换了新灯泡"}))
    ok(s.author.post(f"/v1/wishes/{s.confirmed}/confirm", {"rating": 5}))
    s.claimed = ok(s.author.post("/v1/wishes", WISH), 201)["id"]
    ok(s.v2.post(f"/v1/wishes/{s.claimed}/claim"))
    s.open = ok(s.author.post("/v1/wishes", WISH), 201)["id"]
    cancelled = ok(s.author.post("/v1/wishes", WISH), 201)["id"]
    ok(s.v2.post(f"/v1/wishes/{cancelled}/claim"))
    ok(s.author.post(f"/v1/wishes/{cancelled}/cancel"))

    # Awards (one reversed) and the store: a pickup, a pending redemption, a cancelled one.
    grant(c, s.shopper, 100)
    s.award = ok(s.admin.post("/v1/points/awards", {"user_id": s.resident.id, "category": "charity", "points": 20,
                                                    "reason": "楼道义务清扫"}), 201)["id"]
    ok(s.admin.post(f"/v1/points/awards/{s.award}/reverse", {"reason": "重复发放"}))
    store = open_store(s.admin)
    s.keeper = keeper_of(c, store)
    s.goods = add_goods(s.admin, store, price_points=10, stock=5, per_user_limit=4)["id"]
    goods = {"id": s.goods}
    picked = redeemed(s.shopper, goods, 1)
    ok(s.keeper.post("/v1/redemptions/verify", {"pickup_code": picked["pickup_code"]}))
    s.pending = redeemed(s.shopper, goods, 2)
    s.cancelled = redeemed(s.shopper, goods, 1)["id"]
    ok(s.shopper.post(f"/v1/redemptions/{s.cancelled}/cancel"))

    # 接诉即办: one closed at the grid, one passed up to the street and waiting there.
    s.closed_request = ok(s.author.post("/v1/requests", REQUEST), 201)["id"]
    ok(s.worker.post(f"/v1/requests/{s.closed_request}/accept"))
    ok(s.worker.post(f"/v1/requests/{s.closed_request}/resolve", {"note": "已清运"}))
    ok(s.author.post(f"/v1/requests/{s.closed_request}/rate", {"satisfaction": 5}))
    s.street_request = ok(s.resident.post("/v1/requests", REQUEST), 201)["id"]
    ok(s.worker.post(f"/v1/requests/{s.street_request}/escalate", {"reason": "需要社区协调"}))
    ok(s.admin.post(f"/v1/requests/{s.street_request}/escalate", {"reason": "需要街道协调"}))

    # Events: a future one full with a waitlist (a place given up promotes the first ticket) …
    s.waitlisted = publish(s.admin, starts_in=timedelta(days=2), capacity=1)["id"]
    for member in (s.resident, s.author, s.shopper):
        ok(member.post(f"/v1/events/{s.waitlisted}/signup"), 201)
    ok(s.resident.delete(f"/v1/events/{s.waitlisted}/signup"))
    s.spare = publish(s.admin, starts_in=timedelta(days=3), capacity=2)["id"]
    ok(s.v2.post(f"/v1/events/{s.spare}/signup"), 201)
    # … and one attended: v1 checks in and out (30 min), v3 forgets to check out and is settled at 45 min.
    event = publish(s.admin, capacity=3, points_per_hour=10)
    s.attended = event["id"]
    for member in (s.v1, s.v3):
        ok(member.post(f"/v1/events/{s.attended}/signup"), 201)
    start, end = when(event), when(event, "ends_at")
    with at(start + timedelta(minutes=5)):
        scan_as(s.v1, s.admin, event, "check_in")
        scan_as(s.v3, s.admin, event, "check_in")
    with at(start + timedelta(minutes=35)):
        scan_as(s.v1, s.admin, event, "check_out")
    run_scheduler(end + timedelta(hours=2, minutes=1))
    with at(end + timedelta(hours=3)):
        ok(adjust(s.admin, event, s.v3.id, {"minutes": 45, "reason": "忘记签退"}))
    notifications.expand_fanouts()
    return s


def test_a_community_driven_through_the_api_holds_every_invariant(town, container):
    assert violations(container) == []
    assert violations(container, stock_issued={town.goods: 5}) == []


# --- planting ----------------------------------------------------------------------------------------------------

class Tables:
    """Raw items of the stack's tables, changed and put back after."""

    def __init__(self, container):
        from tongxin.adapters.dynamo.binding import connection
        self.client, self.name = connection().client, container.settings.table_name
        self.saved: list[tuple[str, dict, dict | None]] = []

    def get(self, table: str, **key) -> dict:
        raw_key = {k: {"S": v} for k, v in key.items()}
        item = self.client.get_item(TableName=self.name(table), Key=raw_key, ConsistentRead=True).get("Item")
        assert item is not None, (table, key)
        return item

    def put(self, table: str, item: dict, key: dict) -> None:
        before = self.client.get_item(TableName=self.name(table), Key=key, ConsistentRead=True).get("Item")
        self.saved.append((table, key, before))
        self.client.put_item(TableName=self.name(table), Item=item)

    def delete(self, table: str, **key) -> None:
        raw_key = {k: {"S": v} for k, v in key.items()}
        self.saved.append((table, raw_key, self.get(table, **key)))
        self.client.delete_item(TableName=self.name(table), Key=raw_key)

    def edit(self, table: str, change, **key) -> None:
        item = self.get(table, **key)
        changed = copy.deepcopy(item)
        change(changed)
        self.put(table, changed, {k: item[k] for k in key})

    def find(self, table: str, match, nth: int = 0) -> dict:
        found = sorted((i for i in self.client.scan(TableName=self.name(table))["Items"] if match(i)),
                       key=lambda i: str(i))
        assert len(found) > nth, (table, len(found))
        return found[nth]

    def restore(self) -> None:
        for table, key, before in reversed(self.saved):
            if before is None:
                self.client.delete_item(TableName=self.name(table), Key=key)
            else:
                self.client.put_item(TableName=self.name(table), Item=before)


def number(name: str, delta: int = 0, value: int | None = None):
    def change(item):
        item[name] = {"N": str(value if value is not None else int(item.get(name, {"N": "0"})["N"]) + delta)}
    return change


def text(name: str, value: str | None):
    def change(item):
        if value is None:
            item.pop(name, None)
        else:
            item[name] = {"S": value}
    return change


def pending_message(tables: Tables, nth: int) -> str:
    return tables.find("outbox", lambda i: i["status"]["S"] == "pending", nth)["id"]["S"]


def expanded_fanout(tables: Tables, nth: int) -> str:
    return tables.find("outbox", lambda i: i["status"]["S"] == "expanded" and int(i["expanded_count"]["N"]) > 0,
                       nth)["id"]["S"]


def plant(t: Tables, s) -> dict:
    """Every violation at once (see each test for what it breaks); answers the ids the tests look for."""
    wish_credit = t.get("ledger", user_id=s.v1.id, entry_key=f"wish#{s.confirmed}#confirm")
    # users and the ledger
    t.edit("users", number("points_balance", +1), id=s.v1.id)
    t.edit("users", number("points_balance", value=-1), id=s.author.id)
    t.edit("ledger", number("balance_after", +3), user_id=s.v1.id, entry_key=f"wish#{s.confirmed}#confirm")
    t.edit("users", number("earned_total", -1), id=s.shopper.id)
    ghost = {**wish_credit, "user_id": {"S": "u_ghost"}, "kind": {"S": "award"}, "source": {"S": "award:aw_ghost"},
             "entry_key": {"S": "award#aw_ghost"}}
    t.put("ledger", ghost, {"user_id": ghost["user_id"], "entry_key": ghost["entry_key"]})
    odd = {**t.get("ledger", user_id=s.shopper.id, entry_key=f"redeem#{s.cancelled}"), "entry_key": {"S": "bonus#1"},
           "amount": {"N": "0"}}
    t.put("ledger", odd, {"user_id": odd["user_id"], "entry_key": odd["entry_key"]})
    twice = {**wish_credit, "user_id": {"S": s.v2.id}}
    t.put("ledger", twice, {"user_id": twice["user_id"], "entry_key": twice["entry_key"]})
    # wishes
    t.edit("wishes", text("claimer_id", None), id=s.claimed)
    t.edit("wishes", text("claimer_id", s.v1.id), id=s.open)
    t.edit("wishes", number("points_awarded", +5), id=s.confirmed)
    early = {**wish_credit, "user_id": {"S": s.v3.id}, "entry_key": {"S": f"wish#{s.claimed}#confirm"},
             "source": {"S": f"wish:{s.claimed}"}}
    t.put("ledger", early, {"user_id": early["user_id"], "entry_key": early["entry_key"]})
    t.edit("wishes", text("community_status", f"{s.community.id}#open"), id=s.claimed)
    # events and sign-ups
    t.edit("events", number("signed_count", value=3), id=s.attended)
    t.edit("events", number("capacity", value=0), id=s.spare)
    t.edit("events", number("waitlist_count", +1), id=s.waitlisted)
    t.edit("signups", number("position", value=1), event_id=s.waitlisted, user_id=s.resident.id)
    t.edit("signups", number("position", value=1), event_id=s.waitlisted, user_id=s.shopper.id)
    t.edit("events", number("capacity", value=2), id=s.waitlisted)
    t.edit("signups", number("position", value=3), event_id=s.waitlisted, user_id=s.author.id)
    t.edit("signups", text("roster_key", f"{s.waitlisted}#signed"), event_id=s.waitlisted, user_id=s.shopper.id)
    # attendance, minutes, leaderboards
    t.edit("signups", number("minutes", value=61), event_id=s.attended, user_id=s.v1.id)
    t.edit("signups", number("points", +1), event_id=s.attended, user_id=s.v3.id)
    t.edit("users", number("volunteer_minutes", +1), id=s.v3.id)
    t.edit("counters", number("r:count", +1), key=f"record#{s.v3.id}#all")
    t.edit("scores", number("score", +1), board=f"points#community#{s.community.id}#all", user_id=s.v1.id)
    # the store
    t.edit("goods", number("stock", value=-1), id=s.goods)
    t.edit("counters", number("n", -1), key=f"allow#{s.goods}#{s.shopper.id}")
    code = t.find("pickup_codes", lambda i: i["redemption_id"]["S"] == s.pending["id"])
    t.delete("pickup_codes", key=code["key"]["S"])
    t.delete("ledger", user_id=s.shopper.id, entry_key=f"refund#{s.cancelled}")
    t.edit("awards", text("status", "active"), id=s.award)
    # the outbox
    ids = {"stuck": pending_message(t, 0), "sent": pending_message(t, 1), "fanout": expanded_fanout(t, 0),
           "lost": expanded_fanout(t, 1)}
    t.edit("outbox", text("retry_shard", None), id=ids["stuck"])
    t.edit("outbox", text("status", "sent"), id=ids["sent"])
    t.edit("outbox", text("status", "fanout"), id=ids["fanout"])
    t.edit("outbox", number("expanded_count", +1), id=ids["lost"])
    quota = {"key": {"S": f"quota#{s.v1.id}#tmpl"}}
    t.put("counters", {**quota, "n": {"N": "-1"}}, quota)
    # 接诉即办
    t.edit("requests", text("handler_key", None), id=s.street_request)
    t.edit("requests", text("due_at", "2030-01-01T00:00:00.000000+0000"), id=s.street_request)
    t.edit("requests", text("outcome", None), id=s.closed_request)

    def drop_first(item):
        item["timeline"]["L"] = item["timeline"]["L"][1:]
    t.edit("requests", drop_first, id=s.closed_request)
    # statistics: the month counters of the community's wishes, requests and events
    for area, name, delta in (("wishes", "s:confirmed", +1), ("requests", "n:received", -1),
                              ("events", "ev:published", +1)):
        month = t.find("counters", lambda i: i["key"]["S"].startswith(f"stats#{area}#{s.community.id}#m#"))
        t.edit("counters", number(name, delta), key=month["key"]["S"])
    # streets, communities, grids, roles, identities
    t.edit("grids", lambda item: item.pop("worker_ids"), community_id=s.community.id, id=s.community.grid_ids[0])
    t.edit("streets", lambda item: (item.pop("community_ids"), item.pop("staff_ids")), id=s.street)
    t.edit("communities", lambda item: item.pop("admin_ids"), id=s.community.id)
    identity = t.find("identities", lambda i: i["user_id"]["S"] == s.v1.id)
    t.edit("identities", text("user_id", s.v2.id), openid=identity["openid"]["S"])
    # the member directory: an entry of v3 lost, one of nobody, one of v2 under an old nickname
    lost = t.find("members", lambda i: i["user_id"]["S"] == s.v3.id and i["entry_key"]["S"].startswith("all#"))
    t.delete("members", community_id=s.community.id, entry_key=lost["entry_key"]["S"])
    for user_id, key in (("u_ghost", "q#ghost#u_ghost"), (s.v2.id, f"q#旧昵称#{s.v2.id}")):
        entry = {"community_id": {"S": s.community.id}, "entry_key": {"S": key}, "user_id": {"S": user_id}}
        t.put("members", entry, {"community_id": entry["community_id"], "entry_key": entry["entry_key"]})
    ids["lost_entry"] = lost["entry_key"]["S"]
    return ids


@pytest.fixture(scope="module")
def report(town, container):
    """What the checker reports with every violation planted (then put back)."""
    tables = Tables(container)
    try:
        ids = plant(tables, town)
        found = violations(container, stock_issued={town.goods: 5})
    finally:
        tables.restore()
    return SimpleNamespace(found=found, **ids)


def test_the_planted_violations_were_put_back(report, container, town):
    assert violations(container, stock_issued={town.goods: 5}) == []


def reported(report, tag: str, *fragments: str) -> None:
    mine = [v for v in report.found if v.startswith(f"[{tag}]") and all(f in v for f in fragments)]
    assert mine, f"no [{tag}] violation naming {fragments}; found: {report.found}"


# users and the ledger

def test_a_balance_off_by_one(report, town):
    reported(report, "balance", f"users {town.v1.id}", "!= sum(ledger)")


def test_a_negative_balance(report, town):
    reported(report, "balance", f"users {town.author.id}", "points_balance -1 < 0")


def test_a_balance_after_out_of_line(report, town):
    reported(report, "ledger-chain", f"ledger {town.v1.id}/wish#{town.confirmed}#confirm", "not one chain from 0")


def test_earned_total_off(report, town):
    reported(report, "earned", f"users {town.shopper.id}")


def test_ledger_entries_of_nobody(report):
    reported(report, "ledger-orphan", "ledger u_ghost")


def test_a_credit_whose_key_is_not_its_sources(report, town):
    reported(report, "credit-key", f"ledger {town.shopper.id}/bonus#1", f"redeem#{town.cancelled}")


def test_a_wish_credited_twice(report, town):
    reported(report, "credit-once", f"wish:{town.confirmed}", "credited 2 times", town.v2.id)


# wishes

def test_a_wish_claimed_without_a_claimer(report, town):
    reported(report, "wish-claimer", f"wishes {town.claimed}", "claimed without a claimer")


def test_an_open_wish_with_a_claimer(report, town):
    reported(report, "wish-claimer", f"wishes {town.open}", f"open with claimer {town.v1.id}")


def test_a_confirmed_wish_credited_other_points(report, town):
    reported(report, "wish-credit", f"wishes {town.confirmed}", "credited 20 points, points_awarded 25")


def test_a_wish_credited_before_it_is_confirmed(report, town):
    reported(report, "wish-credit", f"wishes {town.claimed}", f"status claimed but credited to {town.v3.id}")


def test_a_wish_on_the_wrong_list(report, town):
    reported(report, "wish-keys", f"wishes {town.claimed}", "community_status", "#open")


# events and sign-ups

def test_signed_count_wrong(report, town):
    reported(report, "event-signed", f"events {town.attended}", "signed_count 3 != sign-ups holding a place 2")


def test_more_signed_than_places(report, town):
    reported(report, "event-signed", f"events {town.spare}", "signed_count 1 outside 0..capacity 0")


def test_waitlist_count_wrong(report, town):
    reported(report, "event-waitlist", f"events {town.waitlisted}", "waitlist_count 2 != waitlisted sign-ups 1")


def test_one_ticket_held_twice(report, town):
    reported(report, "waitlist-position", f"events {town.waitlisted}", "held twice: [1]")


def test_a_ticket_promoted_past_one_still_waiting(report, town):
    reported(report, "promotion-order", f"events {town.waitlisted}", "promoted ahead of ticket 1",
             town.author.id)


def test_places_free_and_nobody_due_to_fill_them(report, town):
    reported(report, "event-fill", f"events {town.waitlisted}", "1 places free, 1 waiting")


def test_a_sign_up_on_the_wrong_roster(report, town):
    reported(report, "signup-keys", f"signups {town.waitlisted}/{town.shopper.id}", "roster_key")


# attendance, minutes, leaderboards

def test_minutes_beyond_the_event(report, town):
    reported(report, "attendance", f"signups {town.attended}/{town.v1.id}", "61 minutes outside 0..60")


def test_an_attendance_credited_other_points(report, town):
    reported(report, "attendance-credit", f"signups {town.attended}/{town.v3.id}")


def test_volunteer_minutes_off(report, town):
    reported(report, "minutes", f"users {town.v3.id}", "volunteer_minutes 46 != attendance minutes 45")


def test_the_volunteer_record_off(report, town):
    reported(report, "volunteer-record", f"record#{town.v3.id}#all", "r:count 2 != the attendances' 1")


def test_a_leaderboard_off(report, town):
    reported(report, "scores", f"points#community#{town.community.id}#all/{town.v1.id}")


# the store

def test_stock_negative(report, town):
    reported(report, "stock", f"goods {town.goods}", "stock -1 < 0")


def test_stock_not_what_was_issued_less_what_is_held(report, town):
    # 5 issued; 1 picked up and 2 pending are held, 1 cancelled was given back: 2 should be on the shelf.
    reported(report, "stock-exact", f"goods {town.goods}", "issued 5 - held 3 = 2")


def test_an_allowance_counter_off(report, town):
    reported(report, "allowance", f"allow#{town.goods}#{town.shopper.id}", "n 2 != held (pending or picked up) 3")


def test_a_pending_redemption_without_its_pickup_code(report, town):
    reported(report, "redemption", f"redemptions {town.pending['id']}", "not held for it (no item)")


def test_a_cancelled_redemption_never_refunded(report, town):
    reported(report, "redemption", f"redemptions {town.cancelled}", "cancelled but refund", "missing")


def test_a_reversed_award_shown_active(report, town):
    reported(report, "award", f"awards {town.award}", "debited as reversed")


# the outbox

def test_a_message_stuck(report):
    reported(report, "outbox", f"outbox {report.stuck}", "not due for retry")


def test_a_sent_message_still_on_the_senders_index(report):
    reported(report, "outbox", f"outbox {report.sent}", "still on the sender's index")


def test_a_fan_out_off_its_index(report):
    reported(report, "outbox", f"outbox {report.fanout}", "off the expansion index")


def test_a_fan_out_that_lost_messages(report):
    reported(report, "outbox", f"outbox {report.lost}", "messages written")


def test_a_quota_below_zero(report, town):
    reported(report, "quota", f"quota#{town.v1.id}#tmpl", "n -1 < 0")


# 接诉即办

def test_a_waiting_request_off_its_handlers_queue(report, town):
    reported(report, "request", f"requests {town.street_request}", "handler_key None")


def test_a_request_due_at_the_wrong_time(report, town):
    reported(report, "request", f"requests {town.street_request}", "due_at 2030-01-01")


def test_a_closed_request_without_an_outcome(report, town):
    reported(report, "request", f"requests {town.closed_request}", "outcome None for status closed")


def test_a_request_timeline_not_starting_with_submit(report, town):
    reported(report, "request", f"requests {town.closed_request}", "timeline does not start with submit")


# statistics

@pytest.mark.parametrize("area, name", [("wishes", "s:confirmed"), ("requests", "n:received"),
                                        ("events", "ev:published")])
def test_a_statistics_counter_off(report, town, area, name):
    reported(report, "statistics", f"counters stats#{area}#{town.community.id}#m#", name)


# streets, communities, grids, roles, identities

def test_a_grid_worker_missing_from_the_grid(report, town):
    reported(report, "structure", f"users {town.worker.id}", "worker_ids do not list them")


def test_a_community_its_street_does_not_list(report, town):
    reported(report, "structure", f"communities {town.community.id}", f"street_id {town.street} does not list it")


def test_street_staff_the_street_does_not_know(report, town):
    reported(report, "structure", f"users {town.staff.id}", "staff_ids do not list them")


def test_an_admin_missing_from_admin_ids(report, town):
    reported(report, "structure", f"users {town.admin.id}", "missing from", "admin_ids")


def test_an_identity_pointing_at_another_user(report, town):
    reported(report, "identity", f"users {town.v1.id}", "maps to another user")


# the member directory (成员名录)

def test_a_member_missing_an_entry(report, town):
    reported(report, "directory", f"users {town.v3.id}", "missing its entry", report.lost_entry)


def test_a_directory_entry_of_nobody(report, town):
    reported(report, "directory", f"members {town.community.id}/q#ghost#u_ghost", "gone or deleted")


def test_a_directory_entry_the_member_no_longer_has(report, town):
    reported(report, "directory", f"members {town.community.id}/q#旧昵称#{town.v2.id}", "as it is now")
