"""Masking of personal data shown to people who may not see it in full."""
from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not phone:
        return None
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_address(address: str | None) -> str | None:
    """Keep the first few characters (the neighbourhood), hide the rest (building and door)."""
    if not address:
        return None
    keep = min(6, max(1, len(address) // 3))
    return address[:keep] + "****"


def mask_name(name: str | None) -> str | None:
    """``张三丰`` → ``张**``; used on leaderboards and public lists."""
    if not name:
        return None
    return name[0] + "*" * max(1, len(name) - 1)
