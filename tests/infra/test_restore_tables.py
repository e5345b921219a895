"""The last step of a point-in-time restore (docs/deploy.md): the live tables end up holding exactly the restored
copies' items, on moto's DynamoDB, with every table of the models."""
from __future__ import annotations

import boto3
import pytest

from infra.deploy import restore_tables, template_gen
from tongxin.adapters.dynamo.models import ALL_MODELS

RESTORED, LIVE = "tongxin-prod-r202612061000", "tongxin-prod"


def _create(client, prefix: str) -> None:
    """Every table of the models, keys and indexes as the template declares them (infra/deploy/template_gen)."""
    for model in ALL_MODELS:
        properties = template_gen._table(model)["Properties"]
        request = {key: properties[key] for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
                                                     "LocalSecondaryIndexes") if key in properties}
        client.create_table(TableName=f"{prefix}-{model.TABLE}", BillingMode="PAY_PER_REQUEST", **request)


def _items(client, table: str) -> list[dict]:
    return sorted(client.scan(TableName=table)["Items"], key=repr)


@pytest.fixture(scope="module")
def client(container):
    client = boto3.client("dynamodb", region_name=container.settings.aws_region)
    _create(client, RESTORED)
    _create(client, LIVE)
    return client


@pytest.fixture()
def tables(client):
    """The restored copy: a user and a wish as they stood; live: the same user changed since, one more wish, and a
    counter the restore point never had."""
    for prefix in (RESTORED, LIVE):
        for name in restore_tables.table_names():
            table = f"{prefix}-{name}"
            for item in client.scan(TableName=table)["Items"]:
                keys = [k["AttributeName"] for k in client.describe_table(TableName=table)["Table"]["KeySchema"]]
                client.delete_item(TableName=table, Key={k: item[k] for k in keys})
    user = {"id": {"S": "u_1"}, "nickname": {"S": "居民甲"}, "points_balance": {"N": "200"}}
    client.put_item(TableName=f"{RESTORED}-users", Item=user)
    client.put_item(TableName=f"{RESTORED}-wishes", Item={"id": {"S": "w_1"}, "status": {"S": "open"}})
    client.put_item(TableName=f"{LIVE}-users", Item={**user, "points_balance": {"N": "0"}})
    client.put_item(TableName=f"{LIVE}-wishes", Item={"id": {"S": "w_1"}, "status": {"S": "cancelled"}})
    client.put_item(TableName=f"{LIVE}-wishes", Item={"id": {"S": "w_2"}, "status": {"S": "open"}})
    counters = next(m for m in ALL_MODELS if m.TABLE == "counters")
    keys = {attr.attr_name: attr for attr in counters.get_attributes().values() if attr.is_hash_key or attr.is_range_key}
    counter = {name: ({"S": "wish-day#c_1#2026-12-06"} if attr.attr_type == "S" else {"N": "1"})
               for name, attr in keys.items()}
    client.put_item(TableName=f"{LIVE}-counters", Item={**counter, "n": {"N": "3"}})
    return client


def test_the_live_tables_end_up_holding_exactly_the_restored_items(tables, capsys):
    assert restore_tables.main(["--from", RESTORED, "--to", LIVE, "--region", tables.meta.region_name, "--yes"]) == 0
    for name in restore_tables.table_names():
        assert _items(tables, f"{LIVE}-{name}") == _items(tables, f"{RESTORED}-{name}"), name
    out = capsys.readouterr().out
    assert f"{LIVE}-wishes: 1 copied, 1 deleted" in out and f"{LIVE}-counters: 0 copied, 1 deleted" in out
    assert f"{LIVE}-users: 1 copied, 0 deleted" in out


def test_without_yes_nothing_is_written(tables, capsys):
    before = {name: _items(tables, f"{LIVE}-{name}") for name in ("users", "wishes", "counters")}
    assert restore_tables.main(["--from", RESTORED, "--to", LIVE, "--region", tables.meta.region_name]) == 0
    assert {name: _items(tables, f"{LIVE}-{name}") for name in before} == before
    out = capsys.readouterr().out
    assert f"{LIVE}-wishes: 1 to copy, 1 to delete" in out and "nothing written" in out


@pytest.mark.parametrize("source, target, message", [
    (LIVE, LIVE, "name the same tables"), ("tongxin-prod-r0", LIVE, "no table tongxin-prod-r0-")])
def test_a_wrong_prefix_is_refused_before_anything_is_read(tables, capsys, source, target, message):
    assert restore_tables.main(["--from", source, "--to", target, "--region", tables.meta.region_name, "--yes"]) == 2
    assert message in capsys.readouterr().err
