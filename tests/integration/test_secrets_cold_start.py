"""A deployed function's cold start with its secrets in SSM, as built: the layer ``sam build`` makes, in the runtime's
interpreter with nothing from the development environment (``infra/proof/built_handler.py``), configured as the template
configures a deployed stage — ``SECRETS_SSM_PREFIX``, no secret in the environment — against moto's server (SSM and
DynamoDB over HTTP; botocore's own ``AWS_ENDPOINT_URL_SSM``) and a WeChat stand-in that checks the AppSecret.

It proves what in-process tests cannot: the runtime requirements alone read SSM, the WeChat secret read there is
the one WeChat gets, a missing parameter fails the import of the handler (Lambda's init) naming it, and after an
AppSecret reset (微信公众平台) logins fail until the new secret is in SSM and the containers are new.
"""
from __future__ import annotations

import json
import os
import subprocess
import uuid

import botocore.session
import jwt
import pytest

from tests.built import layer, moto_server as aws, run_built, runtime_python  # noqa: F401 (fixtures)
from infra.local.wechat_standin import WeChatStandIn

pytestmark = pytest.mark.e2e  # real servers and subprocesses: make test's second run, without in-process moto

REGION = "cn-north-1"
APPID = "wxsecretsappid"
TOKEN, CHECKIN = "T" * 16 + uuid.uuid4().hex, "C" * 16 + uuid.uuid4().hex
WECHAT_OLD, WECHAT_NEW = uuid.uuid4().hex, uuid.uuid4().hex


@pytest.fixture(scope="module")
def standin():
    server = WeChatStandIn(appid=APPID, secret=WECHAT_OLD).start()
    yield server
    server.stop()


@pytest.fixture
def ssm(aws):
    return botocore.session.get_session().create_client(
        "ssm", region_name=REGION, endpoint_url=aws.url, aws_access_key_id="testing",
        aws_secret_access_key="testing")


def deployed_env(aws, standin, prefix: str, table_prefix: str) -> dict[str, str]:
    """A deployed stage's function environment (no secret in it), pointed at the local servers."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TONGXIN_STAGE": "prod",
            "SECRETS_SSM_PREFIX": prefix, "AWS_LAMBDA_FUNCTION_NAME": "tongxin-prod-api",
            "AWS_ENDPOINT_URL_SSM": aws.url, "DYNAMODB_ENDPOINT": aws.url, "TABLE_PREFIX": table_prefix,
            "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "WECHAT_APPID": APPID, "WECHAT_BASE_URL": standin.base_url,
            "QR_LINK_BASE": "https://tongxin.example.cn", "POWERTOOLS_LOG_LEVEL": "WARNING"}


def login_step(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    return next(step for step in json.loads(done.stdout.splitlines()[-1]) if step["step"] == "login")


def put(ssm, prefix: str, **values: str | None) -> None:
    for key, value in values.items():
        name = prefix + key.replace("_", "-")
        if value is None:
            ssm.delete_parameter(Name=name)
        else:
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def test_the_built_function_runs_on_secrets_from_ssm_and_fails_closed_without_one(runtime_python, layer, aws,
                                                                                   standin, ssm):
    prefix, tables = f"/tongxin-{uuid.uuid4().hex[:8]}/prod/", f"ssm-{uuid.uuid4().hex[:8]}"
    env = deployed_env(aws, standin, prefix, tables)
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT_OLD)
    login = login_step(run_built(runtime_python, layer, "story", env))
    assert login["status"] == 200, login  # WeChat (the stand-in) took the AppSecret read from SSM
    claims = jwt.decode(login["body"]["token"], TOKEN, algorithms=["HS256"], issuer="tongxin")
    assert claims["sub"] == login["body"]["user"]["id"]  # signed with the key read from SSM

    put(ssm, prefix, checkin_secret=None)
    refused = run_built(runtime_python, layer, "health-first", env)
    assert refused.returncode != 0  # the handler's import fails: Lambda's init error, before any request
    assert "ConfigurationError" in refused.stderr and f"{prefix}checkin-secret is missing" in refused.stderr
    for value in (TOKEN, CHECKIN, WECHAT_OLD):
        assert value not in refused.stdout + refused.stderr

    # a secret put back in the environment is refused, not used
    put(ssm, prefix, checkin_secret=CHECKIN)
    mixed = run_built(runtime_python, layer, "health-first", {**env, "TOKEN_SECRET": "e" * 40})
    assert mixed.returncode != 0 and "TOKEN_SECRET must not be set together with SECRETS_SSM_PREFIX" in mixed.stderr


def test_after_an_appsecret_reset_logins_fail_until_the_new_secret_is_in_ssm(runtime_python, layer, aws, standin,
                                                                           ssm):
    prefix, tables = f"/tongxin-{uuid.uuid4().hex[:8]}/prod/", f"ssm-{uuid.uuid4().hex[:8]}"
    env = deployed_env(aws, standin, prefix, tables)
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT_OLD)
    standin.secret = WECHAT_NEW  # reset on 微信公众平台: the old AppSecret stops at once
    try:
        stale = login_step(run_built(runtime_python, layer, "story", env))
        assert (stale["status"], stale["body"]["error"]["code"]) == (503, "UPSTREAM_UNAVAILABLE"), stale
        put(ssm, prefix, wechat_secret=WECHAT_NEW)  # the operator puts the new one; new containers read it
        fresh = login_step(run_built(runtime_python, layer, "story", env))
        assert fresh["status"] == 200, fresh
    finally:
        standin.secret = WECHAT_OLD
