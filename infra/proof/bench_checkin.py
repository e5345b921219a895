"""Check-in and check-out scans per second over HTTP on the local stack, and DynamoDB calls per scan (printed, not
asserted): issue 9.

    python -m infra.proof.bench_checkin [--scans 100] [--clients 8] [--json]

The stack is infra/proof/bench_stack.py's: the local stack of ``make dev`` in its own process (``python -m
infra.proof.bench_stack --serve``), fresh tables, no data file, the scheduler's timer at an hour, and a meter counting
every DynamoDB call the stack's client makes. This module only drives it.

The stack's clock cannot be moved from here and the API refuses what a check-in needs (an event that has started,
sign-ups for it), so each event is published over HTTP for the day after tomorrow, then its times are moved in the
stack's DynamoDB (started an hour ago, ends in an hour, 10 points an hour), and its sign-ups are written there in
the shape the API writes them: ``signed`` for the check-in runs, ``checked_in`` 61 minutes ago (a minute before
the start) for the check-out runs — a check-out within 2 minutes of the check-in is a double scan, and nobody
waits an hour. Those writes go to DynamoDB directly, not through the stack's client: the meter does not see them.

- throughput: for check-ins, then for check-outs, four runs, each on a new event, each by the same ``--scans``
  volunteers (registered over HTTP beforehand, not timed), each scanning once: from 1 client (one thread, one HTTP
  session, scans one after the other), from ``--clients`` concurrent clients (threads released together, each
  with its own session and its share of the volunteers), again ``--clients``, again 1 — so both see the tables at
  the same sizes on average. The code is the organiser's rotating code (``GET /v1/events/{id}/qrcode``), fetched
  before the run and again when it has under 15 s left; the calls of those fetches are taken out of the count.
  Printed per client count: scans per second (scans / wall time), p50/p95 latency, DynamoDB calls per scan.
- calls: one request at a time, on an event that takes walk-ins: a check-in, the same volunteer's second scan
  within 2 minutes (ALREADY_CHECKED_IN), a check-out (crediting minutes and points), a scan after the check-out
  (ALREADY_CHECKED_OUT), a walk-in (not signed up: signed up and checked in in one transaction), a forged code
  (CODE_INVALID), and the organiser's rotating code. Every call the request makes is counted, the caller's
  authorisation read included.

Caveat: the embedded DynamoDB applies one request at a time, and the whole stack is one Python process: scans per second measure this machine's local stack, not
DynamoDB or Lambda. The calls per scan are the application's and carry over.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone

from infra.proof.bench_runs import combined, fire, latency_ms, print_calls, print_throughput, report, summarise_calls
from infra.proof.bench_stack import (REPEATS, ROOT, SHANGHAI, RunningStack, User, _call, _delta, _expect, _make_user,
                                     login, make_users, start_stack)

if str(ROOT / "layers") not in sys.path:  # the models and rules that shape the items written (tongxin)
    sys.path.insert(0, str(ROOT / "layers"))

POINTS_PER_HOUR = 10
KINDS = ("check-in", "check-out")
QRCODE = "organiser's rotating code (GET qrcode?format=json)"


# --- the stack's DynamoDB, for the state the API cannot make -------------------------------------------------

_table = RunningStack.table


def _started_event(base: str, dynamodb, admin_token: str, capacity: int, title: str, walk_ins: bool = False):
    """Publish over HTTP (the API refuses a start in the past), then move the stored times: started 1 h ago, ends
    in 1 h; the scheduler's next step for it is closing attendance 2 h after the end. Returns the stored event."""
    import requests
    from pynamodb.attributes import UTCDateTimeAttribute

    from tongxin.adapters.dynamo.models import EventModel
    from tongxin.domain import events as event_rules

    later = (datetime.now(SHANGHAI) + timedelta(days=2)).replace(microsecond=0)
    with requests.Session() as session:
        event_id = _expect(_call(session, base, "POST", "/v1/events", admin_token, {
            "title": title, "kind": "volunteer_service", "capacity": capacity, "points_per_hour": POINTS_PER_HOUR,
            "allow_walk_ins": walk_ins, "starts_at": later.isoformat(),
            "ends_at": (later + timedelta(hours=2)).isoformat(),
            "location": {"address": "同心社区服务中心", "lat": 30.0, "lng": 103.8, "radius_m": 200}}),
            201, "publish an event")["id"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    starts, ends = now - timedelta(hours=1), now + timedelta(hours=1)
    times = {"starts_at": starts, "ends_at": ends, "signup_deadline": starts, "signup_closes_at": starts,
             "due_at": ends + event_rules.CLOSE_AFTER_END}
    dates = UTCDateTimeAttribute()
    dynamodb.update_item(
        TableName=_table("events"), Key={"id": {"S": event_id}},
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in times),
        ExpressionAttributeNames={f"#{name}": name for name in times},
        ExpressionAttributeValues={f":{name}": {"S": dates.serialize(value)} for name, value in times.items()},
        ConditionExpression="attribute_exists(id)")
    item = dynamodb.get_item(TableName=_table("events"), Key={"id": {"S": event_id}}, ConsistentRead=True)["Item"]
    return EventModel.from_raw_data(item)


def _write_signups(dynamodb, event, users: list[User], status: str) -> None:
    """Sign-ups as ``usecases/events/signups._signup`` writes them (signed the day before the start) and, for
    ``checked_in``, with the fields ``usecases/checkins/scanning.check_in`` adds, checked in a minute before the
    start; then the event's ``signed_count``, as the sign-ups' transactions would have counted them."""
    from tongxin.adapters.dynamo.models import SignupModel
    from tongxin.domain import events as event_rules

    signed_at, checked_in_at = event.starts_at - timedelta(days=1), event.starts_at - timedelta(minutes=1)
    at = checked_in_at if status == "checked_in" else signed_at
    items = []
    for user in users:
        fields = dict(event_rules.roster_fields(event.id, status, at))
        if status == "checked_in":
            fields.update(
                checked_in_at=at, attended_at=at, attendee_key=user.id, attendee_name="压测志愿者",
                month_key=f"{event.community_id}#{at.astimezone(SHANGHAI):%Y-%m}", event_title=event.title,
                event_kind=event.kind, event_address=(event.location or {}).get("address"),
                event_ends_at=event.ends_at, organiser_id=event.organiser_id,
                organiser_nickname=event.organiser_nickname, grid_id=event.grid_id)
        items.append(SignupModel(event.id, user.id, community_id=event.community_id, position=None,
                                 nickname="压测志愿者", event_starts_at=event.starts_at, mine_key=user.id,
                                 created_at=signed_at, signed_at=signed_at, updated_at=at, **fields).serialize())
    for start in range(0, len(items), 25):
        pending = {_table("signups"): [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None
    dynamodb.update_item(TableName=_table("events"), Key={"id": {"S": event.id}},
                         UpdateExpression="ADD signed_count :n", ExpressionAttributeValues={":n": {"N": str(len(items))}})


# --- scanning ---------------------------------------------------------------------------------------------

class RotatingCode:
    """The organiser's screen: the current rotating code, fetched over HTTP again when it has under 15 s left."""

    def __init__(self, base: str, organiser_token: str, event_id: str):
        import requests
        self.base, self.token, self.event_id = base, organiser_token, event_id
        self.session, self.lock = requests.Session(), threading.Lock()
        self.code, self.valid_until, self.fetches = "", datetime.min.replace(tzinfo=timezone.utc), 0

    def __call__(self) -> str:
        with self.lock:
            if self.valid_until - datetime.now(timezone.utc) < timedelta(seconds=15):
                shown = _expect(_call(self.session, self.base, "GET",
                                      f"/v1/events/{self.event_id}/qrcode?kind=rotating&format=json", self.token),
                                200, "the organiser's rotating code")
                self.code, self.valid_until = shown["code"], datetime.fromisoformat(shown["valid_until"])
                self.fetches += 1
            return self.code


def _timed_run(stack: RunningStack, code: RotatingCode, users: list[User], clients: int, expect: str,
               qrcode_calls: float) -> dict:
    """``clients`` threads, each with its own HTTP session and its share of ``users``, released together; every
    user scans once."""
    code()  # a fresh code before the clock starts
    fetched = code.fetches
    fired = fire(stack, [users[i::clients] for i in range(clients)],
                 lambda session, user: _call(session, stack.api_url, "POST", "/v1/checkins", user.token,
                                             {"code": code()}),
                 lambda resp: resp.json()["action"] if resp.status_code == 200 else None)
    wall, used, outcome = fired["seconds"], fired["used"], fired["outcome"]
    refetches = code.fetches - fetched
    scan_calls = used["total"] - refetches * qrcode_calls
    return {"kind": expect.replace("_", "-"), "clients": clients, "scans": len(users), "seconds": round(wall, 3),
            "per_second": round(len(users) / wall, 1), **latency_ms(fired["latencies"]), "outcome": dict(outcome),
            "errors": dict(fired["errors"]), "dynamodb_calls_per_scan": round(scan_calls / max(1, len(users)), 2),
            "code_fetches_during_run": refetches, "cancelled_transactions": used["cancelled"],
            "dynamodb_calls": used["calls"], "latencies": fired["latencies"], "as_expected": outcome.get(expect, 0)}


def _combined(runs: list[dict], kind: str, clients: int) -> dict:
    """The runs of ``kind`` with ``clients`` clients as one: scans over their summed wall time, latency over all."""
    mine = [run for run in runs if run["kind"] == kind and run["clients"] == clients]
    return {"kind": kind, **combined(mine, "scans", "dynamodb_calls_per_scan"),
            "all_as_expected": all(run["as_expected"] == run["scans"] for run in mine)}


def _counted(stack: RunningStack, session, method: str, path: str, token: str, body, status: int, what: str,
             check=None) -> dict:
    before = stack.meter()
    answer = _expect(_call(session, stack.api_url, method, path, token, body), status, what)
    used = _delta(before, stack.meter())
    if check is not None and not check(answer):
        raise SystemExit(f"{what}: unexpected answer {answer}")
    return used


def _error_is(code: str):
    return lambda answer: answer.get("error", {}).get("code") == code


def _action_is(action: str):
    status = {"check_in": "checked_in", "check_out": "checked_out"}[action]
    return lambda answer: answer.get("action") == action and answer["attendance"]["status"] == status


def _count_calls(stack: RunningStack, dynamodb, admin_token: str, people: list[list[User]]) -> dict:
    """One request at a time, REPEATS times each, each repeat on a new event that takes walk-ins."""
    import requests
    seen: dict[str, list[dict]] = {}
    with requests.Session() as session:
        for index, (arriving, leaving, walking_in) in enumerate(people):
            event = _started_event(stack.api_url, dynamodb, admin_token, 10, f"计数签到{index + 1}", walk_ins=True)
            _write_signups(dynamodb, event, [arriving], "signed")
            _write_signups(dynamodb, event, [leaving], "checked_in")
            qrcode = f"/v1/events/{event.id}/qrcode?kind=rotating&format=json"
            seen.setdefault(QRCODE, []).append(
                _counted(stack, session, "GET", qrcode, admin_token, None, 200, QRCODE,
                         lambda answer: answer["kind"] == "rotating" and bool(answer["code"])))
            code = _expect(_call(session, stack.api_url, "GET", qrcode, admin_token), 200, "rotating code")["code"]
            forged = code[:-1] + ("A" if code[-1] != "A" else "B")
            steps = [
                ("check-in (signed up)", arriving, code, 200, _action_is("check_in")),
                ("second scan within 2 min (409 ALREADY_CHECKED_IN)", arriving, code, 409,
                 _error_is("ALREADY_CHECKED_IN")),
                ("check-out (checked in 61 min ago: minutes and points credited)", leaving, code, 200,
                 _action_is("check_out")),
                ("scan after the check-out (409 ALREADY_CHECKED_OUT)", leaving, code, 409,
                 _error_is("ALREADY_CHECKED_OUT")),
                ("walk-in (not signed up: signed up and checked in)", walking_in, code, 200, _action_is("check_in")),
                ("forged code (400 CODE_INVALID)", arriving, forged, 400, _error_is("CODE_INVALID")),
            ]
            for what, user, text, status, check in steps:
                seen.setdefault(what, []).append(_counted(stack, session, "POST", "/v1/checkins", user.token,
                                                          {"code": text}, status, what, check))
    return summarise_calls(seen)


def bench(args) -> dict:
    stack, startup = start_stack("tongxin-bench-checkin-")
    try:
        dynamodb = stack.dynamodb()
        admin = login(stack.api_url, "admin")["token"]
        run = uuid.uuid4().hex[:6]
        needed = args.scans + 3 * REPEATS
        users, setup = make_users(lambda i: _make_user(stack.api_url, f"scan{run}-{i}", "volunteer_service"), needed)
        scanners, counted = users[:args.scans], users[args.scans:]
        # The calls of one code fetch, counted first: fetches during a timed run are taken out of its count.
        calls = _count_calls(stack, dynamodb, admin, [counted[i:i + 3] for i in range(0, 3 * REPEATS, 3)])
        qrcode_calls = calls[QRCODE]["calls"]
        plan = (1, args.clients, args.clients, 1)  # ABBA: both client counts see the tables at the same sizes
        runs = []
        for kind, status, expect in (("check-in", "signed", "check_in"), ("check-out", "checked_in", "check_out")):
            for index, clients in enumerate(plan):
                event = _started_event(stack.api_url, dynamodb, admin, max(args.scans, 10),
                                       f"压测{'签到' if kind == 'check-in' else '签退'}{index + 1}（{clients} 客户端）")
                _write_signups(dynamodb, event, scanners, status)
                code = RotatingCode(stack.api_url, admin, event.id)
                runs.append(_timed_run(stack, code, scanners, clients, expect, qrcode_calls))
    finally:
        stack.stop()
    throughput = [_combined(runs, kind, clients) for kind in KINDS for clients in dict.fromkeys(plan)]
    for row in runs:
        del row["latencies"]
    return {"cpus": os.cpu_count(), "startup_s": round(startup, 1), "setup_s": round(setup, 1),
            "users_created": needed, "points_per_hour": POINTS_PER_HOUR, "throughput": throughput, "runs": runs,
            "calls": calls}


def _print(results: dict) -> None:
    print(f"check-in scans over HTTP on the local stack ({results['cpus']} CPUs; stack up in {results['startup_s']} "
          f"s; {results['users_created']} volunteers registered in {results['setup_s']} s, not timed)")
    order = ", ".join(str(run["clients"]) for run in results["runs"] if run["kind"] == "check-in")
    print(f"each run on a new event (started 1 h ago, {results['points_per_hour']} points an hour), every volunteer "
          f"scanning once with the organiser's rotating code; runs in the order {order} clients:")
    print_throughput(results["throughput"], [
        ("scan", "kind", "<9"), ("clients", "clients", ">7"), ("runs", "runs", ">4"), ("scans", "scans", ">6"),
        ("seconds", "seconds", ">8.2f"), ("scans/s", "per_second", ">8.1f"), ("p50 ms", "p50_ms", ">8.1f"),
        ("p95 ms", "p95_ms", ">8.1f"), ("calls/scan", "dynamodb_calls_per_scan", ">10.2f")],
        {"all_as_expected": "; NOT every scan answered as expected"})
    print("  per run: " + "; ".join(f"{run['kind']} {run['clients']} → {run['per_second']}/s (p95 {run['p95_ms']} ms"
                                    f", {run['cancelled_transactions']} cancelled, {run['code_fetches_during_run']} "
                                    f"code fetches)" for run in results["runs"]))
    print_calls(results["calls"], 66)
    print("Caveats: the embedded DynamoDB (moto) applies one request at a time; the stack is one Python\n"
          "process. Scans per second are this machine's local stack, not DynamoDB; the call counts carry over.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=100,
                        help="scans per run, one per volunteer (4 check-in runs and 4 check-out runs: 1, N, N, 1 "
                             "clients)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the 2nd and 3rd runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.scans < args.clients or args.clients < 1:
        parser.error("--scans must be at least --clients, and --clients at least 1")
    if args.scans > 5000:
        parser.error("--scans is at most 5000 (an event's capacity)")
    results = bench(args)
    report(results, args.json, _print)
    failed = any(row["errors"] or not row["all_as_expected"] for row in results["throughput"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
