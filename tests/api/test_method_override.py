"""The mini-program's ``wx.request`` sends OPTIONS, GET, HEAD, POST, PUT, DELETE, TRACE and CONNECT only (issue 20,
part 6): no route may need another method, except PATCH through its POST form (``X-HTTP-Method-Override: PATCH``),
which answers as the PATCH does — body, rules, answer, Idempotency-Key — and is documented as its own operation. A
POST on such a path without the header is a method the path lacks: 405 METHOD_NOT_ALLOWED in the envelope.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chalicelib.http import ROUTES, WX_REQUEST_METHODS
from tongxin.domain.clock import to_api, utcnow

OVERRIDE = {"X-HTTP-Method-Override": "PATCH"}
# wx.request's ``method`` values (https://developers.weixin.qq.com/miniprogram/dev/api/network/request/wx.request.html)
WX_REQUEST = {"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"}


def _concrete(template: str) -> str:
    return template.replace("{", "x").replace("}", "")  # an id that names nothing: 404, never 405


def test_the_constant_is_wx_requests_list():
    assert WX_REQUEST_METHODS == WX_REQUEST


def test_no_route_needs_a_method_wx_request_lacks_but_patch_through_its_post_form(api, app_module):
    document = api.get("/v1/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method.upper() in WX_REQUEST:
                continue
            assert method == "patch", f"{method.upper()} {path}: wx.request cannot send it"
            post = operations.get("post")
            assert post is not None, f"PATCH {path} has no POST form"
            header = [p for p in post.get("parameters", []) if p["name"] == "X-HTTP-Method-Override"]
            assert header and header[0]["in"] == "header" and header[0]["required"] is True, (path, header)
            assert header[0]["schema"]["enum"] == ["PATCH"]
            assert post["requestBody"] == operation["requestBody"], path
            assert set(post["responses"]) == set(operation["responses"]), path  # the same answers
            assert post["operationId"] != operation["operationId"]
    # The served routes (Chalice's table, which the SAM template declares one by one) say the same.
    served = {(method, path) for path, methods in app_module.app.routes.items() for method in methods}
    assert {method for method, _ in served} - WX_REQUEST == {"PATCH"}
    assert all(("POST", path) in served for method, path in served if method == "PATCH")


def _member_for(api, community, method: str, template: str):
    """An admin of the community does most things; ``DELETE /v1/me`` closes the account, so a fresh one."""
    if (method, template) == ("DELETE", "/v1/me"):
        return community.resident(0)
    return community.admin


def test_every_mutating_route_of_the_document_is_reached_the_way_wx_request_sends_it(api, community):
    """Each mutating operation, sent with a method wx.request has (PATCH as POST + the header): routed to the app
    (any answer but 405), in the envelope when refused. Ids name nothing, bodies are empty: refusals are expected,
    a missing method is not."""
    document = api.get("/v1/openapi.json").json
    sent = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            override = any(p["name"] == "X-HTTP-Method-Override" for p in operation.get("parameters", []))
            wx_method, headers = ("POST", OVERRIDE) if method == "patch" or override else (method.upper(), None)
            assert wx_method in WX_REQUEST
            member = _member_for(api, community, method.upper(), path)
            resp = api.request(wx_method, _concrete(path), token=member.token, json_body={}, headers=headers)
            assert resp.status != 405, (method, path, resp.body)
            sent += 1
    assert sent == sum(1 for route in ROUTES if route.mutating)


def _event(admin) -> str:
    start = utcnow() + timedelta(days=2)
    resp = admin.post("/v1/events", {"title": "改期测试", "kind": "activity", "capacity": 5, "starts_at": to_api(start),
                                     "ends_at": to_api(start + timedelta(hours=1))})
    assert resp.status == 201, resp.body
    return resp.json["id"]


def _goods(admin) -> str:
    store = admin.post("/v1/stores", {"name": "改名超市"}).json["id"]
    resp = admin.post(f"/v1/stores/{store}/goods", {"name": "毛巾", "price_points": 5, "stock": 3})
    assert resp.status == 201, resp.body
    return resp.json["id"]


# Every PATCH route: (who, path, an accepted change, another one, a bad body, an id that names nothing, someone not
# allowed).
PATCH_CASES = {
    "/v1/me": lambda c: (c.resident(0), "/v1/me", {"nickname": "同一个名字"}, {"nickname": "别的名字"},
                         {"nickname": ""}, None, None),
    "/v1/events/{event_id}": lambda c: (c.admin, f"/v1/events/{_event(c.admin)}", {"title": "新的标题", "capacity": 8},
                                        {"capacity": 9}, {"capacity": 0}, "/v1/events/ev_nothing", c.resident(0)),
    "/v1/goods/{goods_id}": lambda c: (c.admin, f"/v1/goods/{_goods(c.admin)}", {"name": "新毛巾", "per_user_limit": 2},
                                       {"on_shelf": False}, {"restock": 0}, "/v1/goods/goods_nothing", c.resident(0)),
    "/v1/admin/community": lambda c: (c.admin, "/v1/admin/community", {"wish_points": 25}, {"wish_points": 30},
                                      {"wish_points": -1}, None, c.resident(0)),
}


def test_every_patch_route_has_a_case():
    assert set(PATCH_CASES) == {route.path for route in ROUTES if route.method == "PATCH"}


@pytest.mark.parametrize("template", sorted(PATCH_CASES))
def test_the_post_form_answers_as_the_patch_does(community, template):
    owner, path, change, _, bad, missing, stranger = PATCH_CASES[template](community)
    as_patch = owner.patch(path, change)
    assert as_patch.status == 200, as_patch.body
    as_post = owner.post(path, change, headers=OVERRIDE)  # the same change again: the same answer
    assert (as_post.status, as_post.json) == (as_patch.status, as_patch.json)
    for body, target, who in ((bad, path, owner), (change, missing, owner), (change, path, stranger)):
        if target is None or who is None:
            continue
        refused_patch = who.patch(target, body)
        refused_post = who.post(target, body, headers=OVERRIDE)
        assert refused_patch.status >= 400, refused_patch.body
        assert (refused_post.status, refused_post.json) == (refused_patch.status, refused_patch.json)
    # The header's value is a method name: any case, blanks around it.
    assert owner.post(path, change, headers={"x-http-method-override": " patch "}).status == 200


@pytest.mark.parametrize("template", sorted(PATCH_CASES))
def test_one_idempotency_key_for_both_forms(community, template):
    owner, path, change, other, *_ = PATCH_CASES[template](community)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = owner.post(path, change, headers={**OVERRIDE, **key})
    assert first.status == 200, first.body
    for again in (owner.post(path, change, headers={**OVERRIDE, **key}), owner.patch(path, change, headers=key)):
        assert again.status == 200 and again.json == first.json
        assert again.headers.get("Idempotent-Replayed") == "true"
    for form in (OVERRIDE, {}):  # the key named the first request, whichever form carries another body
        reused = owner.post(path, other, headers={**form, **key}) if form else owner.patch(path, other, headers=key)
        assert reused.status == 409 and reused.error_code == "IDEMPOTENCY_KEY_REUSED", reused.body


def test_a_post_without_the_override_is_a_method_the_path_lacks(api, community, wechat):
    admin = community.admin
    event_id, goods_id = _event(admin), _goods(admin)
    checks = len(wechat.content_checks)
    for path, allowed in (("/v1/me", "GET, PATCH, DELETE"), (f"/v1/events/{event_id}", "GET, PATCH"),
                          (f"/v1/goods/{goods_id}", "PATCH")):
        for headers in (None, {"X-HTTP-Method-Override": "PUT"}, {"X-HTTP-Method-Override": "DELETE"},
                        {"X-HTTP-Method-Override": ""}):
            for token in (admin.token, None):  # a method the path lacks is refused before the token is looked at
                resp = api.request("POST", path, token=token, json_body={"nickname": "x", "title": "x"},
                                   headers=headers)
                assert resp.status == 405 and resp.error_code == "METHOD_NOT_ALLOWED", (path, headers, resp.body)
                assert resp.json["error"]["details"]["allowed"] == allowed.split(", ")
                assert {k.lower(): v for k, v in resp.headers.items()}["allow"] == allowed
                assert api.last_meter.writes == 0 and api.last_meter.wechat == {}
    # The override asks for a method: on a path without PATCH it is one the path lacks too; other methods ignore it.
    resp = admin.post("/v1/wishes", {"title": "x", "content": "x", "category": "其他"}, headers=OVERRIDE)
    assert resp.status == 405 and resp.error_code == "METHOD_NOT_ALLOWED"
    assert admin.get("/v1/me", headers=OVERRIDE).status == 200
    assert len(wechat.content_checks) == checks
    # Under an Idempotency-Key the 405 is not kept: the same key with the header then runs.
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert admin.post("/v1/me", {"nickname": "管理员"}, headers=key).status == 405
    assert admin.post("/v1/me", {"nickname": "管理员"}, headers={**OVERRIDE, **key}).status == 200


def test_the_local_stack_and_the_template_route_the_post_form(app_module):
    """Chalice dispatches on the resource path and method: the POST form is a real route (so the SAM template,
    generated from the route registry, declares it as an operation of its own, tests/infra/test_template.py)."""
    for route in ROUTES:
        if route.override_of:
            assert "POST" in app_module.app.routes[route.path], route.path
            assert route.effective_method == "PATCH" and route.mutating
