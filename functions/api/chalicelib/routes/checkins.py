"""签到/签退 routes: the organiser's codes, scanning, adjustments, the volunteer record, the monthly export."""
from chalice import Blueprint

from tongxin.usecases import checkins
from tongxin.wiring import get_container

from ..http import binary_response, csv_response, current_principal, endpoint
from ..schemas import AdjustBody, CheckinBody, CheckinCodeQuery, MonthQuery, PageQuery

bp = Blueprint(__name__)
TAGS = ("checkins",)


@endpoint(bp, "/v1/events/{event_id}/qrcode", "GET", query=CheckinCodeQuery, tags=TAGS,
          produces=("application/json", "image/png", "image/svg+xml"),
          errors=("NOT_FOUND", "INVALID_STATE", "UPSTREAM_UNAVAILABLE"), response="CheckinCodeView",
          summary="组织者的签到码：rotating 屏幕动态码、poster 海报码（须在签到范围内扫）、wxacode 小程序码")
def checkin_code(event_id: str, query: CheckinCodeQuery):
    result = checkins.qrcode(get_container(), current_principal(), event_id, query.kind, query.format)
    return result if isinstance(result, dict) else binary_response(*result)


@endpoint(bp, "/v1/checkins", "POST", body=CheckinBody, tags=TAGS, response="ScanView",
          errors=("CODE_INVALID", "CODE_EXPIRED", "OUTSIDE_TIME_WINDOW", "OUTSIDE_GEOFENCE", "NOT_SIGNED_UP",
                  "EVENT_FULL", "ALREADY_CHECKED_IN", "ALREADY_CHECKED_OUT", "INVALID_STATE", "NOT_FOUND"),
          summary="扫码签到/签退：第一次扫码签到，第二次签退并按时长计入志愿时长和积分（只计一次）")
def scan(body: CheckinBody):
    return checkins.scan(get_container().settings, current_principal(), body.code, body.lat, body.lng)


@endpoint(bp, "/v1/events/{event_id}/attendance/{user_id}/adjust", "POST", body=AdjustBody, tags=TAGS,
          errors=("NOT_FOUND", "NOT_SIGNED_UP", "INVALID_STATE", "INSUFFICIENT_POINTS"), response="AttendanceView",
          summary="组织者补录或更正服务时长（须写明理由，留痕）；积分按差额入账")
def adjust(event_id: str, user_id: str, body: AdjustBody):
    return checkins.adjust(current_principal(), event_id, user_id, body.minutes, body.reason)


@endpoint(bp, "/v1/me/volunteer-record", "GET", query=PageQuery, tags=TAGS, response="VolunteerRecordView",
          summary="我的志愿服务记录：每次服务的活动、地点、组织者、时间与时长，及累计和本年合计")
def volunteer_record(query: PageQuery):
    return checkins.volunteer_record(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/exports/volunteer-hours", "GET", query=MonthQuery, tags=("admin",),
          produces=("text/csv",), summary="导出某月志愿服务时长（CSV，UTF-8 带 BOM，可直接用 Excel 打开）")
def export_volunteer_hours(query: MonthQuery):
    return csv_response(checkins.volunteer_hours_csv(current_principal(), query.month),
                        f"volunteer-hours-{query.month}.csv")
