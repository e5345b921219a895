"""Bursts that real communities make, on the local stack over HTTP, each ending with an invariant check over the
stored data (issue 13, part 1). Figures are printed, never asserted; the invariants and the answers are checked.

    python -m infra.proof.burst [--scenario signup|checkin|redeem|all] [--scale 1.0] [--clients 16] [--no-raw] [--json]
    make burst [SCENARIO=signup] [SCALE=0.5]

The stack is ``make dev``'s (infra/local/stack.py: the API over HTTP, the embedded DynamoDB, the WeChat stand-in,
the sender on the outbox stream, the scheduler's timer set to an hour) in its own process on free ports, fresh
tables, no data file: this package in ``--serve`` mode (serve.py), as infra/proof/bench_stack.py starts it, plus a
botocore hook on the one DynamoDB client the stack's models share that counts calls by operation and, while a
burst is recorded, keeps each TransactWriteItems it sends and how it ended (the shape the raw ceiling replays).

Scenarios (at ``--scale 1.0``; counts scale, at least one of each):

- ``signup`` — an event opening for sign-up: 300 residents sign up for 100 places at once → exactly 100 signed and
  200 waitlisted at positions 1..200, all distinct; the event's ``signed_count`` and ``waitlist_count`` equal the
  stored sign-up items; the answers equal what is stored.
- ``checkin`` — 300 volunteers checking in and out of one event: the stack's clock cannot be moved from here and
  the API takes no sign-up once an event has started, so (as tests/slow/test_checkin_contention.py does) the event
  is published over HTTP, its stored times moved to "started an hour ago, ends in an hour" and its 300 sign-ups
  written in the stack's DynamoDB in the shape the API writes them (infra/proof/bench_checkin.py's helpers). Then 300
  check-ins over HTTP at once, every third volunteer's scan sent twice at the same moment (a double tap: 400
  requests) → 300 check-ins and 100 ALREADY_CHECKED_IN; then each stored check-in time is moved back (a check-out
  within 2 minutes of the check-in is refused as a double scan, and nobody waits): half to 1–10 minutes before
  the start (their minutes are clipped at the start), half to 20–49 minutes ago; then the check-outs the same way
  → 300 check-outs and 100 ALREADY_CHECKED_OUT: every attendance credited once (one ``checkout:<event>`` ledger
  entry each, of the points answered), minutes clipped to the event's window, ``volunteer_minutes`` raised by
  exactly the minutes, balance == sum(ledger) for every volunteer. The codes are the organiser's rotating codes,
  made as the stack makes them (``tongxin.domain.checkin.make_code`` with the dev ``CHECKIN_SECRET``), fresh for
  every scan.
- ``redeem`` — a popular item: 200 residents (1 point each, awarded over HTTP beforehand) redeem one unit of an
  item of stock 20 at once → exactly 20 answered 201, 180 answered 409 OUT_OF_STOCK and nothing else; stock 0;
  20 pending redemptions of the item stored, the 201s' ids; one ``redeem#`` entry of -1 for each winner and none
  for the others; balance == sum(ledger) ≥ 0 for every buyer.

Every answer must be a documented status of its route (docs/api.md) with the error envelope
``{"error": {"code", "message"}}`` when it is not a success: zero 5xx (503 included), zero answers outside the
envelope. After each scenario, ``infra.proof.invariants.check`` (every invariant of design.md over every table) runs too
when it is there — after the redemptions with the item's issued stock, so that its stock must be exact.

Each burst: ``--clients`` threads (one ``requests.Session`` each, its connection opened before the clock starts),
released together, each firing its share of the requests one after the other. Printed per scenario: requests,
seconds, throughput, p50/p95 latency, the status histogram, DynamoDB calls per request, and the raw storage
ceiling measured in the same run: one TransactWriteItems per request of the burst, each one of the burst's
committed transactions (cycled) — the API's own items, update expressions and values, so the same actions, number
of items and sizes — under new keys in scratch copies of the tables (same key schemas and stream settings; dropped
afterwards), sent straight to the embedded DynamoDB by as many threads (one boto3 client each) → the ratio
API/raw. An item several committed transactions wrote (an event's counter, the item's stock) keeps one key, and
the API's condition on it (which read the real item) becomes a guard letting through as many as the burst
committed on it — so 20 of 200 redemptions commit; a double tap replays its twin's keys and is refused by the
guards as the API refused it (see ``raw_ceiling._raw_item``). The raw transactions do only the writes; the API also
authenticates, reads and answers over HTTP. At the same concurrency the embedded DynamoDB has up to ``--clients``
raw requests queued at its one lock, which its Python threads serve less well than the API's fewer, spread-out
calls: where the storage is the bottleneck (check-out: 20 items a transaction) the ratio is near 1 and may pass it.

Caveat: the embedded DynamoDB applies one request at a time (infra/local/embedded_dynamodb.py): concurrent writes of one
item queue there instead of conflicting and being retried as on DynamoDB; the stack is one Python process and the
load generator shares the machine. Throughput is this machine's local stack at the moment of the run, not
DynamoDB's or Lambda's.

Where things are: ``cli`` (the command: arguments, ``run``, the figures printed), ``scenarios`` (signup, checkin,
redeem and their checks), ``fire`` (one burst: the clients released together, the answers judged against
docs/api.md), ``finish`` (what ends each scenario: envelope, invariants, raw ceiling), ``raw_ceiling`` (the replay
of the burst's transactions), ``stored`` (reading the tables back, the books), ``stack`` (starting the stack's
process, the people), ``serve`` (the stack's process and its recorder).
"""
from .raw_ceiling import GUARD, _raw_item, _with_counter, describe_shapes, shape_of
from .scenarios import DOUBLE_EVERY, _scaled, checkin, redeem, signup
from .stack import BurstStack, People

__all__ = ["DOUBLE_EVERY", "GUARD", "BurstStack", "People", "_raw_item", "_scaled", "_with_counter", "checkin",
           "describe_shapes", "redeem", "shape_of", "signup"]
