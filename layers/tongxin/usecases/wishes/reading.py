"""Reading wishes: who may see a wish (one rule for the detail and every list), how it is shown, and the lists.

Answers are built from the items alone: names are carried on the wish (``author_nickname``,
``claimer_nickname``), so a page is its index entries (one Query, more when it filters: pages.py) and its wishes
(one BatchGetItem), and a detail one GetItem.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ...adapters.dynamo.models import WishModel
from ...domain import wishes as rules
from ...domain.access import Principal, Role, require_member, require_role
from ...domain.clock import to_api
from ...domain.errors import Forbidden, NotFound
from ...domain.masking import mask_address, mask_phone
from ...domain.wishes import WishStatus as S
from . import pages
from ...domain.text import DEFAULT_NICKNAME

PUBLIC_STATUSES = rules.PUBLIC  # published: the whole community's
STAFF_ROLES = (Role.GRID_WORKER, Role.ADMIN)
WISH_NOT_FOUND = NotFound("心愿不存在")


def load(principal: Principal, wish_id: str) -> WishModel:
    community_id = require_member(principal)
    try:
        wish = WishModel.get(wish_id, consistent_read=True)
    except DoesNotExist:
        raise WISH_NOT_FOUND from None
    if wish.community_id != community_id:  # another community's wish is not even acknowledged
        raise WISH_NOT_FOUND
    return wish


# --- who sees what -------------------------------------------------------------------------------------

def is_staff_for(principal: Principal, wish: WishModel) -> bool:
    """Admin, or grid worker of the wish's grid (a wish with no grid is the admins' alone)."""
    try:
        require_role(principal, *STAFF_ROLES, community_id=wish.community_id, grid_id=wish.grid_id)
        return True
    except Forbidden:
        return False


def contact_visible(principal: Principal, wish: WishModel) -> bool:
    return principal.user_id in (wish.author_id, wish.claimer_id) or is_staff_for(principal, wish)


def visible(principal: Principal, wish: WishModel) -> bool:
    """THE rule of who sees a wish at all, for the detail and the lists alike: a published wish is the
    community's; an unpublished or withdrawn one is its author's, its claimer's and its staff's business."""
    return S(wish.status) in PUBLIC_STATUSES or contact_visible(principal, wish)


# --- presenting ----------------------------------------------------------------------------------------

def _person(user_id: str | None, nickname: str | None) -> dict | None:
    if not user_id:
        return None
    return {"id": user_id, "nickname": nickname or DEFAULT_NICKNAME}


def present(wish: WishModel, *, contact_visible: bool) -> dict:
    return {
        "id": wish.id,
        "title": wish.title,
        "content": wish.content,
        "category": wish.category,
        "status": wish.status,
        "status_label": rules.STATUS_LABELS[S(wish.status)],
        "grid_id": wish.grid_id,
        "author": _person(wish.author_id, wish.author_nickname),
        "claimer": _person(wish.claimer_id, wish.claimer_nickname),
        "contact_phone": wish.contact_phone if contact_visible else mask_phone(wish.contact_phone),
        "address": wish.address if contact_visible else mask_address(wish.address),
        "contact_visible": contact_visible,
        "deadline": to_api(wish.deadline),
        "created_at": to_api(wish.created_at),
        "published_at": to_api(wish.published_at),
        "claimed_at": to_api(wish.claimed_at),
        "fulfilled_at": to_api(wish.fulfilled_at),
        "fulfil_note": wish.fulfil_note,
        "confirmed_at": to_api(wish.confirmed_at),
        "rating": int(wish.rating) if wish.rating is not None else None,
        "comment": wish.comment,
        "points_awarded": int(wish.points_awarded) if wish.points_awarded is not None else None,
        "reject_reason": wish.reject_reason,
        "escalated": wish.escalated_at is not None,
        "escalated_at": to_api(wish.escalated_at),
    }


def present_for(principal: Principal, wish: WishModel) -> dict:
    return present(wish, contact_visible=contact_visible(principal, wish))


# --- reads --------------------------------------------------------------------------------------------

def get(principal: Principal, wish_id: str) -> dict:
    wish = load(principal, wish_id)
    if not visible(principal, wish):
        raise WISH_NOT_FOUND
    return present_for(principal, wish)


def list_community(principal: Principal, *, status: str | None, grid_id: str | None, category: str | None,
                   limit: int, cursor: str | None) -> dict:
    """The community's wishes, newest first; contact and address always masked in lists. A status is the index's
    key; a grid, a category and what the caller may see are tested on the index entries, reading on until the
    page is full (pages.py: within a stated budget), then the page's wishes are read in one BatchGetItem."""
    community_id = require_member(principal)
    if status is not None and S(status) not in PUBLIC_STATUSES:
        require_role(principal, *STAFF_ROLES)
    sees_all = principal.has(Role.ADMIN)
    own_grids = frozenset(principal.grid_ids or ()) if principal.has(Role.GRID_WORKER) else frozenset()
    index, key = rules.list_index(community_id, status)
    # only what can drop an entry makes the page read on (a published status is everyone's)
    filtered = bool(grid_id or category) or not (sees_all or (status is not None and S(status) in PUBLIC_STATUSES))

    def listed(fields) -> bool:
        current_status, current_grid, current_category = fields
        return rules.listed(current_status, current_grid, current_category, want_status=status, want_grid=grid_id,
                            want_category=category, sees_all=sees_all, own_grids=own_grids)

    scope = f"wishes:{index}:{key}:{grid_id or '*'}:{category or '*'}:{principal.user_id}"
    return pages.page(getattr(WishModel, index), key, limit, cursor, scope=scope,
                      present=lambda wishes: [present(w, contact_visible=False) for w in wishes],
                      keep=(lambda entry: listed(pages.entry_fields(entry))) if filtered else None,
                      still=lambda wish: listed((wish.status, wish.grid_id, wish.category)))


def list_mine(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    return pages.page(WishModel.by_author, principal.user_id, limit, cursor,
                      scope=f"wishes-by-author:{principal.user_id}",
                      present=lambda wishes: [present(w, contact_visible=True) for w in wishes])


def list_claimed(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """The wishes I hold (or held) as claimer; one released since the index was read is left out."""
    return pages.page(WishModel.by_claimer, principal.user_id, limit, cursor,
                      scope=f"wishes-by-claimer:{principal.user_id}",
                      present=lambda wishes: [present(w, contact_visible=True) for w in wishes],
                      still=lambda wish: wish.claimer_id == principal.user_id)
