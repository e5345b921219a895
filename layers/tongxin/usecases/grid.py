"""The grid worker's task list (GET /v1/grid/tasks): what needs them in the grids they work now — wishes to review
or unclaimed past due (吹哨), and check-ins left open to settle. One Query per page: the pages walk the caller's
grids one after the other, each grid's wishes then its attendances, the cursor saying where."""
from __future__ import annotations

from ..adapters.dynamo.models import SignupModel
from ..domain.access import Principal, Role, require_role
from . import paging, wishes
from .checkins.attendance import present_record

SECTIONS = ("wishes", "checkins")


def _settle_page(community_id: str, grid_id: str, start_key: dict | None, limit: int) -> tuple[list, dict | None]:
    results = SignupModel.by_settle_task.query(f"{community_id}#{grid_id}", scan_index_forward=False,
                                               last_evaluated_key=start_key, page_size=limit)
    raw = next(results.page_iter, None) or {}
    items = []
    for item in raw.get("Items", []):
        attendance = present_record(SignupModel.from_raw_data(item))
        items.append({"task": "settle_checkin", "event": attendance.pop("event"), "attendance": attendance})
    return items, results.page_iter.last_evaluated_key


def grid_tasks(principal: Principal, *, limit: int = 20, cursor: str | None = None) -> dict:
    grant = require_role(principal, Role.GRID_WORKER)
    grids = sorted(principal.grid_ids)
    scope = f"grid-tasks:{principal.user_id}"
    position = paging.decode_cursor(cursor, scope) or {"grid": grids[0], "section": SECTIONS[0], "key": None}
    if position.get("grid") not in grids or position.get("section", SECTIONS[0]) not in SECTIONS:
        raise paging.BAD_CURSOR  # the grid was taken away since that page
    grid_id, section = position["grid"], position.get("section", SECTIONS[0])
    read = wishes.grid_task_page if section == "wishes" else _settle_page
    items, last_key = read(grant.community_id, grid_id, position.get("key"), limit)
    if last_key:
        after = {"grid": grid_id, "section": section, "key": last_key}
    elif section == SECTIONS[0]:
        after = {"grid": grid_id, "section": SECTIONS[1], "key": None}
    elif grids.index(grid_id) + 1 < len(grids):
        after = {"grid": grids[grids.index(grid_id) + 1], "section": SECTIONS[0], "key": None}
    else:
        after = None
    return {"items": items, "next_cursor": paging.encode_cursor(after, scope)}
