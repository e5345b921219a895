"""The member directory (成员名录, issue 21): GET /v1/admin/members and GET /v1/admin/members/{user_id}, and a
member's 积分存折 as staff see it (GET /v1/admin/members/{user_id}/points).

Over HTTP against moto. Each list is one Query on a key built for it, kept by the transactions that change a
member: so the tests are sequences — a name changed then searched by its old and new value, a role given and taken,
a phone bound, a member moved to another grid, an account deleted — and after each, the lists and the directory's
items are what the member is now (``entries``: the member's items, read from the table, against
``domain/directory.entry_keys``).
"""
from __future__ import annotations

import pytest

from tongxin.adapters.dynamo.models import MemberEntryModel, UserModel
from tongxin.domain import directory as rules
from tongxin.domain.errors import Conflict
from tongxin.usecases import access, directory, identity

PHONE = "13812345678"


def ids(resp) -> list[str]:
    assert resp.status == 200, resp.body
    return [m["id"] for m in resp.json["items"]]


def walk(member, query: str, limit: int = 2) -> list[str]:
    """Every page of a list, following next_cursor."""
    found, cursor = [], None
    sep = "&" if query else ""
    for _ in range(50):
        path = f"/v1/admin/members?{query}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        resp = member.get(path)
        assert resp.status == 200, resp.body
        found += [m["id"] for m in resp.json["items"]]
        cursor = resp.json["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("the list never ended")


def stored(community_id: str, user_id: str) -> set[str]:
    return {e.entry_key for e in MemberEntryModel.query(community_id) if e.user_id == user_id}


def expected(user_id: str) -> set[str]:
    return {key for _, key in directory.keys_of(UserModel.get(user_id, consistent_read=True))}


def assert_in_step(community_id: str, user_id: str) -> None:
    assert stored(community_id, user_id) == expected(user_id)


@pytest.fixture
def town(community):
    c = community
    c.res = c.resident(0)
    c.vol = c.volunteer(0)
    c.far = c.resident(1)
    c.worker = c.grid_worker(0)
    return c


def test_an_admin_lists_every_member_newest_first_with_phones_whole(town, wechat):
    assert town.res.post("/v1/me/phone", {"code": wechat.issue_phone_code(PHONE)}).status == 200
    resp = town.admin.get("/v1/admin/members")
    everyone = ids(resp)
    assert everyone == [town.worker.id, town.far.id, town.vol.id, town.res.id, town.admin.id]
    assert resp.json["next_cursor"] is None
    res = next(m for m in resp.json["items"] if m["id"] == town.res.id)
    assert res["phone"] == PHONE and res["roles"] == ["resident"] and res["grid_id"] == town.grid_ids[0]
    assert set(res) == {"id", "nickname", "real_name", "roles", "grid_id", "grid_ids", "store_ids", "phone",
                        "volunteer_minutes", "points_balance", "joined_at", "managed"}
    assert res["managed"] is False  # 代办: a resident without WeChat (tests/api/test_managed_residents.py) is True
    vol = next(m for m in resp.json["items"] if m["id"] == town.vol.id)
    assert vol["real_name"] == "王志愿" and vol["roles"] == ["resident", "volunteer"]
    worker = next(m for m in resp.json["items"] if m["id"] == town.worker.id)
    assert worker["grid_ids"] == [town.grid_ids[0]]
    assert walk(town.admin, "", limit=2) == everyone  # pages of 2, nothing twice, nothing lost


def test_a_grid_worker_sees_their_grid_only_with_phones_masked(town, wechat):
    assert town.res.post("/v1/me/phone", {"code": wechat.issue_phone_code(PHONE)}).status == 200
    resp = town.worker.get("/v1/admin/members")
    assert set(ids(resp)) == {town.res.id, town.vol.id, town.worker.id}  # grid 0's; not far (grid 1), not the admin
    res = next(m for m in resp.json["items"] if m["id"] == town.res.id)
    assert res["phone"] == "138****5678"
    assert set(ids(town.worker.get(f"/v1/admin/members?grid_id={town.grid_ids[0]}"))) == set(ids(resp))
    other = town.worker.get(f"/v1/admin/members?grid_id={town.grid_ids[1]}")
    assert other.status == 403 and other.error_code == "FORBIDDEN"
    # A worker of both grids: their first grid (in id order) unless they name the other.
    both = town.with_roles(town.resident(1), ["grid_worker"], [0, 1])
    first, second = sorted(town.grid_ids)
    assert town.far.id in ids(both.get(f"/v1/admin/members?grid_id={town.grid_ids[1]}"))
    listed = ids(both.get("/v1/admin/members"))
    assert (town.far.id in listed) == (first == town.grid_ids[1])


def test_residents_volunteers_and_keepers_are_refused(town):
    for member in (town.res, town.vol):
        resp = member.get("/v1/admin/members")
        assert resp.status == 403 and resp.error_code == "FORBIDDEN"
        assert member.get(f"/v1/admin/members/{town.res.id}").status == 403


def test_a_nickname_changed_is_found_by_its_new_value_not_its_old(town):
    assert town.res.patch("/v1/me", {"nickname": "张阿姨"}).status == 200
    assert ids(town.admin.get("/v1/admin/members?q=张")) == [town.res.id]
    assert town.res.patch("/v1/me", {"nickname": "李大爷"}).status == 200
    assert ids(town.admin.get("/v1/admin/members?q=张")) == []
    assert ids(town.admin.get("/v1/admin/members?q=李大")) == [town.res.id]
    assert ids(town.worker.get("/v1/admin/members?q=李")) == [town.res.id]  # the grid's search key too
    assert ids(town.admin.get("/v1/admin/members?q=大爷")) == []  # a prefix, not a substring
    # the same change twice: nothing moves, nothing doubles
    assert town.res.patch("/v1/me", {"nickname": "李大爷"}).status == 200
    assert_in_step(town.id, town.res.id)


def test_search_is_normalised_width_and_case(town):
    assert town.res.patch("/v1/me", {"nickname": "Alice Wang"}).status == 200
    for q in ("ali", "ALICE", "ａｌｉｃｅ", "alice wa", "alicewang"):
        assert ids(town.admin.get(f"/v1/admin/members?q={q}")) == [town.res.id], q


def test_the_phones_last_four_digits_find_the_member(town, wechat):
    assert town.res.post("/v1/me/phone", {"code": wechat.issue_phone_code(PHONE)}).status == 200
    found = town.admin.get("/v1/admin/members?q=5678")
    assert ids(found) == [town.res.id] and found.json["items"][0]["phone"] == PHONE
    masked = town.worker.get("/v1/admin/members?q=5678")
    assert ids(masked) == [town.res.id] and masked.json["items"][0]["phone"] == "138****5678"
    assert ids(town.admin.get("/v1/admin/members?q=1234")) == []  # not the middle digits
    # a new number: the old last four no longer find them
    assert town.res.post("/v1/me/phone", {"code": wechat.issue_phone_code("13900001111")}).status == 200
    assert ids(town.admin.get("/v1/admin/members?q=5678")) == []
    assert ids(town.admin.get("/v1/admin/members?q=1111")) == [town.res.id]
    assert_in_step(town.id, town.res.id)


def test_the_real_name_of_a_volunteer_registration(town):
    assert town.res.post("/v1/me/volunteer", {"real_name": "赵铁柱"}).status == 200
    assert ids(town.admin.get("/v1/admin/members?q=赵")) == [town.res.id]
    assert town.res.id in ids(town.admin.get("/v1/admin/members?role=volunteer"))
    assert town.res.post("/v1/me/volunteer", {"real_name": "钱铁柱"}).status == 200  # registering again
    assert ids(town.admin.get("/v1/admin/members?q=赵")) == []
    assert ids(town.admin.get("/v1/admin/members?q=钱铁")) == [town.res.id]
    assert_in_step(town.id, town.res.id)


def test_roles_given_and_taken_move_the_role_lists(town):
    def with_role(role, member=town.admin, extra=""):
        return set(walk(member, f"role={role}{extra}", limit=100))

    assert with_role("volunteer") == {town.vol.id}
    assert with_role("admin") == {town.admin.id}
    assert with_role("grid_worker") == {town.worker.id}
    town.with_roles(town.res, ["party_member", "volunteer"])
    assert with_role("party_member") == {town.res.id} and with_role("volunteer") == {town.vol.id, town.res.id}
    assert with_role("party_member", town.worker) == {town.res.id}  # within the worker's grid
    town.with_roles(town.res, ["party_member"])  # volunteer taken away
    assert with_role("volunteer") == {town.vol.id}
    assert with_role("volunteer", town.worker) == {town.vol.id}
    town.with_roles(town.res, [])
    assert with_role("party_member") == set()
    assert with_role("resident") == {town.admin.id, town.res.id, town.vol.id, town.far.id, town.worker.id}
    assert_in_step(town.id, town.res.id)
    # role with grid: one key; a grid 1 volunteer is not a grid 0 volunteer
    far_vol = town.volunteer(1)
    assert with_role("volunteer", extra=f"&grid_id={town.grid_ids[1]}") == {far_vol.id}
    assert with_role("volunteer", extra=f"&grid_id={town.grid_ids[0]}") == {town.vol.id}


def test_a_search_with_a_role_is_checked_within_the_page(town):
    for member, name in ((town.res, "周一"), (town.vol, "周二"), (town.far, "周三")):
        assert member.patch("/v1/me", {"nickname": name}).status == 200
    first = town.admin.get("/v1/admin/members?q=周&role=volunteer&limit=1")
    # the page read one entry (周一, not a volunteer): empty, with a cursor to go on
    assert first.json["items"] == [] and first.json["next_cursor"]
    assert walk(town.admin, "q=周&role=volunteer", limit=1) == [town.vol.id]
    # in the text's order (code points: 一 U+4E00 < 三 U+4E09 < 二 U+4E8C)
    assert walk(town.admin, "q=周", limit=1) == [town.res.id, town.far.id, town.vol.id]


def test_moving_to_another_grid_moves_the_grid_lists(town):
    town.res.patch("/v1/me", {"nickname": "孙悟空"})
    resp = town.res.post("/v1/me/community", {"invite": town.invite(1)})
    assert resp.status == 200, resp.body
    assert town.res.id not in ids(town.worker.get("/v1/admin/members"))
    assert ids(town.worker.get("/v1/admin/members?q=孙")) == []
    assert town.res.id in ids(town.admin.get(f"/v1/admin/members?grid_id={town.grid_ids[1]}"))
    assert ids(town.admin.get(f"/v1/admin/members?grid_id={town.grid_ids[1]}&q=孙")) == [town.res.id]
    assert_in_step(town.id, town.res.id)


def test_a_deleted_account_leaves_the_directory(town):
    town.res.patch("/v1/me", {"nickname": "钱多多"})
    assert town.res.delete("/v1/me").status == 204
    assert town.res.id not in ids(town.admin.get("/v1/admin/members"))
    assert ids(town.admin.get("/v1/admin/members?q=钱")) == []
    assert stored(town.id, town.res.id) == set()
    resp = town.admin.get(f"/v1/admin/members/{town.res.id}")
    assert resp.status == 404 and resp.error_code == "NOT_FOUND"


def test_another_communitys_member_is_not_there(town, api):
    from tests.support import make_community
    elsewhere = make_community(api)
    stranger = elsewhere.resident(0)
    stranger.patch("/v1/me", {"nickname": "外人"})
    assert town.admin.get(f"/v1/admin/members/{stranger.id}").status == 404
    assert town.admin.get("/v1/admin/members/u_nobody").status == 404
    assert ids(town.admin.get("/v1/admin/members?q=外人")) == []
    assert ids(elsewhere.admin.get("/v1/admin/members?q=外人")) == [stranger.id]
    assert stranger.id not in ids(town.admin.get(f"/v1/admin/members?grid_id={elsewhere.grid_ids[0]}"))


def test_one_member_admins_see_whole_grid_workers_masked(town, wechat):
    assert town.res.post("/v1/me/phone", {"code": wechat.issue_phone_code(PHONE)}).status == 200
    whole = town.admin.get(f"/v1/admin/members/{town.res.id}")
    assert whole.status == 200 and whole.json["phone"] == PHONE and whole.json["id"] == town.res.id
    masked = town.worker.get(f"/v1/admin/members/{town.res.id}")
    assert masked.status == 200 and masked.json["phone"] == "138****5678"
    other_grid = town.worker.get(f"/v1/admin/members/{town.far.id}")
    assert other_grid.status == 403 and other_grid.error_code == "FORBIDDEN"
    # the worker's grid taken away: refused at once
    town.with_roles(town.worker, [])
    assert town.worker.get(f"/v1/admin/members/{town.res.id}").status == 403
    assert town.worker.get("/v1/admin/members").status == 403


# --- a member's 积分存折 as staff see it: GET /v1/admin/members/{user_id}/points ------------------------------------

def award(by, member, points: int, reason: str, category: str = "participation") -> dict:
    resp = by.post("/v1/points/awards", {"user_id": member.id, "category": category, "points": points,
                                         "reason": reason})
    assert resp.status == 201, resp.body
    return resp.json


def test_an_admin_sees_a_members_passbook_as_the_member_does(town, api):
    given = award(town.admin, town.res, 15, "打扫楼道")
    resp = town.admin.get(f"/v1/admin/members/{town.res.id}/points")
    assert resp.status == 200, resp.body
    book = resp.json
    assert (book["balance"], book["earned_total"], book["next_cursor"]) == (15, 15, None)
    assert [(e["kind"], e["amount"], e["balance_after"], e["source"]) for e in book["items"]] == [
        ("award", 15, 15, f"award:{given['id']}")]
    assert "打扫楼道" in book["items"][0]["note"]
    assert dict(api.last_meter.dynamo) == {"GetItem": 2, "Query": 1}  # the caller, the member; the ledger
    assert book == town.res.get("/v1/me/points").json  # the member's own passbook, entry for entry
    # the grid's worker too; the member's balance on the detail is the passbook's
    assert town.worker.get(f"/v1/admin/members/{town.res.id}/points").json == book
    assert town.admin.get(f"/v1/admin/members/{town.res.id}").json["points_balance"] == 15


def test_a_members_passbook_pages_newest_first(town):
    for points, reason in ((5, "第一次"), (6, "第二次"), (7, "第三次")):
        award(town.admin, town.vol, points, reason)
    path = f"/v1/admin/members/{town.vol.id}/points"
    first = town.admin.get(f"{path}?limit=2")
    assert first.status == 200 and first.json["next_cursor"], first.body
    assert [e["amount"] for e in first.json["items"]] == [7, 6]
    second = town.admin.get(f"{path}?limit=2&cursor={first.json['next_cursor']}")
    assert second.status == 200, second.body
    assert [e["amount"] for e in second.json["items"]] == [5] and second.json["next_cursor"] is None
    assert second.json["balance"] == 18 and second.json["earned_total"] == 18
    # the member's own cursor is for the same list; another list's is refused
    other = town.admin.get("/v1/admin/members?limit=1").json["next_cursor"]
    refused = town.admin.get(f"{path}?cursor={other}")
    assert refused.status == 400 and refused.json["error"]["details"]["field"] == "cursor"


def test_a_members_passbook_is_refused_as_the_member_detail_is(town, api):
    from tests.support import make_community
    award(town.admin, town.far, 3, "帮忙搬东西")
    for who, member in ((town.worker, town.far), (town.res, town.far), (town.vol, town.res)):
        detail = who.get(f"/v1/admin/members/{member.id}")
        book = who.get(f"/v1/admin/members/{member.id}/points")
        assert book.status == detail.status == 403 and book.error_code == "FORBIDDEN", book.body
    elsewhere = make_community(api)
    stranger = elsewhere.resident(0)
    for path in (f"/v1/admin/members/{stranger.id}/points", "/v1/admin/members/u_nobody/points"):
        resp = town.admin.get(path)
        assert resp.status == 404 and resp.error_code == "NOT_FOUND", path
    assert elsewhere.admin.get(f"/v1/admin/members/{town.far.id}/points").status == 404
    assert town.far.delete("/v1/me").status == 204
    assert town.admin.get(f"/v1/admin/members/{town.far.id}/points").status == 404


@pytest.mark.parametrize("query, field", [("role=mayor", "role"), ("q=%20%20", "q"), ("q=%23%23", "q"),
                                          ("limit=0", "limit"), ("q=" + "长" * 21, "q"), ("grid_id=a%2Fb", "grid_id"),
                                          ("cursor=forged.abc", "cursor")])
def test_bad_input_is_400_naming_the_field(town, query, field):
    resp = town.admin.get(f"/v1/admin/members?{query}")
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", resp.body
    assert resp.json["error"]["details"]["field"] == field
    if field == "role":
        assert "volunteer" in resp.json["error"]["details"]["allowed"]


def test_a_cursor_works_only_for_the_list_that_made_it(town):
    cursor = town.admin.get("/v1/admin/members?limit=1").json["next_cursor"]
    assert cursor
    resp = town.admin.get(f"/v1/admin/members?role=volunteer&cursor={cursor}")
    assert resp.status == 400 and resp.json["error"]["details"]["field"] == "cursor"


def test_a_page_is_one_query_and_one_batch_read(town, api):
    town.admin.get("/v1/admin/members?limit=3")
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}
    town.admin.get(f"/v1/admin/members?q=x&role=admin&grid_id={town.grid_ids[0]}")
    assert dict(api.last_meter.dynamo) in ({"GetItem": 1, "Query": 1}, {"GetItem": 1, "Query": 1, "BatchGetItem": 1})
    town.admin.get(f"/v1/admin/members/{town.res.id}")
    assert dict(api.last_meter.dynamo) == {"GetItem": 2}


def test_a_change_from_a_stale_read_is_refused_and_leaves_no_ghost(town):
    """The nickname changed between the read and the write (another request of the same member): the write's
    condition on the fields as read fails, 409, and the directory holds the member's entries as they are now."""
    stale = UserModel.get(town.res.id, consistent_read=True)
    assert town.res.patch("/v1/me", {"nickname": "新名字"}).status == 200
    principal = access.principal_of(stale)
    access._user.set(stale)
    try:
        with pytest.raises(Conflict):
            identity.update_me(principal, {"nickname": "第三个名字"})
    finally:
        access.forget()
    assert_in_step(town.id, town.res.id)
    assert ids(town.admin.get("/v1/admin/members?q=新名字")) == [town.res.id]
    assert ids(town.admin.get("/v1/admin/members?q=第三")) == []


def test_the_entries_are_the_domains_keys(town):
    assert town.worker.patch("/v1/me", {"nickname": "网格员小李"}).status == 200
    member = directory.member_of(UserModel.get(town.worker.id, consistent_read=True))
    keys = rules.entry_keys(member)
    g = town.grid_ids[0]
    assert {k.split("#")[0] for k in keys} == {"all", "role", "q", "grid", "gr", "gq"}
    assert any(k.startswith(f"gr#{g}#grid_worker#") for k in keys)
    for user in (town.admin, town.res, town.vol, town.far, town.worker):
        assert_in_step(town.id, user.id)


def test_the_demo_seed_is_in_the_directory(api):
    """The local stack's demo community (infra/local/seed.py) writes its members' entries as the use cases do."""
    from infra.local import seed
    seed.seed()
    admin, grid1 = api.login("admin"), api.login("grid1")
    everyone = walk(admin, "", limit=100)
    assert len(everyone) == 14 and "u_demo_street1" not in everyone  # street staff belong to no community
    assert ids(admin.get("/v1/admin/managed-residents")) == [seed.MANAGED_RESIDENT]  # 代办: 赵桂芳, no WeChat
    assert set(walk(admin, "role=volunteer", limit=100)) == {f"u_demo_vol{i}" for i in range(1, 6)}
    assert ids(admin.get("/v1/admin/members?q=居民5")) == ["u_demo_res5"]
    assert ids(grid1.get("/v1/admin/members?q=居民5")) == []  # grid 2: not grid1's
    assert ids(grid1.get("/v1/admin/members?q=志愿者1")) == ["u_demo_vol1"]
    for user_id in everyone:
        assert_in_step(seed.COMMUNITY_ID, user_id)


def test_the_operators_rebuild_gives_members_written_before_the_directory_their_entries(town, capsys):
    """Tables written before the directory existed: the operator's ``rebuild-directory`` (command line) puts what is
    missing and removes what points nowhere; a second run changes nothing."""
    from tongxin import cli
    for entry in MemberEntryModel.query(town.id):
        if entry.user_id == town.res.id:
            entry.delete()
    MemberEntryModel(town.id, "q#ghost#u_gone", user_id="u_gone").save()
    assert town.res.id not in ids(town.admin.get("/v1/admin/members"))
    assert cli.main(["rebuild-directory"]) == 0
    assert town.res.id in ids(town.admin.get("/v1/admin/members"))
    assert_in_step(town.id, town.res.id)
    assert [e for e in MemberEntryModel.query(town.id) if e.user_id == "u_gone"] == []
    capsys.readouterr()
    assert cli.main(["rebuild-directory"]) == 0
    assert '"members_fixed": 0' in capsys.readouterr().out
