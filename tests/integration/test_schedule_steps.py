"""The scheduler's run (``usecases/schedule.run``): one failing step does not stop the others — the push sweep,
which delivers what every other step wrote, runs whatever failed before it — and the run then fails naming the
step, so the function's errors show it. And no function of ours Scans: template.yaml grants no ``dynamodb:Scan``,
so a Scan in the code the functions run would be AccessDenied in AWS (moto does not enforce IAM)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tongxin.usecases import bulletin, push, schedule

ROOT = Path(__file__).resolve().parents[2]
# The operator's command line (own credentials, never a function's role) may Scan: its backfills.
OPERATOR_ONLY = {"layers/tongxin/usecases/directory.py": "rebuild",
                 # export-community (python -m tongxin.cli): an operator's whole-community copy, never a function's
                 # (the template grants no dynamodb:Scan); Scans only where no index serves, each said where.
                 "layers/tongxin/export/collect.py": "export"}


def test_a_failing_step_leaves_the_others_running_and_the_run_fails_naming_it(monkeypatch, container):
    swept = []

    def broken(now=None):
        raise RuntimeError("throttled")

    real_sweep = push.sweep

    def sweep(container, now=None):
        swept.append(now)
        return real_sweep(container, now)

    monkeypatch.setattr(bulletin, "run_schedule", broken)
    monkeypatch.setattr(push, "sweep", sweep)
    with pytest.raises(schedule.ScheduleStepsFailed, match="bulletin"):
        schedule.run()
    assert len(swept) == 1  # the sweep after the failed step ran


def test_the_run_answers_every_step_when_none_fails(container):
    done = schedule.run()
    assert set(done) == {"wishes", "events", "redemptions", "requests", "bulletin", "service_cards", "project_rounds",
                         "round_notices", "push"}


def test_no_code_a_function_runs_scans():
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "dynamodb:Scan" not in template
    found = []
    for path in sorted((ROOT / "layers" / "tongxin").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.scan\(", line) and relative not in OPERATOR_ONLY:
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], "a Scan where a function may run it:\n" + "\n".join(found)
