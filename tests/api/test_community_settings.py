"""社区设置: GET/PATCH /v1/admin/community — the values in force, their bounds, changes that take effect on the next
request, over HTTP against moto."""
from __future__ import annotations

from datetime import timedelta

from tests.api.test_checkins import assert_refused, publish
from tests.api.test_trust_events import publish_raw


def settings_of(admin) -> dict:
    resp = admin.get("/v1/admin/community")
    assert resp.status == 200, resp.body
    return resp.json


def test_every_setting_is_answered_with_its_default_and_bounds(community):
    shown = settings_of(community.admin)
    assert shown["id"] == community.id and shown["name"].startswith("测试社区")
    assert shown["settings"] == {
        "wish_review_required": False, "wish_points": 20, "wish_publish_daily_cap": 10, "wish_points_daily_cap": 5,
        "wish_points_pair_monthly_cap": 3, "award_cap_charity": 50, "award_cap_mediation": 30,
        "award_cap_participation": 20, "award_daily_cap": 500, "points_per_hour_cap": 20,
        "request_answer_minutes": 120, "request_answer_minutes_urgent": 30, "request_solve_hours": 72,
        "request_submit_daily_cap": 10, "party_services_per_quarter_min": 1, "party_hours_per_year_min": 20}
    fields = {f["name"]: f for f in shown["fields"]}
    assert set(fields) == set(shown["settings"])
    assert fields["points_per_hour_cap"] == {"name": "points_per_hour_cap", "label": "活动每小时积分上限",
                                             "kind": "integer", "default": 20, "min": 0, "max": 100}
    assert fields["wish_review_required"]["kind"] == "boolean" and fields["wish_review_required"]["min"] is None


def test_a_change_is_kept_answered_and_applied_on_the_next_request(community):
    admin = community.admin
    changed = admin.patch("/v1/admin/community", {"points_per_hour_cap": 50, "wish_review_required": True})
    assert changed.status == 200, changed.body
    assert changed.json["settings"]["points_per_hour_cap"] == 50
    assert changed.json["settings"]["wish_review_required"] is True
    assert settings_of(admin)["settings"] == changed.json["settings"]
    # Applied: an event may now earn 50 an hour, and a new wish waits for review.
    assert publish(admin, points_per_hour=50)["points_per_hour"] == 50
    wish = community.resident(0).post("/v1/wishes", {"title": "修灯", "content": "楼道灯不亮", "category": "维修"})
    assert wish.status == 201 and wish.json["status"] == "pending_review", wish.body
    # The same change twice changes nothing more; an empty body or a null is no change; the rest is untouched.
    again = admin.patch("/v1/admin/community", {"points_per_hour_cap": 50})
    assert again.status == 200 and again.json["settings"] == changed.json["settings"]
    for body in ({}, {"wish_points": None}):
        resp = admin.patch("/v1/admin/community", body)
        assert resp.status == 200 and resp.json["settings"] == changed.json["settings"], resp.body
    # Lowered again: the cap holds from the next publication on.
    assert admin.patch("/v1/admin/community", {"points_per_hour_cap": 0}).status == 200
    assert_refused(publish_raw(admin, length=timedelta(hours=1), points_per_hour=1), 400, "VALIDATION_FAILED",
                   "points_per_hour")


def test_out_of_range_and_wrong_types_are_refused_naming_the_field_and_nothing_is_written(community):
    admin = community.admin
    before = settings_of(admin)["settings"]
    for body, field in (({"points_per_hour_cap": 101}, "points_per_hour_cap"),
                        ({"points_per_hour_cap": -1}, "points_per_hour_cap"),
                        ({"wish_points": 201}, "wish_points"),
                        ({"request_answer_minutes": 4}, "request_answer_minutes"),
                        ({"wish_review_required": "yes"}, "wish_review_required"),
                        ({"award_daily_cap": "500"}, "award_daily_cap"),
                        ({"wish_points": 30, "request_solve_hours": 0}, "request_solve_hours")):
        assert_refused(admin.patch("/v1/admin/community", body), 400, "VALIDATION_FAILED", field)
    assert settings_of(admin)["settings"] == before  # the valid half of a refused body was not written either
    # The edges are allowed.
    for body in ({"points_per_hour_cap": 100}, {"points_per_hour_cap": 0}, {"request_answer_minutes": 5}):
        assert admin.patch("/v1/admin/community", body).status == 200


def test_only_the_communitys_admins_read_or_change_it_and_a_removed_admin_at_once_not(community):
    member, worker = community.resident(0), community.grid_worker(0)
    for caller in (member, worker):
        assert_refused(caller.get("/v1/admin/community"), 403, "FORBIDDEN")
        assert_refused(caller.patch("/v1/admin/community", {"wish_points": 5}), 403, "FORBIDDEN")
    second = community.with_roles(community.resident(0), ["admin"])
    assert second.patch("/v1/admin/community", {"wish_points": 5}).status == 200
    community.with_roles(second, [])
    assert_refused(second.patch("/v1/admin/community", {"wish_points": 6}), 403, "FORBIDDEN")
    assert settings_of(community.admin)["settings"]["wish_points"] == 5


def test_the_mini_program_changes_it_with_post_and_the_override_header(community):
    resp = community.admin.post("/v1/admin/community", {"wish_points": 7},
                                headers={"X-HTTP-Method-Override": "PATCH"})
    assert resp.status == 200, resp.body
    assert resp.json["settings"]["wish_points"] == 7
