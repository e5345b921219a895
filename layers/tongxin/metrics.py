"""Business outcome metrics: a CloudWatch metric per outcome (``wish_claimed``, ``signup_waitlisted``,
``redemption_picked_up``, ``message_failed``...), written with Powertools Metrics as CloudWatch EMF lines in the
function's log (CloudWatch turns them into metrics: no API call, no added latency).

``count(name)`` adds to this invocation's total, after the change it counts has committed (a refused or failed
change counts nothing); ``flush()`` writes one total per name and starts again. Each function flushes at the end of
an invocation: the API's middleware at the end of every request, the scheduler and the sender at the end of their
handler. Every metric is in the ``Tongxin`` namespace with the one dimension ``service=tongxin``, whichever function
wrote it (the sweep in the scheduler and the stream's sender both deliver messages: one ``message_failed`` metric
counts both). docs/operations.md lists the names.

With ``POWERTOOLS_METRICS_DISABLED`` set (the local stack) nothing is written. Powertools is imported on the first
flush that writes, so a cold start that counts nothing does not pay for it. Counting is thread-safe: the local
server answers requests in threads (Lambda runs one at a time).
"""
from __future__ import annotations

import logging
import os
import threading
from collections import Counter

NAMESPACE = "Tongxin"
SERVICE = "tongxin"  # the one dimension of every metric (the alarms name it)

log = logging.getLogger(__name__)

_lock = threading.Lock()
_counts: Counter = Counter()
_metrics = None


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to this invocation's total of ``name`` (0 records a zero: a gauge-like total such as the sweep's
    backlog is written even when nothing is due)."""
    with _lock:
        _counts[name] += n


def disabled() -> bool:
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() in ("1", "true", "yes")


def pending() -> dict[str, int]:
    """The totals counted since the last flush (what the next flush would write)."""
    with _lock:
        return dict(_counts)


def flush() -> None:
    """Write this invocation's totals as one EMF line and start again. Never raises: a metric that cannot be written
    must not turn a committed change into an error answer."""
    global _metrics
    with _lock:
        totals = dict(_counts)
        _counts.clear()
    if not totals or disabled():
        return
    try:
        from aws_lambda_powertools import Metrics
        from aws_lambda_powertools.metrics import MetricUnit
        if _metrics is None:
            _metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
        for name, n in sorted(totals.items()):
            _metrics.add_metric(name=name, unit=MetricUnit.Count, value=n)
        _metrics.flush_metrics()
    except Exception:  # noqa: BLE001
        log.warning("metrics not written", exc_info=True, extra={"metrics": sorted(totals)})
        if _metrics is not None:
            _metrics.clear_metrics()  # what was added before the failure is not written with the next totals
