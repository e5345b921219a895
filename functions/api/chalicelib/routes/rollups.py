"""Statistics above communities (街呼区应): the street's (a row per community) and the district's (a row per street)."""
from chalice import Blueprint

from tongxin.usecases import rollups

from ..http import current_principal, endpoint
from ..schemas_rollups import DistrictStatsQuery, StreetStatsQuery

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
