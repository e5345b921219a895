"""Shared fixtures: in-process moto DynamoDB (fast), the WeChat stand-in over HTTP on a free port,
one Container bound to both, and the Chalice app's test client.

Every API answer is checked for leaked WeChat identifiers (tests/support.py), and every log record of
every test is checked the same way (``no_secrets_in_logs``).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from unittest import mock

import pytest

os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1", "TONGXIN_STAGE": "test",
                   "POWERTOOLS_LOG_LEVEL": "INFO",
                   # as the local stack: no EMF lines on stdout (tests/unit/test_metrics.py turns them on)
                   "POWERTOOLS_METRICS_DISABLED": "true"})
os.environ.pop("AWS_PROFILE", None)

from tests.support import Api, SECRET_VALUE, make_community  # noqa: E402


@pytest.fixture(scope="session")
def wechat():
    from infra.local.wechat_standin import WeChatStandIn
    from tongxin.domain.clock import utcnow
    # The stand-in keeps the tests' clock (``travel``): a login two hours "ago" is too old for a content check.
    standin = WeChatStandIn(clock=lambda: utcnow().timestamp()).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def settings(wechat):
    from tongxin.config import DEV_CHECKIN_SECRET, Settings
    return Settings(stage="test", table_prefix="test", dynamodb_endpoint=None, aws_region="us-east-1",
                    wechat_base_url=wechat.base_url, token_secret="test-signing-key-" + "x" * 32,
                    checkin_secret=DEV_CHECKIN_SECRET, wechat_timeout_seconds=1.0)


class DynamoDBFaults:
    """Faults DynamoDB really has that moto never shows: a write that takes effect and whose answer is lost (the
    client times out and botocore sends it again); and a call refused without being applied — throttled
    (``ThrottlingException``, ``ProvisionedThroughputExceededException``, ``RequestLimitExceeded``) or a
    transaction cancelled for a reason other than a condition (``TransactionConflict``, ``ThrottlingError``)."""

    PLAIN = {"ThrottlingException": "Rate of requests exceeds the allowed throughput.",
             "ProvisionedThroughputExceededException": "The level of configured provisioned throughput for the "
                                                       "table was exceeded.",
             "RequestLimitExceeded": "Throughput exceeds the current throughput limit for your account."}
    CANCELLATIONS = {"TransactionConflict": "Transaction is ongoing for the item",
                     "ThrottlingError": "Throughput exceeds the current capacity for one or more global secondary "
                                        "indexes."}

    def __init__(self) -> None:
        self.timeouts_after_write: dict[str, int] = {}
        self._refusals: dict[str, list] = {}  # operation -> [error, times left (None: until cleared), calls to let by]
        self.refused: dict[str, int] = {}  # operation -> calls refused so far
        self._lock = threading.Lock()

    def time_out_after(self, operation: str, times: int = 1) -> None:
        self.timeouts_after_write[operation] = times

    def take(self, operation: str) -> bool:
        left = self.timeouts_after_write.get(operation, 0)
        if left:
            self.timeouts_after_write[operation] = left - 1
        return bool(left)

    def refuse(self, operations, error: str = "ThrottlingException", times: int | None = None,
               after: int = 0) -> None:
        """Answer the next ``times`` calls (every call while set if None) of each of ``operations`` with ``error``,
        without applying them; the first ``after`` calls of each still go through. A cancellation reason
        (``TransactionConflict``, ``ThrottlingError``) is for TransactWriteItems only."""
        if error not in self.PLAIN and error not in self.CANCELLATIONS:
            raise ValueError(f"unknown error {error}")
        for operation in ([operations] if isinstance(operations, str) else operations):
            if error in self.CANCELLATIONS and operation != "TransactWriteItems":
                raise ValueError(f"{error} is a cancellation reason of TransactWriteItems, not of {operation}")
            with self._lock:
                self._refusals[operation] = [error, times, after]

    def clear(self) -> None:
        with self._lock:
            self._refusals.clear()
            self.refused.clear()
        self.timeouts_after_write.clear()

    def refusal(self, operation: str, body) -> tuple[int, str] | None:
        """(status, body) DynamoDB answers instead of applying this call, or None to let it through."""
        with self._lock:
            rule = self._refusals.get(operation)
            if rule is None:
                return None
            error, left, after = rule
            if after:
                rule[2] -= 1
                return None
            if left is not None:
                if left <= 0:
                    return None
                rule[1] -= 1
            self.refused[operation] = self.refused.get(operation, 0) + 1
        prefix = "com.amazonaws.dynamodb.v20120810#"
        if error in self.PLAIN:
            return 400, json.dumps({"__type": prefix + error, "message": self.PLAIN[error]})
        raw = body.decode() if isinstance(body, bytes) else (body or "{}")
        items = len(json.loads(raw).get("TransactItems", [])) or 1
        reasons = [{"Code": error, "Message": self.CANCELLATIONS[error]}] + [{"Code": "None"}] * (items - 1)
        codes = ", ".join(r["Code"] for r in reasons)
        return 400, json.dumps({"__type": prefix + "TransactionCanceledException", "CancellationReasons": reasons,
                                "Message": f"Transaction cancelled, please refer cancellation reasons for specific "
                                           f"reasons [{codes}]"})


@pytest.fixture(scope="session")
def dynamodb_faults():
    return DynamoDBFaults()


@pytest.fixture(scope="session")
def container(settings, dynamodb_faults):
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ReadTimeoutError
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse
    from infra.local.embedded_dynamodb import forget_model_instances
    from infra.local.transaction_tokens import TransactionTokens
    from tests import budget
    from tongxin.adapters.dynamo.binding import create_tables
    from tongxin.wiring import Container, set_container

    # moto takes no lock; DynamoDB applies each request atomically. Serialise moto's handling so threaded tests
    # see DynamoDB's semantics (infra/local/embedded_dynamodb.py: the same for the server; importing it also installs
    # infra/local/moto_transactions.py, transactions that copy the items they write, not the tables they touch),
    # answer a re-sent transaction by its ClientRequestToken as DynamoDB does, and count every call for the
    # budget of the request that made it (tests/budget.py).
    lock, handle, tokens = threading.Lock(), BotocoreStubber.__call__, TransactionTokens()

    def dynamodb(self, event_name, request, **kwargs):
        operation = event_name.rsplit(".", 1)[-1]
        target = request.headers.get("X-Amz-Target")
        target = target.decode() if isinstance(target, bytes) else target
        refused = dynamodb_faults.refusal(operation, request.body) if ".dynamodb." in event_name else None
        if refused is not None:  # refused before it reached the table: nothing applied, nothing billed
            return AWSResponse(request.url, refused[0], {"Content-Type": "application/x-amz-json-1.0"},
                               MockRawResponse(refused[1]))
        with lock:
            earlier = tokens.earlier_answer(target, request.body)
            if earlier is not None:  # a re-send answered from the first attempt: no second write
                budget.count_dynamo(operation + " (re-sent)")
                return AWSResponse(request.url, earlier[0], {}, MockRawResponse(earlier[1]))
            response = handle(self, event_name, request, **kwargs)
            forget_model_instances()  # moto's dashboard registry would keep every copy a transaction makes
            if response is None:
                return None
            answer = response.content
            tokens.remember(target, request.body, response.status_code, answer.decode())
        budget.count_dynamo(operation, cancelled=b"TransactionCanceledException" in answer)
        if dynamodb_faults.take(operation):  # it took effect; the client never hears it
            raise ReadTimeoutError(endpoint_url=request.url)
        return AWSResponse(request.url, response.status_code, response.headers, MockRawResponse(answer))

    with mock.patch.object(BotocoreStubber, "__call__", dynamodb), mock_aws():
        built = Container(settings)
        set_container(built)
        create_tables(settings)
        # Every WeChat call of the app goes through this client's session: count it for the request's budget.
        built.wechat._http.hooks["response"].append(
            lambda response, *args, **kwargs: budget.count_wechat(response.request.path_url.split("?")[0]))
        # The fleet's WeChat token in hand from the start, as in a warm deployment: the first WeChat call of a worker
        # (pytest-xdist) would otherwise fetch it inside whichever test came first, and count in its exact budget.
        assert built.wechat.access_token
        yield built
        set_container(None)


@pytest.fixture(scope="module", autouse=True)
def fresh_tables_per_module(container):
    """Every test module starts with empty tables. moto's TransactWriteItems deep-copies each table it touches, and
    every write of ours is a transaction: with one session-wide database a write cost more the more every earlier
    module had written (counters, scores, ledger and outbox are touched by most changes), and the suite slowed
    quadratically. Tests share nothing across modules; the WeChat access_token lives on in the client's memory."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    for table in dynamodb_backends[DEFAULT_ACCOUNT_ID][container.settings.aws_region].tables.values():
        table.items.clear()
        if table.stream_shard is not None:
            table.stream_shard.items.clear()


@pytest.fixture(autouse=True)
def moto_outbox_stream_trimmed(container):
    from tests.support import trim_moto_outbox_stream
    trim_moto_outbox_stream(container)


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


def pytest_sessionfinish(session, exitstatus):
    """CALL_REPORT=<file>: the calls per route this run made (median and max), as a Markdown table."""
    target = os.environ.get("CALL_REPORT")
    if target:
        from tests import budget
        with open(target, "w", encoding="utf-8") as out:
            out.write(budget.report())
