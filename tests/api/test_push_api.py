"""订阅消息 over the API (issue 11): what a user accepted (``POST/GET /v1/me/subscriptions``: one accept = one
send, the ``ask`` list by role) and what an admin sees of the messages that did not arrive (``GET
/v1/admin/messages?status=failed|skipped``), over HTTP against moto and the WeChat stand-in. Messages are delivered
by the scheduler's step, ``tongxin.usecases.push.sweep(container)``; time moves with ``now=``, never by sleeping.

The stand-in's message list and the outbox table are shared by the whole session (other tests' messages are swept
too), so every check here is filtered by recipient (the stand-in's ``touser``, our user id).

The stand-in is as strict as WeChat (issue 20): the dev templates' own keywords, 47003/41030/40037 for what WeChat
refuses, and, for this module, accepts counted (``strict_accepts``): ``accept`` tells the stand-in what the user
accepted (``/__dev/subscriptions``, as wx.requestSubscribeMessage tells WeChat) and reports it to our API.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import requests

from infra.local.wechat_standin import fake_openid
from tests.support import Community, Member, make_community
from tongxin.adapters.dynamo.models import OutboxModel
from tongxin.domain import push as rules
from tongxin.domain.clock import utcnow
from tongxin.usecases import push

SEND = "cgi-bin/message/subscribe/send"
WISH = {"title": "帮忙修水龙头", "content": "厨房水龙头漏水，需要有人帮忙看看", "category": "维修"}
ITEM_KEYS = {"kind", "template_id", "remaining"}
MESSAGE_KEYS = {"id", "recipient", "kind", "status", "reason", "errcode", "attempts", "created_at", "updated_at"}
# Kinds by audience, stated here (not read from the code under test): docs/push.md and the issue.
RESIDENT_KINDS = {"wish_claimed", "wish_fulfilled", "wish_reviewed", "event_reminder", "points_awarded"}
VOLUNTEER_ONLY = {"wish_cancelled", "wish_confirmed", "checkin_unsettled"}
GRID_WORKER_ONLY = {"wish_to_review", "wish_overdue"}
HANDLER_KINDS = {"request_new", "request_escalated", "request_reopened", "request_overdue",  # 接诉即办's handlers
                 "request_extension_asked", "request_extension_approved", "request_extension_rejected",
                 "request_supervised"}
AUTHOR_KINDS = {"request_accepted", "request_resolved"}  # the request's author


def sweep(container) -> None:
    """The scheduler's step until it has looked at everything due: a run stops at its time budget, and the
    session's other tests leave messages behind that are due too."""
    for _ in range(50):
        if not push.sweep(container).get("left_for_next_run"):
            return
    raise AssertionError("the sweep never caught up")


def tmpl(kind: str) -> str:
    """The template id the test settings configure for ``kind`` (dev/test: every kind has ``tmpl_<kind>``)."""
    return f"tmpl_{kind}"


# --- helpers ---------------------------------------------------------------------------------------------------

def subscriptions(member: Member) -> dict:
    resp = member.get("/v1/me/subscriptions")
    assert resp.status == 200, resp.body
    return resp.json


def remaining(view: dict, kind: str) -> int:
    found = [item["remaining"] for item in view["items"] if item["kind"] == kind]
    assert len(found) == 1, f"{kind} appears {len(found)} times in {view['items']}"
    return found[0]


_STRICT: dict = {}


@pytest.fixture(scope="module", autouse=True)
def strict_wechat(wechat):
    """The session's stand-in counts accepts for this module: nothing reaches a user WeChat was not told accepted."""
    _STRICT["wechat"], wechat.strict_accepts = wechat, True
    yield wechat
    wechat.strict_accepts = False
    _STRICT.clear()


def title(container, message: dict, kind: str) -> str:
    """The value of the keyword the configuration fills with the title (the dev wish_claimed's ``thing9``)."""
    [key] = [k for k, field in container.settings.wechat_template_keywords[kind].items() if field == "title"]
    return message["data"][key]["value"]


def accept(member: Member, *kinds: str) -> dict:
    told = requests.post(_STRICT["wechat"].base_url + "__dev/subscriptions",
                         json={"touser": fake_openid(member.name), "template_ids": [tmpl(kind) for kind in kinds]},
                         timeout=5)
    assert told.status_code == 200, told.text
    resp = member.post("/v1/me/subscriptions", {"accepted": [tmpl(kind) for kind in kinds]})
    assert resp.status == 200, resp.body
    return resp.json


def publish(author: Member, **extra) -> dict:
    resp = author.post("/v1/wishes", {**WISH, **extra})
    assert resp.status == 201, resp.body
    return resp.json


def claim(volunteer: Member, wish: dict) -> None:
    resp = volunteer.post(f"/v1/wishes/{wish['id']}/claim")
    assert resp.status == 200, resp.body


def award(community: Community, member: Member, points: int = 1, reason: str = "楼道义务清扫") -> dict:
    resp = community.admin.post("/v1/points/awards", {"user_id": member.id, "category": "charity",
                                                      "points": points, "reason": reason})
    assert resp.status == 201, resp.body
    return resp.json


def received(wechat, member: Member) -> list[dict]:
    """What the stand-in accepted for ``member`` (its openid is the one the stand-in gives ``dev:<name>``)."""
    return [m for m in wechat.messages if m["touser"] == fake_openid(member.name)]


def outbox(member: Member, kind: str | None = None) -> list[OutboxModel]:
    items = [m for m in OutboxModel.scan(OutboxModel.recipient_id == member.id) if kind is None or m.kind == kind]
    return sorted(items, key=lambda m: m.created_at)


def sends(wechat) -> int:
    return wechat.counters.get(SEND, 0)


def problems(admin: Member, status: str, **query) -> list[dict]:
    """Every page of the admin's list (limit ``query['limit']`` if given)."""
    items, cursor = [], None
    for _ in range(100):
        params = {"status": status, **query, **({"cursor": cursor} if cursor else {})}
        resp = admin.get("/v1/admin/messages?" + "&".join(f"{k}={v}" for k, v in params.items()))
        assert resp.status == 200, resp.body
        items += resp.json["items"]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("the admin's message list never ends")


def nickname(member: Member, name: str) -> str:
    resp = member.patch("/v1/me", {"nickname": name})
    assert resp.status == 200, resp.body
    return name


@pytest.fixture
def people(community):
    """An author (a plain resident) and a volunteer of the same grid."""
    return community.resident(0), community.volunteer(0)


# --- GET /v1/me/subscriptions: what to ask for ---------------------------------------------------------------

def test_a_new_resident_has_no_quota_and_is_asked_for_the_resident_kinds_only(community):
    resident = community.resident(0)
    view = subscriptions(resident)
    assert set(view) >= {"items", "ask"}
    for item in view["items"]:
        assert ITEM_KEYS <= set(item), item
        assert item["template_id"] == tmpl(item["kind"]) and item["remaining"] == 0, item
    asked = set(view["ask"])
    assert {tmpl(kind) for kind in RESIDENT_KINDS} <= asked
    assert not asked & {tmpl(kind) for kind in GRID_WORKER_ONLY | VOLUNTEER_ONLY}, view["ask"]
    # every id asked for is one of the listed kinds with nothing left
    assert asked <= {item["template_id"] for item in view["items"] if item["remaining"] == 0}


def test_a_grid_worker_is_asked_for_wish_to_review_and_a_volunteer_for_their_kinds(community):
    worker, volunteer = community.grid_worker(0), community.volunteer(0)
    worker_asked = set(subscriptions(worker)["ask"])
    assert {tmpl("wish_to_review"), tmpl("wish_overdue")} <= worker_asked
    volunteer_asked = set(subscriptions(volunteer)["ask"])
    assert {tmpl(kind) for kind in VOLUNTEER_ONLY} <= volunteer_asked
    assert tmpl("wish_to_review") not in volunteer_asked


def test_accepting_counts_one_send_per_accept_and_stops_the_asking(community):
    worker = community.grid_worker(0)
    first = accept(worker, "wish_to_review")
    assert remaining(first, "wish_to_review") == 1
    assert tmpl("wish_to_review") not in first["ask"]
    assert tmpl("wish_overdue") in first["ask"]  # a kind not accepted is still asked for
    second = accept(worker, "wish_to_review", "wish_overdue")
    assert (remaining(second, "wish_to_review"), remaining(second, "wish_overdue")) == (2, 1)
    assert subscriptions(worker) == second  # the POST answers what GET shows
    assert not {tmpl("wish_to_review"), tmpl("wish_overdue")} & set(second["ask"])


def test_quotas_are_per_user(community):
    one, other = community.resident(0), community.resident(0)
    accept(one, "wish_claimed")
    assert remaining(subscriptions(other), "wish_claimed") == 0
    assert tmpl("wish_claimed") in subscriptions(other)["ask"]


def test_every_template_a_user_is_asked_for_can_be_accepted(community):
    """The mini-program reports up to 20 ids a call (more is 400, below); a grid worker's kinds — more than 20 since
    the request kinds came — are accepted in calls of 20 at most, after which nothing is asked for."""
    worker = community.grid_worker(0)
    kinds = [item["kind"] for item in subscriptions(worker)["items"]]
    assert len(kinds) == len(set(kinds)) and GRID_WORKER_ONLY | HANDLER_KINDS <= set(kinds)
    for start in range(0, len(kinds), 20):
        view = accept(worker, *kinds[start:start + 20])
    assert all(item["remaining"] == 1 for item in view["items"]), view["items"]
    assert view["ask"] == []


def test_handlers_of_requests_are_asked_for_the_handler_kinds_and_residents_are_not(api, community):
    """接诉即办: each level's handlers — the grid's workers, the community's admins, the street's, the district's and
    the departments' staff (who belong to no community) — are asked for the kinds that tell them of a request; a
    resident (and a volunteer) only for the two that tell an author how their request goes."""
    from tongxin.usecases import districts, streets
    street = streets.create_street("订阅街道")
    streets.attach_community(street["id"], community.id)
    staff, district_staff, department_staff = api.login(), api.login(), api.login()
    streets.add_staff(street["id"], staff.id)
    district = districts.create_district("订阅区")["id"]
    districts.add_district_staff(district, district_staff.id)
    districts.add_department_staff(districts.add_department(district, "订阅局")["id"], department_staff.id)
    for above in (staff, district_staff, department_staff):
        above.relogin()
    admin = community.with_roles(community.resident(0), ["admin"])
    for handler in (community.grid_worker(0), admin, community.admin, staff, district_staff, department_staff):
        asked = set(subscriptions(handler)["ask"])
        assert {tmpl(kind) for kind in HANDLER_KINDS | AUTHOR_KINDS} <= asked, (handler.user["roles"], asked)
    for member in (community.resident(0), community.volunteer(1), api.login()):
        asked = set(subscriptions(member)["ask"])
        assert {tmpl(kind) for kind in AUTHOR_KINDS} <= asked
        assert not asked & {tmpl(kind) for kind in HANDLER_KINDS}, (member.user["roles"], asked)


# --- POST /v1/me/subscriptions: refusals -------------------------------------------------------------------

@pytest.mark.parametrize("accepted", [
    ["tmpl_no_such_kind"],
    [tmpl("wish_claimed"), "tmpl_no_such_kind"],  # one unknown id refuses the whole call
    [""],
    [tmpl("wish_claimed")] * 21,  # more than 20 ids
    [tmpl("wish_claimed"), tmpl("wish_fulfilled")] * 10 + ["x"],
    "tmpl_wish_claimed",  # not a list
    [7],
])
def test_unknown_or_too_many_template_ids_are_400_and_change_nothing(community, accepted):
    resident = community.resident(0)
    resp = resident.post("/v1/me/subscriptions", {"accepted": accepted})
    assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED"), resp.body
    view = subscriptions(resident)
    assert all(item["remaining"] == 0 for item in view["items"]), view["items"]


def test_subscriptions_need_a_login(api):
    assert api.get("/v1/me/subscriptions").status == 401
    assert api.post("/v1/me/subscriptions", {"accepted": [tmpl("wish_claimed")]}).status == 401


# --- delivery spends the quota -------------------------------------------------------------------------------

def test_a_delivered_message_spends_one_accept(container, wechat, people):
    author, volunteer = people
    accept(author, "wish_claimed")
    before = subscriptions(author)
    assert remaining(before, "wish_claimed") == 1 and tmpl("wish_claimed") not in before["ask"]
    wish = publish(author, title="帮忙换灯泡")
    claim(volunteer, wish)
    sweep(container)
    [message] = received(wechat, author)
    assert message["template_id"] == tmpl("wish_claimed")
    assert message["page"] == f"pages/wish/detail?id={wish['id']}"
    assert title(container, message, "wish_claimed") == "帮忙换灯泡"
    assert set(message["data"]) == set(container.settings.wechat_template_keywords["wish_claimed"])
    [stored] = outbox(author, "wish_claimed")
    assert (stored.status, stored.template_id) == ("sent", tmpl("wish_claimed"))
    assert stored.msgid and stored.sent_at is not None and stored.attempts == 1
    after = subscriptions(author)
    assert remaining(after, "wish_claimed") == 0
    assert tmpl("wish_claimed") in after["ask"]  # nothing left: the mini-program asks again
    sweep(container)  # a second run sends nothing again
    assert len(received(wechat, author)) == 1


def test_a_wish_to_review_reaches_the_grid_worker_who_accepted_only(api, container, wechat):
    """A community that reviews wishes: the grid's workers are told through one fan-out item, expanded by the
    sweep; the worker who accepted gets it, the one who did not is recorded skipped for the admin."""
    reviewing = make_community(api, review=True)
    keen, other = reviewing.grid_worker(0), reviewing.grid_worker(0)
    accept(keen, "wish_to_review")
    wish = publish(reviewing.resident(0), title="帮忙看看漏水")
    assert wish["status"] == "pending_review"
    sweep(container)  # ONE run: it expands the fan-out, then delivers what is due — the messages it expanded too
    [message] = received(wechat, keen)
    assert (message["template_id"], title(container, message, "wish_to_review")) == (tmpl("wish_to_review"),
                                                                                      "帮忙看看漏水")
    assert message["page"] == f"pages/wish/detail?id={wish['id']}"
    assert remaining(subscriptions(keen), "wish_to_review") == 0
    assert received(wechat, other) == []
    [skipped] = [m for m in problems(reviewing.admin, "skipped") if m["recipient"]["id"] == other.id]
    assert (skipped["kind"], skipped["reason"]) == ("wish_to_review", "no_quota")


def test_accept_twice_two_sends_the_third_skipped_without_calling_wechat(container, wechat, community, people):
    author, volunteer = people
    accept(author, "wish_claimed")
    accept(author, "wish_claimed")
    assert remaining(subscriptions(author), "wish_claimed") == 2
    wishes = [publish(author, title=f"心愿{i}") for i in range(3)]
    for wish in wishes:
        claim(volunteer, wish)
    sweep(container)
    assert len(received(wechat, author)) == 2
    outcomes = sorted(m.status for m in outbox(author, "wish_claimed"))
    assert outcomes == ["sent", "sent", "skipped"]
    [skipped] = [m for m in outbox(author, "wish_claimed") if m.status == "skipped"]
    assert skipped.reason == "no_quota" and not skipped.msgid
    assert remaining(subscriptions(author), "wish_claimed") == 0
    # the admin sees the one that did not arrive
    [shown] = [m for m in problems(community.admin, "skipped") if m["id"] == skipped.id]
    assert (shown["recipient"]["id"], shown["kind"], shown["reason"]) == (author.id, "wish_claimed", "no_quota")


def test_a_message_with_no_quota_never_reaches_wechat(container, wechat, community):
    resident = community.resident(0)
    award(community, resident)
    [message] = outbox(resident, "points_awarded")
    calls = sends(wechat)
    # this one message alone (a sweep would also send other tests' messages and move the counter)
    assert push.deliver(container, message.id) == "skipped"
    assert sends(wechat) == calls, "a message with no quota called WeChat"
    assert received(wechat, resident) == []
    stored = OutboxModel.get(message.id)
    assert (stored.status, stored.reason) == ("skipped", "no_quota")
    assert push.deliver(container, message.id) == "done"  # final: a repeat does nothing
    sweep(container)
    assert received(wechat, resident) == []


def test_a_permanent_error_gives_the_accept_back(container, wechat, community):
    resident = community.resident(0)
    accept(resident, "points_awarded")
    award(community, resident)
    wechat.set_fault("error", [SEND], 40003)
    sweep(container)
    wechat.set_fault("none")
    [message] = outbox(resident, "points_awarded")
    assert (message.status, message.errcode) == ("failed", 40003)
    assert remaining(subscriptions(resident), "points_awarded") == 1  # WeChat did not count it: neither do we


def test_a_transient_error_keeps_the_accept_and_a_later_sweep_delivers(container, wechat, community):
    resident = community.resident(0)
    accept(resident, "points_awarded")
    award(community, resident)
    wechat.set_fault("error", [SEND], -1)
    sweep(container)
    wechat.set_fault("none")
    [message] = outbox(resident, "points_awarded")
    assert message.status == "pending" and message.attempts == 1 and message.next_attempt_at > utcnow()
    assert remaining(subscriptions(resident), "points_awarded") == 1
    sweep(container)  # not due yet
    assert received(wechat, resident) == []
    push.sweep(container, now=utcnow() + timedelta(hours=1))
    assert len(received(wechat, resident)) == 1
    assert OutboxModel.get(message.id).status == "sent"
    assert remaining(subscriptions(resident), "points_awarded") == 0


# --- GET /v1/admin/messages ---------------------------------------------------------------------------------

def test_admin_sees_skipped_messages_with_recipient_reason_and_attempts(container, community):
    resident = community.resident(0)
    name = nickname(resident, f"楼下{uuid.uuid4().hex[:4]}")
    award(community, resident, reason="帮邻居搬家")
    sweep(container)
    [message] = outbox(resident, "points_awarded")
    [shown] = [m for m in problems(community.admin, "skipped") if m["id"] == message.id]
    assert MESSAGE_KEYS <= set(shown), shown
    assert shown["recipient"] == {"id": resident.id, "nickname": name}
    assert (shown["kind"], shown["status"], shown["reason"]) == ("points_awarded", "skipped", "no_quota")
    assert isinstance(shown["attempts"], int) and shown["errcode"] is None
    for key in ("created_at", "updated_at"):
        assert datetime.fromisoformat(shown[key]).tzinfo is not None, shown[key]
    assert all(m["status"] == "skipped" for m in problems(community.admin, "skipped"))


def test_admin_sees_failed_messages_with_wechats_errcode(container, wechat, community):
    resident = community.resident(0)
    accept(resident, "points_awarded")
    award(community, resident)
    wechat.set_fault("error", [SEND], 47003)
    sweep(container)
    wechat.set_fault("none")
    [message] = outbox(resident, "points_awarded")
    [shown] = [m for m in problems(community.admin, "failed") if m["id"] == message.id]
    assert (shown["status"], shown["errcode"], shown["attempts"]) == ("failed", 47003, 1)
    assert shown["reason"] and shown["recipient"]["id"] == resident.id
    assert message.id not in {m["id"] for m in problems(community.admin, "skipped")}


def test_admin_sees_a_message_given_up_after_max_attempts(container, wechat, community):
    resident = community.resident(0)
    accept(resident, "points_awarded")
    award(community, resident)
    wechat.set_fault("error", [SEND], -1)
    later = utcnow()
    for _ in range(rules.MAX_ATTEMPTS + 2):  # each run far past any backoff
        push.sweep(container, now=later)
        later += timedelta(days=1)
    wechat.set_fault("none")
    [message] = outbox(resident, "points_awarded")
    assert (message.status, message.reason, message.attempts) == ("failed", "gave_up", rules.MAX_ATTEMPTS)
    [shown] = [m for m in problems(community.admin, "failed") if m["id"] == message.id]
    assert (shown["reason"], shown["attempts"]) == ("gave_up", rules.MAX_ATTEMPTS)
    assert remaining(subscriptions(resident), "points_awarded") == 1  # never sent: the accept is still there


def test_a_user_gone_before_delivery_is_skipped(container, wechat, community):
    resident = community.resident(0)
    accept(resident, "points_awarded")
    award(community, resident)
    assert resident.delete("/v1/me").status == 204
    sweep(container)
    assert received(wechat, resident) == []
    [message] = outbox(resident, "points_awarded")
    assert (message.status, message.reason) == ("skipped", "user_gone")
    [shown] = [m for m in problems(community.admin, "skipped") if m["id"] == message.id]
    assert shown["recipient"]["id"] == resident.id and shown["reason"] == "user_gone"


def test_admin_messages_page_with_a_cursor(container, community):
    residents = [community.resident(0) for _ in range(3)]
    for resident in residents:
        award(community, resident)
    award(community, residents[0], reason="再次表彰")
    sweep(container)
    ours = {m.id for r in residents for m in outbox(r, "points_awarded")}
    assert len(ours) == 4
    first = community.admin.get("/v1/admin/messages?status=skipped&limit=2")
    assert first.status == 200 and len(first.json["items"]) <= 2 and first.json["next_cursor"], first.body
    paged = problems(community.admin, "skipped", limit=2)
    ids = [m["id"] for m in paged]
    assert len(ids) == len(set(ids)), "a message shown on two pages"
    assert ours <= set(ids)
    assert set(ids) == {m["id"] for m in problems(community.admin, "skipped", limit=50)}
    newest_first = [m["updated_at"] for m in paged]
    assert newest_first == sorted(newest_first, reverse=True) or newest_first == sorted(newest_first)


@pytest.mark.parametrize("query", ["status=sent", "status=pending", "status=bogus", "status=failed&limit=0",
                                   "status=failed&limit=abc", "status=failed&cursor=not-a-cursor"])
def test_admin_messages_refuses_other_statuses_and_bad_paging(community, query):
    resp = community.admin.get(f"/v1/admin/messages?{query}")
    assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED"), resp.body


def test_a_cursor_of_one_status_does_not_page_the_other(container, wechat, community):
    residents = [community.resident(0) for _ in range(3)]
    for resident in residents:
        award(community, resident)
    sweep(container)
    cursor = community.admin.get("/v1/admin/messages?status=skipped&limit=1").json["next_cursor"]
    assert cursor
    resp = community.admin.get(f"/v1/admin/messages?status=failed&cursor={cursor}")
    assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED"), resp.body


# --- authorization -------------------------------------------------------------------------------------------

def test_only_admins_read_the_messages(community):
    for member in (community.resident(0), community.volunteer(0)):
        for status in ("failed", "skipped"):
            resp = member.get(f"/v1/admin/messages?status={status}")
            assert (resp.status, resp.error_code) == (403, "FORBIDDEN"), resp.body


def test_admin_messages_needs_a_login(api):
    assert api.get("/v1/admin/messages?status=failed").status == 401


def test_another_communitys_admin_sees_none_of_ours(api, container, community):
    resident = community.resident(0)
    award(community, resident)
    sweep(container)
    [message] = outbox(resident, "points_awarded")
    assert message.id in {m["id"] for m in problems(community.admin, "skipped")}
    other = make_community(api)
    theirs = problems(other.admin, "skipped") + problems(other.admin, "failed")
    assert message.id not in {m["id"] for m in theirs}
    assert all(m["recipient"]["id"] != resident.id for m in theirs)
    # and ours holds none of theirs
    stranger = other.resident(0)
    award(other, stranger)
    sweep(container)
    assert all(m["recipient"]["id"] != stranger.id for m in problems(community.admin, "skipped"))
