"""Giving a redemption back (退回): the resident cancels, the day passes unclaimed (expiry, after a day-before
reminder), the account is closed (注销). Each is ONE transaction conditioned on the redemption still pending — the
stock, the allowance and the points back, once (the refund's ledger key is the redemption's)."""
from __future__ import annotations

import logging
from datetime import datetime

from ... import metrics
from ...adapters.dynamo.models import CounterModel, GoodsModel, RedemptionModel
from ...adapters.dynamo.tx import Tx
from ...domain import points as rules
from ...domain.access import Principal
from ...domain.clock import utcnow
from ...domain.errors import InvalidState, NotFound
from ...domain.text import DELETED_NICKNAME
from .. import ledger, notifications
from ..access import current_user
from .redemptions import (PENDING, REDEMPTION_NOT_FOUND, REDEMPTION_PAGE, load_visible, not_pending, present,
                          refused_by_state)
from .store import GOODS_NOT_FOUND

log = logging.getLogger(__name__)


# --- giving back: cancel, expiry, account closed ---------------------------------------------------------------

def give_back(redemption: RedemptionModel, status: str, now: datetime, answer: dict | None = None,
              first: ledger.Account | None = None) -> dict:
    """``pending_pickup → cancelled | expired``: the stock, the allowance and the points back, once (the
    transaction is conditioned on the redemption still pending; the refund's ledger key is the redemption's)."""
    stamp = {"cancelled": "cancelled_at", "expired": "expired_at"}[status]
    after = redemption.changed(status=status, store_status=f"{redemption.store_id}#{status}", updated_at=now,
                               **{stamp: now})
    if answer is None:
        answer = present(after)
    else:
        answer.update(present(after))
    quantity, points = int(redemption.quantity), int(redemption.points)

    def build(account: ledger.Account) -> Tx:
        tx = Tx()
        tx.update(RedemptionModel(redemption.id),
                  [RedemptionModel.status.set(status), RedemptionModel.store_status.set(after.store_status),
                   getattr(RedemptionModel, stamp).set(now), RedemptionModel.updated_at.set(now),
                   RedemptionModel.due_shard.remove(), RedemptionModel.due_at.remove()],
                  condition=RedemptionModel.status == PENDING, error=refused_by_state)
        tx.update(GoodsModel(redemption.goods_id), [GoodsModel.stock.add(quantity)],
                  condition=GoodsModel.id.exists(), error=GOODS_NOT_FOUND)
        tx.update(CounterModel(rules.allowance_counter(redemption.goods_id, redemption.user_id)),
                  [CounterModel.n.add(-quantity)])
        ledger.append(tx, account=account, amount=points, source_key=f"refund#{redemption.id}", kind="refund",
                      source=f"redemption:{redemption.id}",
                      note=f"{'取消' if status == 'cancelled' else '过期未领'}退回：{redemption.goods_name} × {quantity}",
                      community_id=redemption.community_id, earns=False,
                      stats={f"rd:{status}": 1, f"goods:{redemption.goods_id}": -quantity},
                      duplicate_error=not_pending(after))
        if status == "expired":
            notifications.enqueue(tx, kind="redemption_expired", recipient_id=redemption.user_id,
                                  page=REDEMPTION_PAGE.format(id=redemption.id),
                                  community_id=redemption.community_id, key=f"redemption#{redemption.id}#expired",
                                  data={"redemption_id": redemption.id, "goods": redemption.goods_name,
                                        "points": points})
        return tx

    ledger.run_with_balance(redemption.user_id, build, answer, first=first)
    metrics.count(f"redemption_{status}")  # cancelled or expired
    log.info("redemption given back", extra={"redemption_id": redemption.id, "status": status})
    return answer


def cancel(principal: Principal, redemption_id: str) -> dict:
    redemption, mine = load_visible(principal, redemption_id)
    if not mine:
        raise REDEMPTION_NOT_FOUND
    if redemption.status != PENDING:
        raise not_pending(redemption)
    return give_back(redemption, "cancelled", utcnow(), {}, first=ledger.account_of(current_user(principal)))


def cancel_all_pending(user_id: str) -> int:
    """An account closed (注销): its pending redemptions are cancelled, each in its own transaction; one a crash
    leaves behind expires on schedule. Every redemption's copied names go (the nickname becomes 已注销用户, the
    real name removed: one conditional write each, safe to repeat). One Query of ``by_user`` for both."""
    done = 0
    for redemption in RedemptionModel.by_user.query(user_id):
        if redemption.status == PENDING:
            try:
                give_back(redemption, "cancelled", utcnow())
                done += 1
            except InvalidState:  # picked up or cancelled meanwhile
                pass
        if redemption.redeemer_nickname not in (None, DELETED_NICKNAME) or redemption.redeemer_real_name:
            Tx().update(RedemptionModel(redemption.id), [RedemptionModel.redeemer_nickname.set(DELETED_NICKNAME),
                                                         RedemptionModel.redeemer_real_name.remove()],
                        condition=RedemptionModel.id.exists(), error=REDEMPTION_NOT_FOUND).commit()
    return done


def run_schedule(now: datetime | None = None) -> dict:
    """The day-before reminder, then the expiry, of each pending redemption due (sparse ``by_due`` index)."""
    now = now or utcnow()
    done = {"reminded": 0, "expired": 0, "skipped": 0}
    for shard in range(rules.DUE_SHARDS):
        for redemption in RedemptionModel.by_due.query(f"due#{shard}", RedemptionModel.due_at <= now):
            try:
                if redemption.status != PENDING:
                    done["skipped"] += 1
                elif now >= redemption.expires_at:
                    give_back(redemption, "expired", now)
                    done["expired"] += 1
                elif not redemption.reminded:
                    _remind(redemption)
                    done["reminded"] += 1
                else:
                    done["skipped"] += 1
            except (InvalidState, NotFound):  # picked up, cancelled or done by another run meanwhile
                done["skipped"] += 1
    if done["reminded"] or done["expired"]:
        log.info("redemption schedule run", extra=done)
    return done


def _remind(redemption: RedemptionModel) -> None:
    tx = Tx()
    tx.update(RedemptionModel(redemption.id),
              [RedemptionModel.reminded.set(True), RedemptionModel.due_at.set(redemption.expires_at)],
              condition=(RedemptionModel.status == PENDING) & (RedemptionModel.due_at == redemption.due_at),
              error=InvalidState())
    notifications.enqueue(tx, kind="redemption_expiring", recipient_id=redemption.user_id,
                          page=REDEMPTION_PAGE.format(id=redemption.id), community_id=redemption.community_id,
                          key=f"redemption#{redemption.id}#expiring", duplicate_error=InvalidState(),
                          data={"redemption_id": redemption.id, "goods": redemption.goods_name,
                                "expires_at": redemption.expires_at.isoformat()})
    tx.commit()
