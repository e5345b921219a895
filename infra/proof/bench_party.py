"""What the 双报到 assessment (考核) costs at a community of 500 party members (printed, not asserted): issue 23.

    python -m infra.proof.bench_party [--members 500] [--quarters 4]

Seeds, on in-process moto, one community whose ``--members`` party members (the user items and the member
directory's entries, as approval writes them) each have a service record (``service#<user>#<quarter>`` counter
items, written with ``service_record.add`` as the credits write them) in each of the year's first ``--quarters``
quarters, then calls the real API (the Chalice app, its middleware included) as the community's admin and counts,
per request, the DynamoDB calls and the items they read: the first page, the next, and the whole community as CSV.
A page must cost the same whatever ``--members`` (O(page)); the whole community ~2 calls per 20 members (O(members)).

服务卡 too: the same members all work for one unit (共建单位) that co-builds with the community and a second one (their
approved registrations naming it: the sparse ``by_unit`` index), and the unit's liaison reads its service cards —
the first page, the next, and all of them as CSV (``GET /v1/units/{unit_id}/service-cards``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta

from infra.proof.bench_moto import moto_api


def seed(members: int, quarters: int) -> dict:
    from tongxin.adapters.dynamo.models import CommunityModel, CounterModel, MemberEntryModel, UserModel
    from tongxin.domain import directory as directory_rules
    from tongxin.domain.clock import SHANGHAI, utcnow
    from tongxin.domain.party import quarter_of
    from tongxin.usecases import directory, service_record

    now = utcnow()
    cid = "c_bench_party"
    CommunityModel(cid, name="压测社区", created_at=now).save()
    UserModel("u_admin", status="active", community_id=cid, roles={"resident", "admin"}, nickname="书记",
              created_at=now, joined_at=now).save()
    year = now.astimezone(SHANGHAI).year
    quarter = quarter_of(now)
    first_days = [datetime(year, month, 15, 10, 0, tzinfo=SHANGHAI) for month in (1, 4, 7, 10)]
    with UserModel.batch_write() as users, MemberEntryModel.batch_write() as entries:
        for i in range(members):
            user = UserModel(f"u_pm_{i:05d}", status="active", nickname=f"党员{i}", real_name=f"党员{i}",
                             community_id=cid, grid_id="g_1", roles={"resident", "party_member"},
                             created_at=now, joined_at=now - timedelta(minutes=i))
            users.save(user)
            for community_id, key in sorted(directory.keys_of(user)):
                entries.save(MemberEntryModel(community_id, key, user_id=user.id))
    # The service record items as ``service_record.add`` leaves them (services, the kind, minutes): written in
    # batches here, not one transaction each (what the credits cost is their own routes' concern).
    client, table = UserModel._get_connection().connection.client, CounterModel.Meta.table_name
    items = [{"key": {"S": service_record.key(f"u_pm_{i:05d}", quarter_of(moment))}, "services": {"N": "1"},
              "event": {"N": "1"}, "minutes": {"N": str(60 + i % 120)}, "community_id": {"S": cid}}
             for i in range(members) for moment in first_days[:quarters] if moment <= now]
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}} for item in
                                                      items[start:start + 25]]})
    assert directory_rules  # the entries above are the directory's own keys (domain/directory.entry_keys)
    seed_unit(members, cid, now)
    return {"community_id": cid, "quarter": quarter, "now": now}


UNIT_ID = "unit_bench"
LIAISON_ID = "u_liaison"


def seed_unit(members: int, cid: str, now) -> None:
    """服务卡: a unit of the community's street whose liaison reads the cards; every member's approved registration
    names it (as approval writes it: ``unit_key`` set); agreements with the community and a second one."""
    from tongxin.adapters.dynamo.models import (
        CommunityModel, PartyRegistrationModel, UnitAgreementModel, UnitModel, UserModel,
    )
    from tongxin.domain import party as party_rules
    from tongxin.domain.units import today
    CommunityModel("c_bench_party2", name="压测社区二", created_at=now).save()
    UnitModel(UNIT_ID, name="压测单位", kind="机关", street_id="s_bench", contact_name="联络", contact_phone="13800000000",
              liaison_ids={LIAISON_ID}, agreement_count=2, resource_count=0, created_by="bench", created_at=now).save()
    until = today(now).replace(year=today(now).year + 1).isoformat()
    for community_id, name in ((cid, "压测社区"), ("c_bench_party2", "压测社区二")):
        UnitAgreementModel(UNIT_ID, community_id, community_name=name, street_id="s_bench", pledges=["每季度一次"],
                           activities_per_quarter=2, valid_until=until, signed_by="u_admin",
                           created_at=now - timedelta(days=400)).save()
    UserModel(LIAISON_ID, status="active", nickname="联络员", roles={"unit_liaison"}, unit_ids={UNIT_ID},
              created_at=now).save()
    with PartyRegistrationModel.batch_write() as writer:
        for i in range(members):
            uid = f"u_pm_{i:05d}"
            writer.save(PartyRegistrationModel(
                party_rules.registration_key(cid, uid), community_id=cid, user_id=uid, status=party_rules.APPROVED,
                status_key=f"{cid}#{party_rules.APPROVED}", real_name=f"党员{i}", work_unit="压测单位",
                party_branch="第一党支部", unit_id=UNIT_ID, unit_key=UNIT_ID, submitted_at=now,
                decided_at=now - timedelta(minutes=i), updated_at=now))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--quarters", type=int, default=4, help="quarters of the year with services")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with moto_api() as api:
        started = time.perf_counter()
        made = seed(args.members, args.quarters)
        seeded = time.perf_counter() - started
        token = api.token("u_admin", community_id=made["community_id"], roles={"resident", "admin"})
        rows = []

        def get(label: str, path: str):
            got = api.measure("GET", path, token)
            rows.append({"request": label, **got.row()})
            return got
        first = get("GET /v1/admin/party-members (first page of 20)", "/v1/admin/party-members")
        cursor = first.json()["next_cursor"]
        if cursor:
            get("GET /v1/admin/party-members (next page)", f"/v1/admin/party-members?cursor={cursor}")
        whole = get(f"GET /v1/admin/party-members?format=csv (all {args.members})",
                    "/v1/admin/party-members?format=csv")
        lines = whole.body.count(b"\r\n") - 1
        token = api.token(LIAISON_ID, community_id=None, roles={"unit_liaison"})
        cards = f"/v1/units/{UNIT_ID}/service-cards"
        first = get("GET /v1/units/{id}/service-cards (first page of 20)", cards)
        cursor = first.json()["next_cursor"]
        if cursor:
            get("GET /v1/units/{id}/service-cards (next page)", f"{cards}?cursor={cursor}")
        whole = get(f"GET /v1/units/{{id}}/service-cards?format=csv (all {args.members})", f"{cards}?format=csv")
        card_lines = whole.body.count(b"\r\n") - 1
    if args.json:
        print(json.dumps({"members": args.members, "quarter": made["quarter"], "csv_rows": lines,
                          "card_csv_rows": card_lines, "rows": rows},
                         ensure_ascii=False, indent=1))
        return 0
    print(f"seeded a community of {args.members} party members with {args.quarters} quarters of service records in "
          f"{seeded:.1f} s; quarter {made['quarter']}; per request:")
    print(f"{'request':60} {'status':>6} {'calls':>5} {'items read':>10}  by call")
    for row in rows:
        print(f"{row['request']:60} {row['status']:>6} {row['calls']:>5} {row['items_read']:>10}  {row['by_call']}")
    print(f"the CSV held {lines} members; the unit's service cards CSV {card_lines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
