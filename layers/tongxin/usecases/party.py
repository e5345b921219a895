"""双报到: a party member reports to the community they live in (党员报到), an admin approves or rejects, and the
registration ends with the membership (注销) or the role (an admin taking ``party_member`` away).

- One registration per person per community, by its key (``domain/party.registration_key``): the submission is ONE
  conditional Put — absent, or rejected / ended (then replaced) — so a second is 409 ``ALREADY_REGISTERED`` whatever
  the concurrency. A named unit (``unit_id``) must be a unit of the community's own street when the Put lands:
  ConditionChecks on the unit's ``street_id`` and the community's (404 naming ``unit_id``; never read-then-write).
- Approval is ONE transaction: the registration ``pending → approved`` (its condition), the member's user item gets
  ``party_member``, ``party_unit_id`` and the approved real name (conditioned on being still active in that
  community and as read: the member directory's entries move in the same transaction, ``directory.sync``), the
  admin's grant re-checked, the member told. Rejection likewise (the registration and the message).
- Messages: the community's admins on a new registration (``party_registration_submitted``, one fan-out item in the
  submission's transaction), the member on the decision (``party_registration_decided``).
- The member's service record and the quarter's assessment: ``usecases/service_record.py`` and
  ``usecases/party_assessment.py``.
"""
from __future__ import annotations

import logging

from pynamodb.exceptions import DoesNotExist

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import CommunityModel, PartyRegistrationModel, UnitModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain import party as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import (
    AlreadyRegistered, Conflict, DomainError, Forbidden, InvalidState, NotFound, NotInCommunity,
)
from ..domain.masking import mask_name
from ..wiring import Container
from . import directory, notifications, paging
from .access import current_user
from .content import Scene, check as content_check
from ..domain.text import DEFAULT_NICKNAME

log = logging.getLogger(__name__)

REGISTRATION_NOT_FOUND = NotFound("没有找到党员报到记录")
UNIT_NOT_FOUND = NotFound("所填共建单位（unit_id）不存在，或不是本社区所在街道的单位", details={"field": "unit_id"})
PAGE = "pages/party/registration"
ENDED = rules.ENDED
SELF_DECIDE = Forbidden("不能审核自己的党员报到，请由社区其他管理员审核")
MEMBER_GONE = Conflict("该居民已注销或已不在本社区，不能通过报到")


def present(registration: PartyRegistrationModel) -> dict:
    return {
        "id": registration.id,
        "status": registration.status,
        "user": {"id": registration.user_id, "nickname": registration.nickname or DEFAULT_NICKNAME},
        "real_name": registration.real_name,
        "work_unit": registration.work_unit,
        "party_branch": registration.party_branch,
        "unit_id": registration.unit_id,
        "reason": registration.reason,
        "submitted_at": to_api(registration.submitted_at),
        "decided_at": to_api(registration.decided_at),
        "ended_at": to_api(registration.ended_at),
    }


def _with(registration: PartyRegistrationModel, **changes) -> PartyRegistrationModel:
    """The registration as it will be once ``changes`` are written (answers are built before the commit)."""
    copy = PartyRegistrationModel.from_raw_data(registration.serialize(null_check=False))
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def _actions(changes: dict) -> list:
    return [getattr(PartyRegistrationModel, name).remove() if value is None
            else getattr(PartyRegistrationModel, name).set(value) for name, value in changes.items()]


# --- the member ------------------------------------------------------------------------------------------------

def submit(container: Container, principal: Principal, *, real_name: str, work_unit: str, party_branch: str,
           unit_id: str | None) -> dict:
    """党员报到 (a resident of a community): pending until an admin decides. 409 ALREADY_REGISTERED while one is pending
    or approved; a rejected (or ended) one is replaced. 404 (``field: unit_id``) for a unit that does not exist or
    is of another street than the community's. The text is read by the
    community's admins (and a unit's liaison on the service card): WeChat's content check, scene 资料."""
    grant = require_role(principal, Role.RESIDENT)
    me = current_user(principal)
    key = rules.registration_key(grant.community_id, me.id)
    street_id = None
    if unit_id is None:
        existing = _get(key)  # refused before WeChat's check is spent; the Put's condition decides
    else:  # the community's street too (one BatchGetItem): the unit must be of it
        existing, community = batch.get_many((PartyRegistrationModel, key), (CommunityModel, grant.community_id))
        street_id = community.street_id if community is not None else None
    if existing is not None and existing.status in (rules.PENDING, rules.APPROVED):
        raise AlreadyRegistered(details={"status": existing.status})
    if unit_id is not None and not street_id:
        raise UNIT_NOT_FOUND
    content_check(container, me, real_name, work_unit, party_branch, scene=Scene.PROFILE, what="party registration")
    now = utcnow()
    registration = PartyRegistrationModel(
        key, community_id=grant.community_id, user_id=me.id,
        status=rules.PENDING, status_key=f"{grant.community_id}#{rules.PENDING}", real_name=real_name,
        work_unit=work_unit, party_branch=party_branch, unit_id=unit_id, nickname=me.nickname,
        submitted_at=now, updated_at=now)

    def taken(current: PartyRegistrationModel | None) -> DomainError:
        if current is not None and current.status in (rules.PENDING, rules.APPROVED):
            return AlreadyRegistered(details={"status": current.status})
        return Conflict("报到记录刚刚有变化，请刷新后重试")

    tx = check_grant(Tx(), grant)
    tx.put(registration, condition=PartyRegistrationModel.id.does_not_exist()
           | PartyRegistrationModel.status.is_in(rules.REJECTED, ENDED), error=taken)
    if unit_id is not None:  # a unit of the community's own street, as the transaction lands
        tx.check(UnitModel, unit_id, condition=UnitModel.street_id == street_id, error=UNIT_NOT_FOUND)
        tx.check(CommunityModel, grant.community_id, condition=CommunityModel.street_id == street_id,
                 error=UNIT_NOT_FOUND)
    notifications.fan_out(tx, key=f"party#{registration.id}#submitted#{now.timestamp():.6f}",
                          kind="party_registration_submitted",
                          audience=notifications.community_admins_audience(grant.community_id),
                          data={"registration_id": registration.id, "name": mask_name(real_name),
                                "party_branch": party_branch},
                          page="pages/admin/party-registrations", community_id=grant.community_id)
    answer = present(registration)
    tx.commit(answer)
    metrics.count("party_registration_submitted")
    log.info("party registration submitted", extra={"registration_id": registration.id})
    return answer


def mine(principal: Principal) -> dict:
    """The caller's registration in their community (404 when none)."""
    community_id = principal.community_id
    if not community_id:
        raise NotInCommunity()
    registration = _get(rules.registration_key(community_id, principal.user_id))
    if registration is None:
        raise REGISTRATION_NOT_FOUND
    return present(registration)


def _get(registration_id: str) -> PartyRegistrationModel | None:
    try:
        return PartyRegistrationModel.get(registration_id, consistent_read=True)
    except DoesNotExist:
        return None


# --- the admin ---------------------------------------------------------------------------------------------------

def list_registrations(principal: Principal, *, status: str, limit: int, cursor: str | None) -> dict:
    """A page of the community's registrations of ``status`` (default pending), newest submitted first: one Query."""
    grant = require_role(principal, Role.ADMIN)
    key = f"{grant.community_id}#{status}"

    def query(**kw):
        return PartyRegistrationModel.by_status.query(key, scan_index_forward=False, **kw)

    return paging.page(query, limit, cursor, lambda items: [present(r) for r in items],
                       scope=f"party-registrations:{key}", model=PartyRegistrationModel)


def _decidable(principal: Principal, registration_id: str):
    """(grant, the pending registration, its member as read): one BatchGetItem. 404 another community's or none;
    403 one's own; 409 INVALID_STATE once decided."""
    grant = require_role(principal, Role.ADMIN)
    community_id, dot, user_id = registration_id.partition(".")
    if not dot or community_id != grant.community_id:
        raise REGISTRATION_NOT_FOUND
    registration, member = batch.get_many((PartyRegistrationModel, registration_id), (UserModel, user_id))
    if registration is None or registration.community_id != grant.community_id:
        raise REGISTRATION_NOT_FOUND
    if registration.user_id == principal.user_id:
        raise SELF_DECIDE
    if registration.status != rules.PENDING:
        raise InvalidState("这条报到已审核过", details={"status": registration.status})
    return grant, registration, member


def _still_pending(registration: PartyRegistrationModel):
    return (PartyRegistrationModel.status == rules.PENDING) \
        & (PartyRegistrationModel.submitted_at == registration.submitted_at)


def _decided_refusal(current: PartyRegistrationModel | None) -> DomainError:
    if current is None:
        return REGISTRATION_NOT_FOUND
    return InvalidState("这条报到已审核过", details={"status": current.status})


def approve(principal: Principal, registration_id: str) -> dict:
    """The member becomes ``party_member`` (with the unit recorded and the approved real name), in one transaction
    with the registration's ``pending → approved``. 409 when the member has left (注销) meanwhile."""
    grant, registration, member = _decidable(principal, registration_id)
    if member is None or member.status != "active" or member.community_id != grant.community_id:
        raise MEMBER_GONE
    now = utcnow()
    changes = {"status": rules.APPROVED, "status_key": f"{grant.community_id}#{rules.APPROVED}", "decided_at": now,
               "decided_by": principal.user_id, "reason": None, "updated_at": now,
               "unit_key": registration.unit_id}
    after_member = member.changed(roles=set(member.roles or ()) | {Role.PARTY_MEMBER.value},
                                  real_name=registration.real_name)
    tx = check_grant(Tx(), grant)
    tx.update(PartyRegistrationModel(registration.id), _actions(changes), condition=_still_pending(registration),
              error=_decided_refusal)
    kept = directory.sync(tx, member, after_member)  # the role's entries, the real name's search entries
    condition = (UserModel.status == "active") & (UserModel.community_id == grant.community_id)
    if kept is not None:
        condition &= kept

    def member_refused(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active" or current.community_id != grant.community_id:
            return MEMBER_GONE
        return directory.CHANGED_MEANWHILE

    tx.update(UserModel(member.id), [
        UserModel.roles.add({Role.PARTY_MEMBER.value}),
        UserModel.party_unit_id.set(registration.unit_id) if registration.unit_id else UserModel.party_unit_id.remove(),
        UserModel.real_name.set(registration.real_name),
        UserModel.updated_at.set(now),
    ], condition=condition, error=member_refused)
    _tell(tx, registration, rules.APPROVED, None)
    answer = present(_with(registration, **changes))
    tx.commit(answer)
    metrics.count("party_registration_approved")
    log.info("party registration approved", extra={"registration_id": registration.id})
    return answer


def reject(principal: Principal, registration_id: str, reason: str) -> dict:
    """The registration ``pending → rejected`` with the reason (the member may submit again), the member told."""
    grant, registration, _member = _decidable(principal, registration_id)
    now = utcnow()
    changes = {"status": rules.REJECTED, "status_key": f"{grant.community_id}#{rules.REJECTED}", "decided_at": now,
               "decided_by": principal.user_id, "reason": reason, "updated_at": now}
    tx = check_grant(Tx(), grant)
    tx.update(PartyRegistrationModel(registration.id), _actions(changes), condition=_still_pending(registration),
              error=_decided_refusal)
    _tell(tx, registration, rules.REJECTED, reason)
    answer = present(_with(registration, **changes))
    tx.commit(answer)
    metrics.count("party_registration_rejected")
    return answer


def _tell(tx: Tx, registration: PartyRegistrationModel, result: str, reason: str | None) -> None:
    data = {"registration_id": registration.id, "result": result}
    if reason:
        data["reason"] = reason
    notifications.enqueue(tx, kind="party_registration_decided", recipient_id=registration.user_id, data=data,
                          page=PAGE, community_id=registration.community_id,
                          key=f"party#{registration.id}#{registration.submitted_at.timestamp():.6f}#decided")


# --- ending ------------------------------------------------------------------------------------------------------

ROLE_REMOVED_REASON = "管理员取消了党员身份"
DELETED_REASON = "本人注销账号"


def end_on_role_removal(tx: Tx, registration: PartyRegistrationModel | None, now) -> None:
    """An admin takes ``party_member`` away (``admin.set_roles``): an approved registration ends in the same
    transaction (conditioned on being still approved). The member may report again."""
    if registration is None or registration.status != rules.APPROVED:
        return
    changes = {"status": ENDED, "status_key": f"{registration.community_id}#{ENDED}", "ended_at": now,
               "reason": ROLE_REMOVED_REASON, "unit_key": None, "updated_at": now}
    tx.update(PartyRegistrationModel(registration.id), _actions(changes),
              condition=PartyRegistrationModel.status == rules.APPROVED,
              error=Conflict("党员报到刚刚有变化，请刷新后重试"))


def forget_deleted_user(user: UserModel) -> None:
    """注销 (``account_deletion``): the member's registration in their community ends and its personal fields are
    erased — one conditional write on the status as read, safe to repeat (a decision landing in between is read
    again). Moving to another community would end it too, but there is no route to leave a community: 注销 is the
    only way out (docs/api.md)."""
    if not user.community_id:
        return
    for _ in range(3):
        registration = _get(rules.registration_key(user.community_id, user.id))
        if registration is None or (registration.status == ENDED and registration.real_name is None):
            return
        now = utcnow()
        changes = {"status": ENDED, "status_key": f"{registration.community_id}#{ENDED}", "ended_at": now,
                   "reason": DELETED_REASON, "unit_key": None, "real_name": None, "work_unit": None,
                   "party_branch": None, "nickname": None, "updated_at": now}
        try:
            Tx().update(PartyRegistrationModel(registration.id), _actions(changes),
                        condition=(PartyRegistrationModel.status == registration.status)
                        & (PartyRegistrationModel.updated_at == registration.updated_at),
                        error=Conflict()).commit()
            return
        except Conflict:
            continue
    raise Conflict("党员报到刚刚有变化，请重试注销")

