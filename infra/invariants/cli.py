"""The command line, ``python -m infra.invariants [--endpoint …] [--prefix …] [--region …]`` (``__main__.py``):
``check`` over the tables of a stack, one violation a line, exit 1 if there is any."""
from __future__ import annotations

import argparse
import sys

import infra.invariants as package
from infra.invariants.checker import check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.invariants", description=package.__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:8002",
                        help="DynamoDB endpoint (make dev's embedded DynamoDB by default; none: AWS)")
    parser.add_argument("--prefix", default="tongxin-dev", help="table prefix (<prefix>-users, ...)")
    parser.add_argument("--region", default="cn-north-1")
    args = parser.parse_args(argv)
    import boto3
    local = args.endpoint and args.endpoint.startswith(("http://127.", "http://localhost"))
    client = boto3.client("dynamodb", endpoint_url=args.endpoint or None, region_name=args.region,
                          **({"aws_access_key_id": "local", "aws_secret_access_key": "local"} if local else {}))
    violations = check(client, lambda name: f"{args.prefix}-{name}")
    for line in violations:
        print(line)
    if violations:
        print(f"{len(violations)} violation(s)", file=sys.stderr)
        return 1
    print(f"all invariants hold ({args.prefix}-* at {args.endpoint or 'AWS'})")
    return 0
