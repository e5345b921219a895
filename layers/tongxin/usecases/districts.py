"""Districts (区) and their departments (区直部门), the platform operator's (command line only): create a district,
add its departments, attach streets to it, name and remove district staff (``district_staff``) and department staff
(``department_staff``). As for streets (``streets.py``), each change is one transaction keeping both sides in step:
the street's ``district_id``, the district's ``street_ids`` and each of the street's communities' ``district_id``
(what a request fixes at submission); the department and the district's ``department_ids``; the user's role and
``district_ids`` / ``department_ids`` and the staff list whom messages reach (``staff_ids``). A removal works at
once: every request reads the caller as stored, and every write re-checks the grant on the user item."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo.models import CommunityModel, DepartmentModel, DistrictModel, StreetModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain import requests as rules
from ..domain.access import Role
from ..domain.clock import utcnow
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.ids import new_id
from .admin import same_set
from . import staff_lists
from .staff_lists import CHANGED
from .streets import STREET_NOT_FOUND, _street

DISTRICT_NOT_FOUND = NotFound("区不存在")
DEPARTMENT_NOT_FOUND = NotFound("部门不存在")
# A transaction holds at most 100 items: the street, its district(s) and each of its communities.
MAX_STREET_COMMUNITIES = 96


def present_district(district: DistrictModel) -> dict:
    return {"id": district.id, "name": district.name, "street_ids": sorted(district.street_ids or ()),
            "department_ids": sorted(district.department_ids or ()), "staff_ids": sorted(district.staff_ids or ()),
            "settings": rules.district_settings(district)}


def present_department(department: DepartmentModel) -> dict:
    return {"id": department.id, "name": department.name, "district_id": department.district_id,
            "staff_ids": sorted(department.staff_ids or ()),
            "answer_minutes": int(department.answer_minutes) if department.answer_minutes is not None else None,
            "solve_days": int(department.solve_days) if department.solve_days is not None else None}


def _limits(answer_minutes: int | None, solve_days: int | None) -> None:
    if answer_minutes is not None and not rules.DEPARTMENT_ANSWER_RANGE[0] <= answer_minutes \
            <= rules.DEPARTMENT_ANSWER_RANGE[1]:
        raise ValidationFailed("响应时限须在 5–10080 分钟之间", details={"field": "answer_minutes"})
    if solve_days is not None and not rules.DEPARTMENT_SOLVE_DAYS_RANGE[0] <= solve_days \
            <= rules.DEPARTMENT_SOLVE_DAYS_RANGE[1]:
        raise ValidationFailed("办结时限须在 1–90 天之间", details={"field": "solve_days"})


def create_district(name: str, *, district_id: str | None = None, answer_minutes: int | None = None,
                    solve_days: int | None = None) -> dict:
    """A district with its settings in force: its departments' default limits (240 minutes to answer, 5 days to
    solve) and the bulletin's thresholds (满意率 85, 解决率 90, 响应率 95), stored so that they can be changed."""
    _limits(answer_minutes, solve_days)
    district = DistrictModel(
        district_id or new_id("dt"), name=name, created_at=utcnow(),
        department_answer_minutes=answer_minutes or rules.DEFAULT_DEPARTMENT_ANSWER_MINUTES,
        department_solve_days=solve_days or rules.DEFAULT_DEPARTMENT_SOLVE_DAYS,
        **{f"bulletin_{key}_min": value for key, value in rules.BULLETIN_THRESHOLDS.items()})
    Tx().put(district, condition=DistrictModel.id.does_not_exist(), error=Conflict("区已存在")).commit()
    return present_district(district)


def _district(district_id: str) -> DistrictModel:
    try:
        return DistrictModel.get(district_id, consistent_read=True)
    except DoesNotExist:
        raise DISTRICT_NOT_FOUND from None


def _department(department_id: str) -> DepartmentModel:
    try:
        return DepartmentModel.get(department_id, consistent_read=True)
    except DoesNotExist:
        raise DEPARTMENT_NOT_FOUND from None


def add_department(district_id: str, name: str, *, department_id: str | None = None,
                   answer_minutes: int | None = None, solve_days: int | None = None) -> dict:
    """A department of the district (its own limits, or the district's when left out)."""
    _limits(answer_minutes, solve_days)
    department = DepartmentModel(department_id or new_id("dp"), district_id=district_id, name=name,
                                 answer_minutes=answer_minutes, solve_days=solve_days, created_at=utcnow())
    Tx().put(department, condition=DepartmentModel.id.does_not_exist(), error=Conflict("部门已存在")) \
        .update(DistrictModel(district_id), [DistrictModel.department_ids.add({department.id})],
                condition=DistrictModel.id.exists(), error=DISTRICT_NOT_FOUND).commit()
    return present_department(department)


def attach_street(district_id: str, street_id: str) -> dict:
    """The street now belongs to ``district_id`` (moved from its former district, if any), and so do its
    communities: requests submitted from now on can be escalated to this district's departments; those already
    submitted keep the district they were submitted under."""
    district, street = _district(district_id), _street(street_id)
    communities = set(street.community_ids or ())
    if len(communities) > MAX_STREET_COMMUNITIES:
        raise Conflict(f"街道下的社区超过 {MAX_STREET_COMMUNITIES} 个，无法一次迁移")
    former = street.district_id
    unchanged = (StreetModel.district_id == former if former else StreetModel.district_id.does_not_exist()) \
        & same_set(StreetModel.community_ids, communities)
    tx = Tx().update(StreetModel(street_id), [StreetModel.district_id.set(district_id)], condition=unchanged,
                     error=lambda current: STREET_NOT_FOUND if current is None else CHANGED)
    tx.update(DistrictModel(district_id), [DistrictModel.street_ids.add({street_id})],
              condition=DistrictModel.id.exists(), error=DISTRICT_NOT_FOUND)
    if former and former != district_id:
        tx.update(DistrictModel(former), [DistrictModel.street_ids.delete({street_id})])
    for community_id in sorted(communities):  # still the street's: an attach-community meanwhile is caught here
        tx.update(CommunityModel(community_id), [CommunityModel.district_id.set(district_id)],
                  condition=CommunityModel.street_id == street_id, error=CHANGED)
    tx.commit()
    district.street_ids = set(district.street_ids or ()) | {street_id}
    return present_district(district)


DISTRICT_STAFF = staff_lists.StaffList(DistrictModel, Role.DISTRICT_STAFF, UserModel.district_ids,
                                       DISTRICT_NOT_FOUND)
DEPARTMENT_STAFF = staff_lists.StaffList(DepartmentModel, Role.DEPARTMENT_STAFF, UserModel.department_ids,
                                         DEPARTMENT_NOT_FOUND)


def add_district_staff(district_id: str, user_id: str) -> dict:
    district = _district(district_id)
    staff_lists.add(DISTRICT_STAFF, district_id, user_id)
    district.staff_ids = set(district.staff_ids or ()) | {user_id}
    return present_district(district)


def remove_district_staff(district_id: str, user_id: str) -> dict:
    """Takes the district away from the user (and the role with their last district), at once."""
    district = _district(district_id)
    staff_lists.remove(DISTRICT_STAFF, district_id, user_id)
    district.staff_ids = set(district.staff_ids or ()) - {user_id}
    return present_district(district)


def add_department_staff(department_id: str, user_id: str) -> dict:
    department = _department(department_id)
    staff_lists.add(DEPARTMENT_STAFF, department_id, user_id)
    department.staff_ids = set(department.staff_ids or ()) | {user_id}
    return present_department(department)


def remove_department_staff(department_id: str, user_id: str) -> dict:
    """Takes the department away from the user (and the role with their last department), at once."""
    department = _department(department_id)
    staff_lists.remove(DEPARTMENT_STAFF, department_id, user_id)
    department.staff_ids = set(department.staff_ids or ()) - {user_id}
    return present_department(department)


def forget_deleted_staff(user: UserModel) -> None:
    """注销 of district or department staff: they leave the staff lists whom messages reach (one write, safe to
    repeat); the account's closing transaction takes the roles."""
    tx = Tx()
    for district_id in sorted(user.district_ids or ()):
        tx.update(DistrictModel(district_id), [DistrictModel.staff_ids.delete({user.id})],
                  condition=DistrictModel.id.exists())
    for department_id in sorted(user.department_ids or ()):
        tx.update(DepartmentModel(department_id), [DepartmentModel.staff_ids.delete({user.id})],
                  condition=DepartmentModel.id.exists())
    tx.commit()
