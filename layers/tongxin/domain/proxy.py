"""代办 (acting for a resident without a smartphone): who may act for whom, and the refusals (pure rules, no I/O).

国办发〔2020〕45号 asks that digital services keep a channel for people who cannot use them. A *managed resident*
(代管居民) is a user an admin or a grid worker registered by name: active, ``resident`` of a community and a grid,
``managed`` set, no WeChat openid (they cannot sign in). Staff act for them in person: the resident's own use case
runs with the resident as the subject and the staff member as the actor (``adapters/dynamo/acting``); the proxy-log
entry (代办记录) is one more item of that use case's own transaction.

Who may act: the community's admin for any managed resident of the community; a grid worker for a managed resident
living in one of their grids. Anyone else of the community: 403; a resident outside the actor's reach (another
community, another grid, unknown, 注销): 404, as for any member the actor may not see. A user with a WeChat account
speaks for themself: 409 HAS_ACCOUNT. Nobody acts for themself: 403.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .access import Principal, Role
from .errors import AlreadyInCommunity, Conflict, Forbidden, NotFound

REASON_MAX = 200
REAL_NAME_MAX = 20
ADDRESS_MAX = 100


class ProxyKind(str, Enum):
    """What was done for the resident (the proxy log's ``kind``)."""
    WISH = "wish"  # POST /v1/proxy/{user_id}/wishes
    REQUEST = "request"  # POST /v1/proxy/{user_id}/requests
    EVENT_SIGNUP = "event_signup"  # POST /v1/proxy/{user_id}/events/{event_id}/signup
    REDEMPTION = "redemption"  # POST /v1/proxy/{user_id}/redemptions
    BALLOT = "ballot"  # POST /v1/proxy/{user_id}/project-rounds/{round_id}/ballot


KIND_LABELS = {ProxyKind.WISH: "代发微心愿", ProxyKind.REQUEST: "代提诉求", ProxyKind.EVENT_SIGNUP: "代报名活动",
               ProxyKind.REDEMPTION: "代兑换商品", ProxyKind.BALLOT: "代投票"}


class HasAccount(Conflict):
    code, message = "HAS_ACCOUNT", "该居民已有微信账号，请由本人在小程序中办理"


RESIDENT_NOT_FOUND = NotFound("居民不存在或不在您负责的范围内")
NOT_FOR_SELF = Forbidden("不能为自己代办，请在小程序中自行办理")
STAFF_ROLES = (Role.ADMIN, Role.GRID_WORKER)


@dataclass(frozen=True)
class Subject:
    """The fields of the resident acted for that the rules look at."""
    user_id: str
    active: bool
    community_id: str | None
    grid_id: str | None
    managed: bool
    has_wechat: bool


def may_manage_grid(principal: Principal, grid_id: str | None) -> bool:
    """An admin covers every grid of the community; a grid worker only theirs (a resident with no grid: admins)."""
    if principal.has(Role.ADMIN):
        return True
    return principal.has(Role.GRID_WORKER) and grid_id is not None and grid_id in principal.grid_ids


def check_subject(principal: Principal, subject: Subject | None) -> None:
    """Refuse acting for ``subject`` (404, 403, 409 HAS_ACCOUNT) — the actor's role was checked before
    (``require_role`` of ``STAFF_ROLES``: 403 for everyone else)."""
    if subject is not None and subject.user_id == principal.user_id:
        raise NOT_FOR_SELF
    if subject is None or not subject.active or subject.community_id != principal.community_id:
        raise RESIDENT_NOT_FOUND
    if not may_manage_grid(principal, subject.grid_id):
        raise RESIDENT_NOT_FOUND
    if subject.has_wechat or not subject.managed:
        raise HasAccount()


def display_nickname(real_name: str) -> str:
    """What other residents see of a managed resident (wish author, rosters): the real name masked (``王**``) —
    a managed resident chose no nickname, and their real name is not for everyone."""
    return real_name[0] + "*" * max(1, len(real_name) - 1)


# --- 绑定 (binding): the resident's own WeChat account takes the managed account over -------------------------------

BINDING_CODE_LENGTH = 8
BINDING_CODE_DAYS = 7  # time enough for the family to set up WeChat after the visit; one code works at a time
# A WeChat account may take a managed account over only while it holds nothing of its own: what it holds would
# otherwise need moving under the managed account's id (ledger chains, scores, sign-up keys). Residents' roles only:
# a staff account's grants name its user id in grids, stores and streets.
BINDABLE_ROLES = frozenset({Role.RESIDENT.value, Role.VOLUNTEER.value})


class BindingCodeInvalid(NotFound):
    code, message = "BINDING_CODE_INVALID", "绑定码无效、已使用或已过期，请向社区工作人员重新领取"


class AccountInUse(Conflict):
    code, message = "ACCOUNT_IN_USE", "您的微信账号已有积分、记录或工作人员身份，不能再绑定代管账户；请换用未使用过的微信账号，或联系社区工作人员"


@dataclass(frozen=True)
class Caller:
    """What the rules look at of the WeChat account that binds."""
    roles: frozenset
    community_id: str | None
    points_balance: int
    earned_total: int
    volunteer_minutes: int
    has_records: bool  # wishes, requests, sign-ups or redemptions of its own


def refuse_binding(caller: Caller, community_id: str) -> None:
    """409 ALREADY_IN_COMMUNITY for a caller of another community; 409 ACCOUNT_IN_USE for one that holds anything
    (points, minutes, records) or a role beyond a resident's."""
    if caller.community_id is not None and caller.community_id != community_id:
        raise AlreadyInCommunity()
    reason = None
    if not caller.roles <= BINDABLE_ROLES:
        reason = "staff"
    elif caller.points_balance or caller.earned_total or caller.volunteer_minutes:
        reason = "points"
    elif caller.has_records:
        reason = "records"
    if reason is not None:
        raise AccountInUse(details={"reason": reason})
