"""Grid worker (网格员) and admin statistics routes."""
from chalice import Blueprint

from tongxin.usecases import grid, stats

from ..http import current_principal, endpoint
from ..schemas import PageQuery, StatsQuery

bp = Blueprint(__name__)


@endpoint(bp, "/v1/grid/tasks", "GET", query=PageQuery, tags=("grid",), response="GridTaskPage",
          summary="我负责网格中待处理的事：待审核心愿、超时未认领心愿（吹哨）、未签退待补录的签到、待响应和办理的居民诉求；分页逐个网格进行")
def grid_tasks(query: PageQuery):
    return grid.grid_tasks(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/stats", "GET", query=StatsQuery, tags=("admin",),
          summary="社区统计：心愿按类别/状态/网格、完成率、用时中位数；活动报名、到场与缺席；志愿时长按月", response="StatsView")
def admin_stats(query: StatsQuery):
    return stats.community_stats(current_principal(), query.from_, query.to)
