"""Health: the API answers ok once its tables answer."""
from __future__ import annotations

from ..adapters.dynamo import binding
from ..domain.errors import StorageBusy
from ..wiring import get_container

PROBE_TABLE, PROBE_KEY = "users", "id"  # UserModel's table and hash key


def health() -> dict:
    # Through the shared client, not UserModel: a container whose first request is this check loads no model.
    try:
        binding.client().query(  # one Query on a key that never exists (what UserModel.count(..., limit=1) sends)
            TableName=get_container().settings.table_name(PROBE_TABLE), Select="COUNT", Limit=1,
            KeyConditionExpression="#k = :k", ExpressionAttributeNames={"#k": PROBE_KEY},
            ExpressionAttributeValues={":k": {"S": "health-probe"}})
    except Exception:  # any storage failure means not healthy; the reason is in the log
        raise StorageBusy("数据存储暂时不可用") from None
    return {"status": "ok"}
