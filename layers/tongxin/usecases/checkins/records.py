"""The volunteer's own record (志愿服务记录) and the admin's monthly hours export: read from the attendance items
(each carries what a record must show), one Query per page; totals from counters kept by each credit."""
from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import datetime

from ...adapters.dynamo import batch
from ...adapters.dynamo.models import CounterModel, SignupModel
from ...domain.access import Principal, Role, require_role
from ...domain.clock import SHANGHAI, utcnow
from ...domain.errors import ValidationFailed
from .. import paging
from .attendance import present_record, record_keys
from ...domain.text import csv_cell

HEADER = ("志愿者", "用户ID", "活动", "地点", "组织者", "签到时间", "签退时间", "时长(分钟)", "积分", "状态")
STATUS_NAMES = {"checked_in": "已签到", "checked_out": "已签退", "unsettled": "未签退", "no_show": "缺席"}
MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


def _totals(item: dict | None) -> dict:
    value = lambda name: int((item or {}).get(name, {}).get("N", 0))  # noqa: E731
    return {"minutes": value("r:minutes"), "points": value("r:points"), "count": value("r:count")}


def volunteer_record(principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """My attendances, newest first, and my totals (all time, this year) from the counters each credit keeps."""
    all_key, year_key = record_keys(principal.user_id, utcnow())
    found = {item["key"]["S"]: item for item in batch.get_raw_many(CounterModel, [all_key, year_key])}
    totals = {"all_time": _totals(found.get(all_key)), "this_year": _totals(found.get(year_key))}
    page = paging.page(lambda **kw: SignupModel.by_attendee.query(principal.user_id, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present_record(s) for s in items],
                       scope=f"record:{principal.user_id}", model=SignupModel)
    return {"totals": totals, **page}


def _time(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


def volunteer_hours_csv(principal: Principal, month: str) -> bytes:
    """Every attendance of the month (Asia/Shanghai, by check-in) and a 合计 row per volunteer: UTF-8 with a BOM
    (Excel opens it as UTF-8), read page by page from the month's index — never a Scan."""
    grant = require_role(principal, Role.ADMIN)
    if not MONTH.fullmatch(month or ""):
        raise ValidationFailed("月份格式应为 YYYY-MM，例如 2026-12", details={"field": "month"})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    totals: dict[str, list] = {}
    for signup in SignupModel.by_month.query(f"{grant.community_id}#{month}"):
        minutes, points = int(signup.minutes or 0), int(signup.points or 0)
        name = signup.attendee_name or signup.nickname or ""
        writer.writerow((csv_cell(name), signup.user_id, csv_cell(signup.event_title), csv_cell(signup.event_address),
                         csv_cell(signup.organiser_nickname), _time(signup.checked_in_at), _time(signup.checked_out_at),
                         minutes, points, STATUS_NAMES.get(signup.status, signup.status)))
        total = totals.setdefault(signup.user_id, [name, 0, 0])
        total[1] += minutes
        total[2] += points
    for user_id, (name, minutes, points) in sorted(totals.items(), key=lambda item: item[1][0]):
        writer.writerow((csv_cell(name), user_id, "合计", "", "", "", "", minutes, points, ""))
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
