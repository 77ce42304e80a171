"""``practice_workers``: real task worker processes (the one worker serves the practice runs
and the reading of report findings alike)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.practice.workers import practice_workers  # noqa: F401 (a fixture)


@pytest.fixture(scope="session", autouse=True)
def _findings_lock_file_removed(django_db_setup) -> Iterator[None]:  # noqa: ANN001
    """On SQLite the one reading's lock is a file beside the database (reports.findings): the
    test database goes at the end of the session, and so does its lock file."""
    yield
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        Path(f"{connection.settings_dict['NAME']}.findings-lock").unlink(missing_ok=True)
