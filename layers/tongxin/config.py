"""Configuration from the environment, with embedded defaults for the local stack.

Nothing secret has a default that could reach production: the token signing key defaults to a
development value only when the stage is ``dev``/``test``; any other stage must set it.
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
    token_ttl_seconds: int = 7200
    idempotency_ttl_seconds: int = 24 * 3600
    # Timeout (s) for DynamoDB calls: a hung connection must not eat the whole Lambda budget.
    dynamodb_timeout_seconds: float = 5.0

    @property
    def is_dev(self) -> bool:
        return self.stage in DEV_STAGES

    def table_name(self, name: str) -> str:
        return f"{self.table_prefix}-{name}"


def _opt(env: dict, key: str, default: str | None) -> str | None:
    value = env.get(key, default)
    return value or None


def load_settings(env: dict | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment).

    Real WeChat is used when ``WECHAT_APPID``/``WECHAT_SECRET`` are set and ``WECHAT_BASE_URL`` is not;
    otherwise the local stand-in's address is the default.
    """
    env = dict(os.environ if env is None else env)
    defaults = Settings()
    stage = env.get("TONGXIN_STAGE", defaults.stage)
    real_wechat = bool(env.get("WECHAT_APPID") and env.get("WECHAT_SECRET")) and "WECHAT_BASE_URL" not in env
    dev_base_url = defaults.wechat_base_url if stage in DEV_STAGES else None
    wechat_base_url = None if real_wechat else _opt(env, "WECHAT_BASE_URL", dev_base_url)
    if wechat_base_url and not wechat_base_url.endswith("/"):
        wechat_base_url += "/"
    token_secret = env.get("TOKEN_SECRET", "")
    if not token_secret:
        if stage not in DEV_STAGES:
            raise RuntimeError("TOKEN_SECRET must be set outside the dev and test stages")
        token_secret = "tongxin-dev-only-signing-key-not-for-production"
    return Settings(
        stage=stage,
        table_prefix=env.get("TABLE_PREFIX", f"tongxin-{stage}"),
        aws_region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", defaults.aws_region)),
        dynamodb_endpoint=_opt(env, "DYNAMODB_ENDPOINT", defaults.dynamodb_endpoint if stage in DEV_STAGES else None),
        wechat_base_url=wechat_base_url,
        wechat_appid=env.get("WECHAT_APPID", defaults.wechat_appid),
        wechat_secret=env.get("WECHAT_SECRET", defaults.wechat_secret),
        wechat_timeout_seconds=float(env.get("WECHAT_TIMEOUT_SECONDS", defaults.wechat_timeout_seconds)),
        wechat_invite_page=env.get("WECHAT_INVITE_PAGE", defaults.wechat_invite_page),
        token_secret=token_secret,
        token_ttl_seconds=int(env.get("TOKEN_TTL_SECONDS", defaults.token_ttl_seconds)),
        dynamodb_timeout_seconds=float(env.get("DYNAMODB_TIMEOUT_SECONDS", defaults.dynamodb_timeout_seconds)),
    )
