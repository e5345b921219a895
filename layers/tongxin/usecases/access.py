"""Who is calling, as stored now: the token only names the user.

Every authenticated request reads the user once (one consistent GetItem, ``resolve``) and acts with the roles,
scopes and community stored at that moment: a deleted account (注销) is refused at once, a removed role stops
working at once, and a granted role works at once. Writes still re-check the grant inside their own transaction
(``adapters.dynamo.guards``), so a change that lands between this read and the write is caught there.

The user item read here is kept for the rest of the request (``current_user``), so a use case that needs the
caller's profile (grid, openid for WeChat, nickname) does not read it again.
"""
from __future__ import annotations

from contextvars import ContextVar

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo import batch
from ..adapters.dynamo.models import IdempotencyModel, UserModel
from ..domain.access import Principal
from ..domain.errors import Unauthenticated

ACCOUNT_DELETED = "账号已注销，请重新登录"
ACCOUNT_MERGED = "您的微信已绑定到社区为您登记的账户，请重新登录"

_user: ContextVar[UserModel | None] = ContextVar("caller", default=None)


def principal_of(user: UserModel) -> Principal:
    return Principal(user_id=user.id, community_id=user.community_id, roles=frozenset(user.roles or ()),
                     grid_ids=frozenset(user.grid_ids or ()), store_ids=frozenset(user.store_ids or ()),
                     street_ids=frozenset(user.street_ids or ()), district_ids=frozenset(user.district_ids or ()),
                     department_ids=frozenset(user.department_ids or ()), unit_ids=frozenset(user.unit_ids or ()))


def _active(user: UserModel | None) -> UserModel:
    if user is None:
        raise Unauthenticated()
    if user.status == "merged":  # 绑定 (usecases/binding.py): logging in again lands on the account bound to
        raise Unauthenticated(ACCOUNT_MERGED, details={"reason": "account_merged"})
    if user.status != "active":  # the mini-program must not log in again silently: that would be a new account
        raise Unauthenticated(ACCOUNT_DELETED, details={"reason": "account_deleted"})
    return user


def load_active_user(user_id: str) -> UserModel:
    try:
        return _active(UserModel.get(user_id, consistent_read=True))
    except DoesNotExist:
        raise Unauthenticated() from None


def resolve(token_principal: Principal, idempotency_record_id: str | None = None
            ) -> tuple[Principal, IdempotencyModel | None]:
    """The caller as stored now (401 if the account is gone), remembered for this request; with the request's
    Idempotency-Key record when asked, read in the same BatchGetItem (one round trip for both)."""
    if idempotency_record_id is None:
        user, record = load_active_user(token_principal.user_id), None
    else:
        found, record = batch.get_many((UserModel, token_principal.user_id),
                                       (IdempotencyModel, idempotency_record_id))
        user = _active(found)
    _user.set(user)
    return principal_of(user), record


def adopt(user: UserModel | None) -> Principal:
    """The caller as stored now, from a user item read together with something else (the console's session and
    the user: one BatchGetItem); 401 if the account is gone. Remembered for this request, as ``resolve`` does."""
    user = _active(user)
    _user.set(user)
    return principal_of(user)


def current_user(principal: Principal) -> UserModel:
    """The caller's user item as read by ``resolve`` for this request (read now if it was not)."""
    user = _user.get()
    if user is None or user.id != principal.user_id:
        user = load_active_user(principal.user_id)
        _user.set(user)
    return user


def forget() -> None:
    """End of request: a warm container must not carry one request's caller into the next."""
    _user.set(None)
