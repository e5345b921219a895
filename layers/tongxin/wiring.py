"""The one place that builds adapters from configuration.

A Lambda container builds its ``Container`` once (lazily, on first request) and reuses it; tests and the
local stack build one per stage. wechatpy is imported only when the WeChat client is first needed.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from .config import Settings, load_settings
from .adapters.dynamo import binding


@dataclass
class Container:
    settings: Settings

    def __post_init__(self) -> None:
        binding.bind(self.settings)

    @cached_property
    def wechat(self):
        from .adapters.wechat.client import MiniProgramClient
        from .adapters.wechat.token_store import DynamoSessionStorage
        return MiniProgramClient(self.settings.wechat_appid, self.settings.wechat_secret,
                                 base_url=self.settings.wechat_base_url,
                                 timeout=self.settings.wechat_timeout_seconds,
                                 session=DynamoSessionStorage())


_container: Container | None = None
_container_lock = threading.Lock()


def get_container() -> Container:
    global _container
    with _container_lock:
        if _container is None:
            _container = Container(load_settings())
        return _container


def set_container(container: Container | None) -> None:
    """Install a container built elsewhere (tests, the local stack)."""
    global _container
    with _container_lock:
        _container = container
        if container is not None:
            binding.bind(container.settings)
