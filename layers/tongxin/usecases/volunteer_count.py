"""How many registered volunteers each community has now (``volunteers`` of ``GET /v1/street/stats``).

One counter item per community, ``community-stats#<community_id>`` in the counters table, attribute ``volunteers``,
kept +1/−1 in the SAME transaction as every change that gives or takes the volunteer role, or the membership it
counts in: volunteer registration (``identity.register_volunteer``), an admin's role change (``admin.set_roles``),
注销 (``account_deletion``), joining a community (``identity.join_community``) and the operator's first admin
(``admin.create_community``) — the very spots that keep the member directory (``directory.sync``).

A member counts in their community when active, in it, and holding ``volunteer``: exactly the members the directory
lists under ``role#volunteer#`` (``domain/directory.entry_keys``). ``sync(tx, before, after)`` adds the change of
the count when that state differs between the user as read and as the change leaves them, and answers the
condition the user item's update must carry: the counted state still as read. A repeated call (registering twice,
the same role list put again) finds nothing to count; a concurrent one fails the condition instead of counting twice.

Every change also adds 1 to ``volunteers_changes``. ``recount`` (the operator's ``rebuild-directory``, the demo seed)
sets ``volunteers`` from the directory (one COUNT Query) only if no change landed meanwhile: its write is
conditioned on that sequence as read, and it reads again when it lost.
"""
from __future__ import annotations

from pynamodb.expressions.operand import Path, Value

from ..adapters.dynamo import batch, counters
from ..adapters.dynamo.models import CounterModel, MemberEntryModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain.access import Role
from ..domain.errors import Conflict

PREFIX = "community-stats#"
VOLUNTEERS = "volunteers"
CHANGES = "volunteers_changes"
DIRECTORY_PREFIX = f"role#{Role.VOLUNTEER.value}#"  # domain/directory.entry_keys: one entry per volunteer
RECOUNT_ATTEMPTS = 5
CHANGED_MEANWHILE = Conflict("志愿者人数刚刚变化，请重试")


def key(community_id: str) -> str:
    return f"{PREFIX}{community_id}"


def counted_in(user: UserModel | None) -> str | None:
    """The community ``user`` counts in as a registered volunteer (None: in none)."""
    if user is None or user.status != "active" or not user.community_id:
        return None
    return user.community_id if Role.VOLUNTEER.value in (user.roles or ()) else None


def as_read(user: UserModel | None):
    """The condition that the stored user still counts where ``user`` (as read) does."""
    holds = UserModel.roles.contains(Role.VOLUNTEER.value)
    where = counted_in(user)
    if where is not None:
        return (UserModel.status == "active") & (UserModel.community_id == where) & holds
    return (UserModel.status != "active") | UserModel.community_id.does_not_exist() | ~holds


def sync(tx: Tx, before: UserModel | None, after: UserModel | None):
    """Add to ``tx`` the counters' change from ``before`` (the user as read) to ``after`` (as the change leaves them;
    None: deleted). Answers the condition the change's update of the user item must carry, or None when the count
    does not move (no condition needed)."""
    was, now = counted_in(before), counted_in(after)
    if was == now:
        return None
    if was is not None:
        counters.add(tx, key(was), {VOLUNTEERS: -1, CHANGES: 1})
    if now is not None:
        counters.add(tx, key(now), {VOLUNTEERS: 1, CHANGES: 1})
    return as_read(before)


def both(condition, more):
    """``condition`` and ``more`` (either may be None: no condition)."""
    if condition is None:
        return more
    return condition if more is None else condition & more


def _stored(community_id: str) -> tuple[int | None, int | None]:
    """(volunteers, volunteers_changes) as stored (None: absent), one consistent read."""
    found = batch.get_raw_many(CounterModel, [key(community_id)])
    item = found[0] if found else {}
    number = lambda name: int(item[name]["N"]) if name in item else None  # noqa: E731
    return number(VOLUNTEERS), number(CHANGES)


def recount(community_id: str) -> dict:
    """Operator and demo seed only (never on a request path): set the community's count to its volunteers in the
    member directory (run ``directory.rebuild`` first on tables written before the directory). One COUNT Query,
    then a write (even of the same number) conditioned on no change meanwhile; read again when one landed. Safe to
    repeat.
    ``{community_id, volunteers, was}`` (``was``: the count stored before, None when there was none)."""
    for _ in range(RECOUNT_ATTEMPTS):
        stored, changes = _stored(community_id)
        volunteers = MemberEntryModel.count(community_id, MemberEntryModel.entry_key.startswith(DIRECTORY_PREFIX),
                                            consistent_read=True)
        unchanged = Path(CHANGES).does_not_exist() if changes is None else Path(CHANGES) == Value({"N": str(changes)})
        try:
            Tx().update(CounterModel(key(community_id)), [Path(VOLUNTEERS).set(Value({"N": str(volunteers)}))],
                        condition=unchanged, error=CHANGED_MEANWHILE).commit()
        except Conflict:
            continue
        return {"community_id": community_id, "volunteers": volunteers, "was": stored}
    raise CHANGED_MEANWHILE
