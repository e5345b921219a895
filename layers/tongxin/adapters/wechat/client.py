"""``MiniProgramClient``: the mini-program's server API on wechatpy, with our error mapping.

- The base URL is configuration (the local stand-in, or real WeChat when unset).
- Every call has a timeout (wechatpy's default is none).
- access_token comes from ``cgi-bin/stable_token`` (does not rotate the token other instances hold) and
  is shared through DynamoDB, renewed once per rotation for the whole fleet (``token_store``); a token WeChat
  rejects is replaced by one forced refresh for the fleet and the call retried once; login (``jscode2session``)
  needs no access_token and never fetches one.
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
    WechatSessionStale,
)

log = logging.getLogger(__name__)

REAL_WECHAT = "https://api.weixin.qq.com/"
# invalid credential / invalid access_token / access_token expired: the token is replaced, the call retried once.
TOKEN_REJECTED = {40001, 40014, 42001}
QUOTA_SPENT = 45009  # reach max api daily quota limit (stable_token: the day's forced refreshes are used)


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

# What a mini-program code may be, by the image's first bytes.
IMAGE_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


def _image_type(header: str, data: bytes) -> str | None:
    """The content type WeChat gave an image (``image/jpeg`` or ``image/png``), as its bytes confirm; the bytes
    decide when the header names no such type or another one; None when they are neither."""
    named = header.split(";", 1)[0].strip().lower()
    if named in IMAGE_MAGIC and data.startswith(IMAGE_MAGIC[named]):
        return named
    return next((kind for kind, magic in IMAGE_MAGIC.items() if data.startswith(magic)), None)


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
        """One API call on the configured base URL. The token is named in the call, so a rejected one (40001/40014/
        42001) is the one replaced (``token_store.rejected``: one forced refresh for the fleet) and the call retried
        once. A call that names ``access_token`` itself (login: None) is sent as it is."""
        call = self.post if method == "POST" else self.get
        params = dict(kwargs.pop("params", None) or {})
        if "access_token" in params:
            return call(path, api_base_url=self.base_url, params=params, **kwargs)
        token = self.access_token
        try:
            return call(path, api_base_url=self.base_url, params={**params, "access_token": token}, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_REJECTED:
                raise
            log.warning("wechat rejected the access_token", extra={"errcode": exc.errcode})
            token = self._replace_rejected(token)
            return call(path, api_base_url=self.base_url, params={**params, "access_token": token}, **kwargs)

    # --- access_token -----------------------------------------------------------------------
    @property
    def access_token(self):
        """The fleet's token (``token_store``): from memory until its last minutes, renewed once for the fleet."""
        if hasattr(self.session, "token"):
            return self.session.token(self.access_token_key, self._fetch_stable)
        return super().access_token

    def _replace_rejected(self, token: str) -> str:
        if hasattr(self.session, "rejected"):
            return self.session.rejected(self.access_token_key, token, self._fetch_stable)
        self.session.delete(self.access_token_key)
        self.expires_at = None
        return self.access_token

    def _fetch_stable(self, force: bool) -> tuple[str, int]:
        """One ``POST cgi-bin/stable_token``: (access_token, expires_in — the time LEFT, ≤ 7200). Normal mode hands
        every caller the current token (a new one in its last 5 minutes); ``force`` invalidates it and makes a new
        one (20 a day: the store counts them; if WeChat refuses one anyway, 45009, a normal fetch is made)."""
        response = self._http.post(
            self.base_url + "cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                  "force_refresh": force},
            timeout=self.timeout,
        )
        response.raise_for_status()
        result = response.json()
        if result.get("errcode"):
            if force and result["errcode"] == QUOTA_SPENT:
                log.error("wechat refused a forced access_token refresh (45009: the day's quota is used); "
                          "fetching in normal mode instead")
                return self._fetch_stable(False)
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self,
                                        request=response.request, response=response)
        return result["access_token"], int(result.get("expires_in", 7200))

    def fetch_access_token(self):
        """wechatpy's hook: a normal-mode ``stable_token`` fetch, stored for the fleet as it is."""
        token, expires_in = self._fetch_stable(False)
        self.session.set(self.access_token_key, token, expires_in)
        self.expires_at = int(time.time()) + expires_in
        return {"access_token": token, "expires_in": expires_in}

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
        """Return WeChat's ``suggest``: ``pass``, ``review`` or ``risky``. ``scene``: 1 资料 (profile), 2 评论
        (comment), 3 论坛 (post), 4 社交日志 (social log); ``content`` at most 2,500 characters.

        v2 only answers for an openid that visited the mini-program within the last two hours; otherwise WeChat
        answers errcode 61010 (用户访问记录超时, errmsg "code is expired"), which is 409 WECHAT_SESSION_STALE here:
        the user reopens the mini-program and tries again (docs/contract.md, content security)."""
        with _upstream({61010: WechatSessionStale()}):
            result = self._call("POST", "wxa/msg_sec_check", data={
                "content": content, "version": 2, "scene": scene, "openid": openid})
        return result.get("result", {}).get("suggest", "review")

    # --- mini-program code --------------------------------------------------------------------
    def wxacode(self, scene: str, page: str, *, env_version: str = "release", width: int = 430) -> tuple[bytes, str]:
        """An unlimited mini-program code as WeChat made it: ``(image, content type)`` — JPEG (``image/jpeg``);
        WeChat answers PNG only for a transparent background (``is_hyaline``, not asked here). ``scene`` ≤ 32
        visible characters; ``env_version`` (release | trial | develop, ``Settings.wxacode_env_version``) is the
        version a scan opens. ``check_path`` for release only: WeChat then refuses (41030) a page the published
        version does not have instead of making a code that opens nothing; a trial or develop build's pages need
        not be published yet."""
        if len(scene) > 32:
            raise ValidationFailed("小程序码参数过长", details={"field": "scene"})
        with _upstream():
            response = self._call("POST", "wxa/getwxacodeunlimit",
                                  data={"scene": scene, "page": page, "width": width, "env_version": env_version,
                                        "check_path": env_version == "release"})
        if isinstance(response, dict):  # a JSON body is an error WeChat reported with errcode 0
            raise UpstreamUnavailable()
        content_type = _image_type(response.headers.get("Content-Type", ""), response.content)
        if content_type is None:
            log.warning("wechat answered a mini-program code that is no image",
                        extra={"content_type": response.headers.get("Content-Type", "")[:64]})
            raise UpstreamUnavailable()
        return response.content, content_type

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
