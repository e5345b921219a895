"""The real local stack, started by the same entry point as ``make dev``, driven over HTTP."""
import pytest
import requests

from tests.stack import Client, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("stack") / "stack.log")
    yield running
    if running.process.poll() is None:
        running.process.kill()


def test_login_join_me_over_http(stack):
    newcomer = Client(stack.api_url).login("e2e-newcomer")
    assert newcomer.user["community_id"] is None
    joined = newcomer.adopt(newcomer.call("POST", "/v1/me/community", {"invite": "DEMOGRID1"}))
    assert joined.user["community_id"] == "c_demo" and joined.user["roles"] == ["resident"]
    me = newcomer.call("GET", "/v1/me").json()
    assert me["community_name"] == "同心示范社区" and me["grid_id"] == "g_demo1"


def test_demo_seed_is_the_documented_one(stack):
    res1 = Client(stack.api_url).login("res1").call("GET", "/v1/me").json()
    assert res1["points_balance"] == 200 and res1["grid_id"] == "g_demo1"
    assert "grid_worker" in Client(stack.api_url).login("grid1").user["roles"]
    assert "store_keeper" in Client(stack.api_url).login("store1").user["roles"]
    assert Client(stack.api_url).login("vol5").user["grid_id"] == "g_demo2"
    assert Client(stack.api_url).login("res5").user["grid_id"] == "g_demo2"
    admin = Client(stack.api_url).login("admin")
    assert {g["id"] for g in admin.call("GET", "/v1/admin/grids").json()["items"]} == {"g_demo1", "g_demo2"}
    ddb = stack.dynamodb()
    goods = ddb.query(TableName=stack.table("goods"), IndexName="by_store", KeyConditionExpression="store_id = :s",
                      ExpressionAttributeValues={":s": {"S": "s_demo1"}})["Items"]
    assert goods and all(int(g["stock"]["N"]) > 0 for g in goods)
    events = Client(stack.api_url).login("res1").call("GET", "/v1/events").json()["items"]
    assert {e["kind"] for e in events} == {"activity", "volunteer_service"}
    assert all(e["status"] == "open" and e["signed_count"] == 0 for e in events)


def test_event_tour_sign_up_and_waitlist_over_http(stack):
    """The README tour: the 招募令 of two places fills, the third volunteer waits, a place given up promotes them."""
    vol1, vol2, vol3 = (Client(stack.api_url).login(name) for name in ("vol1", "vol2", "vol3"))
    path = "/v1/events/ev_demo3/signup"
    assert vol1.call("POST", path).json()["status"] == "signed"
    assert vol2.call("POST", path).json()["status"] == "signed"
    waiting = vol3.call("POST", path).json()
    assert (waiting["status"], waiting["position"]) == ("waitlisted", 1)
    refused = Client(stack.api_url).login("res1").call("POST", path)  # a 招募令 takes volunteers only
    assert refused.status_code == 403
    assert vol1.call("DELETE", path).json()["event"]["signed_count"] == 2
    mine = vol3.call("GET", "/v1/events/ev_demo3").json()
    assert (mine["my_status"], mine["position"], mine["waitlist_count"]) == ("signed", None, 0)
    assert [e["id"] for e in vol3.call("GET", "/v1/me/events").json()["items"]] == ["ev_demo3"]


def test_wish_story_over_http(stack):
    author = Client(stack.api_url).login("res2")
    volunteer = Client(stack.api_url).login("vol2")
    wish = author.call("POST", "/v1/wishes", {"title": "帮忙修水龙头", "content": "厨房水龙头漏水", "category": "维修"})
    assert wish.status_code == 201
    wish_id = wish.json()["id"]
    assert volunteer.call("POST", f"/v1/wishes/{wish_id}/claim").status_code == 200
    assert volunteer.call("POST", f"/v1/wishes/{wish_id}/fulfil", {"note": "换了垫圈"}).status_code == 200
    confirmed = author.call("POST", f"/v1/wishes/{wish_id}/confirm", {"rating": 5})
    assert confirmed.status_code == 200 and confirmed.json()["points_awarded"] == 20
    assert volunteer.call("GET", "/v1/me").json()["points_balance"] == 20


def test_request_tour_over_http(stack):
    """The README's 接诉即办: res1 raises a request in grid 1; grid1 answers and blows the whistle; the community
    passes it to the street; the street's staff (street1, in no community) answer and solve it; res1's first low
    rating sends it back once, the second rating closes it. Every step is on the timeline; the rates count it."""
    res1, grid1, admin, street1 = (Client(stack.api_url).login(n) for n in ("res1", "grid1", "admin", "street1"))
    assert street1.user["roles"] == ["street_staff"] and street1.user["community_id"] is None
    submitted = res1.call("POST", "/v1/requests", {"category": "设施维修", "content": "3号楼路灯不亮",
                                                   "location": {"address": "3号楼前", "lat": 30.0, "lng": 103.8}})
    assert submitted.status_code == 201, submitted.text
    request_id, path = submitted.json()["id"], f"/v1/requests/{submitted.json()['id']}"
    assert (submitted.json()["status"], submitted.json()["level"]) == ("submitted", "grid")
    assert street1.call("GET", path).status_code == 404  # not the street's business yet
    assert grid1.call("POST", f"{path}/accept").json()["status"] == "accepted"
    assert grid1.call("POST", f"{path}/escalate", {"reason": "需要电力部门"}).json()["level"] == "community"
    queue = admin.call("GET", "/v1/admin/requests").json()["items"]
    assert [(t["task"], t["request"]["id"]) for t in queue if t["request"]["id"] == request_id] == [
        ("answer_request", request_id)]
    assert admin.call("POST", f"{path}/escalate", {"reason": "协调供电所"}).json()["level"] == "street"
    tasks = street1.call("GET", "/v1/street/tasks").json()["items"]
    assert request_id in [t["request"]["id"] for t in tasks]
    assert street1.call("POST", f"{path}/accept").json()["handler"]["id"] == street1.user["id"]
    assert street1.call("POST", f"{path}/resolve", {"note": "已更换灯具"}).json()["status"] == "resolved"
    assert res1.call("POST", f"{path}/rate", {"satisfaction": 2}).json()["status"] == "reopened"
    assert street1.call("POST", f"{path}/resolve", {"note": "加装了感应灯"}).status_code == 200
    closed = res1.call("POST", f"{path}/rate", {"satisfaction": 5, "comment": "谢谢"}).json()
    assert (closed["status"], closed["outcome"]) == ("closed", "satisfied")
    assert [(e["action"], e["level"]) for e in closed["timeline"]] == [
        ("submit", "grid"), ("accept", "grid"), ("escalate", "grid"), ("escalate", "community"),
        ("accept", "street"), ("resolve", "street"), ("reopen", "street"), ("resolve", "street"),
        ("close", "street")]
    stats = street1.call("GET", "/v1/admin/requests/stats").json()
    assert stats["scope"] == "street" and stats["by_community"][0]["community_id"] == "c_demo"
    assert stats["satisfied"] >= 1 and stats["reopened"] >= 1


def test_check_in_tour_over_http(stack):
    """The README's check-in: an event starting in 20 minutes, the organiser's rotating code, a scan, a double
    scan, the record and the month's export."""
    from datetime import datetime, timedelta, timezone
    shanghai = timezone(timedelta(hours=8))
    start = datetime.now(shanghai) + timedelta(minutes=20)
    admin, vol = Client(stack.api_url).login("admin"), Client(stack.api_url).login("vol4")
    event = admin.call("POST", "/v1/events", {
        "title": "垃圾分类督导", "kind": "volunteer_service", "starts_at": start.isoformat(timespec="seconds"),
        "ends_at": (start + timedelta(hours=2)).isoformat(timespec="seconds"), "capacity": 10,
        "points_per_hour": 10}).json()
    assert vol.call("POST", f"/v1/events/{event['id']}/signup").status_code == 201
    code = admin.call("GET", f"/v1/events/{event['id']}/qrcode?format=json").json()
    assert len(code["code"]) <= 32 and code["valid_until"]
    first = vol.call("POST", "/v1/checkins", {"code": code["code"]})
    assert first.status_code == 200 and first.json()["action"] == "check_in"
    again = vol.call("POST", "/v1/checkins", {"code": code["code"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_CHECKED_IN"
    forged = vol.call("POST", "/v1/checkins", {"code": code["code"][:-1] + ("A" if code["code"][-1] != "A" else "B")})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "CODE_INVALID"
    record = vol.call("GET", "/v1/me/volunteer-record").json()
    assert [item["event"]["id"] for item in record["items"]][:1] == [event["id"]]
    export = admin.call("GET", f"/v1/admin/exports/volunteer-hours?month={start.strftime('%Y-%m')}")
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbf") and "垃圾分类督导" in export.text
    png = admin.call("GET", f"/v1/events/{event['id']}/qrcode?format=png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_every_invariant_holds_after_the_tours(stack):  # before the stack stops
    stack.check_invariants()


def test_ctrl_c_stops_everything(stack):  # last: it stops the module's stack
    code, output = stack.stop()
    assert code == 0 and "local stack is up" in output and "stopped" in output
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.api_url + "/v1/health", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.wechat_url + "__dev/health", timeout=2)
