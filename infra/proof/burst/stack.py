"""The load generator's view of the stack: ``BurstStack`` starts the stack's process (serve.py) on free ports,
waits until it answers, and reads its DynamoDB calls and recorded transactions over HTTP; ``new_dynamodb_client``
is a boto3 client of its embedded DynamoDB (the checks' reads, the raw ceiling's writes); ``People`` are the
volunteers of the demo community, made over HTTP as the scenarios need them and shared between them.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infra.proof.bench_stack import User, _make_user, stop_process

SETUP_THREADS = 8
TABLE_PREFIX = "tongxin-dev"  # the local stack's (started with no TABLE_PREFIX of its own)


class BurstStack:
    """The stack process (``python -m infra.proof.burst --serve``) on free ports; its log in ``work``."""

    def __init__(self, work: Path, timeout: float = 90.0):
        import requests

        from infra.proof.bench_stack import spawn_metered_stack
        self.http = requests
        self._client = None
        ports = spawn_metered_stack(self, "infra.proof.burst", work, timeout, error=RuntimeError)
        self.dynamodb_url = f"http://127.0.0.1:{ports['dynamodb']}"

    def dynamodb(self):
        """A boto3 client of the stack's embedded DynamoDB (thread-safe; one for the reads of the checks)."""
        if self._client is None:
            self._client = new_dynamodb_client(self.dynamodb_url)
        return self._client

    @staticmethod
    def table(name: str) -> str:
        return f"{TABLE_PREFIX}-{name}"

    def meter(self) -> dict:
        return self.http.get(self.meter_url, timeout=30).json()

    def record(self, on: bool) -> list:
        answer = self.http.get(self.meter_url + ("/record/start" if on else "/record/stop"), timeout=60).json()
        return answer.get("transactions", [])

    def stop(self) -> None:
        stop_process(self.process, timeout=60)


def new_dynamodb_client(url: str):
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", endpoint_url=url, region_name="cn-north-1", aws_access_key_id="local",
                        aws_secret_access_key="local",
                        config=Config(max_pool_connections=32, retries={"max_attempts": 1, "mode": "standard"}))


class People:
    """Volunteers of the demo community (logged in, joined to grid 1, registered as volunteers over HTTP), made
    as the scenarios need them and shared between them (a volunteer is a resident too)."""

    def __init__(self, stack: BurstStack, run: str):
        self.stack, self.run, self.users, self.setup_seconds = stack, run, [], 0.0

    def take(self, count: int) -> list[User]:
        missing = count - len(self.users)
        if missing > 0:
            started = time.perf_counter()
            first = len(self.users)
            with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
                self.users += pool.map(lambda i: _make_user(self.stack.api_url, f"burst{self.run}-{i}",
                                                            "volunteer_service"), range(first, first + missing))
            self.setup_seconds += time.perf_counter() - started
        return self.users[:count]
