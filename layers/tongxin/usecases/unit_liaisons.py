"""A unit's liaisons (共建单位联络员) as its street manages them: the list (names, since when) and the removal.

A liaison is named by the street's one-time invite (``units.join_unit``; its QR: ``invite_qrcode``); the street's
staff take them off again:

- **removal** (``DELETE /v1/street/units/{unit_id}/liaisons/{user_id}``): ONE transaction — the person's user item
  loses the unit from ``unit_ids`` and, when it was their last unit, the role ``unit_liaison`` (conditioned on the
  ``unit_ids`` as read, so two removals of two units racing never leave the role without a unit nor a unit without
  the role); the unit's ``liaison_ids`` loses them (whom its messages reach); their liaison record goes; the
  street staff's grant re-checked. 404 when the person is not a liaison of the unit.
- The person's open post claims made as the unit's liaison (领岗, ``post_claims.unit_id``) STAY: a claim is the
  person's (their name on the post, their service), not the unit's; they may withdraw it themselves. Claiming more
  needs a unit again.
"""
from __future__ import annotations

import logging

from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant, grant_condition
from ..adapters.dynamo.models import UnitInviteModel, UnitLiaisonModel, UnitModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain import links
from ..domain import units as rules
from ..domain.access import Principal, Role, require_street
from ..domain.clock import to_api, utcnow
from ..domain.errors import Conflict, DomainError, Forbidden
from ..domain.text import DEFAULT_NICKNAME
from ..wiring import Container
from . import paging
from .admin import same_set

log = logging.getLogger(__name__)

CHANGED_MEANWHILE = Conflict("联络员的单位刚刚有变化，请刷新后重试")


def present_liaison(liaison: UnitLiaisonModel) -> dict:
    """A liaison as the unit's street sees them: the name they had when they joined (street staff are staff: the
    name unmasked, as the other staff views show names), and since when."""
    return {"user": {"id": liaison.user_id, "nickname": liaison.nickname or DEFAULT_NICKNAME},
            "unit_id": liaison.unit_id, "since": to_api(liaison.since)}


def _street_staff_of(principal: Principal, unit: UnitModel | None):
    """The grant of the unit's street's staff: 403 for who is no street staff, 404 for another street's unit."""
    if Role.STREET_STAFF.value not in principal.roles or not principal.street_ids:
        raise Forbidden()
    if unit is None or unit.street_id not in principal.street_ids:
        raise rules.UNIT_NOT_FOUND
    return require_street(principal, unit.street_id)


def list_liaisons(principal: Principal, unit_id: str, *, limit: int, cursor: str | None) -> dict:
    """The unit's liaisons, for its street's staff: the unit (GetItem: its street), then one Query a page."""
    if Role.STREET_STAFF.value not in principal.roles or not principal.street_ids:
        raise Forbidden()  # before any read
    unit, = batch.get_many((UnitModel, unit_id))
    _street_staff_of(principal, unit)
    return paging.page(lambda **kw: UnitLiaisonModel.query(unit_id, **kw), limit, cursor,
                       lambda items: [present_liaison(x) for x in items], scope=f"liaisons:{unit_id}",
                       model=UnitLiaisonModel)


def remove_liaison(principal: Principal, unit_id: str, user_id: str) -> None:
    """Street staff of the unit's street take the person off as the unit's liaison: one BatchGetItem (the unit and
    the person), ONE transaction. 404 for a unit of another street (or none) and for a person who is not its
    liaison (or no longer: the same call twice); 409 CONFLICT when the person's units changed between the read and
    the write (read again and retry)."""
    if Role.STREET_STAFF.value not in principal.roles or not principal.street_ids:
        raise Forbidden()  # before any read
    unit, person = batch.get_many((UnitModel, unit_id), (UserModel, user_id))
    grant = _street_staff_of(principal, unit)
    held = set(person.unit_ids or ()) if person is not None and person.status == "active" else set()
    if unit_id not in held:
        raise rules.NOT_A_LIAISON
    now = utcnow()
    last = held == {unit_id}
    actions = [UserModel.updated_at.set(now)]
    if last:  # their only unit: the role goes with it (an empty set is removed, never written)
        actions += [UserModel.unit_ids.remove(), UserModel.roles.delete({Role.UNIT_LIAISON.value})]
    else:
        actions.append(UserModel.unit_ids.delete({unit_id}))
    condition = (UserModel.status == "active") & same_set(UserModel.unit_ids, held)
    is_self = user_id == principal.user_id
    if is_self:  # one item cannot take two operations in a transaction: fold the staff check in
        condition &= grant_condition(grant)

    def refused(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active" or unit_id not in (current.unit_ids or ()):
            return rules.NOT_A_LIAISON
        return CHANGED_MEANWHILE

    tx = Tx() if is_self else check_grant(Tx(), grant)
    tx.update(UserModel(user_id), actions, condition=condition, error=refused)
    tx.update(UnitModel(unit_id), [UnitModel.liaison_ids.delete({user_id})],
              condition=UnitModel.street_id == unit.street_id, error=rules.UNIT_NOT_FOUND)
    tx.delete(UnitLiaisonModel(unit_id, user_id))
    tx.commit(answer=None)  # 204: no body
    log.info("unit liaison removed", extra={"unit_id": unit_id, "user_id": user_id, "role_removed": last})


# --- the invite as a QR (普通链接二维码) -------------------------------------------------------------------------------

def invite_qrcode(container: Container, principal: Principal, unit_id: str, code: str,
                  fmt: str) -> dict | tuple[bytes, str]:
    """A liaison invite for print or a screen, as the other invite codes are: ``json`` → ``{code, unit_id, url,
    valid_until}``; else ``(bytes, content_type)``, a plain QR (png/svg) of its link ``<QR_LINK_BASE>/u/<code>``
    (WeChat's own scanner opens the join page; ``POST /v1/me/unit`` takes the whole link). For the street staff of
    the invite's unit: one GetItem of the invite (it carries the unit's street). 404 for a code that is none of the
    unit's, used or expired (it is no invite any more)."""
    if Role.STREET_STAFF.value not in principal.roles or not principal.street_ids:
        raise Forbidden()
    found = (links.code_in(container.settings.qr_link_base, "unit_invite", code) or "").upper()
    invite, = batch.get_many((UnitInviteModel, found)) if rules.INVITE_CODE.fullmatch(found) else (None,)
    if invite is None or invite.unit_id != unit_id or invite.street_id not in principal.street_ids \
            or invite.used_by is not None or invite.expires_at <= utcnow():
        raise rules.INVITE_NOT_FOUND
    url = links.url(container.settings.qr_link_base, "unit_invite", invite.code)
    if fmt == "json":
        return {"code": invite.code, "unit_id": invite.unit_id, "url": url, "valid_until": to_api(invite.expires_at)}
    from ..adapters import qr
    return qr.render(url, fmt)
