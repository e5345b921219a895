"""订阅消息 on the real local stack (issue 11): the ``make dev`` entry point in a subprocess, driven over HTTP as the
mini-program drives it, with the demo users of infra/local/seed.py. A change that causes a message → the stack's sender
(the outbox stream, or the scheduler's sweep) → WeChat's ``message/subscribe/send`` on the stand-in, seen in its
``GET /__dev/messages`` within seconds. Polled, never slept for a fixed time; the whole module stays well under 40 s.

The demo community does not review wishes, but WeChat's content check (the stand-in answers ``review`` for a text
with 待审) sends a wish to review all the same: that is how the grid worker's wish_to_review is reached.

The stack's stand-in is as strict as WeChat about templates (issue 20): the dev templates' own keywords (never the
bare thing1/phrase2/time3/thing4), 47003 for anything else; ``accept`` tells it what the user accepted, as
wx.requestSubscribeMessage tells WeChat, before the mini-program reports it to the API.
"""
from __future__ import annotations

import time
import uuid

import pytest

from infra.local.wechat_standin import DEV_TEMPLATES
from tests.e2e.outside import PUSH_SECONDS, accept, keyword, messages, template_of, wait_for
from tests.stack import Client, stack_fixture
from tongxin.config import DEV_TEMPLATE_KEYWORDS

pytestmark = pytest.mark.e2e

stack = stack_fixture("push-stack")


def login(stack, name: str) -> Client:
    return Client(stack.api_url).login(name)


def remaining(view: dict, template_id: str) -> int:
    return sum(item["remaining"] for item in view["items"] if item["template_id"] == template_id)


def publish(author: Client, title: str, content: str = "厨房水龙头漏水，需要有人帮忙看看") -> dict:
    resp = author.call("POST", "/v1/wishes", {"title": title, "content": content, "category": "维修"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_a_claimed_wish_reaches_its_author_on_wechat(stack):
    author, volunteer = login(stack, "res3"), login(stack, "vol3")
    claimed = template_of(author, "wish_claimed")
    assert claimed in author.call("GET", "/v1/me/subscriptions").json()["ask"]
    assert remaining(accept(stack, "res3", author, claimed), claimed) == 1
    title = f"帮忙修门锁{uuid.uuid4().hex[:4]}"
    wish = publish(author, title)
    started = time.monotonic()
    assert volunteer.call("POST", f"/v1/wishes/{wish['id']}/claim").status_code == 200

    def arrived():
        return [m for m in messages(stack, "res3") if m["template_id"] == claimed
                and m["data"][keyword("wish_claimed", "title")]["value"] == title]

    [message] = wait_for("the author's wish_claimed message in /__dev/messages", arrived, stack)
    took = time.monotonic() - started
    assert message["page"] == f"pages/wish/detail?id={wish['id']}"
    assert set(message["data"]) == set(DEV_TEMPLATES[claimed]) == set(DEV_TEMPLATE_KEYWORDS["wish_claimed"])
    assert message["data"][next(k for k in message["data"] if k.startswith("phrase"))]["value"] == "已认领"
    assert all(isinstance(v["value"], str) and v["value"] for v in message["data"].values())
    assert took < PUSH_SECONDS
    # the accept is spent: the mini-program is told to ask again
    view = wait_for("the spent quota", lambda: (lambda v: v if remaining(v, claimed) == 0 else None)(
        author.call("GET", "/v1/me/subscriptions").json()), stack)
    assert claimed in view["ask"]
    # nothing is sent twice (the stream and the sweep both look at new messages)
    assert len(arrived()) == 1


def test_a_wish_to_review_reaches_the_grid_worker_who_accepted(stack):
    worker, author = login(stack, "grid1"), login(stack, "res1")
    to_review = template_of(worker, "wish_to_review")
    assert to_review in worker.call("GET", "/v1/me/subscriptions").json()["ask"]
    assert to_review not in author.call("GET", "/v1/me/subscriptions").json()["ask"]  # a resident is not asked
    accept(stack, "grid1", worker, to_review)
    title = f"待审心愿{uuid.uuid4().hex[:4]}"
    wish = publish(author, title, "这条内容待审：请网格员看看")
    assert wish["status"] == "pending_review", wish

    def arrived():
        return [m for m in messages(stack, "grid1") if m["template_id"] == to_review
                and m["data"][keyword("wish_to_review", "title")]["value"] == title]

    [message] = wait_for("grid1's wish_to_review message (a fan-out expanded by the sender)", arrived, stack)
    assert message["page"] == f"pages/wish/detail?id={wish['id']}"


def test_a_message_with_no_accept_is_skipped_and_shown_to_the_admin(stack):
    author, volunteer, admin = login(stack, "res4"), login(stack, "vol4"), login(stack, "admin")
    wish = publish(author, f"帮忙取快递{uuid.uuid4().hex[:4]}")
    assert volunteer.call("POST", f"/v1/wishes/{wish['id']}/claim").status_code == 200

    def shown():
        resp = admin.call("GET", "/v1/admin/messages?status=skipped&limit=50")
        assert resp.status_code == 200, resp.text
        return [m for m in resp.json()["items"] if m["recipient"]["id"] == "u_demo_res4"
                and m["kind"] == "wish_claimed"]

    [problem] = wait_for("res4's skipped wish_claimed in GET /v1/admin/messages", shown, stack)
    assert (problem["reason"], problem["recipient"]["nickname"]) == ("no_quota", "居民4号")
    assert messages(stack, "res4") == []  # never sent to WeChat
    assert login(stack, "res4").call("GET", "/v1/admin/messages?status=skipped").status_code == 403
