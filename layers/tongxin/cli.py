"""Platform operator commands (not exposed over HTTP).

    python -m tongxin.cli create-community --name 同心社区 --admin-user-id u_... --grid 第一网格 --grid 第二网格
    python -m tongxin.cli create-street --name 同心街道 [--community c_...]
    python -m tongxin.cli attach-community --street st_... --community c_...
    python -m tongxin.cli add-street-staff --street st_... --user-id u_...
    python -m tongxin.cli remove-street-staff --street st_... --user-id u_...
    python -m tongxin.cli create-district --name 同心区 [--street st_...] [--answer-minutes 240] [--solve-days 5]
    python -m tongxin.cli add-department --district dt_... --name 城管局 [--answer-minutes N] [--solve-days N]
    python -m tongxin.cli attach-street --district dt_... --street st_...
    python -m tongxin.cli add-district-staff --district dt_... --user-id u_...     (remove-district-staff)
    python -m tongxin.cli add-department-staff --department dp_... --user-id u_... (remove-department-staff)
    python -m tongxin.cli export-community c_... [--out FILE|-]    (every item of the community, JSON lines)
    python -m tongxin.cli import-community FILE                    (into a stack without it; docs/operations.md)

The first admin, street, district and department staff are existing users (they logged in once and read their id from ``GET /v1/me``).
Configuration (table prefix, endpoint, region) comes from the same environment as the functions.

Which DynamoDB (``resolve_endpoint``): ``--endpoint URL`` (before the command), else ``DYNAMODB_ENDPOINT`` when it is
set, else — for the local stages (``TONGXIN_STAGE=dev``/``test``) only — the running local stack's, read from the
file ``make dev`` writes when it is up and removes when it stops (``.local-data/endpoints.json``, or
``$TONGXIN_LOCAL_DATA/endpoints.json`` for a stack started with ``--data-dir``). No file, or a file naming a stack
that is gone, is a one-line error: never a guessed default port. Other stages are untouched (AWS, as configured).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from .domain.errors import DomainError

# The local stack's endpoints file (written by infra/local/stack.py through infra/local/data.py).
ENDPOINTS_FILE = "endpoints.json"
ENDPOINTS_FORMAT = "tongxin-local-endpoints/1"
LOCAL_DATA_ENV = "TONGXIN_LOCAL_DATA"
_HINT = "start one with `make dev`, or name the DynamoDB endpoint (--endpoint URL or DYNAMODB_ENDPOINT)"


class NoLocalStack(Exception):
    """No running local stack to talk to: the one-line reason."""


def local_data_dir(env=os.environ) -> Path:
    """Where ``make dev`` keeps its files: ``$TONGXIN_LOCAL_DATA``, else the repository's ``.local-data``."""
    return Path(env.get(LOCAL_DATA_ENV) or Path(__file__).resolve().parents[2] / ".local-data")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return True


def _answers(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout):
            return True
    except (OSError, ValueError, TypeError):
        return False


def running_local_stack(data_dir: Path | None = None) -> dict:
    """The running local stack's endpoints file, checked: its process is alive and its DynamoDB takes connections.
    Keys: ``pid``, ``api``, ``dynamodb``, ``wechat`` (URLs), ``table_prefix``, ``region``. Raises NoLocalStack."""
    path = Path(data_dir or local_data_dir()) / ENDPOINTS_FILE
    try:
        stack = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoLocalStack(f"no local stack is running (no {path}): {_HINT}") from None
    except (OSError, ValueError) as exc:
        raise NoLocalStack(f"cannot read {path} ({exc}): {_HINT}") from None
    if not (isinstance(stack, dict) and stack.get("format") == ENDPOINTS_FORMAT and isinstance(stack.get("pid"), int)
            and all(isinstance(stack.get(k), str) for k in ("api", "dynamodb", "wechat", "table_prefix", "region"))):
        raise NoLocalStack(f"cannot read {path} (not a {ENDPOINTS_FORMAT} file): {_HINT}")
    if not _pid_alive(stack["pid"]):
        raise NoLocalStack(f"the local stack named in {path} (pid {stack['pid']}) is not running: {_HINT}")
    if not _answers(stack["dynamodb"]):
        raise NoLocalStack(f"the local stack named in {path} (pid {stack['pid']}) refuses connections at "
                           f"{stack['dynamodb']}: {_HINT}")
    return stack


def resolve_endpoint(explicit: str | None, env=os.environ) -> None:
    """Point the configuration (``env``) at the DynamoDB to use: see the module's docstring. Raises NoLocalStack."""
    if explicit is not None:
        env["DYNAMODB_ENDPOINT"] = explicit
        return
    if "DYNAMODB_ENDPOINT" in env:
        return
    from .config import DEV_STAGES
    if env.get("TONGXIN_STAGE", "").strip() not in DEV_STAGES:
        return  # a deployed stage: its configuration decides (and fails closed)
    stack = running_local_stack(local_data_dir(env))
    env["DYNAMODB_ENDPOINT"] = stack["dynamodb"]
    env.setdefault("WECHAT_BASE_URL", stack["wechat"])
    env.setdefault("TABLE_PREFIX", stack["table_prefix"])
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = stack["region"]  # moto's tables live in the stack's region
    env.setdefault("AWS_ACCESS_KEY_ID", "local")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "local")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tongxin.cli")
    parser.add_argument("--endpoint", metavar="URL",
                        help="the DynamoDB endpoint (default: DYNAMODB_ENDPOINT; in the dev/test stages, the running "
                             "local stack's, from .local-data/endpoints.json)")
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
    district = commands.add_parser("create-district", help="create a district (区) and attach streets to it")
    district.add_argument("--name", required=True)
    district.add_argument("--street", action="append", default=[], help="a street id (repeatable)")
    department = commands.add_parser("add-department", help="add a department (区直部门) to a district")
    department.add_argument("--district", required=True)
    department.add_argument("--name", required=True)
    for command in (district, department):
        command.add_argument("--answer-minutes", type=int, help="minutes its departments have to answer (240)")
        command.add_argument("--solve-days", type=int, help="days its departments have to solve (5)")
    attach_street = commands.add_parser("attach-street", help="attach a street (and its communities) to a district")
    attach_street.add_argument("--district", required=True)
    attach_street.add_argument("--street", required=True)
    for verb, helped in (("add", "name a user staff of"), ("remove", "take from its staff member (at once)")):
        command = commands.add_parser(f"{verb}-district-staff", help=f"{helped} a district (区级平台)")
        command.add_argument("--district", required=True)
        command.add_argument("--user-id", required=True)
        command = commands.add_parser(f"{verb}-department-staff", help=f"{helped} a department (区直部门)")
        command.add_argument("--department", required=True)
        command.add_argument("--user-id", required=True)
    commands.add_parser("rebuild-directory", help="give every member their member-directory entries (成员名录; "
                                                  "for tables written before it existed; safe to repeat)")
    export = commands.add_parser("export-community", help="write every item of a community, from every table, "
                                                          "as JSON lines (personal data marked; keep the file safe)")
    export.add_argument("community_id")
    export.add_argument("--out", default="-", help="the file to write (default -: standard output)")
    load = commands.add_parser("import-community", help="load an export into a stack that does not hold the community")
    load.add_argument("file", help="an export-community file (- for standard input)")
    args = parser.parse_args(argv)

    from . import wiring
    from .config import ConfigurationError
    from .usecases import admin, directory, districts, streets
    try:
        if wiring._container is None:  # installed already: the tests' in-process DynamoDB
            resolve_endpoint(args.endpoint)
        wiring.get_container()
    except (NoLocalStack, ConfigurationError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    try:
        if args.command in ("export-community", "import-community"):
            return _community_file(args)
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
        elif args.command == "create-district":
            result = districts.create_district(args.name, answer_minutes=args.answer_minutes,
                                               solve_days=args.solve_days)
            for street_id in args.street:
                result = districts.attach_street(result["id"], street_id)
        elif args.command == "add-department":
            result = districts.add_department(args.district, args.name, answer_minutes=args.answer_minutes,
                                              solve_days=args.solve_days)
        elif args.command == "attach-street":
            result = districts.attach_street(args.district, args.street)
        elif args.command in ("add-district-staff", "remove-district-staff"):
            change = districts.add_district_staff if args.command.startswith("add") else districts.remove_district_staff
            result = change(args.district, args.user_id)
        elif args.command in ("add-department-staff", "remove-department-staff"):
            change = districts.add_department_staff if args.command.startswith("add") \
                else districts.remove_department_staff
            result = change(args.department, args.user_id)
        elif args.command == "rebuild-directory":
            result = directory.rebuild()
        else:
            result = streets.remove_staff(args.street, args.user_id)
    except DomainError as exc:
        sys.stderr.write(f"{exc.code}: {exc.message}\n")
        return 1
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


def _community_file(args) -> int:
    """export-community / import-community (tongxin/export): the file, and a one-line error for what refuses it."""
    from . import export
    try:
        if args.command == "export-community":
            if args.out == "-":
                result = export.export_community(args.community_id, sys.stdout)
            else:
                # A new file (never over an earlier export), readable by its owner only: it holds openids and phones.
                descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                        result = export.export_community(args.community_id, out)
                except BaseException:
                    os.unlink(args.out)  # no part of an export left to pass for a whole one
                    raise
        elif args.file == "-":
            result = export.import_community(sys.stdin)
        else:
            with open(args.file, encoding="utf-8") as lines:
                result = export.import_community(lines)
    except export.NotFound as exc:
        sys.stderr.write(f"error: no community {exc} in this stack\n")
        return 1
    except (export.ImportRefused, export.StackBusy, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    # The export itself may be on standard output: the summary goes to standard error then.
    summary = sys.stderr if args.command == "export-community" and args.out == "-" else sys.stdout
    summary.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
