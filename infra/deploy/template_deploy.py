"""The deployment's share of the SAM template (``infra/deploy/template_gen.py`` assembles it): where the functions read
their secrets, their log groups and how long those keep, and the optional custom domain (docs/deploy.md).

- Secrets (密钥) are never template parameters nor environment variables: a NoEcho parameter still lands in
  plain text in the function's configuration, readable by anyone who may call ``lambda:GetFunction``. The functions
  get one variable, ``SECRETS_SSM_PREFIX`` (``/tongxin/<Stage>/`` unless ``SecretsPrefix`` names another path),
  and read the SecureString parameters ``<prefix>token-secret``, ``checkin-secret``, ``wechat-secret`` and the
  optional ``token-secret-previous``/``checkin-secret-previous`` (a rotation's grace) from SSM Parameter Store once
  per container (``tongxin.adapters.secrets``); their role
  may read that path and nothing else, and decrypt only through SSM.
- Every function's log group is declared with a retention (``LogRetentionDays``, 90 days unless set): left to
  Lambda, the group is created on the first invocation and keeps everything forever. The functions get fixed
  names (``tongxin-<Stage>-<role>``) so that the group's name does not depend on the function, which depends on it
  (created first, so Lambda never creates it on its own).
- Versions and the live alias: every function publishes a version per deploy that changes it and is invoked through
  its alias ``live`` (API Gateway, the schedule, the stream), so that a rollback is one ``update-alias``. SAM hashes
  every property of the function (``AutoPublishAliasAllProperties``) and the layer's content (``PublishLambdaVersion``)
  into the version's logical id: by default it hashes only the function's code, and a deploy that changed the layer
  (where the tongxin package lives) would leave the alias on the old one. A parameter's value is not hashed (SAM
  issue 3820): ``infra/deploy/publish_live.py`` publishes and moves the alias after ``sam deploy``.
- The custom domain: API Gateway in the China regions serves the public only on an ICP-filed (备案) domain, with
  a regional certificate from ACM in the same region (requested there with DNS validation, or imported from a
  Chinese CA). ``DomainName`` and ``CertificateArn`` both empty: no domain (the execute-api address only).

``deployment_problems`` checks a template for those rules; ``infra.deploy.template_check.template_sync_problems`` runs it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.deploy.template_names import LAYER, LIVE_ALIAS

# --- secrets (SSM Parameter Store, SecureString) ------------------------------------------------------------------

SECRETS_PREFIX, HAS_OWN_SECRETS_PREFIX = "SecretsPrefix", "HasOwnSecretsPrefix"
SECRETS_PREFIX_ENV = "SECRETS_SSM_PREFIX"
DEFAULT_SECRETS_PREFIX = "/tongxin/${Stage}/"  # Fn::Sub
# The parameters under the prefix (docs/deploy.md creates them; tongxin.config.SECRET_VARIABLES reads them): the
# two *-previous ones exist only during a rotation's grace (the old key still accepted).
SECRET_PARAMETERS = ("token-secret", "checkin-secret", "wechat-secret", "token-secret-previous",
                     "checkin-secret-previous")
# Read once per container, all at once (one call); nothing else of SSM.
SSM_ACTIONS = ("ssm:GetParameters",)
SECRETS_PREFIX_VALUE = {"Fn::If": [HAS_OWN_SECRETS_PREFIX, {"Ref": SECRETS_PREFIX},
                                   {"Fn::Sub": DEFAULT_SECRETS_PREFIX}]}
# A parameter's ARN is parameter/<name without its leading slash>: the prefix starts with one.
SECRETS_ARN = {"Fn::Sub": ["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Prefix}*",
                           {"Prefix": SECRETS_PREFIX_VALUE}]}
# SecureStrings are encrypted with the account's aws/ssm key: decrypting is allowed only on SSM's behalf (its
# regional endpoint, amazonaws.com.cn in China: AWS::URLSuffix), so the role cannot decrypt anything directly.
KMS_VIA_SSM = {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"}
KMS_KEYS = {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}
# Environment keys a secret could hide behind (a test and deployment_problems refuse them).
SECRET_WORDS = ("SECRET", "PASSWORD", "PRIVATE_KEY", "SIGNING_KEY")

# --- logs -----------------------------------------------------------------------------------------------------------

LOG_RETENTION = "LogRetentionDays"
LOG_RETENTION_DEFAULT = 90
# What CloudWatch Logs accepts (RetentionInDays).
LOG_RETENTION_VALUES = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                        2922, 3288, 3653)

# --- versions -------------------------------------------------------------------------------------------------------

# Each function's properties: a version published whenever a property or its code changes, the alias on it.
LIVE_VERSIONS = {"AutoPublishAlias": LIVE_ALIAS, "AutoPublishAliasAllProperties": True}
# The layer's: its new content publishes a version of every function (with LIVE_VERSIONS' all-properties hash).
LAYER_PUBLISHES_VERSIONS = {"PublishLambdaVersion": True}

# --- custom domain ---------------------------------------------------------------------------------------------------

DOMAIN_NAME, CERTIFICATE_ARN, HAS_CUSTOM_DOMAIN = "DomainName", "CertificateArn", "HasCustomDomain"
CUSTOM_DOMAIN, CUSTOM_DOMAIN_MAPPING = "CustomDomain", "CustomDomainMapping"
DOMAIN_RULE, CERTIFICATE_RULE = "DomainNeedsCertificate", "CertificateNeedsDomain"


def function_name(role: str) -> dict:
    """The fixed name of a function (``role``: api, scheduler, sender), which its log group is named after."""
    return {"Fn::Sub": f"tongxin-${{Stage}}-{role}"}


def log_group_id(function: str) -> str:
    return function + "LogGroup"


def parameters() -> dict:
    return {
        SECRETS_PREFIX: {
            "Type": "String", "Default": "", "AllowedPattern": r"^$|^(/[A-Za-z0-9_.-]+)+/$", "MaxLength": 200,
            "ConstraintDescription": "empty, or an SSM path starting and ending with /, such as /tongxin/prod/",
            "Description": "The SSM Parameter Store path of the secrets (SecureString token-secret, checkin-secret, "
                           "wechat-secret and, while rotating, token-secret-previous, checkin-secret-previous under "
                           "it); empty: /tongxin/<Stage>/",
        },
        LOG_RETENTION: {
            "Type": "Number", "Default": LOG_RETENTION_DEFAULT, "AllowedValues": list(LOG_RETENTION_VALUES),
            "Description": "Days the functions' logs (and the API's access logs, when on) are kept (CloudWatch "
                           "Logs retention)",
        },
        DOMAIN_NAME: {
            "Type": "String", "Default": "", "MaxLength": 253,
            "AllowedPattern": r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
            "ConstraintDescription": "empty, or a lower-case host name such as api.tongxin.example.cn",
            "Description": "The ICP-filed (备案) host name the API is served on (QrLinkBase is https://<it>); empty: "
                           "none, the execute-api address only",
        },
        CERTIFICATE_ARN: {
            "Type": "String", "Default": "",
            "AllowedPattern": r"^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$",
            "ConstraintDescription": "empty, or an ACM certificate ARN of this region",
            "Description": "The ACM certificate (same region as the stack, issued or imported) for DomainName",
        },
    }


def conditions() -> dict:
    return {
        HAS_OWN_SECRETS_PREFIX: {"Fn::Not": [{"Fn::Equals": [{"Ref": SECRETS_PREFIX}, ""]}]},
        HAS_CUSTOM_DOMAIN: {"Fn::Not": [{"Fn::Equals": [{"Ref": DOMAIN_NAME}, ""]}]},
    }


def rules() -> dict:
    """A domain without its certificate (or the reverse) is refused before anything is created."""
    def given(name: str) -> dict:
        return {"Fn::Not": [{"Fn::Equals": [{"Ref": name}, ""]}]}
    description = "DomainName and CertificateArn go together: give both, or neither"
    return {DOMAIN_RULE: {"RuleCondition": given(DOMAIN_NAME),
                          "Assertions": [{"Assert": given(CERTIFICATE_ARN), "AssertDescription": description}]},
            CERTIFICATE_RULE: {"RuleCondition": given(CERTIFICATE_ARN),
                               "Assertions": [{"Assert": given(DOMAIN_NAME), "AssertDescription": description}]}}


def environment() -> dict:
    """The functions' one variable about secrets: where to read them."""
    return {SECRETS_PREFIX_ENV: SECRETS_PREFIX_VALUE}


def secrets_statements() -> list[dict]:
    return [
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": list(SSM_ACTIONS), "Resource": [SECRETS_ARN]},
        {"Sid": "DecryptSecretsViaSsm", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KMS_KEYS],
         "Condition": {"StringEquals": {"kms:ViaService": KMS_VIA_SSM}}},
    ]


def log_groups(functions: Mapping[str, str]) -> dict:
    """One log group per function (``functions``: logical id → role)."""
    return {log_group_id(function): {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/tongxin-${{Stage}}-{role}"},
                       "RetentionInDays": {"Ref": LOG_RETENTION}},
    } for function, role in functions.items()}


def custom_domain(api: str) -> dict:
    """The REGIONAL domain (edge-optimised ones do not exist in China) and its mapping of / to the API's stage, so
    that https://<DomainName>/v1/... and the printed codes' /c, /i, /p reach the routes."""
    return {
        CUSTOM_DOMAIN: {
            "Type": "AWS::ApiGateway::DomainName", "Condition": HAS_CUSTOM_DOMAIN,
            "Properties": {"DomainName": {"Ref": DOMAIN_NAME}, "RegionalCertificateArn": {"Ref": CERTIFICATE_ARN},
                           "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"},
        },
        CUSTOM_DOMAIN_MAPPING: {
            "Type": "AWS::ApiGateway::BasePathMapping", "Condition": HAS_CUSTOM_DOMAIN,
            # <Api>.Stage: SAM's reference to the stage it creates, which orders the mapping after it.
            "Properties": {"DomainName": {"Ref": CUSTOM_DOMAIN}, "RestApiId": {"Ref": api},
                           "Stage": {"Ref": f"{api}.Stage"}},
        },
    }


def outputs() -> dict:
    return {
        "CustomDomainTarget": {
            "Condition": HAS_CUSTOM_DOMAIN,
            "Description": "Where DomainName's CNAME record points (the regional API Gateway host)",
            "Value": {"Fn::GetAtt": [CUSTOM_DOMAIN, "RegionalDomainName"]},
        },
        "CustomDomainUrl": {
            "Condition": HAS_CUSTOM_DOMAIN,
            "Description": "The API on its domain (QrLinkBase; the mini-program's request 合法域名)",
            "Value": {"Fn::Sub": "https://${%s}" % DOMAIN_NAME},
        },
        "SecretsPrefix": {
            "Description": "The SSM path the functions read their secrets from (docs/deploy.md)",
            "Value": SECRETS_PREFIX_VALUE,
        },
    }


# --- checking ---------------------------------------------------------------------------------------------------------

def _functions(resources: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {logical: resource for logical, resource in resources.items()
            if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")}


def _variables(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((node.get("Environment") or {}).get("Variables")) or {}


def _secret_like(key: str) -> bool:
    upper = key.upper()
    return key != SECRETS_PREFIX_ENV and any(word in upper for word in SECRET_WORDS)


def deployment_problems(template: Mapping[str, Any]) -> list[str]:
    """What in ``template`` breaks the rules above: a secret in a parameter or an environment, a function without
    its log group (named after it, with a retention, created before it), a secrets grant wider than the path."""
    resources = template.get("Resources", {})
    problems = [f"parameter {name} is NoEcho: a secret passed to the template ends up in the functions' "
                f"configuration; keep it in SSM under {SECRETS_PREFIX}"
                for name, parameter in template.get("Parameters", {}).items() if parameter.get("NoEcho")]
    environments = {"Globals": _variables(template.get("Globals", {}).get("Function", {}))}
    environments.update({logical: _variables(resource.get("Properties", {}))
                         for logical, resource in _functions(resources).items()})
    for where, variables in environments.items():
        problems += [f"{where} sets {key} in the environment: secrets are read from SSM ({SECRETS_PREFIX_ENV})"
                     for key in variables if _secret_like(key)]
    if environments["Globals"].get(SECRETS_PREFIX_ENV) != SECRETS_PREFIX_VALUE:
        problems.append(f"Globals do not set {SECRETS_PREFIX_ENV} to the secrets' path")
    groups = {logical: resource for logical, resource in resources.items()
              if resource.get("Type") == "AWS::Logs::LogGroup"}
    for logical, function in _functions(resources).items():
        problems += [f"{logical}: {problem}" for problem in _log_group_problems(logical, function, groups)]
        problems += [f"{logical}: {problem}" for problem in _secrets_grant_problems(function)]
        problems += [f"{logical}: {problem}" for problem in _version_problems(function)]
    layer = resources.get(LAYER, {}).get("Properties", {})
    if layer.get("PublishLambdaVersion") is not True:
        problems.append(f"{LAYER} does not set PublishLambdaVersion: a deploy that changes only the layer would "
                        f"leave every alias on the old layer")
    return problems


def _version_problems(function: Mapping[str, Any]) -> list[str]:
    properties = function.get("Properties", {})
    if properties.get("AutoPublishAlias") != LIVE_ALIAS:
        return [f"AutoPublishAlias is {properties.get('AutoPublishAlias')}, not {LIVE_ALIAS}: no version to roll "
                f"back to"]
    if properties.get("AutoPublishAliasAllProperties") is not True:
        return ["does not set AutoPublishAliasAllProperties: a deploy that changes only a setting or the layer "
                "would leave the alias on the old version"]
    return []


def _log_group_problems(logical: str, function: Mapping[str, Any], groups: Mapping[str, Any]) -> list[str]:
    name = function.get("Properties", {}).get("FunctionName")
    group = groups.get(log_group_id(logical))
    if group is None:
        return [f"no log group {log_group_id(logical)} (Lambda would create one that keeps logs forever)"]
    problems = []
    properties = group.get("Properties", {})
    if not (isinstance(name, Mapping) and "Fn::Sub" in name
            and properties.get("LogGroupName") == {"Fn::Sub": "/aws/lambda/" + name["Fn::Sub"]}):
        problems.append(f"log group {properties.get('LogGroupName')} is not /aws/lambda/<its FunctionName {name}>")
    if properties.get("RetentionInDays") != {"Ref": LOG_RETENTION}:
        problems.append(f"log group's RetentionInDays {properties.get('RetentionInDays')} is not {LOG_RETENTION}")
    depends = function.get("DependsOn", [])
    if log_group_id(logical) not in ([depends] if isinstance(depends, str) else depends):
        problems.append(f"does not depend on {log_group_id(logical)} (Lambda could create the group first)")
    return problems


def _secrets_grant_problems(function: Mapping[str, Any]) -> list[str]:
    statements = [statement for policy in function.get("Properties", {}).get("Policies") or []
                  if isinstance(policy, Mapping) for statement in policy.get("Statement", [])]
    problems = []
    for statement in statements:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if any(str(action).lower().startswith("ssm:") for action in actions) and \
                statement.get("Resource") != [SECRETS_ARN]:
            problems.append(f"grants {actions} on {statement.get('Resource')}, not only the secrets' path")
        if any(str(action).lower().startswith("kms:") for action in actions) and \
                statement.get("Condition") != {"StringEquals": {"kms:ViaService": KMS_VIA_SSM}}:
            problems.append(f"grants {actions} without the kms:ViaService condition (SSM only)")
    granted = {str(action) for statement in statements
               for action in ([statement["Action"]] if isinstance(statement.get("Action"), str)
                              else statement.get("Action", []))}
    if not set(SSM_ACTIONS) <= granted or "kms:Decrypt" not in granted:
        problems.append("cannot read its secrets (ssm:GetParameters on the path and kms:Decrypt via SSM)")
    return problems


def secret_parameter_names(prefix: str) -> list[str]:
    """The SSM names under ``prefix`` (what docs/deploy.md creates)."""
    return [prefix + name for name in SECRET_PARAMETERS]

