"""A community's own page for its admins: its name, street and settings (社区设置), read and changed.

``GET /v1/admin/community`` answers every setting's value in force (stored, else the default) with its bounds;
``PATCH`` sets the settings sent, in one conditional update that re-checks the admin's grant. The areas read the
settings from the community item when they apply them (a change takes effect on the next request).
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import CommunityModel
from ..adapters.dynamo.tx import Tx
from ..domain import settings as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api
from ..domain.errors import NotFound

COMMUNITY_NOT_FOUND = NotFound("社区不存在")


def _load(community_id: str) -> CommunityModel:
    try:
        return CommunityModel.get(community_id, consistent_read=True)
    except DoesNotExist:
        raise COMMUNITY_NOT_FOUND from None


def present(community: CommunityModel) -> dict:
    stored = {name: getattr(community, name, None) for name in rules.SETTINGS}
    return {"id": community.id, "name": community.name, "street_id": community.street_id,
            "created_at": to_api(community.created_at), "settings": rules.effective(stored),
            "fields": rules.describe()}


def get(principal: Principal) -> dict:
    grant = require_role(principal, Role.ADMIN)
    return present(_load(grant.community_id))


def update(principal: Principal, changes: dict) -> dict:
    """Set the settings in ``changes`` (already validated against their bounds by the request model)."""
    grant = require_role(principal, Role.ADMIN)
    community = _load(grant.community_id)
    unknown = set(changes) - set(rules.SETTINGS)
    if unknown:  # the request model lets none through; a use case never writes an attribute it does not know
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    if not changes:
        return present(community)
    answer = present(community.changed(**changes))
    check_grant(Tx(), grant).update(
        CommunityModel(community.id), [getattr(CommunityModel, name).set(value) for name, value in changes.items()],
        condition=CommunityModel.id.exists(), error=COMMUNITY_NOT_FOUND).commit(answer)
    return answer
