"""The WeChat access_token over a simulated day (printed, not asserted): issue 20 part 2.

    python -m infra.proof.bench_token [--hours 24] [--rate 10] [--containers 4] [--reject-at HOURS] [--every-call]

``--containers`` warm containers (each its own ``MiniProgramClient`` and ``DynamoSessionStorage``, as Lambda
instances) share one in-process moto DynamoDB and one WeChat stand-in running in this process on the same clock
(``tongxin.domain.clock``), driven in simulated time — never waited for: ``--rate`` WeChat calls a second, round
robin over the containers. A call is the real decision (``client.access_token``: memory, the stored item, the
lease, a fetch over HTTP) and the stand-in's verdict on the token it gives (``WeChatStandIn.token_error``, the check
its endpoints apply). The first call of a container with each new token, every call the stand-in would refuse and
one call per container every ``--http-every`` simulated seconds go the whole way: over HTTP through wechatpy
(getuserphonenumber), the adapter's retry included; a call that fails there stops the run.

Far from the end of every token the stand-in still honours (more than ``FINE_BEFORE_SECONDS``), a step of
``COARSE_STEP_SECONDS`` stands for its ``rate × step`` calls: each container makes one, and the others — which a
token with that much time left can only answer from memory, with no DynamoDB or WeChat call — are counted. Near
an end, and for a while after an injected rejection, every call is made.

Printed: stable_token calls (normal, forced) per 2-hour cycle and per day, DynamoDB reads and writes per 1,000
WeChat calls, and the calls made, represented and sent over HTTP. ``tests/integration/test_token_rotation.py`` runs
the same ``Fleet`` and asserts on it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
for sub in ("layers", "functions/api", ""):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

CYCLE_SECONDS = 7200
FINE_BEFORE_SECONDS = 900  # every call is made from 15 minutes before a token's end
FINE_AFTER_EVENT_SECONDS = 120
COARSE_STEP_SECONDS = 10.0
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


@dataclass
class FleetStats:
    calls: int = 0  # WeChat calls the fleet answered (made + represented)
    decided: int = 0  # calls whose token was decided one by one (client.access_token)
    http: int = 0  # calls sent over HTTP (the whole wechatpy path)
    first_refused: int = 0  # calls whose token the stand-in refused at the first attempt (then retried)
    dynamo: Counter = field(default_factory=Counter)  # DynamoDB operation -> calls

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.dynamo.items() if op in READS)

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.dynamo.items() if op not in READS)


class Fleet:
    """``containers`` clients of ``appid`` on ``standin`` (which must run on ``tongxin.domain.clock``), each with
    its own token memory, sharing the bound DynamoDB tables."""

    def __init__(self, standin, *, appid: str, secret: str, containers: int = 4, timeout: float = 2.0,
                 http_every: float = 600.0) -> None:
        from tongxin.adapters.wechat.client import MiniProgramClient
        from tongxin.adapters.wechat.token_store import DynamoSessionStorage
        self.standin = standin
        self.clients = [MiniProgramClient(appid, secret, base_url=standin.base_url, timeout=timeout,
                                          session=DynamoSessionStorage()) for _ in range(containers)]
        self.http_every = http_every
        self.stats = FleetStats()
        self._seen = [None] * containers  # the token each container called with last
        self._sent_at = [float("-inf")] * containers  # when each last went over HTTP (simulated)
        self._phones = 0

    def call(self, index: int, now: float) -> None:
        """One WeChat call of container ``index`` at simulated ``now`` (the clock already there)."""
        client = self.clients[index]
        token = client.access_token
        refused = self.standin.token_error(token)
        self.stats.decided += 1
        self.stats.calls += 1
        if refused is not None or token != self._seen[index] or now - self._sent_at[index] >= self.http_every:
            self._phones += 1
            phone = f"139{self._phones % 10 ** 8:08d}"
            assert client.phone_number(self.standin.issue_phone_code(phone)) == phone  # raises as the caller would
            self.stats.http += 1
            self._sent_at[index] = now
            self.stats.first_refused += refused is not None
            token = client.access_token  # after a retry: the replacement
        self._seen[index] = token

    def run(self, start: float, seconds: float, *, rate: float = 10.0,
            events: dict[float, Callable[[], None]] | None = None, every_call: bool = False) -> FleetStats:
        """Drive the fleet from ``start`` (epoch seconds) for ``seconds`` of simulated time at ``rate`` calls a
        second; ``events`` (offset → callable) happen at their offsets (an injected rejection, say);
        ``every_call``: no coarse steps, every call decided one by one."""
        from tongxin.adapters.dynamo import binding
        from tongxin.domain.clock import travel

        events = dict(sorted((events or {}).items()))
        tick, ticks = 1.0 / rate, round(seconds * rate)  # time counted in whole ticks: no drift
        coarse_ticks = round(COARSE_STEP_SECONDS * rate)
        events_client = binding.connection().client.meta.events

        def count(model, **_):
            self.stats.dynamo[model.name] += 1

        events_client.register("after-call.dynamodb", count, unique_id="bench_token_count")
        try:
            done, turn, fine_until, ends_checked_at, ends = 0, 0, float("-inf"), float("-inf"), []
            while done < ticks:
                offset = done * tick
                now = start + offset
                while events and next(iter(events)) <= offset:
                    with travel(timedelta(seconds=now - time.time())):
                        events.pop(next(iter(events)))()
                    fine_until = offset + FINE_AFTER_EVENT_SECONDS
                if offset - ends_checked_at >= 1.0 or offset < ends_checked_at:
                    with travel(timedelta(seconds=now - time.time())):
                        ends = self.standin.token_stats["working"]
                    ends_checked_at = offset
                fine = every_call or offset < fine_until or not ends or any(end - now <= FINE_BEFORE_SECONDS for end in ends)
                if fine:
                    with travel(timedelta(seconds=now - time.time())):
                        self.call(turn % len(self.clients), now)
                    turn += 1
                    done += 1
                else:
                    step = min(coarse_ticks, ticks - done)
                    for index in range(min(step, len(self.clients))):
                        with travel(timedelta(seconds=now - time.time())):
                            self.call(index, now)
                    self.stats.calls += max(0, step - len(self.clients))  # the rest: answered from memory
                    done += step
        finally:
            events_client.unregister("after-call.dynamodb", unique_id="bench_token_count")
        return self.stats


def fetches_per_cycle(log: list[dict], start: float, seconds: float) -> list[dict[str, int]]:
    """The stand-in's stable_token calls (its ``token_stats['log']``) in each 2-hour cycle from ``start``."""
    cycles = [{"normal": 0, "forced": 0, "refused": 0} for _ in range(max(1, int(-(-seconds // CYCLE_SECONDS))))]
    for entry in log:
        index = int((entry["at"] - start) // CYCLE_SECONDS)
        if 0 <= index < len(cycles):
            kind = "refused" if entry["errcode"] else ("forced" if entry["force"] else "normal")
            cycles[index][kind] += 1
    return cycles


def next_shanghai_midnight(now: float) -> float:
    shanghai = timezone(timedelta(hours=8))
    day = datetime.fromtimestamp(now, shanghai).date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), shanghai).timestamp()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.proof.bench_token", description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--rate", type=float, default=10.0, help="WeChat calls a second, over all containers")
    parser.add_argument("--containers", type=int, default=4)
    parser.add_argument("--http-every", type=float, default=600.0, help="simulated seconds between HTTP samples")
    parser.add_argument("--every-call", action="store_true", help="decide every call, no coarse steps (slower)")
    parser.add_argument("--reject-at", type=float, action="append", default=[],
                        help="hours into the run at which WeChat forgets every token (40001: one forced refresh)")
    args = parser.parse_args(argv)

    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "TONGXIN_STAGE": "test", "POWERTOOLS_LOG_LEVEL": "ERROR"})
    os.environ.pop("AWS_PROFILE", None)
    from moto import mock_aws

    from infra.local import moto_transactions
    from infra.local.wechat_standin import WeChatStandIn
    from tongxin.adapters.dynamo.binding import create_tables
    from tongxin.config import DEV_CHECKIN_SECRET, Settings
    from tongxin.domain.clock import utcnow

    moto_transactions.install()
    standin = WeChatStandIn(clock=lambda: utcnow().timestamp()).start()
    try:
        with mock_aws():
            settings = Settings(stage="test", table_prefix="bench", dynamodb_endpoint=None, aws_region="us-east-1",
                                wechat_base_url=standin.base_url, token_secret="bench-signing-key-" + "x" * 32,
                                checkin_secret=DEV_CHECKIN_SECRET, wechat_timeout_seconds=2.0)
            create_tables(settings)
            fleet = Fleet(standin, appid=standin.appid, secret=standin.secret, containers=args.containers,
                          http_every=args.http_every)
            start, seconds = next_shanghai_midnight(time.time()), args.hours * 3600
            events = {hours * 3600: standin.expire_tokens for hours in args.reject_at}
            began = time.perf_counter()
            stats = fleet.run(start, seconds, rate=args.rate, events=events, every_call=args.every_call)
            elapsed = time.perf_counter() - began
    finally:
        standin.stop()

    tokens = standin.token_stats
    cycles = fetches_per_cycle(tokens["log"], start, seconds)
    days = seconds / 86400
    per_thousand = 1000 / stats.calls
    print(f"access_token over {args.hours:g} simulated hours: {args.rate:g} WeChat calls/s over {args.containers} "
          f"containers ({elapsed:.1f} s to run)")
    print(f"  WeChat calls: {stats.calls:,} ({stats.decided:,} decided one by one, {stats.http:,} over HTTP; "
          f"{stats.first_refused} refused at the first attempt, each retried once; none failed)")
    print(f"  stable_token calls: {tokens['normal'] + tokens['forced'] + tokens['refused']} "
          f"({tokens['normal']} normal, {tokens['forced']} forced, {tokens['refused']} refused) = "
          f"{(tokens['normal'] + tokens['forced']) / days:.1f} per simulated day")
    print("  per 2-hour cycle (normal+forced): "
          + " ".join(f"{c['normal']}+{c['forced']}" for c in cycles)
          + f"   max {max(c['normal'] + c['forced'] for c in cycles)}")
    print(f"  DynamoDB: {stats.reads} reads, {stats.writes} writes ({dict(sorted(stats.dynamo.items()))}) = "
          f"{stats.reads * per_thousand:.3f} reads and {stats.writes * per_thousand:.3f} writes per 1,000 "
          f"WeChat calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
