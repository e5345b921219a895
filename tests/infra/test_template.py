"""The SAM template: current with the code, in sync with Chalice's routes and the models, accepted by
cfn-lint and by the SAM translator, and deployable within Lambda's limits whatever the number of routes."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from cfnlint.api import lint
from samtranslator.translator.transform import transform

import app
from chalicelib.http import ROUTES
from infra.deploy import template_check, template_gen
from tongxin.adapters.dynamo.models import ALL_MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
CHINA_REGIONS = ["cn-north-1", "cn-northwest-1"]
# Past this many routes, one invoke permission per route would overflow the API function's resource policy
# (Lambda caps it at 20 KB, about 48 routes).
MANY_ROUTES = 120


@pytest.fixture(scope="module")
def template_text() -> str:
    return template_gen.TEMPLATE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def template(template_text) -> dict:
    return yaml.safe_load(template_text)


def _route_pairs() -> list[tuple[str, str]]:
    return sorted({(route.path, route.method) for route in ROUTES})


def test_committed_template_is_generated_from_the_code():
    diff = template_gen.stale_diff()
    assert not diff, f"template.yaml is stale: {template_gen.REGENERATE_HINT}\n" + "\n".join(diff[:40])


def test_template_matches_chalice_routes_and_models(template):
    assert app.app.routes, "the Chalice app registered no routes"
    assert template_check.template_sync_problems(template, app.app.routes, ALL_MODELS) == []


def _paths(template: dict) -> dict:
    return template["Resources"][template_gen.API]["Properties"]["DefinitionBody"]["paths"]


def _health_integration(template: dict) -> dict:
    return _paths(template)["/v1/health"]["get"]["x-amazon-apigateway-integration"]


def _add_operation(path: str, method: str):
    """Declares ``method path`` in the DefinitionBody, integrated as every route is."""
    def mutate(template: dict) -> None:
        _paths(template).setdefault(path, {})[method] = copy.deepcopy(_paths(template)["/v1/health"]["get"])
    return mutate


def _add_api_event(template: dict) -> None:
    template["Resources"][template_gen.API_FUNCTION]["Properties"]["Events"] = {"Health": {
        "Type": "Api", "Properties": {"RestApiId": {"Ref": template_gen.API}, "Path": "/v1/health", "Method": "GET"}}}


def _set_integration(**fields):
    def mutate(template: dict) -> None:
        _health_integration(template).update(fields)
    return mutate


def _add_route_permission(template: dict) -> None:
    """What SAM generates for an Api event: a permission for one route only."""
    permission = copy.deepcopy(template["Resources"][template_gen.API_PERMISSION])
    permission["Properties"]["SourceArn"] = {
        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/v1/health"}
    template["Resources"]["ApiFunctionGetHealthPermission"] = permission


def _table(template: dict, model) -> dict:
    return template["Resources"][template_gen.table_id(model)]["Properties"]


def _first_with(template: dict, prop: str) -> dict:
    return next(_table(template, model) for model in ALL_MODELS if prop in _table(template, model))


def _grant(action):
    def mutate(template: dict) -> None:
        policy = template["Resources"][template_gen.SCHEDULER_FUNCTION]["Properties"]["Policies"][0]
        policy["Statement"][0]["Action"].append(action)
    return mutate


def _use_managed_policy(template: dict) -> None:
    template["Resources"][template_gen.API_FUNCTION]["Properties"]["Policies"].append("AmazonDynamoDBFullAccess")


def _swap_key_types(template: dict) -> None:
    table = next(_table(template, model) for model in ALL_MODELS if len(_table(template, model)["KeySchema"]) == 2)
    for key in table["KeySchema"]:
        key["KeyType"] = "RANGE" if key["KeyType"] == "HASH" else "HASH"


def _environment(template: dict) -> dict:
    return template["Globals"]["Function"]["Environment"]["Variables"]


def _set_function_secret(template: dict) -> None:
    properties = template["Resources"][template_gen.SCHEDULER_FUNCTION]["Properties"]
    properties["Environment"] = {"Variables": {"WECHAT_SECRET": "s3cr3t"}}


def _log_group(template: dict) -> dict:
    return template["Resources"][template_gen.API_FUNCTION + "LogGroup"]["Properties"]


def _function(template: dict, function: str) -> dict:
    return template["Resources"][function]["Properties"]


def _secrets_statement(template: dict, sid: str) -> dict:
    policies = template["Resources"][template_gen.API_FUNCTION]["Properties"]["Policies"]
    return next(statement for policy in policies for statement in policy["Statement"] if statement.get("Sid") == sid)


SCHEDULER_URI = {"Fn::Sub": template_gen.INTEGRATION_URI["Fn::Sub"].replace(
    template_gen.API_FUNCTION, template_gen.SCHEDULER_FUNCTION)}
LATEST_URI = {"Fn::Sub": template_gen.INTEGRATION_URI["Fn::Sub"].replace(".Alias}", ".Arn}")}  # the function's $LATEST
GLOBAL_PARTITION_URI = {"Fn::Sub": template_gen.INTEGRATION_URI["Fn::Sub"].replace("${AWS::Partition}", "aws")}

DRIFTS = {
    "route without an operation": (None, "has no operation in the Api DefinitionBody"),
    "operation without a route": (_add_operation("/v1/ghosts", "get"), "GET /v1/ghosts has no Chalice route"),
    "catch-all path": (_add_operation("/{proxy+}", "get"), "GET /{proxy+} is a catch-all"),
    "catch-all method": (_add_operation("/v1/health", template_gen.ANY_METHOD), "ANY /v1/health is a catch-all"),
    "duplicate operation": (_add_operation("/v1/health", "GET"), "route GET /v1/health is declared 2 times"),
    "route also an Api event": (_add_api_event, "route GET /v1/health is declared 2 times"),
    "Api event": (_add_api_event, "has an Api event Health (GET /v1/health)"),
    "no DefinitionBody": (lambda t: t["Resources"][template_gen.API]["Properties"].pop("DefinitionBody"),
                          "with an OpenAPI DefinitionBody"),
    "no integration": (lambda t: _paths(t)["/v1/health"]["get"].pop("x-amazon-apigateway-integration"),
                       "GET /v1/health does not proxy"),
    "non-proxy integration": (_set_integration(type="aws"), "GET /v1/health does not proxy"),
    "integration with another function": (_set_integration(uri=SCHEDULER_URI), "GET /v1/health does not proxy"),
    "integration outside the China partition": (_set_integration(uri=GLOBAL_PARTITION_URI),
                                                "GET /v1/health does not proxy"),
    "integration with the function, not its alias": (_set_integration(uri=LATEST_URI), "GET /v1/health does not proxy"),
    "missing permission": (lambda t: t["Resources"].pop(template_gen.API_PERMISSION), "no AWS::Lambda::Permission"),
    "permission on the function, not its alias": (
        lambda t: t["Resources"][template_gen.API_PERMISSION]["Properties"].update(
            FunctionName={"Ref": template_gen.API_FUNCTION}), "not ApiFunction's alias"),
    "permission per route": (_add_route_permission, "2 permissions let API Gateway invoke ApiFunction"),
    "permission for one route": (_add_route_permission, "not every route of Api"),
    "missing GSI": (lambda t: _first_with(t, "GlobalSecondaryIndexes")["GlobalSecondaryIndexes"].pop(),
                    "is missing from GlobalSecondaryIndexes"),
    "swapped keys": (_swap_key_types, "key schema"),
    "missing TTL": (lambda t: _first_with(t, "TimeToLiveSpecification").pop("TimeToLiveSpecification"), "TTL"),
    "missing stream": (lambda t: _first_with(t, "StreamSpecification").pop("StreamSpecification"), "stream"),
    "missing table": (lambda t: t["Resources"].pop(template_gen.table_id(ALL_MODELS[0])), "has no table named"),
    "Scan granted": (_grant("dynamodb:Scan"), "grants dynamodb:Scan"),
    "all DynamoDB granted": (_grant("dynamodb:*"), "grants dynamodb:Scan"),
    "managed policy": (_use_managed_policy, "not an explicit Statement list"),
    # The deployment's rules (infra/deploy/template_deploy.py): secrets only in SSM, every function's log group.
    "secret in the environment": (lambda t: _environment(t).update(TOKEN_SECRET={"Ref": "Stage"}),
                                  "Globals sets TOKEN_SECRET in the environment"),
    "secret in a function's environment": (_set_function_secret, "SchedulerFunction sets WECHAT_SECRET"),
    "NoEcho parameter": (lambda t: t["Parameters"].update(TokenSecret={"Type": "String", "NoEcho": True}),
                         "parameter TokenSecret is NoEcho"),
    "no secrets path": (lambda t: _environment(t).pop("SECRETS_SSM_PREFIX"), "do not set SECRETS_SSM_PREFIX"),
    "missing log group": (lambda t: t["Resources"].pop("SenderFunctionLogGroup"), "no log group SenderFunctionLogGroup"),
    "log group kept forever": (lambda t: _log_group(t).pop("RetentionInDays"), "RetentionInDays None"),
    "log group of another name": (lambda t: _log_group(t).update(LogGroupName="/aws/lambda/api"), "is not /aws/lambda/"),
    "function before its log group": (lambda t: t["Resources"][template_gen.API_FUNCTION].pop("DependsOn"),
                                      "ApiFunction: does not depend on ApiFunctionLogGroup"),
    "secrets of every stage": (lambda t: _secrets_statement(t, "ReadSecrets").update(Resource=["*"]),
                               "not only the secrets' path"),
    "decrypt anything": (lambda t: _secrets_statement(t, "DecryptSecretsViaSsm").pop("Condition"),
                         "without the kms:ViaService condition"),
    # Versions and the live alias (rollback in seconds, docs/deploy.md).
    "function without an alias": (lambda t: _function(t, template_gen.SENDER_FUNCTION).pop("AutoPublishAlias"),
                                  "SenderFunction: AutoPublishAlias is None"),
    "version of the code only": (
        lambda t: _function(t, template_gen.API_FUNCTION).pop("AutoPublishAliasAllProperties"),
        "ApiFunction: does not set AutoPublishAliasAllProperties"),
    "layer that publishes no version": (
        lambda t: t["Resources"][template_gen.LAYER]["Properties"].pop("PublishLambdaVersion"),
        "TongxinLayer does not set PublishLambdaVersion"),
    "no secrets grant": (lambda t: t["Resources"][template_gen.SENDER_FUNCTION]["Properties"]["Policies"].pop(),
                         "SenderFunction: cannot read its secrets"),
}


@pytest.mark.parametrize("drift", DRIFTS)
def test_sync_check_reports_drift(template, drift):
    """The check itself is checked: each kind of drift is reported, so it cannot pass silently."""
    mutate, expected = DRIFTS[drift]
    if mutate is None:  # the template built from the route list with one route removed
        removed, *kept = _route_pairs()
        broken = template_gen.build_template(kept, ALL_MODELS, app.app.api.binary_types)
        expected = f"route {removed[1]} {removed[0]} {expected}"
    else:
        broken = copy.deepcopy(template)
        mutate(broken)
    problems = template_check.template_sync_problems(broken, app.app.routes, ALL_MODELS)
    assert any(expected in problem for problem in problems), problems


def test_logical_ids_come_from_free_text():
    assert template_gen.logical_id("GET", "/v1/wishes/{wish_id}") == "GetV1WishesWishId"


@pytest.mark.parametrize("stage, allowed", [("prod", True), ("staging", True), ("dev2", True),
                                            ("dev", False), ("test", False), ("Prod", False), ("", False)])
def test_stage_parameter_refuses_local_stages(template, stage, allowed):
    # A "dev" or "test" stage would make the runtime default to the local DynamoDB and WeChat stand-in.
    pattern = template["Parameters"]["Stage"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, stage)) is allowed


# cfn-lint's runtime-lifecycle rules compare the runtime with today's date, so they would turn the suite red
# on a calendar date with no change to the code. The runtime is chosen deliberately instead (python3.12:
# deprecated 2028-10-31, creation blocked 2028-11-30, updates blocked 2029-01-10; docs/architecture.md) and
# test_runtime_is_the_built_one keeps the template and the build on it.
RUNTIME_LIFECYCLE_RULES = ["W2531", "E2531", "E2533"]


def test_cfn_lint_reports_nothing(template_text):
    # Errors and warnings both fail; informational findings are allowed.
    config = {"regions": CHINA_REGIONS, "ignore_checks": RUNTIME_LIFECYCLE_RULES}
    findings = [match for match in lint(template_text, config=config) if match.rule.severity != "informational"]
    assert findings == [], "\n".join(str(match) for match in findings)


def test_cfn_lint_with_ignored_rules_still_lints(template):
    """Passing a config replaces lint()'s other arguments: check that the function settings are still checked."""
    broken = copy.deepcopy(template)
    broken["Globals"]["Function"]["MemorySize"] = 1
    config = {"regions": CHINA_REGIONS, "ignore_checks": RUNTIME_LIFECYCLE_RULES}
    findings = lint(yaml.safe_dump(broken, allow_unicode=True), config=config)
    assert any(match.rule.id == "E3034" for match in findings), findings


def test_runtime_is_the_built_one(template):
    """Functions, layer and the layer's build (bytecode is per interpreter version) use one runtime."""
    from infra.deploy import build_layer
    assert template["Globals"]["Function"]["Runtime"] == build_layer.RUNTIME
    layer = template["Resources"][template_gen.LAYER]
    assert layer["Properties"]["CompatibleRuntimes"] == [build_layer.RUNTIME]
    assert layer["Properties"]["CompatibleArchitectures"] == [build_layer.ARCHITECTURE]
    # SAM runs layers/Makefile (infra/deploy/build_layer.py), not its python builder, which ships no bytecode.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (REPO_ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text(encoding="utf-8")
    assert f"build-{template_gen.LAYER}:" in makefile and "infra/deploy/build_layer.py" in makefile


def test_api_stage_is_throttled_and_answers_in_the_envelope(template, transformed):
    """Over the stage's rate, API Gateway answers 429 RATE_LIMITED in our envelope, before Lambda runs."""
    stages = _of_type(transformed, "AWS::ApiGateway::Stage")
    (stage,) = stages.values()
    (setting,) = stage["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert setting["ThrottlingRateLimit"] == {"Ref": template_gen.THROTTLING_RATE}
    assert setting["ThrottlingBurstLimit"] == {"Ref": template_gen.THROTTLING_BURST}
    rate, burst = (template["Parameters"][name] for name in (template_gen.THROTTLING_RATE,
                                                              template_gen.THROTTLING_BURST))
    assert 0 < rate["Default"] <= burst["Default"]

    (rest_api,) = _of_type(transformed, "AWS::ApiGateway::RestApi").values()
    throttled = rest_api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]["THROTTLED"]
    assert str(throttled["statusCode"]) == "429"
    body = json.loads(throttled["responseTemplates"]["application/json"])
    assert body["error"]["code"] == "RATE_LIMITED" and set(body["error"]) == {"code", "message", "details"}


class _NoManagedPolicies:
    """The translator's managed-policy loader, which would call IAM; the template names no managed policy."""

    def load(self) -> dict:
        return {}


def _translate(template: dict, parameters: dict | None = None) -> dict:
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():  # what `sam package` does: local code → S3 objects
        for key in ("CodeUri", "ContentUri"):
            if key in resource["Properties"]:
                resource["Properties"][key] = f"s3://artifacts/{resource['Properties'][key].strip('/')}.zip"
    return transform(packaged, parameters or {}, _NoManagedPolicies(), feature_toggle=None)


@pytest.fixture()
def china_region(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")


@pytest.fixture()
def transformed(template, china_region) -> dict:
    return _translate(template)


def _of_type(template: dict, resource_type: str) -> dict:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == resource_type}


def _api_permissions(transformed: dict) -> dict:
    return {name: permission for name, permission in _of_type(transformed, "AWS::Lambda::Permission").items()
            if permission["Properties"]["Principal"] == "apigateway.amazonaws.com"}


def _operations(transformed: dict) -> list[tuple[str, str]]:
    """The (path, METHOD) pairs of the translated template's only RestApi, one per operation."""
    (rest_api,) = _of_type(transformed, "AWS::ApiGateway::RestApi").values()
    return [(path, method.upper()) for path, operations in rest_api["Properties"]["Body"]["paths"].items()
            for method in operations]


def test_sam_translates_one_rest_api_with_every_route(transformed):
    assert len(_of_type(transformed, "AWS::ApiGateway::RestApi")) == 1
    assert len(_of_type(transformed, "AWS::ApiGateway::Deployment")) == 1
    # One stage, the one named by the Stage parameter (no extra stage called "Stage").
    stages = _of_type(transformed, "AWS::ApiGateway::Stage")
    assert [stage["Properties"]["StageName"] for stage in stages.values()] == [{"Ref": "Stage"}]

    operations = _operations(transformed)
    routes = [(path, method) for path, methods in app.app.routes.items() for method in methods]
    assert sorted(operations) == sorted(routes)

    (rest_api,) = _of_type(transformed, "AWS::ApiGateway::RestApi").values()
    body = rest_api["Properties"]["Body"]
    uris = {str(operation["x-amazon-apigateway-integration"]["uri"])
            for operations in body["paths"].values() for operation in operations.values()}
    # Partition-neutral, so it deploys to aws-cn; the API function's alias (SAM's ${ApiFunction.Alias}, translated).
    assert uris == {str({"Fn::Sub": template_gen.INTEGRATION_URI["Fn::Sub"].replace(
        "${ApiFunction.Alias}", "${%s}" % template_gen.alias_id(template_gen.API_FUNCTION))})}

    # SAM merges the Api's GatewayResponses and BinaryMediaTypes properties into the DefinitionBody.
    assert body["x-amazon-apigateway-gateway-responses"].keys() == template_gen.GATEWAY_RESPONSES.keys()
    assert body["x-amazon-apigateway-binary-media-types"] == app.app.api.binary_types
    assert "image~1png" in rest_api["Properties"]["BinaryMediaTypes"]


def test_one_invoke_permission_covers_any_number_of_routes(template, china_region):
    """Lambda caps a function's resource policy at 20 KB, which one invoke permission per route would
    pass at about 48 routes: the API function gets one permission for the whole API instead."""
    extra = [(f"/v1/load/r{number}/{{item_id}}", method)
             for number in range(MANY_ROUTES) for method in ("GET", "POST")]
    for routes in (_route_pairs(), _route_pairs() + extra):
        translated = _translate(template_gen.build_template(routes, ALL_MODELS, app.app.api.binary_types))
        assert sorted(_operations(translated)) == sorted(routes)
        permissions = _api_permissions(translated)
        assert [permission["Properties"] for permission in permissions.values()] == [{
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": template_gen.alias_id(template_gen.API_FUNCTION)},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": template_gen.API_SOURCE_ARN,
        }]


# --- versions and the live alias (rollback in seconds: docs/deploy.md, Rollback) ---------------------------------------

FUNCTIONS = (template_gen.API_FUNCTION, template_gen.SCHEDULER_FUNCTION, template_gen.SENDER_FUNCTION)


def _versions(transformed: dict) -> dict[str, str]:
    """function → the logical id of the version its alias names (SAM's <Function>Version<hash of what it hashes>)."""
    return {function: transformed["Resources"][template_gen.alias_id(function)]["Properties"]["FunctionVersion"][
        "Fn::GetAtt"][0] for function in FUNCTIONS}


def _refs(node) -> set[str]:
    """Every resource a node names (Ref, Fn::GetAtt, ${…} in Fn::Sub)."""
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    if set(node) == {"Ref"}:
        return {node["Ref"]}
    if set(node) == {"Fn::GetAtt"}:
        return {node["Fn::GetAtt"][0]}
    if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
        return set(re.findall(r"\$\{([^}.:]+)\}", node["Fn::Sub"]))  # not pseudo-parameters (AWS::…)
    return set().union(*(_refs(value) for value in node.values())) if node else set()


def test_api_gateway_the_schedule_and_the_stream_invoke_the_live_alias(transformed):
    resources = transformed["Resources"]
    for function, version in _versions(transformed).items():
        alias = resources[template_gen.alias_id(function)]
        assert alias["Type"] == "AWS::Lambda::Alias" and alias["Properties"]["Name"] == "live"
        assert alias["Properties"]["FunctionName"] == {"Ref": function}
        # Old versions stay when a deploy publishes a new one: what a rollback points the alias back to.
        assert resources[version]["Type"] == "AWS::Lambda::Version"
        assert resources[version]["DeletionPolicy"] == "Retain"
        assert resources[version]["Properties"]["FunctionName"] == {"Ref": function}
    api_alias, scheduler_alias, sender_alias = (template_gen.alias_id(function) for function in FUNCTIONS)

    (rest_api,) = _of_type(transformed, "AWS::ApiGateway::RestApi").values()
    integrations = [operation["x-amazon-apigateway-integration"]["uri"]
                    for operations in rest_api["Properties"]["Body"]["paths"].values()
                    for operation in operations.values()]
    assert {frozenset(_refs(uri)) for uri in integrations} == {frozenset({api_alias})}
    (permission,) = _api_permissions(transformed).values()
    assert permission["Properties"]["FunctionName"] == {"Ref": api_alias}

    (rule,) = _of_type(transformed, "AWS::Events::Rule").values()
    assert [target["Arn"] for target in rule["Properties"]["Targets"]] == [{"Ref": scheduler_alias}]
    (mapping,) = _of_type(transformed, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionName"] == {"Ref": sender_alias}
    # Nothing is allowed to invoke a function's $LATEST: every permission names an alias.
    assert {str(p["Properties"]["FunctionName"]) for p in _of_type(transformed, "AWS::Lambda::Permission").values()} \
        == {str({"Ref": api_alias}), str({"Ref": scheduler_alias})}


def _changed(template: dict, change) -> dict:
    changed = copy.deepcopy(template)
    change(changed["Resources"])
    return changed


def test_a_deploy_publishes_a_version_of_what_it_changes(template, china_region):
    """The version's logical id is a hash: a new one is a new version, which the alias moves to. By default SAM
    hashes only the function's code; the tongxin package lives in the layer, so a layer-only change must count."""
    before = _versions(_translate(template))
    assert _versions(_translate(template)) == before  # the same template publishes nothing new

    def published(change) -> set[str]:
        after = _versions(_translate(_changed(template, change)))
        return {function for function in FUNCTIONS if after[function] != before[function]}

    def code(resources):
        resources[template_gen.API_FUNCTION]["Properties"]["CodeUri"] = "functions/api-next/"

    def layer(resources):
        resources[template_gen.LAYER]["Properties"]["ContentUri"] = "layers-next/"

    def setting(resources):
        resources[template_gen.SCHEDULER_FUNCTION]["Properties"]["Timeout"] = 61

    assert published(code) == {template_gen.API_FUNCTION}
    assert published(layer) == set(FUNCTIONS)
    assert published(setting) == {template_gen.SCHEDULER_FUNCTION}


def test_a_parameters_value_is_not_hashed_so_the_deploy_publishes_it_itself(template, china_region):
    """SAM does not hash the value of a parameter the environment names (aws/serverless-application-model#3820):
    `make deploy STAGE=… ` runs infra/deploy/publish_live.py after sam deploy for that reason. Should SAM start hashing
    it, this fails and the step can go."""
    before = _versions(_translate(template))
    assert _versions(_translate(template, {"QrVerifyFile": "Ab12Cd34Ef.txt:0123abcd"})) == before


def _requirement_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_layer_requirements_match_the_runtime_requirements():
    assert _requirement_lines(REPO_ROOT / "layers" / "requirements.txt") == \
        _requirement_lines(REPO_ROOT / "requirements.txt")


def _grants(template: dict, function: str) -> dict[str, set[str]]:
    """What ``function``'s policy allows, by resource: ``<Table>`` (its items) or ``<Table>/index`` (its indexes)."""
    granted: dict[str, set[str]] = {}
    for policy in template["Resources"][function]["Properties"]["Policies"]:
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            if not all(action.startswith("dynamodb:") for action in statement["Action"]):
                continue  # the secrets' statements (test_secrets_are_read_from_the_stages_ssm_path)
            for resource in statement["Resource"]:
                if "Fn::GetAtt" in resource:
                    name = resource["Fn::GetAtt"][0]
                else:
                    name = resource["Fn::Sub"].removeprefix("${").replace(".Arn}/index/*", "/index")
                granted.setdefault(name, set()).update(statement["Action"])
    return granted


def test_the_request_and_street_tables_are_declared_and_granted(template):
    """接诉即办 (issue 12): the requests table with the four indexes its lists and the scheduler query, the streets
    table; the API and the scheduler work on both, and the sender reads who a fan-out reaches — a community's admins
    and a street's staff — and nothing more of them."""
    from tongxin.adapters.dynamo.models import CommunityModel, RequestModel, StreetModel
    requests, streets = _table(template, RequestModel), _table(template, StreetModel)
    assert requests["TableName"] == {"Fn::Sub": "tongxin-${Stage}-requests"}
    assert streets["TableName"] == {"Fn::Sub": "tongxin-${Stage}-streets"}
    assert {index["IndexName"] for index in requests["GlobalSecondaryIndexes"]} == \
        {"by_author", "by_community", "by_handler", "by_due"}
    assert streets["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    requests_id, streets_id = template_gen.table_id(RequestModel), template_gen.table_id(StreetModel)
    for function in (template_gen.API_FUNCTION, template_gen.SCHEDULER_FUNCTION):
        granted = _grants(template, function)
        assert {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"} <= granted[requests_id]
        assert "dynamodb:Query" in granted[f"{requests_id}/index"]  # the lists, the queues, the due index
        assert "dynamodb:GetItem" in granted[streets_id]
        assert "dynamodb:Scan" not in granted[requests_id] | granted[f"{requests_id}/index"]
    sender = _grants(template, template_gen.SENDER_FUNCTION)
    assert sender[streets_id] == {"dynamodb:GetItem"}
    assert sender[template_gen.table_id(CommunityModel)] == {"dynamodb:GetItem"}
    assert requests_id not in sender


# --- alarms (issue 13; docs/operations.md is the runbook) ----------------------------------------------------------

def _alarms(template: dict) -> dict[str, dict]:
    return {name: resource["Properties"] for name, resource in _of_type(template, "AWS::CloudWatch::Alarm").items()}


def _metric_stats(alarm: dict) -> list[tuple[str, str, dict, str, int]]:
    """(namespace, metric, dimensions, statistic, period) of each metric an alarm reads, plain or metric math."""
    if "Metrics" not in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], {d["Name"]: d["Value"] for d in alarm["Dimensions"]},
                 alarm["Statistic"], alarm["Period"])]
    return [(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"],
             {d["Name"]: d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"]}, m["MetricStat"]["Stat"],
             m["MetricStat"]["Period"]) for m in alarm["Metrics"] if "MetricStat" in m]


def _expression(alarm: dict) -> str:
    [returned] = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
    return returned["Expression"]


def _alarm_on(template: dict, namespace: str, metric: str, **dimensions) -> dict:
    found = [alarm for alarm in _alarms(template).values()
             if any(ns == namespace and name == metric and all(dims.get(k) == v for k, v in dimensions.items())
                    for ns, name, dims, _, _ in _metric_stats(alarm))]
    assert len(found) == 1, f"{len(found)} alarms on {namespace} {metric} {dimensions}"
    return found[0]


def test_every_alarm_notifies_the_topic_which_emails_the_optional_address(template):
    alarms = _alarms(template)
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert "docs/operations.md" in alarm["AlarmDescription"], name
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    condition, subscribed, unsubscribed = topic["Properties"]["Subscription"]["Fn::If"]
    assert subscribed == [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    assert unsubscribed == {"Ref": "AWS::NoValue"}
    assert template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    parameter = template["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""  # optional: a stack deploys without one
    for address, allowed in (("", True), ("ops@heping.gov.cn", True), ("ops", False), ("a b@c.cn", False)):
        assert bool(re.fullmatch(parameter["AllowedPattern"], address)) is allowed, address


def test_the_api_5xx_alarm_is_a_rate_over_five_minutes(template):
    api = template["Resources"][template_gen.API]["Properties"]
    alarm = _alarm_on(template, "AWS/ApiGateway", "5XXError")
    stats = {name: (dims, stat, period) for _, name, dims, stat, period in _metric_stats(alarm)}
    dimensions = {"ApiName": api["Name"], "Stage": {"Ref": "Stage"}}  # a REST API's metrics are by name and stage
    assert stats == {"5XXError": (dimensions, "Sum", 300), "Count": (dimensions, "Sum", 300)}
    ids = {m["MetricStat"]["Metric"]["MetricName"]: m["Id"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert f"100 * {ids['5XXError']} / {ids['Count']}" in _expression(alarm)
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == \
        (1, "GreaterThanOrEqualToThreshold", 1)  # 1 % of the requests


def test_every_table_has_a_throttle_alarm_over_the_operations_we_send(template):
    for model in ALL_MODELS:
        table = {"Ref": template_gen.table_id(model)}
        alarm = _alarm_on(template, "AWS/DynamoDB", "ThrottledRequests", TableName=table, Operation="Query")
        operations = {dims["Operation"] for ns, name, dims, stat, _ in _metric_stats(alarm)
                      if (ns, name, stat, dims["TableName"]) == ("AWS/DynamoDB", "ThrottledRequests", "Sum", table)}
        assert {"GetItem", "BatchGetItem", "Query", "TransactWriteItems"} <= operations, model.TABLE
        ids = [m["Id"] for m in alarm["Metrics"] if "MetricStat" in m]
        assert all(f"FILL({metric_id}, 0)" in _expression(alarm) for metric_id in ids)  # summed, none left out
        assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (10, 2, 2)
    # The outbox's fan-out cursor is the one write that is not a transaction.
    from tongxin.adapters.dynamo.models import OutboxModel
    _alarm_on(template, "AWS/DynamoDB", "ThrottledRequests", TableName={"Ref": template_gen.table_id(OutboxModel)},
              Operation="UpdateItem")


def test_every_function_has_an_errors_and_a_throttles_alarm(template):
    functions = _of_type(template, "AWS::Serverless::Function")
    assert set(functions) == {template_gen.API_FUNCTION, template_gen.SCHEDULER_FUNCTION,
                              template_gen.SENDER_FUNCTION}
    for function in functions:
        for metric in ("Errors", "Throttles"):
            alarm = _alarm_on(template, "AWS/Lambda", metric, FunctionName={"Ref": function})
            assert alarm["Statistic"] == "Sum" and alarm["Period"] == 300
            assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] >= 1
    assert _alarm_on(template, "AWS/Lambda", "Throttles",
                     FunctionName={"Ref": template_gen.API_FUNCTION})["Threshold"] == 1


def test_the_push_alarms_watch_the_stream_the_failures_and_the_backlog(template):
    age = _alarm_on(template, "AWS/Lambda", "IteratorAge", FunctionName={"Ref": template_gen.SENDER_FUNCTION})
    assert (age["Statistic"], age["Threshold"]) == ("Maximum", 120_000)  # milliseconds
    # Our own metrics (tongxin.metrics; tests/unit/test_metrics.py checks the EMF the code writes).
    failed = _alarm_on(template, "Tongxin", "message_failed", service="tongxin")
    assert (failed["Statistic"], failed["Period"], failed["Threshold"]) == ("Sum", 900, 10)
    backlog = _alarm_on(template, "Tongxin", "outbox_backlog", service="tongxin")
    # The smallest backlog of 15 minutes' sweeps (three runs): it has not come down for a quarter of an hour.
    assert (backlog["Statistic"], backlog["Period"], backlog["Threshold"]) == ("Minimum", 900, 10)
    silent = _alarm_on(template, "AWS/Lambda", "Invocations", FunctionName={"Ref": template_gen.SCHEDULER_FUNCTION})
    assert (silent["ComparisonOperator"], silent["Threshold"], silent["TreatMissingData"]) == \
        ("LessThanThreshold", 1, "breaching")  # no run at all is what it is there for


def test_the_metric_names_alarmed_on_are_the_ones_the_code_counts(monkeypatch):
    from tongxin import metrics
    from tongxin.usecases.push import metrics as push_metrics
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.flush()
    push_metrics.count("failed")
    assert metrics.pending() == {"message_failed": 1}
    metrics.flush()


def test_alarm_references_resolve_after_sams_transform(transformed):
    """What an alarm names (a function, a table, the topic) exists once SAM has expanded the template."""
    def refs(node):
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                yield node["Ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)
    known = set(transformed["Resources"]) | set(transformed["Parameters"]) | {"AWS::NoValue"}
    alarms = _of_type(transformed, "AWS::CloudWatch::Alarm")
    assert len(alarms) == len(ALL_MODELS) + 3 * 2 + 5  # tables, functions × (errors, throttles), API and push
    for name, alarm in alarms.items():
        assert set(refs(alarm)) <= known, name
