"""The secrets of ``Settings`` and where they come from (``config.load_settings`` calls ``load``).

SSM Parameter Store under ``SECRETS_SSM_PREFIX`` (adapters/secrets.py: one GetParameters per container), or the
environment where there is no prefix (the local stack, the tests, an operator's shell); outside the dev and test
stages each signing key must meet the rules of ``_check_keys``. docs/operations.md, "Secrets and rotation", is the
operator's side. A refusal is ``SecretsRefused``, which ``load_settings`` raises as ``ConfigurationError``: its
message names the variable or parameter, never a value.
"""
from __future__ import annotations

import re

DEV_TOKEN_SECRET = "tongxin-dev-only-signing-key-not-for-production"
DEV_CHECKIN_SECRET = "tongxin-dev-only-check-in-key-not-for-production"
MIN_SECRET_LENGTH = 32


class SecretsRefused(ValueError):
    """A secret is missing, weak, misplaced or unreadable (the message names it)."""


# Each secret: its environment variable (dev, test, an operator's shell) and its SSM parameter under the prefix.
SECRET_VARIABLES = {"TOKEN_SECRET": "token-secret", "TOKEN_SECRET_PREVIOUS": "token-secret-previous",
                    "CHECKIN_SECRET": "checkin-secret", "CHECKIN_SECRET_PREVIOUS": "checkin-secret-previous",
                    "WECHAT_SECRET": "wechat-secret"}
_SSM_PREFIX = re.compile(r"(/[A-Za-z0-9_.-]+)+/")


def load(env: dict, dev: bool, region: str) -> dict:
    """The secrets, from ONE place: SSM Parameter Store when ``SECRETS_SSM_PREFIX`` is set (adapters/secrets.py: one
    GetParameters per container), else the environment. Inside Lambda outside dev/test the prefix is required: a
    secret in a function's environment is readable by anyone who may read its configuration, so it is refused there;
    the environment path is for the local stack, the tests and an operator's own shell. A secret in the environment
    together with the prefix is refused everywhere (which one would win is a guess)."""
    prefix = (env.get("SECRETS_SSM_PREFIX") or "").strip()
    in_env = sorted(variable for variable in SECRET_VARIABLES if env.get(variable))
    if prefix:
        if not _SSM_PREFIX.fullmatch(prefix):
            raise SecretsRefused("SECRETS_SSM_PREFIX must be a parameter path that begins and ends with /, "
                                 "such as /tongxin/prod/")
        if in_env:
            raise SecretsRefused(f"{', '.join(in_env)} must not be set together with SECRETS_SSM_PREFIX: the "
                                 "secrets are read from SSM Parameter Store, none from the environment")
        from .adapters import secrets as ssm
        try:
            values = ssm.read(prefix, region)
        except ssm.SecretsUnavailable as exc:
            raise SecretsRefused(str(exc)) from None
        raw = {variable: values.get(name) for variable, name in SECRET_VARIABLES.items()}
        labels = {variable: f"SSM parameter {prefix}{name}" for variable, name in SECRET_VARIABLES.items()}
    else:
        if not dev and env.get("AWS_LAMBDA_FUNCTION_NAME"):
            raise SecretsRefused("SECRETS_SSM_PREFIX must be set in Lambda outside the dev and test stages: the "
                                 "secrets are read from SSM Parameter Store, never from the function's "
                                 "environment")
        raw = {variable: env.get(variable) or None for variable in SECRET_VARIABLES}
        labels = {variable: variable for variable in SECRET_VARIABLES}
    if dev:
        raw["TOKEN_SECRET"] = raw["TOKEN_SECRET"] or DEV_TOKEN_SECRET
        raw["CHECKIN_SECRET"] = raw["CHECKIN_SECRET"] or DEV_CHECKIN_SECRET
    else:
        try:
            _check_keys(raw, labels)
        except SecretsRefused:
            if prefix:  # not kept: once the parameter is fixed, the next start reads it again
                ssm.forget()
            raise
    return {"token_secret": raw["TOKEN_SECRET"], "token_secret_previous": raw["TOKEN_SECRET_PREVIOUS"],
            "checkin_secret": raw["CHECKIN_SECRET"], "checkin_secret_previous": raw["CHECKIN_SECRET_PREVIOUS"],
            "wechat_secret": raw["WECHAT_SECRET"]}


def _check_keys(raw: dict, labels: dict) -> None:
    """Outside dev/test each signing key is random-looking (≥ MIN_SECRET_LENGTH), not a development key, and used
    for one purpose: one leaked key must not give both tokens and check-in codes. Messages name, never show."""
    strong = f"must be set to a random value of at least {MIN_SECRET_LENGTH} characters"
    token, checkin = raw["TOKEN_SECRET"] or "", raw["CHECKIN_SECRET"] or ""
    if len(token) < MIN_SECRET_LENGTH or token == DEV_TOKEN_SECRET:
        raise SecretsRefused(f"{labels['TOKEN_SECRET']} {strong} outside the dev and test stages")
    if len(checkin) < MIN_SECRET_LENGTH or checkin in (DEV_CHECKIN_SECRET, token):
        raise SecretsRefused(f"{labels['CHECKIN_SECRET']} {strong}, other than {labels['TOKEN_SECRET']}, "
                             "outside the dev and test stages")
    previous = {"TOKEN_SECRET_PREVIOUS": ("TOKEN_SECRET", DEV_TOKEN_SECRET),
                "CHECKIN_SECRET_PREVIOUS": ("CHECKIN_SECRET", DEV_CHECKIN_SECRET)}
    for variable, (current, dev_key) in previous.items():
        value = raw[variable]
        if value is None:
            continue
        others = {raw[name] for name in ("TOKEN_SECRET", "CHECKIN_SECRET", "TOKEN_SECRET_PREVIOUS",
                                         "CHECKIN_SECRET_PREVIOUS") if name != variable}
        if len(value) < MIN_SECRET_LENGTH or value == dev_key or value in others:
            raise SecretsRefused(f"{labels[variable]} {strong}, other than {labels[current]} and the other "
                                 "keys (or be deleted once its grace period is over)")
