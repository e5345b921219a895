"""共建项目 (co-building projects, 三张清单's 项目清单) and 群众评单: the rules, pure (no I/O).

A community's admin matches a need (a post of the community's 需求/岗位清单, or a need written out) with a unit that
co-builds with the community (its agreement in force) and, optionally, an item of the unit's 资源清单: that is a
project. States: ``planned`` → ``in_progress`` (the first progress report) → ``done`` (the admin completes it;
final). Progress (a note and a percent 0–100, up or down: a correction is a report too) is reported by the admin or
by the liaison of the project's unit while it is not done, at most ``PROGRESS_MAX`` times. Once it is done the
residents of the community rate it (群众评单), once each, 1–5; the project keeps ``ratings_count`` and
``ratings_sum``, the average is computed when shown. A project may name the grids it served (``served_grid_ids``,
1..``SERVED_GRIDS_MAX`` grids of its community; none: the whole community): then only the residents living in one of
them rate it (``rating_grid_refusal``), the residents it served.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from .clock import SHANGHAI
from .errors import AlreadyRated, Forbidden, InvalidState, NotFound, ValidationFailed

TITLE_MAX = 40
NEED_MAX = 500
BENEFICIARIES_MAX = 200
NOTE_MAX = 500
COMMENT_MAX = 200
PERCENT_MIN, PERCENT_MAX = 0, 100
RATING_MIN, RATING_MAX = 1, 5
# Progress reports a project keeps in its item (with the created and completed steps: ≤ 50 timeline entries of
# ≤ 500 characters, far below DynamoDB's 400 KB item limit).
PROGRESS_MAX = 48
# A project may be recorded after it started (up to a year back), and runs at most three years.
STARTS_BACK_MAX = timedelta(days=366)
DURATION_MAX = timedelta(days=3 * 366)
# Grids a project names as served: a community has a few dozen at most (Heping: 352 grids in 13 streets), and with
# the unit, agreement, resource and post they stay in one BatchGetItem (≤ 100 keys) and one IN condition (≤ 100).
SERVED_GRIDS_MAX = 50
# Dates a person could mean (as times elsewhere: validation.EARLIEST/LATEST).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)

PLANNED, IN_PROGRESS, DONE = "planned", "in_progress", "done"
STATUSES = (PLANNED, IN_PROGRESS, DONE)
OPEN_STATUSES = (PLANNED, IN_PROGRESS)

PROJECT_NOT_FOUND = NotFound("共建项目不存在")
UNIT_NOT_AGREED = NotFound("共建单位不存在，或与本社区没有共建协议", details={"field": "unit_id"})
AGREEMENT_LAPSED = InvalidState("该单位与本社区的共建协议已过期，请先续签协议")
RESOURCE_NOT_FOUND = NotFound("该单位的资源清单中没有这一项", details={"field": "resource_id"})
POST_NOT_FOUND = NotFound("本社区没有这个需求/岗位", details={"field": "need.post_id"})
ALREADY_DONE = InvalidState("这个共建项目已完成，不能再更新进展")
PROGRESS_FULL = InvalidState(f"进展记录已达上限（{PROGRESS_MAX} 条），请完成项目")
NOT_DONE_YET = InvalidState("项目完成后才能评价")
ALREADY_RATED = AlreadyRated()
GRID_NOT_FOUND = NotFound("本社区没有这个网格", details={"field": "served_grid_ids"})
GRID_NOT_SERVED = Forbidden("该项目服务的网格不含你所在的网格，只有受益网格的居民可以评价")


def status_key(community_id: str, status: str) -> str:
    return f"{community_id}#{status}"


def today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def check_dates(starts_on: date, ends_on: date, now: datetime) -> tuple[str, str]:
    """The project's dates as stored (YYYY-MM-DD): within 2000–2099, ``starts_on`` at most a year back, ``ends_on``
    on or after it and at most three years later; else 400 naming the field."""
    for name, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not EARLIEST <= value <= LATEST:
            raise ValidationFailed("日期超出允许范围（2000 年至 2099 年）", details={"field": name})
    if starts_on < today(now) - STARTS_BACK_MAX:
        raise ValidationFailed("开始日期最早为一年前", details={"field": "starts_on"})
    if ends_on < starts_on:
        raise ValidationFailed("结束日期不能早于开始日期", details={"field": "ends_on"})
    if ends_on - starts_on > DURATION_MAX:
        raise ValidationFailed("项目周期最长 3 年", details={"field": "ends_on"})
    return starts_on.isoformat(), ends_on.isoformat()


def check_need(post_id: str | None, text: str | None) -> None:
    """A need is a post of the community's list, a need written out, or both (the text then adds to the post)."""
    if not post_id and not text:
        raise ValidationFailed("请选择一个需求/岗位，或填写需求内容", details={"field": "need"})


def progress_refusal(status: str | None, progress_count: int):
    """Why a progress report cannot be added to a project as it stands (None: it can)."""
    if status is None:
        return PROJECT_NOT_FOUND
    if status == DONE:
        return ALREADY_DONE
    if progress_count >= PROGRESS_MAX:
        return PROGRESS_FULL
    return None


def complete_refusal(status: str | None):
    if status is None:
        return PROJECT_NOT_FOUND
    if status == DONE:
        return InvalidState("这个共建项目已经完成")
    return None


def rating_refusal(status: str | None):
    if status is None:
        return PROJECT_NOT_FOUND
    if status != DONE:
        return NOT_DONE_YET
    return None


def served_grids(grid_ids: list[str] | None) -> list[str]:
    """The grids a project serves as stored (sorted, distinct; [] for the whole community): 400 naming
    ``served_grid_ids`` for a repeated id or more than ``SERVED_GRIDS_MAX``."""
    grid_ids = list(grid_ids or ())
    if len(set(grid_ids)) != len(grid_ids):
        raise ValidationFailed("服务网格不能重复", details={"field": "served_grid_ids"})
    if len(grid_ids) > SERVED_GRIDS_MAX:
        raise ValidationFailed(f"服务网格最多 {SERVED_GRIDS_MAX} 个", details={"field": "served_grid_ids"})
    return sorted(grid_ids)


def rating_grid_refusal(served: set[str] | None, home_grid_id: str | None):
    """Why a resident living in ``home_grid_id`` may not rate a project serving ``served`` (None: they may; a
    project serving the whole community has none)."""
    if served and home_grid_id not in served:
        return GRID_NOT_SERVED
    return None


def status_after_progress(status: str) -> str:
    return IN_PROGRESS if status in OPEN_STATUSES else status
