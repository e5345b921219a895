"""Secrets at run time: SSM Parameter Store SecureStrings, read once per Lambda container.

A deployed stage's functions carry ONE environment variable for their secrets, ``SECRETS_SSM_PREFIX`` (say
``/tongxin/prod/``); the values live in SSM as SecureStrings (KMS-encrypted) named ``<prefix><name>`` for the names
of ``PARAMETERS``. The first settings load of a container reads them all with ONE ``GetParameters`` call
(``WithDecryption``) and keeps them for the container's life: every later load (the handler module's check at cold
start, then the container's) is answered from memory. A rotation is picked up by new containers (docs/operations.md,
"Secrets and rotation").

Nothing here names a value: an error names the parameter and what is wrong with it. botocore logs each response body
at DEBUG (``botocore.parsers``), which here would be the decrypted values: those records are dropped while this
module reads. This module imports nothing of ours (``config_secrets`` imports it): it raises ``SecretsUnavailable``,
which ``config.load_settings`` raises as ``ConfigurationError``; the key rules are ``config_secrets``'.
"""
from __future__ import annotations

import logging
import threading

# Required, then optional (``-previous``: the key before the last rotation, still accepted for a grace period).
REQUIRED = ("token-secret", "checkin-secret", "wechat-secret")
OPTIONAL = ("token-secret-previous", "checkin-secret-previous")
PARAMETERS = REQUIRED + OPTIONAL
# As the DynamoDB client (adapters/dynamo/binding.py): a hung connection must not eat the cold start, and a
# throttled or dropped call is retried a little (standard mode), then the start fails closed.
TIMEOUT_SECONDS = 3.0
BOTOCORE_ATTEMPTS = 3

_lock = threading.Lock()
_session_lock = threading.Lock()
_session = None  # the container's botocore session, shared with the DynamoDB client (binding.py)
_clients: dict[str, object] = {}  # region → botocore SSM client, created on first use
_cache: dict[tuple[str, str], dict[str, str]] = {}  # (prefix, region) → parameter name → value
_reading = threading.local()


class SecretsUnavailable(RuntimeError):
    """The secrets could not be read or are not all there; the message names the parameter, never a value."""


class _DropResponseBodies(logging.Filter):
    """botocore.parsers' DEBUG records of a GetParameters answer carry the decrypted values: not one is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_reading, "active", False)


_body_filter = _DropResponseBodies()


def botocore_session():
    """The container's one botocore session: the first client made from a session loads botocore's endpoint data
    and rules (≈110 ms here), a second one reuses them (≈50 ms), so the SSM and DynamoDB clients share it."""
    global _session
    with _session_lock:
        if _session is None:
            from botocore.session import get_session
            _session = get_session()
        return _session


def _client(region: str):
    client = _clients.get(region)
    if client is None:
        from botocore.config import Config
        logging.getLogger("botocore.parsers").addFilter(_body_filter)
        config = Config(connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS,
                        retries={"mode": "standard", "total_max_attempts": BOTOCORE_ATTEMPTS})
        client = _clients[region] = botocore_session().create_client("ssm", region_name=region, config=config)
    return client


def read(prefix: str, region: str) -> dict[str, str]:
    """``{name: value}`` for the parameters of ``PARAMETERS`` under ``prefix`` (the optional ones only when they
    exist): from memory after the container's first call. Raises ``SecretsUnavailable`` when SSM cannot be read, a
    required parameter is missing or empty, or one is not a SecureString; a failure is not remembered (the next
    start tries again)."""
    key = (prefix, region)
    with _lock:
        if key not in _cache:
            _cache[key] = _fetch(prefix, region)
        return dict(_cache[key])


def _fetch(prefix: str, region: str) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError
    names = [prefix + name for name in PARAMETERS]
    _reading.active = True
    try:
        answer = _client(region).get_parameters(Names=names, WithDecryption=True)
    except ClientError as exc:  # AccessDenied, a KMS key it may not use, throttled past the retries …
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SecretsUnavailable(f"SSM GetParameters for {prefix}* in {region} was refused ({code}): the function's "
                                 "role needs ssm:GetParameters on those parameters and kms:Decrypt on their key") \
            from None
    except BotoCoreError as exc:  # unreachable, timed out, no credentials
        raise SecretsUnavailable(f"SSM Parameter Store in {region} could not be reached for {prefix}* "
                                 f"({type(exc).__name__})") from None
    finally:
        _reading.active = False
    values: dict[str, str] = {}
    for parameter in answer.get("Parameters", []):
        name = parameter["Name"][len(prefix):] if parameter["Name"].startswith(prefix) else parameter["Name"]
        if parameter.get("Type") != "SecureString":
            raise SecretsUnavailable(f"SSM parameter {prefix}{name} must be a SecureString (it is "
                                     f"{parameter.get('Type')}): a secret is stored encrypted")
        if parameter.get("Value"):
            values[name] = parameter["Value"]
    missing = [prefix + name for name in REQUIRED if name not in values]
    if missing:
        raise SecretsUnavailable(f"SSM parameter {', '.join(missing)} is missing (a SecureString is required)")
    return values


def forget() -> None:
    """Forget the values, the clients and the session, as a new container would start (tests, the bench)."""
    global _session
    with _lock, _session_lock:
        _cache.clear()
        _clients.clear()
        _session = None
