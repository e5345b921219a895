"""微心愿 list pages (issue 27): an index entry holds keys (and what a filter tests), the page's wishes are read by
key in one BatchGetItem, and a filtered page is full while matches exist further on (within pages' budget)."""
from datetime import timedelta

import boto3
import pytest

from tongxin.adapters.dynamo.models import WishModel
from tongxin.domain.clock import utcnow
from tongxin.domain.wishes import WishStatus as S
from tongxin.usecases.wishes import pages
from tongxin.usecases.wishes.lifecycle import status_attributes

WISH = {"title": "帮忙取药", "content": "腿脚不便，请人帮忙去社区医院取药", "category": "助老",
        "contact_phone": "13812345678", "address": "幸福小区3栋2单元501"}


def publish(member, **overrides):
    resp = member.post("/v1/wishes", {**WISH, **overrides})
    assert resp.status == 201, resp.body
    return resp.json


def seed(community, author_id, count, *, grid_index=0, category="维修", status=S.OPEN, after=None):
    """``count`` wishes newer than everything published so far, written as publish writes them (the item and the
    keys its status brings): the non-matching crowd a filtered page must read past."""
    start = (after or utcnow()) + timedelta(seconds=1)
    with WishModel.batch_write() as writer:
        for i in range(count):
            created = start + timedelta(milliseconds=i)
            wish = WishModel(f"w_seed{i:04d}{category}{grid_index}{status.value}", community_id=community.id,
                             grid_id=community.grid_ids[grid_index], author_id=author_id, author_nickname="居民",
                             title="别的心愿", content="内容", category=category, created_at=created,
                             updated_at=created, published_at=created)
            for name, value in status_attributes(wish, status, escalated=False).items():
                setattr(wish, name, value)
            writer.save(wish)


def ids(page):
    return [w["id"] for w in page["items"]]


def test_sixty_other_wishes_before_five_matching_the_first_page_has_all_five(community):
    author, reader = community.resident(0), community.resident(1)
    community.set(wish_publish_daily_cap=20)
    matching = [publish(author)["id"] for _ in range(5)]
    seed(community, author.id, 60, category="维修")
    grid = community.grid_ids[0]
    resp = reader.get(f"/v1/wishes?grid_id={grid}&category=助老")
    assert resp.status == 200
    assert ids(resp.json) == matching[::-1] and resp.json["next_cursor"] is None
    meter = reader.api.last_meter
    assert meter.dynamo == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}, meter.dynamo  # 65 entries in one look
    for path in ("/v1/wishes?category=助老", "/v1/wishes?status=open&category=助老",
                 f"/v1/wishes?status=open&grid_id={grid}&category=助老"):
        assert ids(reader.get(path).json) == matching[::-1], path


def test_a_filtered_page_fills_across_reads_and_the_cursor_goes_on_after_the_last_shown(community):
    author, reader = community.resident(0), community.resident(1)
    community.set(wish_publish_daily_cap=20)
    matching = [publish(author)["id"] for _ in range(7)]
    seed(community, author.id, 90, category="维修")  # past the first look (4 × limit) at limit=3
    seen, cursor, calls = [], None, []
    while True:
        page = reader.get("/v1/wishes?category=助老&limit=3" + (f"&cursor={cursor}" if cursor else "")).json
        calls.append(reader.api.last_meter.dynamo["Query"])
        assert page["items"], "an empty page while matches lie further on"
        seen += ids(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == matching[::-1]
    assert calls[0] == 2  # a first look of 12 entries found none; the wider read (500) found three


def test_past_the_read_budget_a_page_is_short_and_its_cursor_goes_on(community, monkeypatch):
    """The stated bound: a page reads at most its budget of entries; then it answers what it found and a cursor."""
    for name, value in (("READ_ON_FIRST_PAGES", 1), ("READ_ON_BUDGET", 6), ("READ_ON_BLIND", 3)):
        monkeypatch.setattr(pages, name, value)  # at limit=2: 2 + 3 + 3 entries, in 3 Queries
    author, reader = community.resident(0), community.resident(1)
    first = publish(author)["id"]
    seed(community, author.id, 10, category="维修")
    page = reader.get("/v1/wishes?category=助老&limit=2").json
    assert page["items"] == [] and page["next_cursor"] and reader.api.last_meter.dynamo["Query"] == 3
    page = reader.get(f"/v1/wishes?category=助老&limit=2&cursor={page['next_cursor']}").json
    assert ids(page) == [first] and page["next_cursor"] is None


def test_visibility_is_tested_on_the_entries_and_again_on_the_wishes(community):
    author, reader = community.resident(0), community.resident(1)
    worker = community.grid_worker(1)
    community.set(wish_review_required=True)
    pending = publish(author)["id"]
    seed(community, author.id, 30, category="维修", status=S.CANCELLED)
    seed(community, author.id, 2, grid_index=1, category="维修", status=S.PENDING_REVIEW)
    assert ids(reader.get("/v1/wishes").json) == []  # nothing published: 33 unpublished entries passed over
    assert pending not in ids(worker.get("/v1/wishes?status=pending_review").json)  # another grid's
    assert len(worker.get("/v1/wishes?status=pending_review").json["items"]) == 2
    assert pending in ids(community.admin.get("/v1/wishes?status=pending_review").json)


def test_mine_claimed_and_grid_tasks_read_entries_then_the_wishes(community):
    author, volunteer, worker = community.resident(0), community.volunteer(0), community.grid_worker(0)
    community.set(wish_review_required=True)
    waiting = publish(author)
    assert waiting["status"] == "pending_review"
    tasks = worker.get("/v1/grid/tasks").json["items"]
    assert [(t["id"], t["task"], t["contact_phone"]) for t in tasks] == [(waiting["id"], "review", "13812345678")]
    assert worker.post(f"/v1/wishes/{waiting['id']}/approve").status == 200
    assert volunteer.post(f"/v1/wishes/{waiting['id']}/claim").status == 200
    mine = author.get("/v1/wishes/mine")
    assert ids(mine.json) == [waiting["id"]] and mine.json["items"][0]["status"] == "claimed"
    assert author.api.last_meter.dynamo == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}
    claimed = volunteer.get("/v1/wishes/claimed")
    assert ids(claimed.json) == [waiting["id"]] and claimed.json["items"][0]["contact_phone"] == "13812345678"
    assert volunteer.get("/v1/wishes?status=open").json["items"] == []
    assert author.get("/v1/wishes/claimed").json["items"] == []
    assert author.api.last_meter.dynamo == {"GetItem": 1, "Query": 1}  # an empty page reads no wish


def test_the_indexes_hold_keys_and_what_the_filters_test(community):
    table = boto3.client("dynamodb", region_name=WishModel.Meta.region).describe_table(
        TableName=WishModel.Meta.table_name)["Table"]
    projections = {i["IndexName"]: (i["Projection"]["ProjectionType"],
                                    sorted(i["Projection"].get("NonKeyAttributes", [])))
                   for i in table["GlobalSecondaryIndexes"]}
    assert projections == {
        "by_community": ("INCLUDE", ["category", "grid_id", "status"]),
        "by_community_status": ("INCLUDE", ["category", "grid_id", "status"]),
        "by_author": ("KEYS_ONLY", []), "by_claimer": ("KEYS_ONLY", []),
        "by_grid_task": ("KEYS_ONLY", []), "by_due": ("KEYS_ONLY", [])}
    author = community.resident(0)
    wish = publish(author)
    entry = next(iter(WishModel.by_community.query(community.id)))
    assert entry.id == wish["id"] and entry.category == "助老" and entry.title is None  # not copied
