"""The API's part of the template: API Gateway's REST API (one resource per route, each proxied to the API function),
its own errors in our envelope, its throttling, and the permission to invoke the function."""
from __future__ import annotations

import json
from typing import Any, Iterable

from chalicelib.http import JSON_UTF8
from infra.deploy.template_deploy import LOG_RETENTION
from infra.deploy.template_names import API, API_FUNCTION
from tongxin.domain.errors import DomainError, InternalError, NotFound, RateLimited

OPENAPI_VERSION = "3.0.1"
# ${AWS::Partition} rather than "aws", so that the same template deploys to the China regions (aws-cn).
# <Function>.Alias: SAM's reference to the function's live alias (its ARN once translated), not the function's
# $LATEST: API Gateway runs the version the alias names, which `aws lambda update-alias` rolls back in seconds.
INTEGRATION_URI = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                              "${%s.Alias}/invocations" % API_FUNCTION}
# The permission's FunctionName: the same alias (a permission on the function itself would not cover it).
API_ALIAS = {"Ref": f"{API_FUNCTION}.Alias"}
# Any stage, method and path of the API: what the per-route permissions SAM generates for Api events add up to.
API_SOURCE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${%s}/*" % API}

# Stage throttling, sized for a district (街道): some tens of communities, a few tens of thousands of
# residents. A busy evening peaks at a few requests per second per community, a notice pushed to everyone
# at ~10x that; 100/s steady with bursts of 200 leaves that headroom, while one runaway client or script
# cannot run up Lambda and DynamoDB bills or take all of the account's Lambda concurrency (1,000) from the
# scheduler. API Gateway's account limit (10,000/s) is far above; operators tune both as parameters.
THROTTLING_RATE, THROTTLING_BURST = "ApiThrottlingRateLimit", "ApiThrottlingBurstLimit"
THROTTLING_DEFAULTS = (100, 200)

# Access logs, optional (AccessLogs=on): API Gateway writes them only once the account's CloudWatch role is set in the
# region (docs/deploy.md, section 13), an account-wide setting the stack leaves alone (AWS::ApiGateway::Account in
# two stacks would fight over it). One JSON line a request, of these fields only: the resource path is the route's
# template (/v1/wishes/{wish_id}), and neither the query string nor any header is logged — they carry wx.login codes,
# tokens, phone numbers. Every value is quoted: one API Gateway has not got is "-".
ACCESS_LOGS, HAS_ACCESS_LOGS, ACCESS_LOG_GROUP = "AccessLogs", "HasAccessLogs", "ApiAccessLogGroup"
ACCESS_LOG_FIELDS = {"requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
                     "requestTime": "$context.requestTime", "httpMethod": "$context.httpMethod",
                     "resourcePath": "$context.resourcePath", "status": "$context.status",
                     "responseLength": "$context.responseLength",
                     "integrationLatency": "$context.integrationLatency"}
ACCESS_LOG_FORMAT = json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))

# API Gateway's own errors (unknown path or method, throttling, integration failure) in our envelope.
# An unknown path or method is a 403 MISSING_AUTHENTICATION_TOKEN for API Gateway; it is a 404 for us.
GATEWAY_RESPONSES: dict[str, tuple[DomainError, int | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": (NotFound(), 404),
    "THROTTLED": (RateLimited(), 429),
    "DEFAULT_4XX": (DomainError(), None),
    "DEFAULT_5XX": (InternalError(), None),
}


def _gateway_response(error: DomainError, status: int | None) -> dict:
    body = json.dumps(error.to_body(), ensure_ascii=False, separators=(",", ":"))
    response: dict[str, Any] = {
        "ResponseParameters": {"Headers": {"Content-Type": f"'{JSON_UTF8}'"}},
        "ResponseTemplates": {"application/json": body},
    }
    if status is not None:
        response["StatusCode"] = str(status)
    return response


def _definition_body(routes: Iterable[tuple[str, str]]) -> dict:
    """The API's OpenAPI document: one operation per route, each proxied to the API function.

    Every route is its own API Gateway resource because Chalice dispatches on the resource path API Gateway
    matched (``requestContext.resourcePath``): a catch-all ``{proxy+}`` resource would reach no view."""
    paths: dict[str, dict] = {}
    for path, method in sorted(routes):
        operations = paths.setdefault(path, {})
        if method.lower() in operations:
            raise ValueError(f"route {method} {path} is registered twice")
        integration = {"type": "aws_proxy", "httpMethod": "POST", "uri": dict(INTEGRATION_URI)}
        # responses stays empty: the Lambda proxy integration passes every response through as it is.
        operations[method.lower()] = {"x-amazon-apigateway-integration": integration, "responses": {}}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": {"Fn::Sub": "tongxin-${Stage}"}, "version": "1.0"},
        "paths": paths,
    }


def api(routes: Iterable[tuple[str, str]], binary_media_types: Iterable[str]) -> dict:
    return {
        "Type": "AWS::Serverless::Api",
        "Properties": {
            "Name": {"Fn::Sub": "tongxin-${Stage}"},
            "StageName": {"Ref": "Stage"},
            # Edge-optimised endpoints do not exist in the China regions.
            "EndpointConfiguration": {"Type": "REGIONAL"},
            # Set so that SAM does not add a second stage named "Stage".
            "OpenApiVersion": OPENAPI_VERSION,
            "DefinitionBody": _definition_body(routes),
            # SAM merges the two properties below into the DefinitionBody (as x-amazon-apigateway-binary-media-types
            # and x-amazon-apigateway-gateway-responses) and also keeps BinaryMediaTypes on the RestApi itself.
            # What Chalice answers base64-encoded (the invite QR code PNG); "/" is written "~1" here.
            "BinaryMediaTypes": [media_type.replace("/", "~1") for media_type in binary_media_types],
            "GatewayResponses": {name: _gateway_response(error, status)
                                 for name, (error, status) in GATEWAY_RESPONSES.items()},
            "AccessLogSetting": {"Fn::If": [HAS_ACCESS_LOGS, {
                "DestinationArn": {"Fn::GetAtt": [ACCESS_LOG_GROUP, "Arn"]}, "Format": ACCESS_LOG_FORMAT},
                {"Ref": "AWS::NoValue"}]},
            # Every method of every resource of the stage.
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                                "ThrottlingRateLimit": {"Ref": THROTTLING_RATE},
                                "ThrottlingBurstLimit": {"Ref": THROTTLING_BURST}}],
        },
    }


def api_permission() -> dict:
    """The one permission for API Gateway to invoke the API function's alias, whatever the number of routes."""
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": dict(API_ALIAS),
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": dict(API_SOURCE_ARN),
        },
    }


def access_log_parameters() -> dict:
    return {ACCESS_LOGS: {"Type": "String", "Default": "off", "AllowedValues": ["on", "off"],
                          "Description": "on: API Gateway logs one line a request (no query string, no header) to "
                                         "/aws/apigateway/tongxin-<Stage>-access; needs the account's API Gateway "
                                         "CloudWatch role set once in the region (docs/deploy.md)"}}


def access_log_conditions() -> dict:
    return {HAS_ACCESS_LOGS: {"Fn::Equals": [{"Ref": ACCESS_LOGS}, "on"]}}


def access_log_group() -> dict:
    """The access logs' group, kept as long as the functions' logs."""
    return {ACCESS_LOG_GROUP: {
        "Type": "AWS::Logs::LogGroup", "Condition": HAS_ACCESS_LOGS,
        "Properties": {"LogGroupName": {"Fn::Sub": "/aws/apigateway/tongxin-${Stage}-access"},
                       "RetentionInDays": {"Ref": LOG_RETENTION}},
    }}
