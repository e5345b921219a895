"""Conditions that re-check, inside a write's own transaction, that the actor still holds the role
(and scope) that allowed the write. A removed role stops working at once, with no extra round trip."""
from __future__ import annotations

from ...domain.access import Grant
from ...domain.errors import Forbidden, Unauthenticated
from .models import UserModel
from .tx import ErrorFor, Tx

ROLE_CHANGED = Forbidden("您的权限已变更，请重新登录后再试")


def grant_condition(grant: Grant):
    if grant.street_id is not None:  # street staff: scoped to the street, whatever community they live in
        return (UserModel.status == "active") & UserModel.roles.contains(grant.role) \
            & UserModel.street_ids.contains(grant.street_id)
    if grant.district_id is not None:  # district staff (区级平台): scoped to the district
        return (UserModel.status == "active") & UserModel.roles.contains(grant.role) \
            & UserModel.district_ids.contains(grant.district_id)
    if grant.department_id is not None:  # department staff (区直部门): scoped to the department
        return (UserModel.status == "active") & UserModel.roles.contains(grant.role) \
            & UserModel.department_ids.contains(grant.department_id)
    if grant.unit_id is not None:  # a unit's liaison (共建单位联络员): scoped to the unit
        return (UserModel.status == "active") & UserModel.roles.contains(grant.role) \
            & UserModel.unit_ids.contains(grant.unit_id)
    condition = (UserModel.status == "active") & (UserModel.community_id == grant.community_id) \
        & UserModel.roles.contains(grant.role)
    if grant.grid_id is not None:
        condition &= UserModel.grid_ids.contains(grant.grid_id)
    if grant.store_id is not None:
        condition &= UserModel.store_ids.contains(grant.store_id)
    if grant.home_grid_in:
        condition &= UserModel.grid_id.is_in(*sorted(grant.home_grid_in))
    return condition


def check_grant(tx: Tx, grant: Grant, error: ErrorFor = ROLE_CHANGED) -> Tx:
    """Add a ConditionCheck on the actor's user item to ``tx``; ``error``: what its failure means (a function of
    the user item as it stood tells a grant's own scope apart from a role taken away)."""
    return tx.check(UserModel, grant.user_id, condition=grant_condition(grant), error=error)


def check_active(tx: Tx, user_id: str) -> Tx:
    """The actor still exists (not 注销): a deleted user's token must not write."""
    return tx.check(UserModel, user_id, condition=UserModel.status == "active", error=Unauthenticated("账号已注销，请重新登录"))
