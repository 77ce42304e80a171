"""The built-in OpenAI-compatible server for tests: a real HTTP server on a free loopback port.

``compat_server`` is one server for the whole session (started in a background thread), with
its faults, gate and request log reset before each test that uses it. Engines point at it with
``openai_config(server, ...)``; nothing replaces the HTTP layer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from practice.engines.compat_server import CompatServer
from practice.engines.openai import ServerConfig


@pytest.fixture(scope="session")
def _compat_server_session() -> Iterator[CompatServer]:
    server = CompatServer("127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.fixture
def compat_server(_compat_server_session: CompatServer) -> Iterator[CompatServer]:
    server = _compat_server_session
    server.reset()
    yield server
    server.reset()


def openai_config(server: CompatServer, **overrides: object) -> ServerConfig:
    """Settings that point the ``openai`` engines at ``server``: short timeouts, real retries."""
    values: dict = {
        "base_url": server.base_url,
        "api_key": "test-key",
        "model": "practice-scripted",
        "api_style": "chat",
        "timeout": 5.0,
        "max_retries": 2,
    }
    values.update(overrides)
    return ServerConfig(**values)
