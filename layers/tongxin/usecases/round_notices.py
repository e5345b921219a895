"""微实事's messages to the whole community: voting opens (every member), and a day before it closes (the members
who have not voted yet). The result's message goes out with the finalisation (usecases/ballots.py), the review's
to the proposer with the review (usecases/project_rounds.py).

A round carries its next notice as a sparse index entry (``notice_step`` ``open`` → ``remind`` → none, due at
``notice_due``): the scheduler's step Queries the entries due, and for each writes ONE fan-out item and moves the
entry on in ONE transaction conditioned on the step it read, so a notice is sent once even when two runs overlap.
A notice whose moment passed while the scheduler was down is dropped when it no longer makes sense (voting closed),
never sent late; a round whose voting lasts less than a day has no reminder.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.models import ProjectRoundModel
from ..adapters.dynamo.tx import Tx
from ..domain.clock import to_api
from ..domain.errors import Conflict
from . import notifications

log = logging.getLogger(__name__)

NOTICE_SHARD = "r"
OPEN, REMIND = "open", "remind"
REMIND_BEFORE = timedelta(days=1)
SCHEDULE_BATCH = 25
ROUND_PAGE = "pages/round/detail?id={id}"


class _Moved(Conflict):
    """Another run sent this notice first."""


def reminder_due(voting_from: datetime, voting_until: datetime) -> datetime | None:
    """When the reminder goes: a day before voting closes, if that is after voting opens."""
    due = voting_until - REMIND_BEFORE
    return due if due > voting_from else None


def _data(round_: ProjectRoundModel) -> dict:
    return {"round_id": round_.id, "title": round_.title, "closes_at": to_api(round_.voting_until)}


def _send(round_: ProjectRoundModel, now: datetime) -> str | None:
    """Send the round's due notice (if it still makes sense) and move its entry on; the kind sent, or None."""
    step = round_.notice_step
    tx = Tx()
    kind = None
    if step == OPEN and now < round_.voting_until:
        kind = "round_voting_open"
        notifications.fan_out(tx, key=f"round#{round_.id}#voting_open", kind=kind,
                              audience=notifications.community_members_audience(round_.community_id),
                              data=_data(round_), page=ROUND_PAGE.format(id=round_.id),
                              community_id=round_.community_id, duplicate_error=_Moved())
    elif step == REMIND and now < round_.voting_until:
        kind = "round_voting_reminder"
        notifications.fan_out(tx, key=f"round#{round_.id}#voting_reminder", kind=kind,
                              audience=notifications.round_non_voters_audience(round_.community_id, round_.id),
                              data=_data(round_), page=ROUND_PAGE.format(id=round_.id),
                              community_id=round_.community_id, duplicate_error=_Moved())
    remind_at = reminder_due(round_.voting_from, round_.voting_until) if step == OPEN else None
    if remind_at is not None and now < round_.voting_until:
        moves = [ProjectRoundModel.notice_step.set(REMIND), ProjectRoundModel.notice_due.set(max(remind_at, now))]
    else:
        moves = [ProjectRoundModel.notice_step.remove(), ProjectRoundModel.notice_due.remove(),
                 ProjectRoundModel.notice_shard.remove()]
    tx.update(ProjectRoundModel(round_.id), moves, condition=ProjectRoundModel.notice_step == step, error=_Moved())
    try:
        tx.commit()
    except _Moved:
        return None
    if kind:
        metrics.count(kind)
        log.info("round notice sent", extra={"round_id": round_.id, "kind": kind})
    return kind


def run_schedule(now: datetime) -> int:
    """The scheduler's step: the notices due (one Query of the sparse ``by_notice_due``, at most ``SCHEDULE_BATCH``
    a run; the next run takes the rest), their rounds read in one BatchGetItem. Returns how many were sent."""
    due = list(ProjectRoundModel.by_notice_due.query(NOTICE_SHARD, ProjectRoundModel.notice_due <= now,
                                                     limit=SCHEDULE_BATCH))
    rounds = batch.get_many(*((ProjectRoundModel, r.id) for r in due)) if due else []
    return sum(1 for r in rounds if r is not None and r.notice_step and _send(r, now))
