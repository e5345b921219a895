"""接诉即办 resident requests (诉求), pure: levels, states, who acts when, the clocks, what the scheduler does,
and what statistics count.

    submitted ─accept (响应)─▶ accepted ─resolve (办结)─▶ resolved ─rate 3–5─▶ closed (satisfied)
        │                        │   ▲                     │ rate 1–2, the first time
        │ escalate (吹哨)         │   └──────resolve─── reopened ◀┘ (不满意退回重办, at the level that resolved it)
        ▼                        ▼                          rate 1–2 again ─▶ closed (unsatisfied)
    escalated (at the next level, which must answer: 报到) ─accept─▶ accepted …     7 days unrated ─▶ closed (unrated)

Levels: grid (its grid workers) → community (its admins) → street (the street's staff) → department (the staff of the
district department the street chose: 街呼区应). Each level's clocks start when the request reaches it: answer within
30 min if urgent, else 2 h; solve within 3 days (community settings); a department by its own limits (4 h, 5 days).
Above each level sits the one that approves its 延期 (extension) and may 督办 (supervise) it: the community above the
grid, the street above the community, the district (区) above the street and its departments.
The scheduler escalates an unanswered request past its answer limit (marked late), marks an unsolved one past its
solve limit overdue (the level above told), and closes a resolved one left unrated for 7 days.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from .errors import InvalidState
from .stats import bucket_names, hour_bucket

CATEGORIES = ("环境卫生", "设施维修", "邻里纠纷", "治安隐患", "物业服务", "其他")
CONTENT_MAX, NOTE_MAX, REASON_MAX, COMMENT_MAX, ADDRESS_MAX = 500, 200, 200, 200, 100
DEFAULT_ANSWER_MINUTES, DEFAULT_ANSWER_MINUTES_URGENT, DEFAULT_SOLVE_HOURS = 120, 30, 72
RATE_WITHIN = timedelta(days=7)
DEFAULT_SUBMIT_DAILY_CAP = 10  # requests per resident per Shanghai day (then 429)
# 区直部门: the limits a department works by when neither it nor its district sets them, and their bounds.
DEFAULT_DEPARTMENT_ANSWER_MINUTES, DEFAULT_DEPARTMENT_SOLVE_DAYS = 240, 5
DEPARTMENT_ANSWER_RANGE, DEPARTMENT_SOLVE_DAYS_RANGE = (5, 10080), (1, 90)
# 通报 (the monthly bulletin): a row under any threshold (percent) is flagged; a district's own are stored on it.
BULLETIN_THRESHOLDS = {"satisfaction": 85, "resolution": 90, "response": 95}
EXTENSION_DAYS = (1, 10)  # 延期: days one extension may ask for
DUE_SHARDS = 8
LOW_RATING = 2  # 1–2: not satisfied


class Level(str, Enum):
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DEPARTMENT = "department"


class RequestStatus(str, Enum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"


S, L = RequestStatus, Level
LEVELS = (L.GRID, L.COMMUNITY, L.STREET, L.DEPARTMENT)
LEVEL_LABELS = {L.GRID: "网格", L.COMMUNITY: "社区", L.STREET: "街道", L.DEPARTMENT: "区直部门"}
DISTRICT = "district"  # not a level a request is at: the district's staff oversee the street and its departments
OVERSEER_LABELS = {L.COMMUNITY.value: "社区", L.STREET.value: "街道", DISTRICT: "区"}
WAITING_ANSWER = frozenset({S.SUBMITTED, S.ESCALATED})
IN_HAND = frozenset({S.ACCEPTED, S.REOPENED})
WITH_HANDLER = WAITING_ANSWER | IN_HAND
# action → the states it may start from
FROM_STATES: dict[str, frozenset[RequestStatus]] = {
    "accept": WAITING_ANSWER,
    "resolve": IN_HAND,
    "escalate": WITH_HANDLER,
    "rate": frozenset({S.RESOLVED}),
    "extend": IN_HAND,
    "decide_extension": IN_HAND,
    "supervise": WITH_HANDLER,
}
STATUS_LABELS = {S.SUBMITTED: "待响应", S.ACCEPTED: "处理中", S.ESCALATED: "已吹哨待报到", S.RESOLVED: "已办结待评价",
                 S.REOPENED: "退回重办", S.CLOSED: "已关闭"}
OUTCOMES = ("satisfied", "unsatisfied", "unrated")
ACTION_LABELS = {"submit": "提交诉求", "accept": "响应", "escalate": "吹哨", "auto_escalate": "超时未响应，自动吹哨",
                 "mark_late": "超时未响应", "mark_overdue": "超时未办结", "resolve": "办结", "reopen": "不满意，退回重办",
                 "close": "评价并关闭", "close_unrated": "7 天未评价，自动关闭", "extend": "申请延期",
                 "extension_approved": "同意延期", "extension_rejected": "驳回延期", "supervise": "督办"}
CARDS = ("none", "yellow", "red")


def invalid_state(action: str, status: str, message: str | None = None) -> InvalidState:
    label = STATUS_LABELS.get(S(status), status)
    return InvalidState(message or f"诉求当前为“{label}”，不能进行此操作", details={"status": status, "action": action})


NO_LEVEL_ABOVE = "已到最高层级（区直部门），无法继续吹哨"
NO_STREET = "本社区尚未归属街道，无法吹哨到街道"
NO_DISTRICT = "本街道尚未归属区，无法吹哨到区直部门"
NO_OVERSEER = "当前层级没有上一级可以审批延期"


# --- levels and clocks ---------------------------------------------------------------------------------------

def first_level(grid_id: str | None) -> Level:
    """A resident with a grid starts there; one without (joined before grids) starts at the community."""
    return L.GRID if grid_id else L.COMMUNITY


def level_above(level: Level | str, street_id: str | None) -> Level | None:
    """The level the scheduler's 吹哨 leads to (None at the street and its departments, or at a community that
    belongs to no street). From the street, only a person escalates: to the department they choose."""
    level = L(level)
    if level is L.GRID:
        return L.COMMUNITY
    if level is L.COMMUNITY and street_id:
        return L.STREET
    return None


def overseer(level: Level | str, street_id: str | None, district_id: str | None) -> str | None:
    """Who oversees a level — approves its extensions (延期), may supervise it (督办), is told when it is overdue:
    ``community`` above the grid, ``street`` above the community, ``district`` above the street and the
    departments; None where there is nobody (a community in no street, a street in no district)."""
    level = L(level)
    if level is L.GRID:
        return L.COMMUNITY.value
    if level is L.COMMUNITY:
        return L.STREET.value if street_id else None
    return DISTRICT if district_id else None


def department_limits(department_answer: int | None, department_solve_days: int | None,
                      district_answer: int | None, district_solve_days: int | None) -> tuple[int, int]:
    """(answer minutes, solve minutes) at a department: its own, else its district's, else 240 min and 5 days."""
    answer = department_answer or district_answer or DEFAULT_DEPARTMENT_ANSWER_MINUTES
    days = department_solve_days or district_solve_days or DEFAULT_DEPARTMENT_SOLVE_DAYS
    return int(answer), int(days) * 24 * 60


def district_settings(district) -> dict:
    """A district's settings in force (its stored values, else the defaults)."""
    def value(name: str, default: int) -> int:
        stored = getattr(district, name, None)
        return int(stored) if stored is not None else default
    return {"department_answer_minutes": value("department_answer_minutes", DEFAULT_DEPARTMENT_ANSWER_MINUTES),
            "department_solve_days": value("department_solve_days", DEFAULT_DEPARTMENT_SOLVE_DAYS),
            **{f"bulletin_{name}_min": value(f"bulletin_{name}_min", default)
               for name, default in BULLETIN_THRESHOLDS.items()}}


def card(status: RequestStatus | str, *, solve_due: datetime | None, overdue: bool, late: bool, supervised: bool,
         now: datetime) -> str:
    """The card a request carries: ``red`` past its solve limit (still with a handler) or ever marked overdue;
    else ``yellow`` when answered late (or marked late) or supervised (督办); else ``none``."""
    past = S(status) in WITH_HANDLER and solve_due is not None and solve_due <= now
    if past or overdue:
        return "red"
    return "yellow" if late or supervised else "none"


@dataclass(frozen=True)
class Limits:
    answer_minutes: int
    answer_minutes_urgent: int
    solve_hours: int

    def answer_within(self, urgent: bool) -> int:
        return self.answer_minutes_urgent if urgent else self.answer_minutes


def clocks(arrived_at: datetime, answer_minutes: int, solve_minutes: int) -> tuple[datetime, datetime]:
    """(answer due, solve due) for a level reached at ``arrived_at``."""
    return arrived_at + timedelta(minutes=answer_minutes), arrived_at + timedelta(minutes=solve_minutes)


def next_due(status: RequestStatus | str, *, answer_due: datetime | None, solve_due: datetime | None,
             late_here: bool, overdue_here: bool, resolved_at: datetime | None) -> datetime | None:
    """When the scheduler must next look at the request (None: never again)."""
    status = S(status)
    candidates = []
    if status in WAITING_ANSWER and not late_here and answer_due is not None:
        candidates.append(answer_due)
    if status in WITH_HANDLER and not overdue_here and solve_due is not None:
        candidates.append(solve_due)
    if status is S.RESOLVED and resolved_at is not None:
        candidates.append(resolved_at + RATE_WITHIN)
    return min(candidates) if candidates else None


def handler_due(status: RequestStatus | str, answer_due: datetime | None, solve_due: datetime | None) -> datetime | None:
    """The deadline the current level's handlers work to: the answer while unanswered, then the solution."""
    return answer_due if S(status) in WAITING_ANSWER else solve_due


def scheduled_step(status: RequestStatus | str, *, level: Level | str, street_id: str | None,
                   answer_due: datetime | None, solve_due: datetime | None, late_here: bool, overdue_here: bool,
                   resolved_at: datetime | None, now: datetime) -> str | None:
    """What the scheduler does to a due request: ``auto_escalate``, ``mark_late``, ``mark_overdue``,
    ``close_unrated`` or nothing (not due, or done already)."""
    status = S(status)
    if status is S.RESOLVED:
        return "close_unrated" if resolved_at is not None and resolved_at + RATE_WITHIN <= now else None
    if status in WAITING_ANSWER and not late_here and answer_due is not None and answer_due <= now:
        return "auto_escalate" if level_above(level, street_id) is not None else "mark_late"
    if status in WITH_HANDLER and not overdue_here and solve_due is not None and solve_due <= now:
        return "mark_overdue"
    return None


def rating_result(satisfaction: int, reopened_before: bool) -> tuple[RequestStatus, str | None]:
    """(the status a rating leads to, the outcome if it closes): 1–2 reopens once, then closes unsatisfied."""
    if satisfaction <= LOW_RATING:
        return (S.CLOSED, "unsatisfied") if reopened_before else (S.REOPENED, None)
    return S.CLOSED, "satisfied"


# --- keys ----------------------------------------------------------------------------------------------------

def handler_key(level: Level | str, community_id: str, grid_id: str | None, street_id: str | None,
                department_id: str | None = None) -> str:
    """The queue of the level's handlers (index by_handler)."""
    level = L(level)
    if level is L.GRID:
        return f"g#{community_id}#{grid_id}"
    if level is L.COMMUNITY:
        return f"c#{community_id}"
    if level is L.DEPARTMENT:
        return f"p#{department_id}"
    return f"s#{street_id}"


def due_shard(request_id: str) -> str:
    return f"due#{zlib.crc32(request_id.encode()) % DUE_SHARDS}"


def submit_counter(user_id: str, day: str) -> str:
    return f"request-submit#{user_id}#{day}"


# --- statistics ----------------------------------------------------------------------------------------------

# Upper edges (minutes) of the time-to-answer histogram: answers are minutes, not hours, apart.
MINUTE_EDGES = (5, 10, 15, 30, 60, 120, 240, 480, 1440, 2880, 4320)
FACTS = ("received", "answered", "answered_on_time", "late", "escalated", "resolved", "overdue", "reopened",
         "satisfied", "unsatisfied", "unrated")
# Kept beside FACTS for 响应率's denominator, not shown: the first answer came (or is bound to come) late — answered
# past the limit, or marked late before anyone answered. With ``answered_on_time`` it splits the requests whose
# first answer is decided into two, each counted once: ``late`` alone would count again a request answered in time
# at the grid and late at a level above.
FIRST_ANSWER_LATE = "first_answer_late"
# Kept for the monthly bulletin (通报, ``domain/bulletin.py``), not shown in the statistics: the first resolution
# came before the solve limit in force then (not overdue at that level at that moment), and an extension (延期)
# was approved at some level.
RESOLVED_ON_TIME, EXTENDED = "resolved_on_time", "extended"


def minute_bucket(seconds: float) -> int:
    from bisect import bisect_left
    return bisect_left(MINUTE_EDGES, seconds / 60)


def facts(request: dict) -> set[str]:
    """What a request counts as, from its fields (every fact, once true, stays true)."""
    found = {"received"}
    if request.get("first_answered_at"):
        found.add("answered")
        found.add("answered_on_time" if request.get("answered_on_time") else FIRST_ANSWER_LATE)
    if request.get("late"):
        found.add("late")
        if not request.get("first_answered_at"):
            found.add(FIRST_ANSWER_LATE)  # answered later, it stays late: no answer after a late mark is in time
    if request.get("escalated"):
        found.add("escalated")
    if request.get("first_resolved_at"):
        found.add("resolved")
        if request.get("resolved_on_time"):
            found.add(RESOLVED_ON_TIME)
    if request.get("extended"):
        found.add(EXTENDED)
    if request.get("overdue"):
        found.add("overdue")
    if request.get("reopened_at"):
        found.add("reopened")
    if request.get("outcome"):
        found.add(request["outcome"])
    return found


def deltas(before: dict | None, after: dict) -> dict[str, int]:
    """What one step adds to the request's statistics buckets: each new fact for the whole community (``n:``), its
    category (``c:<category>:``) and its grid (``g:<grid>:``), and the time to first answer (minutes) and to
    first resolution (hours) as histograms."""
    new = facts(after) - (facts(before) if before is not None else set())
    groups = ("n:", f"c:{after['category']}:", f"g:{after.get('grid_id') or '-'}:")
    counted = {f"{group}{fact}": 1 for fact in new for group in groups}
    created = after["created_at"]
    if "answered" in new:
        counted[f"h2a:{minute_bucket((after['first_answered_at'] - created).total_seconds())}"] = 1
    if "resolved" in new:
        counted[f"h2r:{hour_bucket((after['first_resolved_at'] - created).total_seconds())}"] = 1
    return counted


def stats_key(community_id: str, bucket: str) -> str:
    return f"stats#requests#{community_id}#{bucket}"


def stats_keys(community_id: str, created_at: datetime) -> list[str]:
    """The statistics items a request counts in: its submission day and month (Asia/Shanghai)."""
    return [stats_key(community_id, bucket) for bucket in bucket_names(created_at)]


def dept_stats_key(department_id: str, bucket: str) -> str:
    return f"stats#requests-dept#{department_id}#{bucket}"


def dept_stats_keys(department_id: str, created_at: datetime) -> list[str]:
    """A department's statistics items for a request it was sent: the request's submission day and month."""
    return [dept_stats_key(department_id, bucket) for bucket in bucket_names(created_at)]


def department_marks(before: dict, after: dict) -> set[str]:
    """The department's own facts after one step (``before`` → ``after``, the request's fields): the request reaches
    a department once (it is the last level), so from then on each step may add what the department did — its
    first move answered in its own answer limit (``answered_on_time``) or late (``first_answer_late``: answered
    past it, or marked late first), its first resolution (``resolved``, with ``resolved_on_time`` before its solve
    limit and not overdue), ``overdue``, an extension approved there (``extended``), and the rating of its result.
    What the request was before it arrived (the grid's answer, a street's extension) is not the department's."""
    marks = set(after.get("department_facts") or ())
    if after.get("level") != L.DEPARTMENT.value:
        return marks
    here = before.get("level") == L.DEPARTMENT.value
    if not marks & {"answered_on_time", FIRST_ANSWER_LATE}:
        if after.get("late_here"):
            marks.add(FIRST_ANSWER_LATE)
        elif here and RequestStatus(before["status"]) in WAITING_ANSWER \
                and RequestStatus(after["status"]) not in WAITING_ANSWER:
            marks.add("answered_on_time")
    if here and after["status"] == RequestStatus.RESOLVED.value and "resolved" not in marks:
        marks.add("resolved")
        if not before.get("overdue_here") and after.get("solve_due") and after["resolved_at"] <= after["solve_due"]:
            marks.add(RESOLVED_ON_TIME)
    if after.get("overdue_here"):
        marks.add("overdue")
    if here and before.get("extension_level") == L.DEPARTMENT.value and not after.get("extension_level") \
            and after.get("solve_due") and before.get("solve_due") and after["solve_due"] > before["solve_due"]:
        marks.add(EXTENDED)
    if here and after.get("outcome") and not before.get("outcome"):
        marks.add(after["outcome"])
    return marks


def dept_deltas(before: dict | None, after: dict) -> dict[str, int]:
    """What one step adds to the buckets of the department the request is at (``after['department_id']``): the
    step that sends it there counts it ``received``; each later step the department's new own facts
    (``department_marks``, kept on the request as ``department_facts``), for the whole department (``n:``) and
    its category (``c:<category>:``)."""
    if not after.get("department_id"):
        return {}
    arriving = before is None or before.get("department_id") != after["department_id"]
    was = set() if arriving else {"received"} | set(before.get("department_facts") or ())
    new = ({"received"} | set(after.get("department_facts") or ())) - was
    return {f"{group}{fact}": 1 for fact in new for group in ("n:", f"c:{after['category']}:")}
