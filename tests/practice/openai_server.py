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


def openai_env(server: CompatServer, **overrides: str) -> dict[str, str]:
    """Environment variables that point a product process (a task worker started by a test)
    at ``server`` with both engines ``openai``; merge them into ``os.environ``'s copy."""
    values = {
        "PRACTICE_PATIENT_ENGINE": "openai",
        "PRACTICE_GRADER_ENGINE": "openai",
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "test-key",
        "OPENAI_MODEL": "practice-scripted",
        "OPENAI_API_STYLE": "chat",
        "OPENAI_TIMEOUT_SECONDS": "5",
        "OPENAI_MAX_RETRIES": "1",
    }
    values.update(overrides)
    return values


def use_openai_engines(settings, server: CompatServer, **overrides: object) -> None:
    """Point this process's settings (pytest-django's ``settings`` fixture) at ``server``."""
    for name, value in openai_env(server).items():
        setattr(settings, name, value)
    settings.OPENAI_TIMEOUT_SECONDS = 5.0
    settings.OPENAI_MAX_RETRIES = 1
    settings.PRACTICE_ALLOWED_MODELS = ["practice-scripted"]
    for name, value in overrides.items():
        setattr(settings, name, value)
