"""The scheduler: escalation (吹哨) of unclaimed wishes and expiry past the deadline, run twice."""
from datetime import timedelta

import pytest

from tongxin.adapters.dynamo.models import OutboxModel, WishModel
from tongxin.domain.clock import utcnow
from tongxin.usecases import notifications, wishes


def run_schedule(now):
    """The scheduler's wish step and the fan-outs it wrote (``usecases.schedule.run`` runs these, and every other
    area's steps and the push sweep: run days ahead, those would work through every other test's data too)."""
    return {"wishes": wishes.run_schedule(now), "fanouts": notifications.expand_fanouts()}

WISH = {"title": "帮忙买药", "content": "腿脚不便，需要有人帮忙去药店", "category": "助老"}


def publish(member, **extra):
    resp = member.post("/v1/wishes", {**WISH, **extra})
    assert resp.status == 201, resp.body
    return resp.json


def overdue_messages(wish_id):
    # Per-worker messages (the fan-out item the escalation wrote is expanded by the same scheduler run).
    return [m for m in OutboxModel.scan(OutboxModel.kind == "wish_overdue")
            if m.data["wish_id"] == wish_id and m.status not in ("fanout", "expanded")]


@pytest.fixture
def people(community):
    return community.resident(0), community.grid_worker(0), community.volunteer(0)


def test_unclaimed_after_72_hours_is_escalated_once(people):
    author, worker, volunteer = people
    wish = publish(author)
    assert run_schedule(utcnow() + timedelta(hours=71))["wishes"]["escalated"] == 0
    later = utcnow() + timedelta(hours=72, minutes=1)
    first = run_schedule(later)["wishes"]
    assert first["escalated"] >= 1
    second = run_schedule(later)["wishes"]
    assert second["escalated"] == 0
    messages = overdue_messages(wish["id"])
    assert [m.recipient_id for m in messages] == [worker.id]
    tasks = worker.get("/v1/grid/tasks").json["items"]
    assert [(t["id"], t["task"]) for t in tasks] == [(wish["id"], "overdue")]
    assert WishModel.get(wish["id"]).status == "open"
    assert volunteer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
    assert worker.get("/v1/grid/tasks").json["items"] == []


def test_deadline_escalates_24_hours_before_then_expires(people):
    author, worker, _ = people
    deadline = utcnow() + timedelta(hours=30)
    wish = publish(author, deadline=deadline.isoformat())
    assert run_schedule(utcnow() + timedelta(hours=5))["wishes"]["escalated"] == 0
    run_schedule(utcnow() + timedelta(hours=7))
    assert len(overdue_messages(wish["id"])) == 1
    run_schedule(deadline + timedelta(minutes=1))
    stored = WishModel.get(wish["id"])
    assert stored.status == "expired" and stored.grid_task is None and stored.due_at is None
    assert run_schedule(deadline + timedelta(hours=1))["wishes"]["expired"] == 0
    assert worker.get("/v1/grid/tasks").json["items"] == []
    expired_notes = [m for m in OutboxModel.scan(OutboxModel.recipient_id == author.id) if m.kind == "wish_expired"]
    assert len(expired_notes) == 1


def test_claimed_wishes_are_neither_escalated_nor_expired(people):
    author, _, volunteer = people
    deadline = utcnow() + timedelta(hours=30)
    wish = publish(author, deadline=deadline.isoformat())
    volunteer.post(f"/v1/wishes/{wish['id']}/claim")
    run_schedule(deadline + timedelta(hours=1))
    assert WishModel.get(wish["id"]).status == "claimed"
    assert overdue_messages(wish["id"]) == []


def test_released_after_escalation_goes_back_to_the_grid(people):
    author, worker, volunteer = people
    wish = publish(author)
    run_schedule(utcnow() + timedelta(hours=73))
    volunteer.post(f"/v1/wishes/{wish['id']}/claim")
    volunteer.post(f"/v1/wishes/{wish['id']}/release")
    assert [t["id"] for t in worker.get("/v1/grid/tasks").json["items"]] == [wish["id"]]
    run_schedule(utcnow() + timedelta(hours=80))
    assert len(overdue_messages(wish["id"])) == 1  # escalated once, not again


def test_pending_review_past_deadline_expires(community):
    community.set(wish_review_required=True)
    author = community.resident(0)
    deadline = utcnow() + timedelta(hours=3)
    wish = publish(author, deadline=deadline.isoformat())
    run_schedule(deadline + timedelta(seconds=1))
    assert WishModel.get(wish["id"]).status == "expired"


def test_scheduler_function_handler_runs(container, monkeypatch):
    from infra.local.stack import _load_function
    from tongxin.usecases.push import sender
    # Its push sweep would work through every message the session's other tests left; two seconds show it runs.
    monkeypatch.setattr(sender, "SWEEP_BUDGET_SECONDS", 2.0)
    result = _load_function("scheduler").handler({"source": "aws.events"}, None)
    assert set(result) == {"wishes", "events", "redemptions", "requests", "bulletin", "service_cards", "project_rounds",
                           "round_notices", "push"}  # every area's step, then the sweep
    assert set(result["wishes"]) == {"escalated", "expired", "skipped"}
    assert set(result["redemptions"]) == {"reminded", "expired", "skipped"}
