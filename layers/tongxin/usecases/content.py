"""Content security for text shown to others: WeChat's msgSecCheck (v2), asked once per group of fields a person
writes together, with their own openid and the scene the text is shown in (docs/contract.md, "Content security").

- The fields of one request are joined into one ``content`` (one line each, empty ones left out): one WeChat call
  per request, not one per field. The largest group (an event's title and description) stays far below the
  2,500 characters v2 takes (``MAX_CONTENT``; tests/api/test_content_security.py holds the schemas to it).
- ``risky`` → 400 CONTENT_REJECTED. ``review`` keeps what the area decides: a wish waits for a grid worker
  (``pending_review``); where no one reviews (nicknames, notes, comments, reasons, events, goods) the text is
  accepted and the verdict logged (no openid, no text).
- WeChat answers only for a writer who opened the mini-program within 2 h (errcode 61010) → 409
  WECHAT_SESSION_STALE; a user with no openid (never signed in through WeChat) gets the same, without a call.

Call it after the request's own refusals (role, state, caps) and before its one write: a refused request spends no
WeChat call, and an Idempotency-Key replay never reaches it.
"""
from __future__ import annotations

import logging
from enum import IntEnum

from ..adapters.dynamo import acting
from ..adapters.dynamo.models import UserModel
from ..domain.errors import ContentRejected, WechatSessionStale
from ..wiring import Container

log = logging.getLogger(__name__)

MAX_CONTENT = 2500  # msgSecCheck v2: "文本字数的上限为 2500 字"


class Scene(IntEnum):
    """msgSecCheck v2's ``scene`` (场景枚举值): which rules WeChat applies."""
    PROFILE = 1  # 资料: what names the person (nickname)
    COMMENT = 2  # 评论: a reply on someone else's thing (a fulfil note, a confirmation or rating comment, a
    #              handler's note or reason on a request)
    FORUM = 3  # 论坛: a post the community reads (a wish, a request, an event, goods, a cancellation notice)
    SOCIAL_LOG = 4  # 社交日志: chat-like logs (unused)


def check(container: Container, writer: UserModel, *texts: str | None, scene: Scene, what: str) -> str:
    """WeChat's verdict on ``texts`` written by ``writer`` (``pass`` or ``review``; ``risky`` raises). ``what``
    names the field group in the log line."""
    content = "\n".join(text for text in texts if text)
    if not content:
        return "pass"
    # 代办: text typed by staff for a managed resident (who has no openid) is checked with the staff member's.
    openid = writer.openid or acting.openid_for(writer.id)
    if not openid:
        raise WechatSessionStale()
    suggest = container.wechat.check_text(content, openid, int(scene))
    if suggest == "risky":
        log.info("content rejected", extra={"what": what, "scene": int(scene)})
        raise ContentRejected()
    if suggest != "pass":
        log.info("content check suggests review", extra={"what": what, "scene": int(scene), "suggest": suggest})
    return suggest
