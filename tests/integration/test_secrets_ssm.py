"""Secrets at run time from SSM Parameter Store (moto's SSM, in the China partition) and the token key's rotation.

What a deployed function does (issue 26): its only secret-related variable is ``SECRETS_SSM_PREFIX``; the first
settings load of a container reads the SecureStrings under it with ONE GetParameters call and keeps them; anything
missing, weak or unreadable stops the start naming the parameter, never showing a value. The rotation is driven over
the API (the Chalice test client): a token signed with the previous key works while ``token-secret-previous`` exists
and is refused (401) once it is deleted and the containers restarted.

``secrets.forget()`` is a new container (module state is the container's); moto's SSM keeps its parameters for the
session, so each test has its own prefix.
"""
from __future__ import annotations

import dataclasses
import logging
import uuid

import botocore.handlers
import botocore.session
import jwt
import pytest

from tongxin.adapters import secrets
from tongxin.config import MIN_SECRET_LENGTH, ConfigurationError, load_settings

REGION = "cn-north-1"  # Beijing: the aws-cn partition
TOKEN, CHECKIN, WECHAT = "T" * 20 + uuid.uuid4().hex, "C" * 20 + uuid.uuid4().hex, uuid.uuid4().hex
ROTATED = "N" * 20 + uuid.uuid4().hex


@pytest.fixture
def ssm(container):
    """moto's SSM (the session's mock_aws, started by ``container``), and a new container for this test."""
    secrets.forget()
    client = botocore.session.get_session().create_client("ssm", region_name=REGION)
    yield client
    secrets.forget()


@pytest.fixture
def prefix() -> str:
    return f"/tongxin-{uuid.uuid4().hex[:8]}/prod/"


def put(ssm, prefix: str, **values: str | None) -> None:
    """``token_secret="…"`` puts ``<prefix>token-secret`` (a SecureString); None deletes it."""
    for key, value in values.items():
        name = prefix + key.replace("_", "-")
        if value is None:
            ssm.delete_parameter(Name=name)
        else:
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def lambda_env(prefix: str) -> dict:
    """A deployed function's environment as the template gives it: the prefix, no secret."""
    return {"TONGXIN_STAGE": "prod", "SECRETS_SSM_PREFIX": prefix, "AWS_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": "tongxin-prod-api", "WECHAT_APPID": "wx0123456789abcdef",
            "QR_LINK_BASE": "https://tongxin.example.cn"}


@pytest.fixture
def get_parameters_calls():
    """Every GetParameters call a client created from now on makes, as botocore sees it (a handler registered with
    botocore's built-in handlers, which each new session's clients get), with its parameters."""
    calls: list[dict] = []

    def seen(params, **_):
        calls.append(dict(params))

    hook = ("provide-client-params.ssm.GetParameters", seen)
    botocore.handlers.BUILTIN_HANDLERS.append(hook)
    yield calls
    botocore.handlers.BUILTIN_HANDLERS.remove(hook)


def test_a_deployed_function_takes_its_secrets_from_ssm_under_the_prefix(ssm, prefix):
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT)
    settings = load_settings(lambda_env(prefix))
    assert (settings.token_secret, settings.checkin_secret, settings.wechat_secret) == (TOKEN, CHECKIN, WECHAT)
    assert settings.token_secrets == (TOKEN,) and settings.checkin_secrets == (CHECKIN,)
    assert settings.wechat_base_url is None and settings.dynamodb_endpoint is None  # real services
    for value in (TOKEN, CHECKIN, WECHAT):
        assert value not in repr(settings)
    put(ssm, prefix, token_secret_previous=ROTATED, checkin_secret_previous="P" * MIN_SECRET_LENGTH)
    secrets.forget()
    rotated = load_settings(lambda_env(prefix))
    assert rotated.token_secrets == (TOKEN, ROTATED) and rotated.checkin_secrets == (CHECKIN, "P" * MIN_SECRET_LENGTH)


def test_one_get_parameters_call_per_container(ssm, prefix, get_parameters_calls):
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT)
    # the handler module's fail-closed check at import, then the container's load, then any later one
    for _ in range(3):
        assert load_settings(lambda_env(prefix)).token_secret == TOKEN
    assert len(get_parameters_calls) == 1
    call = get_parameters_calls[0]
    assert call["WithDecryption"] is True
    assert set(call["Names"]) == {prefix + name for name in secrets.PARAMETERS}
    # a value changed in SSM is not seen by this container (it keeps what it read) …
    put(ssm, prefix, token_secret=ROTATED)
    assert load_settings(lambda_env(prefix)).token_secret == TOKEN and len(get_parameters_calls) == 1
    # … and a new container reads it, once
    secrets.forget()
    assert load_settings(lambda_env(prefix)).token_secret == ROTATED
    assert load_settings(lambda_env(prefix)).token_secret == ROTATED
    assert len(get_parameters_calls) == 2


SHORT = "s" * (MIN_SECRET_LENGTH - 1)


@pytest.mark.parametrize("change, named", [
    ({"token_secret": None}, "token-secret"),
    ({"checkin_secret": None}, "checkin-secret"),
    ({"wechat_secret": None}, "wechat-secret"),
    ({"token_secret": SHORT}, "token-secret"),
    ({"checkin_secret": SHORT}, "checkin-secret"),
    ({"checkin_secret": TOKEN}, "checkin-secret"),  # one key for two purposes
    ({"token_secret_previous": SHORT}, "token-secret-previous"),
    ({"token_secret_previous": TOKEN}, "token-secret-previous"),  # "rotated" to the same key: a forgotten step
    ({"checkin_secret_previous": TOKEN}, "checkin-secret-previous"),
])
def test_a_missing_or_weak_parameter_stops_the_start_naming_it(ssm, prefix, change, named):
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT)
    put(ssm, prefix, **change)
    with pytest.raises(ConfigurationError) as refused:
        load_settings(lambda_env(prefix))
    message = str(refused.value)
    assert f"{prefix}{named}" in message
    for value in (TOKEN, CHECKIN, WECHAT, SHORT):
        assert value not in message
    # a failure is not remembered: once the parameter is fixed, the next start (Lambda retries the init) runs
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT,
        **{key: None for key in change if key.endswith("_previous")})
    assert load_settings(lambda_env(prefix)).token_secret == TOKEN


def test_a_secret_stored_as_plain_string_is_refused(ssm, prefix):
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN)
    ssm.put_parameter(Name=prefix + "wechat-secret", Value=WECHAT, Type="String")
    with pytest.raises(ConfigurationError, match=f"{prefix}wechat-secret must be a SecureString") as refused:
        load_settings(lambda_env(prefix))
    assert WECHAT not in str(refused.value)


def test_ssm_unreachable_stops_the_start(ssm, prefix, monkeypatch):
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")  # botocore's own override; nothing listens
    with pytest.raises(ConfigurationError, match=f"could not be reached for {prefix}"):
        load_settings(lambda_env(prefix))


def test_no_secret_value_reaches_a_log_line(ssm, prefix, caplog):
    """botocore logs every response body at DEBUG (here: the decrypted values); not one of those reaches a handler,
    while botocore's other DEBUG lines of the same call still do (so this test sees the logging it checks)."""
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT,
        token_secret_previous=ROTATED)
    secrets.forget()
    with caplog.at_level(logging.DEBUG):
        load_settings(lambda_env(prefix))
    lines = [record.getMessage() for record in caplog.records]
    caplog.clear()
    put(ssm, prefix, token_secret=SHORT)  # (the test's own PutParameter is logged with its value: not captured)
    secrets.forget()
    with caplog.at_level(logging.DEBUG):  # a refused start logs nothing of them either
        with pytest.raises(ConfigurationError):
            load_settings(lambda_env(prefix))
    lines += [record.getMessage() for record in caplog.records]
    assert any("GetParameters" in line for line in lines), "botocore's DEBUG lines were not captured"
    for line in lines:
        for value in (TOKEN, CHECKIN, WECHAT, ROTATED, SHORT):
            assert value not in line


# --- rotation, over the API -------------------------------------------------------------------------------------

@pytest.fixture
def restart(ssm, container, monkeypatch):
    """A new container of the API function: its secrets loaded from SSM as a deployed one does, put in the running
    test stack (tables and WeChat stand-in stay the session's)."""

    def restart_with(prefix: str, key: str = "token"):
        """``key``: which of the loaded keys (``token`` or ``checkin``, with its previous) the stack takes on."""
        secrets.forget()
        loaded = load_settings(lambda_env(prefix))
        fields = (f"{key}_secret", f"{key}_secret_previous")
        monkeypatch.setattr(container, "settings", dataclasses.replace(
            container.settings, **{name: getattr(loaded, name) for name in fields}))
        return loaded

    return restart_with


def test_a_token_of_the_previous_key_works_until_previous_is_deleted(api, ssm, prefix, restart):
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT)
    restart(prefix)
    before = api.login()
    assert jwt.decode(before.token, TOKEN, algorithms=["HS256"], issuer="tongxin")["sub"] == before.id
    assert before.get("/v1/me").status == 200

    # rotation: the old key becomes previous, a new one current; the containers restart
    put(ssm, prefix, token_secret=ROTATED, token_secret_previous=TOKEN)
    restart(prefix)
    assert before.get("/v1/me").status == 200  # issued before the rotation: still accepted
    after = api.login()
    assert jwt.decode(after.token, ROTATED, algorithms=["HS256"], issuer="tongxin")["sub"] == after.id
    with pytest.raises(jwt.InvalidSignatureError):  # new tokens are signed with the new key only
        jwt.decode(after.token, TOKEN, algorithms=["HS256"], issuer="tongxin")
    assert after.get("/v1/me").status == 200

    # the grace period is over: previous deleted, the containers restart
    put(ssm, prefix, token_secret_previous=None)
    restart(prefix)
    refused = before.get("/v1/me")
    assert refused.status == 401 and refused.error_code == "UNAUTHENTICATED"
    assert refused.json["error"]["details"]["reason"] == "bad_signature"
    assert after.get("/v1/me").status == 200
    assert before.relogin().get("/v1/me").status == 200  # what the mini-program does on that 401


def test_a_list_cursor_of_the_previous_key_works_until_previous_is_deleted(community, ssm, prefix, restart, settings):
    """Cursors are signed with the token key too: a list half read across the rotation goes on."""
    member = community.resident()
    for title in ("楼道灯坏了", "水管漏水"):
        assert member.post("/v1/wishes", {"title": title, "content": "请帮忙", "category": "维修"}).status == 201
    cursor = member.get("/v1/wishes/mine?limit=1").json["next_cursor"]
    assert cursor
    # the session's key (which signed the member's token and the cursor) becomes previous
    put(ssm, prefix, token_secret=ROTATED, token_secret_previous=settings.token_secret, checkin_secret=CHECKIN,
        wechat_secret=WECHAT)
    restart(prefix)
    page = member.get(f"/v1/wishes/mine?limit=1&cursor={cursor}")
    assert page.status == 200 and len(page.json["items"]) == 1
    put(ssm, prefix, token_secret_previous=None)
    restart(prefix)
    stale = member.relogin().get(f"/v1/wishes/mine?limit=1&cursor={cursor}")
    assert stale.status == 400 and stale.json["error"]["details"]["field"] == "cursor"


def test_a_printed_poster_of_the_previous_check_in_key_works_until_previous_is_deleted(community, ssm, prefix,
                                                                                         restart):
    """签到码: a poster is printed once; after the check-in key's rotation it goes on working while
    ``checkin-secret-previous`` exists (the organiser's screen already shows codes of the new key)."""
    from tests.api.test_checkins import CENTRE, MIN, at, code_of, publish, scan, sign_up, when
    put(ssm, prefix, token_secret=TOKEN, checkin_secret=CHECKIN, wechat_secret=WECHAT)
    restart(prefix, "checkin")
    admin = community.admin
    event = publish(admin)
    first, second, third = (community.resident(0) for _ in range(3))
    for member in (first, second, third):
        sign_up(member, event)
    printed = code_of(admin, event, "poster")

    put(ssm, prefix, checkin_secret=ROTATED, checkin_secret_previous=CHECKIN)
    restart(prefix, "checkin")
    reprinted = code_of(admin, event, "poster")
    assert reprinted != printed
    with at(when(event) + 5 * MIN):
        accepted = scan(first, printed, **CENTRE)
        assert accepted.status == 200 and accepted.json["action"] == "check_in", accepted.body

    put(ssm, prefix, checkin_secret_previous=None)
    restart(prefix, "checkin")
    with at(when(event) + 6 * MIN):
        refused = scan(second, printed, **CENTRE)
        assert (refused.status, refused.error_code) == (400, "CODE_INVALID"), refused.body
        assert scan(third, reprinted, **CENTRE).status == 200


def test_a_console_sessions_csrf_token_of_the_previous_key_works_until_previous_is_deleted(api, community, ssm,
                                                                                            prefix, restart, settings):
    """管理后台: a session's CSRF token is signed with the token key when the session starts (it lasts 8 hours):
    its writes go on across the rotation while the previous key is kept."""
    from tests.api.test_console_sessions import scan_login
    kept, dropped = scan_login(api, community.admin), scan_login(api, community.admin)
    put(ssm, prefix, token_secret=ROTATED, token_secret_previous=settings.token_secret, checkin_secret=CHECKIN,
        wechat_secret=WECHAT)
    restart(prefix)
    assert kept.request("DELETE", "/v1/console/sessions/current").status == 204  # a write: CSRF checked
    put(ssm, prefix, token_secret_previous=None)
    restart(prefix)
    refused = dropped.request("DELETE", "/v1/console/sessions/current")
    assert (refused.status, refused.error_code) == (403, "CSRF_FAILED"), refused.body
