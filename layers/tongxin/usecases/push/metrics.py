"""A metric per delivery outcome (sent, skipped, failed, retry) with Powertools Metrics (CloudWatch EMF in the
function's log): imported on first use, so the API's cold start does not pay for it."""
from __future__ import annotations

_metrics = None


def _instance():
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools import Metrics
        _metrics = Metrics(namespace="Tongxin", service="sender")
    return _metrics


def count(outcome: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit
    _instance().add_metric(name=f"message_{outcome}", unit=MetricUnit.Count, value=1)


def flush() -> None:
    """Write what was counted (the end of an invocation, or of a local timer's run)."""
    if _metrics is not None:
        _metrics.flush_metrics(raise_on_empty_metrics=False)
