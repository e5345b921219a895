"""微星光 commendations (issue 24, part B) over HTTP: an admin commends a member of the community for a month or a
year; the commendation and the person's profile (``commendations_count``, ``latest_commendation`` on GET /v1/me) are
ONE transaction conditioned on the person still being a member; the community's list (newest first, O(page), names
masked for residents); revocation (out of the lists, the count down, the latest moved back); the month's candidates
from the leaderboards. Edges: periods 1999-12 / 2000-01 / next month / 2026-13 / year 1 / 9999, text empty after
trimming and at its maximum, risky text, the same call twice, a role taken away in between, a person who leaves
between the admin's view and the write."""
from __future__ import annotations

import threading
import uuid

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import CounterModel, ScoreModel, UserModel
from tongxin.domain.clock import SHANGHAI, utcnow
from tongxin.usecases import commendations as commendation_usecases

STORY = "常年义务为独居老人理发，十年如一日。"


@pytest.fixture(scope="module")
def c(api, fresh_tables_per_module):
    return make_community(api)


@pytest.fixture(scope="module")
def other(api, fresh_tables_per_module):
    return make_community(api)


def this_month() -> str:
    now = utcnow().astimezone(SHANGHAI)
    return f"{now.year:04d}-{now.month:02d}"


def next_month() -> str:
    now = utcnow().astimezone(SHANGHAI)
    year, month = (now.year, now.month + 1) if now.month < 12 else (now.year + 1, 1)
    return f"{year:04d}-{month:02d}"


def commend(c, person, *, title: str = "优秀志愿者", period: str | None = None, story: str = STORY, by=None):
    return (by or c.admin).post("/v1/admin/commendations", {"user_id": person.id, "title": title, "story": story,
                                                           "period": this_month() if period is None else period})


def given(c, person, **kw) -> dict:
    resp = commend(c, person, **kw)
    assert resp.status == 201, resp.body
    return resp.json


def me(person) -> dict:
    resp = person.get("/v1/me")
    assert resp.status == 200, resp.body
    return resp.json


def listed(member, query: str = "") -> list[dict]:
    resp = member.get(f"/v1/commendations{query}")
    assert resp.status == 200, resp.body
    return resp.json["items"]


def revoke(c, commendation_id: str, reason: str = "材料有误", by=None):
    return (by or c.admin).post(f"/v1/admin/commendations/{commendation_id}/revoke", {"reason": reason})


# --- commending and the profile ------------------------------------------------------------------------------------

def test_an_admin_commends_a_member_shown_on_the_profile_and_in_the_list(c):
    person = c.resident(0)
    assert person.patch("/v1/me", {"nickname": "张三丰"}).status == 200
    person.user["nickname"] = "张三丰"
    assert (me(person)["commendations_count"], me(person)["latest_commendation"]) == (0, None)
    one = given(c, person, title="最美志愿者", period="2026")
    assert (one["title"], one["story"], one["period"], one["status"]) == ("最美志愿者", STORY, "2026", "active")
    assert one["user"] == {"id": person.id, "nickname": person.user["nickname"]}  # the admin sees the whole name
    assert one["commended_by"]["id"] == c.admin.id and one["revoked_at"] is None and one["community_id"] == c.id
    profile = me(person)
    assert profile["commendations_count"] == 1
    assert profile["latest_commendation"]["id"] == one["id"]
    assert (profile["latest_commendation"]["title"], profile["latest_commendation"]["period"]) == ("最美志愿者", "2026")
    # A resident sees the name masked, title and story in full, and not who commended; the person sees their name.
    neighbour = c.resident(1)
    seen = next(item for item in listed(neighbour) if item["id"] == one["id"])
    assert seen["user"]["nickname"] == "张**"
    assert (seen["title"], seen["story"], seen["commended_by"], seen["revoke_reason"]) == ("最美志愿者", STORY, None, None)
    own = next(item for item in listed(person) if item["id"] == one["id"])
    assert own["user"]["nickname"] == person.user["nickname"]
    # The person's profile list: ?user_id= narrows to theirs only.
    assert [item["id"] for item in listed(neighbour, f"?user_id={person.id}")] == [one["id"]]
    assert listed(neighbour, f"?user_id={neighbour.id}") == []


def test_newest_first_and_the_latest_follows_the_newest(c):
    person = c.resident()
    first = given(c, person, title="敬老模范", period="2025")
    second = given(c, person, title="文明家庭", period="2026-01")
    assert [item["id"] for item in listed(c.admin, f"?user_id={person.id}")] == [second["id"], first["id"]]
    assert me(person)["latest_commendation"]["id"] == second["id"] and me(person)["commendations_count"] == 2
    assert listed(c.admin)[0]["id"] == second["id"]  # the community's list: newest first too


def test_the_same_title_and_period_twice_is_409_another_title_or_period_is_a_new_one(c):
    person = c.resident()
    given(c, person, title="优秀党员", period="2026-11")
    again = commend(c, person, title="优秀党员", period="2026-11")
    assert (again.status, again.error_code) == (409, "ALREADY_COMMENDED")
    # The same from another admin of the community: the natural key, not the admin, decides.
    second_admin = c.with_roles(c.resident(), ["admin"])
    assert commend(c, person, title="优秀党员", period="2026-11", by=second_admin).error_code == "ALREADY_COMMENDED"
    assert commend(c, person, title="优秀党员", period="2026-10").status == 201
    assert commend(c, person, title="优秀党员", period="2026").status == 201
    assert commend(c, person, title="优秀志愿者", period="2026-11").status == 201
    assert me(person)["commendations_count"] == 4  # the refused ones counted nothing


def _at_once(calls) -> list:
    answers: list = []
    threads = [threading.Thread(target=lambda call=call: answers.append(call())) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_at_once_the_same_honour_is_given_once_and_different_ones_all_counted(c):
    person = c.resident()
    same = _at_once([lambda: commend(c, person, title="同时表彰", period="2026-08")] * 5)
    assert sorted(r.status for r in same) == [201, 409, 409, 409, 409]
    assert {r.error_code for r in same if r.status == 409} == {"ALREADY_COMMENDED"}
    different = _at_once([lambda n=n: commend(c, person, title=f"并发{n}", period="2026-08") for n in range(5)])
    assert [r.status for r in different] == [201] * 5
    assert me(person)["commendations_count"] == 6 == len(listed(c.admin, f"?user_id={person.id}"))
    # Two admins revoke the same one at once: one revocation, one 409, the count down by one.
    second_admin = c.with_roles(c.resident(), ["admin"])
    target = same[[r.status for r in same].index(201)].json["id"]
    both = _at_once([lambda: revoke(c, target), lambda: revoke(c, target, by=second_admin)])
    assert sorted(r.status for r in both) == [200, 409]
    assert me(person)["commendations_count"] == 5


def test_idempotency_key_replays_the_first_answer(c):
    person = c.resident()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"user_id": person.id, "title": "热心居民", "story": STORY, "period": this_month()}
    first = c.admin.post("/v1/admin/commendations", body, headers=key)
    replay = c.admin.post("/v1/admin/commendations", body, headers=key)
    assert first.status == replay.status == 201 and first.json == replay.json
    assert (c.admin.api.last_meter.reads, c.admin.api.last_meter.writes) == (1, 0)  # the record, nothing else
    assert me(person)["commendations_count"] == 1


# --- who may, and whom ---------------------------------------------------------------------------------------------

def test_only_the_communitys_admin_commends_a_member_of_the_community(c, other, api):
    person = c.resident()
    for who in (c.resident(), c.volunteer(), c.grid_worker()):
        assert commend(c, person, by=who).status == 403
    assert commend(c, person, by=other.admin).status == 404  # another community's member is not acknowledged
    assert commend(c, other.resident()).status == 404
    assert c.admin.post("/v1/admin/commendations", {"user_id": "u_nobody", "title": "优秀", "story": STORY,
                                                    "period": this_month()}).status == 404
    assert commend(c, api.login()).status == 404  # signed in, in no community
    outsider = api.login()
    assert commend(c, person, by=outsider).error_code == "NOT_IN_COMMUNITY"
    myself = commend(c, c.admin)
    assert (myself.status, myself.error_code) == (409, "SELF_COMMENDATION")
    assert me(person)["commendations_count"] == 0


def test_an_admin_whose_role_was_taken_away_is_refused_at_once(c):
    admin = c.with_roles(c.resident(), ["admin"])
    person = c.resident()
    assert commend(c, person, by=admin, title="第一次").status == 201
    c.with_roles(admin, [])  # relogged: the token is fresh, the role gone
    assert commend(c, person, by=admin, title="第二次").status == 403
    assert me(person)["commendations_count"] == 1


def test_a_person_who_leaves_between_the_read_and_the_write_is_404_by_the_condition(c, other, monkeypatch):
    """The admin's request reads the person (a member), then WeChat checks the text; meanwhile the person moves to
    another community. The transaction's condition on the person's item refuses: 404, nothing written."""
    person = c.resident()
    original = commendation_usecases.content_check

    def moved_meanwhile(*args, **kwargs):
        verdict = original(*args, **kwargs)
        UserModel(person.id).update(actions=[UserModel.community_id.set(other.id)])
        return verdict
    monkeypatch.setattr(commendation_usecases, "content_check", moved_meanwhile)
    resp = commend(c, person, title="搬走的人")
    assert (resp.status, resp.error_code) == (404, "NOT_FOUND")
    monkeypatch.setattr(commendation_usecases, "content_check", original)
    stored = UserModel.get(person.id, consistent_read=True)
    assert stored.commendations_count is None and stored.latest_commendation is None
    assert all(item["title"] != "搬走的人" for item in listed(c.admin))
    UserModel(person.id).update(actions=[UserModel.community_id.set(c.id)])  # back home: now it works
    assert commend(c, person, title="搬走的人").status == 201


def test_a_deleted_account_cannot_be_commended_and_its_commendations_stay_under_a_placeholder(c):
    person = c.resident()
    assert person.patch("/v1/me", {"nickname": "李四"}).status == 200
    one = given(c, person, title="注销前的表彰")
    assert person.delete("/v1/me").status == 204
    assert delete_again_is_harmless(person)
    assert commend(c, person).status == 404
    for reader in (c.admin, c.resident()):
        seen = next(item for item in listed(reader) if item["id"] == one["id"])
        assert seen["user"]["nickname"] == "已注销用户"
        assert "李四" not in str(seen)


def delete_again_is_harmless(person) -> bool:
    return person.delete("/v1/me").status == 401  # the account is gone: its token too


# --- input edges ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("period", ["1999-12", "1999", "0001", "0001-01", "9999", "9999-12", "2026-13", "2026-00",
                                    "26-01", "2026-1", "2026/11", "", "  ", "2026-11-01", "二〇二六", "２０２６-１１"])
def test_bad_periods_are_400_naming_period(c, period):
    resp = commend(c, c.resident(), period=period)
    assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED"), (period, resp.body)
    assert resp.json["error"]["details"]["field"] == "period"


def test_periods_at_the_edges(c):
    person = c.resident()
    assert commend(c, person, period="2000-01").status == 201
    assert commend(c, person, period="2000").status == 201
    assert commend(c, person, period=this_month()).status == 201
    assert commend(c, person, period=this_month()[:4]).status == 201  # this year
    for future in (next_month(), str(int(this_month()[:4]) + 1)):
        resp = commend(c, person, period=future)
        assert (resp.status, resp.json["error"]["details"].get("field")) == (400, "period"), future


@pytest.mark.parametrize("field, value", [("title", ""), ("title", "   "), ("title", "x" * 31), ("title", "两行\n称号"),
                                          ("story", ""), ("story", " \n\t "), ("story", "x" * 1001),
                                          ("title", "称号\u202e反转")])
def test_bad_text_is_400_naming_the_field(c, field, value):
    person = c.resident()
    resp = c.admin.post("/v1/admin/commendations", {"user_id": person.id, "title": "优秀", "story": STORY,
                                                    "period": this_month(), field: value})
    assert (resp.status, resp.error_code) == (400, "VALIDATION_FAILED")
    assert resp.json["error"]["details"]["field"] == field and resp.json["error"]["message"]


def test_text_at_its_maximum_is_kept_whole_and_trimmed(c):
    person = c.resident()
    one = given(c, person, title=" " + "星" * 30 + " ", story="事" * 998 + "\n迹")
    assert one["title"] == "星" * 30 and one["story"] == "事" * 998 + "\n迹"
    seen = next(item for item in listed(c.resident()) if item["id"] == one["id"])
    assert (seen["title"], len(seen["story"])) == ("星" * 30, 1000)


def test_risky_text_is_refused_by_the_content_check_and_nothing_is_written(c):
    person = c.resident()
    for field in ("title", "story"):
        resp = commend(c, person, **{field: "违禁内容" if field == "title" else "他的事迹里有违禁的话"})
        assert (resp.status, resp.error_code) == (400, "CONTENT_REJECTED")
    assert me(person)["commendations_count"] == 0


# --- revoking --------------------------------------------------------------------------------------------------------

def test_revoke_then_commend_again(c):
    person = c.resident()
    older = given(c, person, title="敬老之星", period="2026-09")
    one = given(c, person, title="优秀志愿者", period="2026-10")
    resp = revoke(c, one["id"], reason="重复申报")
    assert resp.status == 200 and resp.json["status"] == "revoked" and resp.json["revoke_reason"] == "重复申报"
    assert resp.json["revoked_at"] is not None
    assert one["id"] not in [item["id"] for item in listed(c.resident())]
    assert [item["id"] for item in listed(c.admin, f"?user_id={person.id}")] == [older["id"]]
    profile = me(person)
    assert profile["commendations_count"] == 1 and profile["latest_commendation"]["id"] == older["id"]
    again = revoke(c, one["id"])
    assert (again.status, again.error_code) == (409, "INVALID_STATE")
    # The same title for the same period can be given again: a new commendation with its own id.
    anew = given(c, person, title="优秀志愿者", period="2026-10")
    assert anew["id"] != one["id"] and me(person)["latest_commendation"]["id"] == anew["id"]
    assert me(person)["commendations_count"] == 2
    # Revoking the one that is not the latest leaves the latest alone; the last one leaves no latest.
    assert revoke(c, older["id"]).status == 200
    assert me(person)["latest_commendation"]["id"] == anew["id"] and me(person)["commendations_count"] == 1
    assert revoke(c, anew["id"]).status == 200
    assert (me(person)["commendations_count"], me(person)["latest_commendation"]) == (0, None)
    assert listed(c.admin, f"?user_id={person.id}") == []


def test_who_may_revoke(c, other):
    person = c.resident()
    one = given(c, person, title="可撤销")
    assert revoke(c, one["id"], by=c.resident()).status == 403
    assert revoke(c, one["id"], by=person).status == 403
    assert revoke(c, one["id"], by=other.admin).status == 404
    assert revoke(c, "cmd_nothing").status == 404
    bad = c.admin.post(f"/v1/admin/commendations/{one['id']}/revoke", {"reason": "  "})
    assert (bad.status, bad.json["error"]["details"]["field"]) == (400, "reason")
    assert me(person)["commendations_count"] == 1


def test_an_admin_commended_by_another_admin_may_revoke_their_own(c):
    """The revoking admin is the commended person: one transaction may touch their user item once — the grant
    check joins the count's update."""
    second_admin = c.with_roles(c.resident(), ["admin"])
    one = given(c, second_admin, title="优秀管理员")
    assert me(second_admin)["commendations_count"] == 1
    resp = revoke(c, one["id"], by=second_admin)
    assert resp.status == 200, resp.body
    assert (me(second_admin)["commendations_count"], me(second_admin)["latest_commendation"]) == (0, None)


def test_a_profile_stale_against_the_index_is_corrected_by_the_condition(c, monkeypatch):
    """The revocation's Query of the person's two newest (an index, eventually consistent) may miss one just
    written: the user item's condition tells, and the other form is tried."""
    person = c.resident()
    older = given(c, person, title="老表彰", period="2026-01")
    newest = given(c, person, title="新表彰", period="2026-02")
    real, calls = commendation_usecases._next_latest, []

    def lagging(item):  # the first look misses the newest ("not the newest"); the retry looks again
        calls.append(item.id)
        return (False, None) if len(calls) == 1 else real(item)
    monkeypatch.setattr(commendation_usecases, "_next_latest", lagging)
    assert revoke(c, newest["id"]).status == 200
    monkeypatch.undo()
    assert len(calls) == 2  # one more round, no more
    profile = me(person)
    assert profile["commendations_count"] == 1 and profile["latest_commendation"]["id"] == older["id"]


# --- candidates ------------------------------------------------------------------------------------------------------

def _score(community_id: str, metric: str, month: str, user_id: str, score: int) -> None:
    ScoreModel(f"{metric}#community#{community_id}#{month}", user_id, score=score).save()


def test_candidates_are_the_months_top_ten_by_points_and_minutes_with_their_commendations(api):
    c = make_community(api)
    month = "2026-11"
    people = [c.resident() for _ in range(12)]
    for index, person in enumerate(people):
        _score(c.id, "points", month, person.id, 100 - index)
        _score(c.id, "minutes", month, person.id, 10 + index)
    _score(c.id, "points", "2026-10", people[11].id, 1000)  # another month's board: not this month's
    gone = people[0]
    gone.delete("/v1/me")  # a closed account stays on the board and is left out
    given(c, people[1], title="十一月之星", period=month)
    given(c, people[2], title="年度之星", period="2026")  # a year's commendation is not the month's
    resp = c.admin.get(f"/v1/admin/commendations/candidates?month={month}")
    assert resp.status == 200, resp.body
    assert (c.admin.api.last_meter.reads, c.admin.api.last_meter.writes) == (4, 0)  # caller, 2 Queries, 1 Batch
    body = resp.json
    assert body["month"] == month
    assert [item["user"]["id"] for item in body["points"]] == [p.id for p in people[1:11]]
    assert [item["score"] for item in body["points"]] == list(range(99, 89, -1))
    assert [item["rank"] for item in body["points"]] == list(range(1, 11))
    assert [item["user"]["id"] for item in body["minutes"]] == [p.id for p in people[11:1:-1]]
    commended = {item["user"]["id"]: item["commended"] for item in body["points"]}
    assert commended[people[1].id] is True and commended[people[2].id] is False
    assert body["points"][0]["user"]["nickname"] == people[1].user["nickname"]  # the admin sees names whole
    # Revoked: no longer commended for the month.
    one = listed(c.admin, f"?user_id={people[1].id}")[0]
    revoke(c, one["id"])
    again = c.admin.get(f"/v1/admin/commendations/candidates?month={month}").json
    assert {item["user"]["id"]: item["commended"] for item in again["points"]}[people[1].id] is False
    # A month nobody scored in: empty boards, one read fewer (nobody to look up).
    empty = c.admin.get("/v1/admin/commendations/candidates?month=2000-01")
    assert empty.status == 200 and (empty.json["points"], empty.json["minutes"]) == ([], [])
    assert c.admin.api.last_meter.reads == 3


def test_candidates_follow_real_awards_this_month(c):
    person = c.resident()
    award = c.admin.post("/v1/points/awards", {"user_id": person.id, "category": "participation", "points": 20,
                                               "reason": "清理楼道"})
    assert award.status == 201, award.body
    body = c.admin.get(f"/v1/admin/commendations/candidates?month={this_month()}").json
    assert person.id in [item["user"]["id"] for item in body["points"]]


@pytest.mark.parametrize("month", ["1999-12", "2026-13", "2026", "", "9999-01", "0001-01"])
def test_candidates_bad_months_are_400(c, month):
    resp = c.admin.get(f"/v1/admin/commendations/candidates?month={month}")
    assert (resp.status, resp.json["error"]["details"]["field"]) == (400, "month"), month


def test_candidates_of_next_month_are_400_and_only_admins_see_them(c):
    resp = c.admin.get(f"/v1/admin/commendations/candidates?month={next_month()}")
    assert (resp.status, resp.json["error"]["details"]["field"]) == (400, "month")
    assert c.resident().get(f"/v1/admin/commendations/candidates?month={this_month()}").status == 403
    assert c.admin.get("/v1/admin/commendations/candidates").status == 400  # the month is required


# --- cost -------------------------------------------------------------------------------------------------------------

def test_exact_calls_and_paging(api):
    c = make_community(api)
    person = c.resident()
    resp = commend(c, person, title="第1项", period="2026-01")
    assert resp.status == 201
    meter = c.admin.api.last_meter
    assert (meter.reads, meter.writes) == (2, 1)  # the caller, the person; one transaction
    assert sum(meter.wechat.values()) == 1  # one content check for title and story together
    for month in range(2, 6):
        given(c, person, title=f"第{month}项", period=f"2026-{month:02d}")
    resident = c.resident()
    seen, cursor = [], None
    while True:
        page = resident.get("/v1/commendations?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200
        assert (resident.api.last_meter.reads, resident.api.last_meter.writes) == (2, 0)  # the caller, one Query
        seen += [item["title"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert seen == [f"第{n}项" for n in range(5, 0, -1)]
    filtered = resident.get(f"/v1/commendations?user_id={person.id}&limit=100")
    assert len(filtered.json["items"]) == 5 and resident.api.last_meter.reads == 2
    # A cursor of one list does not steer another.
    first = resident.get("/v1/commendations?limit=1").json["next_cursor"]
    bad = resident.get(f"/v1/commendations?user_id={person.id}&cursor={first}")
    assert (bad.status, bad.json["error"]["details"]["field"]) == (400, "cursor")
    newest = listed(c.admin, f"?user_id={person.id}")[0]
    assert revoke(c, newest["id"]).status == 200
    assert (c.admin.api.last_meter.reads, c.admin.api.last_meter.writes) == (3, 1)  # caller, item, by_person; one tx
    assert revoke(c, newest["id"]).status == 409
    assert (c.admin.api.last_meter.reads, c.admin.api.last_meter.writes) == (2, 0)  # refused before any write


def test_counters_match_the_standing_commendations(c):
    """The invariant a checker can hold: the person's count == their standing commendations; the period counters
    == the standing ones of each period."""
    person = c.resident()
    ids = [given(c, person, title=f"项{n}", period="2026-03")["id"] for n in range(3)]
    revoke(c, ids[1])
    standing = listed(c.admin, f"?user_id={person.id}")
    assert me(person)["commendations_count"] == len(standing) == 2
    counter = CounterModel.get(f"commended#{c.id}#{person.id}#2026-03", consistent_read=True)
    assert int(counter.n) == 2


def test_the_invariant_checker_holds_and_reports_a_planted_difference(c, container):
    """infra/proof/invariants/commendations.py over every commendation this module made (revoked, re-given, of deleted
    accounts, of admins), then three planted faults: a count off by one, a natural key left behind, a period count."""
    from infra.proof.invariants import check
    from tongxin.adapters.dynamo.binding import connection

    def mine() -> list[str]:
        found = check(connection().client, container.settings.table_name)
        return [v for v in found if v.startswith("[commendation-")]
    person = c.resident()
    one = given(c, person, title="检查器", period="2026-04")
    assert mine() == []
    UserModel(person.id).update(actions=[UserModel.commendations_count.add(1)])
    CounterModel("commendation#planted#u#2026-01#abc", n=1).save()
    CounterModel(f"commended#{c.id}#{person.id}#2026-04").update(actions=[CounterModel.n.add(1)])
    found = mine()
    assert any(v.startswith(f"[commendation-count] users {person.id}: commendations_count 2") for v in found), found
    assert any("commendation#planted#u#2026-01#abc" in v for v in found), found
    assert any(v.startswith(f"[commendation-period] counters commended#{c.id}#{person.id}#2026-04") for v in found)
    assert len(found) == 3, found
    # Put right: the checker is quiet again.
    UserModel(person.id).update(actions=[UserModel.commendations_count.add(-1)])
    CounterModel("commendation#planted#u#2026-01#abc").delete()
    CounterModel(f"commended#{c.id}#{person.id}#2026-04").update(actions=[CounterModel.n.add(-1)])
    assert mine() == [] and one["id"]
