"""Domain errors. Each carries the HTTP status and error code of the API contract and a Chinese message.

The API layer turns any ``DomainError`` into the envelope ``{"error": {"code", "message", "details"}}``;
nothing else needs to know about HTTP.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "BAD_REQUEST"
    message = "请求有误"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None, code: str | None = None):
        self.message = message or type(self).message
        self.details = details or {}
        if code:
            self.code = code
        super().__init__(f"{self.code}: {self.message}")

    def to_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(DomainError):
    status, code, message = 400, "VALIDATION_FAILED", "输入不符合要求"


class ContentRejected(DomainError):
    status, code, message = 400, "CONTENT_REJECTED", "内容未通过安全检查，请修改后再提交"


class Unauthenticated(DomainError):
    status, code, message = 401, "UNAUTHENTICATED", "请先登录"


class WechatCodeInvalid(DomainError):
    status, code, message = 401, "WECHAT_CODE_INVALID", "微信登录凭证无效或已使用，请重新登录"


class Forbidden(DomainError):
    status, code, message = 403, "FORBIDDEN", "没有权限进行此操作"


class CsrfFailed(DomainError):
    """A write authenticated by the console's session cookie without its ``X-CSRF-Token`` or from another origin."""
    status, code, message = 403, "CSRF_FAILED", "请求来源校验失败，请刷新管理后台页面后重试"


class NotFound(DomainError):
    status, code, message = 404, "NOT_FOUND", "内容不存在"


class MethodNotAllowed(DomainError):
    status, code, message = 405, "METHOD_NOT_ALLOWED", "不支持的请求方法"


class Conflict(DomainError):
    """A state conflict (409). Subclasses name the contract's codes."""
    status, code, message = 409, "CONFLICT", "操作与当前状态冲突"


class TicketUsed(Conflict):
    """A console login ticket already approved (扫码登录: one approval per ticket)."""
    code, message = "TICKET_USED", "该登录二维码已被确认，请在电脑上刷新二维码后重新扫码"


class InvalidState(Conflict):
    code, message = "INVALID_STATE", "当前状态不允许此操作"


class ExtensionUsed(Conflict):
    """接诉即办: the current level has already asked for its one extension (延期)."""
    code, message = "EXTENSION_USED", "本层级已申请过延期，每个层级只能申请一次"


class AlreadyClaimed(Conflict):
    code, message = "ALREADY_CLAIMED", "这个心愿已被其他人认领"


class AlreadyRegistered(Conflict):
    """党员报到: one registration per person per community."""
    code, message = "ALREADY_REGISTERED", "您已在本社区报到，无需重复提交"


class AlreadyRated(Conflict):
    """群众评单: a resident rates a co-building project once."""
    code, message = "ALREADY_RATED", "您已评价过这个项目，每人只能评价一次"


class PostFull(Conflict):
    """领岗: the post's headcount is taken."""
    code, message = "POST_FULL", "这个岗位已满员"


class OwnWish(Conflict):
    code, message = "OWN_WISH", "不能认领自己发布的心愿"


class SignupClosed(Conflict):
    code, message = "SIGNUP_CLOSED", "报名已截止"


class AlreadySignedUp(Conflict):
    code, message = "ALREADY_SIGNED_UP", "您已报名这个活动"


class NotSignedUp(Conflict):
    code, message = "NOT_SIGNED_UP", "您没有报名这个活动"


class CapacityBelowSigned(Conflict):
    code, message = "CAPACITY_BELOW_SIGNED", "名额不能少于已报名人数"


class CodeInvalid(DomainError):
    status, code, message = 400, "CODE_INVALID", "签到码无效，请扫描现场的二维码"


class CodeExpired(Conflict):
    code, message = "CODE_EXPIRED", "签到码已过期，请扫描屏幕上的最新二维码"


class OutsideTimeWindow(Conflict):
    code, message = "OUTSIDE_TIME_WINDOW", "不在签到或签退时间内"


class OutsideGeofence(Conflict):
    code, message = "OUTSIDE_GEOFENCE", "您不在活动地点附近，请到现场扫码"


class EventFull(Conflict):
    code, message = "EVENT_FULL", "活动名额已满"


class AlreadyCheckedIn(Conflict):
    code, message = "ALREADY_CHECKED_IN", "您刚刚已签到，离开时再扫码签退"


class AlreadyCheckedOut(Conflict):
    code, message = "ALREADY_CHECKED_OUT", "您已签退"


class AlreadyInCommunity(Conflict):
    code, message = "ALREADY_IN_COMMUNITY", "您已加入其他社区，如需更换请联系社区管理员"


class NotInCommunity(Conflict):
    code, message = "NOT_IN_COMMUNITY", "请先通过邀请码加入社区"


class WechatSessionStale(Conflict):
    """WeChat's content check needs the writer to have opened the mini-program within the last 2 h (msgSecCheck
    v2 answers errcode 61010 otherwise): reopening it (wx.login, POST /v1/auth/login) and retrying helps. Not kept
    under an Idempotency-Key, so the retry with the same key runs again."""
    code, message = "WECHAT_SESSION_STALE", "请重新打开小程序后再试"


class InviteInvalid(DomainError):
    status, code, message = 404, "INVITE_INVALID", "邀请码无效或已过期"


class PhoneCodeInvalid(DomainError):
    status, code, message = 400, "PHONE_CODE_INVALID", "手机号授权码无效或已过期，请重新授权"


class IdempotencyKeyReused(Conflict):
    code, message = "IDEMPOTENCY_KEY_REUSED", "同一个幂等键不能用于不同的请求"


class RequestInProgress(Conflict):
    code, message = "REQUEST_IN_PROGRESS", "相同的请求正在处理中，请稍后再试"


class InsufficientPoints(Conflict):
    code, message = "INSUFFICIENT_POINTS", "积分不足"


class SelfAward(Conflict):
    code, message = "SELF_AWARD", "不能给自己奖励积分"


class AwardCapExceeded(Conflict):
    code, message = "AWARD_CAP_EXCEEDED", "单次奖励积分超过上限"


class DailyCapExceeded(Conflict):
    code, message = "DAILY_CAP_EXCEEDED", "今天发放的奖励积分已达上限，请明天再发"


class SelfAdjust(Conflict):
    code, message = "SELF_ADJUST", "不能更正自己的服务时长，请由社区管理员更正"


class AdjustmentOutOfRange(Conflict):
    code, message = "ADJUSTMENT_OUT_OF_RANGE", "更正的时长超出了活动已进行的时长"


class CorrectionPending(Conflict):
    """志愿服务记录更正: the attendance already has a correction waiting for the organiser."""
    code, message = "CORRECTION_PENDING", "这条记录已有一份待处理的更正申请，请等组织者处理后再申请"


class OutOfStock(Conflict):
    code, message = "OUT_OF_STOCK", "库存不足"


class LimitExceeded(Conflict):
    code, message = "LIMIT_EXCEEDED", "超过每人限兑数量"


class OffShelf(Conflict):
    code, message = "OFF_SHELF", "商品已下架"


class AlreadyCommended(Conflict):  # 微星光 (domain/commendations.py)
    code, message = "ALREADY_COMMENDED", "该居民在这一期已获得同名表彰"


class SelfCommendation(Conflict):  # 微星光: an honour is given by another admin
    code, message = "SELF_COMMENDATION", "不能表彰自己，请由社区其他管理员表彰"


class RateLimited(DomainError):
    status, code, message = 429, "RATE_LIMITED", "操作太频繁，请稍后再试"


class UpstreamUnavailable(DomainError):
    status, code, message = 503, "UPSTREAM_UNAVAILABLE", "微信服务暂时不可用，请稍后再试"


class InternalError(DomainError):
    """Our own failure: the client sees this envelope, the log has the traceback."""
    status, code, message = 500, "INTERNAL", "服务器开小差了，请稍后再试"


class StorageBusy(DomainError):
    """DynamoDB kept throttling or conflicting after our retries: the client may retry."""
    status, code, message = 503, "UPSTREAM_UNAVAILABLE", "服务繁忙，请稍后再试"
