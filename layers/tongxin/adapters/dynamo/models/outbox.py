"""Push outbox (订阅消息)."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class OutboxFanouts(GlobalSecondaryIndex):
    """Sparse: fan-out items still to expand (``fanout_key`` is removed once every message is written)."""
    class Meta:
        index_name = "by_fanout"
        projection = AllProjection()
    fanout_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OutboxRetries(GlobalSecondaryIndex):
    """Sparse, sharded: messages the sender must still look at — pending ones by the time they are due (a new one
    at once, a retried one after its backoff) and claimed ones by the end of their lease. Final ones drop out."""
    class Meta:
        index_name = "by_retry"
        projection = AllProjection()
    retry_shard = UnicodeAttribute(hash_key=True)
    next_attempt_at = UTCDateTimeAttribute(range_key=True)


class OutboxProblems(GlobalSecondaryIndex):
    """Sparse: what did not arrive, by community and outcome (``<community>#failed``), for the admins."""
    class Meta:
        index_name = "by_problem"
        projection = AllProjection()
    problem_key = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class OutboxModel(BaseModel):
    """A message to push, written in the transaction of the change that causes it; the stream feeds the sender.

    A fan-out item (``status`` ``fanout``) stands for one message to each member of an ``audience`` (everyone
    signed up for an event, a grid's workers): one item in the causing transaction, however many people."""
    TABLE = "outbox"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "outbox"
        stream_view_type = STREAM_NEW_IMAGE

    id = UnicodeAttribute(hash_key=True)
    recipient_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    data = JSONAttribute()
    page = UnicodeAttribute(null=True)
    # pending → sending (claimed, leased) → sent | skipped | failed, or back to pending; fanout → expanded
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    retry_shard = UnicodeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    lease_token = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    errcode = NumberAttribute(null=True)
    msgid = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    problem_key = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    community_id = UnicodeAttribute(null=True)
    audience = JSONAttribute(null=True)
    fanout_key = UnicodeAttribute(null=True)
    fanout_cursor = JSONAttribute(null=True)  # where the expansion got to (a re-run resumes there)
    expanded_count = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    # Set when the item becomes final (sent, skipped, failed, expanded): DynamoDB deletes it that long after
    # (domain/push.FINAL_KEPT), so the outbox holds what is moving and the recent past, not every message ever.
    expires_at = TTLAttribute(null=True)

    by_fanout = OutboxFanouts()
    by_retry = OutboxRetries()
    by_problem = OutboxProblems()
