"""The WeChat stand-in's services (login, content checks, phone numbers, mini-program codes, subscribe messages) and
the controls tests use on them: a mixin of ``WeChatStandIn`` (infra/local/wechat_standin.py), whose ``__init__``
holds the state these methods read and write under its lock."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import secrets
import time
from typing import Any

from infra.local.wechat_images import _render_jpeg, _render_png
from infra.local.wechat_protocol import (
    _argument_invalid, _data_format_error, _is_int, _is_non_empty_str, _json_response, _Response, _utc_now_iso,
    _WeChatError)
from infra.local.wechat_templates import SUBSCRIBE_KEYWORD_TYPES, keyword_type, subscribe_data_error

MAX_SCENE_LENGTH = 32
#: getwxacodeunlimit: the scene's characters, the versions a code may open, and the pages the mini-program has
#: (``WeChatStandIn.pages``), which ``check_path`` (WeChat's default: true) requires the page to be one of.
_SCENE_RE = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+")
_PAGE_RE = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*")
WXACODE_ENV_VERSIONS = ("release", "trial", "develop")
MINIPROGRAM_PAGES = ("pages/index/index", "pages/join/index", "pages/checkin/index",
                     "pages/console/login",  # the staff console's scan-login code (usecases/console.py)
                     # the pages subscribe messages open (usecases/notifications.py, points/): a message's
                     # ``page`` (its path, before any ``?``) must be one of the pages too (41030)
                     "pages/wish/detail", "pages/event/detail", "pages/request/detail", "pages/points/index",
                     "pages/points/redemption",
                     # 双报到: a registration (its member), the registrations to review (admins), a post, a unit
                     "pages/party/registration", "pages/admin/party-registrations", "pages/post/detail",
                     "pages/unit/detail", "pages/co-project/detail",
                     # 微实事: a round (voting, results), a proposed project (its review, progress)
                     "pages/round/detail", "pages/round/project",
                     # 志愿服务记录证明: my certificates (its messages)
                     "pages/certificates/index")
MSG_SEC_CHECK_SCENES = (1, 2, 3, 4)
#: msgSecCheck v2 answers only for an openid that visited the mini-program in the last two hours; otherwise
#: errcode 61010 (用户访问记录超时), whose errmsg WeChat words "code is expired". A visit, here, is a login
#: (jscode2session): the one sign of a user opening the mini-program the stand-in sees.
VISIT_WINDOW_SECONDS = 2 * 3600
VISIT_EXPIRED = (61010, "code is expired")

_DEV_CODE_RE = re.compile(r"dev:(?P<name>[A-Za-z0-9_.-]{1,64})(?P<nonce>#.+)?")
_OPENID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PHONE_RE = re.compile(r"1\d{10}")

_SUBSCRIBE_STATES = ("developer", "trial", "formal")
_SUBSCRIBE_LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")

# Content moderation: keyword -> (suggest, label).
_RISKY_KEYWORD = "违禁"
_REVIEW_KEYWORD = "待审"
_LABEL_NORMAL = 100
_LABEL_ILLEGAL = 20006
_LABEL_OTHER = 21000


def fake_openid(name: str) -> str:
    """Return the stable fake openid (28 chars, like real ones) for a dev login name."""
    return "o" + hashlib.sha256(b"tongxin-dev:" + name.encode("utf-8")).hexdigest()[:27]


def fake_unionid(name: str) -> str:
    """Return the stable fake unionid for a dev login name."""
    return "u" + hashlib.sha256(b"tongxin-dev-unionid:" + name.encode("utf-8")).hexdigest()[:27]


def _check_template(template_id: Any, keywords: Any) -> None:
    """A template as the console has it: an id, and keywords each a type and a number, none twice."""
    if not isinstance(template_id, str) or not _OPENID_RE.fullmatch(template_id):
        raise ValueError("template_id must be letters, digits, - and _")
    if (
        not isinstance(keywords, (list, tuple))
        or not keywords
        or len(set(keywords)) != len(keywords)
        or not all(keyword_type(keyword) for keyword in keywords)
    ):
        raise ValueError(
            f"keywords must be distinct keywords of the types {', '.join(SUBSCRIBE_KEYWORD_TYPES)}"
            " with their numbers (thing27, time4)"
        )


class Services:
    """The endpoints a mini-program's backend calls besides the tokens, and their test controls."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """A snapshot of the accepted subscribe messages, oldest first."""
        with self._lock:
            return copy.deepcopy(self._messages)

    @property
    def content_checks(self) -> list[dict[str, Any]]:
        """The well-formed content checks asked, oldest first: openid, scene, content, and the errcode answered
        (0, or 61010 for a user who has not visited within two hours) with the verdict (``suggest``, or None)."""
        with self._lock:
            return copy.deepcopy(self._content_checks)

    @property
    def wxacodes(self) -> list[dict[str, Any]]:
        """The mini-program codes made, oldest first: scene, page, env_version, check_path, is_hyaline and the
        content type answered (also ``GET /__dev/wxacodes``)."""
        with self._lock:
            return copy.deepcopy(self._wxacodes)

    def issue_phone_code(self, phone: str) -> str:
        """Mint a one-time code that getuserphonenumber resolves to ``phone``."""
        if not isinstance(phone, str) or not _PHONE_RE.fullmatch(phone):
            raise ValueError("phone must be 11 digits starting with 1")
        code = secrets.token_hex(32)
        with self._lock:
            self._phone_codes[code] = phone
        return code

    def set_no_quota(self, touser: str) -> None:
        """Make subscribe messages to ``touser`` fail with 43101 (no subscription left)."""
        if not _is_non_empty_str(touser):
            raise ValueError("touser must be a non-empty string")
        with self._lock:
            self._no_quota.add(touser)

    def register_template(self, template_id: str, keywords: tuple[str, ...] | list[str]) -> None:
        """Add (or replace) a template the mini-program uses: its id and its keywords (``thing27``, ``time4`` …),
        as WeChat's console shows them under 我的模板."""
        _check_template(template_id, keywords)
        with self._lock:
            self._templates[template_id] = tuple(keywords)

    @property
    def templates(self) -> dict[str, tuple[str, ...]]:
        """A snapshot of the registered templates: id -> keywords."""
        with self._lock:
            return dict(self._templates)

    def add_accepts(self, touser: str, template_ids: list[str]) -> None:
        """What ``wx.requestSubscribeMessage`` reports accepted: one send more per id (an id twice, two)."""
        if not isinstance(touser, str) or not _OPENID_RE.fullmatch(touser):
            raise ValueError("touser must be an openid")
        if not isinstance(template_ids, list) or not all(_is_non_empty_str(t) for t in template_ids):
            raise ValueError("template_ids must be a list of template ids")
        with self._lock:
            unknown = sorted(set(template_ids) - set(self._templates))
            if unknown:
                raise ValueError(f"unknown template ids: {', '.join(unknown)}")
            for template_id in template_ids:
                key = (touser, template_id)
                self._accepts[key] = self._accepts.get(key, 0) + 1

    def accepts(self, touser: str) -> dict[str, int]:
        """The sends left of ``touser``'s counted accepts, per template id."""
        with self._lock:
            return {tid: n for (user, tid), n in self._accepts.items() if user == touser}

    def _jscode2session(self, query: dict[str, str], _body: dict[str, Any]) -> _Response:
        self._check_credentials(query.get("appid"), query.get("secret"))
        grant_type = query.get("grant_type", "authorization_code")
        if grant_type != "authorization_code":
            raise _WeChatError(40002, "invalid grant_type")
        code = query.get("js_code", "")
        if not code:
            raise _WeChatError(41008, "missing code")
        match = _DEV_CODE_RE.fullmatch(code)
        if match is None:
            raise _WeChatError(40029, "invalid code")
        if match.group("nonce") is not None:
            with self._lock:
                if code in self._used_codes:
                    raise _WeChatError(40163, "code been used")
                self._used_codes.add(code)
        name = match.group("name")
        with self._lock:
            self._visits[fake_openid(name)] = self.clock()
        return _json_response(
            {
                "openid": fake_openid(name),
                "session_key": base64.b64encode(secrets.token_bytes(16)).decode("ascii"),
                "unionid": fake_unionid(name),
            }
        )

    def _msg_sec_check(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        content = body.get("content")
        scene = body.get("scene")
        if (
            not isinstance(content, str)
            or body.get("version") != 2
            or not _is_int(body.get("version"))
            or not _is_int(scene)
            or scene not in MSG_SEC_CHECK_SCENES
            or not _is_non_empty_str(body.get("openid"))
        ):
            raise _data_format_error()
        if _RISKY_KEYWORD in content:
            suggest, label, keyword = "risky", _LABEL_ILLEGAL, _RISKY_KEYWORD
        elif _REVIEW_KEYWORD in content:
            suggest, label, keyword = "review", _LABEL_OTHER, _REVIEW_KEYWORD
        else:
            suggest, label, keyword = "pass", _LABEL_NORMAL, None
        with self._lock:
            visited = self._visits.get(body["openid"])
            stale = visited is None or self.clock() - visited > VISIT_WINDOW_SECONDS
            self._content_checks.append({"openid": body["openid"], "scene": scene, "content": content,
                                         "errcode": VISIT_EXPIRED[0] if stale else 0,
                                         "suggest": None if stale else suggest})
        if stale:
            raise _WeChatError(*VISIT_EXPIRED)

        detail: list[dict[str, Any]] = [
            {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label,
             "prob": 90 if keyword else 0},
        ]
        if keyword:
            detail.append(
                {"strategy": "keyword", "errcode": 0, "suggest": suggest, "label": label,
                 "level": 20, "keyword": keyword}
            )
        trace_id = "-".join(secrets.token_hex(4) for _ in range(3))
        return _json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "result": {"suggest": suggest, "label": label},
                "detail": detail,
                "trace_id": trace_id,
            }
        )

    def _get_user_phone_number(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        code = body.get("code")
        with self._lock:
            phone = self._phone_codes.pop(code, None) if isinstance(code, str) else None
        if phone is None:
            raise _WeChatError(40029, "invalid code")
        return _json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": phone,
                    "purePhoneNumber": phone,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": self.appid},
                },
            }
        )

    def _get_wxa_code_unlimit(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        """As WeChat: a JPEG (``image/jpeg``), or a PNG with a transparent background when ``is_hyaline``; refused
        with 40169 for a scene over 32 characters, 40129 for other characters than WeChat allows, 40097 for an
        ``env_version`` not release/trial/develop, 41030 for a malformed page or, with ``check_path`` (default
        true), one the mini-program does not have (``pages``). Each code is recorded (``wxacodes``)."""
        scene = body.get("scene")
        if not _is_non_empty_str(scene) or len(scene) > MAX_SCENE_LENGTH:
            raise _WeChatError(40169, "invalid length for scene, or the data is not json string")
        if not _SCENE_RE.fullmatch(scene):
            raise _WeChatError(40129, "invalid scene")
        env_version = body.get("env_version", "release")
        if env_version not in WXACODE_ENV_VERSIONS:
            raise _WeChatError(40097, "invalid args")
        check_path, is_hyaline = body.get("check_path", True), body.get("is_hyaline", False)
        if not isinstance(check_path, bool):
            raise _argument_invalid("check_path")
        if not isinstance(is_hyaline, bool):
            raise _argument_invalid("is_hyaline")
        page = body.get("page")
        if page is not None and (not isinstance(page, str) or not _PAGE_RE.fullmatch(page)
                                 or (check_path and page not in self.pages)):
            raise _WeChatError(41030, "invalid page")
        content_type = "image/png" if is_hyaline else "image/jpeg"
        with self._lock:
            self._wxacodes.append({"scene": scene, "page": page, "env_version": env_version,
                                   "check_path": check_path, "is_hyaline": is_hyaline,
                                   "content_type": content_type, "received_at": _utc_now_iso()})
        seed = scene.encode("utf-8")
        image = _render_png(seed, hyaline=True) if is_hyaline else _render_jpeg(seed)
        return _Response(200, image, content_type)

    def _subscribe_send(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        touser = body.get("touser")
        if not isinstance(touser, str) or not _OPENID_RE.fullmatch(touser):
            raise _WeChatError(40003, "invalid openid")
        template_id = body.get("template_id")
        with self._lock:
            keywords = self._templates.get(template_id) if isinstance(template_id, str) else None
        if keywords is None:
            raise _WeChatError(40037, "invalid template_id")
        page = body.get("page")
        if page is not None and not isinstance(page, str):
            raise _argument_invalid("page")
        if page and page.split("?", 1)[0] not in self.pages:
            raise _WeChatError(41030, "invalid page")
        if body.get("miniprogram_state", "formal") not in _SUBSCRIBE_STATES:
            raise _argument_invalid("miniprogram_state")
        if body.get("lang", "zh_CN") not in _SUBSCRIBE_LANGS:
            raise _argument_invalid("lang")
        data = body.get("data")
        problem = subscribe_data_error(keywords, data)
        if problem is not None:
            raise _WeChatError(47003, problem)

        with self._lock:
            counted = (touser, template_id)
            if touser in self._no_quota or (
                (counted in self._accepts or self.strict_accepts) and self._accepts.get(counted, 0) < 1
            ):
                raise _WeChatError(43101, "user refuse to accept the msg")
            if counted in self._accepts:
                self._accepts[counted] -= 1
            msgid = self._next_msgid
            self._next_msgid += 1
            self._messages.append(
                {
                    "touser": touser,
                    "template_id": template_id,
                    "page": page,
                    "data": copy.deepcopy(data),
                    "received_at": _utc_now_iso(),
                    "msgid": msgid,
                }
            )
        return _json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})
