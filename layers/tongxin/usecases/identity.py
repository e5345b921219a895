"""Identity (身份): WeChat login, profile, joining a community, phone, volunteer registration; 注销 is
account_deletion.py."""
from __future__ import annotations

import logging
import re

from pynamodb.exceptions import DoesNotExist

from ..adapters import tokens
from ..adapters.dynamo.models import CommunityModel, IdentityModel, InviteModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain.access import Principal, Role
from ..domain.clock import to_api, utcnow
from ..domain.errors import (
    AlreadyInCommunity, DomainError, Forbidden, InviteInvalid, NotInCommunity, Unauthenticated,
)
from ..domain import links
from ..domain.ids import new_id
from ..domain.masking import mask_phone
from ..domain.text import DEFAULT_NICKNAME
from ..wiring import Container
from . import commendations, directory, volunteer_count
from .access import ACCOUNT_DELETED, current_user, load_active_user
from .content import Scene, check as content_check

log = logging.getLogger(__name__)
INVITE_CODE = re.compile(r"[A-Z0-9]{4,32}")  # what an invite code is made of (domain.ids.new_code)
VOLUNTEER_REVOKED = Forbidden("您的志愿者身份已被社区取消，如需恢复请联系社区管理员",
                              details={"reason": "volunteer_revoked"})


def present_user(user: UserModel) -> dict:
    """The user as the API shows it to themself (phone masked, openid never)."""
    return {
        "id": user.id,
        "nickname": user.nickname or DEFAULT_NICKNAME,
        "avatar_url": user.avatar_url,
        "roles": sorted(user.roles or ()),
        "community_id": user.community_id,
        "grid_id": user.grid_id,
        "grid_ids": sorted(user.grid_ids or ()),
        "store_ids": sorted(user.store_ids or ()),
        "street_ids": sorted(user.street_ids or ()),
        "district_ids": sorted(user.district_ids or ()),
        "department_ids": sorted(user.department_ids or ()),
        "unit_ids": sorted(user.unit_ids or ()),
        "phone": mask_phone(user.phone),
        "phone_bound": bool(user.phone),
        "points_balance": int(user.points_balance or 0),
        "earned_total": int(user.earned_total or 0),
        "volunteer_minutes": int(user.volunteer_minutes or 0),
        "is_volunteer": Role.VOLUNTEER.value in (user.roles or ()),
        "skills": list(user.skills or []),
        "created_at": to_api(user.created_at),
        "commendations_count": int(user.commendations_count or 0),  # 微星光 (usecases/commendations.py)
        "latest_commendation": commendations.present_latest(user),
    }


def session_answer(container: Container, user: UserModel) -> dict:
    token, ttl = tokens.issue(container.settings, user_id=user.id, community_id=user.community_id,
                              roles=user.roles, grid_ids=user.grid_ids, store_ids=user.store_ids)
    return {"token": token, "expires_in": ttl, "user": present_user(user)}


class _IdentityTaken(DomainError):
    """Another login of the same openid created the user first (internal, never reaches a client)."""


def _user_for_openid(openid: str, unionid: str | None) -> UserModel:
    try:
        identity = IdentityModel.get(openid, consistent_read=True)
        return load_active_user(identity.user_id)
    except DoesNotExist:
        pass
    now = utcnow()
    user = UserModel(new_id("u"), status="active", openid=openid, created_at=now, updated_at=now,
                     points_balance=0, earned_total=0, volunteer_minutes=0)
    identity = IdentityModel(openid, user_id=user.id, unionid=unionid, created_at=now)
    try:
        Tx().put(identity, condition=IdentityModel.openid.does_not_exist(), error=_IdentityTaken()) \
            .put(user, condition=UserModel.id.does_not_exist()).commit()
        log.info("user created", extra={"user_id": user.id})
        return user
    except _IdentityTaken:  # lost the race of concurrent first logins: the winner's user is ours
        return load_active_user(IdentityModel.get(openid, consistent_read=True).user_id)


def login(container: Container, code: str) -> dict:
    session = container.wechat.code_to_session(code)
    user = _user_for_openid(session.openid, session.unionid)
    return session_answer(container, user)


def get_me(principal: Principal) -> dict:
    user = current_user(principal)
    return {**present_user(user), "community_name": community_name(user.community_id)}


def copy_user(user: UserModel) -> UserModel:
    return UserModel.from_raw_data(user.serialize(null_check=False))


def change_profile(container: Container, principal: Principal, changes: dict) -> dict:
    """PATCH /v1/me: a new nickname (shown beside what the user writes, on rosters and leaderboards) passes WeChat's
    content check (scene 资料) first."""
    if changes.get("nickname"):
        content_check(container, current_user(principal), changes["nickname"], scene=Scene.PROFILE, what="nickname")
    return update_me(principal, changes)


def _refused_or_changed(current: UserModel | None) -> DomainError:
    """A change conditioned on the user as read (the directory's entries): gone, or changed meanwhile."""
    if current is None or current.status != "active":
        return Unauthenticated(ACCOUNT_DELETED)
    return directory.CHANGED_MEANWHILE


def update_me(principal: Principal, changes: dict) -> dict:
    """Change my profile fields; the answer is me as read with the changes applied (nothing is read back). A new
    nickname or phone moves the member's search entries of the directory in the same transaction."""
    now = utcnow()
    before = current_user(principal)
    after = copy_user(before)
    actions = [UserModel.updated_at.set(now)]
    for name, value in changes.items():
        if value is not None:
            setattr(after, name, value)
            actions.append(getattr(UserModel, name).set(value))
    answer = present_user(after)
    tx = Tx()
    kept = directory.sync(tx, before, after)
    if kept is None:
        tx.update(UserModel(principal.user_id), actions, condition=UserModel.status == "active",
                  error=Unauthenticated(ACCOUNT_DELETED))
    else:
        tx.update(UserModel(principal.user_id), actions, condition=kept, error=_refused_or_changed)
    tx.commit(answer)
    return answer


def join_community(container: Container, principal: Principal, invite_code: str) -> dict:
    """``invite_code``: the bare code, or the link of a printed invite QR (``<QR_LINK_BASE>/i/<code>``, 普通链接二维码);
    a link of another base or letter is no invite of ours (404 INVITE_INVALID)."""
    now = utcnow()
    code = (links.code_in(container.settings.qr_link_base, "invite", invite_code) or "").upper()
    if not INVITE_CODE.fullmatch(code):
        raise InviteInvalid()
    try:
        invite = InviteModel.get(code, consistent_read=True)
    except DoesNotExist:
        raise InviteInvalid() from None
    if invite.expires_at <= now:
        raise InviteInvalid()

    def refused(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active":
            return Unauthenticated(ACCOUNT_DELETED)
        if current.community_id is not None and current.community_id != invite.community_id:
            return AlreadyInCommunity()
        return directory.CHANGED_MEANWHILE

    before = current_user(principal)  # in another community: the condition refuses (409 ALREADY_IN_COMMUNITY)
    after = copy_user(before)
    after.community_id, after.grid_id = invite.community_id, invite.grid_id
    after.roles = set(after.roles or ()) | {Role.RESIDENT.value}
    after.joined_at = before.joined_at or now
    answer = session_answer(container, after)
    tx = Tx().check(InviteModel, invite.code, condition=InviteModel.expires_at > now, error=InviteInvalid())
    # The directory's entries (all, role, grid, search) in the same transaction: the user as read is the one whose
    # entries move (a member joining again through another grid's invite moves to that grid).
    kept = directory.sync(tx, before, after)
    counted = volunteer_count.sync(tx, before, after)  # a volunteer counts in the community they belong to
    condition = (UserModel.status == "active") & (
        UserModel.community_id.does_not_exist() | (UserModel.community_id == invite.community_id))
    tx.update(UserModel(principal.user_id), [
        UserModel.community_id.set(invite.community_id),
        UserModel.grid_id.set(invite.grid_id),
        UserModel.roles.add({Role.RESIDENT.value}),
        UserModel.joined_at.set(UserModel.joined_at | now),
        UserModel.updated_at.set(now),
    ], condition=volunteer_count.both(volunteer_count.both(condition, kept), counted), error=refused).commit(answer)
    return answer


def bind_phone(container: Container, principal: Principal, code: str) -> dict:
    phone = container.wechat.phone_number(code)  # the caller is active: resolved before this request ran
    return update_me(principal, {"phone": phone})


def register_volunteer(container: Container, principal: Principal, real_name: str, skills: list[str]) -> dict:
    """志愿者注册. Registering again updates the name and skills; ``volunteer_since`` stays. Once an admin has
    taken the role away, only an admin gives it back."""
    now = utcnow()

    def refused(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active":
            return Unauthenticated(ACCOUNT_DELETED)
        if current.volunteer_revoked_at is not None:
            return VOLUNTEER_REVOKED
        if current.community_id is None:
            return NotInCommunity()
        return directory.CHANGED_MEANWHILE

    user = current_user(principal)
    if user.community_id is None:
        raise NotInCommunity()
    if user.volunteer_revoked_at is not None:
        raise VOLUNTEER_REVOKED
    after = copy_user(user)
    after.real_name, after.skills = real_name, skills
    after.roles = set(after.roles or ()) | {Role.VOLUNTEER.value}
    after.volunteer_since = after.volunteer_since or now
    answer = session_answer(container, after)
    tx = Tx()
    kept = directory.sync(tx, user, after)  # the volunteer role's entries, the real name's search entries
    # +1 to the community's volunteers when the role is new (registering again counts nothing): the condition that
    # the stored user does not hold it yet makes a concurrent second registration fail instead of counting twice.
    counted = volunteer_count.sync(tx, user, after)
    condition = (UserModel.status == "active") & UserModel.community_id.exists() \
        & UserModel.volunteer_revoked_at.does_not_exist()
    tx.update(UserModel(principal.user_id), [
        UserModel.real_name.set(real_name),
        UserModel.skills.set(skills),
        UserModel.roles.add({Role.VOLUNTEER.value}),
        UserModel.volunteer_since.set(UserModel.volunteer_since | now),
        UserModel.updated_at.set(now),
    ], condition=volunteer_count.both(volunteer_count.both(condition, kept), counted), error=refused).commit(answer)
    return answer


def community_name(community_id: str | None) -> str | None:
    if not community_id:
        return None
    try:
        return CommunityModel.get(community_id).name
    except DoesNotExist:
        return None
