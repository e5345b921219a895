"""The member directory (成员名录): one partition per community, one item per way of finding a member.

The sort keys are ``domain/directory.entry_keys`` of the member; an item names only the member (the page's members
are then read in one BatchGetItem, so balances, minutes and names are shown as they are now, and no credit or
check-out has to rewrite a member's entries). Written in the same transaction as every change of the fields the
keys are made of (``usecases/directory.sync``).
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from .base import BaseModel


class MemberEntryModel(BaseModel):
    TABLE = "members"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "members"

    community_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)  # all#…, role#…, q#…, grid#…, gr#…, gq#… (domain/directory)
    user_id = UnicodeAttribute()
