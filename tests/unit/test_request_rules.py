"""接诉即办 rules without I/O: the levels, the clocks, what the scheduler does when, ratings, and what a step adds
to the statistics."""
from datetime import datetime, timedelta, timezone

import pytest

from tongxin.domain import requests as rules
from tongxin.domain.errors import InvalidState
from tongxin.domain.requests import Level as L, RequestStatus as S

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
MIN = timedelta(minutes=1)
LATE_FIRST = rules.FIRST_ANSWER_LATE


# --- levels ----------------------------------------------------------------------------------------------------

def test_a_resident_starts_at_their_grid_or_else_the_community():
    assert rules.first_level("g1") is L.GRID
    assert rules.first_level(None) is L.COMMUNITY
    assert rules.first_level("") is L.COMMUNITY


@pytest.mark.parametrize("level, street, above", [
    (L.GRID, "st1", L.COMMUNITY),
    (L.GRID, None, L.COMMUNITY),  # the community is always above a grid
    ("grid", None, L.COMMUNITY),
    (L.COMMUNITY, "st1", L.STREET),
    (L.COMMUNITY, None, None),  # a community in no street is the top
    (L.COMMUNITY, "", None),
    (L.STREET, "st1", None),
    ("street", None, None),
])
def test_the_level_above(level, street, above):
    assert rules.level_above(level, street) == above


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError):
        rules.level_above("district", "st1")


def test_each_level_has_its_own_queue():
    assert rules.handler_key(L.GRID, "c1", "g1", "st1") == "g#c1#g1"
    assert rules.handler_key("community", "c1", "g1", "st1") == "c#c1"
    assert rules.handler_key(L.STREET, "c1", "g1", "st1") == "s#st1"
    assert rules.handler_key(L.STREET, "c2", None, "st1") == rules.handler_key(L.STREET, "c1", "g9", "st1")


# --- clocks --------------------------------------------------------------------------------------------------

def test_limits_urgent_and_normal():
    limits = rules.Limits(answer_minutes=120, answer_minutes_urgent=30, solve_hours=72)
    assert limits.answer_within(True) == 30 and limits.answer_within(False) == 120
    assert (rules.DEFAULT_ANSWER_MINUTES, rules.DEFAULT_ANSWER_MINUTES_URGENT, rules.DEFAULT_SOLVE_HOURS) == \
        (120, 30, 72)


def test_clocks_start_when_the_level_is_reached():
    assert rules.clocks(T0, 30, 72 * 60) == (T0 + timedelta(minutes=30), T0 + timedelta(hours=72))
    later = T0 + timedelta(hours=5)
    assert rules.clocks(later, 120, 60) == (later + timedelta(hours=2), later + timedelta(hours=1))


def test_handlers_work_to_the_answer_then_to_the_solution():
    answer, solve = T0 + 30 * MIN, T0 + timedelta(hours=72)
    for status in (S.SUBMITTED, S.ESCALATED):
        assert rules.handler_due(status, answer, solve) == answer
    for status in (S.ACCEPTED, S.REOPENED, "accepted"):
        assert rules.handler_due(status, answer, solve) == solve


ANSWER, SOLVE, RESOLVED = T0 + 120 * MIN, T0 + timedelta(hours=72), T0 + timedelta(hours=5)


@pytest.mark.parametrize("status, late, overdue, resolved_at, due", [
    (S.SUBMITTED, False, False, None, ANSWER),  # the answer limit comes first
    (S.ESCALATED, False, False, None, ANSWER),
    (S.SUBMITTED, True, False, None, SOLVE),  # late marked: only the solve limit is left
    (S.SUBMITTED, True, True, None, None),  # both marked: nothing left until someone acts
    (S.ACCEPTED, False, False, None, SOLVE),
    (S.REOPENED, False, False, None, SOLVE),
    (S.ACCEPTED, False, True, None, None),
    (S.RESOLVED, False, False, RESOLVED, RESOLVED + timedelta(days=7)),  # the rating window
    (S.RESOLVED, True, True, RESOLVED, RESOLVED + timedelta(days=7)),
    (S.RESOLVED, False, False, None, None),
    (S.CLOSED, False, False, RESOLVED, None),
])
def test_next_due(status, late, overdue, resolved_at, due):
    assert rules.next_due(status, answer_due=ANSWER, solve_due=SOLVE, late_here=late, overdue_here=overdue,
                          resolved_at=resolved_at) == due


def test_next_due_is_the_earlier_limit_when_the_solve_limit_comes_first():
    # A community that gives one hour to solve and two to answer: the solve limit is the first to look at.
    assert rules.next_due(S.SUBMITTED, answer_due=T0 + 120 * MIN, solve_due=T0 + 60 * MIN, late_here=False,
                          overdue_here=False, resolved_at=None) == T0 + 60 * MIN


# --- the scheduler's table ---------------------------------------------------------------------------------------

def scheduled(status, level=L.GRID, street="st1", late=False, overdue=False, resolved_at=None, now=T0):
    return rules.scheduled_step(status, level=level, street_id=street, answer_due=ANSWER, solve_due=SOLVE,
                                late_here=late, overdue_here=overdue, resolved_at=resolved_at, now=now)


@pytest.mark.parametrize("status, level, street, late, overdue, resolved_at, now, step", [
    # not due yet
    (S.SUBMITTED, L.GRID, "st1", False, False, None, ANSWER - MIN, None),
    (S.ACCEPTED, L.GRID, "st1", False, False, None, SOLVE - MIN, None),
    (S.RESOLVED, L.GRID, "st1", False, False, RESOLVED, RESOLVED + timedelta(days=7) - MIN, None),
    # past the answer limit: up a level, or marked late at the top
    (S.SUBMITTED, L.GRID, "st1", False, False, None, ANSWER, "auto_escalate"),
    (S.SUBMITTED, L.GRID, None, False, False, None, ANSWER, "auto_escalate"),
    (S.ESCALATED, L.COMMUNITY, "st1", False, False, None, ANSWER + MIN, "auto_escalate"),
    (S.ESCALATED, L.COMMUNITY, None, False, False, None, ANSWER + MIN, "mark_late"),
    (S.ESCALATED, L.STREET, "st1", False, False, None, ANSWER + MIN, "mark_late"),
    (S.ESCALATED, L.STREET, "st1", True, False, None, ANSWER + MIN, None),  # marked once
    # answered: the answer limit no longer matters
    (S.ACCEPTED, L.GRID, "st1", False, False, None, ANSWER + MIN, None),
    # past the solve limit: overdue, once, whoever holds it
    (S.ACCEPTED, L.GRID, "st1", False, False, None, SOLVE, "mark_overdue"),
    (S.REOPENED, L.STREET, "st1", False, False, None, SOLVE + MIN, "mark_overdue"),
    (S.ESCALATED, L.STREET, "st1", True, False, None, SOLVE + MIN, "mark_overdue"),
    (S.ACCEPTED, L.GRID, "st1", False, True, None, SOLVE + MIN, None),
    # unanswered past both limits: escalation first (the next level's clocks start afresh)
    (S.SUBMITTED, L.GRID, "st1", False, False, None, SOLVE + MIN, "auto_escalate"),
    (S.ESCALATED, L.STREET, "st1", False, False, None, SOLVE + MIN, "mark_late"),
    # resolved: only the rating window
    (S.RESOLVED, L.GRID, "st1", False, False, RESOLVED, RESOLVED + timedelta(days=7), "close_unrated"),
    (S.RESOLVED, L.STREET, "st1", False, False, RESOLVED, SOLVE + timedelta(days=30), "close_unrated"),
    (S.RESOLVED, L.GRID, "st1", False, False, None, SOLVE + timedelta(days=30), None),
    # closed: never again
    (S.CLOSED, L.GRID, "st1", False, False, RESOLVED, SOLVE + timedelta(days=30), None),
])
def test_scheduled_step(status, level, street, late, overdue, resolved_at, now, step):
    assert scheduled(status, level, street, late, overdue, resolved_at, now) == step


def test_every_due_time_leads_to_a_step():
    """Whatever next_due names, scheduled_step acts on at that moment (the scheduler never selects a request to
    do nothing with it, and never skips one that is due)."""
    cases = [(S.SUBMITTED, False, False, None), (S.SUBMITTED, True, False, None), (S.ACCEPTED, False, False, None),
             (S.REOPENED, False, False, None), (S.ESCALATED, True, False, None), (S.RESOLVED, False, False, RESOLVED)]
    for status, late, overdue, resolved_at in cases:
        due = rules.next_due(status, answer_due=ANSWER, solve_due=SOLVE, late_here=late, overdue_here=overdue,
                             resolved_at=resolved_at)
        for level, street in ((L.GRID, "st1"), (L.COMMUNITY, None), (L.STREET, "st1")):
            assert scheduled(status, level, street, late, overdue, resolved_at, due - MIN) is None, status
            assert scheduled(status, level, street, late, overdue, resolved_at, due) is not None, status


# --- states and ratings ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("satisfaction, reopened_before, result", [
    (5, False, (S.CLOSED, "satisfied")),
    (3, False, (S.CLOSED, "satisfied")),
    (3, True, (S.CLOSED, "satisfied")),
    (2, False, (S.REOPENED, None)),
    (1, False, (S.REOPENED, None)),
    (2, True, (S.CLOSED, "unsatisfied")),
    (1, True, (S.CLOSED, "unsatisfied")),
])
def test_rating_reopens_once_then_closes(satisfaction, reopened_before, result):
    assert rules.rating_result(satisfaction, reopened_before) == result


def test_which_states_each_action_starts_from():
    assert rules.FROM_STATES["accept"] == {S.SUBMITTED, S.ESCALATED}
    assert rules.FROM_STATES["resolve"] == {S.ACCEPTED, S.REOPENED}
    assert rules.FROM_STATES["escalate"] == {S.SUBMITTED, S.ESCALATED, S.ACCEPTED, S.REOPENED}
    assert rules.FROM_STATES["rate"] == {S.RESOLVED}
    assert not any(S.CLOSED in starts for starts in rules.FROM_STATES.values())


def test_invalid_state_names_the_state_and_action():
    error = rules.invalid_state("accept", "closed")
    assert isinstance(error, InvalidState) and error.code == "INVALID_STATE"
    assert error.details == {"status": "closed", "action": "accept"} and "已关闭" in error.message


def test_every_status_level_and_action_has_a_label():
    assert set(rules.STATUS_LABELS) == set(S)
    assert set(rules.LEVEL_LABELS) == set(L)
    assert {"submit", "accept", "escalate", "auto_escalate", "mark_late", "mark_overdue", "resolve", "reopen",
            "close", "close_unrated"} <= set(rules.ACTION_LABELS)


# --- keys ------------------------------------------------------------------------------------------------------

def test_due_shards_are_stable_and_spread():
    assert rules.due_shard("rq_1") == rules.due_shard("rq_1")
    shards = {rules.due_shard(f"rq_{i}") for i in range(400)}
    assert shards == {f"due#{n}" for n in range(rules.DUE_SHARDS)}


def test_the_daily_submission_counter_is_per_person_and_day():
    assert rules.submit_counter("u1", "2026-12-01") != rules.submit_counter("u1", "2026-12-02")
    assert rules.submit_counter("u1", "2026-12-01") != rules.submit_counter("u2", "2026-12-01")


def test_a_request_counts_in_its_shanghai_day_and_month():
    # 2026-11-30 16:30 UTC is 2026-12-01 00:30 in Shanghai.
    assert rules.stats_keys("c1", datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == [
        "stats#requests#c1#d#2026-12-01", "stats#requests#c1#m#2026-12"]
    assert rules.stats_keys("c1", datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == [
        "stats#requests#c1#d#2026-11-30", "stats#requests#c1#m#2026-11"]


# --- statistics ------------------------------------------------------------------------------------------------

def request(**fields):
    return {"category": "环境卫生", "grid_id": "g1", "created_at": T0, "first_answered_at": None,
            "answered_on_time": None, "late": False, "escalated": False, "first_resolved_at": None,
            "overdue": False, "reopened_at": None, "outcome": None, **fields}


def test_facts_of_a_request():
    assert rules.facts(request()) == {"received"}
    assert rules.facts(request(first_answered_at=T0, answered_on_time=True)) == {"received", "answered",
                                                                                "answered_on_time"}
    assert rules.facts(request(first_answered_at=T0, answered_on_time=False, late=True)) == {
        "received", "answered", "late", LATE_FIRST}
    assert rules.facts(request(late=True, escalated=True, overdue=True)) == {"received", "late", "escalated",
                                                                             "overdue", LATE_FIRST}
    # Answered in time at the grid, late at the community: late, but its first answer was in time.
    assert rules.facts(request(first_answered_at=T0, answered_on_time=True, late=True, escalated=True)) == {
        "received", "answered", "answered_on_time", "late", "escalated"}
    assert rules.facts(request(first_resolved_at=T0, reopened_at=T0, outcome="unsatisfied")) == {
        "received", "resolved", "reopened", "unsatisfied"}
    assert rules.facts(request(outcome="unrated")) == {"received", "unrated"}


def test_each_decided_first_answer_counts_once_on_time_or_late():
    """响应率's two halves: whatever happens, a request is in at most one, once in it it stays, and once answered
    it is in exactly one."""
    lives = [
        [request(), request(first_answered_at=T0, answered_on_time=True),
         request(first_answered_at=T0, answered_on_time=True, late=True, escalated=True)],
        [request(), request(late=True, escalated=True),
         request(late=True, escalated=True, first_answered_at=T0, answered_on_time=False)],
        [request(), request(first_answered_at=T0, answered_on_time=False, late=True)],
    ]
    for life in lives:
        before = set()
        for moment in life:
            now = rules.facts(moment) & {"answered_on_time", LATE_FIRST}
            assert len(now) <= 1 and before <= now, life
            if moment["first_answered_at"]:
                assert len(now) == 1
            before = now


def test_submission_counts_received_for_the_community_its_category_and_its_grid():
    assert rules.deltas(None, request()) == {"n:received": 1, "c:环境卫生:received": 1, "g:g1:received": 1}
    assert rules.deltas(None, request(grid_id=None)) == {"n:received": 1, "c:环境卫生:received": 1,
                                                         "g:-:received": 1}


def test_a_step_counts_only_what_is_new():
    before = request()
    answered = request(first_answered_at=T0 + 7 * MIN, answered_on_time=True)
    assert rules.deltas(before, answered) == {
        "n:answered": 1, "c:环境卫生:answered": 1, "g:g1:answered": 1,
        "n:answered_on_time": 1, "c:环境卫生:answered_on_time": 1, "g:g1:answered_on_time": 1,
        "h2a:1": 1}  # 7 minutes: the 5–10 minute bucket
    assert rules.deltas(answered, answered) == {}  # a step that changes no fact counts nothing
    resolved = {**answered, "first_resolved_at": T0 + timedelta(hours=3)}
    assert rules.deltas(answered, resolved) == {"n:resolved": 1, "c:环境卫生:resolved": 1, "g:g1:resolved": 1,
                                                "h2r:2": 1}  # 3 hours: the 2–4 hour bucket
    # A second resolution (after a reopen) keeps the first: counted once.
    reopened = {**resolved, "reopened_at": T0 + timedelta(hours=4)}
    assert rules.deltas(resolved, reopened) == {"n:reopened": 1, "c:环境卫生:reopened": 1, "g:g1:reopened": 1}
    closed = {**reopened, "outcome": "unsatisfied"}
    assert rules.deltas(reopened, closed) == {"n:unsatisfied": 1, "c:环境卫生:unsatisfied": 1,
                                              "g:g1:unsatisfied": 1}


def test_escalation_and_late_marks_count_once():
    before = request()
    escalated = request(late=True, escalated=True)
    assert rules.deltas(before, escalated) == {f"{g}{fact}": 1 for g in ("n:", "c:环境卫生:", "g:g1:")
                                               for fact in ("late", "escalated", LATE_FIRST)}
    assert rules.deltas(escalated, {**escalated}) == {}
    # Answered at last, after the late mark: an answer, not a second late one.
    answered = {**escalated, "first_answered_at": T0 + timedelta(hours=3), "answered_on_time": False}
    assert rules.deltas(escalated, answered) == {"n:answered": 1, "c:环境卫生:answered": 1, "g:g1:answered": 1,
                                                 "h2a:6": 1}
    # In time at the grid, late at the community: late counted, the first answer stays in time.
    in_time = request(first_answered_at=T0, answered_on_time=True)
    assert rules.deltas(in_time, {**in_time, "late": True, "escalated": True}) == {
        f"{g}{fact}": 1 for g in ("n:", "c:环境卫生:", "g:g1:") for fact in ("late", "escalated")}


@pytest.mark.parametrize("minutes, bucket", [(0, 0), (5, 0), (5.5, 1), (30, 3), (120, 5), (121, 6), (180, 6),
                                             (4320, 10), (5000, 11)])
def test_minute_buckets(minutes, bucket):
    assert rules.minute_bucket(minutes * 60) == bucket


# --- 通报 facts ---------------------------------------------------------------------------------------------------

def test_bulletin_facts_resolved_on_time_and_extended():
    assert rules.facts(request(first_resolved_at=T0, resolved_on_time=True)) == {
        "received", "resolved", rules.RESOLVED_ON_TIME}
    assert rules.facts(request(first_resolved_at=T0, resolved_on_time=False)) == {"received", "resolved"}
    assert rules.facts(request(extended=True)) == {"received", rules.EXTENDED}
    extended = request(extended=True)
    assert rules.deltas(request(), extended) == {"n:extended": 1, "c:环境卫生:extended": 1, "g:g1:extended": 1}
    assert rules.deltas(extended, extended) == {}


def test_department_counts_from_the_step_that_sends_it_there():
    assert rules.dept_stats_keys("p1", datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == [
        "stats#requests-dept#p1#d#2026-12-01", "stats#requests-dept#p1#m#2026-12"]
    before = request(first_answered_at=T0, answered_on_time=True, late=True, escalated=True, extended=True)
    assert rules.dept_deltas(before, before) == {}  # not at a department
    arrived = {**before, "department_id": "p1"}
    # received there; what was true before (answered on time at the grid, late, extended) is not the department's
    assert rules.dept_deltas(before, arrived) == {"n:received": 1, "c:环境卫生:received": 1}
    done = {**arrived, "department_facts": {"answered_on_time", "resolved", rules.RESOLVED_ON_TIME}}
    assert rules.dept_deltas(arrived, done) == {f"{g}{fact}": 1 for g in ("n:", "c:环境卫生:")
                                                for fact in ("answered_on_time", "resolved", rules.RESOLVED_ON_TIME)}
    assert rules.dept_deltas(done, done) == {}


D = rules.L.DEPARTMENT.value
DUE = T0 + timedelta(days=5)


def at_dept(**fields):
    return {"level": D, "status": "escalated", "late_here": False, "overdue_here": False, "solve_due": DUE,
            "resolved_at": None, "extension_level": None, "outcome": None, "department_facts": None, **fields}


def test_a_departments_own_marks_follow_its_own_steps():
    arriving = at_dept(level="street", status="accepted")
    assert rules.department_marks(arriving, at_dept()) == set()                # arriving is not answering
    assert rules.department_marks(at_dept(), at_dept(status="accepted")) == {"answered_on_time"}
    late = rules.department_marks(at_dept(), at_dept(late_here=True))          # marked late before any answer
    assert late == {rules.FIRST_ANSWER_LATE}
    answered_late = at_dept(status="accepted", late_here=True, department_facts=late)
    assert rules.department_marks(at_dept(late_here=True, department_facts=late), answered_late) == late
    # resolved straight from waiting: answered and resolved, on time
    resolved = at_dept(status="resolved", resolved_at=T0 + timedelta(days=1))
    assert rules.department_marks(at_dept(), resolved) == {"answered_on_time", "resolved", rules.RESOLVED_ON_TIME}
    # resolved after the solve limit, or once marked overdue there: not on time; overdue stays
    marks = {"answered_on_time"}
    after_limit = at_dept(status="resolved", resolved_at=DUE + timedelta(minutes=1), department_facts=marks)
    assert rules.department_marks(at_dept(status="accepted", department_facts=marks), after_limit) == marks | {
        "resolved"}
    overdue = at_dept(status="accepted", overdue_here=True, department_facts=marks)
    assert rules.department_marks(at_dept(status="accepted", department_facts=marks), overdue) == marks | {"overdue"}
    # an extension approved there (the solve limit moved, the pending one gone); a rejected one is not extended
    asked = at_dept(status="accepted", extension_level=D, department_facts=marks)
    approved = at_dept(status="accepted", solve_due=DUE + timedelta(days=3), department_facts=marks)
    assert rules.department_marks(asked, approved) == marks | {rules.EXTENDED}
    assert rules.department_marks(asked, at_dept(status="accepted", department_facts=marks)) == marks
    # the rating of its result, once
    rated = at_dept(status="closed", outcome="satisfied", department_facts=marks | {"resolved"})
    assert rules.department_marks(at_dept(status="resolved", department_facts=marks | {"resolved"}), rated) == (
        marks | {"resolved", "satisfied"})
    # what happens below the department level is never the department's
    assert rules.department_marks(at_dept(level="street"), at_dept(level="street", status="accepted",
                                                                   late_here=True)) == set()
