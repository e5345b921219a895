"""Bind every model to one stage (table prefix, endpoint, region) and one shared botocore client.

PynamoDB builds a botocore client per model on first use (≈120–220 ms each on a cold Lambda); binding
hands every model the same client, so a cold start pays for one. The models themselves (PynamoDB, 45 tables) are
imported by the first use case that needs one, not by ``bind``: a container's first request that reads no model
(``GET /v1/health``: one Query through the shared client) does without them; they announce themselves when they
load (``model_registry``) and are bound then. The client is botocore's, made as PynamoDB's Connection would make it;
the Connection around it (TransactWrite's, and PynamoDB itself) is made on first need.
"""
from __future__ import annotations

import threading

from ...config import Settings
from .. import secrets
from . import model_registry

# botocore's own attempts at a throttled call (standard retry mode: waits of up to 1 s, then 2 s). Kept low so the
# retries of one request — these, inside each of Tx's (tx.py) — end with a 503 well within the API function's
# timeout rather than with API Gateway's own 5xx after it.
BOTOCORE_ATTEMPTS = 3

_lock = threading.Lock()
_bound: tuple | None = None  # the binding key the client (and, once imported, the models) are bound to
_models_bound: tuple | None = None
_settings: Settings | None = None
_client = None  # the shared botocore DynamoDB client
_connection = None  # pynamodb.connection.Connection around it, made on first need (PynamoDB's import is not free)


def _binding_key(settings: Settings) -> tuple:
    return (settings.table_prefix, settings.dynamodb_endpoint, settings.aws_region, settings.dynamodb_timeout_seconds)


def bind(settings: Settings) -> None:
    """Point every model at ``settings``' tables (now if they are imported, else when they are) and make the shared
    client; idempotent for the same settings."""
    global _bound, _client, _connection, _settings
    key = _binding_key(settings)
    with _lock:
        if _bound != key or _client is None:
            from botocore.config import Config
            # What PynamoDB's Connection.client would make (its Config), from the botocore session of the SSM client
            # (adapters/secrets.py): a second client of one session is ≈60 ms cheaper at cold start (endpoint data
            # loaded once; infra/proof/bench_secrets.py).
            config = Config(parameter_validation=False, connect_timeout=settings.dynamodb_timeout_seconds,
                            read_timeout=settings.dynamodb_timeout_seconds, max_pool_connections=64,
                            retries={"mode": "standard", "total_max_attempts": BOTOCORE_ATTEMPTS})
            _client = secrets.botocore_session().create_client(
                "dynamodb", settings.aws_region, endpoint_url=settings.dynamodb_endpoint, config=config)
            _bound, _connection, _settings = key, None, settings
        if model_registry.models is not None and _models_bound != key:
            _bind_models()


def _connection_locked():
    """Under ``_lock``: the PynamoDB Connection of the bound stage, around the shared client."""
    global _connection
    if _connection is None:
        from pynamodb.connection import Connection
        settings = _settings
        connection = Connection(
            region=settings.aws_region, host=settings.dynamodb_endpoint,
            connect_timeout_seconds=settings.dynamodb_timeout_seconds,
            read_timeout_seconds=settings.dynamodb_timeout_seconds,
            max_pool_connections=64,
            retry_configuration={"mode": "standard", "total_max_attempts": BOTOCORE_ATTEMPTS},
        )
        connection._local.session = secrets.botocore_session()
        connection._client = _client
        _client.meta.events.register_first("before-send.*.*", connection._before_send)  # as Connection.client does
        _connection = connection
    return _connection


def _bind_models() -> None:
    """Under ``_lock``: every imported model on the bound stage and client."""
    global _models_bound
    settings = _settings
    for model in model_registry.models:
        meta = model.Meta
        meta.table_name = settings.table_name(model.TABLE)
        meta.host = settings.dynamodb_endpoint
        meta.region = settings.aws_region
        meta.connect_timeout_seconds = settings.dynamodb_timeout_seconds
        meta.read_timeout_seconds = settings.dynamodb_timeout_seconds
        meta.max_pool_connections = 64
        model._connection = None  # PynamoDB caches the host in the first connection it makes
        model._get_connection().connection._client = _client
    _models_bound = _bound


def _models_defined(models: tuple) -> None:
    """``models/__init__.py`` announced its classes (model_registry): bound at once when a stage is already bound."""
    with _lock:
        if _client is not None:
            _bind_models()


model_registry.listen(_models_defined)


def connection():
    """The shared PynamoDB connection, which TransactWrite needs (same host and region as the models)."""
    made = _connection
    if made is not None:
        return made
    if _client is None:
        raise RuntimeError("models are not bound: call tongxin.wiring.get_container() first")
    with _lock:
        return _connection_locked()


def client():
    """The shared botocore DynamoDB client (for a call that needs no model, such as the health check)."""
    if _client is None:
        raise RuntimeError("models are not bound: call tongxin.wiring.get_container() first")
    return _client


def create_tables(settings: Settings) -> list[str]:
    """Create every missing table (on-demand billing; TTL and streams as the models declare them).
    For the local stack and the tests; in AWS the SAM template creates them."""
    bind(settings)
    from .models import ALL_MODELS  # bound as it loads
    created = []
    for model in ALL_MODELS:
        if model.exists():
            continue
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        created.append(model.Meta.table_name)
    return created

