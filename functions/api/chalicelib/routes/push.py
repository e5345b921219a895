"""订阅消息 routes: what I accepted (one accept = one send) and what to ask for next; what did not arrive."""
from chalice import Blueprint

from tongxin.usecases import push
from tongxin.wiring import get_container

from ..http import current_principal, endpoint
from ..schemas import MessageProblemsQuery, SubscriptionsBody

bp = Blueprint(__name__)
TAGS = ("push",)


@endpoint(bp, "/v1/me/subscriptions", "GET", tags=TAGS, response="SubscriptionsView",
          summary="我的订阅消息额度：与我的角色相关的每类消息剩余可发次数，和下次该请求授权的模板")
def my_subscriptions():
    """Any signed-in user. For each message kind relevant to my roles, its template and the sends left (one
    per accept), and `ask`: the templates to request next with `wx.requestSubscribeMessage` (those with none
    left)."""
    return push.subscriptions(get_container(), current_principal())


@endpoint(bp, "/v1/me/subscriptions", "POST", body=SubscriptionsBody, tags=TAGS, response="SubscriptionsView",
          summary="上报 wx.requestSubscribeMessage 中用户同意的模板（同意一次可发一条）")
def accept_subscriptions(body: SubscriptionsBody):
    """Any signed-in user. Reports the templates the user accepted in `wx.requestSubscribeMessage`; each accept
    allows one message (an id twice counts twice). Answers the same shape as the GET. 400 VALIDATION_FAILED for a
    template id this deployment does not use."""
    return push.accept(get_container(), current_principal(), body.accepted)


@endpoint(bp, "/v1/admin/messages", "GET", query=MessageProblemsQuery, tags=("admin",), response="MessageProblemPage",
          summary="没送达的消息（未订阅跳过、失败），以便提醒相关人员订阅")
def message_problems(query: MessageProblemsQuery):
    """An admin of the community. Messages that did not arrive, newest first: `skipped` (no quota, user gone, no
    template configured) or `failed` (WeChat refused or the sender gave up), with the reason and WeChat's
    errcode, so the people concerned can be asked to subscribe."""
    return push.problems(current_principal(), query.status, limit=query.limit, cursor=query.cursor)
