"""Check-in codes (签到码) and the arithmetic of attendance: pure.

A code names an event and is signed with the deployment's check-in secret (HMAC-SHA256); nothing is stored per
code or per scan. Two kinds, both ≤ 32 characters of ``[A-Z2-7-]`` (a mini-program code's scene holds 32):

- rotating ``R<event>-<step><mac>``: the 30-second step it was made for; accepted until 60 s after that step
  began, so a photo relayed to a group chat is dead within a minute;
- poster ``P<event>-<mac>``: static, for print; accepted only with the scanner's location inside the geofence.

``<event>`` is the event id without its ``ev_`` prefix, base32: the 11 bytes of a generated id (22 hex digits),
or the UTF-8 of a short id (the demo seed's ``ev_demo3``).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

STEP_SECONDS = 30
VALID_SECONDS = 60  # after the step began
STEP_CHARS = 3  # the step's low 15 bits: a code is placed within 32,768 steps (11 days) of now
ROTATING_MAC_CHARS, POSTER_MAC_CHARS = 9, 12
CHECK_IN_EARLY = timedelta(minutes=30)
CHECK_OUT_LATE = timedelta(hours=2)
DOUBLE_SCAN = timedelta(minutes=2)
EARTH_RADIUS_M = 6_371_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_B32 = re.compile(r"^[A-Z2-7]+$")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32
_HEX_ID = re.compile(r"^[0-9a-f]{22}$")


class BadCode(ValueError):
    """Not a code we made (garbage, altered, or signed with another secret)."""


@dataclass(frozen=True)
class Code:
    kind: str  # rotating | poster
    event_id: str
    step: int | None = None

    def valid_until(self) -> datetime | None:
        if self.step is None:
            return None
        return _EPOCH + timedelta(seconds=self.step * STEP_SECONDS + VALID_SECONDS)


def step_of(now: datetime) -> int:
    return int((now - _EPOCH).total_seconds()) // STEP_SECONDS


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    if not _B32.fullmatch(text):
        raise BadCode("not base32")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise BadCode("not base32") from None


def _event_part(event_id: str) -> str:
    bare = event_id.removeprefix("ev_")
    raw = bytes.fromhex(bare) if _HEX_ID.fullmatch(bare) else bare.encode()
    if len(raw) > 11 or not event_id.startswith("ev_"):
        raise ValueError(f"event id {event_id!r} cannot be put in a code")
    return _b32(raw)


def _event_id(part: str) -> str:
    raw = _unb32(part)
    if len(raw) == 11:
        return "ev_" + raw.hex()
    try:
        return "ev_" + raw.decode()
    except UnicodeDecodeError:
        raise BadCode("not an event") from None


def _mac(secret: str, message: str, length: int) -> str:
    if not secret:
        raise ValueError("no check-in secret configured")  # never sign (or accept) codes with an empty key
    digest = hmac.new(secret.encode(), f"checkin:{message}".encode(), hashlib.sha256).digest()
    return _b32(digest)[:length]


def make_code(secret: str, event_id: str, kind: str, step: int | None = None) -> str:
    event = _event_part(event_id)
    if kind == "poster":
        return f"P{event}-{_mac(secret, f'P{event}', POSTER_MAC_CHARS)}"
    step_text = "".join(_ALPHABET[((step or 0) >> shift) & 31] for shift in (10, 5, 0))  # the low 15 bits
    return f"R{event}-{step_text}{_mac(secret, f'R{event}:{step}', ROTATING_MAC_CHARS)}"


def _step_bits(text: str) -> int:
    if not _B32.fullmatch(text):
        raise BadCode("step")
    return sum(_ALPHABET.index(char) << shift for char, shift in zip(text, (10, 5, 0)))


def verify(secret: str, code: str, now: datetime) -> Code:
    """The code's event and kind, or ``BadCode``. A rotating code's step is placed at the latest step ≤ now with
    its low bits (a stale code verifies as what it is, and is then refused as expired, not as forged)."""
    code = (code or "").strip().upper()
    if len(code) > 32 or len(code) < 4 or "-" not in code:
        raise BadCode("shape")
    head, tail = code.split("-", 1)
    kind, event = head[:1], head[1:]
    if kind == "P":
        if not hmac.compare_digest(tail, _mac(secret, f"P{event}", POSTER_MAC_CHARS)):
            raise BadCode("signature")
        return Code("poster", _event_id(event))
    if kind == "R" and len(tail) == STEP_CHARS + ROTATING_MAC_CHARS:
        low = _step_bits(tail[:STEP_CHARS])
        current = step_of(now)
        step = current - ((current - low) & 0x7FFF)
        if not hmac.compare_digest(tail[STEP_CHARS:], _mac(secret, f"R{event}:{step}", ROTATING_MAC_CHARS)):
            raise BadCode("signature")
        return Code("rotating", _event_id(event), step)
    raise BadCode("kind")


def expired(code: Code, now: datetime) -> bool:
    until = code.valid_until()
    return until is not None and now >= until


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def check_in_open(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    return starts_at - CHECK_IN_EARLY <= now < ends_at


def check_out_open(ends_at: datetime, now: datetime) -> bool:
    return now < ends_at + CHECK_OUT_LATE


def credited_minutes(checked_in_at: datetime, checked_out_at: datetime, starts_at: datetime,
                     ends_at: datetime) -> int:
    """Whole minutes of [in, out] ∩ [start, end]: never more than the event, never for time outside it."""
    overlap = (min(checked_out_at, ends_at) - max(checked_in_at, starts_at)).total_seconds()
    return max(0, int(overlap // 60))


def points_for(minutes: int, points_per_hour: int) -> int:
    return (minutes * points_per_hour) // 60


def event_minutes(starts_at: datetime, ends_at: datetime) -> int:
    return int((ends_at - starts_at).total_seconds() // 60)
