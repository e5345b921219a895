"""Health: the API answers ok once its tables answer."""
from __future__ import annotations

from ..adapters.dynamo.models import UserModel
from ..domain.errors import StorageBusy


def health() -> dict:
    try:
        UserModel.count("health-probe", limit=1)  # one Query on a key that never exists
    except Exception:  # any storage failure means not healthy; the reason is in the log
        raise StorageBusy("数据存储暂时不可用") from None
    return {"status": "ok"}
