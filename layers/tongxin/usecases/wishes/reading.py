"""Reading wishes: who may see a wish (one rule for the detail and every list), how it is shown, and the lists.

Answers are built from the items alone: names are carried on the wish (``author_nickname``,
``claimer_nickname``), so a page is one Query and a detail one GetItem.
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
from .. import paging
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


def _visible_condition(principal: Principal):
    """What of the community's unpublished wishes a list shows the caller (None: all of them, an admin): a grid
    worker those of their grids. Never more than ``visible`` allows; a user's own wishes in every state are in
    /v1/wishes/mine and /v1/wishes/claimed."""
    if principal.has(Role.ADMIN):
        return None
    condition = WishModel.status.is_in(*sorted(s.value for s in PUBLIC_STATUSES))
    if principal.has(Role.GRID_WORKER) and principal.grid_ids:
        condition |= WishModel.grid_id.is_in(*sorted(principal.grid_ids))
    return condition


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
    """The community's wishes, newest first; contact and address always masked in lists. Each filter a user can
    pick has its index (one Query per page); what stays a filter (the caller's visibility, a category within a
    grid) is applied within the page's read budget: a page may then hold fewer items, with a cursor to go on."""
    community_id = require_member(principal)
    if status is not None and S(status) not in PUBLIC_STATUSES:
        require_role(principal, *STAFF_ROLES)
    seen = _visible_condition(principal) if status is None or S(status) not in PUBLIC_STATUSES else None
    staff_scope = seen is not None and principal.has(Role.GRID_WORKER) and bool(principal.grid_ids)
    index, key, category_filter = rules.list_query(community_id, status, grid_id, category,
                                                   published_only=status is None and seen is not None and not staff_scope)
    condition = WishModel.category == category_filter if category_filter else None
    if seen is not None and index != "by_public":
        condition = seen if condition is None else condition & seen
    query_index = getattr(WishModel, index)

    def query(**kwargs):
        return query_index.query(key, filter_condition=condition, scan_index_forward=False, **kwargs)

    scope = f"wishes:{index}:{key}:{category_filter or '*'}:{principal.user_id}"
    return paging.page(query, limit, cursor, lambda items: [present(w, contact_visible=False) for w in items],
                       scope=scope, model=WishModel)


def list_mine(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    return paging.page(lambda **kw: WishModel.by_author.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present(w, contact_visible=True) for w in items],
                       scope=f"wishes-by-author:{principal.user_id}", model=WishModel)


def list_claimed(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    return paging.page(lambda **kw: WishModel.by_claimer.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present(w, contact_visible=True) for w in items],
                       scope=f"wishes-by-claimer:{principal.user_id}", model=WishModel)
