"""The scheduler function (EventBridge schedule, every few minutes): wish escalation (吹哨) and expiry, event
reminders, waitlist filling and closing attendance, redemption reminders and expiry, and the push sweep (fan-outs
expanded, messages due delivered: new ones the stream missed, retries, expired leases) — ``usecases.schedule``."""
from tongxin.usecases import schedule
from tongxin.config import load_settings
from tongxin.metrics import flush
from tongxin.wiring import get_container

load_settings()  # fail closed at cold start, as the API function does


def handler(event, context):
    get_container()
    try:
        return schedule.run()
    finally:
        flush()
