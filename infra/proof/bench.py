"""Cold start of what is deployed (printed, not asserted): the BUILT layer in the runtime's interpreter.

    make bench          # or: python -m infra.proof.bench --runs 9 [--explain] [--json]

The layer is built by infra/deploy/build_layer.py, the script ``sam build`` runs (layers/Makefile), for this
machine's architecture. Each run is a fresh isolated interpreter (``-I -S``) with only the layer and the
API function's code on its path (infra/proof/built_handler.py):

- baseline: ``import boto3`` + creating one DynamoDB client;
- cold start: importing the handler (``app``) + the first request, a ``GET /v1/health`` API Gateway
  event: it builds the container (settings and the shared DynamoDB client; the table models load on the first
  request that needs one) and makes one Query against an embedded DynamoDB on loopback. Against the baseline that is conservative: the baseline makes no
  request at all.

The function's code is measured as deployed (``functions/api/Makefile``: precompiled, ``/var/task`` being
read-only) and, for comparison, as SAM's python builder would ship it (no bytecode). Runs are paired (baseline and cold start
one after the other, order alternating) and the ratio is the median of the per-pair ratios: on a shared
machine absolute milliseconds drift, ratios much less. The target (issues 7 and 27) is a ratio ≤ 1.25.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from infra.deploy import build_layer

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "infra" / "proof" / "built_handler.py"
FUNCTION = ROOT / "functions" / "api"
TARGET = 1.25
EXPLAINED = 16  # packages listed by --explain


def _env(dynamodb_url: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TONGXIN_STAGE": "test",
            "TOKEN_SECRET": "bench-" + "b" * 32, "TABLE_PREFIX": "bench", "AWS_REGION": "cn-north-1",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "DYNAMODB_ENDPOINT": dynamodb_url,
            "WECHAT_BASE_URL": "http://127.0.0.1:9/", "POWERTOOLS_LOG_LEVEL": "ERROR"}


def _run(python: str, layer: Path, function: Path, scenario: str, env: dict, *flags: str) -> subprocess.CompletedProcess:
    done = subprocess.run([python, "-I", "-S", *flags, str(DRIVER), scenario, str(layer), str(function)],
                          env=env, capture_output=True, text=True, cwd=layer)
    if done.returncode:
        raise SystemExit(f"{scenario} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done


def _elapsed_ms(done: subprocess.CompletedProcess) -> float:
    line = next(line for line in done.stdout.splitlines() if line.startswith("ELAPSED"))
    return float(line.split()[1]) * 1000


def _function_copy(into: Path, compiled: bool, python: str) -> Path:
    """The function's code as SAM's python builder would ship it (sources only), or as our makefile build ships
    it (functions/api/Makefile: precompiled)."""
    if compiled:
        return build_layer.build_function(FUNCTION, into / "function-compiled", python)
    target = into / "function"
    shutil.copytree(FUNCTION, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "Makefile", ".chalice"))
    return target


def _explain(python: str, layer: Path, function: Path, env: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Import time (ms) per package in one cold start: the self times (-X importtime) of all its modules,
    so the figures add up; our own code by area (chalicelib.routes, tongxin.adapters...). And the staff console's
    own modules (its routes, session use case and rules; its pages are files read on their first request): what the
    console adds to every cold start of the API."""
    done = _run(python, layer, function, "cold", env, "-X", "importtime")
    costs: dict[str, float] = {}
    console: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$", line)
        if match:
            module, ms = match.group(2), int(match.group(1)) / 1000
            parts = module.split(".")
            group = ".".join(parts[:2]) if parts[0] in ("tongxin", "chalicelib") else parts[0]
            costs[group] = costs.get(group, 0.0) + ms
            if parts[0] in ("tongxin", "chalicelib") and "console" in parts[-1]:
                console[module] = ms
    return dict(sorted(costs.items(), key=lambda item: -item[1])[:EXPLAINED]), console


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cold start of the built handler")
    parser.add_argument("--runs", type=int, default=9, help="paired runs (at least 7)")
    parser.add_argument("--explain", action="store_true", help="also print what the imports cost")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runs = max(args.runs, 7)

    from infra.local.embedded_dynamodb import EmbeddedDynamoDB
    from tongxin.adapters.dynamo.binding import create_tables
    from tongxin.config import Settings

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the local DynamoDB logs every request
    python = build_layer.find_runtime_python()
    work = Path(tempfile.mkdtemp(prefix="tongxin-bench-"))
    dynamodb = EmbeddedDynamoDB(port=0).start()
    try:
        layer = build_layer.build_layer(work / "layer", build_layer.host_arch(), python)
        functions = {"function as SAM's python builder ships it": _function_copy(work, False, python),
                     "function as deployed (precompiled)": _function_copy(work, True, python)}
        env = _env(dynamodb.url)
        env["TABLE_PREFIX"] = f"bench-{uuid.uuid4().hex[:6]}"
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # the local DynamoDB wants some
            os.environ.setdefault(key, "bench")
        create_tables(Settings(stage="test", table_prefix=env["TABLE_PREFIX"], dynamodb_endpoint=dynamodb.url,
                               aws_region="cn-north-1", token_secret=env["TOKEN_SECRET"]))
        samples: dict[str, list[float]] = {"baseline": []}
        ratios: dict[str, list[float]] = {name: [] for name in functions}
        for run in range(runs):
            for name, function in functions.items():
                order = ("boto3", "cold") if run % 2 else ("cold", "boto3")
                timed = {scenario: _elapsed_ms(_run(python, layer, function, scenario, env)) for scenario in order}
                samples["baseline"].append(timed["boto3"])
                samples.setdefault(name, []).append(timed["cold"])
                ratios[name].append(timed["cold"] / timed["boto3"])
        results = {
            "runtime": build_layer.RUNTIME, "runs": runs,
            "baseline_ms": round(statistics.median(samples["baseline"]), 1),
            "cold_start_ms": {name: round(statistics.median(samples[name]), 1) for name in functions},
            "ratio": {name: round(statistics.median(values), 3) for name, values in ratios.items()},
            "target": TARGET,
        }
        if args.explain:
            deployed = functions["function as deployed (precompiled)"]
            results["import_ms"], results["console_import_ms"] = _explain(python, layer, deployed, env)
    finally:
        dynamodb.stop()
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    print(f"cold start of the built handler ({results['runtime']}, isolated interpreter, only the layer and the "
          f"function on the path), median of {runs} paired runs:")
    print(f"  {'import boto3 + one client (baseline)':<58} {results['baseline_ms']:8.1f} ms")
    for name in functions:
        verdict = "meets" if results["ratio"][name] <= TARGET else "misses"
        print(f"  {'import app + first /v1/health, ' + name:<58} {results['cold_start_ms'][name]:8.1f} ms"
              f"   ratio {results['ratio'][name]:.2f} ({verdict} the {TARGET} target)")
    if args.explain:
        print(f"  import time per package in one cold start (ms, -X importtime self times; top {EXPLAINED}):")
        for module, ms in results["import_ms"].items():
            print(f"    {module:<40} {ms:7.1f}")
        console = results["console_import_ms"]
        share = sum(console.values()) / results["cold_start_ms"]["function as deployed (precompiled)"]
        print(f"  the staff console's modules in that cold start: {sum(console.values()):.1f} ms ({share:.1%} of the "
              f"deployed cold start; its pages are read on their first request):")
        for module, ms in sorted(console.items(), key=lambda item: -item[1]):
            print(f"    {module:<40} {ms:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
