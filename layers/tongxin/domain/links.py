"""普通链接二维码: the links printed codes carry, so WeChat's own scanner (扫一扫) opens the mini-program. Pure.

A check-in, invite, pickup or unit liaison invite code shown as a QR carries ``<base>/<letter>/<code>``: ``c``
check-in, ``i`` invite, ``p`` pickup, ``u`` a unit's liaison invite (共建单位联络员邀请), under the deployment's
``QR_LINK_BASE`` (config.py). WeChat's console maps each prefix
``<base>/<letter>/`` to a page of the mini-program, which receives the whole link (its ``q`` option) and sends it to
the API as it is: every route that takes such a code accepts the bare code or the whole link.

A link is read strictly: exactly the configured base, the letter of the kind, then the code and nothing else (no
query, no fragment, no further path). Anything with a ``/`` that is not that is not one of our codes; a text
without ``/`` is a bare code, checked as before by its own rules (a code never holds a ``/``).
"""
from __future__ import annotations

import re

LETTERS = {"checkin": "c", "invite": "i", "pickup": "p", "unit_invite": "u"}
# The code part of a link: what any of our codes is made of (each kind checks its own alphabet after this).
_CODE = re.compile(r"[A-Za-z0-9-]{1,64}")


def url(base: str, kind: str, code: str) -> str:
    """The link a QR of ``code`` (a ``kind`` of ``LETTERS``) carries."""
    return f"{base}/{LETTERS[kind]}/{code}"


def prefix(base: str, kind: str) -> str:
    """The rule WeChat's console is given for ``kind`` (it ends with ``/``: sub-path matching)."""
    return f"{base}/{LETTERS[kind]}/"


def code_in(base: str, kind: str, text: str) -> str | None:
    """The bare code ``text`` carries: ``text`` itself (stripped) when it holds no ``/``; the code of
    ``<base>/<letter>/<code>``; None for anything else that looks like a link (another base, another kind's
    letter, a query, more path) — the caller answers it as a code that is not ours."""
    text = (text or "").strip()
    if "/" not in text:
        return text
    start = prefix(base, kind)
    if not text.startswith(start):
        return None
    code = text[len(start):]
    return code if _CODE.fullmatch(code) else None
