"""代管居民 (issue 25, part G) over HTTP: an admin or a grid worker of the grid registers a resident without WeChat
(POST /v1/admin/managed-residents); they are an active resident of the community and the grid, ``managed``, with no
openid (nobody signs in as them), in the member directory like everyone (``managed: true``) and in the managed list
(GET /v1/admin/managed-residents, one Query a page).

Sequences: by the admin and by the grid's worker, another grid's worker, a resident; an unknown grid; names empty
after trimming, at 20 and 21 characters, with a line break; phones; the list paged, by grid, for a worker of several
grids; a worker whose role was taken away; the same registration twice with one Idempotency-Key; exact calls."""
from __future__ import annotations

import uuid

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import IdentityModel, MemberEntryModel, UserModel

PATH = "/v1/admin/managed-residents"


class Town:
    def __init__(self, api):
        self.api = api
        self.c = make_community(api, grids=3)
        self.admin = self.c.admin
        self.worker = self.c.grid_worker(0)
        self.other_worker = self.c.grid_worker(1)
        self.other = make_community(api)

    def body(self, grid: int = 0, **extra) -> dict:
        return {"real_name": "李桂英", "grid_id": self.c.grid_ids[grid], **extra}


@pytest.fixture(scope="module")
def town(api):
    return Town(api)


def test_an_admin_registers_a_resident_without_wechat(town):
    resp = town.admin.post(PATH, town.body(0, phone="13912345678", address="幸福里 5 栋 302"))
    assert resp.status == 201, resp.body
    resident = resp.json
    assert resident["managed"] is True and resident["status"] == "active" and resident["roles"] == ["resident"]
    assert resident["community_id"] == town.c.id and resident["grid_id"] == town.c.grid_ids[0]
    assert resident["real_name"] == "李桂英" and resident["nickname"] == "李**"
    assert resident["phone"] == "13912345678" and resident["address"] == "幸福里 5 栋 302"  # the admin: whole
    assert resident["points_balance"] == 0 and resident["created_by"] == town.admin.id
    stored = UserModel.get(resident["id"])
    assert stored.openid is None and stored.managed is True
    # No identity maps to them: no WeChat login reaches this user.
    assert not [i for i in IdentityModel.scan(IdentityModel.user_id == resident["id"])]
    # The directory shows them like every member, marked managed.
    member = town.admin.get(f"/v1/admin/members/{resident['id']}")
    assert member.status == 200 and member.json["managed"] is True
    listed = town.admin.get(f"/v1/admin/members?grid_id={town.c.grid_ids[0]}&limit=100").json["items"]
    assert {m["id"]: m["managed"] for m in listed}[resident["id"]] is True
    assert {m["id"]: m["managed"] for m in listed}[town.worker.id] is False
    found = town.admin.get("/v1/admin/members?q=李桂").json["items"]
    assert resident["id"] in [m["id"] for m in found]


def test_a_grid_worker_registers_in_their_grid_only(town):
    mine = town.worker.post(PATH, town.body(0, phone="13912345678", address="幸福里 5 栋 302"))
    assert mine.status == 201, mine.body
    assert mine.json["phone"] == "139****5678" and mine.json["address"].endswith("****")  # a worker sees masked
    other = town.worker.post(PATH, town.body(1))
    assert other.status == 403 and other.error_code == "FORBIDDEN"
    assert town.c.resident(0).post(PATH, town.body(0)).status == 403
    assert town.c.volunteer(0).post(PATH, town.body(0)).status == 403
    assert town.other.admin.post(PATH, town.body(0)).status == 404  # not a grid of their community


def test_an_unknown_grid_is_404_and_writes_nothing(town):
    before = town.admin.get(f"{PATH}?limit=100").json["items"]
    resp = town.admin.post(PATH, {"real_name": "张三", "grid_id": "g_nosuchgrid"})
    assert resp.status == 404 and resp.json["error"]["details"] == {"field": "grid_id"}
    assert town.admin.get(f"{PATH}?limit=100").json["items"] == before


@pytest.mark.parametrize("body,status", [
    ({"real_name": ""}, 400), ({"real_name": "  \u200b "}, 400), ({"real_name": "张" * 21}, 400),
    ({"real_name": "张" * 20}, 201), ({"real_name": "张\n三"}, 400), ({"real_name": None}, 400),
    ({"phone": "12345"}, 400), ({"phone": "139123456789"}, 400), ({"phone": "13912345678"}, 201),
    ({"address": ""}, 400), ({"address": "路" * 101}, 400), ({"address": "路" * 100}, 201),
    ({"grid_id": ""}, 400), ({"grid_id": "../x"}, 400),
])
def test_input_at_its_edges(town, body, status):
    payload = {**town.body(0), **body}
    if body.get("real_name", "") is None:
        payload.pop("real_name")
    resp = town.admin.post(PATH, payload)
    assert resp.status == status, resp.body
    if status == 400:
        assert resp.error_code == "VALIDATION_FAILED" and resp.json["error"]["details"]


def test_the_same_registration_twice_with_one_key_is_one_resident(town):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = town.body(2, real_name="赵同键")
    first = town.admin.post(PATH, body, headers=key)
    again = town.admin.post(PATH, body, headers=key)
    assert first.status == again.status == 201 and first.json == again.json
    listed = town.admin.get(f"{PATH}?grid_id={town.c.grid_ids[2]}&limit=100").json["items"]
    assert [r["id"] for r in listed if r["real_name"] == "赵同键"] == [first.json["id"]]


def test_the_list_pages_newest_first_by_grid(town):
    grid = town.c.grid_ids[2]
    made = [town.admin.post(PATH, town.body(2, real_name=f"周{i}")).json["id"] for i in range(3)]
    seen, cursor = [], None
    while True:
        resp = town.admin.get(f"{PATH}?grid_id={grid}&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert resp.status == 200 and len(resp.json["items"]) <= 2
        assert town.api.last_meter.dynamo["Query"] == 1
        seen += [r["id"] for r in resp.json["items"]]
        cursor = resp.json["next_cursor"]
        if not cursor:
            break
    assert seen[:3] == made[::-1]
    assert all(r["managed"] for r in town.admin.get(f"{PATH}?limit=100").json["items"])
    # A worker of grid 0 sees grid 0's (their first) and is refused another grid's list.
    mine = town.worker.get(PATH)
    assert mine.status == 200 and {r["grid_id"] for r in mine.json["items"]} <= {town.c.grid_ids[0]}
    assert town.worker.get(f"{PATH}?grid_id={grid}").status == 403
    assert town.c.resident(0).get(PATH).status == 403
    assert town.admin.get(f"{PATH}?cursor=forged").status == 400


def test_a_worker_whose_role_was_taken_away_cannot_register(town):
    worker = town.c.grid_worker(0)
    assert worker.post(PATH, town.body(0)).status == 201
    town.c.with_roles(worker, [])
    assert worker.post(PATH, town.body(0)).status == 403


def test_registration_is_one_transaction_with_the_directory(town):
    resp = town.admin.post(PATH, town.body(1, real_name="钱一次", phone="13700001234"))
    calls = {op: n for op, n in town.api.last_meter.dynamo.items() if n}
    assert calls == {"GetItem": 1, "TransactWriteItems": 1}
    entries = [e.entry_key for e in MemberEntryModel.query(town.c.id) if e.user_id == resp.json["id"]]
    grid = town.c.grid_ids[1]
    assert any(k.startswith("managed#") for k in entries) and any(k.startswith(f"gm#{grid}#") for k in entries)
    assert any(k.startswith("q#1234#") for k in entries)  # found by the phone's last four digits
