"""Community administration (社区管理): grids, invites and their poster codes, member roles, and the
platform operator's ``create_community`` (command line only)."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.operand import Path

from ..adapters.dynamo.guards import check_grant, grant_condition
from ..adapters.dynamo import batch
from ..adapters.dynamo.models import CommunityModel, GridModel, InviteModel, PartyRegistrationModel, StoreModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain.access import (
    APPROVAL_ONLY, ASSIGNABLE_ROLES, NOT_ASSIGNABLE, ROLE_NEEDS_APPROVAL, Principal, Role, require_role,
)
from ..domain.clock import to_api, utcnow
from ..domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from ..domain import links
from ..domain.ids import new_code, new_id
from ..wiring import Container
from ..domain.party import registration_key
from . import directory, party, volunteer_count
from .identity import present_user

INVITE_TTL_DAYS = 30
INVITE_SCENE_PREFIX = "inv="
GRID_NOT_FOUND = NotFound("网格不存在", details={"field": "grid_id"})


def present_grid(grid: GridModel) -> dict:
    return {"id": grid.id, "name": grid.name, "worker_count": len(grid.worker_ids or ())}


def create_grid(principal: Principal, name: str) -> dict:
    grant = require_role(principal, Role.ADMIN)
    grid = GridModel(grant.community_id, new_id("g"), name=name, created_at=utcnow())
    answer = present_grid(grid)
    check_grant(Tx(), grant).put(grid, condition=GridModel.id.does_not_exist()).commit(answer)
    return answer


def list_grids(principal: Principal) -> dict:
    grant = require_role(principal, Role.ADMIN, Role.GRID_WORKER)
    return {"items": [present_grid(g) for g in GridModel.query(grant.community_id)], "next_cursor": None}


def invite_scene(code: str) -> str:
    """The text a poster QR carries and the mini-program reads on scan (≤ 32 chars, WeChat's scene limit)."""
    return INVITE_SCENE_PREFIX + code


def create_invite(container: Container, principal: Principal, grid_id: str,
                  valid_days: int = INVITE_TTL_DAYS) -> dict:
    grant = require_role(principal, Role.ADMIN)
    now = utcnow()
    invite = InviteModel(new_code(8), community_id=grant.community_id, grid_id=grid_id, created_by=grant.user_id,
                         created_at=now, expires_at=now + timedelta(days=valid_days))
    answer = present_invite(invite, container.settings.qr_link_base)
    check_grant(Tx(), grant) \
        .check(GridModel, grant.community_id, grid_id, condition=GridModel.id.exists(), error=GRID_NOT_FOUND) \
        .put(invite, condition=InviteModel.code.does_not_exist()).commit(answer)
    return answer


def present_invite(invite: InviteModel, link_base: str) -> dict:
    """The invite: its code, the scene of its mini-program code, and the link its printed QR carries."""
    return {"code": invite.code, "grid_id": invite.grid_id, "scene": invite_scene(invite.code),
            "url": links.url(link_base, "invite", invite.code), "expires_at": to_api(invite.expires_at)}


def invite_for_admin(principal: Principal, code: str) -> InviteModel:
    grant = require_role(principal, Role.ADMIN)
    try:
        invite = InviteModel.get(code.upper())
    except DoesNotExist:
        raise NotFound("邀请码不存在") from None
    if invite.community_id != grant.community_id:
        raise NotFound("邀请码不存在")  # another community's invite is not even acknowledged
    return invite


def invite_qrcode(container: Container, principal: Principal, code: str, fmt: str) -> dict | tuple[bytes, str]:
    """The invite for a poster: ``json`` → {code, url, scene, valid_until}; else ``(bytes, content_type)``: a plain
    QR (png/svg) of its link ``<QR_LINK_BASE>/i/<code>`` (普通链接二维码: WeChat's own scanner opens the join page),
    or WeChat's mini-program code (scene ``inv=<code>``) in the image type WeChat gave (JPEG)."""
    invite = invite_for_admin(principal, code)
    settings = container.settings
    scene, url = invite_scene(invite.code), links.url(settings.qr_link_base, "invite", invite.code)
    if fmt == "json":
        return {"code": invite.code, "url": url, "scene": scene, "valid_until": to_api(invite.expires_at)}
    if fmt == "wxacode":
        return container.wechat.wxacode(scene, settings.wechat_invite_page, env_version=settings.wxacode_env_version)
    from ..adapters import qr
    return qr.render(url, fmt)


def set_roles(principal: Principal, user_id: str, roles: list[str], grid_ids: list[str],
              store_ids: list[str]) -> dict:
    """Replace a member's staff roles and scopes; as often as needed, in any order. ``resident`` follows
    membership: it stays whatever the list says (a list read from GET /v1/me may carry it back). ``party_member``
    only an approved 党员报到 grants (``APPROVAL_ONLY``): kept when held, removable (the registration ends), never
    added here (400 naming ``roles``).

    One transaction: the admin's own role (re-checked), the member (unchanged since read: the old grid scope is
    what we remove them from, the old roles tell whether ``volunteer`` is being taken away), and each grid's
    worker set, so pushes reach exactly the grid's current workers. Empty scopes are removed, never written as
    NULL (a NULL attribute exists, and the next "unchanged" condition would never hold again).
    """
    grant = require_role(principal, Role.ADMIN)
    # The operator's roles and a unit's liaison are not the admin's: a list read from GET /v1/me may carry them back
    # (kept as they are below, whatever the list says); naming one the member does not hold is refused after the read.
    wanted = set(roles) - {Role.RESIDENT.value}
    foreign, wanted = wanted & NOT_ASSIGNABLE, wanted - NOT_ASSIGNABLE
    unknown = wanted - ASSIGNABLE_ROLES
    if unknown:
        raise ValidationFailed("角色不存在", details={"field": "roles", "unknown": sorted(unknown)})
    new_grids = set(grid_ids) if Role.GRID_WORKER.value in wanted else set()
    new_stores = set(store_ids) if Role.STORE_KEEPER.value in wanted else set()
    if Role.GRID_WORKER.value in wanted and not new_grids:
        raise ValidationFailed("网格员需要指定负责的网格", details={"field": "grid_ids"})
    if Role.STORE_KEEPER.value in wanted and not new_stores:
        raise ValidationFailed("积分超市管理员需要指定超市", details={"field": "store_ids"})

    # The member and their 党员报到 here (which ends when party_member is taken away): one BatchGetItem.
    member, registration = batch.get_many((UserModel, user_id), (PartyRegistrationModel, registration_key(
        grant.community_id, user_id)))
    if member is None or member.community_id != grant.community_id or member.status != "active":
        raise NotFound("成员不存在")
    old_grids, old_roles = set(member.grid_ids or ()), set(member.roles or ())
    if foreign - old_roles:
        raise ValidationFailed("该角色不能由社区管理员分配", details={"field": "roles",
                                                               "not_assignable": sorted(foreign - old_roles)})
    added_by_approval_only = (wanted & APPROVAL_ONLY) - old_roles
    if added_by_approval_only:  # kept only as held: the roles' condition below (as read) holds it in the write
        raise ValidationFailed(ROLE_NEEDS_APPROVAL, details={"field": "roles",
                                                             "not_assignable": sorted(added_by_approval_only)})
    cid, now = grant.community_id, utcnow()

    unchanged = (UserModel.status == "active") & (UserModel.community_id == cid) \
        & same_set(UserModel.grid_ids, old_grids) & same_set(UserModel.roles, old_roles)
    is_self = user_id == grant.user_id
    if is_self:  # one item cannot take two operations in a transaction: fold the admin check in
        unchanged &= grant_condition(grant)

    def member_refused(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active" or current.community_id != cid:
            return NotFound("成员不存在")
        return Conflict("成员信息刚刚被修改，请刷新后重试")

    # The operator's roles (street, district, department staff) and a unit's liaison (the street's invite) are not
    # an admin's to take away (nor to give: ASSIGNABLE_ROLES leaves them out).
    all_roles = wanted | {Role.RESIDENT.value} | (old_roles & NOT_ASSIGNABLE)
    actions = [UserModel.roles.set(all_roles), UserModel.updated_at.set(now),
               UserModel.grid_ids.set(new_grids) if new_grids else UserModel.grid_ids.remove(),
               UserModel.store_ids.set(new_stores) if new_stores else UserModel.store_ids.remove()]
    if Role.PARTY_MEMBER.value in old_roles and Role.PARTY_MEMBER.value not in wanted:
        actions.append(UserModel.party_unit_id.remove())  # 双报到 ends with the role (usecases/party.py)
    if Role.VOLUNTEER.value in wanted:
        actions.append(UserModel.volunteer_revoked_at.remove())
    elif Role.VOLUNTEER.value in old_roles:  # taken away: self-registration may not give it back
        actions.append(UserModel.volunteer_revoked_at.set(now))
    tx = Tx() if is_self else check_grant(Tx(), grant)
    after = member.changed(roles=all_roles, grid_ids=new_grids or None, store_ids=new_stores or None)
    kept = directory.sync(tx, member, after)  # the role entries (all and in the member's grid) move with the roles
    counted = volunteer_count.sync(tx, member, after)  # volunteer given or taken: the community's count ±1
    tx.update(UserModel(user_id), actions,
              condition=volunteer_count.both(unchanged if kept is None else unchanged & kept, counted),
              error=member_refused)
    for gid in sorted(new_grids - old_grids):
        tx.update(GridModel(cid, gid), [GridModel.worker_ids.add({user_id})],
                  condition=GridModel.id.exists(), error=NotFound("网格不存在", details={"field": "grid_ids", "id": gid}))
    for gid in sorted(old_grids - new_grids):
        tx.update(GridModel(cid, gid), [GridModel.worker_ids.delete({user_id})])
    if Role.ADMIN.value in wanted and Role.ADMIN.value not in old_roles:  # who is told what reaches the community
        tx.update(CommunityModel(cid), [CommunityModel.admin_ids.add({user_id})])
    elif Role.ADMIN.value in old_roles and Role.ADMIN.value not in wanted:
        tx.update(CommunityModel(cid), [CommunityModel.admin_ids.delete({user_id})])
    if Role.PARTY_MEMBER.value in old_roles and Role.PARTY_MEMBER.value not in wanted:
        party.end_on_role_removal(tx, registration, now)
    for sid in sorted(new_stores):
        tx.check(StoreModel, cid, sid, condition=StoreModel.id.exists(),
                 error=NotFound("积分超市不存在", details={"field": "store_ids", "id": sid}))
    answer = present_user(after)
    tx.commit(answer)
    return answer


def same_set(attribute, expected: set):
    """The stored set is ``expected``; an empty set is absent (or NULL, as an earlier version wrote it)."""
    if expected:
        return attribute == expected
    return attribute.does_not_exist() | Path(attribute.attr_name).is_type("NULL")


def create_community(name: str, *, admin_user_id: str, grid_names: list[str], wish_review_required: bool = False,
                     wish_points: int = 20) -> dict:
    """Platform operator only (command line): a community, its grids, and its first admin."""
    now = utcnow()
    community = CommunityModel(new_id("c"), name=name, wish_review_required=wish_review_required,
                               wish_points=wish_points, admin_ids={admin_user_id}, created_at=now)
    grids = [GridModel(community.id, new_id("g"), name=g, created_at=now) for g in grid_names]
    taken = Conflict("该用户不存在或已属于其他社区")
    try:
        admin = UserModel.get(admin_user_id, consistent_read=True)
    except DoesNotExist:
        raise taken from None
    tx = Tx().put(community, condition=CommunityModel.id.does_not_exist())
    for grid in grids:
        tx.put(grid)
    after = admin.changed(community_id=community.id, joined_at=now,
                          roles=set(admin.roles or ()) | {Role.ADMIN.value, Role.RESIDENT.value})
    kept = directory.sync(tx, admin, after)  # the first admin's directory entries (as read: the condition below)
    counted = volunteer_count.sync(tx, admin, after)  # were they a volunteer, they count in their community
    condition = (UserModel.status == "active") & UserModel.community_id.does_not_exist()
    tx.update(UserModel(admin_user_id), [
        UserModel.community_id.set(community.id),
        UserModel.roles.add({Role.ADMIN.value, Role.RESIDENT.value}),
        UserModel.joined_at.set(now),
    ], condition=volunteer_count.both(volunteer_count.both(condition, kept), counted), error=taken)
    tx.commit()
    return {"id": community.id, "name": name, "grids": [present_grid(g) for g in grids], "admin_user_id": admin_user_id}
