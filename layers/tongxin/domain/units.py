"""Units (共建单位/驻区单位) and their co-building agreements (共建协议): the rules, pure (no I/O).

A street registers the units within it; a unit names its liaisons (联络员, role ``unit_liaison``) through a one-time
invite of the street; a community's admin signs the unit's agreement with the community (pledges, activities a
quarter, valid until a date); the unit publishes its 资源清单 (resources) and may sponsor goods of the 积分超市.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from .clock import SHANGHAI
from .errors import InviteInvalid, NotFound, ValidationFailed

# The kinds a unit is of (api.md: 机关, 企业, 事业单位, 学校, 医院, 社会组织).
KINDS = ("机关", "企业", "事业单位", "学校", "医院", "社会组织")
INVITE_TTL_DAYS = 7  # an invite to become a unit's liaison: one use, within a week
AGREEMENT_MAX_YEARS = 5
PLEDGES_MIN, PLEDGES_MAX = 1, 10
ACTIVITIES_MIN, ACTIVITIES_MAX = 1, 20

UNIT_NOT_FOUND = NotFound("共建单位不存在")
# A liaison invite is for one person, once; used or expired it is no invite (404 INVITE_INVALID, as a community
# invite past its date is).
INVITE_CODE = re.compile(r"[A-Z0-9]{4,32}")  # what a liaison invite's code is made of (ids.new_code)
INVITE_UNKNOWN = InviteInvalid()
INVITE_USED = InviteInvalid("邀请码已被使用，请向街道索取新的邀请码")
INVITE_EXPIRED = InviteInvalid("邀请码已过期，请向街道索取新的邀请码")
# Removing a liaison (DELETE /v1/street/units/{unit_id}/liaisons/{user_id}) who is none of the unit's.
# A liaison invite asked for as a QR that is none of the unit's, used or expired.
INVITE_NOT_FOUND = NotFound("邀请码不存在、已使用或已过期", details={"field": "code"})
NOT_A_LIAISON = NotFound("该用户不是这个共建单位的联络员", details={"field": "user_id"})


def today(now: datetime) -> date:
    """The community's date (Asia/Shanghai) at ``now``."""
    return now.astimezone(SHANGHAI).date()


def latest_valid_until(now: datetime) -> date:
    """The furthest an agreement may run: five years from today (29 February → 28 February)."""
    start = today(now)
    try:
        return start.replace(year=start.year + AGREEMENT_MAX_YEARS)
    except ValueError:
        return start.replace(year=start.year + AGREEMENT_MAX_YEARS, day=28)


def check_valid_until(valid_until: date, now: datetime) -> str:
    """``valid_until`` as stored (YYYY-MM-DD): after today (Shanghai), at most five years ahead; else 400."""
    if valid_until <= today(now):
        raise ValidationFailed("协议有效期必须晚于今天", details={"field": "valid_until"})
    if valid_until > latest_valid_until(now):
        raise ValidationFailed(f"协议有效期最长 {AGREEMENT_MAX_YEARS} 年", details={"field": "valid_until"})
    return valid_until.isoformat()


def is_valid(valid_until: str | None, now: datetime) -> bool:
    """An agreement is in force through its ``valid_until`` day (Shanghai)."""
    return bool(valid_until) and valid_until >= today(now).isoformat()


def today_key(now: datetime) -> str:
    """Today as an agreement's ``valid_until`` is compared in a condition (strings of one format sort as dates)."""
    return today(now).isoformat()


def invite_expiry(now: datetime, days: int = INVITE_TTL_DAYS) -> datetime:
    return now + timedelta(days=days)
