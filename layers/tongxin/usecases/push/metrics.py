"""A metric per delivery outcome: ``message_sent``, ``message_skipped``, ``message_failed``, ``message_retry`` — the
business metrics of ``tongxin.metrics``, one total per outcome per invocation."""
from __future__ import annotations

from ... import metrics


def count(outcome: str) -> None:
    metrics.count(f"message_{outcome}")
