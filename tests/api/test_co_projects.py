"""共建项目 and 群众评单 (issue 23, part G) over HTTP: a community's admin matches a need (a post of its 需求/岗位清单 or a
need written out) with a unit co-building with it and a resource of the unit's 资源清单; the admin and the unit's
liaison report progress in a timeline; the admin completes it (the unit's liaisons told); the residents rate it once
each, counted in the project by the rating's own transaction. Sequences: rate twice, before done, from another
community; a liaison of another unit; an agreement lapsing between the read and the write; a role taken away in
between; edges (percent 0/100/101, dates year 1/9999, text empty after trimming and at its maximum); exact calls."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests import budget
from tests.api.test_requests import all_pages, messages
from tests.api.test_units import Region
from tongxin.adapters.dynamo.models import CoProjectModel, CoProjectRatingModel, UnitAgreementModel
from tongxin.domain import units as unit_rules
from tongxin.domain.clock import utcnow
from tongxin.usecases import co_projects as co_projects_usecase

RESOURCE = {"title": "义诊", "description": "内科、外科医生各一名，周六上午", "capacity": 50}


def today(days: int = 0) -> str:
    return unit_rules.today(utcnow() + timedelta(days=days)).isoformat()


class World(Region):
    """Region (a street, its community and staff; another street, community and staff) plus a unit of the street
    with its liaison, an agreement with the community, a resource; a second unit with its own liaison and agreement;
    a post of the community."""

    def __init__(self, api):
        super().__init__(api)
        self.unit = Region.unit(self)  # the unit and its first liaison as attributes (Region's makers by name)
        self.liaison = Region.liaison(self, self.unit["id"])
        self.agreement(self.unit["id"])
        resp = self.liaison.post(f"/v1/units/{self.unit['id']}/resources", RESOURCE)
        assert resp.status == 201, resp.body
        self.resource = resp.json
        self.unit2 = Region.unit(self, name="同心小学")
        self.liaison2 = Region.liaison(self, self.unit2["id"])
        self.agreement(self.unit2["id"])
        resp = self.c.admin.post("/v1/admin/posts", {"title": "健康宣传员", "description": "为老人讲解健康知识",
                                                     "headcount": 3})
        assert resp.status == 201, resp.body
        self.post = resp.json

    def body(self, **changes) -> dict:
        return {"title": "周末义诊进社区", "need": {"post_id": self.post["id"], "text": "独居老人量血压、问诊"},
                "unit_id": self.unit["id"], "resource_id": self.resource["id"], "starts_on": today(),
                "ends_on": today(30), "beneficiaries_note": "3 栋、5 栋的独居老人", **changes}

    def project(self, **changes) -> dict:
        resp = self.c.admin.post("/v1/admin/co-projects", self.body(**changes))
        assert resp.status == 201, resp.body
        return resp.json

    def done(self, **changes) -> dict:
        project = self.project(**changes)
        resp = self.c.admin.post(f"/v1/admin/co-projects/{project['id']}/complete", {})
        assert resp.status == 200, resp.body
        return resp.json


@pytest.fixture(scope="module")
def w(api, fresh_tables_per_module):
    return World(api)


def refused(resp, status: int, code: str, field: str | None = None) -> None:
    assert (resp.status, resp.error_code) == (status, code), resp.body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json["error"]["message"]), resp.body  # told in Chinese
    if field is not None:
        assert resp.json["error"]["details"].get("field") == field, resp.body


# --- the whole flow -------------------------------------------------------------------------------------------------

def test_the_flow_create_progress_complete_rate(w):
    admin, liaison = w.c.admin, w.liaison
    project = w.project()
    pid = project["id"]
    assert (project["status"], project["percent"], project["ratings_count"], project["rating_average"]) == \
        ("planned", 0, 0, None)
    assert project["unit"] == {"id": w.unit["id"], "name": w.unit["name"]}
    assert project["resource"] == {"id": w.resource["id"], "title": "义诊"}
    assert project["need"] == {"post_id": w.post["id"], "post_title": "健康宣传员", "text": "独居老人量血压、问诊"}
    assert [s["action"] for s in project["timeline"]] == ["created"] and project["my_rating"] is None
    # The liaison reports, then the admin: both in the timeline with their role; planned → in_progress.
    first = liaison.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "已联系医生，排好班", "percent": 20})
    assert first.status == 200, first.body
    assert (first.json["status"], first.json["percent"]) == ("in_progress", 20)
    second = admin.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "第一次义诊完成", "percent": 60})
    assert second.status == 200 and second.json["percent"] == 60
    steps = second.json["timeline"]
    assert [(s["action"], s["role"], s["percent"]) for s in steps] == [
        ("created", "admin", None), ("progress", "unit_liaison", 20), ("progress", "admin", 60)]
    assert steps[1]["by"]["id"] == liaison.id and steps[1]["note"] == "已联系医生，排好班"
    # Rating before it is done: 409 INVALID_STATE, nothing counted.
    resident = w.c.resident(1)
    refused(resident.post(f"/v1/co-projects/{pid}/rating", {"rating": 5}), 409, "INVALID_STATE")
    # Done: percent 100, the unit's liaisons told (not the other unit's).
    done = admin.post(f"/v1/admin/co-projects/{pid}/complete", {"note": "三次义诊全部完成"})
    assert done.status == 200, done.body
    assert (done.json["status"], done.json["percent"]) == ("done", 100) and done.json["completed_at"]
    assert done.json["timeline"][-1]["action"] == "completed"
    told = messages(liaison.id, "co_project_done")
    assert [m.data["co_project_id"] for m in told] == [pid] and told[0].data["title"] == "周末义诊进社区"
    assert not messages(w.liaison2.id, "co_project_done")
    refused(admin.post(f"/v1/admin/co-projects/{pid}/complete", {}), 409, "INVALID_STATE")  # the same call twice
    refused(liaison.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "补充", "percent": 100}), 409,
            "INVALID_STATE")
    # 群众评单: residents rate once each; the project counts them in the same transaction.
    rated = resident.post(f"/v1/co-projects/{pid}/rating", {"rating": 5, "comment": "医生很耐心"})
    assert rated.status == 201, rated.body
    assert (rated.json["rating"], rated.json["ratings_count"], rated.json["rating_average"]) == (5, 1, 5.0)
    refused(resident.post(f"/v1/co-projects/{pid}/rating", {"rating": 1}), 409, "ALREADY_RATED")
    another = w.c.resident(0)
    assert another.post(f"/v1/co-projects/{pid}/rating", {"rating": 4}).json["rating_average"] == 4.5
    third = w.c.resident(0)
    assert third.post(f"/v1/co-projects/{pid}/rating", {"rating": 4}).json["ratings_count"] == 3
    seen = resident.get(f"/v1/co-projects/{pid}").json
    assert (seen["ratings_count"], seen["rating_average"]) == (3, 4.3)
    assert seen["my_rating"]["rating"] == 5 and seen["my_rating"]["comment"] == "医生很耐心"
    assert another.get(f"/v1/co-projects/{pid}").json["my_rating"]["rating"] == 4
    stored = CoProjectModel.get(pid, consistent_read=True)
    ratings = list(CoProjectRatingModel.query(pid))
    assert (stored.ratings_count, stored.ratings_sum) == (len(ratings), sum(r.rating for r in ratings)) == (3, 13)
    # The residents see the recorders masked; the admin, the liaison and the recorder themself whole.
    by_resident = [s["by"]["nickname"] for s in seen["timeline"]]
    assert all(n.endswith("*") for n in by_resident), by_resident
    assert admin.get(f"/v1/co-projects/{pid}").json["timeline"][1]["by"]["nickname"] == liaison.user["nickname"]
    assert liaison.get(f"/v1/co-projects/{pid}").json["timeline"][0]["by"]["nickname"] == admin.user["nickname"]
    # The lists: the community's (by status too) and the unit's across communities.
    assert pid in [p["id"] for p in all_pages(resident, "/v1/co-projects")]
    assert pid in [p["id"] for p in all_pages(resident, "/v1/co-projects?status=done")]
    assert pid not in [p["id"] for p in all_pages(resident, "/v1/co-projects?status=planned")]
    assert pid in [p["id"] for p in all_pages(liaison, f"/v1/units/{w.unit['id']}/co-projects")]
    assert pid in [p["id"] for p in all_pages(w.staff, f"/v1/units/{w.unit['id']}/co-projects")]
    assert pid not in [p["id"] for p in all_pages(w.liaison2, f"/v1/units/{w.unit2['id']}/co-projects")]


def test_a_free_text_need_without_resource_or_post(w):
    project = w.project(need={"text": "楼道堆物清理"}, resource_id=None, unit_id=w.unit2["id"])
    assert project["need"] == {"post_id": None, "post_title": None, "text": "楼道堆物清理"}
    assert project["resource"] is None and project["unit"]["id"] == w.unit2["id"]
    # Completed straight from planned (a one-day activity).
    done = w.c.admin.post(f"/v1/admin/co-projects/{project['id']}/complete", {})
    assert done.status == 200 and done.json["status"] == "done"


def test_rating_is_the_residents_of_the_community_only(w, api):
    project = w.done()
    pid = project["id"]
    refused(w.other.resident(0).post(f"/v1/co-projects/{pid}/rating", {"rating": 3}), 404, "NOT_FOUND")
    refused(w.other.admin.get(f"/v1/co-projects/{pid}"), 404, "NOT_FOUND")
    refused(w.liaison2.get(f"/v1/co-projects/{pid}"), 404, "NOT_FOUND")  # another unit's liaison, no community
    refused(w.liaison.post(f"/v1/co-projects/{pid}/rating", {"rating": 5}), 409, "NOT_IN_COMMUNITY")
    refused(api.login().post(f"/v1/co-projects/{pid}/rating", {"rating": 5}), 409, "NOT_IN_COMMUNITY")
    refused(w.c.resident(0).post("/v1/co-projects/cop_nothing/rating", {"rating": 5}), 404, "NOT_FOUND")
    assert CoProjectModel.get(pid, consistent_read=True).ratings_count == 0


@pytest.mark.parametrize("rating, status", [(1, 201), (5, 201), (0, 400), (6, 400), (-1, 400), ("5", 400),
                                            (4.5, 400)])
def test_rating_edges(w, rating, status):
    project = w.done()
    resp = w.c.resident(0).post(f"/v1/co-projects/{project['id']}/rating", {"rating": rating})
    assert resp.status == status, resp.body
    if status == 400:
        assert resp.json["error"]["details"]["field"] == "rating"


def test_a_rating_comment_is_content_checked_and_bounded(w):
    project = w.done()
    path = f"/v1/co-projects/{project['id']}/rating"
    resident = w.c.resident(0)
    refused(resident.post(path, {"rating": 5, "comment": "这里有违禁内容"}), 400, "CONTENT_REJECTED")
    refused(resident.post(path, {"rating": 5, "comment": "评" * 201}), 400, "VALIDATION_FAILED", "comment")
    refused(resident.post(path, {"rating": 5, "comment": " \u200b "}), 400, "VALIDATION_FAILED", "comment")
    assert CoProjectModel.get(project["id"], consistent_read=True).ratings_count == 0  # nothing counted
    ok = resident.post(path, {"rating": 5, "comment": "评" * 200})
    assert ok.status == 201 and len(ok.json["comment"]) == 200


# --- progress ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("percent, status", [(0, 200), (100, 200), (101, 400), (-1, 400), ("50", 400), (None, 400)])
def test_percent_edges(w, percent, status):
    project = w.project()
    resp = w.liaison.post(f"/v1/admin/co-projects/{project['id']}/progress", {"note": "进展", "percent": percent})
    assert resp.status == status, resp.body
    if status == 200:
        # 100 % reported is not done: only the admin completes (residents rate after that).
        assert (resp.json["percent"], resp.json["status"]) == (percent, "in_progress")
    else:
        assert resp.json["error"]["details"]["field"] == "percent"


def test_percent_may_go_down_as_a_correction(w):
    pid = w.project()["id"]
    w.c.admin.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "多报了", "percent": 80})
    resp = w.c.admin.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "更正", "percent": 40})
    assert resp.json["percent"] == 40 and [s["percent"] for s in resp.json["timeline"][1:]] == [80, 40]


def test_who_reports_progress(w, api):
    pid = w.project()["id"]
    body = {"note": "进展", "percent": 10}
    path = f"/v1/admin/co-projects/{pid}/progress"
    refused(w.liaison2.post(path, body), 403, "FORBIDDEN")  # a liaison of another unit
    refused(w.c.resident(0).post(path, body), 403, "FORBIDDEN")
    refused(w.c.with_roles(w.c.resident(0), ["party_member"]).post(path, body), 403, "FORBIDDEN")
    refused(w.other.admin.post(path, body), 404, "NOT_FOUND")
    refused(w.staff.post(path, body), 409, "NOT_IN_COMMUNITY")  # street staff: no community, no unit
    refused(api.login().post(path, body), 409, "NOT_IN_COMMUNITY")
    refused(w.liaison.post("/v1/admin/co-projects/cop_nothing/progress", body), 404, "NOT_FOUND")
    refused(w.liaison.post(path, {**body, "note": "这里有违禁内容"}), 400, "CONTENT_REJECTED")
    refused(w.liaison.post(path, {**body, "note": " \t "}), 400, "VALIDATION_FAILED", "note")
    assert CoProjectModel.get(pid, consistent_read=True).progress_count == 0  # none of those wrote


def test_progress_reports_are_capped(w):
    pid = w.project()["id"]
    CoProjectModel(pid).update(actions=[CoProjectModel.progress_count.set(47)])
    path = f"/v1/admin/co-projects/{pid}/progress"
    assert w.liaison.post(path, {"note": "第 48 次", "percent": 90}).status == 200
    refused(w.liaison.post(path, {"note": "第 49 次", "percent": 95}), 409, "INVALID_STATE")
    assert w.c.admin.post(f"/v1/admin/co-projects/{pid}/complete", {}).status == 200  # completion still fits


def test_a_liaison_removed_from_the_unit_stops_at_once(w):
    from tongxin.adapters.dynamo.models import UserModel
    pid = w.project()["id"]
    liaison = Region.liaison(w, w.unit["id"])  # a second liaison of the unit (World keeps its first as w.liaison)
    assert liaison.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "一", "percent": 10}).status == 200
    UserModel(liaison.id).update(actions=[UserModel.unit_ids.delete({w.unit["id"]})])  # the unit's side of it
    refused(liaison.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "二", "percent": 20}), 403, "FORBIDDEN")


def test_an_admin_whose_role_was_taken_away_cannot_complete(w):
    pid = w.project()["id"]
    second = w.c.with_roles(w.c.resident(0), ["admin"])
    assert second.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "接手", "percent": 30}).status == 200
    w.c.with_roles(second, [])  # the first admin takes it away; the old token is read with the new roles
    refused(second.post(f"/v1/admin/co-projects/{pid}/complete", {}), 403, "FORBIDDEN")
    refused(second.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "再报", "percent": 40}), 403, "FORBIDDEN")
    assert CoProjectModel.get(pid, consistent_read=True).status == "in_progress"


# --- creating: the rules -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("starts_on", "0001-01-01"), ("starts_on", "9999-12-31"), ("ends_on", "9999-12-31"), ("ends_on", "0001-01-01"),
    ("starts_on", "2026-13-45"), ("starts_on", "2026/12/01"), ("starts_on", "20261201"),
])
def test_dates_out_of_range_are_400_naming_the_field(w, field, value):
    refused(w.c.admin.post("/v1/admin/co-projects", w.body(**{field: value})), 400, "VALIDATION_FAILED", field)


def test_date_rules(w):
    admin = w.c.admin
    refused(admin.post("/v1/admin/co-projects", w.body(starts_on=today(10), ends_on=today(9))), 400,
            "VALIDATION_FAILED", "ends_on")
    refused(admin.post("/v1/admin/co-projects", w.body(starts_on=today(-400), ends_on=today(9))), 400,
            "VALIDATION_FAILED", "starts_on")
    refused(admin.post("/v1/admin/co-projects", w.body(starts_on=today(), ends_on=today(3 * 366 + 1))), 400,
            "VALIDATION_FAILED", "ends_on")
    one_day = w.project(starts_on=today(), ends_on=today())
    assert one_day["starts_on"] == one_day["ends_on"] == today()
    assert w.project(starts_on=today(-366), ends_on=today(3))["starts_on"] == today(-366)  # recorded late


@pytest.mark.parametrize("changes, field", [
    ({"title": "   "}, "title"), ({"title": "\u200b\u3000"}, "title"), ({"title": "项" * 41}, "title"),
    ({"title": "两\n行"}, "title"), ({"beneficiaries_note": ""}, "beneficiaries_note"),
    ({"beneficiaries_note": "人" * 201}, "beneficiaries_note"), ({"need": {}}, "need"),
    ({"need": {"text": "  "}}, "need.text"), ({"need": {"text": "需" * 501}}, "need.text"),
    ({"need": "楼道"}, "need"), ({"unit_id": ""}, "unit_id"), ({"unit_id": None}, "unit_id"),
])
def test_bad_input_is_400_naming_the_field(w, changes, field):
    refused(w.c.admin.post("/v1/admin/co-projects", w.body(**changes)), 400, "VALIDATION_FAILED", field)


def test_text_at_its_maximum_is_taken(w):
    project = w.project(title="项" * 40, beneficiaries_note="人" * 200, need={"text": "需" * 500})
    assert len(project["title"]) == 40 and len(project["need"]["text"]) == 500


def test_what_the_project_names_must_be_the_communitys_and_the_units(w):
    admin = w.c.admin
    refused(admin.post("/v1/admin/co-projects", w.body(unit_id="unit_nothing")), 404, "NOT_FOUND", "unit_id")
    lonely = Region.unit(w, name="无协议单位")
    refused(admin.post("/v1/admin/co-projects", w.body(unit_id=lonely["id"], resource_id=None)), 404, "NOT_FOUND",
            "unit_id")
    # The resource of another unit, the post of another community.
    refused(admin.post("/v1/admin/co-projects", w.body(unit_id=w.unit2["id"])), 404, "NOT_FOUND", "resource_id")
    foreign = w.other.admin.post("/v1/admin/posts", {"title": "外社区岗位", "description": "别处", "headcount": 1}).json
    refused(admin.post("/v1/admin/co-projects", w.body(need={"post_id": foreign["id"]})), 404, "NOT_FOUND",
            "need.post_id")
    refused(admin.post("/v1/admin/co-projects", w.body(title="违禁项目")), 400, "CONTENT_REJECTED")
    # Only the admin creates.
    for who in (w.c.resident(0), w.liaison, w.c.grid_worker(0)):
        assert who.post("/v1/admin/co-projects", w.body()).status in (403, 409)
    refused(w.liaison.post("/v1/admin/co-projects", w.body()), 409, "NOT_IN_COMMUNITY")
    refused(w.c.resident(0).post("/v1/admin/co-projects", w.body()), 403, "FORBIDDEN")


def test_a_lapsed_agreement_is_refused(w):
    unit = Region.unit(w, name="过期单位")
    w.agreement(unit["id"])
    UnitAgreementModel(unit["id"], w.c.id).update(actions=[UnitAgreementModel.valid_until.set(today(-1))])
    refused(w.c.admin.post("/v1/admin/co-projects", w.body(unit_id=unit["id"], resource_id=None)), 409,
            "INVALID_STATE")
    w.agreement(unit["id"])  # renewed: projects again
    assert w.project(unit_id=unit["id"], resource_id=None)["unit"]["id"] == unit["id"]


def test_an_agreement_lapsing_between_the_read_and_the_write_is_caught_by_the_transaction(w, monkeypatch):
    unit = Region.unit(w, name="临界单位")
    w.agreement(unit["id"])
    real = co_projects_usecase.batch.get_many

    def read_then_lapse(*keys):
        found = real(*keys)
        if any(key[0] is UnitAgreementModel for key in keys):
            saved, budget._local.meter = budget._local.meter, None  # the race is not the request's call
            try:
                UnitAgreementModel(unit["id"], w.c.id).update(
                    actions=[UnitAgreementModel.valid_until.set(today(-1))])
            finally:
                budget._local.meter = saved
        return found
    monkeypatch.setattr(co_projects_usecase.batch, "get_many", read_then_lapse)
    before = len(all_pages(w.c.admin, "/v1/co-projects"))
    resp = w.c.admin.post("/v1/admin/co-projects", w.body(unit_id=unit["id"], resource_id=None))
    refused(resp, 409, "INVALID_STATE")
    assert w.c.admin.api.last_meter.dynamo["TransactWriteItems"] == 1  # the read said yes; the condition said no
    monkeypatch.undo()
    assert len(all_pages(w.c.admin, "/v1/co-projects")) == before  # nothing written


# --- reading ------------------------------------------------------------------------------------------------------

def test_lists_are_pages_and_the_unit_list_is_its_liaisons_and_its_streets(w, api):
    for _ in range(3):
        w.project()
    first = w.c.resident(0).get("/v1/co-projects?limit=2")
    assert first.status == 200 and len(first.json["items"]) == 2 and first.json["next_cursor"]
    refused(w.c.resident(0).get("/v1/co-projects?status=finished"), 400, "VALIDATION_FAILED", "status")
    refused(w.c.resident(0).get("/v1/co-projects?limit=101"), 400, "VALIDATION_FAILED", "limit")
    refused(api.login().get("/v1/co-projects"), 409, "NOT_IN_COMMUNITY")
    refused(w.other.resident(0).get(f"/v1/co-projects?cursor={first.json['next_cursor']}"), 400,
            "VALIDATION_FAILED", "cursor")  # a cursor of another community's list
    assert w.other.resident(0).get("/v1/co-projects").json["items"] == []
    path = f"/v1/units/{w.unit['id']}/co-projects"
    page = w.liaison.get(path + "?limit=1")
    assert page.status == 200 and len(page.json["items"]) == 1
    refused(w.liaison2.get(path), 404, "NOT_FOUND")
    refused(w.other_staff.get(path), 404, "NOT_FOUND")
    refused(w.c.admin.get(path), 403, "FORBIDDEN")
    refused(w.c.resident(0).get(path), 403, "FORBIDDEN")
    refused(w.staff.get("/v1/units/unit_nothing/co-projects"), 404, "NOT_FOUND")


# --- exact calls ----------------------------------------------------------------------------------------------------

def test_exact_call_counts(w):
    admin, liaison = w.c.admin, w.liaison
    resp = admin.post("/v1/admin/co-projects", w.body())
    # The caller (GetItem); the unit, its agreement, the resource and the post (one BatchGetItem); one transaction.
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    assert sum(admin.api.last_meter.wechat.values()) == 1
    pid = resp.json["id"]
    liaison.post(f"/v1/admin/co-projects/{pid}/progress", {"note": "进展", "percent": 50})
    assert liaison.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    admin.post(f"/v1/admin/co-projects/{pid}/complete", {})
    assert admin.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    assert sum(admin.api.last_meter.wechat.values()) == 0  # no note, no content check
    resident = w.c.resident(0)
    resident.post(f"/v1/co-projects/{pid}/rating", {"rating": 4})
    assert resident.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    resident.get(f"/v1/co-projects/{pid}")
    assert resident.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1}
    resident.get("/v1/co-projects?status=done")
    assert resident.api.last_meter.dynamo == {"GetItem": 1, "Query": 1}
    liaison.get(f"/v1/units/{w.unit['id']}/co-projects")
    assert liaison.api.last_meter.dynamo == {"GetItem": 1, "Query": 1}
    w.staff.get(f"/v1/units/{w.unit['id']}/co-projects")
    assert w.staff.api.last_meter.dynamo == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
    # A replay of the rating under its Idempotency-Key: one read, no write.
    other = w.c.resident(0)
    key = {"Idempotency-Key": "b7a7c1de-0000-4000-8000-000000000001"}
    first = other.post(f"/v1/co-projects/{pid}/rating", {"rating": 2}, headers=key)
    again = other.post(f"/v1/co-projects/{pid}/rating", {"rating": 2}, headers=key)
    assert again.json == first.json and other.api.last_meter.dynamo == {"BatchGetItem": 1}
