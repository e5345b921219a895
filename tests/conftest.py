"""Shared fixtures: in-process moto DynamoDB (fast), the WeChat stand-in over HTTP on a free port,
one Container bound to both, and the Chalice app's test client.

Every API answer is checked for leaked WeChat identifiers (tests/support.py), and every log record of
every test is checked the same way (``no_secrets_in_logs``).
"""
from __future__ import annotations

import logging
import os
import threading
from unittest import mock

import pytest

os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1", "TONGXIN_STAGE": "test",
                   "POWERTOOLS_LOG_LEVEL": "INFO"})
os.environ.pop("AWS_PROFILE", None)

from tests.support import Api, SECRET_VALUE, make_community  # noqa: E402


@pytest.fixture(scope="session")
def wechat():
    from infra.wechat_standin import WeChatStandIn
    standin = WeChatStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def settings(wechat):
    from tongxin.config import Settings
    return Settings(stage="test", table_prefix="test", dynamodb_endpoint=None, aws_region="us-east-1",
                    wechat_base_url=wechat.base_url, token_secret="test-signing-key-" + "x" * 32,
                    wechat_timeout_seconds=1.0)


@pytest.fixture(scope="session")
def container(settings):
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber
    from tongxin.adapters.dynamo.binding import create_tables
    from tongxin.wiring import Container, set_container

    # moto takes no lock, and a cancelled TransactWriteItems restores whole-table snapshots over writes
    # other threads committed meanwhile; DynamoDB applies each request atomically. Serialise moto's
    # handling so threaded tests see DynamoDB's semantics (infra/embedded_dynamodb.py: the same for the server).
    lock, handle = threading.Lock(), BotocoreStubber.__call__

    def atomic(self, event_name, request, **kwargs):
        with lock:
            return handle(self, event_name, request, **kwargs)

    with mock.patch.object(BotocoreStubber, "__call__", atomic), mock_aws():
        built = Container(settings)
        set_container(built)
        create_tables(settings)
        yield built
        set_container(None)


@pytest.fixture(autouse=True)
def clean_wechat(request, wechat):
    yield
    wechat.set_fault("none")


@pytest.fixture(scope="session")
def app_module(container):
    import app
    return app


@pytest.fixture(scope="session")
def api(app_module):
    from chalice.test import Client
    with Client(app_module.app, stage_name="dev") as client:
        yield Api(client)


@pytest.fixture
def community(api):
    return make_community(api)


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_secrets_in_logs():
    """No log line of any test carries an openid or unionid (message or structured fields)."""
    recorder = _Recorder()
    targets = [logging.getLogger(), logging.getLogger("tongxin")]
    for target in targets:
        target.addHandler(recorder)
    yield
    for target in targets:
        target.removeHandler(recorder)
    for record in recorder.records:
        text = " ".join(str(v) for v in record.__dict__.values())
        assert SECRET_VALUE.search(text) is None, f"log record leaks a WeChat identifier: {record.getMessage()}"
        assert "session_key" not in text.lower(), f"log record mentions session_key: {record.getMessage()}"
