"""What user text may hold (docs/contract.md, "User text").

Multi-line fields (content, note, comment, reason) may hold newlines and tabs; no field may hold any other C0 or
C1 control character, or a bidirectional override/isolate (U+202A–U+202E, U+2066–U+2069: they make text read
differently from what it stores, e.g. a phone number or a price shown reversed), or a noncharacter (U+FDD0–U+FDEF
and the last two code points of every plane, U+FFFE/U+FFFF … U+10FFFE/U+10FFFF: never meant for interchange).
Single-line fields (titles, names) hold no line breaks either (U+2028/U+2029 included).

Text is stored trimmed (``visible``): blanks and invisible characters — format characters (Unicode category Cf:
U+200B zero-width space, U+200C/D, U+2060, U+FEFF, the soft hyphen …) and the Hangul fillers — are cut from both
ends, and text in which nothing visible remains is empty ("不能为空" where a value is required). Inside the text
they stay: a zero-width joiner holds an emoji sequence together. Tag characters (U+E0020–U+E007F, the end of a
flag emoji) and the prepended concatenation marks (U+0600–U+0605 …, visible) are not cut from the ends.
"""
from __future__ import annotations

import re
import unicodedata

# The names shown for a person, the one definition every area imports: who set no nickname (WeChat's default), and
# who left (注销: rosters, claims and timelines keep the row, not the name).
DEFAULT_NICKNAME = "微信用户"
DELETED_NICKNAME = "已注销用户"

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_FORBIDDEN_MULTI = re.compile(f"[{_CONTROL}{_BIDI}]")
_FORBIDDEN_SINGLE = re.compile(f"[{_CONTROL}{_BIDI}\t\n\r\u2028\u2029]")
_NONCHARACTER = re.compile("[\ufdd0-\ufdef" + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}"
                                                      for plane in range(17)) + "]")
# Blanks as pydantic trims them (Unicode White_Space): Python's isspace() also counts U+001C–U+001F, which are
# control characters here (refused, never trimmed away).
_NOT_BLANK = frozenset("\x1c\x1d\x1e\x1f")
_HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")  # letters that draw nothing (a "blank" nickname)
# Default_Ignorable_Code_Point that is not Cf: variation selectors, the combining grapheme joiner, Mongolian free
# variation selectors, Khmer inherent vowels — invisible alone, meaningful after a character (not cut from ends).
_IGNORABLE_MARKS = re.compile("[\u034f\u17b4\u17b5\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_KEEP_AT_ENDS = re.compile("[\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
                           "\U000e0020-\U000e007f]")


def _problem(value: str, forbidden: re.Pattern, message: str) -> str | None:
    if forbidden.search(value):
        return message
    if _NONCHARACTER.search(value):
        return "不能包含非字符（U+FDD0–U+FDEF、U+FFFE、U+FFFF 等）"
    return None


def multi_line_problem(value: str) -> str | None:
    return _problem(value, _FORBIDDEN_MULTI, "不能包含控制字符或文字方向控制符")


def single_line_problem(value: str) -> str | None:
    return _problem(value, _FORBIDDEN_SINGLE, "不能包含换行、控制字符或文字方向控制符")


def _blank(char: str) -> bool:
    return char.isspace() and char not in _NOT_BLANK


def invisible(char: str) -> bool:
    """Draws nothing: a blank, a format character (Cf), a Hangul filler, an ignorable mark."""
    return (_blank(char) or unicodedata.category(char) == "Cf" or char in _HANGUL_FILLERS
            or _IGNORABLE_MARKS.match(char) is not None)


def _cut_at_ends(char: str) -> bool:
    return _blank(char) or char in _HANGUL_FILLERS or (
        unicodedata.category(char) == "Cf" and _KEEP_AT_ENDS.match(char) is None)


def trim_blanks(value: str) -> str:
    """Blanks (Unicode White_Space) cut from both ends, as the request models trim every string."""
    start, end = 0, len(value)
    while start < end and _blank(value[start]):
        start += 1
    while end > start and _blank(value[end - 1]):
        end -= 1
    return value[start:end]


def visible(value: str) -> str:
    """``value`` as stored: blanks and invisible characters cut from both ends; "" when nothing visible remains."""
    start, end = 0, len(value)
    while start < end and _cut_at_ends(value[start]):
        start += 1
    while end > start and _cut_at_ends(value[end - 1]):
        end -= 1
    value = value[start:end]
    return "" if all(invisible(char) for char in value) else value


# A CSV cell a spreadsheet would read as a formula (=, +, -, @) or whose leading tab or carriage return Excel drops
# before reading one (OWASP, "CSV injection") is written as text: a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str | None) -> str:
    """``text`` as a CSV cell that no spreadsheet runs (empty for None)."""
    text = text or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
