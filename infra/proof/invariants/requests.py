"""The resident requests' invariants (接诉即办, ``request``): handler and due keys as ``domain/requests`` derives
them from the status and level, an outcome and ``closed_at`` iff closed, the level among those reached (a street
level with a street, a department level with a department of a district), a timeline that starts with ``submit``;
a department's own facts (``department_facts``, 街呼区应) only at the department level with a department, known,
never both answered in time and first answered late, resolved in time only if resolved."""
from __future__ import annotations

from tongxin.domain import requests as request_rules

# What ``domain/requests.department_marks`` may keep on a request (``received`` is counted, never kept).
DEPARTMENT_FACTS = frozenset({"answered_on_time", request_rules.FIRST_ANSWER_LATE, "resolved",
                              request_rules.RESOLVED_ON_TIME, "overdue", request_rules.EXTENDED,
                              *request_rules.OUTCOMES})


class RequestChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def requests(self) -> None:
        for r in self.d["requests"]:
            where = f"requests {r.id}"
            try:
                status, level = request_rules.S(r.status), request_rules.L(r.level)
            except ValueError:
                self.fail("request", where, f"unknown status {r.status!r} or level {r.level!r}")
                continue
            with_handler = status in request_rules.WITH_HANDLER
            key = request_rules.handler_key(level, r.community_id, r.grid_id, r.street_id,
                                           r.department_id) if with_handler else None
            due = request_rules.handler_due(status, r.answer_due, r.solve_due) if with_handler else None
            if r.handler_key != key or r.handler_due != due:
                self.fail("request", where, f"handler_key {r.handler_key!r} / handler_due {r.handler_due} != "
                                            f"{key!r} / {due} (status {status.value}, level {level.value})")
            next_due = request_rules.next_due(status, answer_due=r.answer_due, solve_due=r.solve_due,
                                              late_here=bool(r.late_here), overdue_here=bool(r.overdue_here),
                                              resolved_at=r.resolved_at)
            shard = request_rules.due_shard(r.id) if next_due is not None else None
            if r.due_at != next_due or r.due_shard != shard:
                self.fail("request", where, f"due_at {r.due_at} (shard {r.due_shard}) != next step {next_due}")
            closed = status is request_rules.S.CLOSED
            if closed != (r.outcome is not None) or (closed and r.outcome not in request_rules.OUTCOMES):
                self.fail("request", where, f"outcome {r.outcome!r} for status {status.value}")
            if closed != (r.closed_at is not None):
                self.fail("request", where, f"closed_at {r.closed_at} for status {status.value}")
            if level.value not in (r.levels_reached or ()):
                self.fail("request", where, f"at level {level.value}, not among those reached {r.levels_reached}")
            if level is request_rules.L.STREET and not r.street_id:
                self.fail("request", where, "at the street level without a street")
            if level is request_rules.L.DEPARTMENT and not (r.department_id and r.district_id):
                self.fail("request", where, "at the department level without a department of a district")
            if not r.timeline or r.timeline[0].action != "submit":
                first = r.timeline[0].action if r.timeline else None
                self.fail("request", where, f"timeline does not start with submit (first: {first!r})")
            self.request_department_facts(r, where, level)

    def request_department_facts(self, r, where: str, level) -> None:
        marks = set(r.department_facts or ())
        if not marks:
            return
        if level is not request_rules.L.DEPARTMENT or not r.department_id:
            self.fail("request", where, f"department_facts {sorted(marks)} at level {level.value} with department "
                                        f"{r.department_id!r} (only a request at a department has them)")
        if marks - DEPARTMENT_FACTS:
            self.fail("request", where, f"department_facts has unknown {sorted(marks - DEPARTMENT_FACTS)}")
        if {"answered_on_time", request_rules.FIRST_ANSWER_LATE} <= marks:
            self.fail("request", where, "department_facts has both answered_on_time and first_answer_late")
        if request_rules.RESOLVED_ON_TIME in marks and "resolved" not in marks:
            self.fail("request", where, "department_facts has resolved_on_time without resolved")
