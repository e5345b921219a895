"""What a cold container loads (chalicelib/deferred.py, adapters/dynamo/binding.py): importing the handler and a first
GET /v1/health load no use case, table model, PynamoDB, pydantic, schema or PyJWT; the first request of a route loads
its own, as ordinary imports; after registration every import is the real module. In a fresh interpreter each."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pydantic", "pynamodb", "jwt", "tongxin.usecases.wishes", "tongxin.adapters.dynamo.models",
         "chalicelib.schemas", "chalicelib.validation", "tongxin.usecases.access")

PROBE = """
import json, sys
from chalice.test import Client
import app
heavy = %r
loaded = lambda: sorted(m for m in sys.modules if m.split(".")[0] in heavy or any(m == h or m.startswith(h + ".") for h in heavy))
out = {"after_import": loaded()}
with Client(app.app, stage_name="test") as client:
    health = client.http.get("/v1/health")
    out["health_status"] = health.status_code
    out["after_health"] = loaded()
    bad = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body=json.dumps({"code": 5}))
    out["login_status"], out["login_error"] = bad.status_code, json.loads(bad.body)["error"]["code"]
    out["after_login"] = loaded()
from tongxin.usecases import wishes
from chalicelib.schemas import WishBody
from chalicelib.http import route_for
out["real_module"] = type(wishes).__name__
out["same_class"] = route_for("/v1/wishes", "POST").body is WishBody and WishBody.__module__ == "chalicelib.schemas"
from chalicelib.routes import wishes as wish_routes
out["proxy_reads_real"] = wish_routes.wishes.publish is wishes.publish
print("RESULT " + json.dumps(out))
""" % (HEAVY,)


def _probe() -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers", "functions/api", ".")),
           "TONGXIN_STAGE": "test", "TOKEN_SECRET": "cold-import-test-" + "t" * 32, "AWS_REGION": "cn-north-1",
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "POWERTOOLS_LOG_LEVEL": "ERROR",
           # nothing listens here: the health check answers 503 at once, which is all this test needs of it
           "DYNAMODB_ENDPOINT": "http://127.0.0.1:9", "WECHAT_BASE_URL": "http://127.0.0.1:9/"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    line = next((line for line in done.stdout.splitlines() if line.startswith("RESULT ")), None)
    assert line, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(line.removeprefix("RESULT "))


def test_a_cold_health_check_loads_no_use_case_model_or_validator_and_a_route_loads_its_own_on_first_use():
    out = _probe()
    assert out["after_import"] == [], out["after_import"]
    assert out["health_status"] == 503  # one Query through the shared client, refused: no model needed for it
    assert out["after_health"] == [], out["after_health"]
    # a login with a bad body: the route's request model (pydantic) loads and answers the envelope's 400
    assert (out["login_status"], out["login_error"]) == (400, "VALIDATION_FAILED")
    assert "pydantic" in out["after_login"] and "chalicelib.schemas" in out["after_login"]
    assert "jwt" not in out["after_login"]
    # after registration: real modules and classes, the route's model the very class the module defines
    assert out["real_module"] == "module" and out["same_class"] and out["proxy_reads_real"]
