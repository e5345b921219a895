"""Fan-out (issue 8): a change that must tell more people than one DynamoDB transaction holds (100 items) writes
ONE fan-out item in its transaction; the scheduler expands it into one message per person, keyed
``<fan-out id>#<person>``, so running it again adds nothing.

In process, against moto (the ``api`` fixture is thread-safe): 250 people signed up for an event that is then
cancelled, and a grid with 120 grid workers told of a wish to review.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from tests.support import make_community
from tongxin.adapters.dynamo.models import GridModel, OutboxModel
from tongxin.domain.clock import SHANGHAI

pytestmark = pytest.mark.slow

THREADS = 8


@pytest.fixture(scope="module", autouse=True)
def invariants_hold(container, fresh_tables_per_module):
    """After the module: every invariant of design.md over what it left in the tables (infra/proof/invariants/)."""
    yield
    from infra.proof.invariants import check
    from tongxin.adapters.dynamo.binding import connection
    found = check(connection().client, container.settings.table_name)
    assert not found, "\n".join(found[:40])


def _at(**delta) -> str:
    return (datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(**delta)).isoformat()


def _in_threads(call, n: int) -> list:
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(lambda i: call(), range(n)))


def _residents(community, n: int, grid: int = 0) -> list:
    community.invite(grid)  # one invite code for all, made before the threads start
    return _in_threads(lambda: community.resident(grid), n)


def _run_scheduler():
    from tongxin.usecases import schedule
    return schedule.run()


def _outbox(kind: str, about: tuple[str, str]) -> list[OutboxModel]:
    # Test-only look at the outbox table: every item of one kind about one thing (data[key] == value).
    key, value = about
    return [m for m in OutboxModel.scan(OutboxModel.kind == kind) if (m.data or {}).get(key) == value]


def _fanouts(items: list[OutboxModel]) -> list[OutboxModel]:
    return [m for m in items if m.status in ("fanout", "expanded")]


def _per_person(items: list[OutboxModel]) -> Counter:
    return Counter(m.recipient_id for m in items if m.status not in ("fanout", "expanded"))


def test_cancelling_an_event_with_250_sign_ups_tells_each_once(api):
    community = make_community(api)
    admin = community.admin
    resp = admin.post("/v1/events", {"title": "大型义诊", "kind": "activity", "starts_at": _at(days=3),
                                     "ends_at": _at(days=3, hours=3), "capacity": 300})
    assert resp.status == 201, resp.body
    event = resp.json
    people = _residents(community, 250)

    def sign_up(member):
        answer = member.post(f"/v1/events/{event['id']}/signup")
        assert answer.status == 201, answer.body
        return answer.json["status"]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = list(pool.map(sign_up, people))
    assert Counter(statuses) == {"signed": 250}
    detail = admin.get(f"/v1/events/{event['id']}").json
    assert (detail["signed_count"], detail["waitlist_count"]) == (250, 0)

    cancelled = admin.post(f"/v1/events/{event['id']}/cancel", {"reason": "场地临时征用"})
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled", cancelled.body
    fanouts = _fanouts(_outbox("event_cancelled", ("event_id", event["id"])))
    assert [m.status for m in fanouts] == ["fanout"], "one fan-out item, written by the cancellation"

    _run_scheduler()
    _run_scheduler()
    items = _outbox("event_cancelled", ("event_id", event["id"]))
    told = _per_person(items)
    assert set(told) == {m.id for m in people} and set(told.values()) == {1}, told.most_common(3)
    fanout = _fanouts(items)
    assert [(m.id, m.status) for m in fanout] == [(fanouts[0].id, "expanded")]
    assert {m.id for m in items if m.status not in ("fanout", "expanded")} == \
        {f"{fanout[0].id}#{m.id}" for m in people}


def test_a_wish_to_review_tells_each_of_120_grid_workers_once(api):
    community = make_community(api, review=True)
    admin = community.admin
    workers = _residents(community, 120)

    def make_worker(member):
        answer = admin.put(f"/v1/admin/members/{member.id}/roles",
                           {"roles": ["grid_worker"], "grid_ids": [community.grid_ids[0]], "store_ids": []})
        assert answer.status == 200, answer.body

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(make_worker, workers))
    grid = GridModel.get(community.id, community.grid_ids[0])
    assert set(grid.worker_ids or ()) == {w.id for w in workers}

    author = community.resident(0)
    resp = author.post("/v1/wishes", {"title": "楼道灯坏了", "content": "3栋2单元楼道灯不亮", "category": "维修"})
    assert resp.status == 201 and resp.json["status"] == "pending_review", resp.body
    wish_id = resp.json["id"]
    # One transaction wrote the wish and its fan-out item: no grid size can break the publish. (A PutItem may
    # come with it: the WeChat access token cached after the content check fetched a fresh one.)
    meter = author.api.last_meter.dynamo
    assert meter["TransactWriteItems"] == 1 and not meter["BatchWriteItem"] and not meter["UpdateItem"], meter
    fanouts = _fanouts(_outbox("wish_to_review", ("wish_id", wish_id)))
    assert [m.status for m in fanouts] == ["fanout"]

    _run_scheduler()
    _run_scheduler()
    items = _outbox("wish_to_review", ("wish_id", wish_id))
    told = _per_person(items)
    assert set(told) == {w.id for w in workers} and set(told.values()) == {1}, told.most_common(3)
    assert {m.id for m in items if m.status not in ("fanout", "expanded")} == \
        {f"{fanouts[0].id}#{w.id}" for w in workers}
    assert [m.status for m in _fanouts(items)] == ["expanded"]
