"""The stable access_token's rotation (issue 20 part 2): the stand-in rotates it as WeChat documents, and a fleet
of containers fetches it once per rotation, replaces a rejected one with one forced refresh, and keeps to the day's
20 forced refreshes.

Time is simulated (``tongxin.domain.clock.travel``), never waited for: the stand-in of this module runs in this
process on that clock. Its app id is its own, so its token item and counters are not the suite's.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import requests

from infra.proof.bench_token import CYCLE_SECONDS, Fleet, fetches_per_cycle, next_shanghai_midnight
from infra.local.wechat_standin import WeChatStandIn
from tongxin.adapters.dynamo.models import CounterModel, KeyValueModel
from tongxin.adapters.wechat.client import MiniProgramClient
from tongxin.adapters.wechat.token_store import (
    FORCE_COUNTER_PREFIX, KEY_PREFIX, RENEW_BEFORE_SECONDS, DynamoSessionStorage,
)
from tongxin.domain.clock import SHANGHAI, travel, utcnow

APPID, SECRET = "wxfleetappid", "fleetsecret"
TOKEN_KEY = f"{APPID}_access_token"
PHONE = "13912345678"


@pytest.fixture
def standin(container):
    server = WeChatStandIn(appid=APPID, secret=SECRET, clock=lambda: utcnow().timestamp()).start()
    yield server
    server.stop()


_days = itertools.count()


@pytest.fixture
def start(container) -> float:
    """A Shanghai midnight ahead, two days later for each test (a day's forced refreshes are its own); the token
    item is empty."""
    KeyValueModel(KEY_PREFIX + TOKEN_KEY).delete()
    return next_shanghai_midnight(time.time()) + 2 * 86400 * next(_days)


@contextmanager
def at(epoch: float):
    """The clock of this process (ours and the stand-in's) at ``epoch``."""
    with travel(timedelta(seconds=epoch - time.time())):
        yield


def stable_token(standin, force: bool = False) -> dict:
    return requests.post(standin.base_url + "cgi-bin/stable_token", timeout=5, json={
        "grant_type": "client_credential", "appid": APPID, "secret": SECRET, "force_refresh": force}).json()


def accepted(standin, token: str) -> int:
    """The errcode an API call with ``token`` gets over HTTP (0: accepted)."""
    code = standin.issue_phone_code(PHONE)
    answer = requests.post(standin.base_url + "wxa/business/getuserphonenumber", params={"access_token": token},
                           json={"code": code}, timeout=5).json()
    return answer["errcode"]


def clients(standin, n: int = 4) -> list[MiniProgramClient]:
    return [MiniProgramClient(APPID, SECRET, base_url=standin.base_url, timeout=2.0, session=DynamoSessionStorage())
            for _ in range(n)]


def phone_call(standin, client) -> None:
    assert client.phone_number(standin.issue_phone_code(PHONE)) == PHONE


def forced_today(epoch: float) -> int | None:
    day = datetime.fromtimestamp(epoch, SHANGHAI).date().isoformat()
    try:
        return CounterModel.get(f"{FORCE_COUNTER_PREFIX}{TOKEN_KEY}#{day}", consistent_read=True).n
    except CounterModel.DoesNotExist:
        return None


def phone_requests(standin) -> int:
    return standin.counters.get("wxa/business/getuserphonenumber", 0)


# --- the stand-in, as WeChat documents getStableAccessToken ---------------------------------------------------------

def test_normal_mode_answers_the_time_left_and_rotates_in_the_last_5_minutes(standin, start):
    with at(start):
        first = stable_token(standin)
    assert first["expires_in"] == 7200
    with at(start + 3600):
        again = stable_token(standin)
    assert again["access_token"] == first["access_token"] and 3599 <= again["expires_in"] <= 3600
    with at(start + 7200 - 301):
        assert stable_token(standin)["access_token"] == first["access_token"]  # 301 s left: still the same
    with at(start + 7200 - 299):
        rotated = stable_token(standin)
        assert rotated["access_token"] != first["access_token"] and rotated["expires_in"] == 7200
        assert accepted(standin, first["access_token"]) == 0  # the old one works till its own end
        assert stable_token(standin)["access_token"] == rotated["access_token"]
    with at(start + 7200 + 1):
        assert accepted(standin, first["access_token"]) == 42001  # past its end: expired
        assert accepted(standin, rotated["access_token"]) == 0
    assert accepted(standin, "forged") == 40001
    assert standin.token_stats["normal"] == 5 and standin.token_stats["issued"] == 2


def test_force_refresh_rotates_at_once_with_a_short_grace_and_20_a_day(standin, start):
    with at(start):
        leaked = stable_token(standin)["access_token"]
    with at(start + 100):
        first = stable_token(standin, force=True)["access_token"]
        assert first != leaked and accepted(standin, leaked) == 0  # one forced refresh leaves it a grace
        assert stable_token(standin, force=True)["access_token"] == first  # within 30 s: no refresh (counted)
    with at(start + 131):
        assert accepted(standin, leaked) == 40001  # the grace is over
        second = stable_token(standin, force=True)["access_token"]  # 30 s after the first: a refresh
        assert second != first and accepted(standin, first) == 0
    for n in range(17):  # 3 so far: up to 20
        with at(start + 200 + 31 * n):
            assert "access_token" in stable_token(standin, force=True)
    with at(start + 200 + 31 * 17):
        assert stable_token(standin, force=True) == {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
        assert "access_token" in stable_token(standin)  # normal mode is not limited by it
    with at(start + 86400 + 10):  # the next Shanghai day
        assert "access_token" in stable_token(standin, force=True)
    stats = standin.token_stats
    assert (stats["forced"], stats["refused"]) == (21, 1)


def test_the_clock_can_be_moved_over_http(standin, start):
    with at(start):
        token = stable_token(standin)["access_token"]
        shifted = requests.post(standin.base_url + "__dev/clock", json={"shift_seconds": 7300}, timeout=5).json()
        assert shifted["shift_seconds"] == 7300 and shifted["now"] >= start + 7300 - 1
        assert accepted(standin, token) == 42001
        seen = requests.get(standin.base_url + "__dev/tokens", timeout=5).json()
        assert (seen["normal"], seen["forced"], seen["working"]) == (1, 0, [])
        standin.set_clock_shift(0)
        assert accepted(standin, token) == 0


# --- the fleet ----------------------------------------------------------------------------------------------------

def test_a_simulated_day_fetches_once_per_rotation(standin, start):
    """4 containers, 10 calls a second for a Shanghai day (infra/proof/bench_token.Fleet: every call near a token's end
    decided one by one); at 13:00 WeChat forgets every token (40001): one forced refresh for the fleet."""
    fleet = Fleet(standin, appid=APPID, secret=SECRET, containers=4)
    stats = fleet.run(start, 86400, rate=10, events={13 * 3600.0: standin.expire_tokens})

    tokens = standin.token_stats
    cycles = fetches_per_cycle(tokens["log"], start, 86400)
    assert len(cycles) == 12 and all(c["normal"] + c["forced"] <= 2 for c in cycles), cycles
    assert (tokens["forced"], tokens["refused"]) == (1, 0)
    assert sum(c["forced"] for c in cycles[6:7]) == 1  # 12:00–14:00
    # The first fetch, then one per rotation (every 7200 − RENEW_BEFORE_SECONDS s: 12 in a day); the forced one at
    # 13:00 takes the place of the 11:36 token's renewal and the rotation goes on from it: 13 all the same.
    fetches = tokens["normal"] + tokens["forced"]
    assert fetches == 1 + 86400 // (CYCLE_SECONDS - RENEW_BEFORE_SECONDS) == 13
    assert forced_today(start) == 1
    assert stats.calls == 864000 and stats.first_refused == 4  # each container's first call after 13:00, retried
    # Per fetch: the fleet's 4 reads (the leaseholder's, and each other container's once) and 2 writes (the lease;
    # the token, which ends it). Nothing else: no DynamoDB call per WeChat call.
    assert dict(stats.dynamo) == {"GetItem": 4 * fetches, "TransactWriteItems": 2 * fetches}


def test_a_rejected_token_is_replaced_by_one_forced_refresh_and_the_call_retried_once(standin, start):
    fleet = clients(standin)
    with at(start):
        for client in fleet:
            phone_call(standin, client)
    assert standin.token_stats["normal"] == 1
    with at(start + 3000):  # mid-cycle
        standin.expire_tokens()
        before = phone_requests(standin)
        phone_call(standin, fleet[0])
        assert phone_requests(standin) == before + 2  # refused, then retried once
        assert (standin.token_stats["forced"], standin.token_stats["normal"]) == (1, 1)
        for client in fleet[1:]:  # the others: refused, and they take the new token over (no fetch)
            before = phone_requests(standin)
            phone_call(standin, client)
            assert phone_requests(standin) == before + 2
        assert (standin.token_stats["forced"], standin.token_stats["normal"]) == (1, 1)
        assert forced_today(start) == 1
        for client in fleet:
            before = phone_requests(standin)
            phone_call(standin, client)
            assert phone_requests(standin) == before + 1


def test_a_token_forced_elsewhere_works_through_its_grace_then_is_replaced_once(standin, start):
    fleet = clients(standin)
    with at(start):
        for client in fleet:
            phone_call(standin, client)
    with at(start + 1000):
        stable_token(standin, force=True)  # someone else (the console, another system) forces a refresh
    with at(start + 1020):  # within the grace: the old token still works, nobody fetches
        for client in fleet:
            phone_call(standin, client)
        assert standin.token_stats["log"][-1]["at"] == pytest.approx(start + 1000, abs=2)
    with at(start + 1040):
        before = phone_requests(standin)
        for client in fleet:
            phone_call(standin, client)
        assert phone_requests(standin) == before + 8  # each refused once, retried once
        assert standin.token_stats["forced"] == 2  # theirs, and ONE of the fleet's
    assert forced_today(start) == 1


def test_the_21st_forced_refresh_of_a_day_is_not_sent(standin, start, caplog):
    [client] = clients(standin, 1)
    with at(start + 60):
        phone_call(standin, client)
    for n in range(20):
        with at(start + 100 + 31 * n):
            standin.expire_tokens()
            phone_call(standin, client)
    assert (standin.token_stats["forced"], forced_today(start)) == (20, 20)
    caplog.set_level(logging.ERROR, logger="tongxin.adapters.wechat.token_store")
    with at(start + 100 + 31 * 20):
        standin.expire_tokens()
        before = phone_requests(standin)
        phone_call(standin, client)  # answered: a normal fetch instead
    stats = standin.token_stats
    assert (stats["forced"], stats["refused"], stats["log"][-1]["force"]) == (20, 0, False)
    assert phone_requests(standin) == before + 2 and forced_today(start) == 20
    assert any("forced refresh NOT sent" in record.getMessage() for record in caplog.records)
    with at(start + 86400 + 60):  # the next Shanghai day: forced refreshes again
        phone_call(standin, client)  # (the token of yesterday ended long ago: a normal fetch)
        standin.expire_tokens()
        phone_call(standin, client)
    assert standin.token_stats["forced"] == 21 and forced_today(start + 86400) == 1


def test_a_forced_refresh_wechat_refuses_falls_back_to_a_normal_fetch(standin, start):
    """WeChat's own count is spent (forced refreshes made elsewhere): 45009, then a normal fetch, the call retried."""
    [client] = clients(standin, 1)
    with at(start + 60):
        phone_call(standin, client)
    for n in range(20):
        with at(start + 100 + 31 * n):
            stable_token(standin, force=True)
    with at(start + 100 + 31 * 20):
        standin.expire_tokens()
        phone_call(standin, client)
    stats = standin.token_stats
    assert (stats["forced"], stats["refused"]) == (20, 1)
    assert [entry["force"] for entry in stats["log"][-2:]] == [True, False]
    assert forced_today(start) == 1


def test_threads_of_four_containers_in_the_window_fetch_once(standin, start):
    fleet = clients(standin)
    with at(start):
        for client in fleet:
            phone_call(standin, client)
    with at(start + 7200 - 200):  # inside the renewal window, every thread at once
        barrier, tokens, errors = threading.Barrier(16), [], []

        def work(client):
            try:
                barrier.wait()
                tokens.append(client.access_token)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(fleet[i % 4],)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == [] and len(tokens) == 16
        assert standin.token_stats["normal"] == 2  # the first fetch, and ONE renewal
        assert all(standin.token_error(token) is None for token in tokens)
        stored = KeyValueModel.get(KEY_PREFIX + TOKEN_KEY, consistent_read=True)
        assert stored.value in tokens and stored.lease_until is None  # the renewal's token, its lease ended


def test_dynamodb_refusing_writes_leaves_the_call_answered(standin, start, dynamodb_faults, monkeypatch):
    """The lease refused (throttled): a normal fetch, kept in the container's memory, and the call answered."""
    from tongxin.adapters.dynamo import binding
    emitter = binding.connection().client.meta.events._emitter  # botocore's retry quota, refilled afterwards
    quota = emitter._unique_id_handlers["retry-config-dynamodb"]["handler"].__self__._retry_quota._quota
    capacity = quota._available_capacity
    [client] = clients(standin, 1)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # botocore's and our backoff: not waited for
    dynamodb_faults.refuse("TransactWriteItems", "ThrottlingException")
    try:
        with at(start):
            phone_call(standin, client)
    finally:
        dynamodb_faults.clear()
        quota._available_capacity = capacity
        monkeypatch.undo()
    assert standin.token_stats["normal"] == 1
    with pytest.raises(KeyValueModel.DoesNotExist):
        KeyValueModel.get(KEY_PREFIX + TOKEN_KEY, consistent_read=True)  # not shared: nothing was written
    with at(start + 60):
        phone_call(standin, client)  # from memory
    assert standin.token_stats["normal"] == 1
