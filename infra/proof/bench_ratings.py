"""What reading a project's ratings costs as they grow (printed, not asserted): the staff's lists of 群众评单 and 验收.

    python -m infra.proof.bench_ratings [--ratings 2000]

Seeds one community on in-process moto with a done co-project and a done 微实事 project, each rated by ``--ratings``
residents (one in four with a comment, one in fifty of them since deleted), then calls the real API (the Chalice app,
its middleware included) as the community's admin and counts, per request, the DynamoDB calls and the items they read
(Query ScannedCount, items returned by GetItem/BatchGetItem).

"before" is what newest first costs without the ``by_project_time`` index: the ratings are keyed (project_id,
user_id), so the project's partition must be read whole (one Query per 1 MB page) and sorted by time — O(ratings),
whichever page is wanted. "after" is the route: O(page), the same at 20 ratings as at 2,000.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from infra.proof.bench_moto import moto_api

CID = "c_bench"
COMMENT = "楼道里的扶手装得很结实，但是三单元还没有装，希望尽快补上。"


def seed(ratings: int):
    from tongxin.adapters.dynamo.models import (
        CommunityModel, CoProjectModel, CoProjectRatingModel, RoundProjectModel, RoundProjectRatingModel, UserModel,
    )
    from tongxin.domain.clock import utcnow

    now = utcnow()
    CommunityModel(CID, name="压测社区", created_at=now).save()
    admin = UserModel("u_admin", status="active", nickname="社区书记", community_id=CID, roles={"resident", "admin"},
                      created_at=now)
    admin.save()
    CoProjectModel("cop_bench", community_id=CID, title="义诊进社区", need_text="量血压", unit_id="unit_bench",
                   unit_name="人民医院", starts_on="2026-01-01", ends_on="2026-12-31", beneficiaries_note="独居老人",
                   status="done", status_key=f"{CID}#done", ratings_count=ratings, ratings_sum=4 * ratings,
                   created_by=admin.id, created_at=now, updated_at=now, completed_at=now).save()
    RoundProjectModel("rpj_bench", round_id="prd_bench", community_id=CID, title="楼道加装扶手", description="扶手",
                      cost_yuan=3000, category="设施维修", proposer_id="u_00000", proposer_key="prd_bench#u_00000",
                      round_budget_yuan=10000, round_voting_from=now, round_voting_until=now,
                      round_publicity_until=now, status="approved", status_key="prd_bench#approved", selected=True,
                      percent=100, done_at=now, ratings_count=ratings, ratings_sum=4 * ratings, created_at=now,
                      updated_at=now).save()
    with UserModel.batch_write() as users, CoProjectRatingModel.batch_write() as co, \
            RoundProjectRatingModel.batch_write() as rounds:
        for i in range(ratings):
            uid = f"u_{i:05d}"
            gone = i % 50 == 49
            users.save(UserModel(uid, status="deleted" if gone else "active", nickname=None if gone else f"居民{i}",
                                 community_id=CID, roles={"resident"}, created_at=now))
            at = now - timedelta(minutes=ratings - i)
            comment = COMMENT if i % 4 == 0 and not gone else None
            co.save(CoProjectRatingModel("cop_bench", uid, community_id=CID, rating=1 + i % 5, comment=comment,
                                         created_at=at))
            rounds.save(RoundProjectRatingModel("rpj_bench", uid, community_id=CID, rating=1 + i % 5,
                                                comment=comment, created_at=at))
    return admin


def whole_partition(model, project_id: str) -> int:
    """Newest first without the index: every rating of the project read (paged by DynamoDB's 1 MB), then sorted."""
    items = sorted(model.query(project_id), key=lambda r: r.created_at, reverse=True)
    return len(items[:20])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=2_000)
    args = parser.parse_args(argv)

    with moto_api() as api:
        from tongxin.adapters.dynamo.models import CoProjectRatingModel, RoundProjectRatingModel

        started = time.perf_counter()
        admin = seed(args.ratings)
        seeded = time.perf_counter() - started
        token = api.token(admin.id, community_id=CID, roles={"resident", "admin"})
        rows = []
        for model, pid in ((CoProjectRatingModel, "cop_bench"), (RoundProjectRatingModel, "rpj_bench")):
            api.meter.reset()
            shown = whole_partition(model, pid)
            figures = api.meter.figures()
            rows.append((f"before: {model.Meta.table_name} {pid}, the partition read and sorted", figures["calls"],
                         figures["items_read"], shown, figures["by_call"]))

        def get(label: str, path: str) -> str | None:
            got = api.measure("GET", path, token)
            assert got.status == 200, got.body
            body = got.json()
            rows.append((label, got.calls, got.items_read, len(body["items"]), got.by_call))
            return body["next_cursor"]
        for base in ("/v1/admin/co-projects/cop_bench/ratings", "/v1/projects/rpj_bench/ratings"):
            cursor = get(f"after: GET {base}", base)
            get(f"after: GET {base} (page 2)", f"{base}?cursor={cursor}")
            get(f"after: GET {base}?limit=100 (served 20)", f"{base}?limit=100")
    print(f"seeded {args.ratings} ratings of each project in {seeded:.1f} s; per request (newest 20):")
    print(f"{'request':82} {'calls':>5} {'items read':>10} {'shown':>6}  by call")
    for label, calls, items, shown, by_call in rows:
        print(f"{label:82} {calls:>5} {items:>10} {shown:>6}  {by_call}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
