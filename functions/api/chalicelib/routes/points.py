"""积分 routes: awards and their reversal, my passbook (积分存折), the leaderboards."""
from chalice import Blueprint

from tongxin.usecases import points

from ..http import current_principal, endpoint
from ..schemas import PageQuery
from ..schemas_points import AwardBody, LeaderboardQuery, ReverseBody

bp = Blueprint(__name__)
TAGS = ("points",)


@endpoint(bp, "/v1/points/awards", "POST", body=AwardBody, status=201, tags=TAGS, response="AwardView",
          errors=("NOT_FOUND", "SELF_AWARD", "AWARD_CAP_EXCEEDED", "DAILY_CAP_EXCEEDED", "INVALID_STATE"),
          summary="奖励积分（雪中送炭/息事宁人/锦上添花）：管理员奖励本社区成员，网格员奖励本网格居民；有单次和每日上限")
def award_points(body: AwardBody):
    """An admin (any member of the community) or a grid worker (residents of their grids). Awards points in one of
    Lanling's three categories, with a reason; audited, and the user is told. 403 FORBIDDEN outside the
    awarder's scope; 404 NOT_FOUND for an unknown or closed account; 409 SELF_AWARD, AWARD_CAP_EXCEEDED (one
    award at most 50 / 30 / 20 by category), DAILY_CAP_EXCEEDED (500 a Shanghai day per awarder)."""
    return points.award(current_principal(), body.user_id, body.category, body.points, body.reason)


@endpoint(bp, "/v1/points/awards/{award_id}/reverse", "POST", body=ReverseBody, tags=TAGS, response="AwardView",
          errors=("NOT_FOUND", "INVALID_STATE", "INSUFFICIENT_POINTS", "SELF_AWARD"),
          summary="管理员撤销一笔奖励（只能一次）；积分已被花掉时不能撤销")
def reverse_award(award_id: str, body: ReverseBody):
    """An admin of the community. Reverses an award once, with a reason: its points leave the ledger. 409
    INVALID_STATE when already reversed (a reversal racing another included); 409 INSUFFICIENT_POINTS when the
    points were already spent; 409 SELF_AWARD for an award made to the admin themselves (another admin reverses it)."""
    return points.reverse(current_principal(), award_id, body.reason)


@endpoint(bp, "/v1/me/points", "GET", query=PageQuery, tags=TAGS, response="PassbookView",
          summary="我的积分存折：余额、累计获得和每一笔收支（最新的在前）")
def my_points(query: PageQuery):
    """Any signed-in user. My 积分存折: balance, points earned in all, and every entry newest first with its
    kind, amount, balance after it, source and note. The balance is always the sum of the entries."""
    return points.passbook(current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/leaderboard", "GET", query=LeaderboardQuery, tags=TAGS, response="LeaderboardView",
          summary="排行榜：本月/本年/累计获得的积分或志愿服务时长（微星光），前 50 名（昵称打码）和我的名次")
def leaderboard(query: LeaderboardQuery):
    """A member of the community. The top 50 by points earned or by volunteer minutes (微星光) this month, this
    year or in all, in the community or the caller's grid, names masked, with the caller's own rank and score;
    equal scores share a rank."""
    return points.leaderboard(current_principal(), period=query.period, scope=query.scope, metric=query.metric)
