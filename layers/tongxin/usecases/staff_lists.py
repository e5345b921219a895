"""Naming and removing the staff of a unit above the community — a street (街道), a district (区), a department
(区直部门) — the operator's, from the command line. One transaction keeps both sides in step: the user's role and
scope set (``street_ids`` / ``district_ids`` / ``department_ids``) and the unit's ``staff_ids`` (whom its messages
reach). A removal works at once: every request reads the caller as stored, and every write re-checks the grant on
the user item."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo.models import UserModel
from ..adapters.dynamo.tx import Tx
from ..domain.access import Role
from ..domain.clock import utcnow
from ..domain.errors import Conflict, NotFound
from .admin import same_set

USER_NOT_FOUND = NotFound("用户不存在")
CHANGED = Conflict("数据刚刚被修改，请重试")


@dataclass(frozen=True)
class StaffList:
    """A kind of unit with staff: its model (with ``staff_ids``), the role its staff hold and the user's scope set."""
    model: Any
    role: Role
    scope: Any  # the UserModel set attribute: street_ids, district_ids, department_ids
    not_found: NotFound


def active_user(user_id: str) -> UserModel:
    try:
        user = UserModel.get(user_id, consistent_read=True)
    except DoesNotExist:
        raise USER_NOT_FOUND from None
    if user.status != "active":
        raise USER_NOT_FOUND
    return user


def add(kind: StaffList, unit_id: str, user_id: str) -> None:
    """The user gets the role and the unit; the unit lists them (both in one transaction; naming twice is a no-op)."""
    active_user(user_id)
    Tx().update(UserModel(user_id), [UserModel.roles.add({kind.role.value}), kind.scope.add({unit_id}),
                                     UserModel.updated_at.set(utcnow())],
                condition=UserModel.status == "active", error=USER_NOT_FOUND) \
        .update(kind.model(unit_id), [kind.model.staff_ids.add({user_id})], condition=kind.model.id.exists(),
                error=kind.not_found) \
        .commit()


def remove(kind: StaffList, unit_id: str, user_id: str) -> None:
    """The unit is taken from the user (and the role with their last unit of the kind), and they leave its list —
    conditional on the user's units being as read (409 ``CONFLICT`` when they changed in between)."""
    user = active_user(user_id)
    units = set(getattr(user, kind.scope.attr_name) or ())
    left = units - {unit_id}
    actions = [UserModel.updated_at.set(utcnow()), kind.scope.set(left) if left else kind.scope.remove()]
    if not left:
        actions.append(UserModel.roles.delete({kind.role.value}))
    Tx().update(UserModel(user_id), actions, condition=(UserModel.status == "active") & same_set(kind.scope, units),
                error=CHANGED) \
        .update(kind.model(unit_id), [kind.model.staff_ids.delete({user_id})], condition=kind.model.id.exists(),
                error=kind.not_found) \
        .commit()
