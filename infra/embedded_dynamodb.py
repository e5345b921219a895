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

import threading

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


class _OneRequestAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))  # finish the body inside the lock


class EmbeddedDynamoDB:
    def __init__(self, host: str = "127.0.0.1", port: int = 8002):
        self.host, self.port = host, port
        self._server = make_server(host, port, _OneRequestAtATime(DomainDispatcherApplication(create_backend_app)),
                                   threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="dynamodb", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> "EmbeddedDynamoDB":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
