"""Configuration fails closed: only the local stack and the tests (stages dev/test, never inside Lambda) run on
embedded defaults; anywhere else a missing or weak secret stops start-up."""
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from tongxin.adapters import tokens
from tongxin.config import DEV_CHECKIN_SECRET, DEV_TOKEN_SECRET, ConfigurationError, load_settings
from tongxin.domain.errors import Unauthenticated

ROOT = Path(__file__).resolve().parents[2]
PROD = {"TONGXIN_STAGE": "prod", "TOKEN_SECRET": "k" * 40, "CHECKIN_SECRET": "c" * 40, "WECHAT_APPID": "wx123",
        "WECHAT_SECRET": "s" * 32, "QR_LINK_BASE": "https://tongxin.example.cn"}


def test_unset_stage_refuses_to_start():
    with pytest.raises(ConfigurationError, match="TONGXIN_STAGE"):
        load_settings({})
    with pytest.raises(ConfigurationError):
        load_settings({"TONGXIN_STAGE": "  "})


@pytest.mark.parametrize("secret", [None, "", "short", DEV_TOKEN_SECRET])
def test_a_real_stage_needs_a_strong_signing_key(secret):
    env = {**PROD}
    env.pop("TOKEN_SECRET")
    if secret is not None:
        env["TOKEN_SECRET"] = secret
    with pytest.raises(ConfigurationError, match="TOKEN_SECRET"):
        load_settings(env)


def test_a_real_stage_needs_wechat_credentials_and_talks_to_real_services():
    with pytest.raises(ConfigurationError, match="WECHAT"):
        load_settings({"TONGXIN_STAGE": "prod", "TOKEN_SECRET": "k" * 40, "CHECKIN_SECRET": "c" * 40})
    settings = load_settings(PROD)
    assert settings.dynamodb_endpoint is None and settings.wechat_base_url is None


@pytest.mark.parametrize("stage", ["dev", "test"])
def test_dev_stages_are_refused_inside_lambda(stage):
    with pytest.raises(ConfigurationError, match="Lambda"):
        load_settings({"TONGXIN_STAGE": stage, "AWS_LAMBDA_FUNCTION_NAME": "tongxin-api"})


def test_a_token_forged_with_the_development_key_is_refused_in_production():
    settings = load_settings(PROD)
    forged = jwt.encode({"iss": "tongxin", "sub": "u_x", "iat": 1, "exp": 4_000_000_000, "roles": ["admin"]},
                        DEV_TOKEN_SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        tokens.verify(settings, forged)


def test_the_api_handler_does_not_import_without_a_stage():
    """What a Lambda with a forgotten parameter does: fail its cold start, before any request is answered."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'layers'}:{ROOT / 'functions/api'}"}
    result = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT / "functions/api", env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "TONGXIN_STAGE" in result.stderr


@pytest.mark.parametrize("secret", [None, "", "short", DEV_CHECKIN_SECRET, "k" * 40])
def test_outside_dev_the_check_in_key_must_be_set_strong_and_its_own(secret):
    env = dict(PROD)
    env.pop("CHECKIN_SECRET")
    if secret is not None:
        env["CHECKIN_SECRET"] = secret  # "k" * 40 is the TOKEN_SECRET of PROD: one leaked key must not give both
    with pytest.raises(ConfigurationError, match="CHECKIN_SECRET"):
        load_settings(env)


def test_push_templates_come_from_configuration_and_a_typo_stops_the_start():
    assert load_settings(PROD).wechat_templates == {}  # no embedded template ids outside dev: every kind skipped
    assert load_settings(PROD).miniprogram_state == "formal"
    chosen = load_settings({**PROD, "WECHAT_TEMPLATES": '{"wish_claimed": " TPL-abc "}'})
    assert chosen.wechat_templates == {"wish_claimed": "TPL-abc"}
    dev = load_settings({"TONGXIN_STAGE": "dev"})
    assert dev.wechat_templates["wish_claimed"] == "tmpl_wish_claimed" and dev.miniprogram_state == "developer"
    for bad in ('{"wish_claimd": "TPL"}', "not json", '["TPL"]', '{"wish_claimed": ""}'):
        with pytest.raises(ConfigurationError, match="WECHAT_TEMPLATES"):
            load_settings({**PROD, "WECHAT_TEMPLATES": bad})
    with pytest.raises(ConfigurationError, match="WECHAT_MINIPROGRAM_STATE"):
        load_settings({**PROD, "WECHAT_MINIPROGRAM_STATE": "beta"})


def test_every_message_kind_has_a_development_template_and_can_be_configured():
    """The request kinds (接诉即办) are configured like every other: dev has a template id for each kind, and a
    deployment names its own per kind."""
    import json
    from tongxin.domain.push import KINDS
    requests_kinds = ("request_new", "request_escalated", "request_reopened", "request_overdue", "request_accepted",
                      "request_resolved")
    assert set(requests_kinds) <= set(KINDS)
    dev = load_settings({"TONGXIN_STAGE": "dev"})
    assert dev.wechat_templates == {kind: f"tmpl_{kind}" for kind in KINDS}
    chosen = load_settings({**PROD, "WECHAT_TEMPLATES": json.dumps({kind: f"TPL-{n}"
                                                                    for n, kind in enumerate(requests_kinds)})})
    assert chosen.wechat_templates == {kind: f"TPL-{n}" for n, kind in enumerate(requests_kinds)}
    with pytest.raises(ConfigurationError, match="request_news"):
        load_settings({**PROD, "WECHAT_TEMPLATES": '{"request_news": "TPL"}'})


# --- where the secrets come from (issue 26): SSM in a deployed function, the environment elsewhere ---------------

IN_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "tongxin-prod-api"}


@pytest.mark.parametrize("variable", ["TOKEN_SECRET", "CHECKIN_SECRET", "WECHAT_SECRET"])
def test_inside_lambda_a_real_stage_takes_no_secret_from_the_environment(variable):
    """A function's environment is readable by whoever may read its configuration: outside dev/test, a Lambda
    needs SECRETS_SSM_PREFIX, and a secret beside it is refused by name, its value never shown."""
    with pytest.raises(ConfigurationError, match="SECRETS_SSM_PREFIX must be set in Lambda"):
        load_settings({**PROD, **IN_LAMBDA})
    with pytest.raises(ConfigurationError, match=f"{variable} must not be set together with SECRETS_SSM_PREFIX") \
            as refused:
        load_settings({**{k: v for k, v in PROD.items() if not k.endswith("SECRET") or k == variable},
                       **IN_LAMBDA, "SECRETS_SSM_PREFIX": "/tongxin/prod/"})
    assert PROD[variable] not in str(refused.value)


@pytest.mark.parametrize("prefix", ["tongxin/prod/", "/tongxin/prod", "/", "/tongxin prod/", "/a//b/"])
def test_a_malformed_ssm_prefix_stops_the_start(prefix):
    env = {k: v for k, v in PROD.items() if not k.endswith("SECRET")}
    with pytest.raises(ConfigurationError, match="SECRETS_SSM_PREFIX must be a parameter path"):
        load_settings({**env, **IN_LAMBDA, "SECRETS_SSM_PREFIX": prefix})


def test_a_token_of_the_previous_key_is_accepted_while_it_is_configured():
    old = load_settings({**PROD, "TOKEN_SECRET": "o" * 40})
    token, _ = tokens.issue(old, user_id="u_x", community_id=None, roles=(), grid_ids=(), store_ids=())
    rotated = load_settings({**PROD, "TOKEN_SECRET_PREVIOUS": "o" * 40})
    assert rotated.token_secrets == ("k" * 40, "o" * 40)
    assert tokens.verify(rotated, token).user_id == "u_x"
    new, _ = tokens.issue(rotated, user_id="u_y", community_id=None, roles=(), grid_ids=(), store_ids=())
    with pytest.raises(Unauthenticated):
        tokens.verify(old, new)  # signed with the current key only
    with pytest.raises(Unauthenticated) as refused:
        tokens.verify(load_settings(PROD), token)  # previous deleted
    assert refused.value.details["reason"] == "bad_signature"


@pytest.mark.parametrize("variable, value", [("TOKEN_SECRET_PREVIOUS", "short"),
                                             ("TOKEN_SECRET_PREVIOUS", "k" * 40),  # the current key again
                                             ("TOKEN_SECRET_PREVIOUS", DEV_TOKEN_SECRET),
                                             ("CHECKIN_SECRET_PREVIOUS", "k" * 40),  # the token key
                                             ("CHECKIN_SECRET_PREVIOUS", "c" * 40)])
def test_a_previous_key_is_held_to_the_same_rules(variable, value):
    with pytest.raises(ConfigurationError, match=variable):
        load_settings({**PROD, variable: value})
