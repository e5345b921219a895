"""代办记录 (the proxy log): every action staff took for a managed resident — who, for whom, what, why, when, and
the item it made. One item per action, written by the action's own transaction (``adapters/dynamo/acting``): an
action refused writes none, an action done always has one.

The community's log is one partition read newest first (``GET /v1/admin/proxy-log``, one Query a page); one
resident's entries are one partition of the sparse-free index ``by_subject`` (``?user_id=``).
"""
from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class ProxyLogBySubject(GlobalSecondaryIndex):
    """One resident's proxy actions, newest first: ``subject_key`` = ``<community>#<resident>``."""
    class Meta:
        index_name = "by_subject"
        projection = AllProjection()
    subject_key = UnicodeAttribute(hash_key=True)
    log_key = UnicodeAttribute(range_key=True)


class ProxyLogModel(BaseModel):
    TABLE = "proxy_log"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "proxy_log"

    community_id = UnicodeAttribute(hash_key=True)
    log_key = UnicodeAttribute(range_key=True)  # <UTC time, fixed-width ISO>#<id>: newest first by key
    id = UnicodeAttribute()
    subject_key = UnicodeAttribute()  # by_subject's key
    kind = UnicodeAttribute()  # domain/proxy.ProxyKind
    at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute()  # the staff member who acted
    actor_nickname = UnicodeAttribute(null=True)
    actor_role = UnicodeAttribute()  # admin | grid_worker: the grant the action was taken under
    subject_id = UnicodeAttribute()  # the managed resident acted for
    subject_name = UnicodeAttribute(null=True)  # their real name (staff only read this log)
    target_id = UnicodeAttribute(null=True)  # what it concerned: the event, the goods, the round
    result_id = UnicodeAttribute(null=True)  # what it made: the wish, the request, the redemption
    reason = UnicodeAttribute()

    by_subject = ProxyLogBySubject()


class BindingCodeModel(BaseModel):
    """绑定码: a one-time code an admin gives a managed resident, with which their own WeChat account takes the
    managed account over (``usecases/binding.py``). Only the newest code of a resident works: the resident's user
    item holds it (``binding_code``), and the bind's transaction conditions on it. ``used_by``: the WeChat account
    that bound with it (set once, in the bind's transaction)."""
    TABLE = "binding_codes"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "binding_codes"

    code = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()  # the managed resident
    community_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()  # checked in the bind's condition; TTL deletion only tidies up (it lags)
    used_by = UnicodeAttribute(null=True)
    used_at = UTCDateTimeAttribute(null=True)
