"""DynamoDB's ClientRequestToken semantics, which moto lacks, for the embedded DynamoDB and the tests.

DynamoDB remembers a TransactWriteItems' ClientRequestToken for 10 minutes after it succeeded: the same request
sent again (botocore re-sends one that timed out after it took effect) answers success and changes nothing; the
same token with another request body is IdempotentParameterMismatch. moto re-executes it, so a retried claim
would fail its own condition and answer 409 for a change that succeeded. This puts DynamoDB's behaviour in front.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time

TARGET = "DynamoDB_20120810.TransactWriteItems"
WINDOW_SECONDS = 600
MISMATCH = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                       "message": "Request parameters do not match the earlier request with this ClientRequestToken"})


class TransactionTokens:
    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, float, int, str]] = {}  # token -> (body digest, when, status, answer)
        self._lock = threading.Lock()

    @staticmethod
    def _token_and_digest(body: bytes | str | None) -> tuple[str | None, str]:
        raw = body.encode() if isinstance(body, str) else (body or b"")
        try:
            token = json.loads(raw).get("ClientRequestToken")
        except (ValueError, AttributeError):
            token = None
        return token, hashlib.sha256(raw).hexdigest()

    def earlier_answer(self, target: str | None, body) -> tuple[int, str] | None:
        """(status, body) DynamoDB would answer without executing, or None to execute the request."""
        if target != TARGET:
            return None
        token, digest = self._token_and_digest(body)
        if not token:
            return None
        with self._lock:
            seen = self._seen.get(token)
            if seen is None or time.monotonic() - seen[1] > WINDOW_SECONDS:
                return None
        if seen[0] != digest:
            return 400, MISMATCH
        return seen[2], seen[3]

    def remember(self, target: str | None, body, status: int, answer: str | bytes) -> None:
        if target != TARGET or status != 200:
            return
        if isinstance(answer, bytes):  # decoded here, for the transactions only
            answer = answer.decode("utf-8", "replace")
        token, digest = self._token_and_digest(body)
        if token:
            with self._lock:
                now = time.monotonic()
                self._seen = {t: s for t, s in self._seen.items() if now - s[1] <= WINDOW_SECONDS}
                self._seen[token] = (digest, now, status, answer)
