"""A metric per delivery outcome (sent, skipped, failed, retry) with Powertools Metrics (CloudWatch EMF in the
function's log), one total per outcome per invocation: ``count`` adds up, ``flush`` (the end of a handler) writes.
Powertools is imported on first flush, so the API's cold start does not pay for it."""
from __future__ import annotations

import os
from collections import Counter

_counts: Counter = Counter()
_metrics = None


def count(outcome: str) -> None:
    _counts[outcome] += 1


def flush() -> None:
    """Write this invocation's totals. With metrics disabled (the local stack) nothing is written: Powertools would
    keep the values and print them on stdout every 100."""
    global _metrics
    totals = dict(_counts)
    _counts.clear()
    if not totals or os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    if _metrics is None:
        _metrics = Metrics(namespace="Tongxin", service="sender")
    for outcome, n in sorted(totals.items()):
        _metrics.add_metric(name=f"message_{outcome}", unit=MetricUnit.Count, value=n)
    _metrics.flush_metrics()
