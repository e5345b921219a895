"""注销 (account deletion): the one use case that reaches into every area — each area lets go of what the person
holds, then the account's personal fields are erased in one transaction.

It stands above the areas (like ``schedule``, the scheduler's run over every area): identity and the areas never
import it, so none of them needs another's 注销 step.
"""
from __future__ import annotations

import logging

from ..adapters.dynamo import scores
from ..adapters.dynamo.models import CommunityModel, GridModel, IdentityModel, StreetModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain.access import Principal, Role
from ..domain.clock import utcnow
from ..domain.errors import Unauthenticated
from . import (certificates, co_projects, commendations, corrections, directory, events, party, points, posts,
               requests, round_delivery, units, volunteer_count, wishes)
from .access import current_user

log = logging.getLogger(__name__)


def delete_me(principal: Principal) -> None:
    """注销: release what the user holds in other areas, then erase personal fields in one transaction.

    Each release step is its own conditional write and safe to repeat, so a DELETE that failed half-way
    is completed by calling it again. The ledger stays (it names only the opaque user id).
    """
    user = current_user(principal)
    party.forget_deleted_user(user)  # 双报到: the registration ends, its personal fields erased
    posts.release_on_deletion(user.id)  # 领岗: open claims given back (a full post re-opens), served ones anonymised
    co_projects.forget_deleted_user(user.id)  # 群众评单: the comments erased, the ratings still counted
    commendations.forget_deleted_user(user)  # 微星光: standing ones stay, under 已注销用户
    round_delivery.forget_deleted_user(user.id)  # 微实事: proposals under 已注销用户, rating comments erased
    events.forget_deleted_user(user.id)  # places given up (the next in line promoted), names erased
    wishes.forget_deleted_user(user.id)
    requests.forget_deleted_user(user.id)
    certificates.forget_deleted_user(user.id)  # 证明: a pending request withdrawn; issued ones stay checkable
    corrections.forget_deleted_user(user.id)  # 记录更正: a pending one withdrawn, decided ones stay as the audit
    points.cancel_all_pending(user.id)  # stock and allowance back to the store, points back to the closed account
    scores.forget(user, utcnow())  # off every board, and the nickname copied onto its score items erased

    now = utcnow()
    tx = Tx()
    if user.openid:
        tx.delete(IdentityModel(user.openid))
    for grid_id in user.grid_ids or ():
        tx.update(GridModel(user.community_id, grid_id), [GridModel.worker_ids.delete({user.id})],
                  condition=GridModel.id.exists())
    if Role.ADMIN.value in (user.roles or ()) and user.community_id:
        tx.update(CommunityModel(user.community_id), [CommunityModel.admin_ids.delete({user.id})],
                  condition=CommunityModel.id.exists())
    for street_id in user.street_ids or ():
        tx.update(StreetModel(street_id), [StreetModel.staff_ids.delete({user.id})], condition=StreetModel.id.exists())
    units.leave_on_deletion(tx, user)  # a liaison leaves the units' liaison_ids (whom their messages reach)
    kept = directory.sync(tx, user, None)  # every entry of the member in the directory goes with the account
    counted = volunteer_count.sync(tx, user, None)  # a volunteer leaves their community's count
    tx.update(UserModel(user.id), [
        UserModel.status.set("deleted"), UserModel.deleted_at.set(now), UserModel.updated_at.set(now),
        UserModel.nickname.remove(), UserModel.avatar_url.remove(), UserModel.phone.remove(),
        UserModel.real_name.remove(), UserModel.skills.remove(), UserModel.openid.remove(),
        UserModel.roles.remove(), UserModel.grid_ids.remove(), UserModel.store_ids.remove(), UserModel.street_ids.remove(),
        UserModel.district_ids.remove(), UserModel.department_ids.remove(), UserModel.unit_ids.remove(),
        UserModel.volunteer_since.remove(), UserModel.volunteer_revoked_at.remove(), UserModel.party_unit_id.remove(),
    ], condition=volunteer_count.both(UserModel.status == "active" if kept is None else kept, counted),
        error=lambda current: Unauthenticated("账号已注销") if current is None or current.status != "active"
        else directory.CHANGED_MEANWHILE)
    tx.commit(answer=None)  # 204: no body
    log.info("user deleted", extra={"user_id": user.id})
