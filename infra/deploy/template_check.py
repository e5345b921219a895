"""Checks a SAM template against the code it deploys, without going through the generator (``infra/deploy/template_gen.py``):
Chalice's own route table, the PynamoDB models, the policies (no Scan), and the deployment's rules
(``infra/deploy/template_deploy.deployment_problems``: no secret in the environment, a log group per function).
``tests/infra/test_template.py`` runs it on ``template.yaml`` and on drifted copies of it."""
from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pynamodb.indexes import GlobalSecondaryIndex

from infra.deploy import template_deploy as deploy
from infra.deploy.template_gen import (ANY_METHOD, API, API_ALIAS, API_FUNCTION, API_SOURCE_ARN,  # noqa: F401
                                       HTTP_METHODS, INTEGRATION_URI)
from infra.deploy.template_names import alias_id


def template_sync_problems(template: Mapping[str, Any], chalice_routes: Mapping[str, Mapping[str, Any]],
                           models: Iterable[Any]) -> list[str]:
    """What in ``template`` disagrees with Chalice's route table (``app.routes``: path → method → entry)
    and the PynamoDB ``models``, grants a Scan, or breaks a deployment rule (a secret in the environment, a log
    group missing: ``template_deploy.deployment_problems``); an empty list when nothing does."""
    resources = template.get("Resources", {})
    return [*_route_problems(resources, chalice_routes), *_permission_problems(resources),
            *_table_problems(template, models), *_policy_problems(resources), *deploy.deployment_problems(template)]


def _route_problems(resources: Mapping[str, Any], chalice_routes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The Api's DefinitionBody against Chalice's routes, in both directions: every route has exactly one
    operation, which proxies to the API function's live alias, and every operation is a route."""
    problems = []
    declared: Counter[tuple[str, str]] = Counter()
    api = resources.get(API, {})
    body = api.get("Properties", {}).get("DefinitionBody")
    if api.get("Type") != "AWS::Serverless::Api" or not isinstance(body, Mapping):
        problems.append(f"{API} is not an AWS::Serverless::Api with an OpenAPI DefinitionBody")
        body = {}
    for path, path_item in body.get("paths", {}).items():
        for key, operation in path_item.items():
            if key.lower() not in HTTP_METHODS:
                continue  # path-level fields such as parameters or summary
            method = "ANY" if key.lower() == ANY_METHOD else key.upper()
            declared[(path, method)] += 1
            problems += [f"operation {method} {path} {problem}"
                         for problem in _operation_problems(path, method, operation)]
    # SAM adds an invoke permission per Api event, so none is allowed; those attached to the Api still
    # declare their route, since SAM merges them into the DefinitionBody.
    for logical, name, event in _api_events(resources):
        path, method = event.get("Path", ""), str(event.get("Method", "")).upper()
        problems.append(f"{logical} has an Api event {name} ({method} {path}), which adds an invoke "
                        f"permission per route; declare routes in the {API} DefinitionBody instead")
        if event.get("RestApiId") == {"Ref": API}:
            declared[(path, method)] += 1

    routes = {(path, method.upper()) for path, methods in chalice_routes.items() for method in methods}
    for path, method in sorted(routes - set(declared)):
        problems.append(f"route {method} {path} has no operation in the {API} DefinitionBody")
    for path, method in sorted(set(declared) - routes):
        problems.append(f"operation {method} {path} has no Chalice route")
    for (path, method), count in sorted(declared.items()):
        if count > 1:
            problems.append(f"route {method} {path} is declared {count} times")
    return problems


def _operation_problems(path: str, method: str, operation: Any) -> list[str]:
    problems = []
    if "+}" in path or method == "ANY":
        problems.append("is a catch-all, which Chalice cannot route")
    integration = operation.get("x-amazon-apigateway-integration", {}) if isinstance(operation, Mapping) else {}
    actual = (integration.get("type"), integration.get("httpMethod"), integration.get("uri"))
    if actual != ("aws_proxy", "POST", INTEGRATION_URI):
        problems.append(f"does not proxy to {API_FUNCTION}'s alias (type, httpMethod, uri) {actual}: "
                        f"expected ('aws_proxy', 'POST', {INTEGRATION_URI})")
    return problems


def _api_events(resources: Mapping[str, Any]) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    """(function, event name, event properties) of every Api event of every function."""
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for name, event in (resource.get("Properties", {}).get("Events") or {}).items():
            if event.get("Type") == "Api":
                yield logical, name, event.get("Properties", {})


def _refers_to(value: Any, logical: str) -> bool:
    """``value`` names the function ``logical``, itself or its live alias (SAM's reference or the translated id)."""
    return value in ({"Ref": logical}, {"Fn::GetAtt": [logical, "Arn"]}, {"Fn::GetAtt": f"{logical}.Arn"},
                     {"Ref": f"{logical}.Alias"}, {"Ref": alias_id(logical)})


def _permission_problems(resources: Mapping[str, Any]) -> list[str]:
    """Exactly one permission lets API Gateway invoke the API function's live alias, for every route of the Api."""
    permissions = {logical: resource.get("Properties", {}) for logical, resource in resources.items()
                   if resource.get("Type") == "AWS::Lambda::Permission"
                   and _refers_to(resource.get("Properties", {}).get("FunctionName"), API_FUNCTION)
                   and resource.get("Properties", {}).get("Principal") == "apigateway.amazonaws.com"}
    if not permissions:
        return [f"no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke {API_FUNCTION}"]
    problems = []
    if len(permissions) > 1:
        problems.append(f"{len(permissions)} permissions let API Gateway invoke {API_FUNCTION} "
                        f"({', '.join(sorted(permissions))}); one for the whole {API} is enough")
    for logical, props in sorted(permissions.items()):
        if props.get("FunctionName") not in (API_ALIAS, {"Ref": alias_id(API_FUNCTION)}):
            problems.append(f"permission {logical} names {props.get('FunctionName')}, not {API_FUNCTION}'s alias "
                            f"{API_ALIAS}: API Gateway invokes the alias")
        if props.get("Action") != "lambda:InvokeFunction":
            problems.append(f"permission {logical} allows {props.get('Action')}, not lambda:InvokeFunction")
        if props.get("SourceArn") != API_SOURCE_ARN:
            problems.append(f"permission {logical} has SourceArn {props.get('SourceArn')}, not every route "
                            f"of {API}: {API_SOURCE_ARN}")
    return problems


def _key_attributes(attributes: Iterable[Any]) -> list:
    return [attr for attr in attributes if attr.is_hash_key or attr.is_range_key]


def _model_keys(key_attributes: Iterable[Any]) -> dict[str, str]:
    return {attr.attr_name: "HASH" if attr.is_hash_key else "RANGE" for attr in key_attributes}


def _template_keys(key_schema: Iterable[Mapping[str, str]]) -> dict[str, str]:
    return {key["AttributeName"]: key["KeyType"] for key in key_schema}


def _table_problems(template: Mapping[str, Any], models: Iterable[Any]) -> list[str]:
    problems = []
    prefix = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get(
        "Variables", {}).get("TABLE_PREFIX", {}).get("Fn::Sub")
    if prefix is None:
        return ["Globals set no TABLE_PREFIX for the functions"]
    tables = {resource["Properties"].get("TableName", {}).get("Fn::Sub"): resource["Properties"]
              for resource in template.get("Resources", {}).values() if resource.get("Type") == "AWS::DynamoDB::Table"}
    expected_names = set()
    for model in models:
        name = f"{prefix}-{model.TABLE}"
        expected_names.add(name)
        table = tables.get(name)
        if table is None:
            problems.append(f"model {model.__name__} has no table named {name}")
            continue
        problems += [f"table {name}: {problem}" for problem in _one_table_problems(model, table)]
    for name in sorted(set(tables) - expected_names, key=str):
        problems.append(f"table {name} belongs to no model")
    return problems


def _one_table_problems(model, table: Mapping[str, Any]) -> list[str]:
    problems = []
    key_attributes = _key_attributes(model.get_attributes().values())
    expected_keys = _model_keys(key_attributes)
    if _template_keys(table.get("KeySchema", [])) != expected_keys:
        problems.append(f"key schema {table.get('KeySchema')} is not the model's {expected_keys}")

    expected_indexes = {}
    for index in model._indexes.values():
        kind = "GlobalSecondaryIndexes" if isinstance(index, GlobalSecondaryIndex) else "LocalSecondaryIndexes"
        index_keys = _key_attributes(index.Meta.attributes.values())
        expected_indexes[(kind, index.Meta.index_name)] = (_model_keys(index_keys),
                                                           index.Meta.projection.projection_type)
        key_attributes += index_keys
    indexes = {(kind, index["IndexName"]): (_template_keys(index["KeySchema"]), index["Projection"]["ProjectionType"])
               for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes") for index in table.get(kind, [])}
    for kind, name in sorted(expected_indexes.keys() - indexes.keys()):
        problems.append(f"the model's index {name} is missing from {kind}")
    for kind, name in sorted(indexes.keys() - expected_indexes.keys()):
        problems.append(f"{kind} has {name}, which the model does not declare")
    for kind, name in sorted(expected_indexes.keys() & indexes.keys()):
        actual, expected = indexes[(kind, name)], expected_indexes[(kind, name)]
        if actual != expected:
            problems.append(f"index {name} (keys, projection) {actual} is not the model's {expected}")

    key_types = {attr.attr_name: attr.attr_type for attr in key_attributes}
    definitions = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
    if definitions != key_types:
        problems.append(f"AttributeDefinitions {definitions} are not the key attributes {key_types}")

    ttl = model._ttl_attribute()
    expected_ttl = ttl.attr_name if ttl else None
    ttl_spec = table.get("TimeToLiveSpecification", {})
    if (ttl_spec.get("AttributeName") if ttl_spec.get("Enabled") else None) != expected_ttl:
        problems.append(f"TTL {ttl_spec or None} is not the model's TTL attribute {expected_ttl}")

    stream = getattr(model.Meta, "stream_view_type", None)
    if stream != table.get("StreamSpecification", {}).get("StreamViewType"):
        problems.append(f"stream {table.get('StreamSpecification')} is not the model's stream_view_type {stream}")
    return problems


def _policy_problems(resources: Mapping[str, Any]) -> list[str]:
    """Functions may carry only explicit statements (SAM policy templates such as DynamoDBCrudPolicy and
    managed policies would hide a Scan), and no statement anywhere may allow dynamodb:Scan."""
    problems = []
    for logical, resource in resources.items():
        policies = resource.get("Properties", {}).get("Policies") or []
        for policy in policies if isinstance(policies, list) else [policies]:
            if not (isinstance(policy, Mapping) and "Statement" in policy):
                problems.append(f"{logical} has a policy that is not an explicit Statement list: {policy}")
    for where, statement in _statements(resources, "Resources"):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            problems.append(f"{where} allows NotAction, which grants everything else")
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if fnmatch.fnmatchcase("dynamodb:scan", str(action).lower()):
                problems.append(f"{where} allows {action}, which grants dynamodb:Scan")
    return problems


def _statements(node: Any, where: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Every policy statement (a mapping with an Effect) anywhere under ``node``."""
    if isinstance(node, Mapping):
        if "Effect" in node:
            yield where, node
        for key, value in node.items():
            yield from _statements(value, f"{where}.{key}")
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from _statements(value, f"{where}[{position}]")
