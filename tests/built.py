"""The built package, as `sam build` makes it, for the tests that run it in the Lambda runtime's own interpreter
(tests/infra/test_built_package.py, tests/integration/test_secrets_cold_start.py): the runtime, the built layer,
moto's server, and one run of infra/proof/built_handler.py with only the layer and the function's code on the path.
A test module imports the fixtures it uses from here."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra.deploy import build_layer

REPO_ROOT = Path(__file__).resolve().parents[1]
FUNCTION = REPO_ROOT / "functions" / "api"  # CodeUri of the API function
DRIVER = REPO_ROOT / "infra" / "proof" / "built_handler.py"


@pytest.fixture(scope="module")
def runtime_python() -> str:
    return build_layer.find_runtime_python()


@pytest.fixture(scope="module")
def layer(tmp_path_factory, runtime_python) -> Path:
    return build_layer.build_layer(tmp_path_factory.mktemp("layer"), build_layer.host_arch(), runtime_python)


@pytest.fixture(scope="module")
def moto_server():
    """moto's server on a free port (DynamoDB, and SSM alike)."""
    from infra.local.embedded_dynamodb import EmbeddedDynamoDB
    server = EmbeddedDynamoDB(port=0).start()
    yield server
    server.stop()


def run_built(runtime_python: str, layer: Path, scenario: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The driver in an isolated interpreter (-I -S: no user site, no site-packages): only the layer and the
    function's code are on the path (added by the driver)."""
    return subprocess.run([runtime_python, "-I", "-S", str(DRIVER), scenario, str(layer), str(FUNCTION)],
                          env=env, capture_output=True, text=True, timeout=120, cwd=layer)
