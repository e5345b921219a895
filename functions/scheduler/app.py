"""The scheduler function (EventBridge schedule, every few minutes): wish escalation (吹哨) and expiry.
Later areas add their periodic steps here (closing forgotten check-ins, expiring redemptions)."""
from tongxin.usecases import wishes
from tongxin.config import load_settings
from tongxin.wiring import get_container

load_settings()  # fail closed at cold start, as the API function does


def handler(event, context):
    get_container()
    return {"wishes": wishes.run_schedule()}
