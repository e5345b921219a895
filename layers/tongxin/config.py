"""Configuration from the environment, with embedded defaults for the local stack.

Nothing secret has a default that could reach production: the stage must be named, and only the ``dev`` and
``test`` stages (never inside Lambda) fall back to embedded development values; see ``load_settings``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

DEV_STAGES = ("dev", "test")


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
    # Signs check-in codes (domain/checkin.py); a separate key, so rotating it does not sign everyone out.
    checkin_secret: str = field(default="", repr=False)
    wechat_checkin_page: str = "pages/checkin/index"
    token_ttl_seconds: int = 7200
    idempotency_ttl_seconds: int = 24 * 3600
    # Timeout (s) for DynamoDB calls: a hung connection must not eat the whole Lambda budget.
    dynamodb_timeout_seconds: float = 5.0
    # Subscribe messages (订阅消息): kind → the template id this deployment chose in WeChat's console; a kind left
    # out is recorded ``skipped`` (no_template). The local stack and the tests use ``tmpl_<kind>``.
    wechat_templates: dict = field(default_factory=lambda: dev_templates())
    miniprogram_state: str = "developer"  # formal | trial | developer: which version a message opens
    wechat_lang: str = "zh_CN"

    @property
    def is_dev(self) -> bool:
        return self.stage in DEV_STAGES

    def table_name(self, name: str) -> str:
        return f"{self.table_prefix}-{name}"


def _opt(env: dict, key: str, default: str | None) -> str | None:
    value = env.get(key, default)
    return value or None


DEV_TOKEN_SECRET = "tongxin-dev-only-signing-key-not-for-production"
DEV_CHECKIN_SECRET = "tongxin-dev-only-check-in-key-not-for-production"
MIN_SECRET_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The deployment is misconfigured: refuse to start rather than run with a guessable key."""


def load_settings(env: dict | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment). Fails closed.

    ``TONGXIN_STAGE`` must be set. Only the ``dev`` and ``test`` stages (the local stack and the tests) have
    embedded defaults: the development signing key, the local DynamoDB and the WeChat stand-in. Those stages are
    refused inside AWS Lambda. Any other stage needs ``TOKEN_SECRET`` and ``CHECKIN_SECRET`` (≥ 32 characters, not
    the development keys, not the same) and real WeChat credentials. Real WeChat is used when ``WECHAT_APPID``/``WECHAT_SECRET`` are set and
    ``WECHAT_BASE_URL`` is not.
    """
    env = dict(os.environ if env is None else env)
    defaults = Settings()
    stage = env.get("TONGXIN_STAGE", "").strip()
    if not stage:
        raise ConfigurationError("TONGXIN_STAGE is not set: use dev/test only for the local stack and the tests")
    dev = stage in DEV_STAGES
    if dev and env.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise ConfigurationError(f"stage {stage!r} is for the local stack and the tests, never for Lambda")
    token_secret = env.get("TOKEN_SECRET", "")
    if not dev:
        if len(token_secret) < MIN_SECRET_LENGTH or token_secret == DEV_TOKEN_SECRET:
            raise ConfigurationError(f"TOKEN_SECRET must be set to a random value of at least {MIN_SECRET_LENGTH} "
                                     "characters outside the dev and test stages")
        checkin_secret = env.get("CHECKIN_SECRET", "")
        if len(checkin_secret) < MIN_SECRET_LENGTH or checkin_secret in (DEV_CHECKIN_SECRET, token_secret):
            raise ConfigurationError(f"CHECKIN_SECRET must be set to a random value of at least {MIN_SECRET_LENGTH} "
                                     "characters, other than TOKEN_SECRET, outside the dev and test stages")
        if not (env.get("WECHAT_APPID") and env.get("WECHAT_SECRET")):
            raise ConfigurationError("WECHAT_APPID and WECHAT_SECRET must be set outside the dev and test stages")
    else:
        token_secret = token_secret or DEV_TOKEN_SECRET
        checkin_secret = env.get("CHECKIN_SECRET") or DEV_CHECKIN_SECRET
    real_wechat = bool(env.get("WECHAT_APPID") and env.get("WECHAT_SECRET")) and "WECHAT_BASE_URL" not in env
    dev_base_url = defaults.wechat_base_url if dev else None
    wechat_base_url = None if real_wechat else _opt(env, "WECHAT_BASE_URL", dev_base_url)
    if wechat_base_url and not wechat_base_url.endswith("/"):
        wechat_base_url += "/"
    return Settings(
        stage=stage,
        table_prefix=env.get("TABLE_PREFIX", f"tongxin-{stage}"),
        aws_region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", defaults.aws_region)),
        dynamodb_endpoint=_opt(env, "DYNAMODB_ENDPOINT", defaults.dynamodb_endpoint if dev else None),
        wechat_base_url=wechat_base_url,
        wechat_appid=env.get("WECHAT_APPID", defaults.wechat_appid),
        wechat_secret=env.get("WECHAT_SECRET", defaults.wechat_secret),
        wechat_timeout_seconds=float(env.get("WECHAT_TIMEOUT_SECONDS", defaults.wechat_timeout_seconds)),
        wechat_invite_page=env.get("WECHAT_INVITE_PAGE", defaults.wechat_invite_page),
        token_secret=token_secret,
        checkin_secret=checkin_secret,
        wechat_checkin_page=env.get("WECHAT_CHECKIN_PAGE", defaults.wechat_checkin_page),
        token_ttl_seconds=int(env.get("TOKEN_TTL_SECONDS", defaults.token_ttl_seconds)),
        dynamodb_timeout_seconds=float(env.get("DYNAMODB_TIMEOUT_SECONDS", defaults.dynamodb_timeout_seconds)),
        wechat_templates=_templates(env.get("WECHAT_TEMPLATES"), dev),
        miniprogram_state=_choice(env, "WECHAT_MINIPROGRAM_STATE", "developer" if dev else "formal",
                                  ("formal", "trial", "developer")),
        wechat_lang=_choice(env, "WECHAT_LANG", "zh_CN", ("zh_CN", "en_US", "zh_HK", "zh_TW")),
    )


def _choice(env: dict, key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(key) or default
    if value not in allowed:
        raise ConfigurationError(f"{key} must be one of {', '.join(allowed)}")
    return value


def dev_templates() -> dict:
    """The local stack's and the tests' template ids: one per kind, ``tmpl_<kind>`` (the stand-in takes any)."""
    from .domain.push import KINDS
    return {kind: f"tmpl_{kind}" for kind in KINDS}


def _templates(raw: str | None, dev: bool) -> dict:
    """``WECHAT_TEMPLATES``: a JSON object, message kind → template id. An unknown kind or a malformed value stops
    the start (a typo would silently skip every message of that kind); kinds left out are skipped when sent."""
    import json
    from .domain.push import KINDS
    if not raw:
        return dev_templates() if dev else {}
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise ConfigurationError("WECHAT_TEMPLATES must be a JSON object: message kind → template id") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) and v.strip() for v in mapping.values()):
        raise ConfigurationError("WECHAT_TEMPLATES must map each message kind to a template id (text)")
    unknown = sorted(set(mapping) - set(KINDS))
    if unknown:
        raise ConfigurationError(f"WECHAT_TEMPLATES names unknown message kinds: {', '.join(unknown)}")
    return {kind: value.strip() for kind, value in mapping.items()}
