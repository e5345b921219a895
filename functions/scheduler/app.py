"""The scheduler function (EventBridge schedule, every few minutes): wish escalation (吹哨) and expiry, event
reminders and waitlist filling, and the expansion of fan-out messages (``usecases.schedule``)."""
from tongxin.usecases import schedule
from tongxin.config import load_settings
from tongxin.wiring import get_container

load_settings()  # fail closed at cold start, as the API function does


def handler(event, context):
    get_container()
    return schedule.run()
