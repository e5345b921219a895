"""make deploy's last step (infra/deploy/publish_live.py) on moto's Lambda: a deploy that changed only a parameter's value
(a setting in the environment, which SAM does not hash) reaches the live alias; nothing changed publishes nothing; a
rollback's update-alias is undone by the next deploy."""
from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest

from infra.deploy import publish_live

REGION, STAGE = "cn-north-1", "prod"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "lambda.amazonaws.com"}}]}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture()
def client(container):
    """The stage's three functions as the stack leaves them: version 1 published, live on it."""
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=f"publish-live-{id(object())}", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    lambda_client = boto3.client("lambda", region_name=REGION)
    for name in publish_live.function_names(STAGE):
        lambda_client.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                      Code={"ZipFile": _zip()}, Environment={"Variables": {"QR_VERIFY_FILE": ""}})
        version = lambda_client.publish_version(FunctionName=name)["Version"]
        lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    yield lambda_client
    for name in publish_live.function_names(STAGE):
        lambda_client.delete_function(FunctionName=name)


def _live(client, name: str) -> tuple[str, dict]:
    configuration = client.get_function_configuration(FunctionName=name, Qualifier="live")
    return configuration["Version"], configuration["Environment"]["Variables"]


def test_a_setting_changed_by_the_deploy_reaches_the_alias(client):
    api, scheduler, sender = publish_live.function_names(STAGE)
    assert _live(client, api) == ("1", {"QR_VERIFY_FILE": ""})
    # What CloudFormation does for a parameter-only change: $LATEST updated, no version, the alias untouched.
    client.update_function_configuration(FunctionName=api, Environment={"Variables": {"QR_VERIFY_FILE": "a.txt:b"}})
    assert _live(client, api) == ("1", {"QR_VERIFY_FILE": ""})

    assert publish_live.publish_live(client, STAGE) == [(api, "1", "2"), (scheduler, "1", "1"), (sender, "1", "1")]
    assert _live(client, api) == ("2", {"QR_VERIFY_FILE": "a.txt:b"})
    # Run again with nothing changed: no version published, nothing moved.
    assert publish_live.publish_live(client, STAGE) == [(api, "2", "2"), (scheduler, "1", "1"), (sender, "1", "1")]
    assert [v["Version"] for v in client.list_versions_by_function(FunctionName=api)["Versions"]] == \
        ["$LATEST", "1", "2"]


def test_the_next_deploy_undoes_a_rollback(client, capsys):
    api = publish_live.function_names(STAGE)[0]
    client.update_function_configuration(FunctionName=api, Environment={"Variables": {"QR_VERIFY_FILE": "a.txt:b"}})
    publish_live.publish_live(client, STAGE)
    client.update_alias(FunctionName=api, Name="live", FunctionVersion="1")  # docs/deploy.md, Rollback

    assert publish_live.main(["--stage", STAGE, "--region", REGION]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{api}: live → 2 (was 1)"
    assert _live(client, api)[0] == "2"


def test_the_region_defaults_to_the_stages_samconfig_section():
    assert publish_live.section_region("prod") == "cn-north-1"
    assert publish_live.section_region("staging") == "cn-northwest-1"
