"""The logical ids of the template's main resources and how ids are made from free text: shared by the generator
(``infra/deploy/template_gen.py``), its alarms (``infra/deploy/template_alarms.py``) and the deployment's part
(``infra/deploy/template_deploy.py``)."""
from __future__ import annotations

import re

API, API_FUNCTION, SCHEDULER_FUNCTION, LAYER = "Api", "ApiFunction", "SchedulerFunction", "TongxinLayer"
SENDER_FUNCTION = "SenderFunction"
# Each function's fixed name is tongxin-<Stage>-<role>, its log group /aws/lambda/<that> (infra/deploy/template_deploy.py).
FUNCTION_ROLES = {API_FUNCTION: "api", SCHEDULER_FUNCTION: "scheduler", SENDER_FUNCTION: "sender"}
API_PERMISSION = "ApiFunctionInvokePermission"
# Every function's alias (SAM's AutoPublishAlias): what API Gateway, the schedule and the stream invoke, so that a
# rollback is one update-alias (docs/deploy.md, Rollback). SAM names it <Function>Alias<name>.
LIVE_ALIAS = "live"


def alias_id(function: str) -> str:
    """The logical id SAM gives ``function``'s alias once translated: ``ApiFunctionAliaslive``."""
    return f"{function}Alias{LIVE_ALIAS}"


def logical_id(*words: str) -> str:
    """A CloudFormation logical id from free text: ``("GET", "/v1/wishes/{wish_id}")`` → ``GetV1WishesWishId``."""
    parts = (part for word in words for part in re.split(r"[^A-Za-z0-9]+", word) if part)
    return "".join(part[0].upper() + part[1:].lower() for part in parts)


def table_id(model) -> str:
    return logical_id(model.TABLE) + "Table"
