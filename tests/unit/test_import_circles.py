"""No import circles among our own modules (tongxin.*, chalicelib.*).

A circle makes a module's meaning depend on which of its members is imported first, and hides which one is the
lower layer. The graph is read from the source with ``ast``, nothing is imported:

- every ``import`` and ``from … import`` counts, at module level AND inside functions: a lazy import that dodges a
  circle at import time is still the circle (the two modules still need each other);
- imports under ``if TYPE_CHECKING:`` do not count: they never execute (annotations only);
- relative imports are resolved; ``from . import x`` where ``x`` is a module is an edge to that module, otherwise
  ``from pkg import name`` is an edge to ``pkg`` (its ``__init__``);
- importing ``a.b.c`` is an edge to ``a.b.c`` alone, not to the packages Python runs on the way (``a``, ``a.b``):
  a package's ``__init__`` that hands on its submodules' names is the usual pattern, not a circle.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each of our top-level packages and the folder that holds it (what is on sys.path in the Lambda).
PACKAGES = {"tongxin": ROOT / "layers", "chalicelib": ROOT / "functions" / "api"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: str
    line: int
    lazy: bool  # inside a function: runs when called, not when the module is imported

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}  ({self.path}:{self.line}{', inside a function' if self.lazy else ''})"


def module_files(packages: dict[str, Path]) -> dict[str, Path]:
    """Module name -> file, for every .py of the packages (a package is its ``__init__.py``)."""
    modules: dict[str, Path] = {}
    for package, parent in packages.items():
        for path in sorted((parent / package).rglob("*.py")):
            parts = list(path.relative_to(parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(nodes, lazy: bool = False):
    """(node, inside a function) for every import statement that can execute."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, lazy
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse, lazy)  # the body never runs; an else branch does
        else:
            yield from _imports(ast.iter_child_nodes(node), lazy or isinstance(node, FUNCTIONS))


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    package = package[:len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def import_graph(packages: dict[str, Path] = PACKAGES) -> tuple[set[str], list[Edge]]:
    modules = module_files(packages)
    edges: list[Edge] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        where = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        for node, lazy in _imports([tree]):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _base(module, is_package, node)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            for target in dict.fromkeys(targets):
                if target in modules and target != module:
                    edges.append(Edge(module, target, where, node.lineno, lazy))
    return set(modules), edges


def circles(nodes: set[str], edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    successors: dict[str, list[str]] = {node: [] for node in nodes}
    for edge in edges:
        successors[edge.source].append(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(successors[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def describe(found: list[list[str]], edges: list[Edge]) -> str:
    lines = []
    for number, component in enumerate(found, 1):
        members = set(component)
        lines.append(f"circle {number}: {len(component)} modules: {', '.join(component)}")
        lines += [f"    {edge}" for edge in sorted(edges, key=lambda e: (e.source, e.target))
                  if edge.source in members and edge.target in members]
    return "\n".join(lines)


@cache
def _ours() -> tuple[set[str], list[Edge]]:
    return import_graph()


def test_no_module_of_ours_is_in_an_import_circle():
    nodes, edges = _ours()
    found = circles(nodes, edges)
    assert not found, "import circles (give each thing one home: the lower module must not import the higher):\n" \
        + describe(found, edges)


def test_the_graph_reads_the_imports_we_know_of():
    """The check above is only as good as the graph: it must see known edges of every kind."""
    nodes, edges = _ours()
    pairs = {(edge.source, edge.target) for edge in edges}
    assert len(nodes) > 200 and len(edges) > 1000  # 223 and 1178 when this was written
    assert ("chalicelib.middleware", "tongxin.adapters.dynamo.idempotency") in pairs  # absolute, a module
    assert ("tongxin.usecases.proxy", "tongxin.adapters.dynamo.acting") in pairs  # from .. import module
    assert ("tongxin.usecases.party", "tongxin.adapters.dynamo.guards") in pairs  # from ..x.y import name
    lazy = {(edge.source, edge.target) for edge in edges if edge.lazy}
    assert ("chalicelib.openapi", "chalicelib.responses") in lazy  # from . import module, inside a function


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return {"pkg": tmp_path}


def test_a_lazy_import_inside_a_function_still_closes_a_circle(tmp_path):
    packages = _tree(tmp_path, {
        "__init__.py": "",
        "low.py": "def f():\n    from .high import g\n    return g\n",
        "high.py": "from . import low\n",
        "apart.py": "from .low import f\n",
    })
    nodes, edges = import_graph(packages)
    assert circles(nodes, edges) == [["pkg.high", "pkg.low"]]
    text = describe(circles(nodes, edges), edges)
    assert "pkg.low -> pkg.high" in text and "inside a function" in text and "pkg.high -> pkg.low" in text


def test_type_checking_imports_do_not_count_and_packages_resolve(tmp_path):
    packages = _tree(tmp_path, {
        "__init__.py": "from .sub import thing\n",
        "sub/__init__.py": "from .deep import thing\n",
        "sub/deep.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..top import T\n"
                       "else:\n    import pkg.other\nthing = 1\n",
        "top.py": "from .sub.deep import thing\n",
        "other.py": "from .sub import thing\n",
    })
    nodes, edges = import_graph(packages)
    pairs = {(edge.source, edge.target) for edge in edges}
    assert ("pkg.sub.deep", "pkg.top") not in pairs
    assert ("pkg.top", "pkg.sub.deep") in pairs and ("pkg.other", "pkg.sub") in pairs
    # the else branch runs: deep -> other -> sub -> deep
    assert circles(nodes, edges) == [["pkg.other", "pkg.sub", "pkg.sub.deep"]]
