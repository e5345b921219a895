"""The staff console's static files as the browser gets them: every page module the shell imports is served (an
import naming a file not served would leave the console blank), each with an ETag that answers 304 to the same
version and 200 to any other, and the deep link of every menu page."""
from __future__ import annotations

import re

import pytest

MODULE_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([\w.-]+)";$', re.M)
MENU_PAGE = re.compile(r'\{ name: "(\w+)", label: "([^"]+)"')


def served(api, name):
    resp = api.get(f"/console/assets/{name}")
    assert resp.status == 200, (name, resp.status)
    return resp


def test_every_module_the_console_imports_is_served(api):
    seen, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        resp = served(api, name)
        assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
        todo.extend(MODULE_IMPORT.findall(resp.body.decode()))
    # the shell, what the pages share, and one module per page
    assert {"app.js", "lib.js", "work.js", "members.js", "wishes.js", "requests.js", "events.js", "points.js",
            "store.js", "stats.js", "bulletin.js", "party.js", "coprojects.js", "rounds.js", "stars.js",
            "units.js", "settings.js"} <= seen


def test_every_menu_page_has_its_deep_link(api):
    shell = served(api, "app.js").body.decode()
    pages = dict(MENU_PAGE.findall(shell))
    assert list(pages.values()) == ["工作台", "居民", "心愿", "诉求", "活动", "积分", "积分超市", "统计", "通报", "双报到", "微实事", "共建单位",
                                    "设置"]
    for name in pages:
        resp = api.get(f"/console/{name}")
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/html; charset=utf-8", name
    assert api.get("/console/lib").status == 404  # a module is not a page


@pytest.mark.parametrize("name", ["app.js", "app.css", "lib.js"])
def test_the_same_version_answers_304_any_other_200(api, name):
    first = served(api, name)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    again = api.get(f"/console/assets/{name}", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body in (b"", None) and again.headers["ETag"] == etag
    assert api.get(f"/console/assets/{name}", headers={"If-None-Match": f'W/{etag}'}).status == 304
    assert api.get(f"/console/assets/{name}", headers={"If-None-Match": '"0000"'}).status == 200
    other = served(api, "app.js" if name != "app.js" else "lib.js")
    assert other.headers["ETag"] != etag


@pytest.mark.parametrize("name", ["..app.js", "app.py", "index.html", ".js", "APP.JS"])
def test_nothing_else_is_served(api, name):
    assert api.get(f"/console/assets/{name}").status == 404
