"""Bind every model to one stage (table prefix, endpoint, region) and one shared botocore client.

PynamoDB builds a botocore client per model on first use (≈120–220 ms each on a cold Lambda); binding
hands every model the same client, so a cold start pays for one.
"""
from __future__ import annotations

import threading

from pynamodb.connection import Connection

from ...config import Settings
from .. import secrets
from .models import ALL_MODELS

# botocore's own attempts at a throttled call (standard retry mode: waits of up to 1 s, then 2 s). Kept low so the
# retries of one request — these, inside each of Tx's (tx.py) — end with a 503 well within the API function's
# timeout rather than with API Gateway's own 5xx after it.
BOTOCORE_ATTEMPTS = 3

_lock = threading.Lock()
_bound: tuple | None = None
_connection: Connection | None = None


def _binding_key(settings: Settings) -> tuple:
    return (settings.table_prefix, settings.dynamodb_endpoint, settings.aws_region, settings.dynamodb_timeout_seconds)


def bind(settings: Settings) -> Connection:
    """Point every model at ``settings``' tables; idempotent for the same settings. Returns the shared
    connection, which TransactWrite needs (same host and region as the models)."""
    global _bound, _connection
    key = _binding_key(settings)
    with _lock:
        if _bound == key and _connection is not None:
            return _connection
        connection = Connection(
            region=settings.aws_region, host=settings.dynamodb_endpoint,
            connect_timeout_seconds=settings.dynamodb_timeout_seconds,
            read_timeout_seconds=settings.dynamodb_timeout_seconds,
            max_pool_connections=64,
            retry_configuration={"mode": "standard", "total_max_attempts": BOTOCORE_ATTEMPTS},
        )
        # the botocore session of the SSM client (adapters/secrets.py): a second client of one session is ≈60 ms
        # cheaper at cold start (endpoint data loaded once; infra/proof/bench_secrets.py)
        connection._local.session = secrets.botocore_session()
        shared_client = connection.client
        for model in ALL_MODELS:
            meta = model.Meta
            meta.table_name = settings.table_name(model.TABLE)
            meta.host = settings.dynamodb_endpoint
            meta.region = settings.aws_region
            meta.connect_timeout_seconds = settings.dynamodb_timeout_seconds
            meta.read_timeout_seconds = settings.dynamodb_timeout_seconds
            meta.max_pool_connections = 64
            model._connection = None  # PynamoDB caches the host in the first connection it makes
            model._get_connection().connection._client = shared_client
        _bound, _connection = key, connection
        return connection


def connection() -> Connection:
    if _connection is None:
        raise RuntimeError("models are not bound: call tongxin.wiring.get_container() first")
    return _connection


def create_tables(settings: Settings) -> list[str]:
    """Create every missing table (on-demand billing; TTL and streams as the models declare them).
    For the local stack and the tests; in AWS the SAM template creates them."""
    bind(settings)
    created = []
    for model in ALL_MODELS:
        if model.exists():
            continue
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        created.append(model.Meta.table_name)
    return created

