"""绑定 (binding): a managed resident (代管居民, usecases/managed_residents.py) gets WeChat, and their own account
takes the managed account over.

An admin issues a one-time code (``POST /v1/admin/managed-residents/{user_id}/binding-code``: 8 characters, 7 days,
only the newest works); the resident, signed in with WeChat, enters it (``POST /v1/me/bind``).

What moves is the WeChat identity, not the records. The managed account already holds everything staff did for the
resident — points and their ledger, wishes, requests, sign-ups and attendance, redemptions, ballots — under its own
id, and every one of those is keyed or indexed by that id and tied to the others by invariants (ledger chains,
score items, sign-up keys, counters). So the bind is ONE transaction: the code used; the caller's openid mapped to
the managed account (``identities``), which takes the caller's openid, nickname, avatar and verified phone and stops
being managed; the caller's own account — which must hold nothing (``domain/proxy.refuse_binding``: no points, no
minutes, no records, a resident's roles only) — retired as ``merged`` (``merged_into``), its directory entries and
volunteer count moved in the same transaction. Nothing is half-done and nothing needs resuming.

The answer is a session for the managed account (as login's): the caller's old token stops working at once (its
account is no longer active). The next WeChat login maps to the managed account, now theirs.

Cost of a bind: GetItem of the code, one BatchGetItem (the managed resident and the caller's 党员报到), eight Queries
of one item (the caller's own records: ``RECORDS``), one TransactWriteItems.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import (
    BallotModel, BindingCodeModel, CoProjectRatingModel, IdentityModel, PartyRegistrationModel,
    RedemptionModel, RequestModel, RoundProjectModel, RoundProjectRatingModel, SignupModel, UserModel, WishModel,
)
from ..adapters.dynamo.tx import Tx
from ..domain import party as party_rules
from ..domain import proxy as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import DomainError, Unauthenticated
from ..domain.ids import new_code
from ..wiring import Container
from . import directory, volunteer_count
from .access import ACCOUNT_DELETED, current_user
from .identity import copy_user, session_answer

log = logging.getLogger(__name__)
CODE_SHAPE = re.compile(r"[A-Z0-9]{%d}" % rules.BINDING_CODE_LENGTH)


# --- the code (an admin) ----------------------------------------------------------------------------------------

def issue_code(principal: Principal, user_id: str) -> dict:
    """An admin of the resident's community. 404 NOT_FOUND for a resident who is not a managed resident of the
    community (unknown, another community, 注销, merged); 409 HAS_ACCOUNT for a member with WeChat. A new code
    replaces the resident's previous one. ONE transaction: the admin's grant, the resident (still managed, still
    here) holding the new code, the code's item."""
    grant = require_role(principal, Role.ADMIN)
    if user_id == principal.user_id:
        raise rules.HasAccount()
    resident = batch.get_many((UserModel, user_id))[0]
    if resident is None or resident.status != "active" or resident.community_id != grant.community_id:
        raise rules.RESIDENT_NOT_FOUND
    if not resident.managed or resident.openid:
        raise rules.HasAccount()
    now = utcnow()
    code = new_code(rules.BINDING_CODE_LENGTH)
    valid_until = now + timedelta(days=rules.BINDING_CODE_DAYS)
    answer = {"code": code, "user_id": resident.id, "real_name": resident.real_name, "valid_until": to_api(valid_until)}

    def refused(current: UserModel | None) -> DomainError:
        if current is None or current.status != "active" or current.community_id != grant.community_id:
            return rules.RESIDENT_NOT_FOUND
        return rules.HasAccount()

    tx = check_grant(Tx(), grant)
    tx.update(UserModel(resident.id), [UserModel.binding_code.set(code), UserModel.updated_at.set(now)],
              condition=(UserModel.status == "active") & (UserModel.community_id == grant.community_id)
              & (UserModel.managed == True) & UserModel.openid.does_not_exist(),  # noqa: E712 (a condition)
              error=refused)
    tx.put(BindingCodeModel(code, user_id=resident.id, community_id=grant.community_id, created_by=principal.user_id,
                            created_at=now, expires_at=valid_until),
           condition=BindingCodeModel.code.does_not_exist())
    tx.commit(answer)
    log.info("binding code issued", extra={"user_id": resident.id})
    return answer


# --- the bind (the resident, with WeChat) -------------------------------------------------------------------------

# What an account can hold of its own besides points and minutes, each found by one Query of one item: wishes,
# requests, sign-ups, redemptions; 微实事 ballots (the managed account may have voted in the same round by 代办: kept
# beside it, the caller's would be the person's second vote), proposals and 验收 ratings; 群众评单 ratings. 微星光
# commendations are counted on the user item (a condition of the bind's transaction); post claims and certificates
# need a role or minutes, refused before.
RECORDS = (WishModel.by_author, RequestModel.by_author, SignupModel.by_user, RedemptionModel.by_user,
           BallotModel.by_user, RoundProjectModel.by_proposer_user, RoundProjectRatingModel.by_user,
           CoProjectRatingModel.by_user)
STANDING_REGISTRATION = ("pending", "approved")  # 党员报到 in progress or in force (domain/party.py)


def _has_records(caller: UserModel, registration: PartyRegistrationModel | None) -> bool:
    """Whether the account holds anything of its own: its commendations, its 党员报到 in the community (read with the
    resident), then one Query of one item per kind of record (``RECORDS``)."""
    if int(caller.commendations_count or 0) or (registration is not None
                                                and registration.status in STANDING_REGISTRATION):
        return True
    return any(next(iter(index.query(caller.id, limit=1)), None) is not None for index in RECORDS)


def _found_code(code: str) -> BindingCodeModel:
    code = code.strip().upper()
    if not CODE_SHAPE.fullmatch(code):
        raise rules.BindingCodeInvalid()
    try:
        found = BindingCodeModel.get(code, consistent_read=True)
    except DoesNotExist:
        raise rules.BindingCodeInvalid() from None
    if found.used_by is not None or found.expires_at <= utcnow():
        raise rules.BindingCodeInvalid()
    return found


def bind(container: Container, principal: Principal, code: str) -> dict:
    """Any signed-in user. 404 BINDING_CODE_INVALID (unknown, used, expired, replaced by a newer one, or its resident
    no longer managed); 409 ALREADY_IN_COMMUNITY for a caller of another community; 409 ACCOUNT_IN_USE for a caller
    holding points, minutes, records or a staff role. Answers a session for the managed account, now the caller's."""
    found = _found_code(code)
    caller = current_user(principal)
    # The resident, and the caller's 党员报到 in the resident's community (a record of theirs, ``_has_records``).
    resident, registration = batch.get_many(
        (UserModel, found.user_id), (PartyRegistrationModel, party_rules.registration_key(found.community_id, caller.id)))
    if resident is None or resident.status != "active" or not resident.managed or resident.openid \
            or resident.binding_code != found.code:
        raise rules.BindingCodeInvalid()
    rules.refuse_binding(rules.Caller(
        roles=frozenset(caller.roles or ()), community_id=caller.community_id,
        points_balance=int(caller.points_balance or 0), earned_total=int(caller.earned_total or 0),
        volunteer_minutes=int(caller.volunteer_minutes or 0),
        has_records=_has_records(caller, registration)), resident.community_id)
    if not caller.openid:  # every account that can sign in has one; without it there is nothing to bind
        raise Unauthenticated(ACCOUNT_DELETED)

    now = utcnow()
    after = copy_user(resident)
    after.openid, after.managed, after.binding_code, after.bound_at = caller.openid, None, None, now
    after.nickname = caller.nickname or resident.nickname
    after.avatar_url = caller.avatar_url or resident.avatar_url
    after.phone = caller.phone or resident.phone  # the WeChat-verified number wins over the one staff wrote
    carried = set(caller.roles or ()) & {Role.VOLUNTEER.value}  # a volunteer registration carries over
    after.roles = set(resident.roles or ()) | carried
    if carried and not resident.volunteer_since:
        after.volunteer_since = caller.volunteer_since or now
    if not resident.real_name and caller.real_name:
        after.real_name = caller.real_name
    answer = session_answer(container, after)

    tx = Tx()
    tx.update(BindingCodeModel(found.code), [BindingCodeModel.used_by.set(caller.id), BindingCodeModel.used_at.set(now)],
              condition=BindingCodeModel.used_by.does_not_exist() & (BindingCodeModel.expires_at > now),
              error=rules.BindingCodeInvalid())
    tx.update(IdentityModel(caller.openid), [IdentityModel.user_id.set(resident.id)],
              condition=IdentityModel.user_id == caller.id, error=Unauthenticated(ACCOUNT_DELETED))
    caller_kept = directory.sync(tx, caller, None)  # the caller's entries go (if they had joined)
    resident_kept = directory.sync(tx, resident, after)  # managed entries go, nickname and phone tokens move
    caller_counted, resident_counted = _volunteer_counts(tx, caller, resident, after)

    caller_condition = (UserModel.status == "active") & (UserModel.points_balance == 0) \
        & (UserModel.earned_total == 0) & (UserModel.volunteer_minutes == 0) & (UserModel.openid == caller.openid) \
        & (UserModel.commendations_count.does_not_exist() | (UserModel.commendations_count == 0))
    tx.update(UserModel(caller.id), [
        UserModel.status.set("merged"), UserModel.merged_into.set(resident.id), UserModel.updated_at.set(now),
        UserModel.openid.remove(), UserModel.nickname.remove(), UserModel.avatar_url.remove(),
        UserModel.phone.remove(), UserModel.real_name.remove(), UserModel.skills.remove(), UserModel.roles.remove(),
        UserModel.community_id.remove(), UserModel.grid_id.remove(), UserModel.volunteer_since.remove(),
    ], condition=_all(caller_condition, caller_kept, caller_counted), error=_caller_changed)

    actions = [UserModel.openid.set(caller.openid), UserModel.managed.remove(), UserModel.binding_code.remove(),
               UserModel.bound_at.set(now), UserModel.updated_at.set(now), UserModel.roles.set(after.roles)]
    for name in ("nickname", "avatar_url", "phone", "real_name", "volunteer_since"):
        value = getattr(after, name)
        if value is not None and value != getattr(resident, name):
            actions.append(getattr(UserModel, name).set(value))
    resident_condition = (UserModel.status == "active") & (UserModel.managed == True) \
        & (UserModel.binding_code == found.code) & UserModel.openid.does_not_exist()  # noqa: E712 (a condition)
    tx.update(UserModel(resident.id), actions, condition=_all(resident_condition, resident_kept, resident_counted),
              error=lambda current: rules.BindingCodeInvalid() if current is None or current.status != "active"
              or not current.managed or current.binding_code != found.code else directory.CHANGED_MEANWHILE)
    tx.commit(answer)
    log.info("managed resident bound", extra={"user_id": resident.id, "retired_user_id": caller.id})
    return answer


def _volunteer_counts(tx: Tx, caller: UserModel, resident: UserModel, after: UserModel) -> tuple:
    """The conditions the two user updates carry for the community's volunteer count, adding its change to ``tx``.
    A caller who is a volunteer of the resident's community leaves the count as the resident joins it: the two
    changes cancel, and the one counter item cannot be written twice in one transaction."""
    leaving, joining = volunteer_count.counted_in(caller), volunteer_count.counted_in(after)
    if leaving is not None and leaving == joining and volunteer_count.counted_in(resident) is None:
        return volunteer_count.as_read(caller), volunteer_count.as_read(resident)
    return volunteer_count.sync(tx, caller, None), volunteer_count.sync(tx, resident, after)


def _all(*conditions):
    found = None
    for condition in conditions:
        found = volunteer_count.both(found, condition)
    return found


def _caller_changed(current: UserModel | None) -> DomainError:
    if current is None or current.status != "active":
        return Unauthenticated(ACCOUNT_DELETED)
    if current.points_balance or current.earned_total or current.volunteer_minutes:
        return rules.AccountInUse(details={"reason": "points"})
    if current.commendations_count:
        return rules.AccountInUse(details={"reason": "records"})
    return directory.CHANGED_MEANWHILE
