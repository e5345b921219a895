"""The member directory (成员名录): ``GET /v1/admin/members`` and ``GET /v1/admin/members/{user_id}``, and ``sync``,
which every change of a member's name, phone, roles, grid or membership calls to keep the directory in the same
transaction.

Keeping it: ``sync(tx, before, after)`` deletes the entries the member had (computed from the user item as read)
that they no longer have, puts the new ones, and answers the condition the change must put on the user item: the
fields the entries are made of still as read. So a change that raced another (a nickname changed twice at once, a
role changed while the member changed their name) fails its condition instead of deleting entries that are no
longer the member's and leaving the new ones' twins behind (ghosts); it is answered 409 CONFLICT (read again).

Reading it: a page is ONE Query on the key the filters pick (``domain/directory.listing``) and ONE BatchGetItem of
the page's members (their live balance, minutes, roles and names). A role given with ``q`` is checked on the page:
such a page may hold fewer than ``limit`` members, with a ``next_cursor`` to go on.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.operand import Path

from ..adapters.dynamo import batch, scores
from ..adapters.dynamo.models import CommunityModel, MemberEntryModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain import directory as rules
from ..domain.access import Grant, Principal, Role, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..domain.masking import mask_phone
from . import paging, volunteer_count
from ..domain.text import DEFAULT_NICKNAME

CHANGED_MEANWHILE = Conflict("资料刚刚被修改，请刷新后重试")
MEMBER_NOT_FOUND = NotFound("成员不存在")


def member_of(user: UserModel | None) -> rules.Member | None:
    if user is None:
        return None
    return rules.Member(user_id=user.id, community_id=user.community_id, active=user.status == "active",
                        joined_at=user.joined_at or (user.created_at if user.community_id else None),
                        grid_id=user.grid_id, roles=frozenset(user.roles or ()), nickname=user.nickname,
                        real_name=user.real_name, phone=user.phone, managed=bool(user.managed))


def keys_of(user: UserModel | None) -> set[tuple[str, str]]:
    """(community, sort key) of every entry ``user`` has."""
    member = member_of(user)
    if member is None:
        return set()
    return {(member.community_id, key) for key in rules.entry_keys(member)}


def _same(attribute, value):
    """The stored attribute is ``value`` (absent, or NULL as an older write may have left it, when None)."""
    if value is None or value == set():
        return attribute.does_not_exist() | Path(attribute.attr_name).is_type("NULL")
    return attribute == value


def unchanged(user: UserModel):
    """The condition that the fields the entries are made of are still as read (and the member active)."""
    condition = UserModel.status == "active"
    for name in ("community_id", "grid_id", "nickname", "real_name", "phone", "joined_at"):
        condition &= _same(getattr(UserModel, name), getattr(user, name))
    return condition & _same(UserModel.roles, set(user.roles or ()))


def sync(tx: Tx, before: UserModel | None, after: UserModel | None):
    """Add to ``tx`` the entries' changes from ``before`` (the user as read) to ``after`` (as the change leaves it;
    None: deleted). Answers the condition the change's update of the user item must carry (None: the directory is
    untouched, no condition needed). The leaderboards' copies of the name and grid move in the same transaction
    (``scores.follow``)."""
    held = scores.follow(tx, before, after, utcnow())  # its condition includes the member being active
    old, new = keys_of(before), keys_of(after)
    if old == new:
        return held
    user_id = (after or before).id
    for community_id, key in sorted(old - new):
        tx.delete(MemberEntryModel(community_id, key))
    for community_id, key in sorted(new - old):
        tx.put(MemberEntryModel(community_id, key, user_id=user_id))
    return volunteer_count.both(unchanged(before), held) if before is not None else held


# --- reading ----------------------------------------------------------------------------------------------------

def present_member(user: UserModel, *, full_phone: bool) -> dict:
    return {
        "id": user.id,
        "nickname": user.nickname or DEFAULT_NICKNAME,
        "real_name": user.real_name,
        "roles": sorted(user.roles or ()),
        "grid_id": user.grid_id,
        "grid_ids": sorted(user.grid_ids or ()),
        "store_ids": sorted(user.store_ids or ()),
        "phone": user.phone if full_phone else mask_phone(user.phone),
        "volunteer_minutes": int(user.volunteer_minutes or 0),
        "points_balance": int(user.points_balance or 0),
        "joined_at": to_api(user.joined_at or user.created_at),
        "managed": bool(user.managed),  # 代办: a resident without WeChat, acted for by staff
    }


def _scope(principal: Principal, grid_id: str | None):
    """(grant, the grid the list is limited to). A grid worker lists one of their grids: the one named (403 for
    another), else the first of theirs (in id order)."""
    grant = require_role(principal, Role.ADMIN, Role.GRID_WORKER)
    if grant.role == Role.ADMIN.value:
        return grant, grid_id
    if not principal.grid_ids:
        raise Forbidden()
    if grid_id is None:
        return grant, sorted(principal.grid_ids)[0]
    if grid_id not in principal.grid_ids:
        raise Forbidden("只能查看自己负责网格的成员", details={"field": "grid_id"})
    return grant, grid_id


def list_members(principal: Principal, *, q: str | None, role: str | None, grid_id: str | None, limit: int,
                 cursor: str | None) -> dict:
    grant, grid = _scope(principal, grid_id)
    token = None
    if q is not None:
        token = rules.normalize(q)
        if not token:
            raise ValidationFailed("q：请输入昵称、姓名或手机号后四位", details={"field": "q"})
    plan = rules.listing(q=token, role=role, grid_id=grid)
    cid = grant.community_id
    full_phone = grant.role == Role.ADMIN.value

    def present(entries: list[MemberEntryModel]) -> list[dict]:
        ids = list(dict.fromkeys(e.user_id for e in entries))  # a search may meet one member twice (two tokens)
        users = batch.get_many(*[(UserModel, uid) for uid in ids]) if ids else []
        shown = []
        for user in users:
            if user is None or user.status != "active" or user.community_id != cid:
                continue  # the invariant says never; an entry is not trusted over its user
            if grid is not None and user.grid_id != grid:
                continue
            if plan.role_filter and plan.role_filter not in (user.roles or ()):
                continue
            shown.append(present_member(user, full_phone=full_phone))
        return shown

    def query(**kw):
        return MemberEntryModel.query(cid, MemberEntryModel.entry_key.startswith(plan.prefix),
                                      scan_index_forward=not plan.newest_first, **kw)

    scope = f"members:{cid}:{plan.prefix}:{plan.role_filter or ''}"
    return paging.page(query, limit, cursor, present, scope=scope, model=MemberEntryModel)


def member_in_scope(principal: Principal, user_id: str) -> tuple[Grant, UserModel]:
    """Who may look at one member, and the member's user item (one consistent GetItem): an admin, any member of the
    community; a grid worker, a member living in one of their grids (403 for a member of another grid). 404: no
    such member here (another community's, deleted, unknown). Every staff view of one member starts here."""
    grant = require_role(principal, Role.ADMIN, Role.GRID_WORKER)
    try:
        user = UserModel.get(user_id, consistent_read=True)
    except DoesNotExist:
        raise MEMBER_NOT_FOUND from None
    if user.status != "active" or user.community_id != grant.community_id:
        raise MEMBER_NOT_FOUND
    if grant.role != Role.ADMIN.value and user.grid_id not in principal.grid_ids:
        raise Forbidden("只能查看自己负责网格的成员")
    return grant, user


def get_member(principal: Principal, user_id: str) -> dict:
    """An admin: any member of the community (phone whole). A grid worker: a member living in one of their grids
    (phone masked); 403 for a member of another grid. 404: no such member here (another community's, deleted)."""
    grant, user = member_in_scope(principal, user_id)
    return present_member(user, full_phone=grant.role == Role.ADMIN.value)


# --- the operator's backfill ------------------------------------------------------------------------------------

def rebuild() -> dict:
    """Operator only (command line ``rebuild-directory``; Scans, never on a request path): give every user the
    entries they should have and remove the others — for tables written before the directory existed. One
    transaction per member whose entries differ, conditioned on the member's fields being still as read (a member
    changed meanwhile is left to that change's own transaction: run it again to be sure). Then every community's
    count of registered volunteers (``volunteer_count``, read by the street's statistics) is set from the directory
    just rebuilt. Safe to repeat."""
    held: dict[str, set[tuple[str, str]]] = {}
    for entry in MemberEntryModel.scan(consistent_read=True):
        held.setdefault(entry.user_id, set()).add((entry.community_id, entry.entry_key))
    fixed = skipped = 0
    seen: set[str] = set()
    for user in UserModel.scan(consistent_read=True):
        seen.add(user.id)
        want, have = keys_of(user), held.get(user.id, set())
        if want == have:
            continue
        tx = Tx()
        for community_id, key in sorted(have - want):
            tx.delete(MemberEntryModel(community_id, key))
        for community_id, key in sorted(want - have):
            tx.put(MemberEntryModel(community_id, key, user_id=user.id))
        if user.status == "active":
            tx.check(UserModel, user.id, condition=unchanged(user), error=CHANGED_MEANWHILE)
        try:
            tx.commit()
            fixed += 1
        except Conflict:
            skipped += 1
    for user_id in sorted(set(held) - seen):  # entries of a user that no longer exists at all
        tx = Tx()
        for community_id, key in sorted(held[user_id]):
            tx.delete(MemberEntryModel(community_id, key))
        tx.commit()
        fixed += 1
    communities = {c.id for c in CommunityModel.scan(attributes_to_get=["id"])} | {
        cid for keys in held.values() for cid, _ in keys}
    counts = [volunteer_count.recount(cid) for cid in sorted(communities)]
    return {"members_fixed": fixed, "members_changed_meanwhile": skipped,
            "volunteer_counts_fixed": sum(1 for c in counts if c["was"] != c["volunteers"])}
