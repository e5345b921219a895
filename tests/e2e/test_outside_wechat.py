"""``make dev`` against an outside WeChat-compatible server (issue 20, item 4): with ``WECHAT_BASE_URL`` (and
``WECHAT_TEMPLATES``) in the environment, the local stack starts no stand-in of its own and every WeChat call —
login, content checks, subscribe messages — goes to that server, with the templates configured there.

The outside server here is a WeChat stand-in in this test's process, on its own port, with other template ids and
keywords than the dev ones and WeChat's strict accounting of accepts: only what it was told the user accepted is
sent. The stack runs in a subprocess, driven over HTTP.
"""
from __future__ import annotations

import json
import socket
import uuid

import pytest

from infra.local.wechat_standin import WeChatStandIn, fake_openid
from tests.e2e.outside import accept, wait_for
from tests.stack import Client, checked_stack

pytestmark = pytest.mark.e2e

# Two templates as a deployment would copy them from the console's 我的模板: ids and keywords of WeChat's library.
CLAIMED_ID = "kheEs_KCgIc9veQvxl_YcjLcwUk2Zd9J4qYs0GJcyqw"
CLAIMED = {"id": CLAIMED_ID, "title": "任务进度通知",
           "data": {"thing11": "title", "phrase3": "state", "time8": "sent", "thing6": "note",
                    "character_string2": "code"}}
REVIEW = {"id": "VLm12QocXIWtoowNxC6_9KZr9-uSOeU_OhbsyFZjmgs", "title": "审核结果通知",
          "data": {"thing1": "title", "phrase2": "state", "time3": "sent", "thing4": "note"}}


@pytest.fixture(scope="module")
def outside():
    server = WeChatStandIn(templates={CLAIMED["id"]: tuple(CLAIMED["data"]), REVIEW["id"]: tuple(REVIEW["data"])},
                           strict_accepts=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, outside):
    env = {"WECHAT_BASE_URL": outside.base_url,
           "WECHAT_TEMPLATES": json.dumps({"wish_claimed": CLAIMED, "wish_reviewed": REVIEW}, ensure_ascii=False)}
    with checked_stack(tmp_path_factory.mktemp("outside-wechat") / "stack.log", env=env) as running:
        yield running


def listening(url: str) -> bool:
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, int(port))) == 0


def test_no_stand_in_is_started_and_the_stack_names_the_outside_server(stack, outside):
    assert not listening(stack.wechat_url), "the stack started its own stand-in on --wechat-port"
    endpoints = json.loads((stack.log.parent / "data" / "endpoints.json").read_text(encoding="utf-8"))
    assert endpoints["wechat"] == outside.base_url
    assert f"WeChat (outside) {outside.base_url}" in stack.output()


def test_login_goes_to_the_outside_server(stack, outside):
    before = outside.counters.get("sns/jscode2session", 0)
    Client(stack.api_url).login("res2")
    assert outside.counters.get("sns/jscode2session", 0) == before + 1


def test_a_message_reaches_the_outside_server_with_its_configured_keywords(stack, outside):
    author, volunteer = Client(stack.api_url).login("res3"), Client(stack.api_url).login("vol3")
    view = author.call("GET", "/v1/me/subscriptions").json()
    assert [i["template_id"] for i in view["items"] if i["kind"] == "wish_claimed"] == [CLAIMED_ID]
    assert not [i for i in view["items"] if i["kind"] == "event_promoted"]  # not configured: never asked for
    # what wx.requestSubscribeMessage accepted: WeChat learns it, and the mini-program tells the backend
    accept(stack, "res3", author, CLAIMED_ID, wechat_url=outside.base_url)
    title = f"帮忙修门锁{uuid.uuid4().hex[:4]}"
    wish = author.call("POST", "/v1/wishes", {"title": title, "content": "门锁坏了，需要有人帮忙看看",
                                              "category": "维修"}).json()
    assert volunteer.call("POST", f"/v1/wishes/{wish['id']}/claim").status_code == 200

    [message] = wait_for("res3's message on the outside server",
                         lambda: [m for m in outside.messages if m["touser"] == fake_openid("res3")], stack)
    assert message["template_id"] == CLAIMED_ID
    assert message["page"] == f"pages/wish/detail?id={wish['id']}"
    assert set(message["data"]) == set(CLAIMED["data"])
    assert message["data"]["thing11"]["value"] == title and message["data"]["phrase3"]["value"] == "已认领"
    assert message["data"]["character_string2"]["value"] == wish["id"]
    assert outside.accepts(fake_openid("res3")) == {CLAIMED_ID: 0}  # the one accept is spent
