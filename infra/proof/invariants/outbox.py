"""The outbox's invariants (``outbox``): every message final (off the sender's index) or due for retry on its own
shard, a sending one on a lease, a fan-out on the expansion index until expanded and an expanded one with at least
``expanded_count`` messages written; and ``quota`` (subscription quotas ≥ 0)."""
from __future__ import annotations

from collections import defaultdict

from infra.proof.invariants.tables import _n, _raw_number
from tongxin.domain import push as push_rules

OUTBOX_FINAL = frozenset({"sent", "skipped", "failed"})


class OutboxChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def outbox(self) -> None:
        messages = self.d["outbox"]
        children: dict[str, int] = defaultdict(int)
        fanouts = {msg.id for msg in messages if msg.status in ("fanout", "expanded")}
        for msg in messages:
            parent, _, person = msg.id.rpartition("#")
            if parent in fanouts and person == msg.recipient_id and parent != msg.id:
                children[parent] += 1
        for msg in messages:
            where = f"outbox {msg.id}"
            status = msg.status
            on_retry_index = msg.retry_shard is not None or msg.next_attempt_at is not None
            if status in OUTBOX_FINAL:
                if on_retry_index or msg.lease_token is not None:
                    self.fail("outbox", where, f"{status} but still on the sender's index or leased")
                if status == "sent" and msg.sent_at is None:
                    self.fail("outbox", where, "sent without sent_at")
            elif status in ("pending", "sending"):
                if msg.next_attempt_at is None or msg.retry_shard != push_rules.retry_shard(msg.id):
                    self.fail("outbox", where, f"{status} and not due for retry: next_attempt_at "
                                               f"{msg.next_attempt_at}, retry_shard {msg.retry_shard!r} (a message "
                                               "stuck)")
                if status == "sending" and (msg.lease_until is None or msg.lease_token is None):
                    self.fail("outbox", where, "sending without a lease")
            elif status == "fanout":
                if msg.fanout_key != "pending" or not msg.audience:
                    written = children.get(msg.id, 0)
                    self.fail("outbox", where, f"a fan-out off the expansion index (fanout_key {msg.fanout_key!r}): "
                                               f"never expanded or resumed ({written} messages written, cursor "
                                               f"{msg.fanout_cursor})")
            elif status == "expanded":
                if msg.fanout_key is not None:
                    self.fail("outbox", where, "expanded but still on the expansion index")
                if children.get(msg.id, 0) < _n(msg.expanded_count):
                    self.fail("outbox", where, f"expanded_count {_n(msg.expanded_count)} but "
                                               f"{children.get(msg.id, 0)} messages written")
            else:
                self.fail("outbox", where, f"unknown status {status!r}")
        for key, counter in self.counters.items():
            if key.startswith("quota#") and _raw_number(counter, "n") < 0:
                self.fail("quota", f"counters {key}", f"n {_raw_number(counter, 'n')} < 0")
