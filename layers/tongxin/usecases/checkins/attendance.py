"""Attendance as shown (the roster's check-in columns, the volunteer record) and the statistics counters a scan
or an adjustment adds to, in its own transaction."""
from __future__ import annotations

from datetime import datetime

from ...adapters.dynamo import counters
from ...adapters.dynamo.models import SignupModel
from ...adapters.dynamo.tx import Tx
from ...domain import corrections, stats as domain_stats
from ...domain.clock import SHANGHAI, to_api
from .. import service_record
from ...domain.text import DEFAULT_NICKNAME

ATTENDANCE_STATUSES = ("checked_in", "checked_out", "unsettled", "no_show")


def event_snapshot(event) -> dict:
    """What an attendance copies from its event (a record needs the content, place and organiser)."""
    return {"event_title": event.title, "event_kind": event.kind, "event_address": (event.location or {}).get("address"),
            "event_ends_at": event.ends_at, "organiser_id": event.organiser_id,
            "organiser_nickname": event.organiser_nickname, "grid_id": event.grid_id}


def as_changed(signup: SignupModel, fields: dict) -> SignupModel:
    """The sign-up as it will be once ``fields`` are written (answers are built before the commit)."""
    copy = SignupModel.from_raw_data(signup.serialize(null_check=False))
    for name, value in fields.items():
        setattr(copy, name, value)
    return copy


def present(signup: SignupModel) -> dict:
    return {
        "event_id": signup.event_id,
        "user": {"id": signup.user_id, "nickname": signup.nickname or DEFAULT_NICKNAME},
        "status": signup.status,
        "checked_in_at": to_api(signup.checked_in_at),
        "checked_out_at": to_api(signup.checked_out_at),
        "minutes": int(signup.minutes) if signup.minutes is not None else None,
        "points": int(signup.points) if signup.points is not None else None,
        "walk_in": bool(signup.walk_in),
        "adjustments": list(signup.adjustments or []),
    }


def present_record(signup: SignupModel) -> dict:
    """One line of the volunteer's record; ``attendance_id`` is what a correction of it names."""
    return {**present(signup), "attendance_id": corrections.attendance_id(signup.event_id, signup.user_id), "event": {
        "id": signup.event_id, "title": signup.event_title, "kind": signup.event_kind,
        "address": signup.event_address, "starts_at": to_api(signup.event_starts_at),
        "ends_at": to_api(signup.event_ends_at),
        "organiser": {"id": signup.organiser_id, "nickname": signup.organiser_nickname or DEFAULT_NICKNAME}}}


def month_of(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def hours_key(community_id: str, month: str) -> str:
    """Volunteer minutes of a community credited in a month (Asia/Shanghai): ``GET /v1/admin/stats``."""
    return f"stats#hours#{community_id}#{month}"


def record_keys(user_id: str, moment: datetime) -> list[str]:
    """A volunteer's totals: all time, and the year (Asia/Shanghai) of the credit."""
    return [f"record#{user_id}#all", f"record#{user_id}#{moment.astimezone(SHANGHAI).year}"]


def count_credit(tx: Tx, *, community_id: str, user_id: str, at: datetime, minutes: int, points: int,
                 attendances: int) -> None:
    """Add a credit (or a correction: negative deltas) to the community's hours and the volunteer's totals, and to
    their service record (服务记录, ``usecases/service_record``): an attendance that credits minutes is one ``event``
    service of the quarter of ``at``; a correction moves its minutes, and the service itself when the attendance
    starts or stops crediting minutes (``attendances`` ±1)."""
    service_record.correct(tx, user_id=user_id, at=at, kind="event", services=attendances, minutes=minutes,
                           community_id=community_id)
    if minutes:
        counters.add(tx, hours_key(community_id, month_of(at)), {"m:minutes": minutes})
    deltas = {"r:minutes": minutes, "r:points": points, "r:count": attendances}
    deltas = {name: amount for name, amount in deltas.items() if amount}
    for key in record_keys(user_id, at):
        counters.add(tx, key, deltas)


def month_names(start: datetime, end: datetime) -> list[str]:
    """The months (YYYY-MM, Asia/Shanghai) from ``start``'s to ``end``'s."""
    names = []
    for bucket in domain_stats.window_buckets(start, end):
        month = bucket[2:9]
        if month not in names:
            names.append(month)
    return names
