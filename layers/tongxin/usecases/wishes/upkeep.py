"""What keeps wishes moving without their author: a page of the grid worker's wish tasks, the scheduler's
escalation (吹哨) and expiry, and what 注销 does to the wishes of a leaving user."""
from __future__ import annotations

import logging
from datetime import datetime

from ... import metrics
from ...adapters.dynamo.models import WishModel
from ...adapters.dynamo.tx import Tx
from ...domain import wishes as rules
from ...domain.clock import utcnow
from ...domain.errors import DomainError, StorageBusy
from ...domain.wishes import WishStatus as S
from .lifecycle import apply, cancel_step, notify, notify_grid, release_step, status_attributes, step
from ...domain.text import DELETED_NICKNAME
from . import pages
from .reading import present

log = logging.getLogger(__name__)


# --- grid tasks -----------------------------------------------------------------------------------------

def grid_task_page(community_id: str, grid_id: str, start_key: dict | None, limit: int) -> tuple[list, dict | None]:
    """One page of the wishes that need a grid's worker (to review, or unclaimed past due 吹哨): one Query of the
    sparse index, then the wishes in one BatchGetItem; one that moved on since its entry was read is left out."""
    entries, next_key = pages.read_entries(WishModel.by_grid_task, rules.grid_task_key(community_id, grid_id),
                                           limit, start_key, keep=None)
    items = []
    for wish in pages.wishes_of(entries):
        if not rules.needs_grid_worker(S(wish.status), wish.escalated_at is not None):
            continue
        item = present(wish, contact_visible=True)
        item["task"] = "review" if wish.status == S.PENDING_REVIEW.value else "overdue"
        items.append(item)
    return items, next_key


# --- the scheduler -------------------------------------------------------------------------------------

def run_schedule(now: datetime | None = None) -> dict:
    """Escalate unclaimed wishes and expire those past their deadline. Safe to run twice: each step is
    conditioned on the due time it was selected by, and escalation messages have cause-derived keys."""
    now = now or utcnow()
    done = {"escalated": 0, "expired": 0, "skipped": 0}
    for wish in _due_wishes(now):
        action = rules.scheduled_step(S(wish.status), wish.deadline, wish.escalated_at is not None, now)
        try:
            if action == "expire":
                _expire(wish, now)
            elif action == "escalate":
                _escalate(wish, now)
            else:
                done["skipped"] += 1
                continue
            done["escalated" if action == "escalate" else "expired"] += 1
            metrics.count("wish_escalated" if action == "escalate" else "wish_expired")
        except DomainError:  # changed since selected (claimed, or another run did it)
            done["skipped"] += 1
    if done["escalated"] or done["expired"]:
        log.info("wish schedule run", extra=done)
    return done


def _due_wishes(now: datetime):
    """The wishes whose scheduled step is due, as they are now: each shard's entries (keys only), then the wishes
    by key (a hundred a BatchGetItem); one whose due time moved since its entry was read is left out, and the step
    is conditioned on the due time read."""
    for shard in range(rules.DUE_SHARDS):
        ids = [entry.id for entry in WishModel.by_due.query(f"due#{shard}", WishModel.due_at <= now)]
        for wish in pages.wishes_by_id(ids):
            if wish.due_at is not None and wish.due_at <= now:
                yield wish


def _expire(wish: WishModel, now: datetime) -> None:
    tx = Tx()
    step(tx, wish, "expire", {"expired_at": now}, now=now, also=WishModel.due_at == wish.due_at,
         error=rules.invalid_state("expire", wish.status))
    notify(tx, wish, "wish_expired", wish.author_id)
    tx.commit()


def _escalate(wish: WishModel, now: datetime) -> None:
    tx = Tx()
    apply(tx, wish, {**status_attributes(wish, S.OPEN, escalated=True), "escalated_at": now, "updated_at": now},
          condition=(WishModel.status == S.OPEN.value) & WishModel.escalated_at.does_not_exist()
          & (WishModel.due_at == wish.due_at), error=rules.invalid_state("escalate", wish.status))
    notify_grid(tx, wish, "wish_overdue")
    tx.commit()


# --- 注销 -------------------------------------------------------------------------------------------------

def forget_deleted_user(user_id: str) -> None:
    """注销: give back what the user claimed, withdraw what they asked for but nobody fulfilled yet, and erase
    their name, contact phone and address from every wish they wrote or claimed (one write per wish). A wish that
    changed meanwhile is skipped (its condition fails); a repeated DELETE finishes the job."""
    now = utcnow()
    erased_author = {"contact_phone": None, "address": None, "author_nickname": DELETED_NICKNAME}
    for wish in pages.wishes_by_id([entry.id for entry in WishModel.by_claimer.query(user_id)]):
        try:
            tx = Tx()
            if wish.status == S.CLAIMED.value:
                release_step(tx, wish, user_id, now)
            elif wish.claimer_nickname != DELETED_NICKNAME:
                apply(tx, wish, {"claimer_nickname": DELETED_NICKNAME}, condition=WishModel.claimer_id == user_id,
                      error=None)
            tx.commit()
        except StorageBusy:
            raise  # DynamoDB refused past the retries: 503, and the DELETE is called again
        except DomainError:
            log.info("claim changed during account deletion", extra={"wish_id": wish.id})
    cancellable = rules.transition("cancel")[0]
    for wish in pages.wishes_by_id([entry.id for entry in WishModel.by_author.query(user_id)]):
        try:
            tx = Tx()
            if S(wish.status) in cancellable:
                cancel_step(tx, wish, user_id, now, erased_author)
            else:
                apply(tx, wish, erased_author, condition=WishModel.author_id == user_id, error=None)
            tx.commit()
        except StorageBusy:
            raise  # DynamoDB refused past the retries: 503, and the DELETE is called again
        except DomainError:
            log.info("wish changed during account deletion", extra={"wish_id": wish.id})
