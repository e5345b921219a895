"""Builds the Lambda layer as it is deployed: what the runtime imports, precompiled, and nothing else.

    python -m infra.deploy.build_layer --out DIR              # DIR/python: the layer for arm64 (what is deployed)
    python -m infra.deploy.build_layer --out DIR --arch host  # the same for this machine (tests, bench)

``sam build`` runs this through ``layers/Makefile`` (``BuildMethod: makefile``); the built-package test and
``make bench`` run it too, so what they measure is what is deployed. Three differences from SAM's own
python builder, each for the cold start:

- chalice is installed without its dependencies and cut down to the two modules its runtime imports
  (``chalice/__init__.py`` and ``chalice/app.py``, what ``chalice package`` ships): its command-line
  dependencies (pip, setuptools, wheel, inquirer, blessed, PyYAML, click...) are ≈15 MB never imported;
- every module is compiled to bytecode at build time with ``--invalidation-mode unchecked-hash``: Lambda's
  ``/opt`` is read-only, so without ``.pyc`` files each cold start compiles everything it imports again,
  and unchecked pycs stay valid whatever mtimes the zip round trip leaves on the sources;
- the bytecode is the runtime's (``RUNTIME``): the build refuses another interpreter version.

The third-party part depends only on ``layers/requirements.txt``, the interpreter and the platform, so it
is cached under ``.cache/layer/<hash>`` (``cached_dependencies``); the ``tongxin`` package is copied and
compiled fresh on every build.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "requirements.txt"
PACKAGE = ROOT / "layers" / "tongxin"
CACHE = ROOT / ".cache" / "layer"

RUNTIME = "python3.12"  # the Lambda runtime of both functions and the layer (template_gen uses it)
ARCHITECTURE = "arm64"
RUNTIME_VERSION = tuple(int(part) for part in RUNTIME.removeprefix("python").split("."))
# pip's platform tag per Lambda architecture; Lambda's Amazon Linux 2023 has glibc 2.34.
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}

# Installed without dependencies and cut down to the files their runtime imports.
RUNTIME_ONLY = {"chalice": ("__init__.py", "app.py", "py.typed")}
# Files cut from a package: fontTools' compiled accelerators and their C sources (≈ 23 MB) — each has its pure-Python
# module beside it, which fontTools falls back to; subsetting one certificate's few hundred glyphs needs no speed-up.
STRIPPED = {"fontTools": ("*.so", "*.c", "*.pyx", "*.pxd")}
# Installed without their dependencies (those the runtime needs are pinned in the requirements themselves): fpdf2
# needs Pillow only for images, which the certificates' PDF does not hold (≈ 22 MB the layer would carry for nothing).
NO_DEPS = {"fpdf2"}
# What must never be in the layer: chalice's CLI dependencies and our dev tools, and Pillow (see NO_DEPS).
NOT_SHIPPED = ("pip", "setuptools", "wheel", "inquirer", "blessed", "yaml", "click", "readchar",
               "moto", "pytest", "werkzeug", "cfnlint", "PIL")


def find_runtime_python() -> str:
    """An interpreter of the runtime's version: this one, ``python3.12`` on PATH, or pyenv's."""
    if sys.version_info[:2] == RUNTIME_VERSION:
        return sys.executable
    name = RUNTIME
    candidates = [shutil.which(name)]
    pyenv = shutil.which("pyenv")
    if pyenv:  # a pyenv shim of a version not selected in this directory fails; its prefix does not
        prefix = subprocess.run([pyenv, "prefix", RUNTIME.removeprefix("python")], capture_output=True, text=True)
        if prefix.returncode == 0:
            candidates += [str(Path(line) / "bin" / name) for line in prefix.stdout.split()]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == str(RUNTIME_VERSION):
            return candidate
    raise SystemExit(f"building the layer needs {name} (the Lambda runtime); install it (pyenv install 3.12)")


def requirement_lines(path: Path = REQUIREMENTS) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def host_arch() -> str:
    import platform
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def dependencies_key(arch: str, requirements: list[str] | None = None) -> str:
    """What the third-party part depends on: the pins, the runtime, the platform and this script."""
    requirements = requirement_lines() if requirements is None else requirements
    digest = hashlib.sha256()
    for part in (*requirements, RUNTIME, PLATFORMS[arch], Path(__file__).read_text(encoding="utf-8")):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def _pip(python: str, target: Path, args: list[str], arch: str) -> None:
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--no-warn-script-location", "--target", str(target)]
    if arch != host_arch():  # wheels for Lambda's platform, whatever machine builds them
        command += ["--platform", PLATFORMS[arch], "--implementation", "cp", "--only-binary=:all:",
                    "--python-version", RUNTIME.removeprefix("python")]
    done = subprocess.run(command + args, env={**os.environ, "PIP_NO_INPUT": "1"}, capture_output=True, text=True)
    if done.returncode:  # pip's warnings (index locations, running as root) only when it failed
        raise SystemExit(f"pip failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _cut_down(target: Path) -> None:
    for package, keep in RUNTIME_ONLY.items():
        for entry in (target / package).iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: nothing runs them in Lambda
    for package, patterns in STRIPPED.items():
        for pattern in patterns:
            for entry in (target / package).rglob(pattern):
                entry.unlink()


def _compile(python: str, directory: Path) -> None:
    # -j0: all cores; unchecked-hash: valid whatever the mtimes after zip and unzip (see the module doc).
    subprocess.run([python, "-m", "compileall", "-q", "-j0", "--invalidation-mode", "unchecked-hash",
                    str(directory)], check=True, stdout=subprocess.DEVNULL)


def build_dependencies(target: Path, arch: str, python: str, requirements: list[str] | None = None) -> Path:
    """pip-installs the requirements into ``target`` (runtime-only ones without dependencies), cut down
    and compiled."""
    requirements = requirement_lines() if requirements is None else requirements
    runtime_only = [line for line in requirements if _name(line) in RUNTIME_ONLY]
    no_deps = [line for line in requirements if _name(line) in NO_DEPS]
    rest = [line for line in requirements if _name(line) not in RUNTIME_ONLY and _name(line) not in NO_DEPS]
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(rest) + "\n")
    try:
        _pip(python, target, ["-r", handle.name], arch)
    finally:
        os.unlink(handle.name)
    if runtime_only or no_deps:
        shutil.rmtree(target / "bin", ignore_errors=True)
        _pip(python, target, ["--no-deps", *runtime_only, *no_deps], arch)
    _cut_down(target)
    shipped = sorted(name for name in NOT_SHIPPED if (target / name).exists())
    if shipped:
        raise SystemExit(f"the layer would ship {', '.join(shipped)}: a requirement depends on them")
    _compile(python, target)
    return target


def cached_dependencies(arch: str | None = None, python: str | None = None) -> Path:
    """The third-party part for ``arch`` (default: this machine), built once per dependencies_key."""
    arch = arch or host_arch()
    final = CACHE / dependencies_key(arch)
    if (final / ".complete").exists():
        return final
    python = python or find_runtime_python()
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="building-", dir=CACHE))
    try:
        build_dependencies(scratch, arch, python)
        (scratch / ".complete").touch()
        try:
            scratch.rename(final)
        except OSError:  # another process finished the same build first: theirs is as good
            if not (final / ".complete").exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def _link_tree(source: Path, destination: Path) -> None:
    """Hard links where the file system allows (the cache is read, never written, by the layer)."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, destination, copy_function=link, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".complete"))


def build_layer(out: Path, arch: str | None = None, python: str | None = None) -> Path:
    """The layer's content in ``out`` (Lambda mounts it at /opt): ``out/python`` holds the dependencies and
    the ``tongxin`` package, all compiled. Returns ``out/python``, the directory on the runtime's path."""
    python = python or find_runtime_python()
    dependencies = cached_dependencies(arch, python)
    site = out / "python"
    if site.exists():
        shutil.rmtree(site)
    _link_tree(dependencies, site)
    shutil.copytree(PACKAGE, site / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _compile(python, site / PACKAGE.name)
    return site


def build_function(source: Path, out: Path, python: str | None = None) -> Path:
    """A function's own code (``functions/<name>``) as deployed: its Python sources, precompiled — ``/var/task``
    is read-only too, so without bytecode every cold start compiles the handler and its routes again."""
    python = python or find_runtime_python()
    out.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name.startswith(".") or entry.name in ("__pycache__", "Makefile"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, out / entry.name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(entry, out / entry.name)
    _compile(python, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the layer's root (SAM: $(ARTIFACTS_DIR))")
    parser.add_argument("--arch", default=ARCHITECTURE, choices=[*PLATFORMS, "host"])
    parser.add_argument("--function", type=Path, help="build this function's code (functions/<name>) instead")
    args = parser.parse_args(argv)
    if args.function:
        built = build_function(args.function.resolve(), args.out.resolve())
        print(f"function built in {built}")
        return 0
    site = build_layer(args.out.resolve(), host_arch() if args.arch == "host" else args.arch)
    size = sum(path.stat().st_size for path in site.rglob("*") if path.is_file())
    print(f"layer built in {site} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
