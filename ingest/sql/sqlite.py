"""The SQLite side of an import's SQL (``ingest.sql.postgresql`` has the same names)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from ingest.sql import q

if TYPE_CHECKING:
    from ingest.services import Target

DATETIME_TYPE = "text"
REBUILDS_INDEXES = False
# SQLite has no advisory locks, but its database is a file on this machine, so the importing
# processes are too: a running batch's message names its owner, and a batch whose owner on
# this host is gone is interrupted. A batch whose owner cannot be checked (another host
# sharing the file, no /proc) counts as interrupted once this old.
STALE_RUNNING = timedelta(hours=6)


def same(left: str, right: str) -> str:
    return f"{left} IS {right}"


def adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = timezone.make_aware(value) if timezone.is_naive(value) else value
        return connection.ops.adapt_datetimefield_value(aware)
    return value


def lock_table(cursor: Any, table: str) -> None:
    """Nothing to do: SQLite's IMMEDIATE transactions already admit one writer."""


def fills_empty_table(cursor: Any, table: str) -> bool:
    """Never: rows go through the staging table (``ingest.sql.postgresql.copy`` has no
    counterpart here)."""
    return False


def staged_row(target: Target, fields: list[str], *, numbered: bool = True) -> Callable:
    """A function ``(row_number, record) -> staged values``, in ``fields`` order, after the
    row number unless ``numbered`` is false."""
    if not numbered:
        return lambda row_number, record: [adapt(record.get(f)) for f in fields]
    return lambda row_number, record: [row_number, *(adapt(record.get(f)) for f in fields)]


def insert_staging(cursor: Any, columns: list[str], types: list[str], rows: list) -> None:
    names = ", ".join(q(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO ingest_staging ({names}) VALUES ({marks})", rows)


def drop_indexes(cursor: Any, table: str, *, names: tuple[str, ...] | None = None) -> list[str]:
    """Nothing is dropped (``REBUILDS_INDEXES`` is false)."""
    return []


def build_indexes(cursor: Any, definitions: list[str]) -> None:
    """Nothing to build (``drop_indexes`` drops nothing)."""


def refresh_statistics(cursor: Any, table: str) -> None:
    # A sampled ANALYZE: exact enough for the planner, and quick at any size.
    cursor.execute("PRAGMA analysis_limit = 1000")
    cursor.execute(f"ANALYZE {q(table)}")


def hold_batch_lock(batch_id: str, *, take: bool) -> None:
    """Nothing to hold: a running batch's message names its owner instead."""


def interrupted(running: QuerySet, *, owner_gone: Callable[[str], bool]) -> Q:
    """The running batches whose owner on this host has ended, or that are too old to wait for."""
    gone = [
        batch_id
        for batch_id, message in running.values_list("batch_id", "message")
        if owner_gone(message)
    ]
    return Q(started_at__lt=timezone.now() - STALE_RUNNING) | Q(batch_id__in=gone)
