"""Authorisation for reads: the token's roles, narrowed to what the user holds now.

A role added since login takes effect at the next login (it is not in the token); a role removed
stops working at once (it is no longer stored). Writes re-check the grant inside their own
transaction instead (``adapters.dynamo.guards``), with no extra read.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo.models import UserModel
from ..domain.access import Grant, Principal, Role, require_role
from ..domain.errors import Unauthenticated


def current_principal(principal: Principal) -> Principal:
    """One consistent read of the user: the token's claims intersected with the stored ones."""
    try:
        user = UserModel.get(principal.user_id, consistent_read=True)
    except DoesNotExist:
        raise Unauthenticated() from None
    if user.status != "active":
        raise Unauthenticated("账号已注销，请重新登录")
    same_community = user.community_id == principal.community_id
    return Principal(
        user_id=principal.user_id,
        community_id=principal.community_id if same_community else None,
        roles=principal.roles & frozenset(user.roles or ()) if same_community else frozenset(),
        grid_ids=principal.grid_ids & frozenset(user.grid_ids or ()),
        store_ids=principal.store_ids & frozenset(user.store_ids or ()),
    )


def authorize_read(principal: Principal, *roles: Role, community_id: str | None = None,
                   grid_id: str | None = None, store_id: str | None = None) -> Grant:
    """``require_role`` on the token first (no read for an obvious no), then on the current state."""
    require_role(principal, *roles, community_id=community_id, grid_id=grid_id, store_id=store_id)
    return require_role(current_principal(principal), *roles, community_id=community_id, grid_id=grid_id,
                        store_id=store_id)
