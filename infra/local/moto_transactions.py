"""TransactWriteItems for moto without copying whole tables: the embedded DynamoDB and the in-process tests.

moto applies a transaction's operations one by one and, to undo them if one fails, first deep-copies every table
the transaction touches — its items, indexes and stream records. The cost of a transaction therefore grows with
the tables, not with the transaction: a check-out on a table of a few hundred users and ledger entries took a
tenth of a second, and the contention and burst tests spent minutes copying.

DynamoDB's semantics make the copy unnecessary. A transaction touches each item at most once, so every
condition reads an item no earlier operation of the same transaction changed: checking all conditions first and
then applying all writes gives the same outcome as moto's one-by-one order. What is kept for an undo is only the
items about to be written (and how long each table's stream was), so a write that fails half-way (an update
expression refused on the item it meets) is undone item by item, stream records included.

``install`` replaces moto's method; it is called where moto runs (infra/local/embedded_dynamodb.py, tests/conftest.py).
tests/integration/test_moto_transactions.py holds the behaviours this must keep.
"""
from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.exceptions import (
    ConditionalCheckFailed, MockValidationException, MultipleTransactionsException, TooManyTransactionsException,
    TransactionCanceledException, TransactWriteSingleOpException,
)
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}
MOTO_ORIGINAL = DynamoDBBackend.transact_write_items  # the tests compare the two on the same transactions


def _key_of(table, op_type: str, op: dict) -> dict:
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _restore(table, key: dict, prior) -> None:
    """Put the item under ``key`` back as it was (``prior``; None: it did not exist)."""
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    if range_value is not None:
        if prior is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = prior
    elif prior is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = prior


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    errors: list[tuple] = []
    planned: list[tuple[str, dict, Any, dict, Any]] = []  # (op type, op, table, key, the item before)
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        original_item = None
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table = self.get_table(op["TableName"])
            key = _key_of(table, op_type, op)
            unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            current = self.get_item(op["TableName"], key)
            if op.get("ConditionExpression") is not None:
                condition = get_filter_expression(op["ConditionExpression"], op.get("ExpressionAttributeNames"),
                                                  op.get("ExpressionAttributeValues"))
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            planned.append((op_type, op, table, key, copy.deepcopy(current)))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise  # nothing is written yet
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # noqa: BLE001 — as moto: any other refusal is this operation's reason
            errors.append((type(exc).__name__, str(exc), original_item))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    streams = {id(t): (t, len(t.stream_shard.items)) for _, _, t, _, _ in planned if t.stream_shard is not None}
    applied: list[tuple[Any, dict, Any]] = []
    for index, (op_type, op, table, key, before) in enumerate(planned):
        try:
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key)
            elif op_type == "Update":
                self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"],
                                 expression_attribute_names=op.get("ExpressionAttributeNames"),
                                 expression_attribute_values=op.get("ExpressionAttributeValues"))
            else:
                continue
            applied.append((table, key, before))
        except Exception as exc:
            for undo_table, undo_key, prior in reversed(applied + [(table, key, before)]):
                _restore(undo_table, undo_key, prior)
            for stream_table, length in streams.values():
                del stream_table.stream_shard.items[length:]
            if isinstance(exc, (MultipleTransactionsException, MockValidationException)):
                raise
            failed = [(None, None, None)] * len(transact_items)
            failed[index] = (type(exc).__name__, str(exc), None)
            raise TransactionCanceledException(failed) from None


def install() -> None:
    DynamoDBBackend.transact_write_items = transact_write_items
