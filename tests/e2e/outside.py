"""What the outside walks (tests/e2e/test_outside_*.py) and the push tests (tests/e2e/test_push_e2e.py) share: reading
the API's answers as an outside client does, and the WeChat side of subscribe messages (the stand-in's ``__dev`` routes:
what wx.requestSubscribeMessage accepted, what was sent). The stack itself and its clients are tests/stack.py's."""
from __future__ import annotations

import csv
import io
import time

import pytest
import requests

from infra.wechat_standin import fake_openid
from tests.stack import Client
from tongxin.config import DEV_TEMPLATE_KEYWORDS

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
