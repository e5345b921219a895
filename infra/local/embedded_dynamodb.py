"""Embedded DynamoDB for the local stack: moto's server, with each request applied atomically.

moto's server answers requests in parallel threads with no lock, and its TransactWriteItems snapshots every
table it touches (a deep copy) when it starts and, if any condition fails, puts those snapshots back: a write
that another thread committed in between is silently undone. Under contention that broke our invariants in
moto, not in DynamoDB: 50 concurrent claims of one wish gave three winners (a losing transaction restored the
wish to ``open``), and one of eight concurrent credits vanished from the ledger. DynamoDB applies each request
and each transaction atomically; running moto's WSGI app under one lock restores that, so the local stack and
the contention tests see DynamoDB's semantics rather than moto's races.
"""
from __future__ import annotations

import io
import json
import threading

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from infra.local import moto_transactions
from infra.local.transaction_tokens import TransactionTokens

moto_transactions.install()  # a transaction costs what it touches, not the tables it touches (see the module)


def forget_model_instances() -> None:
    """moto registers every model object it creates in a class-level list for its dashboard, and never lets go;
    moto's own TransactWriteItems deep-copied the tables it touched (infra/local/moto_transactions.py replaces it), so
    without this the process grew by every copy (a push bench reached 11 GB). Nothing of ours reads that registry."""
    from moto.core.model_instances import reset_model_data
    reset_model_data()


def trim_read_stream_records(request_body: bytes, answer: bytes) -> None:
    """Drop the stream records a GetRecords has just handed out, as DynamoDB drops them after 24 hours.

    moto keeps every stream record for the life of the process, and its own TransactWriteItems deep-copied the
    tables it touched, records included (infra/local/moto_transactions.py replaces it), so each transaction on the outbox
    cost more than the last: the slow suite's fan-out
    and contention tests took minutes. The local stack has one reader (infra/local/stream.py) that never reads
    behind its own position, so what it has read is gone for good. moto indexes the shard's list by sequence number
    minus the shard's starting number: raising the start by what is dropped keeps every later sequence number.
    """
    from moto.dynamodbstreams.models import dynamodbstreams_backends
    try:
        read_with = json.loads(request_body)["ShardIterator"]
        next_iterator = json.loads(answer)["NextShardIterator"]
    except (ValueError, KeyError, TypeError):
        return  # a refused read: nothing was handed out
    for regions in list(dynamodbstreams_backends.values()):
        for backend in list(regions.values()):
            following = backend.shard_iterators.get(next_iterator)
            if following is None:
                continue
            backend.shard_iterators.pop(read_with, None)  # moto keeps every iterator too
            shard = following.stream_shard
            consumed = following.sequence_number - shard.starting_sequence_number
            if consumed > 0:
                del shard.items[:consumed]
                shard.starting_sequence_number += consumed
            return


class _OneRequestAtATime:
    """moto's app, one request at a time, with DynamoDB's ClientRequestToken semantics in front: a transaction
    re-sent by botocore after a timeout is answered from its first attempt (infra/local/transaction_tokens.py)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.tokens = TransactionTokens()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        target = environ.get("HTTP_X_AMZ_TARGET")
        with self.lock:
            earlier = self.tokens.earlier_answer(target, body)
            if earlier is not None:
                status, answer = earlier
                start_response(f"{status} {'OK' if status == 200 else 'Bad Request'}",
                               [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(answer)))])
                return [answer.encode()]
            seen: dict = {}

            def remember_status(status, headers, exc_info=None):
                seen["status"] = int(status.split(" ", 1)[0])
                return start_response(status, headers, exc_info)

            chunks = list(self.app(environ, remember_status))  # finish the body inside the lock
            answer = b"".join(chunks)
            self.tokens.remember(target, body, seen.get("status", 0), answer.decode("utf-8", "replace"))
            if target and target.endswith(".GetRecords") and seen.get("status") == 200:
                trim_read_stream_records(body, answer)
            forget_model_instances()
            return chunks


class EmbeddedDynamoDB:
    def __init__(self, host: str = "127.0.0.1", port: int = 8002):
        self.host, self.port = host, port
        self._server = make_server(host, port, _OneRequestAtATime(DomainDispatcherApplication(create_backend_app)),
                                   threaded=True, request_handler=MotoRequestHandler)
        self.port = self._server.server_port  # the one bound, when 0 asked for any free port
        self._thread = threading.Thread(target=self._server.serve_forever, name="dynamodb", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "EmbeddedDynamoDB":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()  # release the port now, not at exit: a restart may bind it at once
        self._thread.join(timeout=5)
