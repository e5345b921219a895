"""Platform operator commands (not exposed over HTTP).

    python -m tongxin.cli create-community --name 同心社区 --admin-user-id u_... --grid 第一网格 --grid 第二网格

The first admin is an existing user (they logged in once and read their id from ``GET /v1/me``).
Configuration (table prefix, endpoint, region) comes from the same environment as the functions.
"""
from __future__ import annotations

import argparse
import json
import sys

from .domain.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tongxin.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-community", help="create a community, its grids and its first admin")
    create.add_argument("--name", required=True)
    create.add_argument("--admin-user-id", required=True)
    create.add_argument("--grid", action="append", default=[], help="a grid name (repeatable)")
    create.add_argument("--review-wishes", action="store_true", help="new wishes wait for a grid worker's review")
    create.add_argument("--wish-points", type=int, default=20, help="points a confirmed wish earns its claimer")
    args = parser.parse_args(argv)

    from .usecases import admin
    from .wiring import get_container
    get_container()
    try:
        result = admin.create_community(args.name, admin_user_id=args.admin_user_id, grid_names=args.grid,
                                        wish_review_required=args.review_wishes, wish_points=args.wish_points)
    except DomainError as exc:
        sys.stderr.write(f"{exc.code}: {exc.message}\n")
        return 1
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
