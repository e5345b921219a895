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
import sys

from infra.proof.bench_moto import moto_api


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

    with moto_api(count_score_writes=True) as api:
        from tongxin.adapters.dynamo.models import CommunityModel, GridModel, UserModel
        from tongxin.domain.clock import utcnow

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
        per_credit = {}
        for i, user in enumerate(users):
            api.meter.score_writes = 0
            credit(user.id, points=10 + i, minutes=30 + i if i % 3 else 0, cid=cid, gid=user.grid_id, n=i)
            per_credit.setdefault("points and minutes (a check-out)" if i % 3 else "points (an award)",
                                  api.meter.score_writes)

        def token(user_id: str) -> str:
            return api.token(user_id, community_id=cid, roles={"resident", "volunteer"})
        rows = []
        for user in users[-args.closed:]:  # the best scorers close their accounts
            resp = api.client.http.delete("/v1/me", headers={"authorization": f"Bearer {token(user.id)}"})
            assert resp.status_code == 204, resp.body
        reader = token(users[0].id)
        for metric in ("points", "minutes"):
            for scope in ("community", "grid"):
                for period in ("month", "year", "all"):
                    path = f"/v1/leaderboard?period={period}&scope={scope}&metric={metric}"
                    got = api.measure("GET", path, reader)
                    rows.append({"request": f"GET {path}", **got.row(shown=len(got.json().get("items", [])))})
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
