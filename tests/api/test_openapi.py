"""The served OpenAPI document is valid, covers every route, states every answer (a success schema for each
operation, every error code with its status), the API's real answers conform to it, and the API never
answers 500 to bodies built from it with every field broken (a small fuzz from the document itself; the
outside fuzzer is tests/e2e/test_outside_fuzzer.py)."""
import itertools
from datetime import datetime, timedelta, timezone

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tongxin.adapters.dynamo.models import OutboxModel
from tongxin.domain.clock import travel
from tongxin.usecases import events, push
from tongxin.wiring import get_container
from tests.support import make_community


def test_openapi_document_is_valid_and_complete(api, app_module):
    resp = api.get("/v1/openapi.json")
    assert resp.status == 200
    document = resp.json
    validate(document)
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = {(path, method) for path, methods in app_module.app.routes.items() for method in methods}
    assert documented == served


def test_every_body_is_documented_with_its_constraints(api):
    schemas = api.get("/v1/openapi.json").json["components"]["schemas"]
    wish = schemas["WishBody"]
    assert wish["properties"]["title"]["maxLength"] == 30
    assert wish["properties"]["content"]["maxLength"] == 500
    assert set(wish["properties"]["category"]["enum"]) == {"生活帮扶", "助老", "助残", "助学", "医疗健康", "维修", "物资", "其他"}
    assert schemas["ConfirmBody"]["properties"]["rating"] == {"maximum": 5, "minimum": 1, "title": "Rating",
                                                              "type": "integer"}


def test_every_operation_documents_its_success_body(api, app_module):
    from chalicelib.http import ROUTES
    document = api.get("/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    for route in ROUTES:
        responses = document["paths"][route.path][route.method.lower()]["responses"]
        ok = responses[str(route.status)]
        label = f"{route.method} {route.path}"
        if route.status == 204:
            assert "content" not in ok, label
            continue
        assert set(ok["content"]) == set(route.produces), label
        for media_type, content in ok["content"].items():
            if media_type.startswith("image/") or media_type == "application/pdf":  # PNG, the certificates' PDF
                assert content["schema"] == {"type": "string", "format": "binary"}, label
            elif media_type.startswith("text/"):  # CSV, the link pages (HTML), the verification file
                assert content["schema"] == {"type": "string"}, label
            else:
                name = content["schema"]["$ref"].rsplit("/", 1)[1]
                assert name in schemas and schemas[name].get("type") == "object", label
                if name != "OpenApiView":  # exact shapes: every key listed and required, no other
                    assert schemas[name]["additionalProperties"] is False, label
                    assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), label
    nullable = schemas["WishView"]["properties"]
    assert {"type": "null"} in nullable["claimer"]["anyOf"] and {"type": "null"} in nullable["deadline"]["anyOf"]
    assert nullable["author"] == {"$ref": "#/components/schemas/PersonRef"}  # never null


def test_error_codes_come_from_the_domain_errors(app_module):
    from chalicelib.http import ROUTES
    from chalicelib.openapi import STATUS_OF, _error_classes, error_codes
    from tongxin.domain.errors import DomainError
    declared = {cls.code: cls.status for cls in _error_classes(DomainError)}
    assert {code: status for code, status in STATUS_OF.items() if code != "UNSUPPORTED_MEDIA_TYPE"} == declared
    for route in ROUTES:
        unknown = set(route.errors) - set(declared)
        assert not unknown, f"{route.method} {route.path} lists codes no DomainError has: {unknown}"
        assert "INTERNAL" not in error_codes(route)  # a 500 is a defect, never a documented answer


def test_every_error_a_route_can_give_is_documented(api):
    document = api.get("/v1/openapi.json").json

    def codes(path, method, status):
        response = document["paths"][path][method]["responses"].get(str(status))
        return response["description"].removeprefix("错误码：").split("、") if response else []

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, code in ((405, "METHOD_NOT_ALLOWED"), (415, "UNSUPPORTED_MEDIA_TYPE"),
                                 (429, "RATE_LIMITED"), (503, "UPSTREAM_UNAVAILABLE")):
                assert code in codes(path, method, status), (method, path, code)
            for status, content in operation["responses"].items():
                # a body for each answer but 204 and 304 (the console's files: the browser's copy is current)
                assert content.get("content") or content["description"] == "成功" or status == "304"
            if "security" in operation:
                assert "UNAUTHENTICATED" in codes(path, method, 401) and "FORBIDDEN" in codes(path, method, 403)
                if method in ("post", "put", "patch", "delete"):
                    assert {"IDEMPOTENCY_KEY_REUSED", "REQUEST_IN_PROGRESS"} <= set(codes(path, method, 409))
                    assert "VALIDATION_FAILED" in codes(path, method, 400)  # Idempotency-Key too long
            if "{" in path:
                assert "NOT_FOUND" in codes(path, method, 404), (method, path)
    community_routes = [("/v1/wishes", "get"), ("/v1/wishes", "post"), ("/v1/admin/grids", "get"),
                        ("/v1/grid/tasks", "get"), ("/v1/me/volunteer", "post"), ("/v1/requests", "post"),
                        ("/v1/admin/requests", "get")]
    for path, method in community_routes:
        assert "NOT_IN_COMMUNITY" in codes(path, method, 409), (method, path)
    for path, method in (("/v1/me", "get"), ("/v1/me/community", "post"), ("/v1/auth/login", "post")):
        assert "NOT_IN_COMMUNITY" not in codes(path, method, 409), (method, path)
    # The levels above communities: street, district and department staff belong to none, so no route of theirs
    # lists it (nor answers it: the conformance story below plays them from outside any community).
    above = [(path, method) for path, operations in document["paths"].items() for method in operations
             if path.startswith(("/v1/street/", "/v1/district/", "/v1/department/"))]
    assert ("/v1/street/units", "post") in above and ("/v1/street/units/{unit_id}/liaisons/{user_id}", "delete") \
        in above and ("/v1/district/stats", "get") in above and ("/v1/department/tasks", "get") in above
    for path, method in above:
        assert "NOT_IN_COMMUNITY" not in codes(path, method, 409), (method, path)
    assert "RATE_LIMITED" in codes("/v1/wishes", "post", 429)
    assert "CONTENT_REJECTED" in codes("/v1/requests", "post", 400)
    for step in ("accept", "escalate", "resolve", "rate"):  # 接诉即办's refusals: not seen, not the handler, state
        path = f"/v1/requests/{{request_id}}/{step}"
        assert "NOT_FOUND" in codes(path, "post", 404) and "FORBIDDEN" in codes(path, "post", 403), step
        assert "INVALID_STATE" in codes(path, "post", 409), step
    assert "FORBIDDEN" in codes("/v1/street/tasks", "get", 403)
    assert "FORBIDDEN" in codes("/v1/me/volunteer", "post", 403)
    assert document["paths"]["/v1/me"]["patch"]["requestBody"]["required"] is False  # every field optional
    assert document["paths"]["/v1/wishes"]["post"]["requestBody"]["required"] is True


class _Conformance:
    """Checks real answers against the served document: a listed status, and a body that matches the
    operation's schema for it."""

    def __init__(self, document):
        self.document, self.seen = document, set()

    def __call__(self, resp, method: str, template: str, expect: int | None = None):
        if expect is not None:
            assert resp.status == expect, f"{method} {template}: {resp.status} {resp.body[:300]!r}"
        operation = self.document["paths"][template][method.lower()]
        documented = operation["responses"].get(str(resp.status))
        assert documented is not None, f"{method} {template} answered undocumented {resp.status}: {resp.body[:300]!r}"
        content_type = (resp.headers.get("Content-Type") or resp.headers.get("content-type") or "").split(";")[0]
        if resp.status in (204, 304):
            assert not resp.body
        elif content_type.startswith(("image/", "text/")) or content_type == "application/pdf":
            assert content_type in documented["content"], (method, template, content_type)
        else:
            schema = {**documented["content"]["application/json"]["schema"], "components": self.document["components"]}
            errors = sorted(Draft202012Validator(schema).iter_errors(resp.json), key=str)
            assert not errors, f"{method} {template} {resp.status}: {errors[0].message} at {list(errors[0].path)}"
        self.seen.add((method.upper(), template, resp.status))
        return resp


def test_real_answers_conform_to_the_document(api, wechat):
    """One story through every operation; each answer checked against the document (exact shapes,
    nullability) — so a key added to a present* function without its line in responses.py fails here."""
    check = _Conformance(api.get("/v1/openapi.json").json)
    community = make_community(api, review=True)
    admin = community.admin
    check(api.get("/v1/health"), "GET", "/v1/health")
    # 管理后台 扫码登录: a ticket, its code, the approval, the poll that opens the session (then spent), a cookie write
    # without its CSRF token, logout, and the test stage's dev-login.
    ticket = check(api.post("/v1/console/sessions"), "POST", "/v1/console/sessions", 201).json["ticket"]
    cs, scene_id = "/v1/console/sessions/{ticket}", ticket.split(".", 1)[0]
    check(api.get(f"/v1/console/sessions/{ticket}/qrcode?format=json"), "GET", cs + "/qrcode", 200)
    check(api.get(f"/v1/console/sessions/{ticket}/qrcode"), "GET", cs + "/qrcode", 200)
    check(api.get(f"/v1/console/sessions/{ticket}"), "GET", cs, 200)  # waiting
    check(admin.post(f"/v1/console/sessions/{scene_id}/approve"), "POST", cs + "/approve", 200)
    polled = check(api.get(f"/v1/console/sessions/{ticket}"), "GET", cs, 200)  # approved: the session
    check(admin.post(f"/v1/console/sessions/{scene_id}/approve"), "POST", cs + "/approve", 409)
    check(api.get(f"/v1/console/sessions/{ticket}"), "GET", cs, 200)  # expired: used once
    check(api.get(f"/v1/console/sessions/{ticket}/qrcode?format=json"), "GET", cs + "/qrcode", 404)
    cookie = {k.lower(): v for k, v in polled.headers.items()}["set-cookie"].split(";", 1)[0]
    console = {"Cookie": cookie, "X-CSRF-Token": polled.json["session"]["csrf_token"],
               "Origin": "http://console.test", "Host": "console.test"}
    check(api.post("/v1/admin/grids", {"name": "后台网格"}, headers={**console, "X-CSRF-Token": "forged"}), "POST",
          "/v1/admin/grids", 403)
    check(api.delete("/v1/console/sessions/current", headers=console), "DELETE", "/v1/console/sessions/current", 204)
    check(api.delete("/v1/console/sessions/current", headers=console), "DELETE", "/v1/console/sessions/current", 401)
    check(api.post("/v1/console/dev-login", {"name": "conformance-console"}), "POST", "/v1/console/dev-login", 200)
    check(api.get("/v1/openapi.json"), "GET", "/v1/openapi.json")
    check(api.post("/v1/auth/login", {"code": "dev:conformance-newcomer"}), "POST", "/v1/auth/login")
    newcomer = api.login()
    check(newcomer.get("/v1/me"), "GET", "/v1/me")  # community, grid and phone all null
    check(newcomer.get("/v1/wishes"), "GET", "/v1/wishes")
    check(newcomer.post("/v1/me/volunteer", {"real_name": "王志愿"}), "POST", "/v1/me/volunteer")
    author = community.resident()
    check(author.post("/v1/me/phone", {"code": wechat.issue_phone_code("13812345678")}), "POST", "/v1/me/phone")
    check(author.patch("/v1/me", {"nickname": "张阿姨", "avatar_url": "https://example.com/a.png"}), "PATCH", "/v1/me")
    # wx.request has no PATCH: the POST form with the override header; without it 405 (in the envelope).
    check(author.post("/v1/me", {"nickname": "张阿姨"}, headers=OVERRIDE), "POST", "/v1/me", 200)
    check(author.post("/v1/me", {"nickname": "张阿姨"}), "POST", "/v1/me", 405)
    check(author.get("/v1/me"), "GET", "/v1/me")
    joiner = api.login()
    check(joiner.post("/v1/me/community", {"invite": community.invite()}), "POST", "/v1/me/community")
    volunteer = community.volunteer()
    worker = community.grid_worker()
    soon = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=30)).isoformat(timespec="seconds")
    wish = check(author.post("/v1/wishes", {"title": "修水龙头", "content": "厨房水龙头漏水", "category": "维修",
                                            "deadline": soon, "contact_phone": "13812345678",
                                            "address": "幸福小区3栋2单元"}), "POST", "/v1/wishes", 201).json
    bare = check(author.post("/v1/wishes", {"title": "借梯子", "content": "换灯泡", "category": "其他"}),
                 "POST", "/v1/wishes", 201).json
    check(worker.get("/v1/grid/tasks"), "GET", "/v1/grid/tasks")
    one = "/v1/wishes/{wish_id}"
    check(worker.post(f"/v1/wishes/{wish['id']}/approve"), "POST", one + "/approve")
    check(worker.post(f"/v1/wishes/{bare['id']}/reject", {"reason": "请补充地址"}), "POST", one + "/reject")
    check(volunteer.post(f"/v1/wishes/{wish['id']}/claim"), "POST", one + "/claim")
    check(volunteer.post(f"/v1/wishes/{wish['id']}/release"), "POST", one + "/release")
    check(volunteer.post(f"/v1/wishes/{wish['id']}/claim"), "POST", one + "/claim")
    check(volunteer.get(f"/v1/wishes/{wish['id']}"), "GET", one)
    check(volunteer.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "换了垫圈"}), "POST", one + "/fulfil")
    check(author.post(f"/v1/wishes/{wish['id']}/confirm", {"rating": 5, "comment": "谢谢"}), "POST", one + "/confirm")
    other = check(author.post("/v1/wishes", {"title": "陪同就医", "content": "周三上午", "category": "医疗健康"}),
                  "POST", "/v1/wishes", 201).json
    check(worker.post(f"/v1/wishes/{other['id']}/approve"), "POST", one + "/approve")
    check(author.post(f"/v1/wishes/{other['id']}/cancel"), "POST", one + "/cancel")
    check(volunteer.get(f"/v1/wishes/{other['id']}"), "GET", one)  # 404: withdrawn, not theirs
    for member, path in ((author, "/v1/wishes"), (author, "/v1/wishes/mine"), (volunteer, "/v1/wishes/claimed"),
                         (admin, "/v1/wishes?limit=1"), (worker, "/v1/wishes?status=pending_review")):
        check(member.get(path), "GET", path.split("?")[0])
    check(admin.post("/v1/admin/grids", {"name": "第三网格"}), "POST", "/v1/admin/grids")
    check(admin.get("/v1/admin/grids"), "GET", "/v1/admin/grids")
    invite = check(admin.post("/v1/admin/invites", {"grid_id": community.grid_ids[0]}), "POST",
                   "/v1/admin/invites", 201).json
    for fmt in ("png", "svg", "wxacode", "json"):
        check(admin.get(f"/v1/admin/invites/{invite['code']}/qrcode?format={fmt}"), "GET",
              "/v1/admin/invites/{code}/qrcode")
    # 普通链接二维码: what the printed codes' links open outside WeChat, and WeChat's verification file.
    for letter in ("c", "i", "p", "u"):
        check(api.get(f"/{letter}/{invite['code']}"), "GET", f"/{letter}/{{code}}", 200)
    check(api.get("/tongxin-dev-verify.txt"), "GET", "/{file_name}", 200)
    check(api.get("/robots.txt"), "GET", "/{file_name}", 404)
    # The staff console's pages: the app's page (and its deep links, the 签到大屏), its script and style; other names 404.
    check(api.get("/console"), "GET", "/console", 200)
    check(api.get("/console/members"), "GET", "/console/{page}", 200)
    check(api.get("/console/nowhere"), "GET", "/console/{page}", 404)
    check(api.get("/console/assets/app.js"), "GET", "/console/assets/{name}", 200)
    css = api.get("/console/assets/app.css")
    check(css, "GET", "/console/assets/{name}", 200)
    check(api.get("/console/assets/app.css", headers={"If-None-Match": css.headers["ETag"]}), "GET",
          "/console/assets/{name}", 304)
    check(api.get("/console/assets/secret.py"), "GET", "/console/assets/{name}", 404)
    check(api.get("/console/events/ev_any/screen"), "GET", "/console/events/{event_id}/screen", 200)
    # Events: a 招募令 of two places, a waitlist, a place given up, a change, the roster, a cancellation.
    start = datetime.now(timezone(timedelta(hours=8))) + timedelta(days=3)
    event = check(worker.post("/v1/events", {
        "title": "楼道清洁", "kind": "volunteer_service", "starts_at": start.isoformat(timespec="seconds"),
        "ends_at": (start + timedelta(hours=2)).isoformat(timespec="seconds"), "capacity": 1,
        "location": {"address": "服务中心", "lat": 30.5, "lng": 103.8}, "points_per_hour": 10,
        "description": "带好手套"}), "POST", "/v1/events", 201).json
    bare_event = check(admin.post("/v1/events", {
        "title": "茶话会", "kind": "activity", "starts_at": start.isoformat(timespec="seconds"),
        "ends_at": (start + timedelta(hours=1)).isoformat(timespec="seconds"), "capacity": 10}),
        "POST", "/v1/events", 201).json
    ev = "/v1/events/{event_id}"
    second = community.volunteer()
    check(volunteer.post(f"/v1/events/{event['id']}/signup"), "POST", ev + "/signup", 201)
    check(second.post(f"/v1/events/{event['id']}/signup"), "POST", ev + "/signup", 201)  # waitlisted
    check(second.get(f"/v1/events/{event['id']}"), "GET", ev)
    check(volunteer.post(f"/v1/events/{event['id']}/signup"), "POST", ev + "/signup", 409)
    check(volunteer.delete(f"/v1/events/{event['id']}/signup"), "DELETE", ev + "/signup", 200)
    check(worker.patch(f"/v1/events/{event['id']}", {"capacity": 3, "title": "楼道大扫除"}), "PATCH", ev, 200)
    check(worker.post(f"/v1/events/{event['id']}", {"description": "带好手套和扫帚"}, headers=OVERRIDE), "POST", ev, 200)
    check(worker.get(f"/v1/events/{event['id']}/roster"), "GET", ev + "/roster", 200)
    check(second.get("/v1/me/events"), "GET", "/v1/me/events", 200)
    check(second.get("/v1/events"), "GET", "/v1/events", 200)
    check(admin.get(f"/v1/events/{bare_event['id']}"), "GET", ev, 200)
    check(worker.post(f"/v1/events/{event['id']}/cancel", {"reason": "下雨"}), "POST", ev + "/cancel", 200)
    # Check-in: the clock travels to the event, through it, and past its close.
    service = check(worker.post("/v1/events", {
        "title": "助老服务", "kind": "volunteer_service", "starts_at": (start - timedelta(days=3) + timedelta(hours=2))
        .isoformat(timespec="seconds"), "ends_at": (start - timedelta(days=3) + timedelta(hours=4))
        .isoformat(timespec="seconds"), "capacity": 5, "points_per_hour": 10, "allow_walk_ins": True,
        "location": {"address": "服务中心", "lat": 30.5, "lng": 103.8}}), "POST", "/v1/events", 201).json
    check(volunteer.post(f"/v1/events/{service['id']}/signup"), "POST", ev + "/signup", 201)
    codes = ev + "/qrcode"
    with travel(timedelta(hours=2)):
        for query in ("", "?kind=poster&format=svg", "?kind=rotating&format=png", "?kind=wxacode&format=png"):
            check(worker.get(f"/v1/events/{service['id']}/qrcode{query}"), "GET", codes, 200)
        code = worker.get(f"/v1/events/{service['id']}/qrcode").json["code"]
        check(volunteer.post("/v1/checkins", {"code": code}), "POST", "/v1/checkins", 200)
        check(second.post("/v1/checkins", {"code": code}), "POST", "/v1/checkins", 200)  # a walk-in
        check(volunteer.post("/v1/checkins", {"code": code}), "POST", "/v1/checkins", 409)
    with travel(timedelta(hours=3)):
        code = worker.get(f"/v1/events/{service['id']}/qrcode").json["code"]
        check(volunteer.post("/v1/checkins", {"code": code}), "POST", "/v1/checkins", 200)
    with travel(timedelta(hours=6, minutes=1)):
        events.run_schedule()  # the scheduler's event step (its whole run would sweep every test's messages too)
        check(worker.get("/v1/grid/tasks?limit=100"), "GET", "/v1/grid/tasks", 200)
        check(worker.get(f"/v1/events/{service['id']}/roster"), "GET", ev + "/roster", 200)
        check(worker.post(f"/v1/events/{service['id']}/attendance/{second.id}/adjust",
                          {"minutes": 60, "reason": "忘记签退"}), "POST", ev + "/attendance/{user_id}/adjust", 200)
        # 志愿服务记录更正: the volunteer asks twice (409), the organiser approves (then 409), refuses another.
        mvc, acr = "/v1/me/volunteer-record/corrections", "/v1/admin/corrections/{correction_id}"
        for person in (volunteer, second):
            person.relogin()  # WeChat's content check wants a user seen within 2 h
        ask = {"attendance_id": f"{service['id']}.{volunteer.id}", "minutes": 100, "reason": "提前到场布置"}
        fix = check(volunteer.post(mvc, ask), "POST", mvc, 201).json
        check(volunteer.post(mvc, ask), "POST", mvc, 409)
        check(volunteer.post(mvc, {**ask, "minutes": 9999}), "POST", mvc, 400)
        other = check(second.post(mvc, {**ask, "attendance_id": f"{service['id']}.{second.id}"}), "POST", mvc,
                      201).json
        check(volunteer.get(mvc), "GET", mvc, 200)
        check(worker.get(f"/v1/admin/corrections?event_id={service['id']}"), "GET", "/v1/admin/corrections", 200)
        check(admin.get("/v1/admin/corrections"), "GET", "/v1/admin/corrections", 200)
        check(worker.get("/v1/admin/corrections"), "GET", "/v1/admin/corrections", 403)
        check(worker.post(f"/v1/admin/corrections/{fix['id']}/approve"), "POST", acr + "/approve", 200)
        check(worker.post(f"/v1/admin/corrections/{fix['id']}/approve"), "POST", acr + "/approve", 409)
        check(worker.post(f"/v1/admin/corrections/{other['id']}/refuse", {"reason": "记录无误"}), "POST",
              acr + "/refuse", 200)
        check(worker.post(f"/v1/admin/corrections/{other['id']}/refuse", {"reason": ""}), "POST", acr + "/refuse",
              400)
    check(admin.get("/v1/admin/audit"), "GET", "/v1/admin/audit", 200)
    check(admin.get("/v1/admin/community"), "GET", "/v1/admin/community", 200)
    check(admin.patch("/v1/admin/community", {"wish_points": 20}), "PATCH", "/v1/admin/community", 200)
    check(admin.post("/v1/admin/community", {"wish_points": 20}, headers=OVERRIDE), "POST", "/v1/admin/community", 200)
    check(second.get("/v1/me/volunteer-record"), "GET", "/v1/me/volunteer-record", 200)
    check(admin.get("/v1/admin/exports/volunteer-hours?month=" + soon[:7]), "GET",
          "/v1/admin/exports/volunteer-hours", 200)
    # 积分: a store, its keeper and goods, awards (one reversed), a redemption picked up, one cancelled, the
    # passbook and the leaderboards.
    store = check(admin.post("/v1/stores", {"name": "积分超市", "address": "服务中心一楼"}), "POST", "/v1/stores", 201).json
    check(admin.post("/v1/stores", {"name": "流动超市"}), "POST", "/v1/stores", 201)
    keeper = community.with_roles(community.resident(), ["store_keeper"], store_ids=[store["id"]])
    check(volunteer.get("/v1/stores"), "GET", "/v1/stores")
    shelf = "/v1/stores/{store_id}/goods"
    towel = check(admin.post(f"/v1/stores/{store['id']}/goods", {
        "name": "毛巾", "description": "纯棉", "price_points": 5, "stock": 10, "per_user_limit": 2}),
        "POST", shelf, 201).json
    soap = check(admin.post(f"/v1/stores/{store['id']}/goods", {"name": "肥皂", "price_points": 1, "stock": 3}),
                 "POST", shelf, 201).json
    check(keeper.patch(f"/v1/goods/{towel['id']}", {"restock": 5, "on_shelf": True}), "PATCH", "/v1/goods/{goods_id}")
    check(keeper.post(f"/v1/goods/{towel['id']}", {"on_shelf": True}, headers=OVERRIDE), "POST", "/v1/goods/{goods_id}")
    check(admin.patch(f"/v1/goods/{soap['id']}", {"per_user_limit": None, "description": "香皂"}), "PATCH",
          "/v1/goods/{goods_id}")
    check(keeper.patch(f"/v1/goods/{soap['id']}", {"restock": -100}), "PATCH", "/v1/goods/{goods_id}", 409)
    check(volunteer.get(f"/v1/stores/{store['id']}/goods"), "GET", shelf)
    check(keeper.get(f"/v1/stores/{store['id']}/goods?limit=1"), "GET", shelf)
    award = check(admin.post("/v1/points/awards", {"user_id": volunteer.id, "category": "charity", "points": 30,
                                                   "reason": "捐赠衣物"}), "POST", "/v1/points/awards", 201).json
    check(admin.post(f"/v1/points/awards/{award['id']}/reverse", {"reason": "重复发放"}), "POST",
          "/v1/points/awards/{award_id}/reverse")
    check(admin.post(f"/v1/points/awards/{award['id']}/reverse", {"reason": "再撤一次"}), "POST",
          "/v1/points/awards/{award_id}/reverse", 409)
    check(worker.post("/v1/points/awards", {"user_id": volunteer.id, "category": "mediation", "points": 20,
                                            "reason": "调解邻里纠纷"}), "POST", "/v1/points/awards", 201)
    rd = "/v1/redemptions/{redemption_id}"
    picked = check(volunteer.post("/v1/redemptions", {"goods_id": towel["id"], "quantity": 2}), "POST",
                   "/v1/redemptions", 201).json
    check(volunteer.post("/v1/redemptions", {"goods_id": towel["id"]}), "POST", "/v1/redemptions", 409)  # limit
    for fmt in ("json", "png", "svg"):
        check(volunteer.get(f"/v1/redemptions/{picked['id']}/qrcode?format={fmt}"), "GET", rd + "/qrcode")
    check(keeper.get(f"/v1/stores/{store['id']}/redemptions"), "GET", "/v1/stores/{store_id}/redemptions")
    check(keeper.post("/v1/redemptions/verify", {"pickup_code": picked["pickup_code"].lower()}), "POST",
          "/v1/redemptions/verify")
    check(keeper.post("/v1/redemptions/verify", {"pickup_code": picked["pickup_code"]}), "POST",
          "/v1/redemptions/verify", 409)
    check(keeper.get(f"/v1/redemptions/{picked['id']}"), "GET", rd)
    dropped = check(volunteer.post("/v1/redemptions", {"goods_id": soap["id"]}), "POST", "/v1/redemptions", 201).json
    check(volunteer.post(f"/v1/redemptions/{dropped['id']}/cancel"), "POST", rd + "/cancel")
    check(volunteer.get(f"/v1/redemptions/{dropped['id']}"), "GET", rd)
    check(volunteer.get("/v1/redemptions/mine?limit=1"), "GET", "/v1/redemptions/mine")
    check(volunteer.get("/v1/me/points?limit=3"), "GET", "/v1/me/points")
    for query in ("", "?period=year&scope=grid&metric=minutes", "?period=all&scope=community&metric=points"):
        check(volunteer.get("/v1/leaderboard" + query), "GET", "/v1/leaderboard")
    check(admin.get("/v1/admin/stats"), "GET", "/v1/admin/stats")
    # 接诉即办: a request answered late at no level, 吹哨 to the community and to the street, solved there, rated low
    # once (reopened) and then closed; another solved at the grid; the lists, the queues and the three rates; and
    # the refusals (403 not the handler, 404 not seen, 409 wrong state, 400 content) in the error envelope.
    from tongxin.usecases import streets
    street = streets.create_street("同心街道")
    streets.attach_community(street["id"], community.id)
    staff = api.login()
    streets.add_staff(street["id"], staff.id)
    staff.relogin()
    rq = "/v1/requests/{request_id}"
    lamp = check(author.post("/v1/requests", {"category": "设施维修", "content": "3栋2单元楼道灯坏了\n晚上很黑",
                                              "location": {"address": "幸福小区3栋", "lat": 30.5, "lng": 103.8},
                                              "urgent": True}), "POST", "/v1/requests", 201).json
    bare_request = check(author.post("/v1/requests", {"category": "其他", "content": "小区门口有积水"}), "POST",
                         "/v1/requests", 201).json
    check(author.post("/v1/requests", {"category": "其他", "content": "违禁"}), "POST", "/v1/requests", 400)
    check(author.post("/v1/requests", {"category": "火箭", "content": "x"}), "POST", "/v1/requests", 400)
    check(newcomer.post("/v1/requests", {"category": "其他", "content": "x"}), "POST", "/v1/requests", 409)
    check(worker.get("/v1/grid/tasks"), "GET", "/v1/grid/tasks", 200)  # with its requests section
    check(author.post(f"/v1/requests/{lamp['id']}/accept"), "POST", rq + "/accept", 403)
    check(volunteer.get(f"/v1/requests/{lamp['id']}"), "GET", rq, 404)
    check(worker.post(f"/v1/requests/{lamp['id']}/resolve", {"note": "还没响应"}), "POST", rq + "/resolve", 409)
    check(worker.post(f"/v1/requests/{lamp['id']}/accept"), "POST", rq + "/accept", 200)
    check(worker.post(f"/v1/requests/{lamp['id']}/escalate", {"reason": "需要物业维修基金"}), "POST",
          rq + "/escalate", 200)
    check(admin.get("/v1/admin/requests"), "GET", "/v1/admin/requests", 200)
    check(admin.post(f"/v1/requests/{lamp['id']}/escalate", {"reason": "需要街道协调"}), "POST", rq + "/escalate", 200)
    check(staff.get("/v1/street/tasks"), "GET", "/v1/street/tasks", 200)
    check(staff.post(f"/v1/requests/{lamp['id']}/escalate", {"reason": "没有更高一级"}), "POST", rq + "/escalate", 409)
    check(staff.post(f"/v1/requests/{lamp['id']}/accept"), "POST", rq + "/accept", 200)
    check(staff.post(f"/v1/requests/{lamp['id']}/resolve", {"note": "协调物业换了灯"}), "POST", rq + "/resolve", 200)
    check(worker.post(f"/v1/requests/{lamp['id']}/rate", {"satisfaction": 5}), "POST", rq + "/rate", 403)
    check(author.post(f"/v1/requests/{lamp['id']}/rate", {"satisfaction": 2, "comment": "只修了一盏"}), "POST",
          rq + "/rate", 200)
    check(staff.post(f"/v1/requests/{lamp['id']}/resolve", {"note": "全部换了"}), "POST", rq + "/resolve", 200)
    check(author.post(f"/v1/requests/{lamp['id']}/rate", {"satisfaction": 4}), "POST", rq + "/rate", 200)
    check(worker.post(f"/v1/requests/{bare_request['id']}/resolve", {"note": "已疏通"}), "POST", rq + "/resolve", 409)
    check(worker.post(f"/v1/requests/{bare_request['id']}/accept"), "POST", rq + "/accept", 200)
    check(worker.post(f"/v1/requests/{bare_request['id']}/resolve", {"note": "已疏通"}), "POST", rq + "/resolve", 200)
    check(worker.get(f"/v1/requests/{bare_request['id']}"), "GET", rq, 200)  # no location, a handler, no rating
    for member in (author, staff, worker):
        check(member.get(f"/v1/requests/{lamp['id']}"), "GET", rq, 200)  # the whole timeline
    check(author.get("/v1/requests/mine"), "GET", "/v1/requests/mine", 200)
    check(author.get("/v1/requests/mine?limit=1"), "GET", "/v1/requests/mine", 200)
    check(admin.get("/v1/admin/requests?view=all&limit=1"), "GET", "/v1/admin/requests", 200)
    check(volunteer.get("/v1/street/tasks"), "GET", "/v1/street/tasks", 403)
    check(admin.get("/v1/admin/requests/stats"), "GET", "/v1/admin/requests/stats", 200)
    check(staff.get("/v1/admin/requests/stats"), "GET", "/v1/admin/requests/stats", 200)
    check(staff.get("/v1/admin/requests/stats?street_id=st_nothing"), "GET", "/v1/admin/requests/stats", 403)
    check(volunteer.get("/v1/admin/requests/stats"), "GET", "/v1/admin/requests/stats", 403)
    # 街呼区应: the street's district and its departments; a request sent on to a department and answered there; 延期
    # asked and approved (then refused as used) and, at the department, rejected; 督办 by the level above; the cards.
    from tongxin.usecases import districts
    district = districts.create_district("同心区")
    districts.attach_street(district["id"], street["id"])
    cg = districts.add_department(district["id"], "城管局")
    dept_staff, district_staff = api.login(), api.login()
    districts.add_department_staff(cg["id"], dept_staff.id)
    districts.add_district_staff(district["id"], district_staff.id)
    dept_staff.relogin()
    district_staff.relogin()
    check(staff.get("/v1/street/departments"), "GET", "/v1/street/departments", 200)
    check(staff.get("/v1/street/departments?street_id=st_nothing"), "GET", "/v1/street/departments", 403)
    check(volunteer.get("/v1/street/departments"), "GET", "/v1/street/departments", 403)
    stall = check(author.post("/v1/requests", {"category": "环境卫生", "content": "路口占道经营"}), "POST",
                  "/v1/requests", 201).json
    sp = f"/v1/requests/{stall['id']}"
    check(admin.post(f"{sp}/supervise", {"note": "请网格今天处理"}), "POST", rq + "/supervise", 200)
    check(worker.post(f"{sp}/supervise", {"note": "自己督办自己"}), "POST", rq + "/supervise", 403)
    check(worker.post(f"{sp}/extend", {"days": 2, "reason": "等材料"}), "POST", rq + "/extend", 409)  # unanswered
    check(worker.post(f"{sp}/accept"), "POST", rq + "/accept", 200)
    check(worker.post(f"{sp}/extend", {"days": 11, "reason": "等材料"}), "POST", rq + "/extend", 400)
    check(worker.post(f"{sp}/extend", {"days": 2, "reason": "等城管回复"}), "POST", rq + "/extend", 200)
    check(worker.post(f"{sp}/extension/approve"), "POST", rq + "/extension/approve", 403)
    check(admin.post(f"{sp}/extension/approve"), "POST", rq + "/extension/approve", 200)
    check(admin.post(f"{sp}/extension/approve"), "POST", rq + "/extension/approve", 409)
    check(worker.post(f"{sp}/extend", {"days": 1, "reason": "再等一天"}), "POST", rq + "/extend", 409)  # used
    check(worker.post(f"{sp}/escalate", {"reason": "需要执法", "department_id": cg["id"]}), "POST", rq + "/escalate",
          400)
    check(worker.post(f"{sp}/escalate", {"reason": "需要执法"}), "POST", rq + "/escalate", 200)
    check(admin.post(f"{sp}/escalate", {"reason": "需要街道协调"}), "POST", rq + "/escalate", 200)
    check(staff.post(f"{sp}/escalate", {"reason": "需要城管"}), "POST", rq + "/escalate", 400)
    check(staff.post(f"{sp}/escalate", {"reason": "需要城管", "department_id": "dp_nothing"}), "POST",
          rq + "/escalate", 404)
    check(staff.post(f"{sp}/escalate", {"reason": "需要城管执法", "department_id": cg["id"]}), "POST",
          rq + "/escalate", 200)
    check(dept_staff.get("/v1/department/tasks"), "GET", "/v1/department/tasks", 200)
    check(volunteer.get("/v1/department/tasks"), "GET", "/v1/department/tasks", 403)
    check(district_staff.post(f"{sp}/supervise", {"note": "区里督办"}), "POST", rq + "/supervise", 200)
    check(dept_staff.post(f"{sp}/accept"), "POST", rq + "/accept", 200)
    check(dept_staff.post(f"{sp}/extend", {"days": 3, "reason": "执法取证需要时间"}), "POST", rq + "/extend", 200)
    check(district_staff.get(sp), "GET", rq, 200)  # the pending extension, the department, the card
    check(dept_staff.post(f"{sp}/extension/reject", {"reason": "自己驳回"}), "POST", rq + "/extension/reject", 403)
    check(district_staff.post(f"{sp}/extension/reject", {"reason": "时限内可以办结"}), "POST",
          rq + "/extension/reject", 200)
    check(district_staff.post(f"{sp}/extension/reject", {"reason": "再驳回一次"}), "POST", rq + "/extension/reject",
          409)
    check(dept_staff.get(sp), "GET", rq, 200)  # the whole timeline: every level, 延期 and 督办
    # The street's statistics: a row per community (this one) and the street's total; the refusals.
    check(staff.get("/v1/street/stats"), "GET", "/v1/street/stats", 200)
    check(staff.get(f"/v1/street/stats?street_id={street['id']}&from=2026-13-01"), "GET", "/v1/street/stats", 400)
    check(staff.get("/v1/street/stats?street_id=st_nothing"), "GET", "/v1/street/stats", 403)
    check(admin.get("/v1/street/stats"), "GET", "/v1/street/stats", 403)
    # The district's: a row per street (its communities added up) and the district's total.
    check(district_staff.get("/v1/district/stats"), "GET", "/v1/district/stats", 200)
    check(district_staff.get("/v1/district/stats?from=2026-13-01"), "GET", "/v1/district/stats", 400)
    check(district_staff.get("/v1/district/stats?district_id=ds_nothing"), "GET", "/v1/district/stats", 403)
    check(staff.get("/v1/district/stats"), "GET", "/v1/district/stats", 403)
    # 通报: the street's and the district's month (JSON and CSV), a malformed month, the refusals.
    for path, who, other in (("/v1/street/bulletin", staff, admin), ("/v1/district/bulletin", district_staff, staff)):
        check(who.get(path), "GET", path, 200)
        check(who.get(f"{path}?format=csv"), "GET", path, 200)
        check(who.get(f"{path}?month=2026-13"), "GET", path, 400)
        check(other.get(path), "GET", path, 403)
    # 双报到 党员报到 and 考核: none yet, a report, again (409), blank, the admin's lists, approve, a second approval,
    # an unknown one, a unit that does not exist, a rejection, the quarter's assessment (JSON, CSV, a bad quarter).
    pr, prs, one_pr = "/v1/me/party-registration", "/v1/admin/party-registrations", \
        "/v1/admin/party-registrations/{registration_id}"
    member = community.resident()
    report = {"real_name": "李党员", "work_unit": "区税务局", "party_branch": "同心社区第一党支部"}
    check(member.get(pr), "GET", pr, 404)
    reg = check(member.post(pr, report), "POST", pr, 201).json
    check(member.post(pr, report), "POST", pr, 409)
    check(member.get(pr), "GET", pr, 200)
    check(community.resident().post(pr, {**report, "real_name": "  "}), "POST", pr, 400)
    check(newcomer.post(pr, report), "POST", pr, 409)  # in no community
    check(admin.get(prs), "GET", prs, 200)
    check(admin.get(f"{prs}?status=bogus"), "GET", prs, 400)
    check(member.get(prs), "GET", prs, 403)
    check(admin.post(f"{prs}/{reg['id']}/approve"), "POST", one_pr + "/approve", 200)
    check(admin.post(f"{prs}/{reg['id']}/approve"), "POST", one_pr + "/approve", 409)
    check(admin.post(f"{prs}/nothing.here/approve"), "POST", one_pr + "/approve", 404)
    check(admin.get(f"{prs}?status=approved&limit=1"), "GET", prs, 200)
    rejected = community.resident()
    check(rejected.post(pr, {**report, "unit_id": "un_nothing"}), "POST", pr, 404)
    reg = check(rejected.post(pr, report), "POST", pr, 201).json
    check(admin.post(f"{prs}/{reg['id']}/reject", {"reason": "党组织信息不完整"}), "POST", one_pr + "/reject", 200)
    check(admin.post(f"{prs}/{reg['id']}/reject", {"reason": "再驳回"}), "POST", one_pr + "/reject", 409)
    check(admin.post(f"{prs}/{reg['id']}/reject", {"reason": ""}), "POST", one_pr + "/reject", 400)
    check(admin.get("/v1/admin/party-members"), "GET", "/v1/admin/party-members", 200)
    check(admin.get("/v1/admin/party-members?quarter=2026Q1&format=csv"), "GET", "/v1/admin/party-members", 200)
    check(admin.get("/v1/admin/party-members?quarter=2026Q5"), "GET", "/v1/admin/party-members", 400)
    check(member.get("/v1/admin/party-members"), "GET", "/v1/admin/party-members", 403)
    # 领岗: a post published (and one refused), listed, claimed to full (then POST_FULL, ALREADY_CLAIMED), read with
    # its claimants, given back, closed (then INVALID_STATE).
    post_body = {"title": "楼栋长", "description": "负责3栋的日常联络", "skills": ["沟通"], "headcount": 1,
                 "due": soon}
    post = check(admin.post("/v1/admin/posts", post_body), "POST", "/v1/admin/posts", 201).json
    check(admin.post("/v1/admin/posts", {**post_body, "headcount": 0}), "POST", "/v1/admin/posts", 400)
    check(admin.post("/v1/admin/posts", {**post_body, "description": "违禁"}), "POST", "/v1/admin/posts", 400)
    pm, pm2 = (community.with_roles(community.resident(), ["party_member"]) for _ in range(2))
    check(pm.get("/v1/posts"), "GET", "/v1/posts")
    check(pm.get("/v1/posts?status=open&limit=1"), "GET", "/v1/posts")
    one_post = "/v1/posts/{post_id}"
    check(pm.post(f"/v1/posts/{post['id']}/claim"), "POST", one_post + "/claim")
    check(pm.post(f"/v1/posts/{post['id']}/claim"), "POST", one_post + "/claim", 409)
    check(pm2.post(f"/v1/posts/{post['id']}/claim"), "POST", one_post + "/claim", 409)
    check(volunteer.post(f"/v1/posts/{post['id']}/claim"), "POST", one_post + "/claim", 403)
    check(pm2.get(f"/v1/posts/{post['id']}"), "GET", one_post)
    check(admin.get(f"/v1/posts/{post['id']}"), "GET", one_post)
    check(pm2.get("/v1/posts/pst_nothing"), "GET", one_post, 404)
    check(pm2.post(f"/v1/posts/{post['id']}/withdraw"), "POST", one_post + "/withdraw", 409)
    check(pm.post(f"/v1/posts/{post['id']}/withdraw"), "POST", one_post + "/withdraw")
    check(admin.post(f"/v1/admin/posts/{post['id']}/close"), "POST", "/v1/admin/posts/{post_id}/close")
    check(admin.post(f"/v1/admin/posts/{post['id']}/close"), "POST", "/v1/admin/posts/{post_id}/close", 409)
    check(pm.post(f"/v1/admin/posts/{post['id']}/close"), "POST", "/v1/admin/posts/{post_id}/close", 403)
    # 共建单位: the street registers a unit (and a bad one), lists, invites; a user joins (twice: 404); the admin lists
    # the street's units, signs (a bad date: 400; a unit of no street of theirs: 404); the liaison adds a resource;
    # each reader; sponsored goods (a sponsor without agreement: 404).
    unit_body = {"name": "同心区人民医院", "kind": "医院", "contact_name": "李主任", "contact_phone": "13800001111"}
    su, one_unit = "/v1/street/units", "/v1/units/{unit_id}"
    unit = check(staff.post(su, unit_body), "POST", su, 201).json
    check(staff.post(su, {**unit_body, "kind": "公司"}), "POST", su, 400)
    check(admin.post(su, unit_body), "POST", su, 403)
    check(staff.get(f"{su}?limit=1"), "GET", su, 200)
    check(volunteer.get(su), "GET", su, 403)
    code = check(staff.post(f"{su}/{unit['id']}/invites"), "POST", su + "/{unit_id}/invites", 201).json["code"]
    check(staff.post(f"{su}/unit_nothing/invites"), "POST", su + "/{unit_id}/invites", 404)
    liaison = api.login()
    check(liaison.post("/v1/me/unit", {"invite": code}), "POST", "/v1/me/unit", 200)
    check(liaison.post("/v1/me/unit", {"invite": code}), "POST", "/v1/me/unit", 404)
    check(liaison.post("/v1/me/unit", {"invite": "a b"}), "POST", "/v1/me/unit", 400)
    # The unit's liaisons: the street lists them; takes a second one off (204), again (404); another person 403.
    lq = su + "/{unit_id}/liaisons"
    check(staff.get(f"{su}/{unit['id']}/liaisons"), "GET", lq, 200)
    check(volunteer.get(f"{su}/{unit['id']}/liaisons"), "GET", lq, 403)
    check(staff.get(f"{su}/unit_nothing/liaisons?limit=1"), "GET", lq, 404)
    second = check(staff.post(f"{su}/{unit['id']}/invites"), "POST", su + "/{unit_id}/invites", 201).json
    qr = su + "/{unit_id}/invites/{code}/qrcode"
    check(staff.get(f"{su}/{unit['id']}/invites/{second['code']}/qrcode?format=json"), "GET", qr, 200)
    check(staff.get(f"{su}/{unit['id']}/invites/{second['code']}/qrcode?format=svg", headers={"Accept": "*/*"}),
          "GET", qr, 200)
    check(staff.get(f"{su}/{unit['id']}/invites/NOSUCHCODE/qrcode?format=json"), "GET", qr, 404)
    check(volunteer.get(f"{su}/{unit['id']}/invites/{second['code']}/qrcode?format=json"), "GET", qr, 403)
    removable = api.login()
    check(removable.post("/v1/me/unit", {"invite": second["url"]}), "POST", "/v1/me/unit", 200)
    check(staff.delete(f"{su}/{unit['id']}/liaisons/{removable.id}"), "DELETE", lq + "/{user_id}", 204)
    check(staff.delete(f"{su}/{unit['id']}/liaisons/{removable.id}"), "DELETE", lq + "/{user_id}", 404)
    check(liaison.delete(f"{su}/{unit['id']}/liaisons/{liaison.id}"), "DELETE", lq + "/{user_id}", 403)
    agreement = {"pledges": ["每季度义诊一次"], "activities_per_quarter": 1,
                 "valid_until": (datetime.now(timezone.utc) + timedelta(days=200)).date().isoformat()}
    ag = "/v1/admin/units/{unit_id}/agreement"
    check(admin.get("/v1/admin/units"), "GET", "/v1/admin/units", 200)
    check(admin.post(f"/v1/admin/units/{unit['id']}/agreement", agreement), "POST", ag, 201)
    check(admin.post(f"/v1/admin/units/{unit['id']}/agreement", {**agreement, "valid_until": "2000-01-01"}),
          "POST", ag, 400)
    check(admin.post("/v1/admin/units/unit_nothing/agreement", agreement), "POST", ag, 404)
    check(volunteer.post(f"/v1/admin/units/{unit['id']}/agreement", agreement), "POST", ag, 403)
    check(admin.get("/v1/admin/units?limit=1"), "GET", "/v1/admin/units", 200)
    resource = {"title": "义诊", "description": "周六上午", "capacity": 30}
    check(liaison.post(f"/v1/units/{unit['id']}/resources", resource), "POST", one_unit + "/resources", 201)
    check(liaison.post(f"/v1/units/{unit['id']}/resources", {**resource, "capacity": 0}), "POST",
          one_unit + "/resources", 400)
    check(staff.post(f"/v1/units/{unit['id']}/resources", resource), "POST", one_unit + "/resources", 403)
    for reader in (liaison, staff, admin):
        check(reader.get(f"/v1/units/{unit['id']}"), "GET", one_unit, 200)
        check(reader.get(f"/v1/units/{unit['id']}/resources"), "GET", one_unit + "/resources", 200)
    check(volunteer.get(f"/v1/units/{unit['id']}"), "GET", one_unit, 403)
    check(admin.get("/v1/units/unit_nothing"), "GET", one_unit, 404)
    check(volunteer.get(f"/v1/units/{unit['id']}/resources"), "GET", one_unit + "/resources", 403)
    check(liaison.get(f"/v1/units/{unit['id']}/agreements"), "GET", one_unit + "/agreements", 200)
    check(admin.get(f"/v1/units/{unit['id']}/agreements"), "GET", one_unit + "/agreements", 403)
    lonely = check(staff.post(su, {**unit_body, "name": "无协议单位"}), "POST", su, 201).json
    check(staff.get(f"/v1/units/{lonely['id']}/agreements"), "GET", one_unit + "/agreements", 200)
    # 服务卡: an event the unit runs (and one by a unit without agreement: 404), the cards (a page, the CSV, a quarter
    # to come, who may not).
    unit_start = datetime.now(timezone(timedelta(hours=8))) + timedelta(days=2)
    run_by = {"title": "义诊进社区", "kind": "activity", "starts_at": unit_start.isoformat(timespec="seconds"),
              "ends_at": (unit_start + timedelta(hours=1)).isoformat(timespec="seconds"), "capacity": 10,
              "unit_id": unit["id"]}
    assert check(admin.post("/v1/events", run_by), "POST", "/v1/events", 201).json["unit"]["id"] == unit["id"]
    check(admin.post("/v1/events", {**run_by, "unit_id": lonely["id"]}), "POST", "/v1/events", 404)
    cards = one_unit + "/service-cards"
    check(liaison.get(f"/v1/units/{unit['id']}/service-cards"), "GET", cards, 200)
    check(staff.get(f"/v1/units/{unit['id']}/service-cards?quarter=2026Q1&format=csv"), "GET", cards, 200)
    check(liaison.get(f"/v1/units/{unit['id']}/service-cards?quarter=9999Q4"), "GET", cards, 400)
    check(admin.get(f"/v1/units/{unit['id']}/service-cards"), "GET", cards, 403)
    check(staff.get("/v1/units/unit_nothing/service-cards"), "GET", cards, 404)
    sponsored = check(admin.post(f"/v1/stores/{store['id']}/goods", {
        "name": "体检券", "price_points": 50, "stock": 5, "sponsor_unit_id": unit["id"]}), "POST", shelf, 201).json
    assert sponsored["sponsor"] == {"id": unit["id"], "name": unit_body["name"]}
    check(admin.post(f"/v1/stores/{store['id']}/goods", {"name": "无效赞助", "price_points": 1, "stock": 1,
                                                         "sponsor_unit_id": lonely["id"]}), "POST", shelf, 404)
    check(admin.patch(f"/v1/goods/{sponsored['id']}", {"sponsor_unit_id": None}), "PATCH", "/v1/goods/{goods_id}")
    # 共建项目 and 群众评单: the admin records a project with the unit (year 9999: 400; a unit without agreement: 404; a
    # resident: 403); the liaison reports progress (101 %: 400; a resident: 403; none such: 404); a rating before it is
    # done (409); completion (twice: 409); a rating (twice: 409; 6: 400); the community's list, the detail, the unit's.
    cp, one_cp, cp_day = "/v1/admin/co-projects", "/v1/co-projects/{project_id}", datetime.now(timezone.utc).date()
    cp_body = {"title": "义诊进社区", "need": {"text": "独居老人量血压"}, "unit_id": unit["id"],
               "starts_on": cp_day.isoformat(), "ends_on": cp_day.isoformat(), "beneficiaries_note": "3 栋独居老人"}
    project = check(admin.post(cp, cp_body), "POST", cp, 201).json
    check(admin.post(cp, {**cp_body, "ends_on": "9999-12-31"}), "POST", cp, 400)
    check(admin.post(cp, {**cp_body, "unit_id": lonely["id"]}), "POST", cp, 404)
    check(volunteer.post(cp, cp_body), "POST", cp, 403)
    progress = {"note": "医生已排班", "percent": 30}
    check(liaison.post(f"{cp}/{project['id']}/progress", progress), "POST", cp + "/{project_id}/progress")
    check(liaison.post(f"{cp}/{project['id']}/progress", {**progress, "percent": 101}), "POST",
          cp + "/{project_id}/progress", 400)
    check(volunteer.post(f"{cp}/{project['id']}/progress", progress), "POST", cp + "/{project_id}/progress", 403)
    check(liaison.post(f"{cp}/cop_nothing/progress", progress), "POST", cp + "/{project_id}/progress", 404)
    check(volunteer.post(f"/v1/co-projects/{project['id']}/rating", {"rating": 5}), "POST", one_cp + "/rating", 409)
    check(admin.post(f"{cp}/{project['id']}/complete", {"note": "义诊完成"}), "POST", cp + "/{project_id}/complete")
    check(admin.post(f"{cp}/{project['id']}/complete", {}), "POST", cp + "/{project_id}/complete", 409)
    check(volunteer.post(f"{cp}/{project['id']}/complete", {}), "POST", cp + "/{project_id}/complete", 403)
    check(admin.post(f"{cp}/cop_nothing/complete", {}), "POST", cp + "/{project_id}/complete", 404)
    check(volunteer.post(f"/v1/co-projects/{project['id']}/rating", {"rating": 5, "comment": "医生很耐心"}), "POST",
          one_cp + "/rating", 201)
    check(volunteer.post(f"/v1/co-projects/{project['id']}/rating", {"rating": 5}), "POST", one_cp + "/rating", 409)
    check(volunteer.post(f"/v1/co-projects/{project['id']}/rating", {"rating": 6}), "POST", one_cp + "/rating", 400)
    check(volunteer.post("/v1/co-projects/cop_nothing/rating", {"rating": 5}), "POST", one_cp + "/rating", 404)
    cr = cp + "/{project_id}/ratings"  # 群众评单 as the staff read it: the admin, the liaison; a member 403; none such 404
    check(admin.get(f"{cp}/{project['id']}/ratings"), "GET", cr)
    check(liaison.get(f"{cp}/{project['id']}/ratings?limit=1"), "GET", cr)
    check(volunteer.get(f"{cp}/{project['id']}/ratings"), "GET", cr, 403)
    check(admin.get(f"{cp}/cop_nothing/ratings"), "GET", cr, 404)
    check(admin.get(f"{cp}/{project['id']}/ratings?cursor=forged"), "GET", cr, 400)
    check(volunteer.get("/v1/co-projects"), "GET", "/v1/co-projects")
    check(volunteer.get("/v1/co-projects?status=done&limit=1"), "GET", "/v1/co-projects")
    check(volunteer.get("/v1/co-projects?status=finished"), "GET", "/v1/co-projects", 400)
    check(volunteer.get(f"/v1/co-projects/{project['id']}"), "GET", one_cp)
    check(liaison.get(f"/v1/co-projects/{project['id']}"), "GET", one_cp)
    check(volunteer.get("/v1/co-projects/cop_nothing"), "GET", one_cp, 404)
    uc = "/v1/units/{unit_id}/co-projects"
    check(liaison.get(f"/v1/units/{unit['id']}/co-projects"), "GET", uc)
    check(staff.get(f"/v1/units/{unit['id']}/co-projects?limit=1"), "GET", uc)
    check(volunteer.get(f"/v1/units/{unit['id']}/co-projects"), "GET", uc, 403)
    check(staff.get("/v1/units/unit_nothing/co-projects"), "GET", uc, 404)
    # 微星光: the admin commends the volunteer (then the same again, a bad period, risky text, themself, nobody); the
    # list as a member and as the admin, one person's, the profile; the month's candidates; a revocation and its repeat.
    from tongxin.domain.clock import SHANGHAI, utcnow
    ac, month = "/v1/admin/commendations", utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    honour = {"user_id": volunteer.id, "title": "优秀志愿者", "story": "常年服务独居老人", "period": month}
    commended = check(admin.post(ac, honour), "POST", ac, 201).json
    check(admin.post(ac, honour), "POST", ac, 409)
    check(admin.post(ac, {**honour, "period": "2026-13"}), "POST", ac, 400)
    check(admin.post(ac, {**honour, "story": "违禁"}), "POST", ac, 400)
    check(admin.post(ac, {**honour, "user_id": admin.id}), "POST", ac, 409)
    check(admin.post(ac, {**honour, "user_id": "u_nobody"}), "POST", ac, 404)
    check(volunteer.post(ac, honour), "POST", ac, 403)
    check(volunteer.get("/v1/commendations"), "GET", "/v1/commendations")
    check(admin.get(f"/v1/commendations?user_id={volunteer.id}&limit=1"), "GET", "/v1/commendations")
    check(volunteer.get("/v1/commendations?cursor=forged"), "GET", "/v1/commendations", 400)
    assert check(volunteer.get("/v1/me"), "GET", "/v1/me").json["latest_commendation"]["id"] == commended["id"]
    check(admin.get(f"{ac}/candidates?month={month}"), "GET", ac + "/candidates")
    check(admin.get(f"{ac}/candidates?month=1999-12"), "GET", ac + "/candidates", 400)
    check(volunteer.get(f"{ac}/candidates?month={month}"), "GET", ac + "/candidates", 403)
    check(admin.post(f"{ac}/{commended['id']}/revoke", {"reason": "重复申报"}), "POST", ac + "/{commendation_id}/revoke")
    check(admin.post(f"{ac}/{commended['id']}/revoke", {"reason": "重复申报"}), "POST", ac + "/{commendation_id}/revoke",
          409)
    check(admin.post(f"{ac}/cmd_nothing/revoke", {"reason": "无"}), "POST", ac + "/{commendation_id}/revoke", 404)
    # 微实事 rounds, proposals, review, delivery: the admin opens a round (dates out of order: 400; a resident: 403);
    # members list and read it (none such: 404); the volunteer proposes three (a 4th: 409; above the budget, risky
    # text: 400; none such: 404); the admin approves one correcting its cost (twice: 409; a resident: 403) and
    # rejects another; the lists (a status a resident may not see: 403; no such status: 400) and a project; progress
    # before the vote ends (409), after it (the ballots' count in their shards) to done; the 验收 rating (twice: 409).
    from tongxin.adapters.dynamo.models import CounterModel as RoundCounter
    from tongxin.domain import ballots as ballot_rules
    sh_now, pr = datetime.now(timezone(timedelta(hours=8))), "/v1/admin/project-rounds"
    pr_body = {"title": "微实事第一轮", "budget_yuan": 10000, "style": "approval", "max_choices": 1,
               "proposals_until": (sh_now + timedelta(minutes=10)).isoformat(timespec="seconds"),
               "voting_from": (sh_now + timedelta(minutes=20)).isoformat(timespec="seconds"),
               "voting_until": (sh_now + timedelta(minutes=30)).isoformat(timespec="seconds"), "publicity_days": 0}
    rnd = check(admin.post(pr, pr_body), "POST", pr, 201).json
    check(admin.post(pr, {**pr_body, "voting_from": pr_body["voting_until"]}), "POST", pr, 400)
    check(volunteer.post(pr, pr_body), "POST", pr, 403)
    one_round, pp = "/v1/project-rounds/{round_id}", "/v1/projects/{project_id}"
    rp = one_round + "/projects"
    check(volunteer.get("/v1/project-rounds"), "GET", "/v1/project-rounds")
    check(volunteer.get(f"/v1/project-rounds/{rnd['id']}"), "GET", one_round)
    check(volunteer.get("/v1/project-rounds/prd_nothing"), "GET", one_round, 404)
    idea = {"title": "楼道加装扶手", "description": "老人上下楼不方便", "cost_yuan": 3000, "category": "设施维修"}
    ideas = [check(volunteer.post(f"/v1/project-rounds/{rnd['id']}/projects", {**idea, "title": f"扶手{i}"}), "POST",
                   rp, 201).json for i in range(3)]
    check(volunteer.post(f"/v1/project-rounds/{rnd['id']}/projects", idea), "POST", rp, 409)
    check(admin.post(f"/v1/project-rounds/{rnd['id']}/projects", {**idea, "cost_yuan": 10001}), "POST", rp, 400)
    check(admin.post(f"/v1/project-rounds/{rnd['id']}/projects", {**idea, "title": "违禁"}), "POST", rp, 400)
    check(admin.post("/v1/project-rounds/prd_nothing/projects", idea), "POST", rp, 404)
    first_idea, second_idea = ideas[0]["id"], ideas[1]["id"]
    check(admin.post(f"/v1/projects/{first_idea}/approve", {"cost_yuan": 2500}), "POST", pp + "/approve")
    check(admin.post(f"/v1/projects/{first_idea}/approve", {}), "POST", pp + "/approve", 409)
    check(admin.post(f"/v1/projects/{second_idea}/approve", {"cost_yuan": 10001}), "POST", pp + "/approve", 400)
    check(volunteer.post(f"/v1/projects/{second_idea}/approve", {}), "POST", pp + "/approve", 403)
    check(admin.post("/v1/projects/rpj_nothing/approve", {}), "POST", pp + "/approve", 404)
    check(admin.post(f"/v1/projects/{second_idea}/reject", {"reason": "不在本轮范围"}), "POST", pp + "/reject")
    check(admin.post(f"/v1/projects/{second_idea}/reject", {"reason": "不在本轮范围"}), "POST", pp + "/reject", 409)
    check(admin.post(f"/v1/projects/{ideas[2]['id']}/reject", {"reason": " "}), "POST", pp + "/reject", 400)
    check(volunteer.post(f"/v1/projects/{ideas[2]['id']}/reject", {"reason": "无"}), "POST", pp + "/reject", 403)
    check(admin.post("/v1/projects/rpj_nothing/reject", {"reason": "无"}), "POST", pp + "/reject", 404)
    check(volunteer.get(f"/v1/project-rounds/{rnd['id']}/projects"), "GET", rp)
    check(volunteer.get(f"/v1/project-rounds/{rnd['id']}/projects?mine=true&limit=1"), "GET", rp)
    check(admin.get(f"/v1/project-rounds/{rnd['id']}/projects?status=rejected"), "GET", rp)
    check(volunteer.get(f"/v1/project-rounds/{rnd['id']}/projects?status=proposed"), "GET", rp, 403)
    check(volunteer.get(f"/v1/project-rounds/{rnd['id']}/projects?status=done"), "GET", rp, 400)
    check(volunteer.get("/v1/project-rounds/prd_nothing/projects"), "GET", rp, 404)
    check(volunteer.get(f"/v1/projects/{first_idea}"), "GET", pp)
    check(volunteer.get("/v1/projects/rpj_nothing"), "GET", pp, 404)
    report = {"note": "材料进场", "percent": 50}
    check(admin.post(f"/v1/projects/{first_idea}/progress", report), "POST", pp + "/progress", 409)
    check(admin.post(f"/v1/projects/{first_idea}/progress", {**report, "percent": 101}), "POST", pp + "/progress", 400)
    check(volunteer.post(f"/v1/projects/{first_idea}/progress", report), "POST", pp + "/progress", 403)
    check(admin.post("/v1/projects/rpj_nothing/progress", report), "POST", pp + "/progress", 404)
    check(volunteer.post(f"/v1/projects/{first_idea}/rate", {"rating": 5}), "POST", pp + "/rate", 409)
    RoundCounter(ballot_rules.votes_key(rnd["id"], first_idea, 0), n=1).save()  # one ballot's count
    with travel(timedelta(minutes=31)):
        check(admin.post(f"/v1/projects/{first_idea}/progress", {**report, "percent": 100}), "POST", pp + "/progress")
        check(volunteer.post(f"/v1/projects/{first_idea}/rate", {"rating": 5, "comment": "很实用"}), "POST",
              pp + "/rate", 201)
        check(volunteer.post(f"/v1/projects/{first_idea}/rate", {"rating": 5}), "POST", pp + "/rate", 409)
        check(volunteer.post(f"/v1/projects/{first_idea}/rate", {"rating": 6}), "POST", pp + "/rate", 400)
        check(volunteer.post("/v1/projects/rpj_nothing/rate", {"rating": 5}), "POST", pp + "/rate", 404)
        check(admin.get(f"/v1/projects/{first_idea}/ratings"), "GET", pp + "/ratings")  # 验收 as the admins read it
        check(volunteer.get(f"/v1/projects/{first_idea}/ratings"), "GET", pp + "/ratings", 403)
        check(admin.get("/v1/projects/rpj_nothing/ratings"), "GET", pp + "/ratings", 404)
    # 微实事 票选: a round voting now (seeded: its own routes are another story's), the ballot (its refusals: no phone,
    # twice, too costly, nothing chosen), the receipt, the results refused while voting runs, then after the close.
    from tests.api.test_ballots import seed_round
    round_id, (p1, p2), _ = seed_round(community.id, [600, 500], budget_yuan=1000)
    rb, rr = "/v1/project-rounds/{round_id}/ballot", "/v1/project-rounds/{round_id}/results"
    check(author.get(f"/v1/project-rounds/{round_id}/ballot"), "GET", rb, 404)
    check(author.post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": [p1, p2]}), "POST", rb, 409)
    check(author.post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": []}), "POST", rb, 400)
    check(author.post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": [p1]}), "POST", rb, 201)
    check(author.post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": [p2]}), "POST", rb, 409)
    check(volunteer.post(f"/v1/project-rounds/{round_id}/ballot", {"project_ids": [p2]}), "POST", rb, 409)
    check(author.get(f"/v1/project-rounds/{round_id}/ballot"), "GET", rb)
    check(admin.get(f"/v1/project-rounds/{round_id}/results"), "GET", rr, 409)
    check(admin.get("/v1/project-rounds/pr_nothing/results"), "GET", rr, 404)
    with travel(timedelta(hours=2)):
        check(author.get(f"/v1/project-rounds/{round_id}/results"), "GET", rr)
    # 订阅消息: what to ask for, accepts, the sweep delivering (or skipping) what the story wrote, what did not arrive.
    asked = check(volunteer.get("/v1/me/subscriptions"), "GET", "/v1/me/subscriptions").json["ask"]
    check(volunteer.post("/v1/me/subscriptions", {"accepted": asked[:2] + asked[:1]}), "POST", "/v1/me/subscriptions")
    check(volunteer.post("/v1/me/subscriptions", {"accepted": ["tmpl_nobody_configured"]}), "POST",
          "/v1/me/subscriptions", 400)
    for message in OutboxModel.scan(OutboxModel.recipient_id == volunteer.id):  # what the sweep would deliver
        push.deliver(get_container(), message.id)
    check(admin.get("/v1/admin/messages?status=skipped&limit=5"), "GET", "/v1/admin/messages")
    check(admin.get("/v1/admin/messages"), "GET", "/v1/admin/messages")
    check(admin.put(f"/v1/admin/members/{volunteer.id}/roles", {"roles": ["volunteer", "grid_worker"],
                                                                "grid_ids": community.grid_ids[:1]}),
          "PUT", "/v1/admin/members/{user_id}/roles")
    # 代办: the grid's worker registers a managed resident (a blank name 400, an unknown grid 404), acts for them — a
    # wish, a request, a sign-up, a redemption (too few points first), a ballot — with a WeChat user (409 HAS_ACCOUNT),
    # another grid's resident (404) and a blank reason (400) refused; the lists and the proxy log.
    mr, px, reason = "/v1/admin/managed-residents", "/v1/proxy/{user_id}", "老人无智能手机，本人到场委托"
    managed = check(worker.post(mr, {"real_name": "王秀兰", "grid_id": community.grid_ids[0], "phone": "13912345678",
                                     "address": "幸福小区1栋"}), "POST", mr, 201).json
    check(admin.post(mr, {"real_name": " ", "grid_id": community.grid_ids[0]}), "POST", mr, 400)
    check(admin.post(mr, {"real_name": "李四", "grid_id": "g_nothing"}), "POST", mr, 404)
    far = check(admin.post(mr, {"real_name": "李四", "grid_id": community.grid_ids[1]}), "POST", mr, 201).json
    check(admin.get(mr), "GET", mr)
    check(worker.get(f"{mr}?limit=1"), "GET", mr)
    check(worker.get(f"{mr}?grid_id={community.grid_ids[1]}"), "GET", mr, 403)
    mid, proxy_wish = managed["id"], {"title": "帮忙买菜", "content": "想请人帮忙买菜", "category": "生活帮扶"}
    check(worker.post(f"/v1/proxy/{mid}/wishes", {**proxy_wish, "reason": reason}), "POST", px + "/wishes", 201)
    check(worker.post(f"/v1/proxy/{author.id}/wishes", {**proxy_wish, "reason": reason}), "POST", px + "/wishes",
          409)
    check(worker.post(f"/v1/proxy/{far['id']}/wishes", {**proxy_wish, "reason": reason}), "POST", px + "/wishes",
          404)
    check(worker.post(f"/v1/proxy/{mid}/wishes", {**proxy_wish, "reason": " "}), "POST", px + "/wishes", 400)
    check(worker.post(f"/v1/proxy/{mid}/requests", {"category": "设施维修", "content": "楼道灯坏了",
                                                    "reason": reason}), "POST", px + "/requests", 201)
    tea = admin.post("/v1/events", {
        "title": "重阳茶话会", "kind": "activity", "starts_at": start.isoformat(timespec="seconds"),
        "ends_at": (start + timedelta(hours=1)).isoformat(timespec="seconds"), "capacity": 10}).json
    ps = px + "/events/{event_id}/signup"
    check(worker.post(f"/v1/proxy/{mid}/events/{tea['id']}/signup", {"reason": reason}), "POST", ps, 201)
    check(worker.post(f"/v1/proxy/{mid}/events/{tea['id']}/signup", {"reason": reason}), "POST", ps, 409)
    rice = admin.post(f"/v1/stores/{store['id']}/goods", {"name": "大米", "price_points": 5, "stock": 5}).json
    redeem_body = {"goods_id": rice["id"], "quantity": 1, "reason": reason}
    check(worker.post(f"/v1/proxy/{mid}/redemptions", redeem_body), "POST", px + "/redemptions", 409)
    admin.post("/v1/points/awards", {"user_id": mid, "category": "charity", "points": 10, "reason": "助人为乐"})
    check(worker.post(f"/v1/proxy/{mid}/redemptions", redeem_body), "POST", px + "/redemptions", 201)
    proxy_round, (proxy_pick, _), _ = seed_round(community.id, [100, 200])
    pb = px + "/project-rounds/{round_id}/ballot"
    check(worker.post(f"/v1/proxy/{mid}/project-rounds/{proxy_round}/ballot", {"project_ids": [proxy_pick],
                                                                             "reason": reason}), "POST", pb, 201)
    check(worker.post(f"/v1/proxy/{far['id']}/project-rounds/{proxy_round}/ballot",
                      {"project_ids": [proxy_pick], "reason": reason}), "POST", pb, 404)
    check(admin.get("/v1/admin/proxy-log"), "GET", "/v1/admin/proxy-log")
    check(admin.get(f"/v1/admin/proxy-log?user_id={mid}&limit=2"), "GET", "/v1/admin/proxy-log")
    check(worker.get("/v1/admin/proxy-log"), "GET", "/v1/admin/proxy-log", 403)
    check(admin.get(f"/v1/admin/members/{mid}"), "GET", "/v1/admin/members/{user_id}")  # managed: true
    # 绑定: a code for the managed resident (a WeChat member: 409), a bind with a wrong code (404), with a caller
    # holding records (409), then by a new WeChat account (a session for the resident's account).
    bc, bind = "/v1/admin/managed-residents/{user_id}/binding-code", "/v1/me/bind"
    check(admin.post(f"{mr}/{author.id}/binding-code"), "POST", bc, 409)
    binding_code = check(admin.post(f"{mr}/{far['id']}/binding-code"), "POST", bc, 201).json["code"]
    check(author.post(bind, {"code": "NOSUCH22"}), "POST", bind, 404)
    check(author.post(bind, {"code": binding_code}), "POST", bind, 409)
    check(api.login().post(bind, {"code": binding_code}), "POST", bind, 200)
    # 志愿服务记录证明: the volunteer asks (twice: 409; a date after today: 400), the admin's lists, a refusal (twice:
    # 409), asks again, the PDF before the issue (409), the issue (twice: 409; none such: 404), the PDF (another
    # member: 404), the public check (a match; no name: 400) and the QR's page, the revocation (twice: 409).
    from tests.api.test_certificates import open_checks, seed_services
    from tongxin.domain.clock import utcnow as now_utc
    open_checks()
    seed_services(volunteer.id, community.id, 2)
    mc, acs, on_day = "/v1/me/certificates", "/v1/admin/certificates", now_utc().astimezone(SHANGHAI).date()
    one_cert, cert_pdf = acs + "/{certificate_id}", "/v1/certificates/{certificate_id}/pdf"
    period = {"from": (on_day - timedelta(days=30)).isoformat(), "to": on_day.isoformat(), "purpose": "求职材料"}
    refused_cert = check(volunteer.post(mc, period), "POST", mc, 201).json
    check(volunteer.post(mc, period), "POST", mc, 409)
    check(volunteer.post(mc, {**period, "to": "9999-12-31"}), "POST", mc, 400)
    check(admin.get(acs), "GET", acs)
    check(volunteer.get(acs), "GET", acs, 403)
    check(admin.post(f"{acs}/{refused_cert['id']}/refuse", {"reason": "请写明用途"}), "POST", one_cert + "/refuse")
    check(admin.post(f"{acs}/{refused_cert['id']}/refuse", {"reason": "请写明用途"}), "POST", one_cert + "/refuse",
          409)
    cert = check(volunteer.post(mc, period), "POST", mc, 201).json
    check(volunteer.get(f"/v1/certificates/{cert['id']}/pdf"), "GET", cert_pdf, 409)
    done_cert = check(admin.post(f"{acs}/{cert['id']}/issue"), "POST", one_cert + "/issue").json
    check(admin.post(f"{acs}/{cert['id']}/issue"), "POST", one_cert + "/issue", 409)
    check(admin.post(f"{acs}/crt_nothing/issue"), "POST", one_cert + "/issue", 404)
    check(admin.get(f"{acs}?status=issued&limit=1"), "GET", acs)
    check(volunteer.get(mc), "GET", mc)
    check(volunteer.get(f"/v1/certificates/{cert['id']}/pdf"), "GET", cert_pdf)
    check(worker.get(f"/v1/certificates/{cert['id']}/pdf"), "GET", cert_pdf, 404)
    check(api.get(f"/v1/certificates/verify?number={done_cert['number']}&name=王志愿"), "GET",
          "/v1/certificates/verify")
    check(api.get(f"/v1/certificates/verify?number={done_cert['number']}"), "GET", "/v1/certificates/verify", 400)
    check(api.get(f"/v/{done_cert['number']}?name=王志愿"), "GET", "/v/{number}", 200)
    check(admin.post(f"{acs}/{cert['id']}/revoke", {"reason": "记录有误"}), "POST", one_cert + "/revoke")
    check(admin.post(f"{acs}/{cert['id']}/revoke", {"reason": "记录有误"}), "POST", one_cert + "/revoke", 409)
    # 成员名录: the admin's directory (a search, a role), a grid worker's grid, one member; the deleted one is gone.
    for path in ("/v1/admin/members", "/v1/admin/members?q=张&limit=5", "/v1/admin/members?role=volunteer"):
        check(admin.get(path), "GET", "/v1/admin/members")
    check(worker.get("/v1/admin/members"), "GET", "/v1/admin/members")
    check(worker.get(f"/v1/admin/members?grid_id={community.grid_ids[1]}"), "GET", "/v1/admin/members", 403)
    check(admin.get("/v1/admin/members?role=mayor"), "GET", "/v1/admin/members", 400)
    check(admin.get(f"/v1/admin/members/{author.id}"), "GET", "/v1/admin/members/{user_id}")
    check(worker.get(f"/v1/admin/members/{author.id}"), "GET", "/v1/admin/members/{user_id}")
    # A member's 积分存折 as staff see it: the admin (a page of one, then the next), the grid's worker, another grid's.
    mp = "/v1/admin/members/{user_id}/points"
    first = check(admin.get(f"/v1/admin/members/{volunteer.id}/points?limit=1"), "GET", mp).json
    check(admin.get(f"/v1/admin/members/{volunteer.id}/points?cursor={first['next_cursor']}"), "GET", mp)
    check(worker.get(f"/v1/admin/members/{author.id}/points"), "GET", mp)
    check(community.grid_worker(1).get(f"/v1/admin/members/{author.id}/points"), "GET", mp, 403)
    check(author.delete("/v1/me"), "DELETE", "/v1/me")
    check(author.get("/v1/me"), "GET", "/v1/me")  # 401 now
    check(admin.get(f"/v1/admin/members/{author.id}"), "GET", "/v1/admin/members/{user_id}", 404)
    check(admin.get(f"/v1/admin/members/{author.id}/points"), "GET", "/v1/admin/members/{user_id}/points", 404)
    document = check.document
    every = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert every == {(m, p) for m, p, _ in check.seen}, every - {(m, p) for m, p, _ in check.seen}


OVERRIDE = {"X-HTTP-Method-Override": "PATCH"}
BROKEN_VALUES = [None, 0, -1, 10 ** 12, "", " ", "x" * 5000, "违禁", [], {}, True, "2026-13-45", "🙂" * 40]


def _path_for(template: str) -> str:
    return template.replace("{", "").replace("}", "")  # /v1/wishes/{wish_id} → /v1/wishes/wish_id


def test_fuzz_every_body_route_never_answers_500(api, community, app_module):
    """Every documented body, each field replaced by each broken value, sent by an admin of the
    community: 4xx (or success), never 5xx. The client in tests/support.py fails on any 500."""
    document = api.get("/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    admin = community.with_roles(community.resident(), ["admin", "volunteer"])
    sent = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body_ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if not body_ref or path == "/v1/auth/login" or method == "delete":
                continue
            schema = schemas[body_ref["$ref"].rsplit("/", 1)[1]]
            for field, value in itertools.product(schema.get("properties", {}), BROKEN_VALUES):
                resp = community.api.request(method.upper(), _path_for(path), json_body={field: value},
                                             token=admin.token)
                assert resp.status < 500, (method, path, field, value, resp.body)
                sent += 1
    assert sent > 250


def test_fuzz_login_never_answers_500(api):
    for value in BROKEN_VALUES:
        resp = api.post("/v1/auth/login", {"code": value})
        assert resp.status in (400, 401), (value, resp.body)


def test_fuzz_query_strings_never_answer_500(community):
    member = community.resident()
    for query in ("limit=0", "limit=101", "limit=abc", "cursor=garbage", "cursor=eyJhIjoxfQ.deadbeef",
                  "status=flying", "category=火箭", "limit=-5&cursor="):
        resp = member.get(f"/v1/wishes?{query}")
        assert resp.status == 400, (query, resp.body)


def test_odd_path_ids_are_404_not_500(community):
    admin = community.admin
    for bad in ("x" * 3000, "%00", "%E4%BD%A0%E5%A5%BD", "a%20b"):
        assert admin.get(f"/v1/wishes/{bad}").status == 404, bad
        assert admin.post(f"/v1/wishes/{bad}/claim").status in (403, 404), bad
        assert admin.put(f"/v1/admin/members/{bad}/roles", {"roles": []}).status == 404, bad
        assert admin.get(f"/v1/admin/invites/{bad}/qrcode").status == 404, bad


# --- descriptions, response headers, servers, the token's story -----------------------------------------------

def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_has_a_description_longer_than_its_summary(api):
    document = api.get("/v1/openapi.json").json
    for path, method, operation in _operations(document):
        label = f"{method.upper()} {path}"
        description = operation.get("description")
        assert isinstance(description, str) and description.strip(), f"{label} has no description"
        assert len(description) > len(operation["summary"]), label
        # roles are read on every request: nothing may say a role waits for the next login
        assert "下次登录" not in operation["summary"] + description, label
        assert "next login" not in description.lower(), label


def test_response_headers_are_declared(api):
    document = api.get("/v1/openapi.json").json
    headers = document["components"]["headers"]
    assert {"x-amzn-RequestId", "Retry-After", "Idempotent-Replayed"} <= set(headers)
    assert headers["Retry-After"]["schema"]["type"] == "integer"
    ref = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    for path, method, operation in _operations(document):
        label = f"{method.upper()} {path}"
        for status, response in operation["responses"].items():
            declared = response.get("headers", {})
            assert declared.get("x-amzn-RequestId") == ref["x-amzn-RequestId"], (label, status)
            if status in ("429", "503"):
                assert declared.get("Retry-After") == ref["Retry-After"], (label, status)
            else:
                assert "Retry-After" not in declared, (label, status)
        success = next(s for s in operation["responses"] if s.startswith("2"))
        replayed = operation["responses"][success].get("headers", {}).get("Idempotent-Replayed")
        if method in ("post", "put", "patch", "delete") and "security" in operation:
            assert replayed == ref["Idempotent-Replayed"], label
        else:  # reads, and login (public: no Idempotency-Key record)
            assert replayed is None, label
    assert "429" in document["paths"]["/v1/wishes"]["post"]["responses"]
    assert "503" in document["paths"]["/v1/health"]["get"]["responses"]


def test_servers_name_the_local_stack_and_the_deployed_api(api):
    document = api.get("/v1/openapi.json").json
    servers = document["servers"]
    assert servers and all(server.get("description") for server in servers)
    assert servers[0]["url"] == "http://127.0.0.1:8000"
    deployed = [s for s in servers if s.get("variables")]
    assert deployed and deployed[0]["url"].startswith("https://")
    for server in deployed:
        for name, variable in server["variables"].items():
            assert "{" + name + "}" in server["url"] and variable["default"]


def test_info_tells_the_mini_program_what_to_do_with_an_expired_token(api):
    info = api.get("/v1/openapi.json").json["info"]["description"]
    for words in ("token_expired", "wx.login", "POST /v1/auth/login", "401", "expires_in", "重试一次"):
        assert words in info, words


def test_real_answers_carry_the_documented_headers(community):
    member = community.resident()
    ok = member.get("/v1/me")
    refused = community.api.get("/v1/me")  # no token: 401
    for resp in (ok, refused):
        request_id = {k.lower(): v for k, v in resp.headers.items()}.get("x-amzn-requestid")
        assert request_id, resp.headers
    assert ok.headers["x-amzn-RequestId"] != refused.headers["x-amzn-RequestId"]
    key = {"Idempotency-Key": "openapi-headers-1"}
    body = {"title": "换灯泡", "content": "楼道灯坏了", "category": "维修"}
    first = member.post("/v1/wishes", body, headers=key)
    again = member.post("/v1/wishes", body, headers=key)
    assert first.status == again.status == 201 and first.json == again.json
    assert "Idempotent-Replayed" not in first.headers and again.headers.get("Idempotent-Replayed") == "true"
    assert again.headers["x-amzn-RequestId"] != first.headers["x-amzn-RequestId"]
