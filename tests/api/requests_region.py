"""A region for the levels above the street (街呼区应), made as the platform operator makes it (the CLI's use cases,
``tongxin.usecases.streets`` and ``districts``): community A (two grids, a worker of each) in street S, in district
D with departments 城管局 and 住建局 and a staff member of each, D's own staff; district E with its department and
staff; and a community in a street that belongs to no district. Used by the fourth level's and the oversight's
tests."""
from __future__ import annotations

from tests.api.test_requests import REQUEST, step, submit
from tests.support import Member, make_community
from tongxin.usecases import districts, streets


class Region:
    """See the module's docstring."""


def staff(api, add, scope_id) -> Member:
    """A fresh user the operator names staff (``add``: a districts/streets use case) of ``scope_id``."""
    member = api.login()
    add(scope_id, member.id)
    return member.relogin()


def make_region(api) -> Region:
    r = Region()
    r.a = make_community(api)
    r.admin, r.worker0, r.worker1 = r.a.admin, r.a.grid_worker(0), r.a.grid_worker(1)
    r.colleague0 = r.a.grid_worker(0)  # a second worker of grid 0
    r.street = streets.create_street("区测街道")["id"]
    streets.attach_community(r.street, r.a.id)
    r.street_staff = staff(api, streets.add_staff, r.street)
    r.district = districts.create_district("同心区")["id"]
    districts.attach_street(r.district, r.street)
    r.cg = districts.add_department(r.district, "城管局")["id"]
    r.zj = districts.add_department(r.district, "住建局", answer_minutes=60, solve_days=2)["id"]
    r.cg_staff = staff(api, districts.add_department_staff, r.cg)
    r.zj_staff = staff(api, districts.add_department_staff, r.zj)
    r.district_staff = staff(api, districts.add_district_staff, r.district)
    r.other_district = districts.create_district("别的区")["id"]
    r.other_dept = districts.add_department(r.other_district, "别的区城管局")["id"]
    r.other_dept_staff = staff(api, districts.add_department_staff, r.other_dept)
    r.other_district_staff = staff(api, districts.add_district_staff, r.other_district)
    r.lone = make_community(api)  # in a street that belongs to no district
    r.lone_street = streets.create_street("无区街道")["id"]
    streets.attach_community(r.lone_street, r.lone.id)
    r.lone_street_staff = staff(api, streets.add_staff, r.lone_street)
    r.outsider = api.login()
    return r


def at_street(r: Region, author: Member, **overrides) -> str:
    """A request the grid and the community passed up: the street's, waiting for its answer."""
    rid = submit(author, **overrides)["id"]
    step(r.worker0, rid, "escalate", {"reason": "需要社区协调"})
    step(r.admin, rid, "escalate", {"reason": "需要街道协调"})
    return rid


def at_department(r: Region, author: Member, department_id: str | None = None) -> str:
    rid = at_street(r, author)
    step(r.street_staff, rid, "escalate", {"reason": "需要城管执法", "department_id": department_id or r.cg})
    return rid


__all__ = ["REQUEST", "Region", "at_department", "at_street", "make_region", "staff"]
