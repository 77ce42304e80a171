"""Real worker processes (``manage.py run_analysis_worker``, the product's one task worker)
against the test database, for the practice runs' tests.

The worker gets the test database through the environment (SQLite: the test database is a
file, see DB_TEST_NAME in config/settings.py; PostgreSQL: the test database's name). Every wait
is bounded, and every worker is stopped in the fixture's ``finally``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

TIMEOUT = 60.0  # seconds; generous for a loaded machine, but never a hang


class Worker:
    """One worker process with its own environment and a log file."""

    def __init__(self, log: Path, **env: Any) -> None:
        self.log_path = log
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_analysis_worker",
                "--interval",
                "0.05",
                "--no-startup-delay",
            ],
            cwd=settings.BASE_DIR,
            env=worker_env(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a machine or container dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def worker_env(**overrides: Any) -> dict[str, str]:
    """The parent's environment, with the database replaced by the test database."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DB_ENGINE": db["ENGINE"],
            "DB_NAME": str(db["NAME"]),
            "DB_USER": db.get("USER") or "",
            "DB_PASSWORD": db.get("PASSWORD") or "",
            "DB_HOST": db.get("HOST") or "",
            "DB_PORT": str(db.get("PORT") or ""),
            "DB_CONN_MAX_AGE": "0",
            "DEBUG": "False",
            "LOG_LEVEL": "INFO",
            "ANALYSIS_RECOVERY_INTERVAL_SECONDS": "0",
        }
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


@pytest.fixture
def practice_workers(tmp_path) -> Iterator[Callable[..., Worker]]:
    """Start workers with ``practice_workers(**env)``; all are stopped at the end."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail("The worker tests need a file test database (set DB_TEST_NAME)")
    started: list[Worker] = []

    def start(**env: Any) -> Worker:
        worker = Worker(tmp_path / f"worker{len(started)}.log", **env)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def wait_for(predicate: Callable[[], Any], what: str, *watched: Worker) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for worker in watched:
            if worker.process.poll() is not None:
                pytest.fail(f"worker exited while waiting for {what}:\n{worker.output()}")
        time.sleep(0.02)
    logs = "\n".join(w.output() for w in watched)
    pytest.fail(f"timed out after {TIMEOUT}s waiting for {what}\n{logs}")
