"""Every item of one community, from every table (the export's reading side).

An operator's tool, never a request path: it Queries where a key or an index names the community (or something of
the community's: its users, events, posts, rounds, projects), and Scans with a filter where nothing does — each
table's finder below says which. Base-table reads are consistent; an index's cannot be.

Two scopes. ``community``: what belongs to the community — its item, grids, invites, members (users and their
identities, ledger, idempotency records, console sessions), wishes, events and sign-ups, stores, goods,
redemptions, pickup codes, awards, scores of its boards, requests, counters naming it or one of its users, goods,
rounds or certificate numbers, messages to it, audit and proxy logs, party registrations, certificates,
corrections, commendations, posts and claims, co-building projects and ratings, rounds, projects, ratings and
ballots, its agreements with units, the binding codes of its managed residents. ``context``: what it hangs from
and cannot work without in an empty stack — its street, the street's district and the district's departments, the
street's units (resources, liaisons), the staff of those levels who belong to no community (users and
identities) and the departments' request counters.

Not exported (``NOT_EXPORTED``): ``kv`` (the WeChat access_token: the deployment's, not a community's),
``unit_invites`` (the street's one-time codes), bulletin snapshots (a street's or district's month, rebuilt by the
scheduler), counters of no community (WeChat token refreshes, address rate limits). A user who moved to another
community goes with the community they are in now.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator

from .load import batched_get
from .wire import COMMUNITY, CONTEXT

# Tables of no community (every other table's items of a community are found below; a unit test holds the two lists
# to ALL_MODELS, so a new table is decided here).
NOT_EXPORTED = frozenset({"kv", "unit_invites"})
QUERY_THREADS = 8  # Queries in flight at once: the shared client's pool holds 64 connections


class Reader:
    """Raw reads (the low-level client: typed DynamoDB JSON, every attribute) of the logical tables."""

    def __init__(self, client, table_name: Callable[[str], str]):
        self.client, self.table_name = client, table_name

    def get(self, table: str, key: dict) -> dict | None:
        return self.client.get_item(TableName=self.table_name(table), Key=key, ConsistentRead=True).get("Item")

    def get_many(self, table: str, keys: list[dict]) -> list[dict]:
        """The items of ``keys`` that exist (BatchGetItem, 100 at a time, unprocessed keys asked again)."""
        return batched_get(self.client, self.table_name(table), keys)

    def query(self, table: str, name: str, value: str, index: str | None = None) -> Iterator[dict]:
        kwargs = {"TableName": self.table_name(table), "KeyConditionExpression": "#k = :v",
                  "ExpressionAttributeNames": {"#k": name}, "ExpressionAttributeValues": {":v": {"S": value}}}
        if index:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = True
        yield from self._pages(self.client.query, kwargs)

    def query_each(self, table: str, name: str, values: Iterable[str], index: str | None = None) -> Iterator[dict]:
        """``query`` for each of ``values``, in their order; a few at a time (one Query per user of a community of
        20,000 is minutes one after another: DynamoDB answers each in milliseconds, the wait is the round trip)."""
        with ThreadPoolExecutor(QUERY_THREADS) as pool:
            for items in pool.map(lambda value: list(self.query(table, name, value, index)), values):
                yield from items

    def scan(self, table: str, equals: tuple[str, str] | None = None, or_has: str | None = None) -> Iterator[dict]:
        """Every item (consistent); with ``equals``, those whose attribute is that string (or that have ``or_has``)."""
        kwargs = {"TableName": self.table_name(table), "ConsistentRead": True}
        if equals:
            kwargs.update(FilterExpression="#k = :v", ExpressionAttributeNames={"#k": equals[0]},
                          ExpressionAttributeValues={":v": {"S": equals[1]}})
        if equals and or_has:
            kwargs["FilterExpression"] += " OR attribute_exists(#o)"
            kwargs["ExpressionAttributeNames"]["#o"] = or_has
        yield from self._pages(self.client.scan, kwargs)

    @staticmethod
    def _pages(call, kwargs: dict) -> Iterator[dict]:
        while True:
            page = call(**kwargs)
            yield from page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _s(item: dict | None, name: str) -> str | None:
    value = (item or {}).get(name)
    return value.get("S") if value else None


def _ss(item: dict | None, name: str) -> list[str]:
    value = (item or {}).get(name)
    return sorted(value.get("SS", ())) if value else []


class NotFound(Exception):
    """No community of that id in the stack."""


def community_items(reader: Reader, community_id: str) -> Iterator[tuple[str, str, dict]]:
    """``(table, scope, raw item)`` for every item of the community, table after table. Raises NotFound first."""
    c = community_id
    community = reader.get("communities", {"id": {"S": c}})
    if community is None:
        raise NotFound(c)

    def of(table: str, items: Iterable[dict], scope: str = COMMUNITY) -> Iterator[tuple[str, str, dict]]:
        for item in items:
            yield table, scope, item

    yield from of("communities", [community])
    grids = list(reader.query("grids", "community_id", c))  # the table's key
    yield from of("grids", grids)
    yield from of("invites", reader.scan("invites", ("community_id", c)))  # no index by community: Scan
    # No index by community: Scan (any status). An account merged into a member's by 绑定 has no community left and
    # goes with the member it was merged into (its ``merged_into``).
    users = list(reader.scan("users", ("community_id", c), or_has="merged_into"))
    ids = {_s(u, "id") for u in users if _s(u, "community_id") == c}
    users = [u for u in users if _s(u, "id") in ids or _s(u, "merged_into") in ids]
    yield from of("users", users)
    user_ids = {_s(u, "id") for u in users}
    openids = [o for o in (_s(u, "openid") for u in users) if o]
    yield from of("identities", reader.get_many("identities", [{"openid": {"S": o}} for o in openids]))
    yield from of("members", reader.query("members", "community_id", c))  # the table's key
    # The passbook is the user's: all of it (the balance is its sum).
    yield from of("ledger", reader.query_each("ledger", "user_id", sorted(user_ids)))

    # every wish is in by_community; its entries hold keys (and the list filters), the wishes are read by key
    wish_keys = [{"id": entry["id"]} for entry in reader.query("wishes", "community_id", c, "by_community")]
    yield from of("wishes", reader.get_many("wishes", wish_keys))
    events = list(reader.query("events", "community_id", c, "by_community"))
    yield from of("events", events)
    yield from of("signups", reader.query_each("signups", "event_id", [_s(e, "id") for e in events]))  # its key
    stores = list(reader.query("stores", "community_id", c))
    yield from of("stores", stores)
    goods = [g for store in stores for g in reader.query("goods", "store_id", _s(store, "id"), "by_store")]
    yield from of("goods", goods)
    # Redemptions: indexes by user and by store × status; a Scan on community_id takes every status at once.
    yield from of("redemptions", reader.scan("redemptions", ("community_id", c)))
    yield from of("pickup_codes", (p for p in reader.scan("pickup_codes")  # keyed <community>#<code>: Scan
                                   if (_s(p, "key") or "").startswith(c + "#")))
    yield from of("awards", reader.scan("awards", ("community_id", c)))  # no index: Scan
    grid_ids = {_s(g, "id") for g in grids}
    yield from of("scores", (s for s in reader.scan("scores")  # boards name the community or its grid: Scan
                             if _names_any(_s(s, "board"), {c} | grid_ids)))
    yield from of("requests", reader.query("requests", "community_id", c, "by_community"))
    yield from of("audit", reader.query("audit", "community_id", c))
    yield from of("proxy_log", reader.query("proxy_log", "community_id", c))
    yield from of("party_registrations", reader.scan("party_registrations", ("community_id", c)))  # by status only
    certificates = list(reader.scan("certificates", ("community_id", c)))  # its indexes key by owner or status
    yield from of("certificates", certificates)
    event_ids = {_s(e, "id") for e in events}
    yield from of("corrections", (x for x in reader.scan("corrections")  # the lock items carry no community: Scan
                                  if _s(x, "community_id") == c or _lock_event(_s(x, "id")) in event_ids))
    yield from of("commendations", reader.scan("commendations", ("community_id", c)))  # its indexes are sparse
    posts = list(reader.query("posts", "community_id", c, "by_community"))
    yield from of("posts", posts)
    yield from of("post_claims", reader.query_each("post_claims", "post_id", [_s(p, "id") for p in posts]))
    co_projects = list(reader.query("co_projects", "community_id", c, "by_community"))
    yield from of("co_projects", co_projects)
    yield from of("co_project_ratings", reader.query_each("co_project_ratings", "project_id",
                                                          [_s(p, "id") for p in co_projects]))
    rounds = list(reader.query("project_rounds", "community_id", c, "by_community"))
    yield from of("project_rounds", rounds)
    round_projects = [p for r in rounds for p in reader.query("round_projects", "round_id", _s(r, "id"), "by_round")]
    yield from of("round_projects", round_projects)
    yield from of("round_project_ratings", reader.query_each("round_project_ratings", "project_id",
                                                             [_s(p, "id") for p in round_projects]))
    yield from of("ballots", reader.query_each("ballots", "round_id", [_s(r, "id") for r in rounds]))
    yield from of("unit_agreements", reader.scan("unit_agreements", ("community_id", c)))  # keyed by unit: Scan
    yield from of("binding_codes", reader.scan("binding_codes", ("community_id", c)))  # keyed by code: Scan
    # Keyed by the user (``<user>#<key>``, ``t#…``/``s#…`` with ``user_id``) or by the community: Scans.
    yield from of("idempotency", (i for i in reader.scan("idempotency")
                                  if (_s(i, "id") or "").split("#", 1)[0] in user_ids))
    yield from of("console_sessions", (s for s in reader.scan("console_sessions") if _s(s, "user_id") in user_ids))
    yield from of("outbox", (m for m in reader.scan("outbox") if _s(m, "community_id") == c
                             or (_s(m, "community_id") is None and _s(m, "recipient_id") in user_ids)))

    # The context: the levels above, their staff of no community, their units.
    street = reader.get("streets", {"id": {"S": _s(community, "street_id")}}) if _s(community, "street_id") else None
    district_id = _s(street, "district_id")
    district = reader.get("districts", {"id": {"S": district_id}}) if district_id else None
    departments = reader.get_many("departments", [{"id": {"S": d}} for d in _ss(district, "department_ids")])
    units = list(reader.query("units", "street_id", _s(street, "id"), "by_street")) if street else []
    yield from of("streets", [street] if street else [], CONTEXT)
    yield from of("districts", [district] if district else [], CONTEXT)
    yield from of("departments", departments, CONTEXT)
    yield from of("units", units, CONTEXT)
    for unit in units:
        yield from of("unit_resources", reader.query("unit_resources", "unit_id", _s(unit, "id")), CONTEXT)
        yield from of("unit_liaisons", reader.query("unit_liaisons", "unit_id", _s(unit, "id")), CONTEXT)
    staff_ids = set(_ss(street, "staff_ids")) | set(_ss(district, "staff_ids"))
    for holder in [*departments, *units]:
        staff_ids |= set(_ss(holder, "staff_ids")) | set(_ss(holder, "liaison_ids"))
    staff = [u for u in reader.get_many("users", [{"id": {"S": i}} for i in sorted(staff_ids - user_ids)])
             if _s(u, "community_id") is None]  # one of another community goes with theirs
    yield from of("users", staff, CONTEXT)
    staff_openids = [o for o in (_s(u, "openid") for u in staff) if o]
    yield from of("identities", reader.get_many("identities", [{"openid": {"S": o}} for o in staff_openids]), CONTEXT)

    # Counters: one key space for every kind (docs/architecture.md's table), no index: Scan, and the key decides.
    goods_ids = {_s(g, "id") for g in goods}
    round_ids = {_s(r, "id") for r in rounds}
    numbers = {n for n in (_s(x, "number") for x in certificates) if n}
    ours = {c} | user_ids | goods_ids | round_ids | numbers
    department_ids = {_s(d, "id") for d in departments}
    for counter in reader.scan("counters"):
        key = _s(counter, "key") or ""
        if key.startswith("bulletin#"):
            continue  # a street's or district's month, not the community's
        if _names_any(key, ours):
            yield "counters", COMMUNITY, counter
        elif key.startswith("stats#requests-dept#") and _names_any(key, department_ids):
            yield "counters", CONTEXT, counter


def _names_any(key: str | None, ids: set) -> bool:
    """Whether one of the ``#``-separated parts of ``key`` is one of ``ids`` (ids never hold ``#``)."""
    return bool(key) and not ids.isdisjoint(key.split("#"))


def _lock_event(item_id: str | None) -> str | None:
    """The event of a correction's lock item ``pending#<event>#<user>``."""
    parts = (item_id or "").split("#")
    return parts[1] if len(parts) == 3 and parts[0] == "pending" else None
