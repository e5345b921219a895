"""The monthly bulletin (通报, 街呼区应): ``GET /v1/street/bulletin`` — one row per community of a street — and
``GET /v1/district/bulletin`` — one row per street (its communities' counts summed), per department and per
community of a district — for a Shanghai month, ranked and flagged against the district's thresholds
(``domain/bulletin.py``; the defaults when the street has no district).

Read from the request counters each step writes in its own transaction (``usecases/requests/steps.count``): the
month bucket of each community (``stats#requests#<community>#m#YYYY-MM``) and of each department
(``stats#requests-dept#<department>#m#YYYY-MM``, counted from the step that sent the request there) — O(rows)
keys, never a scan or a query.

Final on the 1st: the scheduler (``finalize``, from ``usecases/schedule``) writes, once per street and per
district, the previous month's rows as a snapshot (``bulletin#street#<id>#YYYY-MM`` / ``bulletin#district#<id>#YYYY-MM``
in the counters table, conditional on not existing) and, in the same transaction, the ``bulletin_ready`` message
to the unit's staff (one fan-out item, keyed by the snapshot). A month with a snapshot is answered from it
(``final: true``); any other month is computed live (``final: false``).

Cost (a street of C communities): BatchGetItem 1 — the street and the snapshot; BatchGetItem 2 — the district,
the communities and their month buckets, ⌈(1 + 2C) / 100⌉ calls. A district (S streets, D departments, C
communities): 1 — the district and its snapshot; 2 — the streets, the departments and their month buckets,
⌈(S + 2D) / 100⌉; 3 — the communities and their month buckets, ⌈2C / 100⌉.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
from datetime import datetime, timedelta

from ..adapters.dynamo import batch
from ..adapters.dynamo.models import CommunityModel, CounterModel, DepartmentModel, DistrictModel, StreetModel
from ..adapters.dynamo.models.community import STREET_REGISTRY
from ..adapters.dynamo.models.districts import DISTRICT_REGISTRY
from ..adapters.dynamo.tx import Tx
from ..domain import bulletin as rules, requests as request_rules
from ..domain.access import Principal
from ..domain.clock import SHANGHAI, utcnow
from ..domain.errors import Conflict, NotFound, ValidationFailed
from . import notifications
from .rollups import _district_of, _street_of
from ..domain.text import csv_cell

KEYS_PER_CALL = batch.MAX_KEYS
MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
# No page: the bulletin is read in the console (the message opens the mini-program's home).


# --- months ----------------------------------------------------------------------------------------------------

def current_month(now: datetime | None = None) -> str:
    return (now or utcnow()).astimezone(SHANGHAI).strftime("%Y-%m")


def previous_month(now: datetime | None = None) -> str:
    first = (now or utcnow()).astimezone(SHANGHAI).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def month_asked(month: str | None) -> str:
    """The month asked (default the current Shanghai month). 400 naming ``month`` if malformed or to come."""
    now = current_month()
    if month is None:
        return now
    if not MONTH.fullmatch(month):
        raise ValidationFailed("月份格式应为 YYYY-MM，例如 2026-12", details={"field": "month"})
    if month > now:
        raise ValidationFailed("不能查看尚未到来的月份", details={"field": "month"})
    return month


def snapshot_key(level: str, unit_id: str, month: str) -> str:
    return f"bulletin#{level}#{unit_id}#{month}"


# --- reading ---------------------------------------------------------------------------------------------------

def _counts(raw: dict | None) -> dict[str, int]:
    """A month bucket's whole-unit counts (``n:<fact>``), by fact."""
    if raw is None:
        return {}
    return {name[2:]: int(value["N"]) for name, value in raw.items() if name.startswith("n:") and "N" in value}


def _read(wanted: list[tuple]) -> list[dict | None]:
    found: list[dict | None] = []
    for first in range(0, len(wanted), KEYS_PER_CALL):
        found += batch.get_raw(*wanted[first:first + KEYS_PER_CALL])
    return found


def thresholds(district: dict | DistrictModel | None) -> rules.Thresholds:
    """The district's settings, each falling back to its default."""
    default = rules.Thresholds()
    if district is None:
        return default
    if isinstance(district, dict):
        get = lambda name: int(district[name]["N"]) if name in district and "N" in district[name] else None  # noqa: E731
    else:
        get = lambda name: getattr(district, name)  # noqa: E731
    satisfaction, resolve, response = (get("bulletin_satisfaction_min"), get("bulletin_resolution_min"),
                                       get("bulletin_response_min"))
    return rules.Thresholds(satisfaction=default.satisfaction if satisfaction is None else int(satisfaction),
                            resolve=default.resolve if resolve is None else int(resolve),
                            response=default.response if response is None else int(response))


def _limits_view(limits: rules.Thresholds) -> dict:
    return {"satisfaction_rate": limits.satisfaction, "resolve_rate": limits.resolve,
            "response_rate": limits.response}


def _name(raw: dict | None) -> str | None:
    return raw.get("name", {}).get("S") if raw else None


def _present(rows: list[dict]) -> list[dict]:
    """The rows as answered: ``score`` is the ranking's own, not shown."""
    return [{name: value for name, value in r.items() if name != "score"} for r in rows]


def _community_rows(community_ids: list[str], month: str, extra: list[tuple] = ()
                    ) -> tuple[dict[str, dict], list[dict | None]]:
    """(each community's unranked row with its counts, the raw items of ``extra``) in one list of BatchGetItems:
    ``extra``, then each community's item and month bucket."""
    wanted = list(extra)
    for cid in community_ids:
        wanted += [(CommunityModel, cid), (CounterModel, request_rules.stats_key(cid, f"m#{month}"))]
    found = _read(wanted)
    head, rest = found[:len(extra)], found[len(extra):]
    rows = {}
    for index, cid in enumerate(community_ids):
        counts = _counts(rest[2 * index + 1])
        rows[cid] = {"community": {"id": cid, "name": _name(rest[2 * index])}, **rules.row(counts),
                     "_counts": counts}
    return rows, head


def _strip(rows: list[dict]) -> list[dict]:
    return [{name: value for name, value in r.items() if name != "_counts"} for r in rows]


def _snapshot(raw: dict | None) -> dict | None:
    if raw is None or "snapshot" not in raw:
        return None
    return json.loads(raw["snapshot"]["S"])


def _street_live(street: StreetModel, month: str) -> tuple[dict, rules.Thresholds]:
    extra = [(DistrictModel, street.district_id)] if street.district_id else []
    rows, head = _community_rows(sorted(street.community_ids or ()), month, extra)
    limits = thresholds(head[0] if head else None)
    return {"items": _present(_strip(rules.ranked(list(rows.values()), limits)))}, limits


def street_bulletin(principal: Principal, month: str | None, street_id: str | None = None) -> dict:
    """Street staff: their street's communities for the month, ranked and flagged."""
    street_id = _street_of(principal, street_id)
    month = month_asked(month)
    raw_street, raw_snapshot = batch.get_raw((StreetModel, street_id),
                                             (CounterModel, snapshot_key("street", street_id, month)))
    if raw_street is None:
        raise NotFound("街道不存在")
    snapshot = _snapshot(raw_snapshot)
    if snapshot is not None:
        return {**snapshot, "final": True}
    return {**street_view(StreetModel.from_raw_data(raw_street), month), "final": False}


def street_view(street: StreetModel, month: str) -> dict:
    body, limits = _street_live(street, month)
    return {"street": {"id": street.id, "name": street.name}, "month": month, "final": False,
            "thresholds": _limits_view(limits), **body}


def district_bulletin(principal: Principal, month: str | None, district_id: str | None = None) -> dict:
    """District staff: their district's streets, departments and communities for the month, each ranked."""
    district_id = _district_of(principal, district_id)
    month = month_asked(month)
    raw_district, raw_snapshot = batch.get_raw((DistrictModel, district_id),
                                               (CounterModel, snapshot_key("district", district_id, month)))
    if raw_district is None:
        raise NotFound("区不存在")
    snapshot = _snapshot(raw_snapshot)
    if snapshot is not None:
        return {**snapshot, "final": True}
    return {**district_view(DistrictModel.from_raw_data(raw_district), month), "final": False}


def district_view(district: DistrictModel, month: str) -> dict:
    limits = thresholds(district)
    street_ids, department_ids = sorted(district.street_ids or ()), sorted(district.department_ids or ())
    wanted = [(StreetModel, sid) for sid in street_ids]
    for pid in department_ids:
        wanted += [(DepartmentModel, pid), (CounterModel, request_rules.dept_stats_key(pid, f"m#{month}"))]
    found = _read(wanted)
    streets = [StreetModel.from_raw_data(raw) for raw in found[:len(street_ids)] if raw is not None]
    dept_raw = found[len(street_ids):]
    departments = []
    for index, pid in enumerate(department_ids):
        departments.append({"department": {"id": pid, "name": _name(dept_raw[2 * index])},
                            **rules.row(_counts(dept_raw[2 * index + 1]))})
    members = {street.id: sorted(street.community_ids or ()) for street in streets}
    communities, _ = _community_rows(sorted({cid for ids in members.values() for cid in ids}), month)
    street_rows = []
    for street in streets:
        summed: dict[str, int] = {}
        for cid in members[street.id]:
            for name, n in communities[cid]["_counts"].items():
                summed[name] = summed.get(name, 0) + n
        street_rows.append({"street": {"id": street.id, "name": street.name}, **rules.row(summed)})
    return {"district": {"id": district.id, "name": district.name}, "month": month, "final": False,
            "thresholds": _limits_view(limits),
            "streets": _present(rules.ranked(street_rows, limits)),
            "departments": _present(rules.ranked(departments, limits)),
            "communities": _present(_strip(rules.ranked(list(communities.values()), limits)))}


# --- CSV -------------------------------------------------------------------------------------------------------

HEADER = ("社区", "收到", "按时响应", "按时办结", "超期", "延期", "响应率", "解决率", "满意率", "排名", "是否通报")
DISTRICT_HEADER = ("层级", "名称", *HEADER[1:])
LEVEL_NAMES = {"street": "街道", "department": "部门", "community": "社区"}


def _percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100, 1):g}%"



def _cells(r: dict) -> list:
    return [r["received"], r["answered_on_time"], r["resolved_on_time"], r["overdue"], r["extended"],
            _percent(r["response_rate"]), _percent(r["resolve_rate"]), _percent(r["satisfaction_rate"]),
            "" if r["rank"] is None else r["rank"], "是" if r["flagged"] else "否"]


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def street_csv(view: dict) -> bytes:
    """One line per community, in rank order, under the Chinese header."""
    return _csv([list(HEADER), *[[csv_cell(r["community"]["name"]), *_cells(r)] for r in view["items"]]])


def district_csv(view: dict) -> bytes:
    """The three tables in one: a ``层级`` (level) column — 街道, 部门, 社区 — then the name and the figures, each
    table in rank order."""
    lines = [list(DISTRICT_HEADER)]
    for level, table in (("street", "streets"), ("department", "departments"), ("community", "communities")):
        lines += [[LEVEL_NAMES[level], csv_cell(r[level]["name"]), *_cells(r)] for r in view[table]]
    return _csv(lines)


# --- final on the 1st (the scheduler) ------------------------------------------------------------------------

def done_key(month: str) -> str:
    """Written when every street's and district's snapshot of ``month`` is: later runs read only this."""
    return f"bulletin#done#{month}"


def _flagged(view: dict) -> int:
    tables = ("items",) if "items" in view else ("streets", "departments", "communities")
    return sum(1 for table in tables for r in view[table] if r["flagged"])


def _finalize_one(level: str, unit_id: str, month: str, view: dict, audience: dict) -> bool:
    """The unit's snapshot and its staff's ``bulletin_ready`` in one transaction, once: False when written
    before."""
    key = snapshot_key(level, unit_id, month)
    final = {**view, "final": True}
    tx = Tx()
    tx.put(CounterModel(key, snapshot=json.dumps(final, ensure_ascii=False)),
           condition=CounterModel.key.does_not_exist(), error=Conflict("通报已定稿"))
    name = (view.get("street") or view.get("district") or {}).get("name")
    notifications.fan_out(tx, key=key, kind="bulletin_ready", audience=audience,
                          data={"month": month, "level": level, f"{level}_id": unit_id, "name": name,
                                "flagged": _flagged(view)},
                          page=None, community_id=None, duplicate_error=Conflict("通报已定稿"))
    try:
        tx.commit()
    except Conflict:
        return False
    return True


def run_schedule(now: datetime | None = None) -> dict:
    """On and after the 1st (Shanghai), the previous month's bulletins become final: for each street and each
    district, once, its snapshot and its staff's ``bulletin_ready`` (one transaction each; a run that stops
    half-way is finished by the next, the written ones refused by their condition). Then a marker, so that every
    later run of the month costs one read. The streets and districts are listed from their own (small) tables
    once a month through their ``by_registry`` index (a Query: no function may Scan, template.yaml) — the counts
    themselves are read from the counters, O(rows)."""
    now = now or utcnow()
    month = previous_month(now)
    done = {"month": month, "streets": 0, "districts": 0}
    if batch.get_raw((CounterModel, done_key(month)))[0] is not None:
        return done
    for street in StreetModel.by_registry.query(STREET_REGISTRY):
        if _finalize_one("street", street.id, month, street_view(street, month),
                         notifications.street_staff_audience(street.id)):
            done["streets"] += 1
    for district in DistrictModel.by_registry.query(DISTRICT_REGISTRY):
        if _finalize_one("district", district.id, month, district_view(district, month),
                         notifications.district_staff_audience(district.id)):
            done["districts"] += 1
    CounterModel(done_key(month), n=1).save()
    return done
