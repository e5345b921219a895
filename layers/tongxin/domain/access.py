"""Roles, scopes and the one authorisation rule every route uses.

A user belongs to one community. ``grid_worker`` is scoped to grid ids, ``store_keeper`` to store ids,
``admin`` to the whole community. ``street_staff`` (街道工作人员) sits above communities, scoped to street ids,
``district_staff`` (区级平台) above streets, scoped to district ids, and ``department_staff`` (区直部门) to department
ids; the platform operator names all three, and they need not belong to any community. The token carries what the user held at login; writes re-check the
role inside their DynamoDB transaction (see ``adapters.dynamo.guards``), so a removed role stops working at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from enum import Enum

from .errors import Forbidden, NotInCommunity, ValidationFailed


class Role(str, Enum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    PARTY_MEMBER = "party_member"
    GRID_WORKER = "grid_worker"
    ADMIN = "admin"
    STORE_KEEPER = "store_keeper"
    STREET_STAFF = "street_staff"
    DISTRICT_STAFF = "district_staff"
    DEPARTMENT_STAFF = "department_staff"
    UNIT_LIAISON = "unit_liaison"


# The roles above communities: the operator's to name (command line); an admin can neither give nor take them.
OPERATOR_ROLES = frozenset({Role.STREET_STAFF.value, Role.DISTRICT_STAFF.value, Role.DEPARTMENT_STAFF.value})
# A unit's liaison (共建单位联络员) is named by the street through an invite, never by a community's admin.
NOT_ASSIGNABLE = OPERATOR_ROLES | {Role.UNIT_LIAISON.value}
# Roles only an approval grants: ``party_member`` comes with an approved 党员报到 (usecases/party.approve). Through
# PUT /v1/admin/members/{id}/roles an admin may keep it (a list read back) or take it away (which ends the
# registration), never add it: 400 VALIDATION_FAILED naming ``roles`` (``ROLE_NEEDS_APPROVAL``).
APPROVAL_ONLY = frozenset({Role.PARTY_MEMBER.value})
ROLE_NEEDS_APPROVAL = "党员身份只能由党员报到审核通过获得，不能直接授予；请该居民提交党员报到"
# Roles an admin may grant through PUT /v1/admin/members/{id}/roles. ``resident`` follows membership.
ASSIGNABLE_ROLES = frozenset(r.value for r in Role if r is not Role.RESIDENT and r.value not in NOT_ASSIGNABLE)


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""
    user_id: str
    community_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    grid_ids: frozenset[str] = field(default_factory=frozenset)
    store_ids: frozenset[str] = field(default_factory=frozenset)
    street_ids: frozenset[str] = field(default_factory=frozenset)
    district_ids: frozenset[str] = field(default_factory=frozenset)
    department_ids: frozenset[str] = field(default_factory=frozenset)
    unit_ids: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: Role | str) -> bool:
        return Role(role).value in self.roles


@dataclass(frozen=True)
class Grant:
    """The role (and scope) that allowed an action; writes re-check exactly this in their transaction."""
    user_id: str
    community_id: str
    role: str
    grid_id: str | None = None
    store_id: str | None = None
    street_id: str | None = None
    district_id: str | None = None
    department_id: str | None = None
    unit_id: str | None = None
    # The grids the actor must live in (their ``grid_id``) for this action, re-checked with the role: a resident who
    # moved out of them between the read and the write is refused by the transaction (群众评单 of a project that
    # served some grids). None: wherever they live.
    home_grid_in: frozenset[str] | None = None


def require_member(principal: Principal) -> str:
    if not principal.community_id:
        raise NotInCommunity()
    return principal.community_id


class _Any:
    """The scope argument's default: the action concerns no particular grid or store."""
    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


def require_role(principal: Principal, *roles: Role, community_id: str | None = None,
                 grid_id: str | None | _Any = ANY, store_id: str | None | _Any = ANY) -> Grant:
    """Return the first of ``roles`` that the principal holds in scope, else raise ``Forbidden``.

    ``community_id`` is the community of the thing acted on (defaults to the principal's own);
    another community's data is never in scope. ``grid_id``/``store_id`` name the grid or store of the thing
    acted on; ``None`` means the thing has none, which no grid worker (or store keeper) covers — only ``admin``,
    which covers every grid and store of its community. Leave them out when the action has no such scope.
    """
    own = require_member(principal)
    if community_id is not None and community_id != own:
        raise Forbidden()
    for role in roles:
        role = Role(role)
        if role.value not in principal.roles:
            continue
        if role is Role.GRID_WORKER and grid_id is not ANY and grid_id not in principal.grid_ids:
            continue
        if role is Role.STORE_KEEPER and store_id is not ANY and store_id not in principal.store_ids:
            continue
        scoped_grid = grid_id if role is Role.GRID_WORKER and grid_id is not ANY else None
        scoped_store = store_id if role is Role.STORE_KEEPER and store_id is not ANY else None
        return Grant(principal.user_id, own, role.value, scoped_grid, scoped_store)
    raise Forbidden()


def require_street(principal: Principal, street_id: str | None) -> Grant:
    """Street staff of ``street_id`` (their community, if any, plays no part), else ``Forbidden``."""
    if street_id is None or Role.STREET_STAFF.value not in principal.roles or street_id not in principal.street_ids:
        raise Forbidden()
    return Grant(principal.user_id, "", Role.STREET_STAFF.value, street_id=street_id)


def require_district(principal: Principal, district_id: str | None) -> Grant:
    """District staff of ``district_id`` (区级平台), else ``Forbidden``."""
    if district_id is None or Role.DISTRICT_STAFF.value not in principal.roles \
            or district_id not in principal.district_ids:
        raise Forbidden()
    return Grant(principal.user_id, "", Role.DISTRICT_STAFF.value, district_id=district_id)


def require_department(principal: Principal, department_id: str | None) -> Grant:
    """Staff of the department ``department_id`` (区直部门), else ``Forbidden``."""
    if department_id is None or Role.DEPARTMENT_STAFF.value not in principal.roles \
            or department_id not in principal.department_ids:
        raise Forbidden()
    return Grant(principal.user_id, "", Role.DEPARTMENT_STAFF.value, department_id=department_id)


def scope_asked(principal: Principal, role: Role, held: frozenset[str], asked: str | None, field: str, what: str,
                require: Callable[[Principal, str], Grant]) -> str:
    """The scope a staff route is about (a street, a district): the one named in ``field``, or the caller's only
    one. 403 FORBIDDEN for anyone but its staff; 400 VALIDATION_FAILED naming ``field`` for staff of several who
    named none (``what`` names the kind in the message)."""
    if role.value not in principal.roles or not held:
        raise Forbidden()
    if asked is None:
        if len(held) > 1:
            raise ValidationFailed(f"您负责多个{what}，请指定 {field}", details={"field": field})
        asked = next(iter(held))
    require(principal, asked)
    return asked


def street_asked(principal: Principal, street_id: str | None) -> str:
    """The street a street-staff route is about (``street_id``, or the caller's only street)."""
    return scope_asked(principal, Role.STREET_STAFF, principal.street_ids, street_id, "street_id", "街道",
                       require_street)


def district_asked(principal: Principal, district_id: str | None) -> str:
    """The district a district-staff route is about (``district_id``, or the caller's only district)."""
    return scope_asked(principal, Role.DISTRICT_STAFF, principal.district_ids, district_id, "district_id", "区",
                       require_district)


def require_unit(principal: Principal, unit_id: str | None) -> Grant:
    """The liaison of the unit ``unit_id`` (共建单位联络员), else ``Forbidden``."""
    if unit_id is None or Role.UNIT_LIAISON.value not in principal.roles or unit_id not in principal.unit_ids:
        raise Forbidden()
    return Grant(principal.user_id, "", Role.UNIT_LIAISON.value, unit_id=unit_id)
