"""What a cold start does not load: the use cases and the request models of the routes, until a route uses them.

Chalice needs every route registered when the handler module is imported, and each route module names its use case
module (``from tongxin.usecases import wishes``) and its body and query models (``from ..schemas import WishBody``).
Importing those would load the domain rules, PynamoDB, every table model and pydantic on every cold start, for a
first request (``GET /v1/health``, a login) that needs one of them or none. While ``registering()`` is open
(``app.py`` imports the route modules inside it):

- each module of ``tongxin.usecases`` not imported yet is, as an attribute of that package, a ``ModuleProxy``:
  ``from tongxin.usecases import wishes`` binds the proxy, and the first attribute read through it
  (``wishes.publish``) imports the module — an ordinary import, on the route's first request;
- each ``chalicelib.schemas*`` module not imported yet stands in ``sys.modules`` as a ``_SchemaNames``, whose
  names are ``ModelRef`` placeholders; ``endpoint`` keeps them in the route and resolves them (importing the module,
  pydantic with it) on the route's first request.

When it closes, the package attributes and ``sys.modules`` entries are taken away again: every later import (a
proxy's, the OpenAPI document's, a test's) is an ordinary one of the real module, so nothing runs twice and nothing
else sees a placeholder.
"""
from __future__ import annotations

import contextlib
import importlib
import pkgutil
import sys

USECASES = "tongxin.usecases"
SCHEMAS = "chalicelib"  # the package of the request models, ``schemas.py`` and ``schemas_<area>.py``
SCHEMA_PREFIX = "schemas"


class ModuleProxy:
    """Stands for a use case module a route module named: the module is imported on the first attribute read."""
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def load(self):
        module = self._module
        if module is None:  # the import system's own lock makes a first use from two threads import once
            module = importlib.import_module(self._name)
            object.__setattr__(self, "_module", module)
        return module

    def __getattr__(self, attr: str):
        return getattr(self.load(), attr)

    def __setattr__(self, attr: str, value) -> None:  # a test patching a use case through the route's name
        setattr(self.load(), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(self.load(), attr)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}>"


class ModelRef:
    """A request model named by a route module while routes register: ``resolve()`` is the pydantic class."""
    __slots__ = ("module", "name", "_model")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name, self._model = module, name, None

    def resolve(self):
        if self._model is None:
            self._model = getattr(importlib.import_module(self.module), self.name)
        return self._model

    def __repr__(self) -> str:
        return f"ModelRef({self.module}.{self.name})"


class _SchemaNames:
    """In ``sys.modules`` for a schemas module while routes register: any name read is a ``ModelRef``."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __getattr__(self, attr: str):
        if attr.startswith("__"):  # __spec__, __path__...: the import system's questions; this is no module
            raise AttributeError(attr)
        return ModelRef(self.__name__, attr)


def resolve(model):
    """The class a route declared: a ``ModelRef`` resolved, anything else as it is."""
    return model.resolve() if isinstance(model, ModelRef) else model


_proxies: list[ModuleProxy] = []


def load_all() -> None:
    """Import every use case module the routes named (the OpenAPI document walks all error classes, some defined by
    use cases), as a cold start did before they were deferred."""
    for proxy in _proxies:
        proxy.load()


def _submodules(package_name: str, prefix: str = "") -> list[str]:
    package = importlib.import_module(package_name)
    return [f"{package_name}.{info.name}" for info in pkgutil.iter_modules(package.__path__)
            if info.name.startswith(prefix)]


@contextlib.contextmanager
def registering():
    """Import the route modules inside this: their use case modules and request models are deferred."""
    usecases = importlib.import_module(USECASES)
    proxied = {}
    for name in _submodules(USECASES):
        short = name.rpartition(".")[2]
        if name not in sys.modules and short not in vars(usecases):
            proxied[short] = ModuleProxy(name)
            setattr(usecases, short, proxied[short])
    stubs = {name: _SchemaNames(name) for name in _submodules(SCHEMAS, SCHEMA_PREFIX) if name not in sys.modules}
    sys.modules.update(stubs)
    try:
        yield
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]
        for short, proxy in proxied.items():
            if vars(usecases).get(short) is proxy:
                delattr(usecases, short)
        _proxies.extend(proxied.values())
