"""代管居民 (managed residents): residents without WeChat whom staff register by name and then act for (代办,
``usecases/proxy.py``). 国办发〔2020〕45号: digital services keep a channel for people who cannot use them.

A managed resident is an ordinary user item — active, ``resident`` of the community and a grid, with balance,
minutes and every list of their own — with ``managed`` set and no openid: nobody can sign in as them (login maps an
openid to a user, and they have none). They are in the member directory like everyone (``GET /v1/admin/members``
shows them with ``managed: true``), and have two more directory entries of their own (``managed#…``, ``gm#<grid>#…``,
``domain/directory.entry_keys``), so ``GET /v1/admin/managed-residents`` is one Query a page.

Registering is ONE transaction: the actor's grant (admin, or grid worker of that grid) re-checked, the grid still
there, the user item (condition: a new id), and its directory entries.
"""
from __future__ import annotations

import logging

from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import GridModel, MemberEntryModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain import proxy as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import Forbidden, NotFound
from ..domain.ids import new_id
from ..domain.masking import mask_address, mask_phone
from ..domain.text import DEFAULT_NICKNAME
from . import directory, paging
from .access import current_user

log = logging.getLogger(__name__)

GRID_NOT_FOUND = NotFound("网格不存在", details={"field": "grid_id"})


def present(user: UserModel, *, full: bool) -> dict:
    """A managed resident as staff see them: phone and address whole for admins, masked for grid workers (as the
    directory shows members)."""
    return {
        "id": user.id,
        "nickname": user.nickname or DEFAULT_NICKNAME,
        "real_name": user.real_name,
        "status": user.status,
        "roles": sorted(user.roles or ()),
        "community_id": user.community_id,
        "grid_id": user.grid_id,
        "phone": user.phone if full else mask_phone(user.phone),
        "address": user.address if full else mask_address(user.address),
        "managed": bool(user.managed),
        "points_balance": int(user.points_balance or 0),
        "volunteer_minutes": int(user.volunteer_minutes or 0),
        "created_at": to_api(user.created_at),
        "created_by": user.managed_by,
    }


def register(principal: Principal, *, real_name: str, grid_id: str, phone: str | None, address: str | None) -> dict:
    """An admin (any grid of the community) or a grid worker of ``grid_id`` (403 for another grid, and for
    everyone else). 404 NOT_FOUND naming ``grid_id`` for a grid the community does not have. 201 the resident."""
    grant = require_role(principal, Role.ADMIN, Role.GRID_WORKER, grid_id=grid_id)
    actor = current_user(principal)
    now = utcnow()
    user = UserModel(new_id("u"), status="active", nickname=rules.display_nickname(real_name), real_name=real_name,
                     phone=phone, address=address, community_id=grant.community_id, grid_id=grid_id,
                     roles={Role.RESIDENT.value}, managed=True, managed_by=actor.id, points_balance=0,
                     earned_total=0, volunteer_minutes=0, joined_at=now, created_at=now, updated_at=now)
    answer = present(user, full=grant.role == Role.ADMIN.value)
    tx = check_grant(Tx(), grant)
    tx.check(GridModel, grant.community_id, grid_id, condition=GridModel.id.exists(), error=GRID_NOT_FOUND)
    tx.put(user, condition=UserModel.id.does_not_exist())
    directory.sync(tx, None, user)  # a new member: their entries, nothing to delete (no condition needed)
    tx.commit(answer)
    log.info("managed resident registered", extra={"user_id": user.id, "grid_id": grid_id})
    return answer


def list_managed(principal: Principal, *, grid_id: str | None, limit: int, cursor: str | None) -> dict:
    """An admin: the community's managed residents (``grid_id`` narrows to one grid); a grid worker: those of one of
    their grids (the one named — 403 for another — else their first). Newest first: one Query of the directory and
    one BatchGetItem of the page's residents (balances as they are now)."""
    grant = require_role(principal, Role.ADMIN, Role.GRID_WORKER)
    full = grant.role == Role.ADMIN.value
    if not full:
        if grid_id is None:
            grid_id = sorted(principal.grid_ids)[0] if principal.grid_ids else None
        if grid_id is None or grid_id not in principal.grid_ids:
            raise Forbidden("只能查看自己负责网格的代管居民", details={"field": "grid_id"})
    cid = grant.community_id
    prefix = f"gm#{grid_id}#" if grid_id else "managed#"

    def present_page(entries: list[MemberEntryModel]) -> list[dict]:
        ids = list(dict.fromkeys(e.user_id for e in entries))
        users = batch.get_many(*[(UserModel, uid) for uid in ids]) if ids else []
        return [present(u, full=full) for u in users
                if u is not None and u.status == "active" and u.community_id == cid and u.managed]

    def query(**kw):
        return MemberEntryModel.query(cid, MemberEntryModel.entry_key.startswith(prefix), scan_index_forward=False,
                                      **kw)
    return paging.page(query, limit, cursor, present_page, scope=f"managed:{cid}:{prefix}", model=MemberEntryModel)
