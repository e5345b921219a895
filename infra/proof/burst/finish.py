"""What ends every scenario (``_finish``): the envelope check of its bursts' answers, ``infra.proof.invariants.check``
over every table when it is there (``invariants``), the API's figures over its bursts and, unless ``--no-raw``,
the raw storage ceiling of each burst and the ratio API/raw.
"""
from __future__ import annotations

import time

from infra.proof.bench_runs import _percentile

from .fire import Burst, undocumented
from .raw_ceiling import raw_ceiling
from .stack import BurstStack


def invariants(stack: BurstStack, **kwargs) -> tuple[list[str] | None, str]:
    """infra.proof.invariants.check over every table, when it is there: (violations, note)."""
    try:
        from infra.proof.invariants import check
    except ImportError:
        return None, "infra/proof/invariants absent: not run"
    started = time.perf_counter()
    try:
        found = check(stack.dynamodb(), stack.table, **kwargs)
    except NotImplementedError:
        return None, "infra.proof.invariants.check not written yet: not run"
    return list(found), f"infra.proof.invariants.check: {len(found)} violation(s) in {time.perf_counter() - started:.1f} s"


def _finish(result: dict, stack: BurstStack, bursts: list[Burst], raw: bool, clients: int, **checker) -> dict:
    """Envelope check, the invariant checker (``checker``: its options), the raw ceiling; ``problems`` is
    everything that failed."""
    for burst in bursts:
        result["problems"] += undocumented(burst)
    found, note = invariants(stack, **checker)
    result["invariants"], result["invariants_note"] = found, note
    result["problems"] += [f"invariant: {v}" for v in found or []]
    requests_ = sum(len(b.answers) for b in bursts)
    seconds = sum(b.seconds for b in bursts)
    latencies = [a.seconds for b in bursts for a in b.answers]
    result["api"] = {"requests": requests_, "seconds": round(seconds, 3), "per_second": round(requests_ / seconds, 1),
                     "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
                     "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1)}
    result["bursts"] = {b.label or b.route: b.summary() for b in bursts}
    if raw:
        ceilings = [raw_ceiling(stack, b.transactions, [a.user.id for a in b.answers], clients) for b in bursts]
        raw_seconds = sum(c.get("seconds", 0) for c in ceilings)
        result["raw"] = {"phases": ceilings, "transactions": sum(c["transactions"] for c in ceilings),
                         "seconds": round(raw_seconds, 3)}
        if raw_seconds:
            result["raw"]["per_second"] = round(result["raw"]["transactions"] / raw_seconds, 1)
            result["ratio"] = round(result["api"]["per_second"] / result["raw"]["per_second"], 3)
    return result
