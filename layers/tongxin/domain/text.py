"""What user text may hold (api.md "User text").

Multi-line fields (content, note, comment, reason) may hold newlines and tabs; no field may hold any other C0 or
C1 control character, or a bidirectional override/isolate (U+202A–U+202E, U+2066–U+2069: they make text read
differently from what it stores, e.g. a phone number or a price shown reversed). Single-line fields (titles,
names) hold no line breaks either (U+2028/U+2029 included).
"""
from __future__ import annotations

import re

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_FORBIDDEN_MULTI = re.compile(f"[{_CONTROL}{_BIDI}]")
_FORBIDDEN_SINGLE = re.compile(f"[{_CONTROL}{_BIDI}\t\n\r\u2028\u2029]")


def multi_line_problem(value: str) -> str | None:
    if _FORBIDDEN_MULTI.search(value):
        return "不能包含控制字符或文字方向控制符"
    return None


def single_line_problem(value: str) -> str | None:
    if _FORBIDDEN_SINGLE.search(value):
        return "不能包含换行、控制字符或文字方向控制符"
    return None
