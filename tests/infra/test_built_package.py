"""The built artifact works: the layer as ``sam build`` makes it (layers/Makefile → infra/deploy/build_layer.py), in
the runtime's interpreter, with nothing from the development environment, drives login, a WeChat content check
and a mini-program code through API Gateway events against the stand-in and an embedded DynamoDB over HTTP.

Why: the runtime requirements once lacked a crypto backend for wechatpy, which moto (a dev dependency) brought
into every dev venv, so every test passed while the deployed login answered 500.

The third-party part of the layer is cached under .cache/layer by a hash of layers/requirements.txt (seconds
after the first run); the tongxin package is copied fresh each run.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import pytest

from infra.deploy import build_layer
from tests.built import FUNCTION, layer, moto_server as dynamodb, run_built, runtime_python  # noqa: F401 (fixtures)

# Real servers and a subprocess: the run without in-process moto (make test's second pytest run).
pytestmark = pytest.mark.e2e

JPEG_MAGIC = "ffd8ff"


def lambda_env(dynamodb, wechat) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
            "TONGXIN_STAGE": "test", "TOKEN_SECRET": "built-package-" + "k" * 32,
            "TABLE_PREFIX": f"built-{uuid.uuid4().hex[:8]}", "AWS_REGION": "cn-north-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "DYNAMODB_ENDPOINT": dynamodb.url, "WECHAT_BASE_URL": wechat.base_url,
            "POWERTOOLS_LOG_LEVEL": "WARNING"}


def test_the_layer_ships_the_runtime_and_nothing_else(layer, runtime_python):
    assert (layer / "tongxin" / "wiring.py").exists()
    assert not [name for name in build_layer.NOT_SHIPPED if (layer / name).exists()]
    assert sorted(path.name for path in (layer / "chalice").iterdir() if path.is_file()) == \
        sorted(build_layer.RUNTIME_ONLY["chalice"])
    # Precompiled for the runtime: a source without its bytecode would be compiled at every cold start.
    tag = "cpython-" + "".join(map(str, build_layer.RUNTIME_VERSION))
    missing = [str(source.relative_to(layer)) for source in layer.rglob("*.py")
               if not (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").exists()]
    assert missing == []


def test_built_handler_logs_in_checks_content_and_draws_a_mini_program_code(layer, runtime_python, dynamodb,
                                                                          wechat):
    before = wechat.counters
    done = run_built(runtime_python, layer, "story", lambda_env(dynamodb, wechat))
    assert done.returncode == 0, done.stderr[-4000:]
    *log_lines, last = done.stdout.splitlines()
    story, log = json.loads(last), "\n".join(log_lines) + done.stderr
    steps = {step["step"]: step for step in story}

    def ok(name: str, status: int) -> dict:
        step = steps.get(name)
        # On failure, the whole story and the handler's log (a 500's cause is logged, not answered).
        assert step is not None and step["status"] == status, (name, story, log[-3000:])
        return step["body"]

    for name in ("login", "admin login", "resident login"):
        session = ok(name, 200)
        assert session["token"] and session["user"]["id"]
    assert "admin" in steps["admin login"]["body"]["user"]["roles"]
    assert ok("invite", 201)["code"]
    wxacode = steps["wxacode"]
    # WeChat's mini-program codes are JPEG: its content type passes through, to a client that asked for image/png.
    assert (wxacode["status"], wxacode["content_type"]) == (200, "image/jpeg"), wxacode
    assert wxacode["body"]["head"].startswith(JPEG_MAGIC) and wxacode["body"]["bytes"] > 100
    assert ok("join", 200)["user"]["community_id"] is not None
    wish = ok("publish", 201)
    assert (wish["title"], wish["category"], wish["status"]) == ("帮忙修水龙头", "维修", "open")

    # The staff console's files ship with the function's code and are served by it.
    page, script = steps["console page"], steps["console script"]
    assert (page["status"], page["content_type"]) == (200, "text/html; charset=utf-8"), page
    assert page["body"]["text"].startswith("<!doctype html>") and "管理后台" in page["body"]["text"]
    assert (script["status"], script["content_type"]) == (200, "text/javascript; charset=utf-8"), script

    # The answers came from WeChat's API (the stand-in), through wechatpy and the layer's crypto backend.
    calls = {path: count - before.get(path, 0) for path, count in wechat.counters.items()}
    assert calls.get("sns/jscode2session") == 3
    assert calls.get("wxa/msg_sec_check") == 1
    assert calls.get("wxa/getwxacodeunlimit") == 1


def test_built_layer_renders_a_certificate_in_chinese(layer, runtime_python, dynamodb, wechat):
    """The certificate's PDF needs fpdf2, fontTools and the font file from the layer (and no Pillow, which the layer
    does not ship): rendered there, its text reads back in Chinese and only the font's used glyphs are embedded."""
    import base64
    import io

    from pypdf import PdfReader

    done = run_built(runtime_python, layer, "certificate", lambda_env(dynamodb, wechat))
    assert done.returncode == 0, done.stderr[-4000:]
    data = base64.b64decode(done.stdout.splitlines()[-1])
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in ("赵桂芳", "TXZM-2026-BLT0-000001", "社区义诊志愿服务", "垃圾分类宣传", "学校社会实践证明"):
        assert expected in text, (expected, text[:500])
    fonts = {str(font["/BaseFont"]) for page in reader.pages
             for font in (page["/Resources"].get("/Font") or {}).values()}
    # Embedded as a subset (a six-letter tag before the font's own name), far below the 1.26 MB font file.
    assert len(fonts) == 1 and re.fullmatch(r"/[A-Z]{6}\+WenQuanYiMicroHei", fonts.pop()), fonts
    assert len(data) < 200_000, len(data)


def test_driver_sees_no_development_packages(layer, runtime_python, dynamodb, wechat):
    """The isolation itself is checked: moto, pytest and PyJWT (dev only: the tokens' reference in the tests)
    cannot be imported by the handler."""
    probe = ("import sys; sys.path[:0] = sys.argv[1:]\n"
             "import importlib.util as u\n"
             "print([m for m in ('moto', 'pytest', 'jwt', 'cryptography', 'yaml', 'click') if u.find_spec(m)])")
    done = subprocess.run([runtime_python, "-I", "-S", "-c", probe, str(layer), str(FUNCTION)],
                          env=lambda_env(dynamodb, wechat), capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_health_answers_ok_as_the_first_request_of_a_cold_container(layer, runtime_python, dynamodb, wechat):
    env = lambda_env(dynamodb, wechat)
    tables = run_built(runtime_python, layer, "story", env)  # creates the tables under this TABLE_PREFIX
    assert tables.returncode == 0, tables.stderr[-2000:]
    done = run_built(runtime_python, layer, "health-first", env)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.splitlines()[-1])
    assert (answer["status"], answer["body"]) == (200, {"status": "ok"}), answer


def test_the_built_function_ships_the_console_files(tmp_path, runtime_python):
    """The console's page, script and style are files of functions/api (chalicelib/console/), not Python: the
    function's build (build_layer.build_function, what `sam build` runs) must copy them."""
    built = build_layer.build_function(FUNCTION, tmp_path / "function", runtime_python)
    for name in ("index.html", "app.js", "app.css", "coprojects.js"):
        assert (built / "chalicelib" / "console" / name).read_text(encoding="utf-8") == \
            (FUNCTION / "chalicelib" / "console" / name).read_text(encoding="utf-8")
