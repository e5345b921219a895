"""Business outcome metrics (``tongxin.metrics``): totalled per invocation and written as one CloudWatch EMF line,
nothing when disabled; counted only for a change that committed (over the API: a claim counts one ``wish_claimed``,
a refused claim and a replayed one none); and the outbox backlog the scheduler's sweep reports.

The module's own tests need no AWS; the API-level ones use the shared fixtures (moto, the WeChat stand-in)."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from tongxin import metrics

DISABLED = "POWERTOOLS_METRICS_DISABLED"


@pytest.fixture
def enabled(monkeypatch):
    """Metrics on, and nothing counted before the test (use cases called outside a request leave totals behind)."""
    monkeypatch.setenv(DISABLED, "true")
    metrics.flush()
    monkeypatch.delenv(DISABLED)


def emf_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def totals(lines: list[dict]) -> dict[str, float]:
    """Metric name → value over the EMF lines (a value is a number or a list of numbers)."""
    found: dict[str, float] = {}
    for line in lines:
        for directive in line["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = line[metric["Name"]]
                found[metric["Name"]] = found.get(metric["Name"], 0) + (sum(value) if isinstance(value, list)
                                                                         else value)
    return found


# --- the module ---------------------------------------------------------------------------------------------------

def test_counts_are_totalled_and_flushed_as_one_emf_line(enabled, capsys):
    for _ in range(3):
        metrics.count("wish_claimed")
    metrics.count("signup_promoted", 2)
    metrics.count("outbox_backlog", 0)  # a zero is written too
    metrics.flush()
    [line] = emf_lines(capsys.readouterr().out)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Tongxin" and directive["Dimensions"] == [["service"]]
    assert line["service"] == "tongxin"
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "wish_claimed": "Count", "signup_promoted": "Count", "outbox_backlog": "Count"}
    # One value per name: the invocation's total, not one sample per count.
    assert {name: line[name] for name in ("wish_claimed", "signup_promoted", "outbox_backlog")} == {
        "wish_claimed": [3.0], "signup_promoted": [2.0], "outbox_backlog": [0.0]}

    metrics.flush()  # the next invocation starts from nothing
    assert emf_lines(capsys.readouterr().out) == []


def test_nothing_is_written_when_disabled_and_nothing_is_carried_over(enabled, monkeypatch, capsys):
    monkeypatch.setenv(DISABLED, "true")
    metrics.count("wish_claimed")
    metrics.flush()
    assert capsys.readouterr().out == ""
    assert metrics.pending() == {}
    monkeypatch.delenv(DISABLED)
    metrics.count("wish_published")
    metrics.flush()
    assert totals(emf_lines(capsys.readouterr().out)) == {"wish_published": 1}


# --- over the API: counted after the commit, once ------------------------------------------------------------------

WISH = {"title": "帮忙修水龙头", "content": "厨房水龙头漏水，需要有人帮忙看看", "category": "维修"}


def test_a_claim_counts_one_wish_claimed_and_a_refused_or_replayed_claim_none(enabled, community, capsys):
    author, first, second = community.resident(0), community.volunteer(0), community.volunteer(0)
    published = author.post("/v1/wishes", WISH)
    assert published.status == 201, published.body
    assert totals(emf_lines(capsys.readouterr().out)) == {"wish_published": 1}

    key = {"Idempotency-Key": str(uuid.uuid4())}
    claimed = first.post(f"/v1/wishes/{published.json['id']}/claim", headers=key)
    assert claimed.status == 200, claimed.body
    # Flushed by the request itself (the middleware), as exactly one outcome.
    assert totals(emf_lines(capsys.readouterr().out)) == {"wish_claimed": 1}
    assert metrics.pending() == {}

    replayed = first.post(f"/v1/wishes/{published.json['id']}/claim", headers=key)
    assert replayed.status == 200 and replayed.headers.get("Idempotent-Replayed") == "true"
    refused = second.post(f"/v1/wishes/{published.json['id']}/claim")
    assert refused.status == 409 and refused.error_code == "ALREADY_CLAIMED"
    assert emf_lines(capsys.readouterr().out) == []


# --- the outbox backlog (the scheduler's sweep) ----------------------------------------------------------------------

SEND = "cgi-bin/message/subscribe/send"


def test_the_sweep_reports_messages_due_and_left_unsent_as_the_backlog(enabled, container, wechat, community):
    from tongxin.domain.clock import utcnow
    from tongxin.usecases import push

    def sweep(at) -> dict:
        push.sweep(container, now=at, budget_seconds=60)
        counted = metrics.pending()
        metrics.flush()
        return {name: counted.get(name) for name in ("outbox_due", "outbox_backlog", "message_retry",
                                                     "message_sent")}

    sweep(utcnow() + timedelta(days=2))  # what this module's earlier tests left due: delivered or given up
    resident = community.resident(0)
    assert resident.post("/v1/me/subscriptions", {"accepted": ["tmpl_points_awarded"]}).status == 200
    awarded = community.admin.post("/v1/points/awards", {"user_id": resident.id, "category": "charity",
                                                          "points": 1, "reason": "楼道义务清扫"})
    assert awarded.status == 201, awarded.body

    wechat.set_fault("error", [SEND], -1)  # WeChat busy: the message stays pending
    # Just written: due, but the stream's to send (in flight), not yet a backlog.
    assert sweep(utcnow()) == {"outbox_due": 1, "outbox_backlog": 0, "message_retry": 1, "message_sent": None}
    # Due for hours and still not sent: the backlog.
    assert sweep(utcnow() + timedelta(days=3)) == {"outbox_due": 1, "outbox_backlog": 1, "message_retry": 1,
                                                   "message_sent": None}
    wechat.set_fault("none")
    assert sweep(utcnow() + timedelta(days=4)) == {"outbox_due": 1, "outbox_backlog": 0, "message_retry": None,
                                                   "message_sent": 1}
    assert sweep(utcnow() + timedelta(days=5)) == {"outbox_due": 0, "outbox_backlog": 0, "message_retry": None,
                                                   "message_sent": None}
