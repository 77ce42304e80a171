"""``practice_workers``: real task worker processes (the one worker serves the practice runs
and the reading of report findings alike)."""

from tests.practice.workers import practice_workers  # noqa: F401 (a fixture)
