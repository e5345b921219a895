"""Configuration from the environment, with embedded defaults for the local stack.

Nothing secret has a default that could reach production: the stage must be named, and only the ``dev`` and
``test`` stages (never inside Lambda) fall back to embedded development values; see ``load_settings``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .config_secrets import (DEV_CHECKIN_SECRET, DEV_TOKEN_SECRET, MIN_SECRET_LENGTH,  # noqa: F401 (re-exported)
                             SECRET_VARIABLES, SecretsRefused)
from .config_secrets import load as load_secrets

DEV_STAGES = ("dev", "test")
# The verification file of the local stack and the tests (普通链接二维码; a deployment's comes from WeChat's console).
DEV_QR_VERIFY_FILE = ("tongxin-dev-verify.txt", "tongxin-dev-verify-file")
# WECHAT_MINIPROGRAM_STATE → getwxacodeunlimit's env_version: the version a mini-program code opens.
ENV_VERSIONS = {"formal": "release", "trial": "trial", "developer": "develop"}


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    table_prefix: str = "tongxin-dev"
    aws_region: str = "cn-north-1"
    # None = the real DynamoDB endpoint of the region; the local stack points this at moto.
    dynamodb_endpoint: str | None = "http://127.0.0.1:8002"
    # WeChat: base URL of the server API. None = real WeChat (https://api.weixin.qq.com/).
    wechat_base_url: str | None = "http://127.0.0.1:8081/"
    wechat_appid: str = "wxdevappid"
    wechat_secret: str = field(default="devsecret", repr=False)
    wechat_timeout_seconds: float = 3.0
    # Mini-program page opened by invite and check-in codes.
    wechat_invite_page: str = "pages/join/index"
    token_secret: str = field(default="", repr=False)
    # The key before the last rotation (docs/operations.md, "Secrets and rotation"): still accepted, never used to
    # sign, until the operator deletes it after the grace period.
    token_secret_previous: str | None = field(default=None, repr=False)
    # Signs check-in codes (domain/checkin.py); a separate key, so rotating it does not sign everyone out.
    checkin_secret: str = field(default="", repr=False)
    checkin_secret_previous: str | None = field(default=None, repr=False)
    wechat_checkin_page: str = "pages/checkin/index"
    token_ttl_seconds: int = 7200
    idempotency_ttl_seconds: int = 24 * 3600
    # Timeout (s) for DynamoDB calls: a hung connection must not eat the whole Lambda budget.
    dynamodb_timeout_seconds: float = 5.0
    # Subscribe messages (订阅消息), from WECHAT_TEMPLATES: kind → the template id this deployment chose in WeChat's
    # console (a kind left out is recorded ``skipped``, no_template), and kind → {the template's keyword: our field}.
    # The local stack and the tests use ``tmpl_<kind>`` with the keywords of DEV_TEMPLATE_KEYWORDS.
    wechat_templates: dict = field(default_factory=lambda: dev_templates())
    wechat_template_keywords: dict = field(default_factory=lambda: dev_template_keywords())
    miniprogram_state: str = "developer"  # formal | trial | developer: which version a message opens
    wechat_lang: str = "zh_CN"
    # 普通链接二维码 (domain/links.py): the prefix of the links printed codes carry (<base>/c/<code>, /i/, /p/), so
    # WeChat's own scanner opens the mini-program; https outside dev/test. The local stack's is its API address.
    qr_link_base: str = "http://127.0.0.1:8000"
    # The file WeChat's console asks the link's domain to host: (name, content), or None (every name is 404).
    qr_verify_file: tuple[str, str] | None = DEV_QR_VERIFY_FILE
    # The staff console (管理后台, its scan-login): the mini-program page its login code opens, and the origin its
    # pages are served from (scheme://host[:port]) — a cookie-authenticated write must come from it (Origin). None
    # (dev and test only): the request's own Host. Outside dev/test always set: CONSOLE_ORIGIN, else QR_LINK_BASE's.
    wechat_console_login_page: str = "pages/console/login"
    console_origin: str | None = None

    @property
    def is_dev(self) -> bool:
        return self.stage in DEV_STAGES

    @property
    def token_secrets(self) -> tuple[str, ...]:
        """The keys a token (or a cursor, a console CSRF token) may be signed with: the current first."""
        return (self.token_secret,) + ((self.token_secret_previous,) if self.token_secret_previous else ())

    @property
    def checkin_secrets(self) -> tuple[str, ...]:
        """The keys a check-in code may be signed with: the current first (printed posters outlive a rotation)."""
        return (self.checkin_secret,) + ((self.checkin_secret_previous,) if self.checkin_secret_previous else ())

    @property
    def console_cookie_secure(self) -> bool:
        """The console's session cookie is ``Secure`` (https only) in every stage but the local stack's and the
        tests' (plain http on loopback): not a setting, so no deployment can turn it off."""
        return not self.is_dev

    @property
    def wxacode_env_version(self) -> str:
        """The version of the mini-program a mini-program code opens: the one pushed messages open, so a trial
        build's posters open the trial."""
        return ENV_VERSIONS[self.miniprogram_state]

    def table_name(self, name: str) -> str:
        return f"{self.table_prefix}-{name}"


def _opt(env: dict, key: str, default: str | None) -> str | None:
    value = env.get(key, default)
    return value or None


class ConfigurationError(RuntimeError):
    """The deployment is misconfigured: refuse to start rather than run with a guessable key."""


def load_settings(env: dict | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment). Fails closed.

    ``TONGXIN_STAGE`` must be set. Only the ``dev`` and ``test`` stages (the local stack and the tests) have
    embedded defaults: the development signing key, the local DynamoDB and the WeChat stand-in. Those stages are
    refused inside AWS Lambda. Any other stage needs the token and check-in keys (≥ 32 characters, not the
    development keys, not the same) and real WeChat credentials: from SSM under ``SECRETS_SSM_PREFIX`` (required in
    Lambda), else ``TOKEN_SECRET``, ``CHECKIN_SECRET``, ``WECHAT_SECRET`` (``config_secrets``). Real WeChat is used
    when the app id and secret are set and ``WECHAT_BASE_URL`` is not. ``QR_LINK_BASE`` (the https prefix of the
    links printed codes carry) is required there too; ``QR_VERIFY_FILE`` (WeChat's verification file,
    ``<name>.txt:<content>``) is optional.
    """
    env = dict(os.environ if env is None else env)
    defaults = Settings()
    stage = env.get("TONGXIN_STAGE", "").strip()
    if not stage:
        raise ConfigurationError("TONGXIN_STAGE is not set: use dev/test only for the local stack and the tests")
    dev = stage in DEV_STAGES
    if dev and env.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise ConfigurationError(f"stage {stage!r} is for the local stack and the tests, never for Lambda")
    region = env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", defaults.aws_region))
    try:
        secrets = load_secrets(env, dev, region)
    except SecretsRefused as exc:
        raise ConfigurationError(str(exc)) from None
    if not dev and not (env.get("WECHAT_APPID") and secrets["wechat_secret"]):
        raise ConfigurationError("WECHAT_APPID and WECHAT_SECRET must be set outside the dev and test stages")
    real_wechat = bool(env.get("WECHAT_APPID") and secrets["wechat_secret"]) and "WECHAT_BASE_URL" not in env
    dev_base_url = defaults.wechat_base_url if dev else None
    wechat_base_url = None if real_wechat else _opt(env, "WECHAT_BASE_URL", dev_base_url)
    if wechat_base_url and not wechat_base_url.endswith("/"):
        wechat_base_url += "/"
    return Settings(
        stage=stage,
        table_prefix=env.get("TABLE_PREFIX", f"tongxin-{stage}"),
        aws_region=region,
        dynamodb_endpoint=_opt(env, "DYNAMODB_ENDPOINT", defaults.dynamodb_endpoint if dev else None),
        wechat_base_url=wechat_base_url,
        wechat_appid=env.get("WECHAT_APPID", defaults.wechat_appid),
        wechat_secret=secrets.pop("wechat_secret") or defaults.wechat_secret,
        wechat_timeout_seconds=float(env.get("WECHAT_TIMEOUT_SECONDS", defaults.wechat_timeout_seconds)),
        wechat_invite_page=env.get("WECHAT_INVITE_PAGE", defaults.wechat_invite_page),
        **secrets,
        wechat_checkin_page=env.get("WECHAT_CHECKIN_PAGE", defaults.wechat_checkin_page),
        token_ttl_seconds=int(env.get("TOKEN_TTL_SECONDS", defaults.token_ttl_seconds)),
        dynamodb_timeout_seconds=float(env.get("DYNAMODB_TIMEOUT_SECONDS", defaults.dynamodb_timeout_seconds)),
        **_templates(env.get("WECHAT_TEMPLATES"), dev),
        miniprogram_state=_choice(env, "WECHAT_MINIPROGRAM_STATE", "developer" if dev else "formal",
                                  ("formal", "trial", "developer")),
        wechat_lang=_choice(env, "WECHAT_LANG", "zh_CN", ("zh_CN", "en_US", "zh_HK", "zh_TW")),
        qr_link_base=_link_base(env.get("QR_LINK_BASE"), dev, defaults.qr_link_base),
        qr_verify_file=_verify_file(env.get("QR_VERIFY_FILE"), dev, defaults.qr_verify_file),
        wechat_console_login_page=env.get("WECHAT_CONSOLE_LOGIN_PAGE", defaults.wechat_console_login_page),
        console_origin=_console_origin(env.get("CONSOLE_ORIGIN"), dev, env.get("QR_LINK_BASE")),
    )


def _choice(env: dict, key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(key) or default
    if value not in allowed:
        raise ConfigurationError(f"{key} must be one of {', '.join(allowed)}")
    return value


LINK_BASE_MAX = 200  # a link (base + /c/ + a 32-character code) stays within the request fields' 256
_LINK_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)*")
_VERIFY_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}\.txt")


def _plain_url(value: str, schemes: tuple[str, ...]):
    """``value`` split, if it is an address of one of ``schemes`` with a host and a valid port, and no user,
    password, query or fragment; else None."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return None
    if not (port_ok and parts.scheme.lower() in schemes and parts.hostname and not parts.username
            and not parts.password and not parts.query and not parts.fragment and "?" not in value
            and "#" not in value):
        return None
    return parts


def _link_base(raw: str | None, dev: bool, default: str) -> str:
    """``QR_LINK_BASE``: the prefix of the links printed codes carry (普通链接二维码, docs/checkins.md). Required
    outside the dev and test stages, and https there (WeChat's rule names the API's ICP-filed domain); http is
    for the local stack. Scheme and host are lower-cased and a trailing ``/`` dropped; no query, fragment or
    user, and a path of plain segments only (a base path mapping such as ``/api``)."""
    value = (raw or "").strip()
    if not value:
        if not dev:
            raise ConfigurationError("QR_LINK_BASE must be set outside the dev and test stages: the https address "
                                     "of this API (its ICP-filed domain) that printed codes link to")
        return default
    allowed = ("http", "https") if dev else ("https",)
    parts = _plain_url(value, allowed)
    path = parts.path.rstrip("/") if parts is not None else ""
    if parts is None or not _LINK_PATH.fullmatch(path):
        raise ConfigurationError(f"QR_LINK_BASE must be an {' or '.join(allowed)} address without query or "
                                 "fragment, such as https://tongxin.example.cn")
    base = f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
    if len(base) > LINK_BASE_MAX:
        raise ConfigurationError(f"QR_LINK_BASE must be at most {LINK_BASE_MAX} characters")
    return base


def _console_origin(raw: str | None, dev: bool, link_base: str | None) -> str | None:
    """``CONSOLE_ORIGIN``: the origin the staff console's pages are served from (``https://host[:port]``, no path),
    which a write authenticated by the console's cookie must name in its ``Origin`` header. Outside the dev and test
    stages it is always set (fails closed): unset, it is the origin of ``QR_LINK_BASE`` (the console lives on the
    API's own domain), which is required there. In dev and test, unset is None: the request's Host is compared."""
    value = (raw or "").strip()
    if not value:
        if dev:
            return None
        value = link_base or ""
        parts = urlsplit(value.strip())
        value = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    allowed = ("http", "https") if dev else ("https",)
    parts = _plain_url(value, allowed)
    if parts is None or parts.path not in ("", "/"):
        raise ConfigurationError(f"CONSOLE_ORIGIN must be an {' or '.join(allowed)} origin without path, such as "
                                 "https://tongxin.example.cn (unset: the origin of QR_LINK_BASE)")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _verify_file(raw: str | None, dev: bool, default: tuple[str, str] | None) -> tuple[str, str] | None:
    """``QR_VERIFY_FILE``: ``<name>.txt:<content>``, the verification file WeChat's console hands out for the link
    rules, served at ``/<name>`` and under each prefix (``/c/<name>``, ``/i/<name>``, ``/p/<name>``). Optional:
    unset (or empty) no name is served — the dev and test stages serve ``DEV_QR_VERIFY_FILE`` unless it is set
    empty. A malformed value stops the start (WeChat's check would fail later, far from the cause)."""
    if raw is None:
        return default if dev else None
    value = raw.strip()
    if not value:
        return None
    name, colon, content = value.partition(":")
    name, content = name.strip(), content.strip()
    if not colon or not _VERIFY_NAME.fullmatch(name) or not content or len(content) > 256 \
            or not content.isprintable():
        raise ConfigurationError("QR_VERIFY_FILE must be <name>.txt:<content>, the file name and the text of the "
                                 "verification file WeChat's console gives (one line)")
    return name, content


# The local stack's and the tests' templates: ``tmpl_<kind>`` with keywords as templates of WeChat's library have
# them (never the bare thing1/phrase2/time3/thing4), registered in the WeChat stand-in (infra/local/wechat_standin.py,
# DEV_TEMPLATES) with the same keywords, so every test that sends proves the keyword mapping.
_WISH_NEWS = {"thing9": "title", "phrase16": "state", "time4": "sent", "thing27": "note"}
_WISH_TASK = {"character_string1": "code", "thing2": "title", "phrase7": "state", "time9": "sent", "thing5": "note"}
_EVENT_NEWS = {"thing1": "title", "date2": "time", "thing8": "place", "phrase11": "state", "thing10": "note"}
_POINTS = {"character_string1": "points", "thing3": "title", "phrase5": "state", "time4": "sent"}
_REQUEST_TASK = {"character_string1": "code", "thing2": "title", "phrase3": "state", "time4": "time", "thing5": "note"}
DEV_TEMPLATE_KEYWORDS: dict[str, dict[str, str]] = {
    "wish_to_review": _WISH_TASK, "wish_overdue": _WISH_TASK,
    "wish_claimed": _WISH_NEWS, "wish_released": _WISH_NEWS, "wish_fulfilled": _WISH_NEWS,
    "wish_cancelled": _WISH_NEWS, "wish_expired": _WISH_NEWS,
    "wish_confirmed": {"thing9": "title", "phrase16": "state", "number5": "points", "time4": "sent"},
    "wish_reviewed": {"thing5": "title", "phrase2": "state", "time3": "sent", "thing4": "note"},
    "event_promoted": _EVENT_NEWS, "event_cancelled": _EVENT_NEWS,
    "event_changed": {"thing1": "title", "time6": "time", "thing8": "place", "phrase11": "state", "thing10": "note"},
    "event_reminder": {"thing3": "title", "time1": "time", "thing7": "place", "thing4": "note"},
    "checkin_unsettled": {"thing1": "title", "thing2": "state", "thing3": "note", "time4": "sent"},  # 打卡提醒
    "points_awarded": _POINTS, "award_reversed": _POINTS,
    "redemption_expiring": {"thing8": "title", "time12": "time", "character_string2": "code", "thing13": "note"},
    "redemption_expired": {"thing8": "title", "phrase3": "state", "number4": "points", "time5": "sent"},
    "request_new": _REQUEST_TASK, "request_escalated": _REQUEST_TASK, "request_reopened": _REQUEST_TASK,
    "request_overdue": _REQUEST_TASK, "request_extension_asked": _REQUEST_TASK,
    "request_extension_approved": _REQUEST_TASK, "request_extension_rejected": _REQUEST_TASK,
    "request_supervised": _REQUEST_TASK,
    "bulletin_ready": {"character_string1": "code", "thing2": "title", "phrase3": "state", "time4": "sent",
                       "thing5": "note"},
    "request_accepted": {"thing2": "title", "phrase3": "state", "name6": "name", "time7": "sent"},
    "unit_agreement_signed": {"thing1": "title", "phrase4": "state", "time2": "sent", "thing3": "note"},
    "unit_service_cards_ready": {"character_string1": "code", "thing2": "title", "phrase3": "state",
                                 "time4": "sent", "thing5": "note"},  # 报表生成通知, as the bulletin's
    "request_resolved": {"thing2": "title", "phrase3": "state", "time7": "sent", "thing5": "note"},
    "party_registration_submitted": {"thing2": "title", "phrase3": "state", "time7": "sent", "thing5": "note"},
    "party_registration_decided": {"thing5": "title", "phrase2": "state", "time3": "sent", "thing4": "note"},
    "certificate_decided": {"thing5": "title", "phrase2": "state", "time3": "sent", "thing4": "note"},  # 审核结果
    "post_full": _WISH_TASK,  # 待办事项提醒, as the grid's wish tasks
    "co_project_done": {"thing1": "title", "phrase4": "state", "time2": "sent", "thing3": "note"},
    "round_proposal_reviewed": {"thing5": "title", "phrase2": "state", "time3": "sent", "thing4": "note"},  # 审核结果
    "round_voting_open": {"thing6": "title", "phrase3": "state", "time2": "time", "thing5": "note"},  # 投票提醒
    "round_voting_reminder": {"thing6": "title", "phrase3": "state", "time2": "time", "thing5": "note"},
    "round_results": {"thing2": "title", "phrase5": "state", "time4": "sent", "thing3": "note"},  # 结果公示
}
_TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TEMPLATE_ENTRY_KEYS = {"id", "data", "title"}


def dev_templates() -> dict:
    """The local stack's and the tests' template ids: one per kind, ``tmpl_<kind>``."""
    from .domain.push import KINDS
    return {kind: f"tmpl_{kind}" for kind in KINDS}


def dev_template_keywords() -> dict:
    """The local stack's and the tests' keywords per kind (``DEV_TEMPLATE_KEYWORDS``), copies."""
    return {kind: dict(keywords) for kind, keywords in DEV_TEMPLATE_KEYWORDS.items()}


def _templates(raw: str | None, dev: bool) -> dict:
    """``WECHAT_TEMPLATES``: a JSON object, message kind → ``{"id": "<template id>", "data": {"<the template's
    keyword, e.g. thing7>": "<our field>"}}`` (an optional ``"title"``, the template's name, is for people). A bare
    template id is the format from before keywords were configurable: that template's keywords are thing1, phrase2,
    time3, thing4 (title, state, time, note). Checked here, so a mistake stops the start instead of failing or
    skipping every message of a kind: an unknown kind, a malformed entry or id, a keyword that is not one of
    WeChat's (``thing7``, ``phrase3``, ``character_string9`` …), an unknown field, a field the kind does not have,
    a keyword whose type cannot hold its field (``domain/push.TYPE_FIELDS``), and one template id given two
    different sets of keywords. Kinds left out are skipped when sent. Unset: the dev templates in dev and test,
    none elsewhere."""
    import json
    from .domain import push
    if not raw:
        if dev:
            return {"wechat_templates": dev_templates(), "wechat_template_keywords": dev_template_keywords()}
        return {"wechat_templates": {}, "wechat_template_keywords": {}}
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise ConfigurationError("WECHAT_TEMPLATES must be a JSON object: message kind → {\"id\": template id, "
                                 "\"data\": {keyword: field}}") from None
    if not isinstance(mapping, dict):
        raise ConfigurationError("WECHAT_TEMPLATES must be a JSON object: message kind → {\"id\": template id, "
                                 "\"data\": {keyword: field}}")
    unknown = sorted(set(mapping) - set(push.KINDS))
    if unknown:
        raise ConfigurationError(f"WECHAT_TEMPLATES names unknown message kinds: {', '.join(unknown)}")
    ids, keywords, problems = {}, {}, []
    for kind, entry in mapping.items():
        if isinstance(entry, str):
            entry = {"id": entry, "data": dict(push.LEGACY_KEYWORDS)}
        if not isinstance(entry, dict) or set(entry) - _TEMPLATE_ENTRY_KEYS or not {"id", "data"} <= set(entry):
            problems.append(f"{kind}: must be {{\"id\": template id, \"data\": {{keyword: field}}}}")
            continue
        template_id = entry["id"].strip() if isinstance(entry["id"], str) else None
        if not template_id or not _TEMPLATE_ID.fullmatch(template_id):
            problems.append(f"{kind}: id must be the template id from WeChat's console (letters, digits, - and _)")
            continue
        found = push.keyword_problems(kind, entry["data"])
        if found:
            problems += [f"{kind}.data: {problem}" for problem in found]
            continue
        ids[kind], keywords[kind] = template_id, dict(entry["data"])
    shared: dict[str, tuple[str, set]] = {}
    for kind, template_id in ids.items():
        first = shared.setdefault(template_id, (kind, set(keywords[kind])))
        if first[1] != set(keywords[kind]):
            problems.append(f"{kind}: template {template_id} has the keywords {', '.join(sorted(first[1]))} for "
                            f"{first[0]}: one template has one set of keywords")
    if problems:
        raise ConfigurationError("WECHAT_TEMPLATES: " + "; ".join(problems))
    return {"wechat_templates": ids, "wechat_template_keywords": keywords}
