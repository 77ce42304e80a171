"""Settings helpers fail loudly on bad values; a server worker loads the URLconf as it starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env


@pytest.mark.parametrize(
    ("reader", "raw", "expected"),
    [
        (env.env_bool, "yes", True),
        (env.env_bool, "OFF", False),
        (env.env_bool, "", False),
        (env.env_int, " 42 ", 42),
        (env.env_float, "0.5", 0.5),
        (env.env_list, "a, b,,c ", ["a", "b", "c"]),
        (env.env_str, "  text ", "text"),
    ],
)
def test_env_readers_parse_values(monkeypatch, reader, raw, expected):
    monkeypatch.setenv("MIP_TEST_VALUE", raw)
    assert (
        reader("MIP_TEST_VALUE", *([] if reader in (env.env_list, env.env_str) else [0]))
        == expected
    )


@pytest.mark.parametrize(
    ("reader", "raw", "message"),
    [
        (env.env_bool, "perhaps", "MIP_TEST_VALUE must be true or false, not 'perhaps'"),
        (env.env_int, "ten", "MIP_TEST_VALUE must be a whole number, not 'ten'"),
        (env.env_int, "-1", "MIP_TEST_VALUE must be at least 0, not -1"),
        (env.env_float, "fast", "MIP_TEST_VALUE must be a number, not 'fast'"),
        (env.env_float, "-2", "MIP_TEST_VALUE must be at least 0, not -2.0"),
    ],
)
def test_env_readers_refuse_bad_values(monkeypatch, reader, raw, message):
    monkeypatch.setenv("MIP_TEST_VALUE", raw)
    with pytest.raises(ImproperlyConfigured) as error:
        reader("MIP_TEST_VALUE", 0, minimum=0) if reader is not env.env_bool else reader(
            "MIP_TEST_VALUE"
        )
    assert str(error.value) == message


def test_env_readers_use_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("MIP_TEST_VALUE", raising=False)
    assert env.env_bool("MIP_TEST_VALUE", True) is True
    assert env.env_int("MIP_TEST_VALUE", 7) == 7
    assert env.env_float("MIP_TEST_VALUE", 1.5) == 1.5
    assert env.env_list("MIP_TEST_VALUE", ["x"]) == ["x"]


def test_secret_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("MIP_TEST_SECRET", raising=False)
    path = tmp_path / "var" / "secret"
    first = env.env_secret("MIP_TEST_SECRET", path)
    assert len(first) > 40
    assert env.env_secret("MIP_TEST_SECRET", path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("MIP_TEST_SECRET", "from-environment")
    assert env.env_secret("MIP_TEST_SECRET", path) == "from-environment"


@pytest.mark.parametrize("entry", ["config.wsgi", "config.asgi"])
def test_a_server_worker_loads_the_urlconf_as_it_starts(entry, tmp_path):
    """A worker imports the URLconf (the API and its schemas) when it loads the
    application, so that its first request does not pay for it."""
    code = f"import sys, {entry}; print('config.urls' in sys.modules, 'studies.api' in sys.modules)"
    env = dict(os.environ, DB_ENGINE="sqlite3", DB_NAME=str(tmp_path / "db.sqlite3"))
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
