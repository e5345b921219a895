"""The command line, ``python -m infra.proof.invariants [--endpoint …] [--prefix …] [--region …] [--data-dir …]``
(``__main__.py``): ``check`` over the tables of a stack, one violation a line, exit 1 if there is any.

Which tables: ``--endpoint URL`` (``""``: AWS), else ``DYNAMODB_ENDPOINT`` when it is set, else the running local
stack's (``make dev`` on any ports: its endpoint, table prefix and region from ``<data dir>/endpoints.json``,
``tongxin.cli.running_local_stack``). No explicit endpoint and no running local stack is a one-line error and exit 2,
never a default port; so is a DynamoDB that cannot be read."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import infra.proof.invariants as package
from infra.proof.invariants.checker import check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.proof.invariants", description=package.__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=None,
                        help='DynamoDB endpoint ("": AWS); default: DYNAMODB_ENDPOINT if set, else the running '
                             "local stack's (make dev, from <data dir>/endpoints.json)")
    parser.add_argument("--prefix", default=None,
                        help="table prefix (<prefix>-users, ...); default: the local stack's, else tongxin-dev")
    parser.add_argument("--region", default=None, help="default: the local stack's, else cn-north-1")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the local stack's --data-dir (default: $TONGXIN_LOCAL_DATA, else .local-data)")
    args = parser.parse_args(argv)
    from tongxin.cli import NoLocalStack, running_local_stack

    endpoint = args.endpoint if args.endpoint is not None else os.environ.get("DYNAMODB_ENDPOINT")
    prefix, region = args.prefix or "tongxin-dev", args.region or "cn-north-1"
    if endpoint is None:
        try:
            stack = running_local_stack(args.data_dir)
        except NoLocalStack as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        endpoint = stack["dynamodb"]
        prefix, region = args.prefix or stack["table_prefix"], args.region or stack["region"]
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
    local = endpoint and endpoint.startswith(("http://127.", "http://localhost"))
    client = boto3.client("dynamodb", endpoint_url=endpoint or None, region_name=region,
                          **({"aws_access_key_id": "local", "aws_secret_access_key": "local"} if local else {}))
    try:
        violations = check(client, lambda name: f"{prefix}-{name}")
    except (BotoCoreError, ClientError) as exc:
        print(f"error: cannot read the tables {prefix}-* at {endpoint or 'AWS'}: {exc}", file=sys.stderr)
        return 2
    for line in violations:
        print(line)
    if violations:
        print(f"{len(violations)} violation(s)", file=sys.stderr)
        return 1
    print(f"all invariants hold ({prefix}-* at {endpoint or 'AWS'})")
    return 0
