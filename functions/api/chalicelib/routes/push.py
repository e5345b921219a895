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
    return push.subscriptions(get_container(), current_principal())


@endpoint(bp, "/v1/me/subscriptions", "POST", body=SubscriptionsBody, tags=TAGS, response="SubscriptionsView",
          summary="上报 wx.requestSubscribeMessage 中用户同意的模板（同意一次可发一条）")
def accept_subscriptions(body: SubscriptionsBody):
    return push.accept(get_container(), current_principal(), body.accepted)


@endpoint(bp, "/v1/admin/messages", "GET", query=MessageProblemsQuery, tags=("admin",), response="MessageProblemPage",
          summary="没送达的消息（未订阅跳过、失败），以便提醒相关人员订阅")
def message_problems(query: MessageProblemsQuery):
    return push.problems(current_principal(), query.status, limit=query.limit, cursor=query.cursor)
