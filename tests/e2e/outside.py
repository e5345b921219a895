"""What the outside walks (tests/e2e/test_outside_*.py) and the push tests (tests/e2e/test_push_e2e.py) share: reading
the API's answers as an outside client does, and the WeChat side of subscribe messages (the stand-in's ``__dev`` routes:
what wx.requestSubscribeMessage accepted, what was sent). The stack itself and its clients are tests/stack.py's."""
from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from pynamodb.attributes import UTCDateTimeAttribute

from infra.local.wechat_standin import fake_openid
from tests.stack import Client
from tongxin.config import DEV_TEMPLATE_KEYWORDS
from tongxin.domain import events as event_rules

DATES = UTCDateTimeAttribute()  # how the tables hold a moment
PUSH_SECONDS = 10.0  # how long a message may take from the change that causes it to WeChat


# --- the API's answers -----------------------------------------------------------------------------------------------

def ok(resp: requests.Response, status: int = 200) -> dict:
    assert resp.status_code == status, f"{resp.request.method} {resp.url} → {resp.status_code}: {resp.text}"
    return resp.json()


def refused(resp: requests.Response, status: int, code: str) -> dict:
    """The answer is the error envelope of ``status`` and ``code``, with a Chinese message."""
    assert resp.status_code == status, f"{resp.request.method} {resp.url} → {resp.status_code}: {resp.text}"
    error = resp.json()["error"]
    assert error["code"] == code and error["message"], error
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), f"not a Chinese message: {error}"
    return error


def only(items: list, what: str):
    assert len(items) == 1, f"expected exactly one {what}, got {items}"
    return items[0]


def read_csv(resp: requests.Response) -> list[list[str]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/csv"), resp.headers
    assert resp.content.startswith(b"\xef\xbb\xbf"), resp.content[:20]  # a BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(resp.content[3:].decode("utf-8"))))


def need(walk: dict, *names: str) -> None:
    """A walk's step needs what earlier steps left in the module's ``walk``."""
    missing = [n for n in names if n not in walk]
    if missing:
        pytest.fail(f"an earlier step of the walk did not get as far as {missing}")


def wait_for(what: str, probe, stack, timeout: float = PUSH_SECONDS):
    """Poll ``probe()`` until it answers something truthy; fail naming ``what`` (and the stack's log tail)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: nothing within {timeout} s\n--- stack log (tail) ---\n"
                                 f"{stack.output()[-3000:]}")
        time.sleep(0.2)


# --- subscribe messages: the API's templates, WeChat's accepts and sends ----------------------------------------------

def keyword(kind: str, field: str) -> str:
    """The keyword the dev templates fill with ``field`` for ``kind`` (the stack runs with the dev templates)."""
    return only([k for k, f in DEV_TEMPLATE_KEYWORDS[kind].items() if f == field], f"{kind} keyword for {field}")


def template_of(client: Client, kind: str) -> str:
    """The template id this deployment configured for ``kind``, as the API tells the mini-program."""
    view = ok(client.call("GET", "/v1/me/subscriptions"))
    return only([i["template_id"] for i in view["items"] if i["kind"] == kind], f"template of {kind}")


def accept(stack, name: str, client: Client, *template_ids: str, wechat_url: str | None = None) -> dict:
    """What wx.requestSubscribeMessage does when ``name`` accepts ``template_ids`` (one accept each time named): WeChat
    (the stack's stand-in, or the one at ``wechat_url``) learns them, the mini-program reports them to the API; the
    API's view of the subscriptions."""
    told = requests.post((wechat_url or stack.wechat_url) + "__dev/subscriptions",
                         json={"touser": fake_openid(name), "template_ids": list(template_ids)}, timeout=5)
    assert told.status_code == 200, told.text
    return ok(client.call("POST", "/v1/me/subscriptions", {"accepted": list(template_ids)}))


def accept_template(stack, name: str, client: Client, kind: str, times: int = 1) -> str:
    """``accept`` of the template of ``kind``, ``times`` accepts; its template id."""
    template_id = template_of(client, kind)
    accept(stack, name, client, *[template_id] * times)
    return template_id


def messages(stack, name: str, template_id: str | None = None, page: str | None = None) -> list[dict]:
    """What the WeChat stand-in accepted for ``name`` (of ``template_id``, to ``page``), oldest first."""
    resp = requests.get(stack.wechat_url + "__dev/messages", params={"touser": fake_openid(name)}, timeout=5)
    assert resp.status_code == 200, resp.text
    return [m for m in resp.json()["items"] if template_id in (None, m["template_id"]) and page in (None, m["page"])]


# --- time passing for an event (the stack's clock cannot travel) ----------------------------------------------------

def move_event(stack, event_id: str, user_id: str, starts: datetime, ends: datetime) -> None:
    """The event started at ``starts``: its times, and the sign-up's copy of the start, moved in the stack's tables (its
    clock cannot travel, and an event cannot be published already started)."""
    db = stack.dynamodb()
    times = {"starts_at": starts, "ends_at": ends, "signup_deadline": starts, "signup_closes_at": starts,
             "due_at": ends + event_rules.CLOSE_AFTER_END}
    db.update_item(
        TableName=stack.table("events"), Key={"id": {"S": event_id}},
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in times),
        ExpressionAttributeNames={f"#{name}": name for name in times},
        ExpressionAttributeValues={f":{name}": {"S": DATES.serialize(value)} for name, value in times.items()},
        ConditionExpression="attribute_exists(id)")
    db.update_item(
        TableName=stack.table("signups"), Key={"event_id": {"S": event_id}, "user_id": {"S": user_id}},
        UpdateExpression="SET event_starts_at = :s", ConditionExpression="#st = :signed",
        ExpressionAttributeNames={"#st": "status"},
        ExpressionAttributeValues={":s": {"S": DATES.serialize(starts)}, ":signed": {"S": "signed"}})


def check_in_at(stack, event_id: str, user_id: str, at: datetime) -> None:
    """The check-in made over HTTP a moment ago, as if the scan had been at ``at`` (the roster keys go with it)."""
    fields = {"checked_in_at": {"S": DATES.serialize(at)}, "attended_at": {"S": DATES.serialize(at)}}
    roster = event_rules.roster_fields(event_id, "checked_in", at)
    fields["roster_order"] = {"N": str(roster["roster_order"])}
    fields["roster_sort"] = {"S": roster["roster_sort"]}
    stack.dynamodb().update_item(
        TableName=stack.table("signups"), Key={"event_id": {"S": event_id}, "user_id": {"S": user_id}},
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
        ConditionExpression="#st = :in",
        ExpressionAttributeNames={"#st": "status", **{f"#{name}": name for name in fields}},
        ExpressionAttributeValues={":in": {"S": "checked_in"}, **{f":{name}": v for name, v in fields.items()}})


def attend(stack, admin: Client, member: Client, minutes: int, title: str = "社区义诊志愿服务") -> dict:
    """``member`` serves ``minutes`` at a new 招募令 of the admin's: signed up, the event moved to have started that
    long ago, checked in and out by scanning its code over HTTP (the check-in moved back to the start). The answer:
    the attendance as the check-out gives it."""
    later = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    event = ok(admin.call("POST", "/v1/events", {
        "title": title, "kind": "volunteer_service", "capacity": 5, "points_per_hour": 10,
        "starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=3)).isoformat(),
        "location": {"address": "同心社区服务中心", "lat": 30.0, "lng": 103.8, "radius_m": 200}}), 201)
    ok(member.call("POST", f"/v1/events/{event['id']}/signup"), 201)
    starts = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=minutes)
    move_event(stack, event["id"], member.user["id"], starts, starts + timedelta(hours=3))
    for _ in ("in", "out"):
        code = ok(admin.call("GET", f"/v1/events/{event['id']}/qrcode", params={"format": "json"}))["code"]
        scanned = ok(member.call("POST", "/v1/checkins", {"code": code}))
        if scanned["action"] == "check_in":
            check_in_at(stack, event["id"], member.user["id"], starts)
    assert scanned["action"] == "check_out", scanned
    return {**scanned["attendance"], "event": event}
