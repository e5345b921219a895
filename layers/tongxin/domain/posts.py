"""Posts (岗位/需求清单) and claiming them (领岗): pure rules, no I/O.

- A post has a headcount (1–100) and ``claimed_count``; statuses ``open`` → ``full`` (the claim that takes the last
  place) → ``open`` again (a withdrawal frees a place) and ``closed`` (the community's admin; final).
- A post may carry a ``due`` (after now, at most a year ahead): claims and withdrawals happen before it. Past it a
  post stays as stored (its status is not rewritten by a job) and answers ``past_due: true``.
- One claim per person and post. Who may claim: a party member (党员) of the post's community, or the liaison of a
  unit (共建单位联络员) whose co-building agreement (共建协议) with the community is in force (``domain/units.is_valid``:
  through its ``valid_until`` day).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .errors import AlreadyClaimed, InvalidState, NotFound, PostFull, ValidationFailed

TITLE_MAX = 30
DESCRIPTION_MAX = 500
SKILLS_MAX = 10
SKILL_MAX = 10
HEADCOUNT_MIN, HEADCOUNT_MAX = 1, 100
DUE_MAX_AHEAD = timedelta(days=366)

OPEN, FULL, CLOSED = "open", "full", "closed"
STATUSES = (OPEN, FULL, CLOSED)
CLAIMER_ROLES = ("party_member", "unit_liaison")

POST_NOT_FOUND = NotFound("岗位不存在")
ALREADY_CLAIMED = AlreadyClaimed("您已认领这个岗位，无需重复认领")
POST_FULL = PostFull()
CLOSED_POST = InvalidState("这个岗位已关闭，不能再认领或退出")
PAST_DUE = InvalidState("这个岗位已过截止时间")
NOT_CLAIMED = InvalidState("您没有认领这个岗位")


def status_key(community_id: str, status: str) -> str:
    return f"{community_id}#{status}"


def check_due(due: datetime | None, now: datetime) -> None:
    """A due date is in the future and at most a year ahead (400 naming ``due``)."""
    if due is None:
        return
    if due <= now:
        raise ValidationFailed("截止时间需晚于当前时间", details={"field": "due"})
    if due > now + DUE_MAX_AHEAD:
        raise ValidationFailed("截止时间不能晚于一年以后", details={"field": "due"})


def past_due(due: datetime | None, now: datetime) -> bool:
    return due is not None and due <= now


def status_after_claim(claimed_before: int, headcount: int) -> str:
    """The status a claim leaves: ``full`` when it takes the last place."""
    return FULL if claimed_before + 1 >= headcount else OPEN


def claim_refusal(status: str | None, claimed_count: int, headcount: int, due: datetime | None, now: datetime):
    """Why a claim cannot be made on a post as it stands (None: it can)."""
    if status is None:
        return POST_NOT_FOUND
    if status == CLOSED:
        return CLOSED_POST
    if past_due(due, now):
        return PAST_DUE
    if status == FULL or claimed_count >= headcount:
        return POST_FULL
    return None


def withdraw_refusal(status: str | None, due: datetime | None, now: datetime):
    """Why a claimant cannot give a post back (None: they can)."""
    if status is None:
        return POST_NOT_FOUND
    if status == CLOSED:
        return CLOSED_POST
    if past_due(due, now):
        return PAST_DUE
    return None


def clean_skills(skills: list[str]) -> list[str]:
    """Skills as given, without repeats (first kept), order kept."""
    seen: list[str] = []
    for skill in skills:
        if skill not in seen:
            seen.append(skill)
    return seen


__all__ = ["ALREADY_CLAIMED", "CLAIMER_ROLES", "CLOSED", "CLOSED_POST", "DESCRIPTION_MAX", "DUE_MAX_AHEAD", "FULL",
           "HEADCOUNT_MAX", "HEADCOUNT_MIN", "NOT_CLAIMED", "OPEN", "PAST_DUE", "POST_FULL", "POST_NOT_FOUND",
           "SKILLS_MAX", "SKILL_MAX", "STATUSES", "TITLE_MAX", "check_due", "claim_refusal", "clean_skills", "past_due",
           "status_after_claim", "status_key", "withdraw_refusal"]
