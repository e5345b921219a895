"""Opaque identifiers and short human-facing codes."""
from __future__ import annotations

import secrets
import time

# Crockford-like alphabet without look-alikes (0/O, 1/I/L) for codes people type or read aloud.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_id(prefix: str) -> str:
    """Time-ordered opaque id, e.g. ``w_0193a2f1c4d8e2b7a9``: sorts roughly by creation, never guessable."""
    millis = int(time.time() * 1000)
    return f"{prefix}_{millis:012x}{secrets.token_hex(5)}"


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
