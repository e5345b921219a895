"""Authorisation for reads: the token's role, re-checked against the user's current roles.

Writes re-check the grant inside their own transaction instead (``adapters.dynamo.guards``).
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo.guards import ROLE_CHANGED
from ..adapters.dynamo.models import UserModel
from ..domain.access import Grant, Principal, Role, require_role
from ..domain.errors import Unauthenticated


def grant_holds(user: UserModel, grant: Grant) -> bool:
    if user.status != "active" or user.community_id != grant.community_id or grant.role not in (user.roles or ()):
        return False
    if grant.grid_id is not None and grant.grid_id not in (user.grid_ids or ()):
        return False
    if grant.store_id is not None and grant.store_id not in (user.store_ids or ()):
        return False
    return True


def authorize_read(principal: Principal, *roles: Role, community_id: str | None = None,
                   grid_id: str | None = None, store_id: str | None = None) -> Grant:
    """``require_role`` on the token, then one consistent read to see the role still holds."""
    grant = require_role(principal, *roles, community_id=community_id, grid_id=grid_id, store_id=store_id)
    try:
        user = UserModel.get(principal.user_id, consistent_read=True)
    except DoesNotExist:
        raise Unauthenticated() from None
    if not grant_holds(user, grant):
        raise ROLE_CHANGED
    return grant
