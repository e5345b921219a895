"""Reading what a burst stored, straight from the stack's embedded DynamoDB with consistent reads (an event's
sign-ups, one item, a user's ledger, the accounts of many users), and the books every scenario checks:
``books_problems`` (balance == sum(ledger) >= 0, no source credited twice) and ``balanced`` (how many hold).
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from infra.proof.bench_stack import User

from .stack import SETUP_THREADS, BurstStack


def _pages(call, **kwargs) -> list[dict]:
    items, start = [], None
    while True:
        page = call(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _number(item: dict, name: str, default: int = 0) -> int:
    return int(item[name]["N"]) if name in item else default


def stored_signups(stack: BurstStack, event_id: str) -> dict[str, dict]:
    client = stack.dynamodb()
    items = _pages(client.query, TableName=stack.table("signups"), KeyConditionExpression="event_id = :e",
                   ExpressionAttributeValues={":e": {"S": event_id}}, ConsistentRead=True)
    return {item["user_id"]["S"]: item for item in items}


def stored_item(stack: BurstStack, table: str, key: dict) -> dict | None:
    return stack.dynamodb().get_item(TableName=stack.table(table), Key=key, ConsistentRead=True).get("Item")


def ledger_of(stack: BurstStack, user_id: str) -> list[dict]:
    return _pages(stack.dynamodb().query, TableName=stack.table("ledger"), KeyConditionExpression="user_id = :u",
                  ExpressionAttributeValues={":u": {"S": user_id}}, ConsistentRead=True)


def accounts(stack: BurstStack, users: list[User]) -> dict[str, dict]:
    """Per user: the stored balance, minutes and the ledger (consistent reads, 8 at a time)."""
    def one(user: User) -> tuple[str, dict]:
        item = stored_item(stack, "users", {"id": {"S": user.id}}) or {}
        return user.id, {"balance": _number(item, "points_balance", None),
                         "minutes": _number(item, "volunteer_minutes"), "ledger": ledger_of(stack, user.id)}
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        return dict(pool.map(one, users))


def books_problems(found: dict[str, dict]) -> list[str]:
    """balance == sum(ledger) ≥ 0 for every user, and no ledger entry key twice (a source credited once)."""
    problems = []
    for uid, account in found.items():
        amounts = [int(e["amount"]["N"]) for e in account["ledger"]]
        if account["balance"] != sum(amounts) or sum(amounts) < 0:
            problems.append(f"{uid}: balance {account['balance']} but sum(ledger) = {sum(amounts)}")
        sources = Counter((e["kind"]["S"], e["source"]["S"]) for e in account["ledger"])
        twice = [s for s, n in sources.items() if n > 1]
        if twice:
            problems.append(f"{uid}: sources credited more than once: {twice}")
    return problems


def balanced(found: dict[str, dict]) -> int:
    """How many of the users have a stored balance equal to the sum of their ledger."""
    return sum(1 for a in found.values() if a["balance"] == sum(int(e["amount"]["N"]) for e in a["ledger"]))
