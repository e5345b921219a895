"""What reading the secrets from SSM adds to a cold start (printed, not asserted): issue 26.

    python -m infra.proof.bench_secrets [--runs 9]

Each run is a fresh interpreter, as a new Lambda container, with PynamoDB already imported (the handler imports it
before any settings load, and botocore with it), timing only the settings load:

- env: ``load_settings`` with the secrets in the environment (the dev stage's, the local stack's path);
- ssm: the same with ``SECRETS_SSM_PREFIX`` instead, against moto's SSM over HTTP on loopback: the botocore SSM
  client created and ONE GetParameters (WithDecryption) — then a second load, answered from memory;
- client: creating the botocore SSM client alone (its service model loaded from disk), no call;
- and, in env and ssm, the container's DynamoDB client bound after (``binding.bind``): the first botocore client
  of a process pays for botocore's lazy imports and its endpoint data, so the SSM client makes the DynamoDB one
  cheaper, and the difference of the totals is what the cold start pays.

Runs alternate between the modes; medians are printed. Loopback moto has no network and no KMS: in a region the
call adds the round trip to SSM's endpoint (tens of ms), which this cannot measure.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/tongxin-bench/prod/"
REGION = "cn-north-1"

DRIVER = r"""
import json, sys, time
import pynamodb.models  # noqa: F401  (imported by the handler before any settings load)
from tongxin.config import load_settings
mode = sys.argv[1]
env = json.loads(sys.argv[2])
if mode == "client":
    from botocore.config import Config
    from botocore.session import get_session
    started = time.perf_counter()
    get_session().create_client("ssm", region_name=env["AWS_REGION"], config=Config(connect_timeout=3, read_timeout=3))
    print(json.dumps({"first": (time.perf_counter() - started) * 1000}))
    raise SystemExit
from tongxin.adapters.dynamo import binding
started = time.perf_counter()
settings = load_settings(env)
first = (time.perf_counter() - started) * 1000
started = time.perf_counter()
again = load_settings(env)
second = (time.perf_counter() - started) * 1000
started = time.perf_counter()
binding.bind(again)  # the container's DynamoDB client: cheaper once a first botocore client exists
bound = (time.perf_counter() - started) * 1000
assert again.token_secret == settings.token_secret and len(settings.token_secret) >= 32
print(json.dumps({"first": first, "second": second, "with_dynamodb": first + second + bound}))
"""


def _env(mode: str, endpoint: str) -> tuple[dict, dict]:
    """(the process environment, the env given to load_settings)."""
    process = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "PYTHONPATH": f"{ROOT / 'layers'}:{ROOT}", "AWS_ACCESS_KEY_ID": "bench",
               "AWS_SECRET_ACCESS_KEY": "bench", "AWS_ENDPOINT_URL_SSM": endpoint}
    settings = {"TONGXIN_STAGE": "prod", "AWS_REGION": REGION, "WECHAT_APPID": "wxbenchappid",
                "QR_LINK_BASE": "https://tongxin.example.cn"}
    if mode == "env":
        settings.update({"TOKEN_SECRET": "t" * 40, "CHECKIN_SECRET": "c" * 40, "WECHAT_SECRET": "w" * 32})
    else:
        settings.update({"SECRETS_SSM_PREFIX": PREFIX, "AWS_LAMBDA_FUNCTION_NAME": "tongxin-bench-api"})
    return process, settings


def _once(mode: str, endpoint: str) -> dict:
    process, settings = _env(mode, endpoint)
    done = subprocess.run([sys.executable, "-c", DRIVER, mode, json.dumps(settings)], env=process,
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import botocore.session
    from infra.local.embedded_dynamodb import EmbeddedDynamoDB  # moto's server: it answers SSM as well
    server = EmbeddedDynamoDB(port=0).start()
    try:
        ssm = botocore.session.get_session().create_client(
            "ssm", region_name=REGION, endpoint_url=server.url, aws_access_key_id="bench",
            aws_secret_access_key="bench")
        for name, value in (("token-secret", "T" * 40), ("checkin-secret", "C" * 40), ("wechat-secret", "W" * 32),
                            ("token-secret-previous", "P" * 40)):
            ssm.put_parameter(Name=PREFIX + name, Value=value, Type="SecureString", Overwrite=True)
        results: dict[str, list[dict]] = {"env": [], "ssm": [], "client": []}
        for run in range(args.runs):
            order = ("env", "ssm", "client") if run % 2 == 0 else ("client", "ssm", "env")
            for mode in order:
                results[mode].append(_once(mode, server.url))
    finally:
        server.stop()

    def median(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[mode])

    env_first, ssm_first = median("env", "first"), median("ssm", "first")
    print(f"settings load at cold start, medians of {args.runs} fresh interpreters (moto's SSM on loopback):")
    print(f"  secrets from the environment   {env_first:7.1f} ms")
    print(f"  secrets from SSM (1 call)      {ssm_first:7.1f} ms   (+{ssm_first - env_first:.1f} ms)")
    print(f"    of which the SSM client      {median('client', 'first'):7.1f} ms   (created alone, no call)")
    print(f"  a second load, same container  {median('ssm', 'second'):7.1f} ms   (from memory, no call)")
    env_all, ssm_all = median("env", "with_dynamodb"), median("ssm", "with_dynamodb")
    print(f"  settings + the DynamoDB client: environment {env_all:.1f} ms, SSM {ssm_all:.1f} ms "
          f"(+{ssm_all - env_all:.1f} ms: what the cold start pays)")
    print("  not measured here: the network round trip to SSM and KMS in the region")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
