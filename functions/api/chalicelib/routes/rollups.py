"""Statistics above communities (街呼区应): the street's (a row per community) and the district's (a row per street)."""
from chalice import Blueprint

from tongxin.usecases import bulletin, rollups

from ..http import csv_response, current_principal, endpoint
from ..schemas_rollups import DistrictBulletinQuery, DistrictStatsQuery, StreetBulletinQuery, StreetStatsQuery

bp = Blueprint(__name__)


@endpoint(bp, "/v1/street/stats", "GET", query=StreetStatsQuery, tags=("street",), errors=("NOT_FOUND",),
          response="StreetStatsView",
          summary="街道统计：各社区的心愿、志愿者、志愿时长、活动、积分发放与兑换、诉求及三率，和全街道合计")
def street_stats(query: StreetStatsQuery):
    """Street staff (街道工作人员) of the street. One row per community of the street — wishes created, registered
    volunteers (now), volunteer minutes, events published, points issued, redeemed and refunded, requests received
    and their three rates (响应率, 解决率, 满意率) — for the Shanghai days of the window (default the last 90 days,
    at most 366), the same figures as each community's `GET /v1/admin/stats` and `GET /v1/admin/requests/stats`;
    and the street's total (counts added up, rates from the sums). 400 VALIDATION_FAILED for the window, or a
    missing `street_id` when the caller staffs several streets; 403 FORBIDDEN for anyone but the street's staff; 404
    NOT_FOUND for a street of theirs that no longer exists."""
    return rollups.street_stats(current_principal(), query.from_, query.to, query.street_id)


@endpoint(bp, "/v1/district/stats", "GET", query=DistrictStatsQuery, tags=("district",), errors=("NOT_FOUND",),
          response="DistrictStatsView",
          summary="区统计：各街道（其社区合计）的心愿、志愿者、志愿时长、活动、积分、诉求及三率，和全区合计")
def district_stats(query: DistrictStatsQuery):
    """District staff (区里的工作人员) of the district. One row per street of the district — the figures of
    `GET /v1/street/stats`'s total for that street (its communities' counts added up, rates from the sums), with
    the number of its communities — and the district's total, for the Shanghai days of the window (default the
    last 90 days, at most 366). 400 VALIDATION_FAILED for the window, or a missing `district_id` when the caller
    staffs several districts; 403 FORBIDDEN for anyone but the district's staff; 404 NOT_FOUND for a district of
    theirs that no longer exists."""
    return rollups.district_stats(current_principal(), query.from_, query.to, query.district_id)


@endpoint(bp, "/v1/street/bulletin", "GET", query=StreetBulletinQuery, tags=("street",), errors=("NOT_FOUND",),
          response="StreetBulletinView", produces=("application/json", "text/csv"),
          summary="街道月度通报：各社区的收到、按时响应、按时办结、超期、延期、三率、排名与是否通报（JSON 或 CSV）")
def street_bulletin(query: StreetBulletinQuery):
    """Street staff (街道工作人员) of the street. The month's bulletin (通报, default the current Shanghai month): one
    row per community of the street — requests submitted that month received, answered on time, resolved on time,
    overdue, extended, 响应率, 解决率, 满意率 — ranked (ties share a rank; communities without requests last,
    unranked) and flagged below the district's thresholds (defaults 满意率 85 %, 解决率 90 %, 响应率 95 %). Final
    (`final: true`, a snapshot) from the 1st of the next month, when street staff are told (`bulletin_ready`);
    computed live before. `format=csv`: the same rows as CSV (UTF-8 with a BOM; 社区, 收到, 按时响应, 按时办结, 超期,
    延期, 响应率, 解决率, 满意率, 排名, 是否通报). 400 VALIDATION_FAILED for a malformed or future `month`, or a
    missing `street_id` when the caller staffs several streets; 403 FORBIDDEN for anyone but the street's staff;
    404 NOT_FOUND for a street of theirs that no longer exists."""
    view = bulletin.street_bulletin(current_principal(), query.month, query.street_id)
    if query.format == "csv":
        return csv_response(bulletin.street_csv(view), f"street-bulletin-{view['month']}.csv")
    return view


@endpoint(bp, "/v1/district/bulletin", "GET", query=DistrictBulletinQuery, tags=("district",),
          errors=("NOT_FOUND",), response="DistrictBulletinView", produces=("application/json", "text/csv"),
          summary="区月度通报：各街道、各区直部门、各社区的收到、按时响应、按时办结、超期、延期、三率、排名与是否通报（JSON 或 CSV）")
def district_bulletin(query: DistrictBulletinQuery):
    """District staff (区里的工作人员) of the district. The month's bulletin (通报, default the current Shanghai
    month), three tables each ranked and flagged against the district's thresholds: `streets` (each street's
    communities' counts summed), `departments` (counted from the step that sent a request to the department) and
    `communities`. Final (`final: true`, a snapshot) from the 1st of the next month, when district staff are told
    (`bulletin_ready`); computed live before. `format=csv`: one table with a 层级 column (街道, 部门, 社区) then
    名称 and the figures. 400 VALIDATION_FAILED for a malformed or future `month`, or a missing `district_id` when
    the caller staffs several districts; 403 FORBIDDEN for anyone but the district's staff; 404 NOT_FOUND for a
    district of theirs that no longer exists."""
    view = bulletin.district_bulletin(current_principal(), query.month, query.district_id)
    if query.format == "csv":
        return csv_response(bulletin.district_csv(view), f"district-bulletin-{view['month']}.csv")
    return view
