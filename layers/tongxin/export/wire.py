"""The community export's file format (JSON lines) and what both directions share.

Line 1, the header: ``{"format": FORMAT, "community_id", "exported_at", "counts": {table: n}, "scopes": {scope: n},
"links": {...}}``. Every other line, one item: ``{"table": <logical table name>, "scope": "community" | "context",
"item": <DynamoDB JSON, typed as the low-level client gives it>, "personal": [<attribute names>]}``.

The item is lossless: numbers stay DynamoDB's decimal strings, sets stay sets (``SS``/``NS``/``BS``), dates stay
the strings the models wrote; binary (``B``, ``BS``) is base64 text, as DynamoDB's own wire JSON carries it.
``personal`` names the attributes of this item that hold (or contain) personal data, so a reader can redact them
(``jq 'del(.item[.personal[]])'``).
"""
from __future__ import annotations

import base64

from ..adapters.dynamo.models import ALL_MODELS

FORMAT = "tongxin-community-export/1"
COMMUNITY, CONTEXT = "community", "context"

MODELS = {model.TABLE: model for model in ALL_MODELS}

# Personal data (个人信息) per table: identifiers WeChat gives (openid, unionid), names, phones, addresses,
# locations, free text written about or by a person, and the directory's search keys (made of nickname, real name
# and the phone's last four digits). Decided from the models and design.md's rule that openid/unionid never leave
# the server. An attribute absent from an item is not listed for it.
_NAMES = ("nickname", "user_nickname", "author_nickname", "claimer_nickname", "organiser_nickname",
          "actor_nickname", "subject_nickname", "subject_name", "awarded_by_nickname", "commended_by_nickname",
          "created_by_nickname", "proposer_nickname", "handler_nickname", "extension_asked_by_nickname",
          "redeemer_nickname", "redeemer_real_name", "attendee_name", "real_name", "handler_name")
PERSONAL: dict[str, frozenset[str]] = {
    # A binding code (绑定码) lets its holder take the managed resident's account over: redacted with the person.
    "users": frozenset({"openid", "nickname", "avatar_url", "phone", "real_name", "address", "latest_commendation",
                        "binding_code"}),
    "binding_codes": frozenset({"code"}),
    "identities": frozenset({"openid", "unionid"}),
    "wishes": frozenset({"author_nickname", "claimer_nickname", "contact_phone", "address", "comment"}),
    "signups": frozenset({"nickname", "attendee_name", "organiser_nickname", "adjustments"}),
    "events": frozenset({"organiser_nickname"}),
    "redemptions": frozenset({"redeemer_nickname", "redeemer_real_name"}),
    "awards": frozenset({"user_nickname", "awarded_by_nickname", "reason"}),
    "requests": frozenset({"author_nickname", "author_phone", "address", "lat", "lng", "handler_nickname",
                           "extension_asked_by_nickname", "timeline", "comment"}),
    "party_registrations": frozenset({"real_name", "nickname", "work_unit", "party_branch"}),
    "certificates": frozenset({"real_name", "volunteer_number", "handler_name"}),
    "corrections": frozenset({"nickname", "decided_by"}),
    "commendations": frozenset({"user_nickname", "commended_by_nickname", "story"}),
    "co_projects": frozenset({"created_by_nickname", "timeline"}),
    "co_project_ratings": frozenset({"comment"}),
    "project_rounds": frozenset({"created_by_nickname"}),
    "round_projects": frozenset({"proposer_nickname", "timeline"}),
    "round_project_ratings": frozenset({"comment"}),
    "ballots": frozenset(),
    "posts": frozenset({"created_by_nickname"}),
    "post_claims": frozenset({"nickname"}),
    "proxy_log": frozenset({"actor_nickname", "subject_name"}),
    "audit": frozenset({"actor_nickname", "subject_nickname"}),
    "members": frozenset({"entry_key"}),
    "outbox": frozenset({"data"}),  # the message's fields: names, places, times
    "idempotency": frozenset({"response_body"}),  # the first answer, as the caller saw it
    "units": frozenset({"contact_name", "contact_phone"}),
    "unit_liaisons": frozenset({"nickname"}),
}


def personal_of(table: str, item: dict) -> list[str]:
    """The attributes of ``item`` that are personal data (sorted). Any attribute named like a person's name counts,
    whatever the table (a model that gains one is covered before this list is updated)."""
    marked = PERSONAL.get(table, frozenset()) | {name for name in item if name in _NAMES}
    return sorted(name for name in marked if name in item)


def key_names(table: str) -> tuple[str, ...]:
    model = MODELS[table]
    return tuple(a.attr_name for a in (model._hash_key_attribute(), model._range_key_attribute()) if a is not None)


def key_of(table: str, item: dict) -> dict:
    return {name: item[name] for name in key_names(table)}


def to_wire(item: dict) -> dict:
    """A low-level client's item (bytes in ``B``/``BS``) as JSON can carry it (base64 text)."""
    return {name: _value(typed, lambda b: base64.b64encode(b).decode("ascii")) for name, typed in item.items()}


def from_wire(item: dict) -> dict:
    """The inverse of ``to_wire``: an item as the low-level client writes it."""
    return {name: _value(typed, base64.b64decode) for name, typed in item.items()}


def _value(typed: dict, binary) -> dict:
    """One typed value (``{"S": …}``, ``{"M": {name: typed}}``, ``{"L": [typed]}`` …), its binaries converted."""
    (kind, inner), = typed.items()
    if kind == "B":
        return {"B": binary(inner)}
    if kind == "BS":
        return {"BS": [binary(b) for b in inner]}
    if kind == "M":
        return {"M": {name: _value(v, binary) for name, v in inner.items()}}
    if kind == "L":
        return {"L": [_value(v, binary) for v in inner]}
    return typed


def canonical(item: dict) -> dict:
    """An item comparable with another copy of it: sets are unordered in DynamoDB, so sorted here."""
    return {name: _canonical(typed) for name, typed in item.items()}


def _canonical(typed: dict) -> dict:
    (kind, inner), = typed.items()
    if kind in ("SS", "NS", "BS"):
        return {kind: sorted(inner)}
    if kind == "M":
        return {"M": canonical(inner)}
    if kind == "L":
        return {"L": [_canonical(v) for v in inner]}
    return typed
