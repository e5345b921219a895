"""The staff console's scan-login (扫码登录): one-time tickets and the sessions they become.

One table, two kinds of item told apart by the key's prefix:

- ``t#<ticket id>``: a login ticket. The id is public (the mini-program code's scene carries it); the console also
  holds a secret whose SHA-256 is ``secret_hash`` (polling and collecting need it, approving does not). ``waiting →
  approved (by user_id) → collected``, each step one conditional write; ``expires_at`` (2 minutes) is in every
  condition, ``ttl`` only tidies up (DynamoDB deletes expired items late).
- ``s#<SHA-256 of the cookie's value>``: a console session (8 hours). The cookie's value is never stored; the
  session is ``active`` until ``expires_at`` or until revoked (``revoked_at``, logout).
"""
from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from .base import BaseModel


class ConsoleSessionModel(BaseModel):
    TABLE = "console_sessions"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "console_sessions"

    id = UnicodeAttribute(hash_key=True)  # t#<ticket id> | s#<sha256 of the session cookie>
    # ticket: waiting | approved | collected; session: active | revoked
    status = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)  # ticket: who approved it; session: whose it is
    secret_hash = UnicodeAttribute(null=True)  # ticket: SHA-256 (hex) of the console's secret half
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # checked in every condition (TTL deletion lags by hours)
    approved_at = UTCDateTimeAttribute(null=True)
    collect_until = UTCDateTimeAttribute(null=True)  # ticket: the console may collect the session until then
    collected_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    ttl = TTLAttribute(null=True)  # when DynamoDB may delete the item (tidying only)
