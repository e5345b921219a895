"""积分 routes: awards and their reversal, my passbook (积分存折), the leaderboards."""
from chalice import Blueprint

from tongxin.usecases import points

from ..http import current_principal, endpoint
from ..schemas import AwardBody, LeaderboardQuery, PageQuery, ReverseBody

bp = Blueprint(__name__)
TAGS = ("points",)


@endpoint(bp, "/v1/points/awards", "POST", body=AwardBody, status=201, tags=TAGS, response="AwardView",
          errors=("NOT_FOUND", "SELF_AWARD", "AWARD_CAP_EXCEEDED", "DAILY_CAP_EXCEEDED", "INVALID_STATE"),
          summary="奖励积分（雪中送炭/息事宁人/锦上添花）：管理员奖励本社区成员，网格员奖励本网格居民；有单次和每日上限")
def award_points(body: AwardBody):
    return points.award(current_principal(), body.user_id, body.category, body.points, body.reason)


@endpoint(bp, "/v1/points/awards/{award_id}/reverse", "POST", body=ReverseBody, tags=TAGS, response="AwardView",
          errors=("NOT_FOUND", "INVALID_STATE", "INSUFFICIENT_POINTS"),
          summary="管理员撤销一笔奖励（只能一次）；积分已被花掉时不能撤销")
def reverse_award(award_id: str, body: ReverseBody):
    return points.reverse(current_principal(), award_id, body.reason)


@endpoint(bp, "/v1/me/points", "GET", query=PageQuery, tags=TAGS, response="PassbookView",
          summary="我的积分存折：余额、累计获得和每一笔收支（最新的在前）")
def my_points(query: PageQuery):
    return points.passbook(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/leaderboard", "GET", query=LeaderboardQuery, tags=TAGS, response="LeaderboardView",
          summary="排行榜：本月/本年/累计获得的积分或志愿服务时长（微星光），前 50 名（昵称打码）和我的名次")
def leaderboard(query: LeaderboardQuery):
    return points.leaderboard(current_principal(), period=query.period, scope=query.scope, metric=query.metric)
