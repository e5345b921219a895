"""签到/签退 routes: the organiser's codes, scanning, adjustments, the volunteer record, the monthly export."""
from chalice import Blueprint

from tongxin.usecases import checkins
from tongxin.wiring import get_container

from ..http import binary_response, csv_response, current_principal, endpoint
from ..schemas import AdjustBody, CheckinBody, CheckinCodeQuery, MonthQuery, PageQuery

bp = Blueprint(__name__)
TAGS = ("checkins",)


@endpoint(bp, "/v1/events/{event_id}/qrcode", "GET", query=CheckinCodeQuery, tags=TAGS,
          produces=("application/json", "image/png", "image/jpeg", "image/svg+xml"),
          errors=("NOT_FOUND", "INVALID_STATE", "UPSTREAM_UNAVAILABLE"), response="CheckinCodeView",
          summary="组织者的签到码：rotating 屏幕动态码、poster 海报码（须在签到范围内扫）、wxacode 小程序码")
def checkin_code(event_id: str, query: CheckinCodeQuery):
    """The organiser. The event's check-in code: `rotating` (for a screen: changes every 30 s and is accepted
    until 60 s after it appeared), `poster` (static; scans need the scanner's position inside the event's
    radius) or `wxacode` (a WeChat mini-program code carrying the poster code, `format=png`: answered in the image
    type WeChat gives, image/jpeg). `format=json` answers {code, url, kind, valid_until}; png/svg a QR of the
    link `url` = `<QR_LINK_BASE>/c/<code>` (普通链接二维码: WeChat's own scanner opens the check-in page). Images
    need an `Accept` naming an image type (image/png, image/jpeg) or `*/*`. 409 INVALID_STATE for a poster or
    wxacode of an event without a location; 503 UPSTREAM_UNAVAILABLE when WeChat cannot make a wxacode."""
    result = checkins.qrcode(get_container(), current_principal(), event_id, query.kind, query.format)
    return result if isinstance(result, dict) else binary_response(*result)


@endpoint(bp, "/v1/checkins", "POST", body=CheckinBody, tags=TAGS, response="ScanView",
          errors=("CODE_INVALID", "CODE_EXPIRED", "OUTSIDE_TIME_WINDOW", "OUTSIDE_GEOFENCE", "NOT_SIGNED_UP",
                  "EVENT_FULL", "ALREADY_CHECKED_IN", "ALREADY_CHECKED_OUT", "INVALID_STATE", "NOT_FOUND"),
          summary="扫码签到/签退：第一次扫码签到，第二次签退并按时长计入志愿时长和积分（只计一次）")
def scan(body: CheckinBody):
    """A member of the community (a volunteer or party member for `volunteer_service`) who signed up,
    or who walks in when the event takes walk-ins. The first scan checks in (from 30 min before the start to the end), the second checks
    out (until 2 h after the end) and credits, once, the minutes inside the event's window and points pro rata.
    `code` is the bare code or the whole link a printed QR carries (`<QR_LINK_BASE>/c/<code>`).
    400 CODE_INVALID for a code (or a link) that is not ours; 409 CODE_EXPIRED, OUTSIDE_TIME_WINDOW, OUTSIDE_GEOFENCE
    (`details.distance_m`), NOT_SIGNED_UP, EVENT_FULL (walk-in), ALREADY_CHECKED_IN (a second scan within 2
    min), ALREADY_CHECKED_OUT, INVALID_STATE (event cancelled)."""
    return checkins.scan(get_container().settings, current_principal(), body.code, body.lat, body.lng)


@endpoint(bp, "/v1/events/{event_id}/attendance/{user_id}/adjust", "POST", body=AdjustBody, tags=TAGS,
          errors=("NOT_FOUND", "NOT_SIGNED_UP", "INVALID_STATE", "INSUFFICIENT_POINTS", "SELF_ADJUST",
                  "ADJUSTMENT_OUT_OF_RANGE"), response="AttendanceView",
          summary="组织者补录或更正服务时长（须写明理由，留痕）；积分按差额入账；不能更正自己的记录")
def adjust(event_id: str, user_id: str, body: AdjustBody):
    """The organiser (an admin adjusts the organiser's own attendance). Sets a volunteer's minutes with a reason,
    audited: minutes and points are set, the points' difference enters the ledger, the change is appended to
    the attendance's adjustments. 409 ADJUSTMENT_OUT_OF_RANGE beyond 0 … min(the event's scheduled minutes,
    minutes since its start); 409 SELF_ADJUST for one's own attendance; 409 INVALID_STATE while still checked
    in, or once the volunteer closed their account (注销); 409 INSUFFICIENT_POINTS when taking back points already
    spent."""
    return checkins.adjust(current_principal(), event_id, user_id, body.minutes, body.reason)


@endpoint(bp, "/v1/me/volunteer-record", "GET", query=PageQuery, tags=TAGS, response="VolunteerRecordView",
          summary="我的志愿服务记录：每次服务的活动、地点、组织者、时间与时长，及累计和本年合计")
def volunteer_record(query: PageQuery):
    """Any signed-in user. My 志愿服务记录: every attendance newest first, with the event, place, organiser,
    times, minutes and points, and totals for all time and this year."""
    return checkins.volunteer_record(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/exports/volunteer-hours", "GET", query=MonthQuery, tags=("admin",),
          produces=("text/csv",), summary="导出某月志愿服务时长（CSV，UTF-8 带 BOM，可直接用 Excel 打开）")
def export_volunteer_hours(query: MonthQuery):
    """An admin of the community. The month's volunteer hours as CSV (UTF-8 with a BOM, so Excel opens it): one
    row per attendance checked in that month (Asia/Shanghai), then a 合计 row per volunteer."""
    return csv_response(checkins.volunteer_hours_csv(current_principal(), query.month),
                        f"volunteer-hours-{query.month}.csv")
