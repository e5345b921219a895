"""Districts (区) and their departments (区直部门), the platform operator's (``python -m tongxin.cli``, called here as
``tongxin.cli.main([...])``): both sides of every link kept in step — a street's ``district_id``, the district's
``street_ids`` and each of the street's communities' ``district_id``; a department and the district's
``department_ids``; a user's role and ``district_ids``/``department_ids`` and the staff list — removals that work at
once, and refusals on the operator's terminal."""
from __future__ import annotations

import pytest

from tests.integration.test_streets import community_item, refused, run, street, user
from tongxin.adapters.dynamo.models import DepartmentModel, DistrictModel


def district(district_id: str) -> DistrictModel:
    return DistrictModel.get(district_id, consistent_read=True)


def department(department_id: str) -> DepartmentModel:
    return DepartmentModel.get(department_id, consistent_read=True)


def test_a_district_with_its_streets_departments_and_settings(capsys, api, community):
    street_id = run(capsys, "create-street", "--name", "同心街道", "--community", community.id)["id"]
    made = run(capsys, "create-district", "--name", "同心区", "--street", street_id)
    assert made["street_ids"] == [street_id] and made["department_ids"] == [] and made["staff_ids"] == []
    assert made["settings"] == {"department_answer_minutes": 240, "department_solve_days": 5,
                                "bulletin_satisfaction_min": 85, "bulletin_resolution_min": 90,
                                "bulletin_response_min": 95}
    assert street(street_id).district_id == made["id"]
    assert community_item(community.id).district_id == made["id"]  # what its requests fix at submission
    cg = run(capsys, "add-department", "--district", made["id"], "--name", "城管局")
    assert (cg["district_id"], cg["name"], cg["answer_minutes"], cg["solve_days"]) == (made["id"], "城管局", None, None)
    zj = run(capsys, "add-department", "--district", made["id"], "--name", "住建局", "--answer-minutes", "60",
             "--solve-days", "2")
    assert (zj["answer_minutes"], zj["solve_days"]) == (60, 2)
    assert district(made["id"]).department_ids == {cg["id"], zj["id"]}
    own = run(capsys, "create-district", "--name", "快区", "--answer-minutes", "90", "--solve-days", "3")
    assert own["settings"]["department_answer_minutes"] == 90 and own["settings"]["department_solve_days"] == 3


def test_a_street_moved_to_another_district_takes_its_communities(capsys, api, community):
    street_id = run(capsys, "create-street", "--name", "搬家街道", "--community", community.id)["id"]
    east = run(capsys, "create-district", "--name", "东区", "--street", street_id)["id"]
    west = run(capsys, "create-district", "--name", "西区")["id"]
    moved = run(capsys, "attach-street", "--district", west, "--street", street_id)
    assert moved["id"] == west and moved["street_ids"] == [street_id]
    assert not district(east).street_ids and street(street_id).district_id == west
    assert community_item(community.id).district_id == west
    # A community attached to the street afterwards takes the street's district.
    from tests.support import make_community
    later = make_community(api, grids=1)
    run(capsys, "attach-community", "--street", street_id, "--community", later.id)
    assert community_item(later.id).district_id == west


def test_naming_and_removing_district_and_department_staff(capsys, api):
    d = run(capsys, "create-district", "--name", "人员区")["id"]
    cg = run(capsys, "add-department", "--district", d, "--name", "城管局")["id"]
    zj = run(capsys, "add-department", "--district", d, "--name", "住建局")["id"]
    person = api.login()
    assert run(capsys, "add-district-staff", "--district", d, "--user-id", person.id)["staff_ids"] == [person.id]
    run(capsys, "add-department-staff", "--department", cg, "--user-id", person.id)
    run(capsys, "add-department-staff", "--department", zj, "--user-id", person.id)
    stored = user(person.id)
    assert {"district_staff", "department_staff"} <= stored.roles and stored.community_id is None
    assert stored.district_ids == {d} and stored.department_ids == {cg, zj}
    assert department(cg).staff_ids == {person.id} and district(d).staff_ids == {person.id}
    assert person.get("/v1/department/tasks").status == 200  # the token issued before works: roles are read as stored
    left = run(capsys, "remove-department-staff", "--department", zj, "--user-id", person.id)
    assert left["staff_ids"] == [] and user(person.id).department_ids == {cg}
    assert "department_staff" in user(person.id).roles  # still staff of the other department
    run(capsys, "remove-department-staff", "--department", cg, "--user-id", person.id)
    run(capsys, "remove-district-staff", "--district", d, "--user-id", person.id)
    stored = user(person.id)
    assert not ({"district_staff", "department_staff"} & (stored.roles or set()))
    assert not stored.district_ids and not stored.department_ids
    assert not department(cg).staff_ids and not district(d).staff_ids
    assert person.get("/v1/department/tasks").status == 403


@pytest.mark.parametrize("command,scope", [("add-district-staff", "--district"), ("remove-district-staff", "--district"),
                                           ("add-department-staff", "--department"),
                                           ("remove-department-staff", "--department")])
def test_unknown_district_department_or_user_is_exit_code_1(capsys, api, command, scope):
    d = run(capsys, "create-district", "--name", "查无区")["id"]
    real = d if scope == "--district" else run(capsys, "add-department", "--district", d, "--name", "局")["id"]
    person = api.login()
    assert refused(capsys, command, scope, "nothing", "--user-id", person.id).startswith("NOT_FOUND")
    assert refused(capsys, command, scope, real, "--user-id", "u_nobody").startswith("NOT_FOUND")
    assert not (user(person.id).roles or set()) & {"district_staff", "department_staff"}


def test_refusals_of_the_links(capsys, community):
    d = run(capsys, "create-district", "--name", "拒绝区")["id"]
    street_id = run(capsys, "create-street", "--name", "拒绝街道")["id"]
    assert refused(capsys, "attach-street", "--district", "dt_nothing", "--street", street_id).startswith("NOT_FOUND")
    assert refused(capsys, "attach-street", "--district", d, "--street", "st_nothing").startswith("NOT_FOUND")
    assert refused(capsys, "add-department", "--district", "dt_nothing", "--name", "局").startswith("NOT_FOUND")
    assert refused(capsys, "add-department", "--district", d, "--name", "局", "--solve-days", "0") \
        .startswith("VALIDATION_FAILED")
    assert refused(capsys, "create-district", "--name", "区", "--answer-minutes", "1").startswith("VALIDATION_FAILED")
    assert street(street_id).district_id is None and not district(d).street_ids and not district(d).department_ids


def test_a_deleted_user_cannot_be_named_staff(capsys, api):
    d = run(capsys, "create-district", "--name", "注销区")["id"]
    gone = api.login()
    assert gone.delete("/v1/me").status == 204
    assert refused(capsys, "add-district-staff", "--district", d, "--user-id", gone.id).startswith("NOT_FOUND")
    assert not district(d).staff_ids
