"""活动 events, by concern: ``reading`` (who organises, how an event is shown, the lists and the roster),
``publishing`` (publish, change, cancel), ``signups`` (sign-up, the waitlist, giving up, promotion), ``upkeep``
(the scheduler's reminders and filling), ``departure`` (注销: places given up, names erased). The routes and other areas use the names below."""
from .departure import forget_deleted_user
from .publishing import cancel, publish, update
from .reading import get, list_community, list_mine, roster
from .signups import give_up, sign_up
from .upkeep import run_schedule

__all__ = ["cancel", "forget_deleted_user", "get", "give_up", "list_community", "list_mine", "publish", "roster", "run_schedule",
           "sign_up", "update"]
