"""After ``sam deploy``: each function's ``live`` alias on a version of what is deployed (``make deploy`` runs it).

SAM publishes a version, and moves the alias to it, when a deploy changes a function's code, one of its properties or
the layer (``infra/deploy/template_deploy.py``, versions), but not when only a parameter's value changes
(aws/serverless-application-model#3820): a deploy that sets ``QrVerifyFile`` or ``WechatTemplates`` updates the
function's $LATEST while API Gateway, the schedule and the stream keep invoking the old version through the alias.
So, for each function: publish a version (Lambda publishes none when nothing changed since the last one, and returns
that one) and point ``live`` at it when it points elsewhere. The same step ends a secrets rotation's "new containers"
(docs/operations.md) and undoes a rollback's ``update-alias`` (docs/deploy.md, Rollback).

    python -m infra.deploy.publish_live --stage prod [--region cn-north-1]   # region: the samconfig section's
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import boto3

from infra.deploy.template_names import FUNCTION_ROLES, LIVE_ALIAS

SAMCONFIG = Path(__file__).resolve().parent / "samconfig.toml"


def function_names(stage: str) -> list[str]:
    """The stage's functions (their fixed names: infra/deploy/template_deploy.function_name)."""
    return [f"tongxin-{stage}-{role}" for role in FUNCTION_ROLES.values()]


def publish_live(client, stage: str) -> list[tuple[str, str, str]]:
    """(function, the version live named, the version it names now) for each function of ``stage``."""
    moved = []
    for name in function_names(stage):
        # A version is published from $LATEST once its last update is done (CloudFormation may just have made it).
        client.get_waiter("function_updated").wait(FunctionName=name)
        version = client.publish_version(FunctionName=name)["Version"]
        before = client.get_alias(FunctionName=name, Name=LIVE_ALIAS)["FunctionVersion"]
        if before != version:
            client.update_alias(FunctionName=name, Name=LIVE_ALIAS, FunctionVersion=version)
        moved.append((name, before, version))
    return moved


def section_region(stage: str, config: Path = SAMCONFIG) -> str:
    return tomllib.loads(config.read_text(encoding="utf-8"))[stage]["deploy"]["parameters"]["region"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy.publish_live", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="the stage (its samconfig section): prod, staging")
    parser.add_argument("--region", help="the stack's region; default: the samconfig section's")
    args = parser.parse_args(argv)
    client = boto3.client("lambda", region_name=args.region or section_region(args.stage))
    for name, before, version in publish_live(client, args.stage):
        print(f"{name}: {LIVE_ALIAS} → {version}" + (f" (was {before})" if before != version else " (unchanged)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
