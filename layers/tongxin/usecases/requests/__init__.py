"""接诉即办 resident requests (docs/requests.md), by concern: ``reading`` (who sees what, lists), ``handling`` (the
steps people take), ``oversight`` (延期 and 督办, by the level above), ``upkeep`` (the scheduler, 注销), ``stats`` (the
three rates), ``steps`` (how any step writes)."""
from .handling import accept, escalate, rate, resolve, submit
from .oversight import approve_extension, extend, reject_extension, supervise
from .reading import (
    community_list, department_tasks, get, grid_queue_page, list_mine, street_departments, street_tasks,
)
from .stats import request_stats
from .upkeep import forget_deleted_user, run_schedule

__all__ = ["accept", "approve_extension", "community_list", "department_tasks", "escalate", "extend",
           "forget_deleted_user", "get", "grid_queue_page", "list_mine", "rate", "reject_extension", "request_stats",
           "resolve", "run_schedule", "street_departments", "street_tasks", "submit", "supervise"]
