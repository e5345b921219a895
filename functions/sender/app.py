"""The push sender function: the outbox table's DynamoDB stream (new pending messages and fan-out items, as the
stream's filter selects them) → WeChat subscribe messages (``usecases.push``). A record it could not finish (DynamoDB
busy, an unexpected error) is returned in ``batchItemFailures``, so Lambda retries that record and those after it,
not the whole batch; the scheduler's sweep also finds every message still due."""
from tongxin.config import load_settings
from tongxin.metrics import flush
from tongxin.usecases import notifications, push
from tongxin.wiring import get_container

load_settings()  # fail closed at cold start, as the API function does


def handler(event, context):
    container = get_container()
    failures = []
    for record in (event or {}).get("Records", []):
        try:
            _handle(container, record)
        except Exception:  # noqa: BLE001 (one record's failure must not lose the others' outcomes)
            import logging
            logging.getLogger("tongxin.sender").exception("stream record failed",
                                                          extra={"event_id": record.get("eventID")})
            failures.append({"itemIdentifier": record.get("eventID")})
    flush()
    return {"batchItemFailures": failures}


def _handle(container, record: dict) -> None:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    status = (image.get("status") or {}).get("S")
    message_id = (((record.get("dynamodb") or {}).get("Keys") or {}).get("id") or {}).get("S")
    if not message_id or record.get("eventName") not in ("INSERT", "MODIFY"):
        return
    if status == "pending":
        if {"recipient_id", "kind", "created_at"} <= set(image):
            # The record carries the message as written: no read. The claim is conditioned on it still being so.
            push.deliver_written(container, image)
        else:  # a keys-only or partial image (another stream view type): read it
            push.deliver(container, message_id)
    elif status == "fanout":
        from tongxin.adapters.dynamo.models import OutboxModel
        try:
            item = OutboxModel.get(message_id, consistent_read=True)
        except OutboxModel.DoesNotExist:
            return
        if item.status == "fanout":
            notifications.expand(item)
