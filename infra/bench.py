"""Benchmarks that print figures (not tests): cold import of the API handler against bare boto3, and
with every model bound to its (shared) botocore client.

    make bench          # or: python -m infra.bench --runs 7

Each figure is the median of fresh interpreter runs on this machine; compare ratios, not absolutes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SNIPPETS = {
    "import boto3": "import boto3",
    "import pynamodb.models": "import pynamodb.models",
    "import app (API handler)": "import app",
    # What a cold Lambda pays before its first DynamoDB call: the handler, plus every model bound to
    # one shared botocore client (no network).
    "import app + bind every model": """import app
from tongxin.config import Settings
from tongxin.wiring import Container
Container(Settings(stage='test', table_prefix='bench', dynamodb_endpoint=None, aws_region='cn-north-1',
                   token_secret='b' * 32))""",
}


def _time(snippet: str) -> float:
    code = f"import time\nt0 = time.perf_counter()\n{snippet}\nprint('ELAPSED', time.perf_counter() - t0)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers", "functions/api", "")),
           "POWERTOOLS_LOG_LEVEL": "ERROR"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    line = next(l for l in out.stdout.splitlines() if l.startswith("ELAPSED"))
    return float(line.split()[1]) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cold-start figures")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {}
    for name, snippet in SNIPPETS.items():
        samples = [_time(snippet) for _ in range(args.runs)]
        results[name] = round(statistics.median(samples), 1)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    base = results["import boto3"]
    print(f"cold start, median of {args.runs} fresh interpreters (ms):")
    for name, ms in results.items():
        print(f"  {name:<55} {ms:8.1f}   ×{ms / base:.2f} of import boto3")
    return 0


if __name__ == "__main__":
    sys.exit(main())
