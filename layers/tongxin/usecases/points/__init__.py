"""积分: awards, the passbook and leaderboards, the store and its redemptions (docs/points.md)."""
from .awards import award, reverse
from .redemptions import get as get_redemption, list_mine as my_redemptions, pickup_qrcode, redeem, store_queue, verify
from .returns import cancel, cancel_all_pending, run_schedule
from .standing import leaderboard, member_passbook, passbook
from .store import create_goods, create_store, list_goods, list_stores, update_goods

__all__ = ["award", "cancel", "cancel_all_pending", "create_goods", "create_store", "get_redemption", "leaderboard",
           "list_goods", "list_stores", "member_passbook", "my_redemptions", "passbook", "pickup_qrcode", "redeem",
           "reverse", "run_schedule", "store_queue", "update_goods", "verify"]
