"""The store's invariants: ``redemption`` (the debit ``redeem#<id>`` of price × quantity, a refund iff given back,
the pickup code held for it, its queue and due keys), ``stock`` (≥ 0, its store exists), ``stock-exact`` (with
``stock_issued``: stock == issued − held) and ``allowance`` (``allow#<goods>#<user>`` == what the user holds)."""
from __future__ import annotations

from collections import defaultdict

from infra.proof.invariants.tables import _n, _raw_number

HELD = frozenset({"pending_pickup", "picked_up"})
GIVEN_BACK = frozenset({"cancelled", "expired"})


class StoreChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def store(self) -> None:
        stores = {(s.community_id, s.id) for s in self.d["stores"]}
        held: dict[str, int] = defaultdict(int)
        allowance: dict[tuple[str, str], int] = defaultdict(int)
        codes = {c.key: c for c in self.d["pickup_codes"]}
        redemptions = {r.id: r for r in self.d["redemptions"]}
        for r in self.d["redemptions"]:
            where = f"redemptions {r.id}"
            quantity, points = _n(r.quantity), _n(r.points)
            if r.status in HELD:
                held[r.goods_id] += quantity
                allowance[(r.goods_id, r.user_id)] += quantity
            elif r.status not in GIVEN_BACK:
                self.fail("redemption", where, f"unknown status {r.status!r}")
            if points != _n(r.price_points) * quantity or quantity <= 0:
                self.fail("redemption", where, f"points {points} != price {_n(r.price_points)} × quantity {quantity}")
            debit = self.entries.get((r.user_id, f"redeem#{r.id}"))
            if debit is None or _n(debit.amount) != -points:
                self.fail("redemption", where, f"debit redeem#{r.id} of {-points} on {r.user_id}'s ledger: "
                                               f"{'missing' if debit is None else _n(debit.amount)}")
            refund = self.entries.get((r.user_id, f"refund#{r.id}"))
            if r.status in GIVEN_BACK and (refund is None or _n(refund.amount) != points):
                self.fail("redemption", where, f"{r.status} but refund#{r.id} of {points}: "
                                               f"{'missing' if refund is None else _n(refund.amount)}")
            if r.status in HELD and refund is not None:
                self.fail("redemption", where, f"{r.status} and refunded too")
            code = codes.get(f"{r.community_id}#{r.pickup_code}")
            if code is None or code.redemption_id != r.id:
                self.fail("redemption", where, f"pickup code {r.pickup_code} not held for it "
                                               f"({'no item' if code is None else code.redemption_id})")
            if r.store_status != f"{r.store_id}#{r.status}":
                self.fail("redemption", where, f"store_status {r.store_status!r} for status {r.status}")
            if (r.status == "pending_pickup") != (r.due_at is not None):
                self.fail("redemption", where, f"due_at {r.due_at} for status {r.status}")
        for (kind, source), entries in self.by_source.items():
            if kind in ("redeem", "refund") and source.split(":", 1)[-1] not in redemptions:
                self.fail("redemption", f"ledger {source}", f"{kind} of a redemption that does not exist")
        for code in self.d["pickup_codes"]:
            if code.redemption_id not in redemptions:
                self.fail("redemption", f"pickup_codes {code.key}", "held for a redemption that does not exist")
        for goods in self.d["goods"]:
            where = f"goods {goods.id}"
            if _n(goods.stock) < 0:
                self.fail("stock", where, f"stock {_n(goods.stock)} < 0")
            if (goods.community_id, goods.store_id) not in stores:
                self.fail("stock", where, f"its store {goods.store_id} does not exist")
            if goods.id in self.stock_issued:
                expected = self.stock_issued[goods.id] - held.get(goods.id, 0)
                if _n(goods.stock) != expected:
                    self.fail("stock-exact", where, f"stock {_n(goods.stock)} != issued {self.stock_issued[goods.id]} "
                                                    f"- held {held.get(goods.id, 0)} = {expected}")
        counted = {}
        for key, counter in self.counters.items():
            if key.startswith("allow#"):
                _, goods_id, user_id = key.split("#", 2)
                counted[(goods_id, user_id)] = _raw_number(counter, "n")
        for key in sorted(set(counted) | set(allowance)):
            if counted.get(key, 0) != allowance.get(key, 0):
                self.fail("allowance", f"counters allow#{key[0]}#{key[1]}",
                          f"n {counted.get(key, 0)} != held (pending or picked up) {allowance.get(key, 0)}")
