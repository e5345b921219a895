"""Embedded DynamoDB for the local stack: moto's server, with each request applied atomically.

moto's server answers requests in parallel threads with no lock, and its TransactWriteItems snapshots every
table it touches (a deep copy) when it starts and, if any condition fails, puts those snapshots back: a write
that another thread committed in between is silently undone. Under contention that broke our invariants in
moto, not in DynamoDB: 50 concurrent claims of one wish gave three winners (a losing transaction restored the
wish to ``open``), and one of eight concurrent credits vanished from the ledger. DynamoDB applies each request
and each transaction atomically; running moto's WSGI app under one lock restores that, so the local stack and
the contention tests see DynamoDB's semantics rather than moto's races.

One request at a time, what each costs moto is what a local sign-up waits for: connections are kept alive and
answered in one write, and what moto redoes on every request for nothing is done once (see each function below).
The local stack runs this in a process of its own (``main``, started by infra/local/dynamodb_process.py); the
tests and benches that read moto's state in-process start ``EmbeddedDynamoDB`` as a thread.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import logging
import os
import socket
import sys
import threading

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from infra.local import moto_transactions
from infra.local.transaction_tokens import TransactionTokens

moto_transactions.install()  # a transaction costs what it touches, not the tables it touches (see the module)
FORGET_EVERY = 64  # requests between two sweeps of moto's model registry (the sweep visits every model class)


_PLAIN = {"S": str, "N": str, "BOOL": bool, "NULL": bool}  # AttributeValue kinds written as they are stored


def _write_plain_attribute_values() -> None:
    """moto's response serializer walks the API model for every attribute of every item it answers, trying each of
    the ten kinds an AttributeValue may hold (a GetItem of a user spent most of its 2.5 ms there). An attribute stored
    as a string, number, boolean or null is already what the wire carries ({"S": "…"}), so it is written as it is;
    any other kind (binary, sets, maps, lists) goes the model's way. The answers are byte-for-byte the same."""
    from moto.core.serialize import JSONSerializer
    if getattr(JSONSerializer._serialize_type_structure, "plain_attribute_values", False):
        return
    modelled = JSONSerializer._serialize_type_structure

    def serialize_structure(self, serialized, value, shape, key):
        if key and shape.name == "AttributeValue" and type(value) is dict and len(value) == 1:
            (kind, inner), = value.items()
            if type(inner) is _PLAIN.get(kind):
                serialized[self.get_serialized_name(shape, key)] = {kind: inner}
                return
        modelled(self, serialized, value, shape, key)

    serialize_structure.plain_attribute_values = True
    serialize_structure.modelled = modelled  # the tests compare the two
    JSONSerializer._serialize_type_structure = serialize_structure


def _remember_method_names() -> None:
    """moto lists a response class's methods (inspect.getmembers, some 200) on every request to check the action
    exists; the classes never change while the server runs, so once per class is enough."""
    from moto.core import responses
    if not hasattr(responses.method_names_from_class, "cache_info"):
        responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)


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
        self.served = 0

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
            self.tokens.remember(target, body, seen.get("status", 0), answer)
            if target and target.endswith(".GetRecords") and seen.get("status") == 200:
                trim_read_stream_records(body, answer)
            self.served += 1
            if self.served % FORGET_EVERY == 0:
                forget_model_instances()
            return chunks


class _RememberedBackends(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves a host: moto lists its package's folder on disk (some 200
    entries, each stat'ed) on every request to find out."""

    def __init__(self, create_app):
        super().__init__(create_app)
        self._backends: dict = {}

    def get_backend_for_host(self, host):
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler, keeping the connection open and answering in one write. werkzeug's dev server closes
    every connection after one answer, so each botocore call paid a TCP connect and a new server thread, and it
    waits 10 ms after each answer for a body it then discards. Bodies come with a Content-Length (botocore's)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def run_wsgi(self) -> None:
        if self.headers.get("Transfer-Encoding") or self.headers.get("Expect"):  # not botocore's: werkzeug's way
            self.close_connection = True
            return super().run_wsgi()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return self._write("400 Bad Request", [], b"")
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length > 0 else b"")
        environ["wsgi.input_terminated"] = True
        started: list = []

        def start_response(status: str, headers: list, exc_info=None) -> None:
            started[:] = [status, headers]

        try:
            chunks = self.server.app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                getattr(chunks, "close", lambda: None)()
        except Exception:  # as werkzeug: logged, a 500, and this connection closed
            logging.getLogger("werkzeug").exception("Error on request %s", self.path)
            self.close_connection = True
            started, body = ["500 Internal Server Error", [("Content-Type", "application/json")]], b"{}"
        self._write(started[0], started[1], body)

    def _write(self, status: str, headers: list, body: bytes) -> None:
        lines = [f"{self.protocol_version} {status}"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() not in ("content-length", "connection",
                                                                        "transfer-encoding")]
        lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (b"" if self.command == "HEAD" else body))


def _server(host: str, port: int, fd: int | None = None):
    _remember_method_names()
    _write_plain_attribute_values()
    app = _OneRequestAtATime(_RememberedBackends(create_backend_app))
    return make_server(host, port, app, threaded=True, request_handler=KeepAliveRequestHandler, fd=fd)


class EmbeddedDynamoDB:
    """The embedded DynamoDB as a thread of this process (the tests and benches that read moto's state in-process).
    The local stack runs it in a process of its own: infra/local/dynamodb_process.py."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8002):
        self.host, self.port = host, port
        self._server = _server(host, port)
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


def main(argv: list[str] | None = None) -> int:
    """The embedded DynamoDB's own process (infra/local/dynamodb_process.py starts it): serves on the listening
    socket the stack bound and handed down (``--fd``), says ``ready`` on stdout, and exits when its stdin closes —
    when the stack that started it is gone, however it went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    listening = socket.socket(fileno=args.fd)
    server = _server(args.host, listening.getsockname()[1], fd=listening.fileno())
    listening.close()  # the server holds its own duplicate

    def lifeline() -> None:
        sys.stdin.buffer.read()  # returns at EOF only: the stack closed the pipe, or died
        os._exit(0)

    threading.Thread(target=lifeline, name="lifeline", daemon=True).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    os.dup2(2, 1)  # nothing reads the pipe any more: anything printed goes to the stack's stderr
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
