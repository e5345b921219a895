"""Where the table models, once imported, meet the stage they are bound to.

``models/__init__.py`` announces its classes here when they exist; ``binding.py`` listens and binds them (table names,
endpoint, the shared client). Neither imports the other: the models are imported by the first use case that needs
one, so a container whose first request reads no model (``GET /v1/health``) never loads them.
"""
from __future__ import annotations

from typing import Callable

models: tuple | None = None  # every model class, once tongxin.adapters.dynamo.models has been imported
_listener: Callable[[tuple], None] | None = None


def listen(callback: Callable[[tuple], None]) -> None:
    global _listener
    _listener = callback


def defined(all_models: tuple) -> None:
    global models
    models = all_models
    if _listener is not None:
        _listener(all_models)
