"""The staff console's scan-login (扫码登录) and its sessions: the rules, no storage.

A **ticket** is ``<id>.<secret>``: the id (128 random bits) is public — the mini-program code's scene carries it
(``lg=<id>``) and the staff member's phone approves by it; the secret (128 more bits) stays in the console that asked
for the ticket, which needs it to poll and to collect the session. Someone who photographs the code on the screen
may approve nothing (that needs a staff token) and collect nothing (that needs the secret).

A **session** is a cookie ``<user id>.<secret>`` (256 random bits): the user id lets the middleware read the user and
the session in one BatchGetItem; the session item is keyed by the SHA-256 of the whole value (a leaked table does not
hold a usable cookie). Its CSRF token is an HMAC of the cookie's value under the token secret: nothing to store,
nothing a cross-site page can read.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

TICKET_LIFETIME = timedelta(minutes=2)
# An approval in the ticket's last seconds still lets the console (polling every few seconds) collect it.
COLLECT_GRACE = timedelta(seconds=60)
SESSION_LIFETIME = timedelta(hours=8)
SCENE_PREFIX = "lg="
COOKIE_NAME = "tongxin_console"
# Outside the dev and test stages (https only): the __Host- prefix makes the browser refuse the cookie unless it is
# Secure, has Path=/ and no Domain — no sibling subdomain can plant or shadow it.
SECURE_COOKIE_NAME = "__Host-tongxin_console"
CSRF_HEADER = "X-CSRF-Token"
# Ticket ids and secrets: 16 random bytes in base64url, 22 characters (the scene lg=<id> is 25 of WeChat's 32).
_PART = re.compile(r"[A-Za-z0-9_-]{22}")
_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SESSION_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


def _random(nbytes: int) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).rstrip(b"=").decode()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- tickets ---------------------------------------------------------------------------------------------------

def new_ticket() -> tuple[str, str, str]:
    """(ticket, its public id, the SHA-256 of its secret half)."""
    ticket_id, secret = _random(16), _random(16)
    return f"{ticket_id}.{secret}", ticket_id, sha256(secret)


def parse_ticket(text: str, *, secret_required: bool) -> tuple[str, str | None] | None:
    """``<id>.<secret>`` → (id, SHA-256 of the secret); the bare id (what the scene carries, for approving) →
    (id, None) when the secret is not required; anything else None."""
    ticket_id, dot, secret = text.partition(".")
    if not _PART.fullmatch(ticket_id):
        return None
    if dot:
        return (ticket_id, sha256(secret)) if _PART.fullmatch(secret) else None
    return None if secret_required else (ticket_id, None)


def ticket_key(ticket_id: str) -> str:
    return f"t#{ticket_id}"


def scene(ticket_id: str) -> str:
    return SCENE_PREFIX + ticket_id


# --- sessions --------------------------------------------------------------------------------------------------

def new_session(user_id: str) -> str:
    """The cookie's value for a new session of ``user_id``."""
    return f"{user_id}.{_random(32)}"


def parse_session(value: str) -> str | None:
    """The user id a well-formed cookie value names, else None."""
    user_id, dot, secret = value.rpartition(".")
    if not dot or not _USER_ID.fullmatch(user_id) or not _SESSION_SECRET.fullmatch(secret):
        return None
    return user_id


def session_key(value: str) -> str:
    return f"s#{sha256(value)}"


def csrf_token(signing_key: str, value: str) -> str:
    """The session's CSRF token: an HMAC of the cookie's value (the console reads it from the answer that set the
    cookie and sends it as ``X-CSRF-Token`` on every write)."""
    digest = hmac.new(signing_key.encode(), b"console-csrf\n" + value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_matches(signing_key: str, value: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(signing_key, value), sent)


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE_NAME if secure else COOKIE_NAME


def set_cookie(value: str, *, secure: bool, max_age: int) -> str:
    """The ``Set-Cookie`` header: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it),
    Path=/, Secure outside the local stack and the tests."""
    flags = f"{cookie_name(secure)}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict"
    return flags + ("; Secure" if secure else "")


def clear_cookie(*, secure: bool) -> str:
    return set_cookie("", secure=secure, max_age=0)


def cookie_value(header: str | None, secure: bool) -> str | None:
    """The session cookie's value in a ``Cookie`` header, or None."""
    if not header:
        return None
    wanted = cookie_name(secure)
    for part in header.split(";"):
        name, eq, value = part.strip().partition("=")
        if eq and name == wanted:
            return value.strip() or None
    return None


# --- where a write comes from ------------------------------------------------------------------------------------

def same_origin(origin: str | None, *, expected: str | None, host: str | None) -> bool:
    """A cookie-authenticated write must name its origin (``Origin``: absent is refused) and it must be the
    console's: ``expected`` (``scheme://host[:port]``) when configured, else (dev and test) the request's own
    ``Host``."""
    if not origin or origin == "null":
        return False
    try:
        parts = urlsplit(origin.strip())
        parts.port  # noqa: B018 — a malformed port raises
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        return False
    if expected is not None:
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}" == expected
    return bool(host) and parts.netloc.lower() == host.strip().lower()
