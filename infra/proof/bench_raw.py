"""The raw TransactWriteItems rate of a request's own shape, straight to the local stack's embedded DynamoDB: what a
request over HTTP is compared with (issue 27: a sign-up over HTTP reaches at least half of it at 1 client).

The stack's process (``infra/proof/bench_stack.py --serve``) keeps the parameters of the TransactWriteItems its
DynamoDB client sends (``TransactionLog``, read over the meter port at ``/transactions``). ``raw_rate`` sends the
same transactions again from this process — a boto3 client per thread, ``clients`` threads released together, no
HTTP API, no reads, no middleware — after ``rewrite`` has pointed each at items where it applies as it first did
(for a sign-up: a copy of its event, so each user signs up once more).
"""
from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

KEPT = 2000  # transactions kept by the stack's process (the newest)


class TransactionLog:
    """The parameters of the TransactWriteItems a botocore client sends (a ``before-parameter-build`` hook)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[dict] = []

    def before_parameter_build(self, params=None, **_) -> None:
        with self.lock:
            self.sent.append(copy.deepcopy(params))
            del self.sent[:-KEPT]

    def take(self) -> list[dict]:
        with self.lock:
            taken, self.sent = self.sent, []
        return taken


def client(dynamodb_url: str):
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", endpoint_url=dynamodb_url, region_name="cn-north-1", aws_access_key_id="local",
                        aws_secret_access_key="local", config=Config(retries={"mode": "standard", "max_attempts": 1}))


def replace_text(transactions: list[dict], old: str, new: str) -> list[dict]:
    """``transactions`` with every ``old`` in their text made ``new``, without their ClientRequestToken (a token
    seen before is answered from the first attempt, without applying anything)."""
    out = []
    for params in transactions:
        params = json.loads(json.dumps(params).replace(old, new))
        params.pop("ClientRequestToken", None)
        out.append(params)
    return out


def raw_rate(dynamodb_url: str, transactions: list[dict], clients: int) -> dict:
    """Send ``transactions`` from ``clients`` threads (each its share, one after the other); transactions per
    second over the wall time, and how many were refused (a refused one is not the shape measured)."""
    shares = [transactions[i::clients] for i in range(clients)]
    made = [client(dynamodb_url) for _ in range(clients)]
    ready, go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
    refused: list[str] = []

    def send(index: int) -> None:
        own = made[index]
        own.list_tables(Limit=1)  # the connection opened before the clock starts
        ready.wait()
        go.wait()
        for params in shares[index]:
            try:
                own.transact_write_items(**params)
            except Exception as exc:  # noqa: BLE001 — counted and shown, never retried
                refused.append(f"{type(exc).__name__}: {str(exc)[:160]}")

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(send, i) for i in range(clients)]
        ready.wait()
        go.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - started
    return {"clients": clients, "transactions": len(transactions), "seconds": round(wall, 3),
            "per_second": round(len(transactions) / wall, 1), "refused": len(refused), "first_refusal": refused[:1]}


def signups_again(dynamodb_url: str, event_id: str, transactions: list[dict], clients: int) -> dict:
    """Sign-up transactions of ``event_id`` sent again on a copy of the event as it was before them (no sign-up
    yet), so each applies as it first did."""
    dynamodb, table = client(dynamodb_url), "tongxin-dev-events"  # the benches' stack: the default table prefix
    event = dynamodb.get_item(TableName=table, Key={"id": {"S": event_id}}, ConsistentRead=True)["Item"]
    copy_id = f"{event_id}raw{uuid.uuid4().hex[:8]}"
    event.update({"id": {"S": copy_id}, "signed_count": {"N": "0"}})
    dynamodb.put_item(TableName=table, Item=event)
    return raw_rate(dynamodb_url, replace_text(transactions, event_id, copy_id), clients)
