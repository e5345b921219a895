"""The member directory (成员名录): which entries a member has, and which entries answer a list.

A community's directory is one partition of the ``members`` table; each active member of the community has one
entry per way of finding them, its sort key built here (pure: the use cases that change a member and the invariant
checker derive the same keys from the same fields):

- ``all#<joined>#<user>``                 every member, newest joined first
- ``role#<role>#<joined>#<user>``          per role held (of ``ROLES``)
- ``q#<token>#<user>``                     per search token: nickname, real name, the phone's last four digits
- and, for a member who lives in a grid (``grid_id``):
  ``grid#<grid>#<joined>#<user>``, ``gr#<grid>#<role>#<joined>#<user>`` per role, ``gq#<grid>#<token>#<user>``
  per token — so "my grid", "volunteers of my grid" and "search my grid" are one Query each too.

- a managed resident (代办, no WeChat) also ``managed#<joined>#<user>`` and ``gm#<grid>#<joined>#<user>``.

At most 1 + 6 + 3 + 1 + 6 + 3 (+ 2 managed) = 22 entries a member. A search token is the text normalised (``normalize``: NFKC,
case folded, blanks, invisible characters and ``#`` removed, at most ``TOKEN_MAX`` characters); a search matches a
token by prefix, so ``q=王`` finds 王小明 but ``q=小明`` does not (and ``q=56`` finds a phone ending 5678).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

from .text import invisible

# The roles a list may be filtered by (street_staff is above communities: not a member's role in the directory).
ROLES = ("resident", "volunteer", "party_member", "grid_worker", "admin", "store_keeper")
TOKEN_MAX = 20
PHONE_DIGITS = 4


def normalize(text: str | None) -> str:
    """What a token and a search are compared as: NFKC (全角 → 半角), case folded, without blanks, invisible
    characters or ``#`` (the key's separator); at most ``TOKEN_MAX`` characters."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if c != "#" and not invisible(c))[:TOKEN_MAX]


def time_key(moment: datetime) -> str:
    """The sortable time of a key: UTC, fixed width."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Member:
    """The fields of a user the directory is built from."""
    user_id: str
    community_id: str | None
    active: bool
    joined_at: datetime | None
    grid_id: str | None = None
    roles: frozenset[str] = frozenset()
    nickname: str | None = None
    real_name: str | None = None
    phone: str | None = None
    managed: bool = False  # 代办: a resident without WeChat (domain/proxy.py)


def tokens(member: Member) -> set[str]:
    found = {normalize(member.nickname), normalize(member.real_name)}
    digits = "".join(c for c in (member.phone or "") if c.isdigit())
    if len(digits) >= PHONE_DIGITS:
        found.add(digits[-PHONE_DIGITS:])
    return {t for t in found if t}


def entry_keys(member: Member) -> set[str]:
    """Every sort key the member has in their community's directory (none outside a community, or once deleted)."""
    if not member.active or not member.community_id or member.joined_at is None:
        return set()
    uid, t = member.user_id, time_key(member.joined_at)
    roles = sorted(set(member.roles) & set(ROLES))
    found = {f"all#{t}#{uid}"} | {f"role#{r}#{t}#{uid}" for r in roles}
    words = tokens(member)
    found |= {f"q#{w}#{uid}" for w in words}
    if member.grid_id:
        g = member.grid_id
        found |= {f"grid#{g}#{t}#{uid}"} | {f"gr#{g}#{r}#{t}#{uid}" for r in roles}
        found |= {f"gq#{g}#{w}#{uid}" for w in words}
    if member.managed:  # 代办: the managed residents, newest first (``managed#``), and per grid (``gm#<grid>#``)
        found.add(f"managed#{t}#{uid}")
        if member.grid_id:
            found.add(f"gm#{member.grid_id}#{t}#{uid}")
    return found


@dataclass(frozen=True)
class Listing:
    """How one list is answered: the Query's key prefix and order, and what is left to filter within its page."""
    prefix: str
    newest_first: bool
    role_filter: str | None  # a role checked on the page's members (q with role: the search key is the narrower)


def listing(*, q: str | None, role: str | None, grid_id: str | None) -> Listing:
    """The key for each combination: q (+ grid) → the search tokens (prefix, in token order), and a role given
    with q is checked on the page; otherwise grid + role, grid, role or all, newest joined first."""
    if q:
        prefix = f"gq#{grid_id}#{q}" if grid_id else f"q#{q}"
        return Listing(prefix, False, role)
    if grid_id and role:
        return Listing(f"gr#{grid_id}#{role}#", True, None)
    if grid_id:
        return Listing(f"grid#{grid_id}#", True, None)
    if role:
        return Listing(f"role#{role}#", True, None)
    return Listing("all#", True, None)
