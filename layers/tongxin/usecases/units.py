"""Units (共建单位/驻区单位): registered by the street, their liaisons (联络员) named by a one-time invite, their
co-building agreements (共建协议) with the street's communities, their 资源清单 (resources); and the check a store
makes before showing a unit as the sponsor of goods (``sponsor_of``, ``sponsor_checks``).

Who sees a unit: its liaisons, its street's staff, and the admins of a community it has an agreement with (valid
or lapsed: the community's record of it). Anyone who could see some unit but not this one is told it does not exist
(404); anyone who could see none is refused (403).
"""
from __future__ import annotations

import logging
from datetime import date

from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import (
    CommunityModel, StreetModel, UnitAgreementModel, UnitInviteModel, UnitLiaisonModel, UnitModel, UnitResourceModel,
    UserModel,
)
from ..adapters.dynamo.tx import Tx
from ..domain import links
from ..domain import units as rules
from ..domain.access import Principal, Role, require_role, require_street, require_unit, street_asked
from ..domain.clock import to_api, utcnow
from ..domain.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated
from ..domain.ids import new_code, new_id
from ..wiring import Container
from . import notifications, paging
from .access import current_user
from .content import Scene, check as content_check

log = logging.getLogger(__name__)

UNIT_PAGE = "pages/unit/detail?id={id}"
STREET_NOT_FOUND = NotFound("街道不存在")
CHANGED_MEANWHILE = Conflict("协议刚刚被修改，请刷新后重试")
ACCOUNT_DELETED = "账号已注销，请重新登录"


# --- presenting ---------------------------------------------------------------------------------------------------

def present_unit(unit: UnitModel) -> dict:
    """A unit as its liaisons, its street's staff and the admins of its communities see it (all staff: the contact
    is theirs to call)."""
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "street_id": unit.street_id,
            "contact_name": unit.contact_name, "contact_phone": unit.contact_phone,
            "liaison_count": len(unit.liaison_ids or ()), "agreement_count": int(unit.agreement_count or 0),
            "resource_count": int(unit.resource_count or 0), "created_at": to_api(unit.created_at)}


def present_agreement(agreement: UnitAgreementModel, now=None) -> dict:
    return {"unit_id": agreement.unit_id, "community": {"id": agreement.community_id,
                                                        "name": agreement.community_name},
            "pledges": list(agreement.pledges or ()), "activities_per_quarter": int(agreement.activities_per_quarter),
            "valid_until": agreement.valid_until, "valid": rules.is_valid(agreement.valid_until, now or utcnow()),
            "signed_at": to_api(agreement.updated_at or agreement.created_at),
            "created_at": to_api(agreement.created_at)}


def present_resource(resource: UnitResourceModel) -> dict:
    return {"id": resource.id, "unit_id": resource.unit_id, "title": resource.title,
            "description": resource.description, "capacity": int(resource.capacity),
            "created_at": to_api(resource.created_at)}


def present_invite(invite: UnitInviteModel, link_base: str) -> dict:
    return {"code": invite.code, "unit_id": invite.unit_id, "url": links.url(link_base, "unit_invite", invite.code),
            "valid_until": to_api(invite.expires_at), "expires_at": to_api(invite.expires_at)}


# --- who sees a unit ----------------------------------------------------------------------------------------------

def _admin_community(principal: Principal) -> str | None:
    """The caller's community when they are its admin (who may see the units it has agreements with)."""
    if principal.community_id and Role.ADMIN.value in principal.roles:
        return principal.community_id
    return None


def _may_see_units(principal: Principal) -> bool:
    return bool(principal.unit_ids and Role.UNIT_LIAISON.value in principal.roles) \
        or bool(principal.street_ids and Role.STREET_STAFF.value in principal.roles) \
        or _admin_community(principal) is not None


def visible_unit(principal: Principal, unit_id: str) -> UnitModel:
    """The unit, for its liaison, its street's staff, or an admin of a community with its agreement: one
    BatchGetItem (the unit, and the admin's agreement). 403 for who sees no unit at all, else 404."""
    if not _may_see_units(principal):
        raise Forbidden()
    community_id = _admin_community(principal)
    wanted = [(UnitModel, unit_id)] + ([(UnitAgreementModel, unit_id, community_id)] if community_id else [])
    unit, *agreement = batch.get_many(*wanted)
    if unit is None:
        raise rules.UNIT_NOT_FOUND
    if unit_id in principal.unit_ids and Role.UNIT_LIAISON.value in principal.roles:
        return unit
    if unit.street_id in principal.street_ids and Role.STREET_STAFF.value in principal.roles:
        return unit
    if agreement and agreement[0] is not None:
        return unit
    raise rules.UNIT_NOT_FOUND


def get_unit(principal: Principal, unit_id: str) -> dict:
    return present_unit(visible_unit(principal, unit_id))


# --- the street ---------------------------------------------------------------------------------------------------

def street_of(principal: Principal, street_id: str | None) -> str:
    """The street asked about: the one named, or the caller's only one (400 for staff of several who named none)."""
    return street_asked(principal, street_id)


def register_unit(container: Container, principal: Principal, fields: dict, street_id: str | None) -> dict:
    """Street staff register a unit of their street. Its name (shown to residents on goods it sponsors) passes
    WeChat's content check. One transaction: the staff member's grant, the street still there, the unit."""
    street_id = street_of(principal, street_id)
    grant = require_street(principal, street_id)
    content_check(container, current_user(principal), fields["name"], scene=Scene.FORUM, what="unit")
    unit = UnitModel(new_id("unit"), street_id=street_id, created_by=principal.user_id, created_at=utcnow(),
                     agreement_count=0, resource_count=0, **fields)
    answer = present_unit(unit)
    check_grant(Tx(), grant) \
        .check(StreetModel, street_id, condition=StreetModel.id.exists(), error=STREET_NOT_FOUND) \
        .put(unit, condition=UnitModel.id.does_not_exist()).commit(answer)
    log.info("unit registered", extra={"unit_id": unit.id, "street_id": street_id})
    return answer


def list_street_units(principal: Principal, street_id: str | None, *, limit: int, cursor: str | None) -> dict:
    street_id = street_of(principal, street_id)
    return paging.page(lambda **kw: UnitModel.by_street.query(street_id, **kw), limit, cursor,
                       lambda items: [present_unit(u) for u in items], scope=f"units:{street_id}", model=UnitModel)


def _street_unit(principal: Principal, unit_id: str) -> tuple[UnitModel, object]:
    """The unit, for its street's staff (403 for anyone else who is no street staff, 404 for another street's)."""
    if Role.STREET_STAFF.value not in principal.roles or not principal.street_ids:
        raise Forbidden()
    try:
        unit = UnitModel.get(unit_id, consistent_read=True)
    except UnitModel.DoesNotExist:
        raise rules.UNIT_NOT_FOUND from None
    if unit.street_id not in principal.street_ids:
        raise rules.UNIT_NOT_FOUND
    return unit, require_street(principal, unit.street_id)


def create_invite(container: Container, principal: Principal, unit_id: str) -> dict:
    """A one-time invite (7 days) to become the unit's liaison: its code and the link a printed QR carries
    (``<QR_LINK_BASE>/u/<code>``)."""
    unit, grant = _street_unit(principal, unit_id)
    now = utcnow()
    invite = UnitInviteModel(new_code(10), unit_id=unit.id, unit_name=unit.name, street_id=unit.street_id,
                             created_by=principal.user_id, created_at=now, expires_at=rules.invite_expiry(now))
    answer = present_invite(invite, container.settings.qr_link_base)
    check_grant(Tx(), grant) \
        .check(UnitModel, unit.id, condition=UnitModel.street_id == unit.street_id, error=rules.UNIT_NOT_FOUND) \
        .put(invite, condition=UnitInviteModel.code.does_not_exist()).commit(answer)
    return answer


def join_unit(container: Container, principal: Principal, invite_text: str) -> dict:
    """Any signed-in user (no community needed) becomes the unit's liaison. ONE transaction: the invite taken
    (condition: unused and not expired), the user gains ``unit_liaison`` and the unit (condition: active), the
    unit's ``liaison_ids`` gains the user. A liaison of another unit keeps it. 404 INVITE_INVALID for a code that
    is none of ours, used or expired."""
    from .identity import present_user
    now = utcnow()
    code = (links.code_in(container.settings.qr_link_base, "unit_invite", invite_text) or "").upper()
    if not rules.INVITE_CODE.fullmatch(code):
        raise rules.INVITE_UNKNOWN
    try:
        invite = UnitInviteModel.get(code, consistent_read=True)
    except UnitInviteModel.DoesNotExist:
        raise rules.INVITE_UNKNOWN from None
    if invite.used_by is not None:
        raise rules.INVITE_USED
    if invite.expires_at <= now:
        raise rules.INVITE_EXPIRED
    user = current_user(principal)

    def invite_refused(current: UnitInviteModel | None) -> DomainError:
        if current is None:
            return rules.INVITE_UNKNOWN
        return rules.INVITE_USED if current.used_by is not None else rules.INVITE_EXPIRED

    def user_refused(current: UserModel | None) -> DomainError:
        return Unauthenticated(ACCOUNT_DELETED)

    after = UserModel.from_raw_data(user.serialize(null_check=False))
    after.roles = set(after.roles or ()) | {Role.UNIT_LIAISON.value}
    after.unit_ids = set(after.unit_ids or ()) | {invite.unit_id}
    answer = {"unit": {"id": invite.unit_id, "name": invite.unit_name}, "user": present_user(after)}
    Tx().update(UnitInviteModel(invite.code), [UnitInviteModel.used_by.set(user.id), UnitInviteModel.used_at.set(now)],
                condition=UnitInviteModel.used_by.does_not_exist() & (UnitInviteModel.expires_at > now),
                error=invite_refused) \
        .update(UserModel(user.id), [UserModel.roles.add({Role.UNIT_LIAISON.value}),
                                     UserModel.unit_ids.add({invite.unit_id}), UserModel.updated_at.set(now)],
                condition=UserModel.status == "active", error=user_refused) \
        .update(UnitModel(invite.unit_id), [UnitModel.liaison_ids.add({user.id})],
                condition=UnitModel.id.exists(), error=rules.INVITE_UNKNOWN) \
        .put(UnitLiaisonModel(invite.unit_id, user.id, nickname=user.nickname, since=now, invite_code=invite.code)) \
        .commit(answer)
    log.info("unit liaison joined", extra={"unit_id": invite.unit_id, "user_id": user.id})
    return answer


# --- agreements (共建协议) -------------------------------------------------------------------------------------------

def sign_agreement(container: Container, principal: Principal, unit_id: str, pledges: list[str],
                   activities_per_quarter: int, valid_until: date) -> dict:
    """A community's admin signs (or renews) the unit's agreement with the community. The unit must be of the
    community's street (404 otherwise). One agreement per unit and community: posting again replaces the pledges,
    activities and date (a renewal, ``renewed: true``), conditioned on the agreement being as read. One
    transaction: the admin's grant, the community still of the unit's street, the unit (its agreements counted when
    new), the agreement, and the unit's liaisons told (``unit_agreement_signed``, one fan-out)."""
    grant = require_role(principal, Role.ADMIN)
    now = utcnow()
    until = rules.check_valid_until(valid_until, now)
    community, unit, existing = batch.get_many((CommunityModel, grant.community_id), (UnitModel, unit_id),
                                               (UnitAgreementModel, unit_id, grant.community_id))
    if community is None or unit is None or not community.street_id or unit.street_id != community.street_id:
        raise rules.UNIT_NOT_FOUND
    content_check(container, current_user(principal), *pledges, scene=Scene.FORUM, what="agreement")
    agreement = UnitAgreementModel(unit_id, grant.community_id, community_name=community.name,
                                   street_id=unit.street_id, pledges=list(pledges),
                                   activities_per_quarter=activities_per_quarter, valid_until=until,
                                   signed_by=principal.user_id,
                                   created_at=existing.created_at if existing else now,
                                   updated_at=now if existing else None)
    renewed = existing is not None
    answer = {**present_agreement(agreement, now), "renewed": renewed}
    tx = check_grant(Tx(), grant) \
        .check(CommunityModel, community.id, condition=CommunityModel.street_id == unit.street_id,
               error=rules.UNIT_NOT_FOUND)
    if renewed:
        tx.put(agreement, condition=(UnitAgreementModel.created_at == existing.created_at)
               & _same_update(existing), error=CHANGED_MEANWHILE)
        tx.check(UnitModel, unit_id, condition=UnitModel.street_id == unit.street_id, error=rules.UNIT_NOT_FOUND)
    else:
        tx.put(agreement, condition=UnitAgreementModel.unit_id.does_not_exist(), error=CHANGED_MEANWHILE)
        tx.update(UnitModel(unit_id), [UnitModel.agreement_count.add(1)],
                  condition=UnitModel.street_id == unit.street_id, error=rules.UNIT_NOT_FOUND)
    notifications.fan_out(tx, key=f"unit#{unit_id}#agreement#{community.id}#{now.strftime('%Y%m%d%H%M%S%f')}",
                          kind="unit_agreement_signed", audience=notifications.unit_liaisons_audience(unit_id),
                          data={"unit_id": unit_id, "community": community.name, "title": community.name,
                                "valid_until": until}, page=UNIT_PAGE.format(id=unit_id),
                          community_id=community.id)
    tx.commit(answer)
    log.info("unit agreement signed", extra={"unit_id": unit_id, "community_id": community.id, "renewed": renewed})
    return answer


def _same_update(existing: UnitAgreementModel):
    if existing.updated_at is None:
        return UnitAgreementModel.updated_at.does_not_exist()
    return UnitAgreementModel.updated_at == existing.updated_at


def list_admin_units(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """The units of the admin's community's street, each with the community's agreement if any: the community
    (GetItem), the page (one Query), the page's agreements (one BatchGetItem)."""
    grant = require_role(principal, Role.ADMIN)
    try:
        community = CommunityModel.get(grant.community_id)
    except CommunityModel.DoesNotExist:
        raise NotFound("社区不存在") from None
    if not community.street_id:
        return {"items": [], "next_cursor": None}
    now = utcnow()

    def present(items: list[UnitModel]) -> list[dict]:
        agreements = batch.get_many(*[(UnitAgreementModel, u.id, grant.community_id) for u in items]) if items else []
        return [{**present_unit(u), "agreement": present_agreement(a, now) if a else None}
                for u, a in zip(items, agreements)]

    street_id = community.street_id
    return paging.page(lambda **kw: UnitModel.by_street.query(street_id, **kw), limit, cursor, present,
                       scope=f"admin-units:{street_id}:{grant.community_id}", model=UnitModel)


def _liaison_or_street(principal: Principal, unit_id: str) -> None:
    """The unit's liaison (no read), or its street's staff (the unit read); 403 for others, 404 another's unit."""
    if unit_id in principal.unit_ids and Role.UNIT_LIAISON.value in principal.roles:
        return
    if not (Role.UNIT_LIAISON.value in principal.roles or Role.STREET_STAFF.value in principal.roles):
        raise Forbidden()
    if Role.STREET_STAFF.value in principal.roles:
        _street_unit(principal, unit_id)
        return
    raise rules.UNIT_NOT_FOUND


def list_agreements(principal: Principal, unit_id: str, *, limit: int, cursor: str | None) -> dict:
    _liaison_or_street(principal, unit_id)
    now = utcnow()
    return paging.page(lambda **kw: UnitAgreementModel.query(unit_id, **kw), limit, cursor,
                       lambda items: [present_agreement(a, now) for a in items], scope=f"agreements:{unit_id}",
                       model=UnitAgreementModel)


# --- 资源清单 ---------------------------------------------------------------------------------------------------------

def add_resource(container: Container, principal: Principal, unit_id: str, fields: dict) -> dict:
    """The unit's liaison adds an item to its 资源清单 (content-checked). One transaction: the liaison's grant, the
    resource, the unit's count."""
    grant = require_unit(principal, unit_id)
    content_check(container, current_user(principal), fields["title"], fields["description"], scene=Scene.FORUM,
                  what="unit resource")
    resource = UnitResourceModel(unit_id, new_id("res"), created_by=principal.user_id, created_at=utcnow(), **fields)
    answer = present_resource(resource)
    check_grant(Tx(), grant) \
        .put(resource, condition=UnitResourceModel.id.does_not_exist()) \
        .update(UnitModel(unit_id), [UnitModel.resource_count.add(1)], condition=UnitModel.id.exists(),
                error=rules.UNIT_NOT_FOUND).commit(answer)
    return answer


def list_resources(principal: Principal, unit_id: str, *, limit: int, cursor: str | None) -> dict:
    """Oldest first, O(page): its liaison, its street's staff, the admins of a community with its agreement."""
    visible_unit(principal, unit_id)
    return paging.page(lambda **kw: UnitResourceModel.query(unit_id, **kw), limit, cursor,
                       lambda items: [present_resource(r) for r in items], scope=f"resources:{unit_id}",
                       model=UnitResourceModel)


# --- sponsored goods (积分超市) -----------------------------------------------------------------------------------------

SPONSOR_INVALID = NotFound("赞助单位不存在，或与本社区没有有效的共建协议", details={"field": "sponsor_unit_id"})


def sponsor_checks(tx: Tx, unit_id: str, community_id: str, now) -> Tx:
    """Add to ``tx`` the conditions that ``unit_id`` may sponsor goods of ``community_id``: the unit exists and its
    agreement with the community is in force (valid_until ≥ today)."""
    tx.check(UnitModel, unit_id, condition=UnitModel.id.exists(), error=SPONSOR_INVALID)
    tx.check(UnitAgreementModel, unit_id, community_id,
             condition=UnitAgreementModel.valid_until >= rules.today_key(now), error=SPONSOR_INVALID)
    return tx


def sponsor_of(unit: UnitModel | None, agreement: UnitAgreementModel | None, now) -> dict:
    """The sponsor as goods carry it (``{id, name}``), or 404 when the unit may not sponsor."""
    if unit is None or agreement is None or not rules.is_valid(agreement.valid_until, now):
        raise SPONSOR_INVALID
    return {"id": unit.id, "name": unit.name}


# --- 注销 -----------------------------------------------------------------------------------------------------------

def leave_on_deletion(tx: Tx, user: UserModel) -> None:
    """注销 of a liaison: in the account's closing transaction they leave every unit's ``liaison_ids``."""
    for unit_id in sorted(user.unit_ids or ()):
        tx.update(UnitModel(unit_id), [UnitModel.liaison_ids.delete({user.id})], condition=UnitModel.id.exists())
        tx.delete(UnitLiaisonModel(unit_id, user.id))  # the street's list of the unit's liaisons
