"""志愿服务记录证明 and 代办 from outside (issue 25's "Done when"), over HTTP against ``make dev``'s stack.

A volunteer serves 45 minutes (a 招募令 scanned in and out), asks for a certificate, the admin issues it; the PDF is a
real PDF whose text holds the name, the hours and the number; anyone checks it publicly by number and name; the
admin revokes it and the check says so. The demo grid worker registers a resident without WeChat, publishes a wish
and redeems goods for them (the admin had awarded points), the proxy log shows both with the worker and the reason;
the admin issues a binding code, the resident signs in with WeChat for the first time, binds, and sees their points,
wish and redemption; the next login lands on the same account. The module's stack then holds every invariant."""
from __future__ import annotations

import io
import uuid

import pytest

from tests.e2e.outside import attend, need, ok, only, refused
from tests.stack import Client, stack_fixture, volunteer

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:6]  # fresh dev users of this module
REAL_NAME = "林晓燕"
REASON = "老人无智能手机，本人到社区服务站委托"
STORE_ID = "s_demo1"  # the demo store of infra/local/seed.py

stack = stack_fixture()


@pytest.fixture(scope="module")
def people(stack) -> dict[str, Client]:
    return {name: Client(stack.api_url).login(name) for name in ("admin", "grid1")}


@pytest.fixture(scope="module")
def walk() -> dict:
    return {}


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_volunteer_serves_and_the_admin_issues_a_certificate(stack, people, walk):
    admin = people["admin"]
    member = volunteer(stack.api_url, f"cert{RUN}", real_name=REAL_NAME)
    attendance = attend(stack, admin, member, minutes=45)
    assert attendance["minutes"] >= 45, attendance
    # Dates are Shanghai's: the service counts on its check-in's day, which near midnight is the day before the
    # check-out's.
    first, last = attendance["checked_in_at"][:10], attendance["checked_out_at"][:10]
    asked = ok(member.call("POST", "/v1/me/certificates", {"from": first, "to": last, "purpose": "升学材料"}), 201)
    assert asked["status"] == "pending"
    pending = ok(admin.call("GET", "/v1/admin/certificates", params={"status": "pending"}))["items"]
    assert only([c for c in pending if c["id"] == asked["id"]], "pending certificate")
    issued = ok(admin.call("POST", f"/v1/admin/certificates/{asked['id']}/issue", {}))
    assert issued["status"] == "issued" and issued["number"] and issued["total_minutes"] == attendance["minutes"]
    walk.update(member=member, cert=issued, minutes=attendance["minutes"])


def test_the_pdf_is_a_real_pdf_with_the_name_the_hours_and_the_number(people, walk):
    need(walk, "cert")
    member, cert, minutes = walk["member"], walk["cert"], walk["minutes"]
    pdf = member.call("GET", f"/v1/certificates/{cert['id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    text = pdf_text(pdf.content)
    assert minutes < 60, minutes  # 45 served, and the walk does not take a quarter of an hour
    hours = f"{minutes} 分钟"  # under an hour: minutes alone
    for expected in (REAL_NAME, cert["number"], hours, "志愿服务记录证明", "社区义诊志愿服务", "同心社区服务中心"):
        assert expected in text, (expected, text)
    # Another resident cannot read it: to them it does not exist.
    stranger = Client(member.base).login(f"stranger{RUN}")
    refused(stranger.call("GET", f"/v1/certificates/{cert['id']}/pdf"), 404, "NOT_FOUND")


def test_anyone_verifies_it_and_sees_it_revoked(people, walk):
    need(walk, "cert")
    cert, minutes = walk["cert"], walk["minutes"]
    anyone = Client(walk["member"].base)  # no login
    check = {"number": cert["number"], "name": REAL_NAME}
    found = ok(anyone.call("GET", "/v1/certificates/verify", params=check))
    assert (found["valid"], found["status"], found["total_minutes"]) == (True, "issued", minutes), found
    assert found["name_masked"] != REAL_NAME and found["name_masked"].startswith(REAL_NAME[0])
    wrong = ok(anyone.call("GET", "/v1/certificates/verify", params={**check, "name": "王小明"}))
    assert wrong["valid"] is False
    page = anyone.call("GET", f"/v/{cert['number']}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert cert["number"] in page.text

    revoked = ok(people["admin"].call("POST", f"/v1/admin/certificates/{cert['id']}/revoke", {"reason": "时长登记有误"}))
    assert revoked["status"] == "revoked"
    found = ok(anyone.call("GET", "/v1/certificates/verify", params=check))
    assert (found["valid"], found["status"]) == (False, "revoked"), found


def test_the_grid_worker_publishes_a_wish_and_redeems_for_a_managed_resident(people, walk):
    admin, worker = people["admin"], people["grid1"]
    resident = ok(worker.call("POST", "/v1/admin/managed-residents", {
        "real_name": "赵桂芳", "grid_id": "g_demo1", "phone": "13900001234", "address": "幸福里 5 栋 101"}), 201)
    assert resident["managed"] is True
    rid = resident["id"]
    ok(admin.call("POST", "/v1/points/awards", {"user_id": rid, "category": "charity", "points": 30,
                                               "reason": "捐赠旧衣物"}), 201)
    wish = ok(worker.call("POST", f"/v1/proxy/{rid}/wishes", {
        "title": "帮忙修理收音机", "content": "家里的收音机坏了，想请人帮忙看看", "category": "生活帮扶",
        "reason": REASON}), 201)
    assert wish["author"]["id"] == rid
    goods = [g for g in ok(worker.call("GET", f"/v1/stores/{STORE_ID}/goods"))["items"] if g["price_points"] <= 30]
    towel = goods[0]
    redeemed = ok(worker.call("POST", f"/v1/proxy/{rid}/redemptions", {
        "goods_id": towel["id"], "quantity": 1, "reason": REASON}), 201)
    log = ok(admin.call("GET", "/v1/admin/proxy-log", params={"user_id": rid}))["items"]
    assert [(e["kind"], e["result_id"]) for e in log] == [("redemption", redeemed["id"]), ("wish", wish["id"])]
    for entry in log:
        assert entry["actor"]["id"] == worker.user["id"] and entry["reason"] == REASON
        assert entry["subject"] == {"id": rid, "real_name": "赵桂芳"}
    walk.update(resident=rid, wish=wish, redemption=redeemed, balance=30 - towel["price_points"])


def test_the_resident_binds_wechat_and_sees_their_points(stack, people, walk):
    need(walk, "resident")
    admin, rid = people["admin"], walk["resident"]
    code = ok(admin.call("POST", f"/v1/admin/managed-residents/{rid}/binding-code"), 201)["code"]
    own = Client(stack.api_url).login(f"bind{RUN}")  # the resident's first WeChat sign-in
    old_token = own.token
    bound = own.adopt(own.call("POST", "/v1/me/bind", {"code": code}))
    assert bound.user["id"] == rid and bound.user["points_balance"] == walk["balance"]
    me = ok(own.call("GET", "/v1/me"))
    assert me["points_balance"] == walk["balance"] and me["community_name"]
    assert [w["id"] for w in ok(own.call("GET", "/v1/wishes/mine"))["items"]] == [walk["wish"]["id"]]
    assert [r["id"] for r in ok(own.call("GET", "/v1/redemptions/mine"))["items"]] == [walk["redemption"]["id"]]
    stale = Client(stack.api_url)
    stale.token = old_token
    assert stale.call("GET", "/v1/me").status_code == 401  # the empty account the first sign-in made is retired
    again = Client(stack.api_url).login(f"bind{RUN}")
    assert again.user["id"] == rid
    refused(Client(stack.api_url).login(f"late{RUN}").call("POST", "/v1/me/bind", {"code": code}), 404,
            "BINDING_CODE_INVALID")
    # Staff act for them no longer: they have WeChat now.
    refused(people["grid1"].call("POST", f"/v1/proxy/{rid}/wishes", {
        "title": "帮忙", "content": "再帮个忙", "category": "生活帮扶", "reason": REASON}), 409, "HAS_ACCOUNT")


def test_the_stack_holds_every_invariant(stack):
    stack.check_invariants()
