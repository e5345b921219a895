"""接诉即办 resident requests (docs/requests.md), by concern: ``reading`` (who sees what, lists), ``handling`` (the
steps people take), ``upkeep`` (the scheduler, 注销), ``stats`` (the three rates), ``steps`` (how any step writes)."""
from .handling import accept, escalate, rate, resolve, submit
from .reading import community_list, get, grid_queue_page, list_mine, street_tasks
from .stats import request_stats
from .upkeep import forget_deleted_user, run_schedule

__all__ = ["accept", "community_list", "escalate", "forget_deleted_user", "get", "grid_queue_page", "list_mine",
           "rate", "request_stats", "resolve", "run_schedule", "street_tasks", "submit"]
