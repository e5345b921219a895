"""The three scenarios (``signup``, ``checkin``, ``redeem``; ``RUNNERS`` by name), each preparing its event or
item over HTTP, firing its burst(s), reading what was stored and listing every way it differs from what the burst
must leave (``problems``), then ``finish._finish``; with the check-in scenario's helpers (the organiser's rotating
codes, the sign-ups written in the stack's DynamoDB, the double taps, the check-in times moved back). The counts
are the issue's (``FULL``) times ``--scale``.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from infra.proof.bench_checkin import _started_event, _write_signups  # also puts layers/ on sys.path
from infra.proof.bench_redeem import _open_shop
from infra.proof.bench_stack import SHANGHAI, User, _call, _expect

from .finish import _finish
from .fire import _fire
from .stack import SETUP_THREADS, BurstStack, People
from .stored import _number, _pages, accounts, balanced, books_problems, stored_item, stored_signups

SCENARIOS = ("signup", "checkin", "redeem")
FULL = {"signup": (300, 100), "checkin": (300, None), "redeem": (200, 20)}  # (requests, places or stock)
CLIENTS = 16
POINTS_PER_HOUR = 10  # bench_checkin's events
DOUBLE_EVERY = 3  # every third volunteer's check-in and check-out scan is sent twice at once


def _scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def _admin(stack: BurstStack) -> User:
    import requests
    with requests.Session() as session:
        login = _expect(_call(session, stack.api_url, "POST", "/v1/auth/login", body={"code": "dev:admin"}), 200,
                        "admin login")
    return User(login["token"], login["user"]["id"])


def signup(stack: BurstStack, people: People, scale: float = 1.0, clients: int = CLIENTS, raw: bool = True) -> dict:
    """300 sign-ups for 100 places at once (scaled): exactly the places signed, the rest waitlisted at distinct
    positions 1..n, counters equal to the items, answers equal to what is stored."""
    count, places = _scaled(FULL["signup"][0], scale), _scaled(FULL["signup"][1], scale)
    users = people.take(count)
    admin = _admin(stack)
    starts = (datetime.now(SHANGHAI) + timedelta(days=3)).replace(microsecond=0)
    import requests
    with requests.Session() as session:
        event_id = _expect(_call(session, stack.api_url, "POST", "/v1/events", admin.token, {
            "title": "报名高峰：社区运动会", "kind": "activity", "capacity": places,
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "description": "开放报名即刻爆满"}), 201, "publish the event")["id"]
    order = list(users)
    random.shuffle(order)
    burst = _fire(stack, "signup", [(u, "POST", f"/v1/events/{event_id}/signup", None) for u in order], clients)

    result = {"scenario": "signup", "people": count, "places": places, "clients": clients, "problems": []}
    problems = result["problems"]
    expected = {"201 signed": places, "201 waitlisted": count - places}
    histogram = Counter(a.label() for a in burst.answers)
    if histogram != Counter({k: v for k, v in expected.items() if v}):
        problems.append(f"answers {dict(histogram)}, expected {expected}")
    items = stored_signups(stack, event_id)
    event = stored_item(stack, "events", {"id": {"S": event_id}}) or {}
    by_status = Counter(item["status"]["S"] for item in items.values())
    waiting = {uid: _number(item, "position") for uid, item in items.items() if item["status"]["S"] == "waitlisted"}
    positions = sorted(waiting.values())
    result["stored"] = {"items": len(items), "by_status": dict(by_status),
                        "signed_count": _number(event, "signed_count"),
                        "waitlist_count": _number(event, "waitlist_count"), "capacity": _number(event, "capacity"),
                        "positions_distinct": len(set(positions)) == len(positions),
                        "positions": [positions[0], positions[-1]] if positions else []}
    if by_status != Counter({"signed": places, "waitlisted": count - places}) or len(items) != count:
        problems.append(f"stored sign-ups {dict(by_status)} ({len(items)} items), expected {places} signed and "
                        f"{count - places} waitlisted")
    if (result["stored"]["signed_count"], result["stored"]["waitlist_count"]) != \
            (by_status["signed"], by_status["waitlisted"]):
        problems.append(f"event counters signed {result['stored']['signed_count']} / waitlisted "
                        f"{result['stored']['waitlist_count']} differ from the items {dict(by_status)}")
    if positions != list(range(1, count - places + 1)):
        twice = sorted(p for p, n in Counter(positions).items() if n > 1)
        problems.append(f"waitlist positions not 1..{count - places} each once: {len(positions)} stored, "
                        f"{positions[:1] + positions[-1:]} first and last, duplicated {twice[:5]}")
    answered = {a.user.id: a.body for a in burst.answers if isinstance(a.body, dict) and a.status == 201}
    differing = [uid for uid, body in answered.items()
                 if uid not in items or body.get("status") != items[uid]["status"]["S"]
                 or (body.get("status") == "waitlisted" and body.get("position") != waiting.get(uid))]
    if differing:
        problems.append(f"{len(differing)} answers differ from the stored sign-up (e.g. {differing[0]})")
    return _finish(result, stack, [burst], raw, clients)


def _make_scan_code(event_id: str):
    from tongxin.config import DEV_CHECKIN_SECRET
    from tongxin.domain import checkin
    return lambda: {"code": checkin.make_code(DEV_CHECKIN_SECRET, event_id, "rotating",
                                              checkin.step_of(datetime.now(timezone.utc)))}


def _count_signups(client, event, signed: int) -> None:
    """The community's event statistics, as the sign-ups' transactions would have counted them
    (``usecases/events/signups.count``): bench_checkin's written sign-ups bump only the event's ``signed_count``,
    and the invariant checker holds the statistics counters to the items."""
    from tongxin.domain import events as event_rules
    named = event_rules.stats_deltas({"signups": signed, "signed": signed})
    for key in event_rules.stats_keys(event.community_id, event.created_at):
        client.update_item(
            TableName=BurstStack.table("counters"), Key={"key": {"S": key}},
            UpdateExpression="ADD " + ", ".join(f"#n{i} :n{i}" for i in range(len(named))),
            ExpressionAttributeNames={f"#n{i}": name for i, name in enumerate(named)},
            ExpressionAttributeValues={f":n{i}": {"N": str(amount)} for i, amount in enumerate(named.values())})


def _scans(users: list[User], code) -> list[tuple]:
    """One scan each, in a random order; every third volunteer's scan sent twice at the same moment (adjacent
    requests go to two threads released together): a double tap, which must be refused, not counted twice."""
    order = list(users)
    random.shuffle(order)
    scans = []
    for index, user in enumerate(order):
        scans += [(user, "POST", "/v1/checkins", code)] * (2 if index % DOUBLE_EVERY == 0 else 1)
    return scans


def _move_check_in(client, event_id: str, user_id: str, at: datetime) -> None:
    """The check-in happened at ``at``: rewrite the time it stored (see the package's docstring)."""
    from pynamodb.attributes import UTCDateTimeAttribute
    stamp = {"S": UTCDateTimeAttribute().serialize(at)}
    client.update_item(
        TableName=BurstStack.table("signups"), Key={"event_id": {"S": event_id}, "user_id": {"S": user_id}},
        UpdateExpression="SET checked_in_at = :at, attended_at = :at", ConditionExpression="#s = :in",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":at": stamp, ":in": {"S": "checked_in"}})


def _parse_time(value: str) -> datetime:
    from pynamodb.attributes import UTCDateTimeAttribute
    return UTCDateTimeAttribute().deserialize(value)


def checkin(stack: BurstStack, people: People, scale: float = 1.0, clients: int = CLIENTS, raw: bool = True) -> dict:
    """300 volunteers check in at once, then out at once (scaled): each credited once, minutes clipped to the
    event's window, minutes on the user raised by exactly those, balance == sum(ledger)."""
    from tongxin.domain import checkin as rules
    count = _scaled(FULL["checkin"][0], scale)
    users = people.take(count)
    admin = _admin(stack)
    client = stack.dynamodb()
    event = _started_event(stack.api_url, client, admin.token, count, "三百人签到签退：社区义诊")
    _write_signups(client, event, users, "signed")
    _count_signups(client, event, len(users))
    before = accounts(stack, users)
    code = _make_scan_code(event.id)
    arrive = _fire(stack, "checkin", _scans(users, code), clients)
    arrive.label = "check-in"

    # An hour passes: half checked in 1-10 minutes before the start (clipped there), half 20-49 minutes ago.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    arrived = {u.id: event.starts_at - timedelta(minutes=1 + i % 10) if i % 2 == 0
               else now - timedelta(minutes=20 + i % 30) for i, u in enumerate(users)}
    checked_in = {a.user.id for a in arrive.answers if a.status == 200}
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(lambda uid: _move_check_in(client, event.id, uid, arrived[uid]), checked_in))
    leave = _fire(stack, "checkin", _scans(users, code), clients)
    leave.label = "check-out"

    doubles = len(arrive.answers) - count
    result = {"scenario": "checkin", "volunteers": count, "double_scans": doubles, "clients": clients,
              "problems": [], "points_per_hour": POINTS_PER_HOUR}
    problems = result["problems"]
    for burst, action, again in ((arrive, "check_in", "ALREADY_CHECKED_IN"),
                                 (leave, "check_out", "ALREADY_CHECKED_OUT")):
        histogram = Counter(a.label() for a in burst.answers)
        expected = +Counter({f"200 {action}": count, f"409 {again}": doubles})
        if histogram != expected:
            problems.append(f"{burst.label}: answers {dict(histogram)}, expected {dict(expected)}")
        per_user = Counter(a.user.id for a in burst.answers if a.status == 200)
        if set(per_user.values()) != {1} or len(per_user) != count:
            problems.append(f"{burst.label}: not exactly one 200 per volunteer ({Counter(per_user.values())})")
    items = stored_signups(stack, event.id)
    after = accounts(stack, users)
    answered = {a.user.id: a.body["attendance"] for a in leave.answers
                if a.status == 200 and isinstance(a.body, dict) and "attendance" in a.body}
    source = f"checkout:{event.id}"
    clipped = credited = 0
    wrong: Counter = Counter()
    for user in users:
        item, account = items.get(user.id), after[user.id]
        if item is None or item["status"]["S"] != "checked_out":
            wrong["not stored as checked_out"] += 1
            continue
        checked_in_at = _parse_time(item["checked_in_at"]["S"])
        checked_out_at = _parse_time(item["checked_out_at"]["S"])
        minutes = rules.credited_minutes(checked_in_at, checked_out_at, event.starts_at, event.ends_at)
        points = rules.points_for(minutes, POINTS_PER_HOUR)
        if checked_in_at != arrived[user.id]:
            wrong["check-in time not the one written"] += 1
        if (_number(item, "minutes", None), _number(item, "points", None)) != (minutes, points):
            wrong["stored minutes/points not the window's"] += 1
        if checked_in_at < event.starts_at:
            clipped += 1
            if minutes >= int((checked_out_at - checked_in_at).total_seconds()) // 60:
                wrong["minutes before the start credited"] += 1
        shown = answered.get(user.id) or {}
        if (shown.get("minutes"), shown.get("points")) != (minutes, points):
            wrong["answered minutes/points differ from the stored"] += 1
        entries = [e for e in account["ledger"] if e["source"]["S"] == source]
        if [int(e["amount"]["N"]) for e in entries] != [points]:
            wrong[f"not one {source} ledger entry of the points"] += 1
        else:
            credited += 1
        if account["minutes"] - before[user.id]["minutes"] != minutes:
            wrong["volunteer_minutes not raised by exactly the minutes"] += 1
    problems += [f"{what}: {n} volunteer(s)" for what, n in wrong.items()]
    problems += books_problems(after)
    expected_clipped = (count + 1) // 2
    if clipped != expected_clipped:
        problems.append(f"{clipped} check-ins before the start, expected {expected_clipped}")
    result["stored"] = {"checked_out": sum(1 for i in items.values() if i["status"]["S"] == "checked_out"),
                        "credited_once": credited, "clipped_at_start": clipped,
                        "minutes": sum(_number(i, "minutes") for i in items.values()),
                        "points": sum(_number(i, "points") for i in items.values()),
                        "balance_is_sum_of_ledger": balanced(after)}
    return _finish(result, stack, [arrive, leave], raw, clients)


def redeem(stack: BurstStack, people: People, scale: float = 1.0, clients: int = CLIENTS, raw: bool = True) -> dict:
    """200 residents redeem one unit of an item of stock 20 at once (scaled): exactly the stock answered 201, the
    rest 409 OUT_OF_STOCK, stock 0, the redemptions and the ledger exact, balance == sum(ledger) ≥ 0."""
    import requests
    count, stock = _scaled(FULL["redeem"][0], scale), _scaled(FULL["redeem"][1], scale)
    users = people.take(count)
    with requests.Session() as session:
        shop = _open_shop(stack, session)
        goods_id = shop.goods("爆款：社区定制保温杯", stock=stock, price=1)
    started = time.perf_counter()

    def fund(user: User) -> None:
        with requests.Session() as own:
            shop.award(user, 1, own)
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(fund, users))
    people.setup_seconds += time.perf_counter() - started
    before = accounts(stack, users)
    order = list(users)
    random.shuffle(order)
    burst = _fire(stack, "redeem", [(u, "POST", "/v1/redemptions", {"goods_id": goods_id, "quantity": 1})
                                    for u in order], clients)

    result = {"scenario": "redeem", "residents": count, "stock": stock, "clients": clients, "problems": []}
    problems = result["problems"]
    histogram = Counter(f"{a.status} {a.code}".strip() for a in burst.answers)
    expected = Counter({"201": min(stock, count), "409 OUT_OF_STOCK": max(0, count - stock)})
    if histogram != +expected:
        problems.append(f"answers {dict(histogram)}, expected {dict(+expected)}")
    won = {a.user.id: a.body["id"] for a in burst.answers if a.status == 201 and isinstance(a.body, dict)}
    goods = stored_item(stack, "goods", {"id": {"S": goods_id}}) or {}
    client = stack.dynamodb()
    stored = _pages(client.scan, TableName=stack.table("redemptions"), FilterExpression="goods_id = :g",
                    ExpressionAttributeValues={":g": {"S": goods_id}}, ConsistentRead=True)
    after = accounts(stack, users)
    result["stored"] = {"stock": _number(goods, "stock", None), "redemptions": len(stored),
                        "pending_pickup": sum(1 for r in stored if r["status"]["S"] == "pending_pickup")}
    if result["stored"]["stock"] != stock - len(won) or (len(won) == stock and result["stored"]["stock"] != 0):
        problems.append(f"stock {result['stored']['stock']} after {len(won)} redemptions of stock {stock}")
    if {r["id"]["S"] for r in stored} != set(won.values()) or result["stored"]["pending_pickup"] != len(won):
        problems.append(f"stored redemptions {len(stored)} ({result['stored']['pending_pickup']} pending) differ "
                        f"from the {len(won)} answered 201")
    wrong: Counter = Counter()
    for user in users:
        entries = {e["entry_key"]["S"]: int(e["amount"]["N"]) for e in after[user.id]["ledger"]
                   if e["entry_key"]["S"].startswith("redeem#")}
        had = {k for k in (e["entry_key"]["S"] for e in before[user.id]["ledger"]) if k.startswith("redeem#")}
        new = {k: v for k, v in entries.items() if k not in had}
        expected_new = {f"redeem#{won[user.id]}": -1} if user.id in won else {}
        if new != expected_new:
            wrong["redeem# ledger entries not the redemption answered"] += 1
        if after[user.id]["balance"] != before[user.id]["balance"] - (1 if user.id in won else 0):
            wrong["balance not lowered by exactly the price"] += 1
    problems += [f"{what}: {n} resident(s)" for what, n in wrong.items()]
    problems += books_problems(after)
    result["stored"]["balance_is_sum_of_ledger"] = balanced(after)
    return _finish(result, stack, [burst], raw, clients, stock_issued={goods_id: stock})


RUNNERS = {"signup": signup, "checkin": checkin, "redeem": redeem}
