"""Platform operator commands (not exposed over HTTP).

    python -m tongxin.cli create-community --name 同心社区 --admin-user-id u_... --grid 第一网格 --grid 第二网格
    python -m tongxin.cli create-street --name 同心街道 [--community c_...]
    python -m tongxin.cli attach-community --street st_... --community c_...
    python -m tongxin.cli add-street-staff --street st_... --user-id u_...
    python -m tongxin.cli remove-street-staff --street st_... --user-id u_...

The first admin and street staff are existing users (they logged in once and read their id from ``GET /v1/me``).
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
    street = commands.add_parser("create-street", help="create a street (街道) and attach communities to it")
    street.add_argument("--name", required=True)
    street.add_argument("--community", action="append", default=[], help="a community id (repeatable)")
    attach = commands.add_parser("attach-community", help="attach a community to a street (moved if it had one)")
    attach.add_argument("--street", required=True)
    attach.add_argument("--community", required=True)
    add_staff = commands.add_parser("add-street-staff", help="name a user street staff (街道工作人员) of a street")
    remove_staff = commands.add_parser("remove-street-staff", help="take a street from its staff member (at once)")
    for command in (add_staff, remove_staff):
        command.add_argument("--street", required=True)
        command.add_argument("--user-id", required=True)
    args = parser.parse_args(argv)

    from .usecases import admin, streets
    from .wiring import get_container
    get_container()
    try:
        if args.command == "create-community":
            result = admin.create_community(args.name, admin_user_id=args.admin_user_id, grid_names=args.grid,
                                            wish_review_required=args.review_wishes, wish_points=args.wish_points)
        elif args.command == "create-street":
            result = streets.create_street(args.name)
            for community_id in args.community:
                result = streets.attach_community(result["id"], community_id)
        elif args.command == "attach-community":
            result = streets.attach_community(args.street, args.community)
        elif args.command == "add-street-staff":
            result = streets.add_staff(args.street, args.user_id)
        else:
            result = streets.remove_staff(args.street, args.user_id)
    except DomainError as exc:
        sys.stderr.write(f"{exc.code}: {exc.message}\n")
        return 1
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
