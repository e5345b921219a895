"""The template as a deployment engineer meets it in an AWS China region (issue 26, docs/deploy.md): no secret in a
parameter or an environment, the secrets read from the stage's own SSM path, a log group with a retention per
function, the custom domain present exactly when it is asked for, and one samconfig section per stage.

The template is translated by SAM, then its intrinsic functions are evaluated for given parameter values as
CloudFormation would (``_Stack``), so the tests read the names, ARNs and conditions a stack would really get."""
from __future__ import annotations

import copy
import fnmatch
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from cfnlint.api import lint

from infra.deploy import template_deploy as deploy, template_gen
from tests.infra.test_template import CHINA_REGIONS, RUNTIME_LIFECYCLE_RULES, _translate

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
CERTIFICATE = f"arn:aws-cn:acm:cn-north-1:{ACCOUNT}:certificate/0b3c5d7e-1111-2222-3333-444455556666"
REQUIRED = {"WechatAppId": "wx0123456789abcdef", "QrLinkBase": "https://api.tongxin.example.cn"}


@pytest.fixture(scope="module")
def template() -> dict:
    return yaml.safe_load(template_gen.TEMPLATE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def transformed(template) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
        return _translate(template)


NO_VALUE = object()  # AWS::NoValue: the property is left out


class _Stack:
    """A template's intrinsic functions evaluated for parameter values in a China region, as CloudFormation would."""

    def __init__(self, template: dict, region: str = "cn-north-1", **values: str) -> None:
        self.template = template
        self.values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
        self.values.update(REQUIRED, **values)
        self.values.update({"AWS::Partition": "aws-cn", "AWS::Region": region, "AWS::AccountId": ACCOUNT,
                            "AWS::URLSuffix": "amazonaws.com.cn"})
        self.conditions = {name: self.value(body) for name, body in template.get("Conditions", {}).items()}

    def value(self, node, names: dict | None = None):
        names = names or {}
        if isinstance(node, list):
            return [self.value(item, names) for item in node]
        if not isinstance(node, dict):
            return node
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        if set(node) == {"Ref"}:
            return names.get(node["Ref"], self.values.get(node["Ref"], f"<{node['Ref']}>"))
        if set(node) == {"Fn::Sub"}:
            text, extra = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
            extra = {key: self.value(value, names) for key, value in extra.items()}
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(extra.get(m[1], self.values.get(m[1], f"<{m[1]}>"))), text)
        if set(node) == {"Fn::If"}:
            condition, yes, no = node["Fn::If"]
            return self.value(yes if self.conditions[condition] else no, names)
        if set(node) == {"Fn::Equals"}:
            left, right = self.value(node["Fn::Equals"], names)
            return left == right
        if set(node) == {"Fn::Not"}:
            return not self.value(node["Fn::Not"][0], names)
        if set(node) == {"Fn::GetAtt"}:
            return "<{}.{}>".format(*node["Fn::GetAtt"])
        evaluated = {key: self.value(value, names) for key, value in node.items()}
        return {key: value for key, value in evaluated.items() if value is not NO_VALUE}  # what AWS::NoValue does

    def resources(self) -> dict:
        """The resources this stack creates (their Condition holds), evaluated."""
        return {name: self.value(resource) for name, resource in self.template["Resources"].items()
                if self.conditions.get(resource.get("Condition"), True)}

    def outputs(self) -> dict:
        return {name: self.value(output["Value"]) for name, output in self.template.get("Outputs", {}).items()
                if self.conditions.get(output.get("Condition"), True)}

    def refused_by_rules(self) -> list[str]:
        refused = []
        for rule in self.template.get("Rules", {}).values():
            if self.value(rule.get("RuleCondition", True)):
                refused += [a["AssertDescription"] for a in rule["Assertions"] if not self.value(a["Assert"])]
        return refused


def _of_type(resources: dict, resource_type: str) -> dict:
    return {name: resource for name, resource in resources.items() if resource["Type"] == resource_type}


def _functions(resources: dict) -> dict:
    return _of_type(resources, "AWS::Lambda::Function")


def _statements(resources: dict, function: dict) -> list[dict]:
    role = function["Properties"]["Role"].removeprefix("<").removesuffix(".Arn>")
    return [statement for policy in resources[role]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]]


# --- secrets ------------------------------------------------------------------------------------------------------

def test_no_secret_is_a_parameter_or_in_any_functions_environment(template, transformed):
    assert not [name for name, spec in template["Parameters"].items() if spec.get("NoEcho")]
    assert not {"WechatSecret", "TokenSecret", "CheckinSecret"} & set(template["Parameters"])
    functions = _functions(transformed["Resources"])
    assert len(functions) == 3
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert [key for key in variables if "SECRET" in key.upper()] == [deploy.SECRETS_PREFIX_ENV], name
        # Nothing in the environment comes from a parameter that could hold a secret.
        refs = re.findall(r"'Ref': '([A-Za-z]+)'", str(variables))
        assert not [ref for ref in refs if "secret" in ref.lower() and ref != deploy.SECRETS_PREFIX], name


@pytest.mark.parametrize("stage, prefix, expected", [
    ("prod", "", "/tongxin/prod/"), ("staging", "", "/tongxin/staging/"), ("prod", "/heping/tongxin/", "/heping/tongxin/")])
def test_secrets_are_read_from_the_stages_ssm_path_only(transformed, stage, prefix, expected):
    stack = _Stack(transformed, Stage=stage, SecretsPrefix=prefix)
    resources = stack.resources()
    for name, function in _functions(resources).items():
        assert function["Properties"]["Environment"]["Variables"][deploy.SECRETS_PREFIX_ENV] == expected
        statements = _statements(resources, function)
        ssm = [s for s in statements if any(a.startswith("ssm:") for a in s["Action"])]
        assert [(s["Action"], s["Resource"]) for s in ssm] == [
            (["ssm:GetParameters"], [f"arn:aws-cn:ssm:cn-north-1:{ACCOUNT}:parameter{expected}*"])], name
        (arn,) = ssm[0]["Resource"]
        for parameter in deploy.secret_parameter_names(expected):  # what docs/deploy.md creates
            assert fnmatch.fnmatchcase(f"arn:aws-cn:ssm:cn-north-1:{ACCOUNT}:parameter{parameter}", arn)
        for other in ("/tongxin/dev/token-secret", "/tongxin/prod2/token-secret", "/other/token-secret"):
            if not other.startswith(expected):
                assert not fnmatch.fnmatchcase(f"arn:aws-cn:ssm:cn-north-1:{ACCOUNT}:parameter{other}", arn)
        kms = [s for s in statements if any(a.startswith("kms:") for a in s["Action"])]
        assert [(s["Action"], s["Condition"]) for s in kms] == [
            (["kms:Decrypt"], {"StringEquals": {"kms:ViaService": "ssm.cn-north-1.amazonaws.com.cn"}})], name
        assert kms[0]["Resource"] == [f"arn:aws-cn:kms:cn-north-1:{ACCOUNT}:key/*"]


def test_the_secrets_path_is_the_regions_own_in_ningxia(transformed):
    resources = _Stack(transformed, region="cn-northwest-1").resources()
    statements = _statements(resources, resources["ApiFunction"])
    resources_and_conditions = json.dumps(statements)
    assert f"arn:aws-cn:ssm:cn-northwest-1:{ACCOUNT}:parameter/tongxin/prod/*" in resources_and_conditions
    assert "ssm.cn-northwest-1.amazonaws.com.cn" in resources_and_conditions


@pytest.mark.parametrize("prefix, allowed", [("", True), ("/tongxin/prod/", True), ("/a/", True),
                                             ("/tongxin/prod", False), ("tongxin/prod/", False), ("/", False),
                                             ("/tongxin//prod/", False), ("/tong xin/", False)])
def test_secrets_prefix_is_an_ssm_path(template, prefix, allowed):
    assert bool(re.fullmatch(template["Parameters"]["SecretsPrefix"]["AllowedPattern"], prefix)) is allowed


# --- logs ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("retention", [None, "30", "3653"])
def test_every_function_has_its_log_group_with_a_retention(transformed, retention):
    stack = _Stack(transformed, **({"LogRetentionDays": retention} if retention else {}))
    resources = stack.resources()
    groups = {r["Properties"]["LogGroupName"]: (name, r) for name, r in _of_type(resources, "AWS::Logs::LogGroup").items()}
    functions = _functions(resources)
    assert {f["Properties"]["FunctionName"] for f in functions.values()} == \
        {"tongxin-prod-api", "tongxin-prod-scheduler", "tongxin-prod-sender"}
    for name, function in functions.items():
        group_id, group = groups.pop(f"/aws/lambda/{function['Properties']['FunctionName']}")
        assert group["Properties"]["RetentionInDays"] == (retention or "90"), name
        assert group_id in function["DependsOn"], name  # created first: Lambda never makes one without retention
    assert groups == {}  # no group for a function that does not exist


def test_the_retention_parameter_offers_what_cloudwatch_accepts(template):
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 90
    resource_types = Path(lint.__code__.co_filename).parent / "data" / "schemas"
    providers = json.loads((resource_types / "providers" / "cn-north-1.json").read_text(encoding="utf-8"))
    schema = json.loads((resource_types / "resources" / f"{providers['AWS::Logs::LogGroup']}.json").read_text())
    assert parameter["AllowedValues"] == schema["properties"]["RetentionInDays"]["enum"]


# --- custom domain --------------------------------------------------------------------------------------------------

def test_without_a_domain_nothing_of_it_is_created(transformed):
    stack = _Stack(transformed)
    resources = stack.resources()
    assert not _of_type(resources, "AWS::ApiGateway::DomainName")
    assert not _of_type(resources, "AWS::ApiGateway::BasePathMapping")
    assert set(stack.outputs()) == {"ApiUrl", "AlarmTopicArn", "SecretsPrefix"}
    assert stack.outputs()["ApiUrl"].startswith("https://<Api>.execute-api.cn-north-1.amazonaws.com.cn/prod")
    assert stack.refused_by_rules() == []


def test_with_a_domain_the_regional_domain_maps_its_root_to_the_stage(transformed):
    stack = _Stack(transformed, DomainName="api.tongxin.example.cn", CertificateArn=CERTIFICATE)
    resources = stack.resources()
    (domain_id, domain), = _of_type(resources, "AWS::ApiGateway::DomainName").items()
    assert domain["Properties"] == {"DomainName": "api.tongxin.example.cn", "RegionalCertificateArn": CERTIFICATE,
                                    "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"}
    (mapping,) = _of_type(resources, "AWS::ApiGateway::BasePathMapping").values()
    (stage_id, stage), = _of_type(resources, "AWS::ApiGateway::Stage").items()
    (api_id,) = _of_type(resources, "AWS::ApiGateway::RestApi")
    # No BasePath: https://<domain>/v1/... and the printed codes' /c, /i, /p reach the stage's routes.
    assert mapping["Properties"] == {"DomainName": f"<{domain_id}>", "RestApiId": f"<{api_id}>",
                                     "Stage": f"<{stage_id}>"}
    assert stack.outputs()["CustomDomainTarget"] == f"<{domain_id}.RegionalDomainName>"  # the CNAME's target
    assert stack.outputs()["CustomDomainUrl"] == "https://api.tongxin.example.cn"
    assert stack.refused_by_rules() == []


@pytest.mark.parametrize("given", [{"DomainName": "api.tongxin.example.cn"}, {"CertificateArn": CERTIFICATE}])
def test_a_domain_and_its_certificate_go_together(transformed, given):
    assert _Stack(transformed, **given).refused_by_rules() == \
        ["DomainName and CertificateArn go together: give both, or neither"]


@pytest.mark.parametrize("parameter, value, allowed", [
    ("DomainName", "api.tongxin.example.cn", True), ("DomainName", "https://api.tongxin.example.cn", False),
    ("DomainName", "API.example.cn", False), ("DomainName", "localhost", False),
    ("CertificateArn", CERTIFICATE, True), ("CertificateArn", CERTIFICATE.replace("aws-cn", "aws"), True),
    ("CertificateArn", "arn:aws-cn:iam::123456789012:server-certificate/tongxin", False)])
def test_domain_parameters_are_checked(template, parameter, value, allowed):
    assert bool(re.fullmatch(template["Parameters"][parameter]["AllowedPattern"], value)) is allowed


def test_cfn_lint_accepts_the_template_with_a_domain_in_both_china_regions(template):
    with_domain = copy.deepcopy(template)
    with_domain["Parameters"]["DomainName"]["Default"] = "api.tongxin.example.cn"
    with_domain["Parameters"]["CertificateArn"]["Default"] = CERTIFICATE
    config = {"regions": CHINA_REGIONS, "ignore_checks": RUNTIME_LIFECYCLE_RULES}
    findings = [match for match in lint(yaml.safe_dump(with_domain, allow_unicode=True), config=config)
                if match.rule.severity != "informational"]
    assert findings == [], "\n".join(str(match) for match in findings)


# --- API Gateway access logs (optional) ----------------------------------------------------------------------------

def _stage(resources: dict) -> dict:
    (stage,) = _of_type(resources, "AWS::ApiGateway::Stage").values()
    return stage["Properties"]


def test_access_logs_are_off_unless_asked_for(template, transformed):
    parameter = template["Parameters"]["AccessLogs"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("off", ["on", "off"])
    resources = _Stack(transformed).resources()
    assert not _of_type(resources, "AWS::Logs::LogGroup").keys() - {f"{f}LogGroup" for f in (
        template_gen.API_FUNCTION, template_gen.SCHEDULER_FUNCTION, template_gen.SENDER_FUNCTION)}
    assert "AccessLogSetting" not in _stage(resources)


@pytest.mark.parametrize("retention", [None, "30"])
def test_access_logs_on_go_to_the_stages_group_kept_as_long_as_the_functions_logs(transformed, retention):
    stack = _Stack(transformed, AccessLogs="on", **({"LogRetentionDays": retention} if retention else {}))
    resources = stack.resources()
    groups = {r["Properties"]["LogGroupName"]: (name, r) for name, r in _of_type(resources, "AWS::Logs::LogGroup").items()}
    group_id, group = groups["/aws/apigateway/tongxin-prod-access"]
    assert group["Properties"]["RetentionInDays"] == groups["/aws/lambda/tongxin-prod-api"][1]["Properties"][
        "RetentionInDays"] == (retention or "90")
    setting = _stage(resources)["AccessLogSetting"]
    assert setting["DestinationArn"] == f"<{group_id}.Arn>"
    # No AWS::ApiGateway::Account: the CloudWatch role is the account's, set once per region (docs/deploy.md).
    assert not _of_type(transformed["Resources"], "AWS::ApiGateway::Account")


def test_access_logs_hold_these_fields_and_no_personal_data(transformed):
    setting = _stage(_Stack(transformed, AccessLogs="on").resources())["AccessLogSetting"]
    fields = json.loads(setting["Format"])  # one JSON object a line, every value quoted
    assert fields == {"requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
                      "requestTime": "$context.requestTime", "httpMethod": "$context.httpMethod",
                      "resourcePath": "$context.resourcePath", "status": "$context.status",
                      "responseLength": "$context.responseLength",
                      "integrationLatency": "$context.integrationLatency"}
    # Query strings and headers carry wx.login codes, tokens and phone numbers; the concrete path carries ids.
    for forbidden in ("requestOverride", "querystring", "header", "$input", "$method", "$context.path",
                      "authorizer", "$context.identity.user"):
        assert forbidden.lower() not in setting["Format"].lower(), forbidden


def test_cfn_lint_accepts_the_template_with_access_logs_in_both_china_regions(template):
    with_logs = copy.deepcopy(template)
    with_logs["Parameters"]["AccessLogs"]["Default"] = "on"
    config = {"regions": CHINA_REGIONS, "ignore_checks": RUNTIME_LIFECYCLE_RULES}
    findings = [match for match in lint(yaml.safe_dump(with_logs, allow_unicode=True), config=config)
                if match.rule.severity != "informational"]
    assert findings == [], "\n".join(str(match) for match in findings)


# --- samconfig ------------------------------------------------------------------------------------------------------

# What SAM CLI's parameter_overrides parser takes (samcli.cli.types.CfnParameterOverridesType, 1.170.0): a bare value
# without spaces or quotes, or a double-quoted one with its inner quotes escaped; "Key=" alone is refused.
OVERRIDE = re.compile(r'([A-Za-z0-9]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))')


def test_samconfig_has_a_section_per_stage_in_a_china_region(template):
    config = tomllib.loads((REPO_ROOT / "infra" / "deploy" / "samconfig.toml").read_text(encoding="utf-8"))
    assert config["version"] == 0.1
    stages = {name: section for name, section in config.items() if name not in ("version", "default")}
    assert {"staging", "prod"} <= set(stages)
    for stage, section in stages.items():
        deploy_params = section["deploy"]["parameters"]
        assert deploy_params["stack_name"] == f"tongxin-{stage}"
        assert deploy_params["region"] in CHINA_REGIONS
        assert deploy_params["capabilities"] == "CAPABILITY_IAM"
        assert deploy_params["confirm_changeset"] is True, "a change set is read before it runs"
        assert section["build"]["parameters"]["template_file"] == "template.yaml"
        overrides = {}
        for line in deploy_params["parameter_overrides"]:
            match = OVERRIDE.fullmatch(line)
            assert match, f"[{stage}] {line!r}: SAM CLI would split or refuse it (quote it: see infra/deploy/samconfig.toml)"
            value = match[3] if match[3] is not None else re.sub(r"\\(.)", r"\1", match[2])
            overrides[match[1]] = value
        assert set(overrides) <= set(template["Parameters"]), f"[{stage}] names no parameter of the template"
        assert overrides["Stage"] == stage and "QrLinkBase" in overrides and "WechatAppId" in overrides
        assert not [key for key in overrides if "secret" in key.lower()], "secrets live in SSM, never here"
        for key, value in overrides.items():
            spec = template["Parameters"][key]
            if "REPLACE_" in value:
                continue  # the deployer's own value (make deploy refuses the section until it is replaced)
            if "AllowedValues" in spec:
                assert value in [str(allowed) for allowed in spec["AllowedValues"]], (stage, key)
            if "AllowedPattern" in spec:
                assert re.fullmatch(spec["AllowedPattern"], value), (stage, key, value)
        json.loads(overrides.get("WechatTemplates", "{}"))


def test_the_parameters_the_deployment_creates_are_the_ones_the_code_reads():
    """docs/deploy.md creates deploy.SECRET_PARAMETERS under the prefix; the functions read adapters/secrets.PARAMETERS
    (the optional ones too: a grant or a name that differs would fail only in AWS)."""
    from tongxin.adapters.secrets import PARAMETERS
    assert sorted(deploy.SECRET_PARAMETERS) == sorted(PARAMETERS)
