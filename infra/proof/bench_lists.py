"""What a list page and a stats call cost as the community grows (printed, not asserted): issue 7 target 4.

    python -m infra.proof.bench_lists [--users 20000] [--wishes 5000]

Seeds one community on in-process moto with ``--users`` residents and ``--wishes`` wishes spread over 2 grids,
8 categories (one rare: 1 in 200), every status and a year of creation days — written with the same domain
rules the use cases use (list keys, statistics counters) — then calls the real API (the Chalice app, its
middleware included) and counts, per request, the DynamoDB calls and the items they read (Query ScannedCount,
items returned by GetItem/BatchGetItem). A page must cost the same at 100 wishes as at 5,000.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import timedelta

from infra.proof.bench_moto import moto_api

CATEGORIES = ("生活帮扶", "助老", "助残", "助学", "医疗健康", "维修", "物资")
RARE = "其他"
STATUSES = ("open", "open", "claimed", "fulfilled", "confirmed", "confirmed", "cancelled", "expired",
            "pending_review", "rejected")


def seed(users: int, wishes: int):
    from tongxin.adapters.dynamo.models import CommunityModel, CounterModel, GridModel, UserModel, WishModel
    from tongxin.domain import stats as domain_stats, wishes as rules
    from tongxin.domain.clock import utcnow
    from tongxin.domain.wishes import WishStatus as S
    from tongxin.usecases.wishes.lifecycle import STAT_FIELDS, status_attributes

    rng, now = random.Random(7), utcnow()
    cid, grids = "c_bench", ["g_one", "g_two"]
    CommunityModel(cid, name="压测社区", created_at=now).save()
    for gid in grids:
        GridModel(cid, gid, name=gid, created_at=now).save()
    admin = UserModel("u_admin", status="active", community_id=cid, roles={"resident", "admin"}, created_at=now)
    admin.save()
    with UserModel.batch_write() as writer:
        for i in range(users):
            writer.save(UserModel(f"u_{i:05d}", status="active", nickname=f"居民{i}", community_id=cid,
                                  grid_id=grids[i % 2], roles={"resident", "volunteer"}, created_at=now))
    sums: dict[str, Counter] = {}
    with WishModel.batch_write() as writer:
        for i in range(wishes):
            created = now - timedelta(days=rng.uniform(0, 360))
            status = S(rng.choice(STATUSES))
            category = RARE if i % 200 == 0 else rng.choice(CATEGORIES)
            author = f"u_{rng.randrange(users):05d}"
            wish = WishModel(f"w_{i:05d}", community_id=cid, grid_id=grids[i % 2], author_id=author,
                             author_nickname="居民", title=f"心愿{i}", content="内容", category=category,
                             created_at=created, updated_at=created, published_at=created)
            if status in (S.CLAIMED, S.FULFILLED, S.CONFIRMED):
                wish.claimer_id, wish.claimer_nickname = f"u_{rng.randrange(users):05d}", "志愿者"
                wish.first_claimed_at = created + timedelta(hours=rng.uniform(0.5, 100))
            if status is S.CONFIRMED:
                wish.confirmed_at = wish.first_claimed_at + timedelta(hours=rng.uniform(1, 100))
            for name, value in status_attributes(wish, status, escalated=False).items():
                setattr(wish, name, value)
            writer.save(wish)
            deltas = domain_stats.wish_deltas(None, {name: getattr(wish, name) for name in STAT_FIELDS})
            if wish.first_claimed_at:
                deltas.update(domain_stats.wish_deltas({"status": wish.status, "first_claimed_at": None,
                                                        "confirmed_at": None},
                                                       {name: getattr(wish, name) for name in STAT_FIELDS}))
            for key in rules.stats_keys(cid, created):
                sums.setdefault(key, Counter()).update(deltas)
    client = UserModel._get_connection().connection.client
    for key, counts in sums.items():
        expression = "ADD " + ", ".join(f"#n{i} :v{i}" for i in range(len(counts)))
        client.update_item(TableName=CounterModel.Meta.table_name, Key={"key": {"S": key}}, UpdateExpression=expression,
                           ExpressionAttributeNames={f"#n{i}": name for i, name in enumerate(counts)},
                           ExpressionAttributeValues={f":v{i}": {"N": str(n)} for i, n in enumerate(counts.values())})
    return cid, grids, admin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--wishes", type=int, default=5_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with moto_api() as api:
        started = time.perf_counter()
        cid, grids, admin = seed(args.users, args.wishes)
        seeded = time.perf_counter() - started
        resident_token = api.token("u_00001", community_id=cid, roles={"resident"})
        admin_token = api.token(admin.id, community_id=cid, roles={"resident", "admin"})
        requests = [
            ("resident", "/v1/wishes"), ("resident", "/v1/wishes?status=open"),
            ("resident", f"/v1/wishes?grid_id={grids[0]}"), ("resident", "/v1/wishes?category=维修"),
            ("resident", f"/v1/wishes?category={RARE}"), ("resident", f"/v1/wishes?status=open&category={RARE}"),
            ("resident", f"/v1/wishes?grid_id={grids[1]}&status=claimed"),
            ("resident", f"/v1/wishes?grid_id={grids[0]}&category={RARE}"),
            ("admin", "/v1/wishes?status=pending_review"), ("admin", "/v1/admin/stats"),
            ("admin", "/v1/admin/stats?from=2025-12-16T00:00:00%2B08:00&to=2026-12-01T00:00:00%2B08:00"),
        ]
        rows = []
        for who, path in requests:
            got = api.measure("GET", path, resident_token if who == "resident" else admin_token)
            body = got.json()
            shown = len(body.get("items", [])) if "items" in body else body.get("wishes", {}).get("total")
            rows.append({"as": who, "request": f"GET {path}",
                         **got.row(shown=shown, next_cursor=bool(body.get("next_cursor")))})
    if args.json:
        print(json.dumps({"users": args.users, "wishes": args.wishes, "rows": rows}, ensure_ascii=False, indent=1))
        return 0
    print(f"seeded {args.users} users and {args.wishes} wishes in {seeded:.1f} s; per request (page of 20):")
    print(f"{'request':78} {'status':>6} {'calls':>5} {'items read':>10} {'shown':>6}")
    for row in rows:
        print(f"{row['as'] + ' ' + row['request']:78} {row['status']:>6} {row['calls']:>5} {row['items_read']:>10} "
              f"{str(row['shown']):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
