"""Runs inside an isolated interpreter with only the BUILT layer and the API function on its path
(``python3.12 -I -S infra/proof/built_handler.py <scenario> <layer python dir> <function dir>``): it imports
nothing from the development environment, so a dependency the layer lacks fails here as it would in Lambda.

Scenarios (what the built-package test and ``make bench`` drive; both start the servers in the parent):
- ``story``: login, joining a community and publishing a wish (a WeChat content check), and an invite's
  mini-program code, each through a simulated API Gateway REST (v1 proxy) event; prints the answers as JSON.
- ``boto3``: the bench's baseline, ``import boto3`` + one DynamoDB client.
- ``cold``: the bench's cold start: import the handler, then one ``GET /v1/health`` event (the middleware builds the
  container — settings and the shared DynamoDB client — and the check makes one Query).
- ``health-first``: ``GET /v1/health`` as a cold container's very first request; prints the answer.
- ``certificate``: a 志愿服务记录证明 rendered as the PDF route renders it (fpdf2 and fontTools of the layer, the
  font file shipped in it, no Pillow); prints the PDF in base64.
Both timing scenarios print ``ELAPSED <seconds>`` measured from before the first import of ours.

Configuration comes from the environment as in Lambda (tongxin.config): TONGXIN_STAGE, TOKEN_SECRET,
TABLE_PREFIX, DYNAMODB_ENDPOINT, WECHAT_BASE_URL.
"""
import base64
import json
import sys
import time
import uuid

# The clock starts after these small stdlib imports, which Lambda's own runtime has already made.
STARTED = time.perf_counter()


class LambdaContext:
    """What Lambda passes as ``context``: the attributes our code and Powertools read."""
    function_name = "tongxin-ApiFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws-cn:lambda:cn-north-1:123456789012:function:tongxin-ApiFunction"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/tongxin-ApiFunction"
    log_stream_name = "local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def api_event(method: str, resource: str, path_parameters: dict | None = None, *, body=None,
              token: str | None = None, query: dict | None = None, accept: str = "application/json") -> dict:
    """An API Gateway REST API (v1 payload) proxy event for the route ``method resource``."""
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{%s}" % name, value)
    headers = {"Accept": accept, "Host": "api.example.cn", "User-Agent": "built-package-test"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request_id = str(uuid.uuid4())
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()} if query else None,
        "pathParameters": path_parameters or None, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/prod{path}",
                           "stage": "prod", "requestId": request_id, "extendedRequestId": request_id,
                           "identity": {"sourceIp": "127.0.0.1", "userAgent": "built-package-test"},
                           "requestTimeEpoch": int(time.time() * 1000)},
        "body": json.dumps(body, ensure_ascii=False) if body is not None else None,
        "isBase64Encoded": False,
    }


def call(app, event: dict) -> dict:
    """The handler's answer to ``event``, with the body decoded (JSON, or a summary of binary content)."""
    answer = app(event, LambdaContext())
    body = answer.get("body") or ""
    content_type = {key.lower(): value for key, value in (answer.get("headers") or {}).items()}.get("content-type", "")
    if answer.get("isBase64Encoded"):
        raw = base64.b64decode(body)
        decoded = {"bytes": len(raw), "head": raw[:8].hex()}
    else:
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = {"text": body[:200]}
    return {"status": answer["statusCode"], "content_type": content_type, "body": decoded}


def story() -> list[dict]:
    from tongxin.adapters.dynamo.binding import create_tables
    from tongxin.config import load_settings
    from tongxin.usecases.admin import create_community
    from tongxin.wiring import get_container

    import app as api  # the API function's handler module, as Lambda imports it (Handler: app.app)

    create_tables(load_settings())
    get_container()
    handler = api.app
    steps: list[dict] = []

    def step(name: str, event: dict) -> dict:
        answer = call(handler, event)
        steps.append({"step": name, **answer})
        return answer["body"] or {}

    try:
        _story(handler, step, create_community)
    except Exception as error:  # an answer the story could not go on from: the steps so far say which
        steps.append({"step": "stopped", "status": None, "content_type": "", "body": repr(error)})
    return steps


def _story(handler, step, create_community) -> None:
    admin_name, resident_name = (f"{role}{uuid.uuid4().hex[:8]}" for role in ("admin", "resident"))
    admin = step("login", api_event("POST", "/v1/auth/login", body={"code": f"dev:{admin_name}"}))
    # The platform operator's use case (command line), run with the runtime's own code.
    community = create_community("同心构建测试社区", admin_user_id=admin["user"]["id"], grid_names=["一网格"])
    grid_id = community["grids"][0]["id"]
    admin = step("admin login", api_event("POST", "/v1/auth/login", body={"code": f"dev:{admin_name}"}))
    invite = step("invite", api_event("POST", "/v1/admin/invites", body={"grid_id": grid_id},
                                      token=admin.get("token")))
    step("wxacode", api_event("GET", "/v1/admin/invites/{code}/qrcode", {"code": invite.get("code", "none")},
                              query={"format": "wxacode"}, token=admin.get("token"), accept="image/png"))
    resident = step("resident login", api_event("POST", "/v1/auth/login", body={"code": f"dev:{resident_name}"}))
    joined = step("join", api_event("POST", "/v1/me/community", body={"invite": invite.get("code", "none")},
                                    token=resident.get("token")))
    step("publish", api_event("POST", "/v1/wishes", token=joined.get("token"),
                              body={"title": "帮忙修水龙头", "content": "厨房水龙头漏水，想请志愿者帮忙看看",
                                    "category": "维修"}))
    # The staff console's page and script: files of the function's code, read on first use.
    step("console page", api_event("GET", "/console/{page}", {"page": "members"}, accept="text/html"))
    step("console script", api_event("GET", "/console/assets/{name}", {"name": "app.js"}, accept="*/*"))


def certificate_pdf() -> bytes:
    """The PDF of an issued certificate, from a snapshot of the shape ``usecases.certificates.snapshot`` makes."""
    from tongxin.adapters.pdf import certificate
    lines = [["2026-03-02", "社区义诊志愿服务", "同心社区服务中心", 45, "王主任", "event"],
             ["2026-04-18", "垃圾分类宣传", "三号楼前广场", 90, "李网格", "event"]]
    return certificate.render({
        "number": "TXZM-2026-BLT0-000001", "name": "赵桂芳", "volunteer_number": "TXV-BUILT",
        "from": "2026-01-01", "to": "2026-06-30", "purpose": "学校社会实践证明", "lines": lines,
        "total_minutes": 135, "star_level": None, "issuer": "同心社区居民委员会", "signatory": "—",
        "handler": "社区管理员", "issued_on": "2026-07-01", "revoked": False, "revoked_on": None},
        check_url="https://tx.example.cn/v/TXZM-2026-BLT0-000001")


def main() -> int:
    scenario, *paths = sys.argv[1:]
    sys.path[:0] = paths  # the layer's python/ directory (Lambda's /opt/python), then the function's code
    sys.dont_write_bytecode = True  # as on Lambda's read-only file system
    if scenario == "story":
        print(json.dumps(story(), ensure_ascii=False))
    elif scenario == "boto3":
        import boto3
        boto3.client("dynamodb", region_name="cn-north-1")
        print("ELAPSED", time.perf_counter() - STARTED)
    elif scenario == "cold":
        import app as api
        # The middleware builds the container (settings, the shared client) for any request; the health check's
        # Query goes through that client, and no table model loads (chalicelib/deferred.py, adapters/dynamo/binding.py).
        answer = call(api.app, api_event("GET", "/v1/health"))
        elapsed = time.perf_counter() - STARTED
        if answer["status"] != 200:
            raise SystemExit(f"health answered {answer}")
        print("ELAPSED", elapsed)
    elif scenario == "health-first":
        import app as api
        print(json.dumps(call(api.app, api_event("GET", "/v1/health")), ensure_ascii=False))
    elif scenario == "certificate":
        print(base64.b64encode(certificate_pdf()).decode())
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
