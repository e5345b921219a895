"""The template's CloudWatch alarms and their SNS topic (``infra/deploy/template_gen.py`` assembles the template): one
alarm per table for throttling, and for the API, each function, the push sender and the outbox.
docs/operations.md says what each means and what to do; the thresholds are the constants below."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from infra.deploy.template_names import API_FUNCTION, SCHEDULER_FUNCTION, SENDER_FUNCTION, logical_id, table_id
from tongxin.metrics import NAMESPACE as METRICS_NAMESPACE, SERVICE as METRICS_SERVICE

ALARM_TOPIC, ALARM_EMAIL, HAS_ALARM_EMAIL = "AlarmTopic", "AlarmEmail", "HasAlarmEmail"
ALARM_PERIOD = 300  # seconds: CloudWatch's standard 5 minutes
# API: 5xx answers (ours: 503 STORAGE_BUSY / UPSTREAM_UNAVAILABLE, 500; API Gateway's: 502/504 when the function
# fails or times out) as a percentage of requests, over 5 minutes with at least API_MIN_REQUESTS requests (a quiet
# night's one error in three requests is not an outage).
API_5XX_PERCENT, API_MIN_REQUESTS = 1, 50
# DynamoDB: requests throttled on a table (its indexes included: a write whose index write is throttled counts on
# the table), any operation we send; two 5-minute periods in a row (a burst's throttling is retried and answered
# 503 with Retry-After, which the 5xx alarm sees; throttling that lasts is a hot key or a limit).
THROTTLED_REQUESTS, THROTTLE_PERIODS = 10, 2
# Every write of ours is a transaction, but the outbox's fan-out cursor (a plain UpdateItem).
THROTTLE_OPERATIONS = ("GetItem", "BatchGetItem", "Query", "TransactWriteItems")
PLAIN_UPDATES = ("outbox",)
# Lambda: errors (an exception out of the handler, a timeout, a crash) and throttles (concurrency exhausted).
FUNCTION_ERRORS = {API_FUNCTION: (5, 1), SCHEDULER_FUNCTION: (1, 2), SENDER_FUNCTION: (1, 2)}  # (sum ≥, periods)
FUNCTION_THROTTLES = 1
# The sender's stream: the age of the oldest record it has not processed (normally about a second).
ITERATOR_AGE_MS = 120_000
# Messages that failed for good (WeChat's permanent errors, or MAX_ATTEMPTS reached): 15 minutes' total.
MESSAGES_FAILED, MESSAGES_FAILED_PERIOD = 10, 900
# The outbox backlog the sweep reports (due for over a minute and still not sent after it tried): the smallest of
# 15 minutes' runs (three), so it has not shrunk for a quarter of an hour.
OUTBOX_BACKLOG, OUTBOX_BACKLOG_PERIOD = 10, 900
# The scheduler runs every 5 minutes: no invocation in 15 means the schedule (or the function) is gone.
SCHEDULER_SILENT_PERIOD = 900


def alarm_topic() -> dict:
    """Every alarm's action; e-mailed to AlarmEmail when one is given (SNS asks the address to confirm)."""
    return {
        "Type": "AWS::SNS::Topic",
        "Properties": {
            "TopicName": {"Fn::Sub": "tongxin-${Stage}-alarms"},
            "Subscription": {"Fn::If": [HAS_ALARM_EMAIL, [{"Protocol": "email", "Endpoint": {"Ref": ALARM_EMAIL}}],
                                        {"Ref": "AWS::NoValue"}]},
        },
    }


def _metric(namespace: str, name: str, dimensions: Mapping[str, Any], stat: str, period: int = ALARM_PERIOD) -> dict:
    return {"Metric": {"Namespace": namespace, "MetricName": name,
                       "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()]},
            "Period": period, "Stat": stat}


def _alarm(name: str, description: str, *, threshold: float, periods: int = 1, missing: str = "notBreaching",
           comparison: str = "GreaterThanOrEqualToThreshold", **metric: Any) -> dict:
    """An alarm notifying the topic when it fires and when it clears. ``metric``: the single metric's fields
    (Namespace, MetricName, Dimensions, Statistic, Period) or ``Metrics`` (metric math)."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"tongxin-${{Stage}}-{name}"},
            "AlarmDescription": description + " (docs/operations.md)",
            **metric,
            "ComparisonOperator": comparison,
            "Threshold": threshold,
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": periods,
            "TreatMissingData": missing,
            "AlarmActions": [{"Ref": ALARM_TOPIC}],
            "OKActions": [{"Ref": ALARM_TOPIC}],
        },
    }


def alarms(models: Iterable[Any]) -> dict:
    alarms: dict[str, dict] = {}
    api = {"ApiName": {"Fn::Sub": "tongxin-${Stage}"}, "Stage": {"Ref": "Stage"}}
    alarms["Api5xxRateAlarm"] = _alarm(
        "api-5xx-rate", f"API answers 5xx: at least {API_5XX_PERCENT}% of requests in 5 minutes",
        threshold=API_5XX_PERCENT, Metrics=[
            {"Id": "errors", "MetricStat": _metric("AWS/ApiGateway", "5XXError", api, "Sum"), "ReturnData": False},
            {"Id": "requests", "MetricStat": _metric("AWS/ApiGateway", "Count", api, "Sum"), "ReturnData": False},
            {"Id": "rate", "Label": "5xx % of requests", "ReturnData": True,
             "Expression": f"IF(requests >= {API_MIN_REQUESTS}, 100 * errors / requests, 0)"}])
    for model in models:
        table = {"TableName": {"Ref": table_id(model)}}
        operations = [{"Id": f"m{number}", "ReturnData": False,
                       "MetricStat": _metric("AWS/DynamoDB", "ThrottledRequests", {**table, "Operation": operation},
                                             "Sum")}
                      for number, operation in enumerate(THROTTLE_OPERATIONS + (
                          ("UpdateItem",) if model.TABLE in PLAIN_UPDATES else ()))]
        alarms[logical_id(model.TABLE) + "ThrottleAlarm"] = _alarm(
            f"dynamodb-throttles-{model.TABLE}".replace("_", "-"),
            f"DynamoDB throttles requests on the {model.TABLE} table: {THROTTLED_REQUESTS} or more in each of "
            f"{THROTTLE_PERIODS} 5-minute periods", threshold=THROTTLED_REQUESTS, periods=THROTTLE_PERIODS,
            Metrics=operations + [{"Id": "throttled", "Label": "throttled requests", "ReturnData": True,
                                   "Expression": " + ".join(f"FILL({m['Id']}, 0)" for m in operations)}])
    for function, (errors, periods) in FUNCTION_ERRORS.items():
        # By FunctionName: Lambda's metrics of that dimension add up every version and alias, so the alarms follow the
        # live alias across deploys and rollbacks (per-alias figures carry a Resource dimension, function:live).
        dimensions = [{"Name": "FunctionName", "Value": {"Ref": function}}]
        alarms[function + "ErrorsAlarm"] = _alarm(
            f"{_kebab(function)}-errors", f"{function} fails: {errors} or more errors in each of {periods} 5-minute "
            f"period(s)", threshold=errors, periods=periods, Namespace="AWS/Lambda", MetricName="Errors",
            Dimensions=dimensions, Statistic="Sum", Period=ALARM_PERIOD)
        alarms[function + "ThrottlesAlarm"] = _alarm(
            f"{_kebab(function)}-throttles", f"Lambda throttles {function}: concurrency exhausted",
            threshold=FUNCTION_THROTTLES, Namespace="AWS/Lambda", MetricName="Throttles", Dimensions=dimensions,
            Statistic="Sum", Period=ALARM_PERIOD)
    alarms["SenderIteratorAgeAlarm"] = _alarm(
        "sender-iterator-age", f"The push sender falls behind the outbox stream: its oldest unprocessed record is "
        f"{ITERATOR_AGE_MS // 1000} s old or more in each of 2 5-minute periods", threshold=ITERATOR_AGE_MS, periods=2,
        Namespace="AWS/Lambda", MetricName="IteratorAge", Statistic="Maximum", Period=ALARM_PERIOD,
        Dimensions=[{"Name": "FunctionName", "Value": {"Ref": SENDER_FUNCTION}}])
    business = [{"Name": "service", "Value": METRICS_SERVICE}]
    alarms["MessagesFailedAlarm"] = _alarm(
        "messages-failed", f"{MESSAGES_FAILED} or more messages failed for good in 15 minutes (message_failed)",
        threshold=MESSAGES_FAILED, Namespace=METRICS_NAMESPACE, MetricName="message_failed", Dimensions=business,
        Statistic="Sum", Period=MESSAGES_FAILED_PERIOD)
    alarms["OutboxBacklogAlarm"] = _alarm(
        "outbox-backlog", f"{OUTBOX_BACKLOG} or more messages due and not sent in every sweep for 15 minutes "
        "(outbox_backlog)", threshold=OUTBOX_BACKLOG, Namespace=METRICS_NAMESPACE, MetricName="outbox_backlog",
        Dimensions=business, Statistic="Minimum", Period=OUTBOX_BACKLOG_PERIOD)
    alarms["SchedulerSilentAlarm"] = _alarm(
        "scheduler-silent", "The scheduler has not run for 15 minutes (it runs every 5)", threshold=1,
        comparison="LessThanThreshold", missing="breaching", Namespace="AWS/Lambda", MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": {"Ref": SCHEDULER_FUNCTION}}], Statistic="Sum",
        Period=SCHEDULER_SILENT_PERIOD)
    return alarms


def _kebab(logical: str) -> str:
    """``SchedulerFunction`` → ``scheduler``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical.removesuffix("Function")).lower()
