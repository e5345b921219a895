"""志愿服务记录证明 (volunteer certificates): pure rules, no I/O.

民政部's rules (志愿服务记录与证明出具办法, 2020) let the recorder certify what it recorded (谁记录谁证明): a
community's admins certify the service its attendances credited, for a period the volunteer names.

- A request names a period ``[from, to]`` of Shanghai dates: ``from ≤ to ≤ today``, at most ``MAX_YEARS`` long
  (400 naming the field), and a ``purpose`` (≤ ``PURPOSE_MAX``, one line). One pending request per person
  (the ``pending_key`` item: 409 CERTIFICATE_PENDING).
- Issuing takes a SNAPSHOT (design.md "Proof is a snapshot"): the lines (date, activity, place, minutes,
  organiser) and the total as the record says at that moment, at most ``MAX_LINES`` (409 TOO_MANY_SERVICES: ask
  for a shorter period), stored compactly (``encode_lines``: zlib'd JSON) so the item stays far below 400 KB.
- The number (证明编号) ``TXZM-<year>-<community short>-<6 digits>``: a counter per community and Shanghai year,
  the number's own ``number_key`` item Put with ``attribute_not_exists`` in the issuing transaction — a number is
  never given twice, and a revoked certificate keeps its number taken.
- Star level (星级志愿者) of the hours the certificate proves: 一星 100 h, 二星 300 h, 三星 600 h, 四星 1,000 h,
  五星 1,500 h.
- The public check answers the masked name (``张**``) and what the certificate says, only when number AND the
  registered real name (trimmed, exact) match; otherwise ``valid: false`` with nothing else.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from datetime import date, datetime, time, timedelta

from .clock import SHANGHAI
from .errors import Conflict, InvalidState, NotFound, ValidationFailed
from .masking import mask_name

PURPOSE_MAX = 100
REASON_MAX = 200
NAME_MAX = 40  # the check's name field
MAX_LINES = 500
MAX_YEARS = 10
TITLE_MAX, PLACE_MAX, ORGANISER_MAX = 60, 100, 30  # what a line keeps (events allow 40 and 100 characters)

PENDING, ISSUED, REFUSED, REVOKED = "pending", "issued", "refused", "revoked"
STATUSES = (PENDING, ISSUED, REFUSED, REVOKED)

# 星级志愿者 (glossary): the least minutes each level needs, highest first.
STAR_LEVELS = ((1500 * 60, "五星"), (1000 * 60, "四星"), (600 * 60, "三星"), (300 * 60, "二星"), (100 * 60, "一星"))

NUMBER_PREFIX = "TXZM"
NUMBER = re.compile(rf"^{NUMBER_PREFIX}-[0-9]{{4}}-[A-Z2-7]{{4}}-[0-9]{{6,}}$")


class CertificatePending(Conflict):
    code, message = "CERTIFICATE_PENDING", "您已有一份待出具的志愿服务记录证明申请，请等待社区处理后再申请"


class TooManyServices(Conflict):
    code, message = "TOO_MANY_SERVICES", f"所选期间的服务记录超过 {MAX_LINES} 条，请缩短证明期间后分次申请"


class NoServices(Conflict):
    code, message = "NO_SERVICES", "所选期间没有本社区记录的志愿服务，无法出具证明"


class RealNameRequired(Conflict):
    code, message = "REAL_NAME_REQUIRED", "出具证明需要志愿者的实名信息，请先完成志愿者注册（填写真实姓名）"


CERTIFICATE_NOT_FOUND = NotFound("证明不存在")
NOT_PENDING = InvalidState("这份申请已处理，不能再出具或拒绝")
NOT_ISSUED = InvalidState("只有已出具的证明可以撤销")


# --- the period ------------------------------------------------------------------------------------------------

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(value: str, field: str) -> date:
    try:
        if not _DATE.fullmatch(value or ""):
            raise ValueError(value)
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", details={"field": field}) from None


def parse_period(start: str, end: str, now: datetime) -> tuple[date, date]:
    """``[from, to]`` as Shanghai dates: ``to`` not after today, ``from`` not after ``to``, at most ``MAX_YEARS``
    years long. 400 VALIDATION_FAILED naming the field at fault."""
    first, last = _date(start, "from"), _date(end, "to")
    today = now.astimezone(SHANGHAI).date()
    if last > today:
        raise ValidationFailed("证明期间的结束日期不能晚于今天", details={"field": "to"})
    if first > last:
        raise ValidationFailed("证明期间的开始日期不能晚于结束日期", details={"field": "from"})
    try:
        earliest = last.replace(year=last.year - MAX_YEARS)
    except ValueError:  # 29 February
        earliest = last.replace(year=last.year - MAX_YEARS, day=28)
    if first < earliest:
        raise ValidationFailed(f"证明期间最长 {MAX_YEARS} 年", details={"field": "from"})
    return first, last


def window(first: date, last: date) -> tuple[datetime, datetime]:
    """The period's moments: from ``first``'s Shanghai midnight (inclusive) to the midnight after ``last``
    (exclusive)."""
    start = datetime.combine(first, time(0), tzinfo=SHANGHAI)
    return start, datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI)


# --- numbers and names -----------------------------------------------------------------------------------------

def community_short(community_id: str) -> str:
    """Four stable letters/digits naming the community in a number (base32 of its id's hash)."""
    return base64.b32encode(hashlib.sha256(community_id.encode()).digest()).decode()[:4]


def number_of(year: int, community_id: str, seq: int) -> str:
    return f"{NUMBER_PREFIX}-{year:04d}-{community_short(community_id)}-{seq:06d}"


def sequence_key(community_id: str, year: int) -> str:
    """The counter of the community's numbers of a Shanghai year."""
    return f"certificate-seq#{community_id}#{year}"


def number_key(number: str) -> str:
    """The item that holds a number taken (never deleted)."""
    return f"certificate-number#{number}"


def pending_key(user_id: str) -> str:
    """The item that says the person has a pending request (one at a time)."""
    return f"certificate-pending#{user_id}"


def volunteer_number(user_id: str) -> str:
    """A stable short volunteer number (志愿者编号) shown on the certificate: from the user id, nothing personal."""
    return "TXV-" + base64.b32encode(hashlib.sha256(f"volunteer#{user_id}".encode()).digest()).decode()[:8]


def valid_number(number: str) -> bool:
    return bool(NUMBER.fullmatch(number or ""))


def name_matches(registered: str | None, given: str | None) -> bool:
    """The check's name: the registered real name, compared exactly after trimming both."""
    return bool(registered) and bool(given) and registered.strip() == given.strip()


def masked(name: str | None) -> str | None:
    return mask_name((name or "").strip() or None)


# --- hours and stars -------------------------------------------------------------------------------------------

def star_level(minutes: int) -> str | None:
    """The star level (星级) ``minutes`` reach, or None below 一星 (100 h)."""
    for least, name in STAR_LEVELS:
        if minutes >= least:
            return name
    return None


def hours_text(minutes: int) -> str:
    """``12 小时 30 分钟`` (whole hours and the rest)."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} 分钟"
    return f"{hours} 小时" + (f" {rest} 分钟" if rest else "")


# --- the snapshot's lines --------------------------------------------------------------------------------------

def _cut(text: str | None, most: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= most else text[:most - 1] + "…"


def line(day: date, title: str | None, place: str | None, minutes: int, organiser: str | None,
         kind: str = "event") -> list:
    """One service as the snapshot keeps it: ``[YYYY-MM-DD, title, place, minutes, organiser, kind]``."""
    return [day.isoformat(), _cut(title, TITLE_MAX), _cut(place, PLACE_MAX), int(minutes), _cut(organiser, ORGANISER_MAX),
            kind]


def encode_lines(lines: list[list]) -> bytes:
    return zlib.compress(json.dumps(lines, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 9)


def decode_lines(blob: bytes | None) -> list[list]:
    return json.loads(zlib.decompress(blob).decode("utf-8")) if blob else []


def total_minutes(lines: list[list]) -> int:
    return sum(int(item[3]) for item in lines)


__all__ = ["CERTIFICATE_NOT_FOUND", "CertificatePending", "ISSUED", "MAX_LINES", "MAX_YEARS", "NOT_ISSUED",
           "NOT_PENDING", "NoServices", "PENDING", "PURPOSE_MAX", "REASON_MAX", "REFUSED", "REVOKED",
           "RealNameRequired", "STAR_LEVELS", "STATUSES", "TooManyServices", "community_short", "decode_lines",
           "encode_lines", "hours_text", "line", "masked", "name_matches", "number_key", "number_of",
           "parse_period", "pending_key", "sequence_key", "star_level", "total_minutes", "valid_number",
           "volunteer_number", "window"]
