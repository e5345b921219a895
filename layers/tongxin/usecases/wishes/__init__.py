"""微心愿 wishes, by concern: ``reading`` (who sees what, lists), ``lifecycle`` (publish and every transition),
``upkeep`` (grid tasks, the scheduler, 注销). The routes and other areas use the names below."""
from .lifecycle import cancel, claim, confirm, fulfil, publish, release, review
from .reading import get, list_claimed, list_community, list_mine, present
from .upkeep import forget_deleted_user, grid_task_page, run_schedule

__all__ = ["cancel", "claim", "confirm", "forget_deleted_user", "fulfil", "get", "grid_task_page", "list_claimed",
           "list_community", "list_mine", "present", "publish", "release", "review", "run_schedule"]
