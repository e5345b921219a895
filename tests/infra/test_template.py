"""The SAM template: current with the code, in sync with Chalice's routes and the models, accepted by
cfn-lint and by the SAM translator, and deployable within Lambda's limits."""
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
from infra import template_gen
from tongxin.adapters.dynamo.models import ALL_MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
CHINA_REGIONS = ["cn-north-1", "cn-northwest-1"]
# Lambda's limit on a function's resource-based policy, which gets one statement per Api event.
RESOURCE_POLICY_LIMIT = 20 * 1024


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
    assert template_gen.template_sync_problems(template, app.app.routes, ALL_MODELS) == []


def _add_event(path: str, method: str):
    def mutate(template: dict) -> None:
        events = template["Resources"][template_gen.API_FUNCTION]["Properties"]["Events"]
        events["Extra"] = {"Type": "Api", "Properties": {"RestApiId": {"Ref": template_gen.API},
                                                         "Path": path, "Method": method}}
    return mutate


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


DRIFTS = {
    "route without an event": (None, "has no Api event"),
    "event without a route": (_add_event("/v1/ghosts", "GET"), "GET /v1/ghosts has no Chalice route"),
    "catch-all event": (_add_event("/{proxy+}", "ANY"), "is a catch-all"),
    "duplicate event": (_add_event("/v1/health", "GET"), "GET /v1/health has 2 Api events"),
    "missing GSI": (lambda t: _first_with(t, "GlobalSecondaryIndexes")["GlobalSecondaryIndexes"].pop(),
                    "is missing from GlobalSecondaryIndexes"),
    "swapped keys": (_swap_key_types, "key schema"),
    "missing TTL": (lambda t: _first_with(t, "TimeToLiveSpecification").pop("TimeToLiveSpecification"), "TTL"),
    "missing stream": (lambda t: _first_with(t, "StreamSpecification").pop("StreamSpecification"), "stream"),
    "missing table": (lambda t: t["Resources"].pop(template_gen.table_id(ALL_MODELS[0])), "has no table named"),
    "Scan granted": (_grant("dynamodb:Scan"), "grants dynamodb:Scan"),
    "all DynamoDB granted": (_grant("dynamodb:*"), "grants dynamodb:Scan"),
    "managed policy": (_use_managed_policy, "not an explicit Statement list"),
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
    problems = template_gen.template_sync_problems(broken, app.app.routes, ALL_MODELS)
    assert any(expected in problem for problem in problems), problems


def test_event_names_come_from_method_and_path():
    assert template_gen.logical_id("GET", "/v1/wishes/{wish_id}") == "GetV1WishesWishId"


@pytest.mark.parametrize("stage, allowed", [("prod", True), ("staging", True), ("dev2", True),
                                            ("dev", False), ("test", False), ("Prod", False), ("", False)])
def test_stage_parameter_refuses_local_stages(template, stage, allowed):
    # A "dev" or "test" stage would make the runtime default to the local DynamoDB and WeChat stand-in.
    pattern = template["Parameters"]["Stage"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, stage)) is allowed


def test_cfn_lint_reports_nothing(template_text):
    # Errors and warnings both fail; informational findings are allowed.
    findings = [match for match in lint(template_text, regions=CHINA_REGIONS)
                if match.rule.severity != "informational"]
    assert findings == [], "\n".join(str(match) for match in findings)


class _NoManagedPolicies:
    """The translator's managed-policy loader, which would call IAM; the template names no managed policy."""

    def load(self) -> dict:
        return {}


@pytest.fixture()
def transformed(template, monkeypatch) -> dict:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():  # what `sam package` does: local code → S3 objects
        for key in ("CodeUri", "ContentUri"):
            if key in resource["Properties"]:
                resource["Properties"][key] = f"s3://artifacts/{resource['Properties'][key].strip('/')}.zip"
    return transform(packaged, {}, _NoManagedPolicies(), feature_toggle=None)


def _of_type(template: dict, resource_type: str) -> dict:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == resource_type}


def _api_permissions(transformed: dict) -> dict:
    return {name: permission for name, permission in _of_type(transformed, "AWS::Lambda::Permission").items()
            if permission["Properties"]["Principal"] == "apigateway.amazonaws.com"}


def test_sam_translates_one_rest_api_with_every_route(transformed):
    assert len(_of_type(transformed, "AWS::ApiGateway::RestApi")) == 1
    assert len(_of_type(transformed, "AWS::ApiGateway::Deployment")) == 1
    # One stage, the one named by the Stage parameter (no extra stage called "Stage").
    stages = _of_type(transformed, "AWS::ApiGateway::Stage")
    assert [stage["Properties"]["StageName"] for stage in stages.values()] == [{"Ref": "Stage"}]

    (rest_api,) = _of_type(transformed, "AWS::ApiGateway::RestApi").values()
    paths = rest_api["Properties"]["Body"]["paths"]
    translated = {(path, method.upper()) for path, operations in paths.items() for method in operations}
    routes = {(path, method) for path, methods in app.app.routes.items() for method in methods}
    assert translated == routes

    # SAM adds one invoke permission per Api event.
    permissions = _api_permissions(transformed)
    assert len(permissions) == len(routes)
    assert all(p["Properties"]["FunctionName"] == {"Ref": template_gen.API_FUNCTION} for p in permissions.values())


def test_api_function_resource_policy_stays_under_the_lambda_limit(transformed):
    """Each Api event becomes a statement of the API function's resource policy, which Lambda caps at
    20 KB: about 48 routes. Measured here with identifiers as long as AWS makes them."""
    account, api_id, region, suffix = "0" * 12, "a" * 10, "cn-northwest-1", "X" * 13
    statements = []
    for name, permission in _api_permissions(transformed).items():
        source_arn, _ = permission["Properties"]["SourceArn"]["Fn::Sub"]
        source_arn = (source_arn.replace("${AWS::Region}", region).replace("${AWS::AccountId}", account)
                      .replace("${__ApiId__}", api_id).replace("${__Stage__}", "*"))
        statements.append({
            "Sid": f"tongxin-prod-{name}-{suffix}",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": f"arn:aws-cn:lambda:{region}:{account}:function:tongxin-prod-ApiFunction-{suffix}",
            "Condition": {"ArnLike": {"AWS:SourceArn": source_arn}},
        })
    size = len(json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements},
                          separators=(",", ":")))
    assert size < RESOURCE_POLICY_LIMIT, (
        f"the API function's resource policy would be about {size} bytes (limit {RESOURCE_POLICY_LIMIT}): "
        "replace the per-route invoke permissions with one for the whole API")


def _requirement_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_layer_requirements_match_the_runtime_requirements():
    assert _requirement_lines(REPO_ROOT / "layers" / "requirements.txt") == \
        _requirement_lines(REPO_ROOT / "requirements.txt")
