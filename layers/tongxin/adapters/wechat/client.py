"""``MiniProgramClient``: the mini-program's server API on wechatpy, with our error mapping.

- The base URL is configuration (the local stand-in, or real WeChat when unset).
- Every call has a timeout (wechatpy's default is none).
- access_token comes from ``cgi-bin/stable_token`` (does not rotate the token other instances hold) and
  is shared through DynamoDB; login (``jscode2session``) needs no access_token and never fetches one.
- WeChat failures become domain errors: a bad login code is the user's (401), anything else is
  ``UpstreamUnavailable`` (503) unless a caller maps its errcode.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from ...domain.errors import (
    DomainError, Forbidden, PhoneCodeInvalid, RateLimited, UpstreamUnavailable, ValidationFailed, WechatCodeInvalid,
)

log = logging.getLogger(__name__)

REAL_WECHAT = "https://api.weixin.qq.com/"
# A token is not handed out in its last minutes: another instance may be about to refresh it.
TOKEN_SAFETY_MARGIN_SECONDS = 300
TOKEN_REJECTED = {40001, 40014, 42001}


@dataclass(frozen=True)
class WechatSession:
    openid: str = field(repr=False)
    unionid: str | None = field(default=None, repr=False)
    # Never stored, returned or logged; kept only for the duration of the login call.
    session_key: str | None = field(default=None, repr=False)


@contextmanager
def _upstream(errcodes: dict[int, DomainError] | None = None):
    """Translate wechatpy/requests failures into domain errors."""
    try:
        yield
    except WeChatClientException as exc:
        mapped = (errcodes or {}).get(exc.errcode)
        if mapped is not None:
            raise mapped from None
        if exc.errcode == 45011:
            raise RateLimited("微信接口调用太频繁，请稍后再试") from None
        log.warning("wechat call failed", extra={"errcode": exc.errcode, "errmsg": exc.errmsg})
        raise UpstreamUnavailable() from None
    except requests.RequestException as exc:
        log.warning("wechat unreachable", extra={"error": type(exc).__name__})
        raise UpstreamUnavailable() from None


NETWORK_ERROR = -2  # ours, not WeChat's: no answer (timeout, connection refused, HTTP 5xx)


@dataclass(frozen=True)
class SendResult:
    """What WeChat answered a subscribe message: errcode 0 and its msgid, WeChat's errcode and errmsg, or
    ``NETWORK_ERROR`` when no answer came."""
    errcode: int
    errmsg: str
    msgid: str | None = None


class MiniProgramClient(WeChatClient):
    def __init__(self, appid: str, secret: str, *, base_url: str | None, timeout: float, session=None):
        # wechatpy's own auto_retry recurses without bound while WeChat keeps answering 40001:
        # ``_call`` retries exactly once instead.
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        self.base_url = base_url or REAL_WECHAT
        self.API_BASE_URL = self.base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = self.base_url

    def _call(self, method: str, path: str, **kwargs):
        """One API call on the configured base URL; a rejected token is dropped and the call retried once."""
        call = self.post if method == "POST" else self.get
        try:
            return call(path, api_base_url=self.base_url, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_REJECTED:
                raise
            self.session.delete(self.access_token_key)
            self.expires_at = None
            return call(path, api_base_url=self.base_url, **kwargs)

    # --- access_token -----------------------------------------------------------------------
    def fetch_access_token(self):
        """``POST cgi-bin/stable_token`` (normal mode): the same valid token for every caller."""
        response = self._http.post(
            self.base_url + "cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                  "force_refresh": False},
            timeout=self.timeout,
        )
        response.raise_for_status()
        result = response.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self,
                                        request=response.request, response=response)
        ttl = max(60, int(result.get("expires_in", 7200)) - TOKEN_SAFETY_MARGIN_SECONDS)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        self.expires_at = int(time.time()) + ttl
        return result

    # --- login ------------------------------------------------------------------------------
    def code_to_session(self, code: str) -> WechatSession:
        with _upstream({40029: WechatCodeInvalid(), 40163: WechatCodeInvalid(),
                        40226: Forbidden("微信判定该账号存在风险，暂时无法登录")}):
            result = self._call("GET", "sns/jscode2session", params={
                "appid": self.appid, "secret": self.secret, "js_code": code,
                "grant_type": "authorization_code",
                "access_token": None,  # requests drops None: login must not fetch an access_token
            })
        if not isinstance(result, dict) or not result.get("openid"):
            raise UpstreamUnavailable()
        return WechatSession(result["openid"], result.get("unionid"), result.get("session_key"))

    # --- phone ------------------------------------------------------------------------------
    def phone_number(self, code: str) -> str:
        with _upstream({40029: PhoneCodeInvalid(), 40163: PhoneCodeInvalid()}):
            result = self._call("POST", "wxa/business/getuserphonenumber", data={"code": code})
        return result["phone_info"]["purePhoneNumber"]

    # --- content security (msg_sec_check v2) ------------------------------------------------------
    def check_text(self, content: str, openid: str, scene: int = 3) -> str:
        """Return WeChat's ``suggest``: ``pass``, ``review`` or ``risky``. Scene 3 = forum/post."""
        with _upstream({61010: ValidationFailed("请先在微信中打开小程序后再提交")}):
            result = self._call("POST", "wxa/msg_sec_check", data={
                "content": content, "version": 2, "scene": scene, "openid": openid})
        return result.get("result", {}).get("suggest", "review")

    # --- mini-program code --------------------------------------------------------------------
    def wxacode(self, scene: str, page: str, width: int = 430) -> bytes:
        """PNG of an unlimited mini-program code; ``scene`` ≤ 32 visible characters."""
        if len(scene) > 32:
            raise ValidationFailed("小程序码参数过长", details={"field": "scene"})
        with _upstream():
            response = self._call("POST", "wxa/getwxacodeunlimit",
                                  data={"scene": scene, "page": page, "width": width, "check_path": False})
        if isinstance(response, dict):  # a JSON body is an error WeChat reported with errcode 0
            raise UpstreamUnavailable()
        return response.content

    # --- subscribe messages -----------------------------------------------------------------
    def send_subscribe(self, openid: str, template_id: str, data: dict, page: str | None = None,
                       state: str = "formal", lang: str = "zh_CN") -> dict:
        """Raw send (raises wechatpy's WeChatClientException for an errcode, requests' exceptions for the network);
        the sender decides what each means (43101: no quota, never retry)."""
        body = {"touser": openid, "template_id": template_id, "data": data,
                "miniprogram_state": state, "lang": lang}
        if page:
            body["page"] = page
        return self._call("POST", "cgi-bin/message/subscribe/send", data=body)

    def deliver_subscribe(self, openid: str, template_id: str, data: dict, page: str | None, *, state: str,
                          lang: str) -> SendResult:
        """``send_subscribe`` with every outcome as a value: the sender records each, nothing escapes."""
        try:
            answer = self.send_subscribe(openid, template_id, data, page, state=state, lang=lang)
        except WeChatClientException as exc:
            if exc.errcode is None:  # wechatpy wraps HTTP errors (a 5xx) without an errcode
                return SendResult(NETWORK_ERROR, "HTTP error")
            return SendResult(int(exc.errcode), str(exc.errmsg or ""))
        except requests.RequestException as exc:
            return SendResult(NETWORK_ERROR, type(exc).__name__)
        return SendResult(0, "ok", str(answer.get("msgid")) if answer.get("msgid") is not None else None)
