"""The grid worker's task list (GET /v1/grid/tasks): what needs them in the grids they work now — wishes to review
or unclaimed past due (吹哨), check-ins left open to settle, and residents' requests to answer or solve (接诉即办).
The pages walk the caller's grids one after the other, each grid's requests, then its wishes, then its
attendances, the cursor saying where; a page reads on while it has room, at most three Queries."""
from __future__ import annotations

from ..adapters.dynamo.models import SignupModel
from ..domain.access import Principal, Role, require_role
from . import paging, requests, wishes
from .checkins.attendance import present_record

# Requests first: they run against an answer limit of minutes (接诉即办).
SECTIONS = ("requests", "wishes", "checkins")
QUERIES_PER_PAGE = len(SECTIONS)


def _settle_page(community_id: str, grid_id: str, start_key: dict | None, limit: int) -> tuple[list, dict | None]:
    results = SignupModel.by_settle_task.query(f"{community_id}#{grid_id}", scan_index_forward=False,
                                               last_evaluated_key=start_key, page_size=limit)
    raw = next(results.page_iter, None) or {}
    items = []
    for item in raw.get("Items", []):
        attendance = present_record(SignupModel.from_raw_data(item))
        attendance.pop("attendance_id")  # the volunteer's handle for a correction, not the grid worker's
        items.append({"task": "settle_checkin", "event": attendance.pop("event"), "attendance": attendance})
    return items, results.page_iter.last_evaluated_key


READERS = {"requests": requests.grid_queue_page, "wishes": wishes.grid_task_page, "checkins": _settle_page}


def _next(grids: list[str], grid_id: str, section: str) -> dict | None:
    """Where the list goes on once ``section`` of ``grid_id`` is read to its end (None: the list is done)."""
    if section != SECTIONS[-1]:
        return {"grid": grid_id, "section": SECTIONS[SECTIONS.index(section) + 1], "key": None}
    if grids.index(grid_id) + 1 < len(grids):
        return {"grid": grids[grids.index(grid_id) + 1], "section": SECTIONS[0], "key": None}
    return None


def grid_tasks(principal: Principal, *, limit: int = 20, cursor: str | None = None) -> dict:
    """A page goes on into the next section (or grid) while it has room, at most ``QUERIES_PER_PAGE`` Queries:
    a worker with one request to answer sees it on the first page, not behind empty sections."""
    grant = require_role(principal, Role.GRID_WORKER)
    grids = sorted(principal.grid_ids)
    scope = f"grid-tasks:{principal.user_id}"
    position = paging.decode_cursor(cursor, scope) or {"grid": grids[0], "section": SECTIONS[0], "key": None}
    if position.get("grid") not in grids or position.get("section", SECTIONS[0]) not in SECTIONS:
        raise paging.BAD_CURSOR  # the grid was taken away since that page
    items: list = []
    for _ in range(QUERIES_PER_PAGE):
        grid_id, section = position["grid"], position.get("section", SECTIONS[0])
        read = READERS[section]
        found, last_key = read(grant.community_id, grid_id, position.get("key"), limit - len(items))
        items += found
        position = {"grid": grid_id, "section": section, "key": last_key} if last_key else \
            _next(grids, grid_id, section)
        if position is None or len(items) >= limit:
            break
    return {"items": items, "next_cursor": paging.encode_cursor(position, scope)}
