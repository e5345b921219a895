"""Grid worker (网格员) and admin statistics routes."""
from chalice import Blueprint

from tongxin.usecases import audit, grid, stats

from ..http import current_principal, endpoint
from ..schemas import AuditQuery, PageQuery, StatsQuery

bp = Blueprint(__name__)


@endpoint(bp, "/v1/grid/tasks", "GET", query=PageQuery, tags=("grid",), response="GridTaskPage",
          summary="我负责网格中待处理的事：待审核心愿、超时未认领心愿（吹哨）、未签退待补录的签到、待响应和办理的居民诉求；分页逐个网格进行")
def grid_tasks(query: PageQuery):
    """A grid worker. What needs the caller in the grids they hold now: requests to answer or solve (most
    urgent deadline first), wishes to review or unclaimed past due, check-ins left open to settle. Pages walk the
    grids one after another; a page may hold fewer items than `limit`, so follow `next_cursor` until null.
    403 FORBIDDEN for anyone who is not a grid worker."""
    return grid.grid_tasks(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/stats", "GET", query=StatsQuery, tags=("admin",),
          summary="社区统计：心愿按类别/状态/网格、完成率、用时中位数；活动报名、到场与缺席；志愿时长按月", response="StatsView")
def admin_stats(query: StatsQuery):
    """An admin of the community. Counters kept by the changes themselves, for the Shanghai days of the window
    (default the last 90 days, at most 366): wishes by category, status and grid with fulfilment rate and median
    hours; events' sign-ups, attendance and no-shows; volunteer minutes by month; points issued and redeemed. 400
    VALIDATION_FAILED for a window that is reversed or too long."""
    return stats.community_stats(current_principal(), query.from_, query.to)


@endpoint(bp, "/v1/admin/audit", "GET", query=AuditQuery, tags=("admin",), response="AuditPage",
          summary="留痕：本社区每一次服务时长补录/更正（谁、为谁、更改前后、理由），最新的在前")
def admin_audit(query: AuditQuery):
    """An admin of the community. The audit trail of attendance adjustments: who changed whose volunteer
    minutes, before and after, and why, newest first, optionally within `from`…`to`."""
    return audit.audit_log(current_principal(), start=query.from_, end=query.to, limit=query.limit,
                           cursor=query.cursor)
