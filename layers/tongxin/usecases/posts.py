"""Posts (三张清单's 岗位/需求清单) and claiming them (领岗): publish, list, read, claim, withdraw, close.

Every change is ONE transaction whose conditions carry the rule:

- **claim**: the claim's Put (``attribute_not_exists``: one per person and post → 409 ALREADY_CLAIMED), the post's
  ``ADD claimed_count 1`` conditioned on the headcount and on ``open`` and not past due, the claimer's grant
  re-checked (``guards.check_grant``; a liaison's unit agreement with the community checked too), and the member's
  service record (``service_record.add``, kind ``post``). The headcount is fixed at publication, so the condition
  names it as a value: a claim that does not take the last place is ``claimed_count < headcount − 1`` (claims of
  that kind commute: a burst of them never rebuilds), the one that does is ``claimed_count = headcount − 1`` and also
  sets ``full`` and writes the admins' ``post_full`` fan-out. Which of the two is attempted follows the count read;
  when the count crossed the boundary in between, the failed condition's item (as it stood, no extra read) says so
  and the other form is tried — at most ``MAX_ROUNDS`` rounds, each a new transaction. The answer is the post as read
  with the claim applied: exact for the claim that takes the last place (its condition named the count), a lower
  bound of ``claimed_count`` for a claim that raced others (an ADD returns nothing in a transaction).
- **withdraw** (the claimant, before the due date, not on a closed post): the claim's Delete (it must exist), the
  post's ``ADD claimed_count -1`` with ``status = open`` (a full post has a place again), and the service record's
  ``post`` service taken back in the quarter it was counted (``service_record.correct``): a post given back is not a
  service.
- **close** (the community's admin): ``open|full`` → ``closed``; the claims stay (they served).

A failed condition is classified from the post as it stood (``ReturnValuesOnConditionCheckFailure``): 404, 409
INVALID_STATE (closed, past due), 409 POST_FULL.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_active, check_grant
from ..adapters.dynamo.models import PostClaimModel, PostModel, UnitAgreementModel
from ..adapters.dynamo.tx import Tx
from ..domain import posts as rules
from ..domain import units as unit_rules
from ..domain.access import Grant, Principal, Role, require_role, require_unit
from ..domain.clock import to_api, utcnow
from ..domain.errors import DomainError, Forbidden, NotInCommunity, StorageBusy, ValidationFailed
from ..domain.ids import new_id
from ..domain.masking import mask_name
from ..wiring import Container
from . import notifications, paging, service_record
from .access import current_user
from .content import Scene, check as content_check
from ..domain.text import DEFAULT_NICKNAME, DELETED_NICKNAME

log = logging.getLogger(__name__)

POST_PAGE = "pages/post/detail?id={id}"
MAX_ROUNDS = 5
NO_AGREEMENT = Forbidden("您的单位与该社区没有有效的共建协议，不能认领这个岗位")
CLAIMANTS_MAX = rules.HEADCOUNT_MAX  # a post's claims fit one Query page


class _Rebuild(Exception):
    """The post's count crossed the headcount boundary between the read and the write: try the other form."""

    def __init__(self, post: PostModel) -> None:
        super().__init__("rebuild")
        self.post = post


# --- presenting ------------------------------------------------------------------------------------------------

def present(post: PostModel, *, mine: bool, now: datetime | None = None) -> dict:
    now = now or utcnow()
    claimed = int(post.claimed_count or 0)
    return {"id": post.id, "community_id": post.community_id, "title": post.title, "description": post.description,
            "skills": list(post.skills or []), "headcount": int(post.headcount), "claimed_count": claimed,
            "places_left": max(0, int(post.headcount) - claimed), "status": post.status, "due": to_api(post.due),
            "past_due": rules.past_due(post.due, now),
            "created_by": {"id": post.created_by, "nickname": post.created_by_nickname or DEFAULT_NICKNAME},
            "created_at": to_api(post.created_at), "mine": mine}


def present_claim(claim: PostClaimModel, *, unmasked: bool) -> dict:
    nickname = claim.nickname or DEFAULT_NICKNAME
    return {"user": {"id": claim.user_id, "nickname": nickname if unmasked else mask_name(nickname)},
            "role": claim.role, "unit_id": claim.unit_id, "claimed_at": to_api(claim.claimed_at)}


# --- who may read a community's posts ----------------------------------------------------------------------------

def _agreed_units(principal: Principal, community_id: str, now: datetime) -> list[str]:
    """The caller's units whose co-building agreement with ``community_id`` is in force (one BatchGetItem)."""
    if not principal.has(Role.UNIT_LIAISON) or not principal.unit_ids:
        return []
    units = sorted(principal.unit_ids)[:batch.MAX_KEYS]
    found = batch.get_many(*[(UnitAgreementModel, unit, community_id) for unit in units])
    return [unit for unit, agreement in zip(units, found)
            if agreement is not None and unit_rules.is_valid(agreement.valid_until, now)]


def _may_read(principal: Principal, community_id: str, now: datetime) -> bool:
    """A member of the community, or the liaison of a unit that co-builds with it."""
    return principal.community_id == community_id or bool(_agreed_units(principal, community_id, now))


def _require_someone(principal: Principal) -> None:
    """Posts are community data: a caller in no community who acts for no unit has joined nothing yet (409)."""
    if not principal.community_id and not principal.has(Role.UNIT_LIAISON):
        raise NotInCommunity()


def _is_admin_of(principal: Principal, community_id: str) -> bool:
    return principal.community_id == community_id and principal.has(Role.ADMIN)


# --- publishing -------------------------------------------------------------------------------------------------

def publish(container: Container, principal: Principal, *, title: str, description: str, skills: list[str],
            headcount: int, due: datetime | None) -> dict:
    """The community's admin publishes a post (201). Title, description and skills pass WeChat's content check
    (the community reads them)."""
    grant = require_role(principal, Role.ADMIN)
    now = utcnow()
    rules.check_due(due, now)
    skills = rules.clean_skills(skills)
    author = current_user(principal)
    content_check(container, author, title, description, "、".join(skills), scene=Scene.FORUM, what="post")
    post = PostModel(new_id("pst"), community_id=grant.community_id, title=title, description=description,
                     skills=skills, headcount=headcount, claimed_count=0, due=due, status=rules.OPEN,
                     status_key=rules.status_key(grant.community_id, rules.OPEN), created_by=author.id,
                     created_by_nickname=author.nickname or DEFAULT_NICKNAME, created_at=now, updated_at=now)
    answer = present(post, mine=False, now=now)
    check_grant(Tx(), grant).put(post, condition=PostModel.id.does_not_exist()).commit(answer)
    metrics.count("post_published")
    log.info("post published", extra={"post_id": post.id, "headcount": headcount})
    return answer


# --- reading ----------------------------------------------------------------------------------------------------

def list_posts(principal: Principal, *, community_id: str | None, status: str | None, limit: int,
               cursor: str | None) -> dict:
    """A community's posts, newest first: ONE Query a page (``by_community``, or ``by_community_status`` for a
    status), then ONE BatchGetItem of the caller's claims of the page's posts (``mine``)."""
    now = utcnow()
    if community_id is None:
        if not principal.community_id:
            raise NotInCommunity()
        community_id = principal.community_id
    elif not _may_read(principal, community_id, now):
        raise Forbidden("只有本社区成员和共建单位联络员可以查看岗位")
    if status is None:
        def query(**kwargs):
            return PostModel.by_community.query(community_id, scan_index_forward=False, **kwargs)
        scope = f"posts:{community_id}"
    else:
        key = rules.status_key(community_id, status)

        def query(**kwargs):
            return PostModel.by_community_status.query(key, scan_index_forward=False, **kwargs)
        scope = f"posts:{key}"

    def present_page(items: list[PostModel]) -> list[dict]:
        claims = batch.get_many(*[(PostClaimModel, p.id, principal.user_id) for p in items]) if items else []
        return [present(p, mine=claim is not None, now=now) for p, claim in zip(items, claims)]

    return paging.page(query, limit, cursor, present_page, scope=scope, model=PostModel)


def _load(post_id: str) -> PostModel:
    post, = batch.get_many((PostModel, post_id))
    if post is None:
        raise rules.POST_NOT_FOUND
    return post


def get(principal: Principal, post_id: str) -> dict:
    """One post with its claimants (one Query, ≤ 100 items): names masked for members, whole for the community's
    admins. Another community's post is 404, unless the caller's unit co-builds with it."""
    _require_someone(principal)
    now = utcnow()
    post = _load(post_id)
    if not _may_read(principal, post.community_id, now):
        raise rules.POST_NOT_FOUND
    claims = [PostClaimModel.from_raw_data(raw) for raw in _claims_raw(post.id)]
    unmasked = _is_admin_of(principal, post.community_id)
    answer = present(post, mine=any(c.user_id == principal.user_id for c in claims), now=now)
    answer["claimants"] = [present_claim(c, unmasked=unmasked or c.user_id == principal.user_id)
                           for c in sorted(claims, key=lambda c: c.claimed_at)]
    return answer


def _claims_raw(post_id: str) -> list[dict]:
    results = PostClaimModel.query(post_id, page_size=CLAIMANTS_MAX, consistent_read=True)
    raw = next(results.page_iter, None) or {}
    return raw.get("Items", [])


# --- claiming ---------------------------------------------------------------------------------------------------

def _claimer_grant(principal: Principal, post: PostModel, unit_id: str | None) -> Grant:
    """A party member of the post's community (unless a unit is named), else the liaison of the unit named or of
    their only unit."""
    if unit_id is None and principal.community_id == post.community_id and principal.has(Role.PARTY_MEMBER):
        return require_role(principal, Role.PARTY_MEMBER, community_id=post.community_id)
    if not principal.has(Role.UNIT_LIAISON):
        if principal.community_id != post.community_id:
            raise rules.POST_NOT_FOUND  # another community's post is not even acknowledged
        raise Forbidden("只有本社区党员或共建单位联络员可以认领岗位")
    if unit_id is None:
        if len(principal.unit_ids) != 1:
            raise ValidationFailed("您是多个单位的联络员，请指明以哪个单位认领", details={"field": "unit_id"})
        unit_id = next(iter(principal.unit_ids))
    return require_unit(principal, unit_id)


def _claim_error(now: datetime):
    def classify(current: PostModel | None):
        refusal = rules.claim_refusal(current.status if current else None, int(current.claimed_count or 0)
                                      if current else 0, int(current.headcount) if current else 0,
                                      current.due if current else None, now)
        if refusal is None:
            raise _Rebuild(current)
        return refusal
    return classify


def claim(principal: Principal, post_id: str, *, unit_id: str | None = None) -> dict:
    """领岗: ONE transaction (see the module's note). 409 ALREADY_CLAIMED, POST_FULL, INVALID_STATE (closed, past
    due); 403 for a role that may not claim (or lost in between: the grant's re-check), 404 another community's."""
    _require_someone(principal)
    post, existing = batch.get_many((PostModel, post_id), (PostClaimModel, post_id, principal.user_id))
    if post is None:
        raise rules.POST_NOT_FOUND
    grant = _claimer_grant(principal, post, unit_id)
    now = utcnow()
    if existing is not None:
        raise rules.ALREADY_CLAIMED
    refusal = rules.claim_refusal(post.status, int(post.claimed_count or 0), int(post.headcount), post.due, now)
    if refusal is not None:
        raise refusal
    user = current_user(principal)
    claim_item = PostClaimModel(post.id, user.id, community_id=post.community_id,
                                nickname=user.nickname or DEFAULT_NICKNAME, role=grant.role, unit_id=grant.unit_id,
                                claimed_at=now)
    for _ in range(MAX_ROUNDS):
        headcount, before = int(post.headcount), int(post.claimed_count or 0)
        status = rules.status_after_claim(before, headcount)
        tx = check_grant(Tx(), grant)
        if grant.unit_id is not None:
            tx.check(UnitAgreementModel, grant.unit_id, post.community_id, error=NO_AGREEMENT,
                     condition=UnitAgreementModel.unit_id.exists()
                     & (UnitAgreementModel.valid_until >= unit_rules.today_key(now)))
        tx.put(claim_item, condition=PostClaimModel.user_id.does_not_exist(), error=rules.ALREADY_CLAIMED)
        condition = (PostModel.status == rules.OPEN) & (PostModel.headcount == headcount) \
            & (PostModel.community_id == post.community_id)
        if post.due is not None:
            condition &= PostModel.due > now
        actions: list[Any] = [PostModel.claimed_count.add(1), PostModel.updated_at.set(now)]
        if status == rules.FULL:
            condition &= PostModel.claimed_count == headcount - 1
            actions += [PostModel.status.set(rules.FULL),
                        PostModel.status_key.set(rules.status_key(post.community_id, rules.FULL))]
            notifications.fan_out(
                tx, key=f"post#{post.id}#full#{user.id}#{int(now.timestamp() * 1000)}", kind="post_full",
                audience=notifications.community_admins_audience(post.community_id),
                data={"post_id": post.id, "title": post.title, "headcount": headcount},
                page=POST_PAGE.format(id=post.id), community_id=post.community_id)
        else:
            condition &= PostModel.claimed_count < headcount - 1
        tx.update(PostModel(post.id), actions, condition=condition, error=_claim_error(now))
        service_record.add(tx, user_id=user.id, community_id=post.community_id, at=now, kind="post")
        after = post.changed(claimed_count=before + 1, status=status, updated_at=now)
        answer = present(after, mine=True, now=now)
        try:
            tx.commit(answer)
        except _Rebuild as rebuild:
            post = rebuild.post
            continue
        metrics.count("post_claimed")
        log.info("post claimed", extra={"post_id": post.id, "role": grant.role, "status": status})
        return answer
    raise rules.POST_FULL if int(post.claimed_count or 0) >= int(post.headcount) else StorageBusy()


def withdraw(principal: Principal, post_id: str) -> dict:
    """The claimant gives the post back before its due date (not once it is closed): ONE transaction — the claim's
    Delete, the place freed (a full post is open again), the ``post`` service taken back from the quarter it was
    counted in. 409 INVALID_STATE when they hold no claim, the post is closed or past due. A claim is the person's:
    one whose liaison role was taken away by the street (they may be in no community) still gives it back."""
    post, existing = batch.get_many((PostModel, post_id), (PostClaimModel, post_id, principal.user_id))
    if existing is None:
        _require_someone(principal)
    if post is None or (existing is None and not _may_read(principal, post.community_id, utcnow())):
        raise rules.POST_NOT_FOUND
    if existing is None:
        raise rules.NOT_CLAIMED
    now = utcnow()
    refusal = rules.withdraw_refusal(post.status, post.due, now)
    if refusal is not None:
        raise refusal
    tx = _release(check_active(Tx(), principal.user_id), post, existing, now)
    after = post.changed(claimed_count=max(0, int(post.claimed_count or 0) - 1), status=rules.OPEN, updated_at=now)
    answer = present(after, mine=False, now=now)
    tx.commit(answer)
    metrics.count("post_withdrawn")
    log.info("post withdrawn", extra={"post_id": post.id})
    return answer


def _release(tx: Tx, post: PostModel, claim: PostClaimModel, now: datetime) -> Tx:
    """A claim given back, in ``tx``: the claim's Delete (it must exist), the place freed (a full post is open
    again; conditioned on the post being open or full and not past due), the ``post`` service taken back from the
    quarter it was counted in. Used by the withdrawal and by 注销."""
    tx.delete(PostClaimModel(post.id, claim.user_id), condition=PostClaimModel.user_id.exists(),
              error=rules.NOT_CLAIMED)
    condition = PostModel.status.is_in(rules.OPEN, rules.FULL) & (PostModel.claimed_count > 0)
    if post.due is not None:
        condition &= PostModel.due > now

    def classify(current: PostModel | None):
        return rules.withdraw_refusal(current.status if current else None, current.due if current else None,
                                      now) or rules.NOT_CLAIMED
    tx.update(PostModel(post.id), [PostModel.claimed_count.add(-1), PostModel.status.set(rules.OPEN),
                                   PostModel.status_key.set(rules.status_key(post.community_id, rules.OPEN)),
                                   PostModel.updated_at.set(now)], condition=condition, error=classify)
    service_record.correct(tx, user_id=claim.user_id, at=claim.claimed_at, kind="post", services=-1,
                           community_id=post.community_id)
    return tx


def release_on_deletion(user_id: str) -> None:
    """注销 (``account_deletion``): every claim the person still holds on an open or full post before its due
    date is given back as a withdrawal gives it back (the count −1, a full post open again, the service taken
    back), each in its own transaction; a claim on a closed or past-due post stays (it served, the count is the
    post's history) with the name replaced by 已注销用户. Reads: one Query of ``post_claims.by_user`` a page and one
    BatchGetItem of the page's posts.

    Why not inside the account's closing transaction: each release is 3 items (claim, post, service record) and a
    person's claims are unbounded, while that transaction already holds the user, the identity, their grids,
    streets, units and directory entries — it would pass DynamoDB's 100-item limit. So, like the other release
    steps of ``delete_me``, each is its own conditional write, safe to repeat: a DELETE that failed half-way is
    completed by calling it again (a released claim is gone from the index; an erased name is erased again).
    A post closed or past due between the read and the write refuses the release; its claim is then kept and
    only the name erased. The index is eventually consistent: a claim made an instant before the DELETE may be
    missed by it (it then stays, under the account's opaque id, and the claim's nickname is what was copied)."""
    now = utcnow()
    for page in _pages(lambda **kw: PostClaimModel.by_user.query(user_id, **kw)):
        posts = batch.get_many(*[(PostModel, claim.post_id) for claim in page])
        for claim, post in zip(page, posts):
            if post is not None and rules.withdraw_refusal(post.status, post.due, now) is None:
                try:
                    _release(Tx(), post, claim, now).commit()
                    continue
                except DomainError:  # closed, past due or already released meanwhile: keep it, erase the name
                    pass
            try:
                Tx().update(PostClaimModel(claim.post_id, user_id), [PostClaimModel.nickname.set(DELETED_NICKNAME)],
                            condition=PostClaimModel.user_id.exists(), error=rules.NOT_CLAIMED).commit()
            except DomainError:
                continue  # released meanwhile


def _pages(query, size: int = batch.MAX_KEYS):
    """The query's items in lists of ``size``, one Query call each (a list's posts are one BatchGetItem)."""
    chunk: list = []
    for item in query(page_size=size):
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def close(principal: Principal, post_id: str) -> dict:
    """The community's admin closes a post (``open|full`` → ``closed``): no more claims or withdrawals; the claims
    stay. 409 INVALID_STATE when already closed; another community's post 404."""
    require_role(principal, Role.ADMIN)  # a non-admin is told 403 whatever the post
    post, mine = batch.get_many((PostModel, post_id), (PostClaimModel, post_id, principal.user_id))
    if post is None or principal.community_id != post.community_id:
        raise rules.POST_NOT_FOUND  # an admin elsewhere
    grant = require_role(principal, Role.ADMIN, community_id=post.community_id)
    if post.status == rules.CLOSED:
        raise rules.CLOSED_POST
    now = utcnow()

    def classify(current: PostModel | None):
        return rules.POST_NOT_FOUND if current is None else rules.CLOSED_POST
    after = post.changed(status=rules.CLOSED, closed_at=now, updated_at=now)
    answer = present(after, mine=mine is not None, now=now)
    check_grant(Tx(), grant).update(
        PostModel(post.id), [PostModel.status.set(rules.CLOSED),
                             PostModel.status_key.set(rules.status_key(post.community_id, rules.CLOSED)),
                             PostModel.closed_at.set(now), PostModel.updated_at.set(now)],
        condition=PostModel.status.is_in(rules.OPEN, rules.FULL), error=classify).commit(answer)
    log.info("post closed", extra={"post_id": post.id})
    return answer
