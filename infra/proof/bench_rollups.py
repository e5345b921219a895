"""What the statistics above communities cost at a district's scale (printed, not asserted): issue 22.

    python -m infra.proof.bench_rollups [--streets 5] [--communities 10] [--requests 1000]

Seeds, on in-process moto, a district of ``--streets`` streets of ``--communities`` communities each (50 by
default) and, in each community, this month's ``--requests`` requests (1,000) — their statistics counters written
with the same domain rules every step uses (``domain/requests.deltas`` of each request as it stands: answered in
time or late, resolved, rated, some escalated, extended or overdue), plus a year of wish, event and points counters
— then calls the real API (the Chalice app, its middleware included) as a street's and the district's staff and
counts, per request, the DynamoDB calls and the items they read. The figures must not move with ``--requests``:
the routes read counter items, O(rows), never the requests. The bulletins are measured when their routes exist.
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


def _add(client, table: str, key: str, counts: Counter) -> None:
    if not counts:
        return
    names = list(counts)
    client.update_item(TableName=table, Key={"key": {"S": key}},
                       UpdateExpression="ADD " + ", ".join(f"#n{i} :v{i}" for i in range(len(names))),
                       ExpressionAttributeNames={f"#n{i}": name for i, name in enumerate(names)},
                       ExpressionAttributeValues={f":v{i}": {"N": str(counts[name])} for i, name in enumerate(names)})


def seed(streets: int, communities: int, requests: int) -> dict:
    from tongxin.adapters.dynamo.models import CommunityModel, CounterModel, UserModel
    from tongxin.domain import events as event_rules, requests as rules, wishes as wish_rules
    from tongxin.domain.clock import utcnow
    from tongxin.domain.stats import bucket_names
    from tongxin.usecases import districts, streets as street_cases

    rng, now = random.Random(22), utcnow()
    client = UserModel._get_connection().connection.client
    table = CounterModel.Meta.table_name
    district = districts.create_district("压测区")["id"]
    districts.add_department(district, "城管局")
    made = {"district": district, "streets": [], "communities": 0, "now": now}
    for s in range(streets):
        street = street_cases.create_street(f"第{s + 1}街道")["id"]
        districts.attach_street(district, street)
        made["streets"].append(street)
        for c in range(communities):
            cid = f"c_bench_{s}_{c}"
            CommunityModel(cid, name=f"第{s + 1}街道第{c + 1}社区", created_at=now).save()
            street_cases.attach_community(street, cid)
            made["communities"] += 1
            sums: dict[str, Counter] = {}
            for _ in range(requests):  # this month's requests, each as its steps left it
                submitted = now - timedelta(minutes=rng.uniform(0, 60 * 24 * 5))
                on_time = rng.random() < 0.93
                resolved = rng.random() < 0.9
                outcome = rng.choice(["satisfied"] * 8 + ["unsatisfied", "unrated"]) if resolved else None
                request = {"category": rng.choice(rules.CATEGORIES), "grid_id": "g_1", "created_at": submitted,
                           "first_answered_at": submitted + timedelta(minutes=rng.uniform(5, 200)),
                           "answered_on_time": on_time, "late": not on_time, "escalated": rng.random() < 0.1,
                           "first_resolved_at": submitted + timedelta(hours=rng.uniform(1, 80)) if resolved else None,
                           "resolved_on_time": resolved and rng.random() < 0.92, "extended": rng.random() < 0.03,
                           "overdue": not resolved and rng.random() < 0.5, "outcome": outcome}
                for key in rules.stats_keys(cid, submitted):
                    sums.setdefault(key, Counter()).update(rules.deltas(None, request))
            for day in range(0, 365, 3):  # a year of the other areas: a counter item a bucket, as the steps keep
                moment = now - timedelta(days=day)
                for key in wish_rules.stats_keys(cid, moment):
                    sums.setdefault(key, Counter()).update({"total": 1, "s:open": 1, "c:维修": 1})
                for key in event_rules.stats_keys(cid, moment):
                    sums.setdefault(key, Counter()).update({"ev:published": 1, "ev:capacity": 20})
                for bucket in bucket_names(moment):
                    sums.setdefault(f"points-stats#{cid}#{bucket}", Counter()).update({"k:volunteer": 40})
            for key, counts in sums.items():
                _add(client, table, key, counts)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streets", type=int, default=5)
    parser.add_argument("--communities", type=int, default=10, help="communities per street")
    parser.add_argument("--requests", type=int, default=1000, help="requests per community this month")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with moto_api() as api:
        started = time.perf_counter()
        made = seed(args.streets, args.communities, args.requests)
        seeded = time.perf_counter() - started
        from tongxin.adapters.dynamo.models import UserModel
        for user_id, roles, extra in (("u_street", {"street_staff"}, {"street_ids": {made["streets"][0]}}),
                                      ("u_district", {"district_staff"}, {"district_ids": {made["district"]}})):
            UserModel(user_id, status="active", nickname="压测", roles=roles, points_balance=0, earned_total=0,
                      volunteer_minutes=0, created_at=made["now"], **extra).save()
        # the scopes (street_ids, district_ids) are read from the user item on each request, not from the token
        tokens = {"street": api.token("u_street", community_id=None, roles={"street_staff"}),
                  "district": api.token("u_district", community_id=None, roles={"district_staff"})}
        paths = set(api.app.routes)
        wanted = [("street", "/v1/street/stats"), ("street", "/v1/admin/requests/stats"),
                  ("district", "/v1/district/stats"),
                  ("district", "/v1/district/stats?from=2025-12-07T00:00:00%2B08:00&to=2026-12-06T00:00:00%2B08:00"),
                  ("street", "/v1/street/bulletin"), ("district", "/v1/district/bulletin")]
        rows = [{"as": who, "request": f"GET {path}", **api.measure("GET", path, tokens[who]).row()}
                for who, path in wanted if path.split("?")[0] in paths]
    scale = {"streets": args.streets, "communities": made["communities"], "requests_per_community": args.requests}
    if args.json:
        print(json.dumps({**scale, "rows": rows}, ensure_ascii=False, indent=1))
        return 0
    print(f"seeded a district of {args.streets} streets × {args.communities} communities, {args.requests} requests a "
          f"community this month ({made['communities'] * args.requests} in all), in {seeded:.1f} s; per request:")
    print(f"{'request':92} {'status':>6} {'calls':>5} {'items read':>10}")
    for row in rows:
        print(f"{row['as'] + ' ' + row['request']:92} {row['status']:>6} {row['calls']:>5} {row['items_read']:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
