"""微星光 commendations (表彰): commend, list, revoke, and the month's candidates from the leaderboards.

Every change is ONE transaction whose conditions carry the rule (domain/commendations.py has the keys):

- **commend** (an admin of the community): the admin's grant re-checked (``guards.check_grant``), the commendation's
  Put, the natural key's Put (``attribute_not_exists`` → 409 ALREADY_COMMENDED), the period's count ``+1``, and the
  person's user item: ``commendations_count + 1`` and ``latest_commendation`` set, conditioned on the person being
  an active member of the admin's community — a person who left (or was erased) between the read that named them
  and the write is 404 by that condition, not by the read.
- **revoke** (an admin of the community, with a reason): the commendation ``active`` → ``revoked`` (its index keys
  removed: it leaves both lists), the natural key's Delete (it may be given again), the period's count ``-1``, and
  the person's ``commendations_count - 1``. When the revoked one is the person's ``latest_commendation`` it is
  replaced by the next standing one (one Query of ``by_person``, newest first, 2 items), conditioned on
  ``latest_commendation.id`` being what that Query implied; if the user item says otherwise (the index lags a
  moment), the other form is tried — at most ``MAX_ROUNDS`` rounds.
- Lists: one Query a page on a sparse index (``by_community`` or ``by_person``), newest first; names masked for
  members (``张**``), whole for the community's admins and for oneself; title and story in full.
- Candidates: the month's community boards of points and minutes (``scores.by_score``: two Queries of ≤ 20) and ONE
  BatchGetItem of the people and their ``commended#…#<month>`` counts — O(20), no Scan.
"""
from __future__ import annotations

import logging
from typing import Any

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import ROLE_CHANGED, check_grant, grant_condition
from ..adapters.dynamo.models import CommendationModel, CounterModel, ScoreModel, UserModel
from ..adapters.dynamo.models.commendations import LatestCommendation
from ..adapters.dynamo.tx import Tx
from ..domain import commendations as rules
from ..domain import points as point_rules
from ..domain.access import Principal, Role, require_member, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import DomainError, StorageBusy
from ..domain.ids import new_id
from ..domain.masking import mask_name
from ..domain.text import DEFAULT_NICKNAME, DELETED_NICKNAME
from ..wiring import Container
from . import paging
from .access import current_user
from .content import Scene, check as content_check

log = logging.getLogger(__name__)

MAX_ROUNDS = 3
OVERREAD = 10  # a departed member's score stays on the month's board (a closed account's goes at 注销): read a few more


class _Rebuild(Exception):
    """The person's ``latest_commendation`` is not what the revocation's Query implied: try the other form."""


# --- presenting ------------------------------------------------------------------------------------------------

def present(item: CommendationModel, *, unmasked: bool, admin: bool = False) -> dict:
    nickname = item.user_nickname or DEFAULT_NICKNAME
    whole = unmasked or nickname == DELETED_NICKNAME  # the placeholder names nobody
    answer = {"id": item.id, "community_id": item.community_id,
              "user": {"id": item.user_id, "nickname": nickname if whole else mask_name(nickname)},
              "title": item.title, "story": item.story, "period": item.period, "status": item.status,
              "created_at": to_api(item.created_at), "revoked_at": to_api(item.revoked_at)}
    if admin:  # who commended and why it was revoked: the admins' business
        answer["commended_by"] = {"id": item.commended_by,
                                  "nickname": item.commended_by_nickname or DEFAULT_NICKNAME}
        answer["revoke_reason"] = item.revoke_reason
    else:
        answer["commended_by"] = None
        answer["revoke_reason"] = None
    return answer


def present_latest(user: UserModel) -> dict | None:
    """The profile's view of the person's newest standing commendation (``GET /v1/me``)."""
    latest = user.latest_commendation
    if latest is None or not int(user.commendations_count or 0):
        return None
    return {"id": latest.id, "title": latest.title, "period": latest.period, "created_at": to_api(latest.created_at)}


def _is_admin(principal: Principal, community_id: str) -> bool:
    return principal.community_id == community_id and principal.has(Role.ADMIN)


# --- commending ---------------------------------------------------------------------------------------------------

def _person_condition(community_id: str):
    return (UserModel.status == "active") & (UserModel.community_id == community_id)


def commend(container: Container, principal: Principal, *, user_id: str, title: str, story: str,
            period: str) -> dict:
    """An admin commends a member of their community (201): ONE transaction (see the module's note). 404 for
    someone who is not (or no longer) a member, 409 ALREADY_COMMENDED, SELF_COMMENDATION; title and story pass
    WeChat's content check (the community reads them)."""
    grant = require_role(principal, Role.ADMIN)
    now = utcnow()
    rules.parse_period(period, now)
    if user_id == principal.user_id:
        raise rules.SELF_COMMENDATION
    person, = batch.get_many((UserModel, user_id))
    if person is None or person.status != "active" or person.community_id != grant.community_id:
        raise rules.PERSON_NOT_FOUND
    admin = current_user(principal)
    content_check(container, admin, title, story, scene=Scene.FORUM, what="commendation")
    community_id = grant.community_id
    item = CommendationModel(new_id("cmd"), community_id=community_id, user_id=person.id,
                             user_nickname=person.nickname or DEFAULT_NICKNAME, title=title, story=story,
                             period=period, status=rules.ACTIVE, listed_community=community_id,
                             listed_person=rules.person_key(community_id, person.id), commended_by=admin.id,
                             commended_by_nickname=admin.nickname or DEFAULT_NICKNAME, created_at=now)
    latest = LatestCommendation(id=item.id, title=title, period=period, created_at=now)
    answer = present(item, unmasked=True, admin=True)
    tx = check_grant(Tx(), grant)
    tx.put(item, condition=CommendationModel.id.does_not_exist())
    tx.put(CounterModel(rules.key_of(community_id, person.id, period, title), n=1),
           condition=CounterModel.key.does_not_exist(), error=rules.ALREADY_COMMENDED)
    tx.update(CounterModel(rules.period_counter(community_id, person.id, period)), [CounterModel.n.add(1)])
    tx.update(UserModel(person.id), [UserModel.commendations_count.add(1), UserModel.latest_commendation.set(latest)],
              condition=_person_condition(community_id), error=rules.PERSON_NOT_FOUND)
    tx.commit(answer)
    metrics.count("commendation_given")
    log.info("commendation given", extra={"commendation_id": item.id, "user_id": person.id})
    return answer


# --- reading ----------------------------------------------------------------------------------------------------

def list_commendations(principal: Principal, *, user_id: str | None, limit: int, cursor: str | None) -> dict:
    """The community's standing commendations (or one member's, ``user_id``), newest first: ONE Query a page."""
    community_id = require_member(principal)
    admin = _is_admin(principal, community_id)
    if user_id is None:
        def query(**kwargs):
            return CommendationModel.by_community.query(community_id, scan_index_forward=False, **kwargs)
        scope = f"commendations:{community_id}"
    else:
        key = rules.person_key(community_id, user_id)

        def query(**kwargs):
            return CommendationModel.by_person.query(key, scan_index_forward=False, **kwargs)
        scope = f"commendations:{key}"

    def present_page(items: list[CommendationModel]) -> list[dict]:
        return [present(item, unmasked=admin or item.user_id == principal.user_id, admin=admin) for item in items]

    return paging.page(query, limit, cursor, present_page, scope=scope, model=CommendationModel)


# --- revoking ---------------------------------------------------------------------------------------------------

def _next_latest(item: CommendationModel) -> tuple[bool, CommendationModel | None]:
    """Whether ``item`` is the person's newest standing commendation as the index shows it, and the one after it."""
    results = CommendationModel.by_person.query(item.listed_person, scan_index_forward=False, limit=2, page_size=2)
    newest = list(results)
    others = [c for c in newest if c.id != item.id]
    is_newest = bool(newest) and newest[0].id == item.id
    return is_newest, (others[0] if others else None)


def revoke(principal: Principal, commendation_id: str, *, reason: str) -> dict:
    """An admin revokes a standing commendation of their community: ONE transaction (see the module's note). 404
    for another community's, 409 INVALID_STATE when already revoked."""
    require_role(principal, Role.ADMIN)  # a non-admin is told 403 whatever the commendation
    item, = batch.get_many((CommendationModel, commendation_id))
    if item is None or item.community_id != principal.community_id:
        raise rules.COMMENDATION_NOT_FOUND
    grant = require_role(principal, Role.ADMIN, community_id=item.community_id)
    if item.status != rules.ACTIVE:
        raise rules.ALREADY_REVOKED
    now = utcnow()
    is_newest, following = _next_latest(item)
    after = item.changed(status=rules.REVOKED, revoked_at=now, revoked_by=principal.user_id, revoke_reason=reason,
                         listed_community=None, listed_person=None)
    answer = present(after, unmasked=True, admin=True)

    def refused(current: CommendationModel | None):
        return rules.COMMENDATION_NOT_FOUND if current is None else rules.ALREADY_REVOKED

    for _ in range(MAX_ROUNDS):
        tx = Tx()
        self_revoke = item.user_id == grant.user_id  # one item, one operation: the grant joins the person's update
        if not self_revoke:
            check_grant(tx, grant)
        tx.update(CommendationModel(item.id), [
            CommendationModel.status.set(rules.REVOKED), CommendationModel.revoked_at.set(now),
            CommendationModel.revoked_by.set(principal.user_id), CommendationModel.revoke_reason.set(reason),
            CommendationModel.listed_community.remove(), CommendationModel.listed_person.remove(),
        ], condition=(CommendationModel.status == rules.ACTIVE) & (CommendationModel.community_id == item.community_id),
            error=refused)
        tx.delete(CounterModel(rules.key_of(item.community_id, item.user_id, item.period, item.title)))
        tx.update(CounterModel(rules.period_counter(item.community_id, item.user_id, item.period)),
                  [CounterModel.n.add(-1)], condition=CounterModel.n > 0)
        actions: list[Any] = [UserModel.commendations_count.add(-1)]
        if is_newest:
            condition = UserModel.latest_commendation.id == item.id
            if following is None:
                actions.append(UserModel.latest_commendation.remove())
            else:
                actions.append(UserModel.latest_commendation.set(LatestCommendation(
                    id=following.id, title=following.title, period=following.period,
                    created_at=following.created_at)))
        else:
            condition = UserModel.latest_commendation.does_not_exist() | (UserModel.latest_commendation.id != item.id)
        condition &= UserModel.commendations_count > 0
        if self_revoke:
            condition &= grant_condition(grant)

        def classify(current: UserModel | None, self_revoke=self_revoke):
            if self_revoke and (current is None or current.status != "active"
                                or current.community_id != grant.community_id
                                or Role.ADMIN.value not in (current.roles or ())):
                return ROLE_CHANGED
            raise _Rebuild()
        tx.update(UserModel(item.user_id), actions, condition=condition, error=classify)
        try:
            tx.commit(answer)
        except _Rebuild:
            if is_newest:
                is_newest = False
            else:
                is_newest, following = True, _next_latest(item)[1]
            continue
        metrics.count("commendation_revoked")
        log.info("commendation revoked", extra={"commendation_id": item.id})
        return answer
    raise StorageBusy()


# --- candidates ---------------------------------------------------------------------------------------------------

def candidates(principal: Principal, *, month: str) -> dict:
    """The month's top ``CANDIDATES`` by points earned and by volunteering minutes in the admin's community, each
    with whether they stand commended for that month: two Queries of the month's boards and ONE BatchGetItem."""
    grant = require_role(principal, Role.ADMIN)
    now = utcnow()
    rules.parse_period(month, now, field="month", months_only=True)
    community_id = grant.community_id
    at = rules.month_anchor(month)
    tops: dict[str, list[tuple[str, int]]] = {}
    for metric in point_rules.METRICS:
        board = point_rules.board(metric, "community", community_id, "month", at)
        tops[metric] = [(s.user_id, int(s.score)) for s in ScoreModel.by_score.query(
            board, ScoreModel.score > 0, scan_index_forward=False, limit=rules.CANDIDATES + OVERREAD,
            page_size=rules.CANDIDATES + OVERREAD)]
    people = sorted({user_id for top in tops.values() for user_id, _ in top})
    counters = [(CounterModel, rules.period_counter(community_id, user_id, month)) for user_id in people]
    found = batch.get_many(*[(UserModel, user_id) for user_id in people], *counters) if people else []
    users = {user_id: user for user_id, user in zip(people, found[:len(people)])}
    counts = {user_id: counter for user_id, counter in zip(people, found[len(people):])}

    def ranked(top: list[tuple[str, int]]) -> list[dict]:
        shown = [(user_id, score) for user_id, score in top
                 if users.get(user_id) is not None and users[user_id].status == "active"
                 and users[user_id].community_id == community_id][:rules.CANDIDATES]
        return [{"rank": rank, "user": {"id": user_id, "nickname": users[user_id].nickname or DEFAULT_NICKNAME},
                 "score": score, "commended": bool(counts.get(user_id) is not None and int(counts[user_id].n or 0) > 0)}
                for rank, user_id, score in point_rules.ranked(shown)]

    return {"month": month, "points": ranked(tops["points"]), "minutes": ranked(tops["minutes"])}


# --- 注销 ---------------------------------------------------------------------------------------------------------------

def forget_deleted_user(user: UserModel) -> None:
    """注销 (``account_deletion``): the person's standing commendations stay (an honour that happened) under
    已注销用户 — the copied nickname replaced. One Query of ``by_person`` a page, one conditional write per
    commendation; safe to repeat. Outside the account's closing transaction, like the other release steps."""
    if not user.community_id:
        return
    for item in CommendationModel.by_person.query(rules.person_key(user.community_id, user.id), page_size=100):
        if item.user_nickname == DELETED_NICKNAME:
            continue
        try:
            Tx().update(CommendationModel(item.id), [CommendationModel.user_nickname.set(DELETED_NICKNAME)],
                        condition=CommendationModel.id.exists(), error=rules.COMMENDATION_NOT_FOUND).commit()
        except DomainError:
            continue  # gone meanwhile: nothing left to erase
