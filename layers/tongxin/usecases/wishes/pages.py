"""A page of wishes: index entries (keys, and what the filters test), then the wishes themselves by key in ONE
BatchGetItem.

A list whose index key is the whole filter reads ``limit`` entries in one Query. A list that also filters (a grid
or a category, the caller's visibility) reads on: a first look, then as many entries as its match rate says the page
still needs, then the rest of the budget, each entry tested on the attributes the index carries, until the page is
full or the partition ends — at most 4 × ``limit`` + 4,000 entries (~130 bytes each: ≤ 0.6 MB, ≤ 75 RRU eventually
consistent) in 3 Queries. Only when fewer than ``limit`` matches lie within that many entries is a page short (even
empty), with a cursor just past the last entry read.

The cursor is the key of the last entry the page consumed (a match when the page filled, else DynamoDB's
LastEvaluatedKey), signed for its list (usecases/paging.py).
"""
from __future__ import annotations

from typing import Callable

from ...adapters.dynamo import batch
from ...adapters.dynamo.models import WishModel
from .. import paging

# Entries read when a page filters: a first look of a few pages' worth, then — the page not full — as many as the
# first look's match rate says the rest needs (× 1.5; 500 when it found none), then what is left of the budget.
READ_ON_FIRST_PAGES = 4
READ_ON_BUDGET = 4000  # entries beyond the first look, in two more Queries at most
READ_ON_BLIND = 500  # the second read when the first look found no match
READ_ON_QUERIES = 3

Entry = dict  # a raw index entry (DynamoDB JSON): the keys, and the attributes the index includes


def _value(entry: Entry, name: str) -> str | None:
    value = entry.get(name)
    return next(iter(value.values())) if value else None


def entry_fields(entry: Entry) -> tuple[str | None, str | None, str | None]:
    """(status, grid_id, category) of an entry of a list index (models/wishes.py FILTERED)."""
    return _value(entry, "status"), _value(entry, "grid_id"), _value(entry, "category")


def _key_of(entry: Entry, index) -> dict:
    """The entry's position in its index: the table's key and the index's keys (a LastEvaluatedKey)."""
    names = {"id"} | {a.attr_name for a in index.Meta.attributes.values() if a.is_hash_key or a.is_range_key}
    return {name: value for name, value in entry.items() if name in names}


def read_entries(index, hash_key: str, limit: int, start_key: dict | None,
                 keep: Callable[[Entry], bool] | None) -> tuple[list[Entry], dict | None]:
    """Up to ``limit`` entries of ``index`` under ``hash_key``, newest first, from ``start_key``: ONE Query when
    nothing is filtered (``keep`` None), else reading on within the budget (READ_ON_*). Returns the entries kept
    and the key to go on from (None: the partition is done)."""
    kept: list[Entry] = []
    read, left = 0, READ_ON_BUDGET
    for attempt in range(1 if keep is None else READ_ON_QUERIES):
        size = limit if keep is None else _next_read(attempt, limit, len(kept), read, left)
        if size <= 0:
            break
        results = index.query(hash_key, scan_index_forward=False, last_evaluated_key=start_key, page_size=size)
        raw = next(results.page_iter, None) or {}
        entries = raw.get("Items", [])
        start_key = results.page_iter.last_evaluated_key
        read += len(entries)
        if attempt:
            left -= len(entries)
        for position, entry in enumerate(entries):
            if keep is not None and not keep(entry):
                continue
            kept.append(entry)
            if len(kept) == limit:
                last_read = position == len(entries) - 1
                return kept, (start_key if last_read else _key_of(entry, index))
        if not start_key:
            return kept, None
    return kept, start_key


def _next_read(attempt: int, limit: int, found: int, read: int, left: int) -> int:
    """How many entries the next Query of a page reads (0: the budget is spent)."""
    if attempt == 0:
        return READ_ON_FIRST_PAGES * limit
    if attempt == READ_ON_QUERIES - 1:
        return left
    wanted = READ_ON_BLIND if not found else -(-(limit - found) * read * 3 // (2 * found))  # ceil(× 1.5)
    return min(left, max(limit, wanted))


def wishes_of(entries: list[Entry]) -> list[WishModel]:
    """The wishes of a page's entries as they are now, in the entries' order: ONE BatchGetItem (none for an empty
    page); an entry whose wish is gone is left out."""
    if not entries:
        return []
    found = batch.get_many(*[(WishModel, _value(entry, "id")) for entry in entries], consistent=False)
    return [wish for wish in found if wish is not None]


def wishes_by_id(ids: list[str]) -> list[WishModel]:
    """The wishes under ``ids`` that exist, as they are now: a BatchGetItem per hundred (the index entries of
    a walk — the scheduler's, 注销's — hold keys only)."""
    found = []
    for start in range(0, len(ids), batch.MAX_KEYS):
        found += batch.get_many(*[(WishModel, wish_id) for wish_id in ids[start:start + batch.MAX_KEYS]])
    return [wish for wish in found if wish is not None]


def page(index, hash_key: str, limit: int, cursor: str | None, *, scope: str, present: Callable[[list], list],
         keep: Callable[[Entry], bool] | None = None, still: Callable[[WishModel], bool] | None = None) -> dict:
    """``{"items", "next_cursor"}`` of a list of wishes. ``keep`` tests an entry (what its index carries); ``still``
    tests the wish as read (an entry lags its wish: a wish that changed since no longer shown where it no longer
    belongs)."""
    entries, next_key = read_entries(index, hash_key, limit, paging.decode_cursor(cursor, scope), keep)
    wishes = [wish for wish in wishes_of(entries) if still is None or still(wish)]
    return {"items": present(wishes), "next_cursor": paging.encode_cursor(next_key, scope)}
