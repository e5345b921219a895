"""What a leaderboard read and a credit's score items cost (printed, not asserted): issue 27 (targets 2 and 3).

    python -m infra.proof.bench_leaderboard [--users 120] [--closed 5]

Seeds one community (2 grids) on in-process moto with ``--users`` members, credits each of them points and
volunteer minutes through the ledger primitive every credit uses (``usecases/ledger``), closes the accounts of
``--closed`` of the best scorers through ``DELETE /v1/me``, then reads every leaderboard (period × scope × metric)
through the real API (the Chalice app, its middleware included) and counts, per request, the DynamoDB calls and
the items they read (Query ScannedCount, items of GetItem/BatchGetItem) beside the rows shown. It also counts the
score items one points credit and one check-out-shaped credit (points and minutes) write.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for sub in ("layers", "functions/api", ""):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "TONGXIN_STAGE": "test", "POWERTOOLS_LOG_LEVEL": "ERROR"})
os.environ.pop("AWS_PROFILE", None)


class Meter:
    def __init__(self):
        self.calls, self.items, self.score_writes = Counter(), 0, 0

    def before_call(self, params, model, **kwargs):
        if model.name == "TransactWriteItems":
            for item in params.get("TransactItems", []):
                (op,) = item.values()
                self.score_writes += op.get("TableName", "").endswith("-scores")

    def after_call(self, http_response, parsed, model, **kwargs):
        self.calls[model.name] += 1
        if model.name in ("Query", "Scan"):
            self.items += parsed.get("ScannedCount", 0)
        elif model.name == "GetItem":
            self.items += int("Item" in parsed)
        elif model.name == "BatchGetItem":
            self.items += sum(len(items) for items in parsed.get("Responses", {}).values())


def credit(user_id: str, points: int, minutes: int, cid: str, gid: str, n: int) -> None:
    """One check-out-shaped credit (points and minutes; minutes 0: an award-shaped one) in one transaction."""
    from tongxin.adapters.dynamo.tx import Tx
    from tongxin.domain.clock import utcnow
    from tongxin.usecases import ledger

    account = ledger.current_account(user_id)
    tx = Tx()
    ledger.append(tx, account=account, amount=points, source_key=f"bench#{n}", kind="award", source=f"bench:{n}",
                  note=None, duplicate_error=None, community_id=cid)
    if minutes:
        ledger.add_minutes(tx, account, minutes, utcnow(), cid)
    tx.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=120)
    parser.add_argument("--closed", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from moto import mock_aws
    with mock_aws():
        from chalice.test import Client
        from tongxin.adapters import tokens
        from tongxin.adapters.dynamo import binding
        from tongxin.adapters.dynamo.binding import create_tables
        from tongxin.adapters.dynamo.models import CommunityModel, GridModel, UserModel
        from tongxin.config import Settings
        from tongxin.domain.clock import utcnow
        from tongxin.wiring import Container, set_container

        settings = Settings(stage="test", table_prefix="bench", dynamodb_endpoint=None, aws_region="us-east-1",
                            wechat_base_url="http://127.0.0.1:9/", token_secret="bench-" + "b" * 32)
        set_container(Container(settings))
        create_tables(settings)
        now = utcnow()
        cid, grids = "c_bench", ["g_one", "g_two"]
        CommunityModel(cid, name="压测社区", created_at=now).save()
        for gid in grids:
            GridModel(cid, gid, name=gid, created_at=now).save()
        users = [UserModel(f"u_{i:05d}", status="active", nickname=f"居民{i}", community_id=cid, grid_id=grids[i % 2],
                           roles={"resident", "volunteer"}, points_balance=0, created_at=now)
                 for i in range(args.users)]
        for user in users:
            user.save()
        meter = Meter()
        events = binding.connection().client.meta.events
        events.register("before-parameter-build.dynamodb.TransactWriteItems", meter.before_call)
        events.register("after-call.dynamodb.*", meter.after_call)
        per_credit = {}
        for i, user in enumerate(users):
            meter.score_writes = 0
            credit(user.id, points=10 + i, minutes=30 + i if i % 3 else 0, cid=cid, gid=user.grid_id, n=i)
            per_credit.setdefault("points and minutes (a check-out)" if i % 3 else "points (an award)",
                                  meter.score_writes)

        import app

        def token(user_id: str) -> str:
            return tokens.issue(settings, user_id=user_id, community_id=cid, roles={"resident", "volunteer"},
                                grid_ids=(), store_ids=())[0]
        rows = []
        with Client(app.app, stage_name="dev") as client:
            for user in users[-args.closed:]:  # the best scorers close their accounts
                resp = client.http.delete("/v1/me", headers={"authorization": f"Bearer {token(user.id)}"})
                assert resp.status_code == 204, resp.body
            reader = token(users[0].id)
            for metric in ("points", "minutes"):
                for scope in ("community", "grid"):
                    for period in ("month", "year", "all"):
                        path = f"/v1/leaderboard?period={period}&scope={scope}&metric={metric}"
                        meter.calls, meter.items = Counter(), 0
                        resp = client.http.get(path, headers={"authorization": f"Bearer {reader}"})
                        body = json.loads(resp.body)
                        rows.append({"request": f"GET {path}", "status": resp.status_code,
                                     "calls": sum(meter.calls.values()), "items_read": meter.items,
                                     "shown": len(body.get("items", [])), "by_call": dict(meter.calls)})
    if args.json:
        print(json.dumps({"users": args.users, "closed": args.closed, "score_items_per_credit": per_credit,
                          "rows": rows}, ensure_ascii=False, indent=1))
        return 0
    print(f"{args.users} members credited, {args.closed} of the best scorers closed their accounts")
    for shape, n in per_credit.items():
        print(f"score items written by one credit of {shape}: {n}")
    print(f"{'request':62} {'status':>6} {'calls':>5} {'items read':>10} {'shown':>6}")
    for row in rows:
        print(f"{row['request']:62} {row['status']:>6} {row['calls']:>5} {row['items_read']:>10} {row['shown']:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
