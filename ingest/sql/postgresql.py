"""The PostgreSQL side of an import's SQL (``ingest.sql.sqlite`` has the same names)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from ingest.sql import q

if TYPE_CHECKING:
    from ingest.services import Target

DATETIME_TYPE = "timestamptz"
# A large import into an empty table builds the table's plain indexes after its rows
# (``drop_indexes``, ``build_indexes``).
REBUILDS_INDEXES = True
# Memory PostgreSQL may use for the hash joins and sorts of one import (SET LOCAL: this
# transaction only). With the default 4 MB, joining a million staged rows to the table
# spills to disk in many batches.
IMPORT_WORK_MEM = "256MB"
# While an import runs, its connection holds an advisory lock named after its batch. The
# database releases it when that connection ends, so a batch still 'running' whose lock is
# free belongs to a process that died (kill -9, a lost server): its transaction was rolled
# back, nothing was written.
_LOCK_KEY = "hashtextextended('mip-import-' || %s, 0)"


def same(left: str, right: str) -> str:
    return f"{left} IS NOT DISTINCT FROM {right}"


def adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    return value


def lock_table(cursor: Any, table: str) -> None:
    """One import at a time per table, so that the count check cannot be disturbed by a
    concurrent import; readers are not blocked."""
    cursor.execute(f"LOCK TABLE {q(table)} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")


def fills_empty_table(cursor: Any, table: str) -> bool:
    """Whether the import copies its rows straight into ``table`` (empty): see ``copy``."""
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {q(table)})")
    return not cursor.fetchone()[0]


def staged_row(target: Target, fields: list[str], *, numbered: bool = True) -> Callable:
    """A function ``(row_number, record) -> staged values``, in ``fields`` order, after the
    row number unless ``numbered`` is false.

    The same values as ``adapt`` gives, built for a million rows: a naive datetime becomes
    aware in the current time zone by ``replace(tzinfo=…)``, which is what
    ``timezone.make_aware`` does with a zoneinfo zone.
    """
    zone = timezone.get_current_timezone()
    lead = 1 if numbered else 0
    moments = [i + lead for i, f in enumerate(fields) if target.kind(f) == "datetime"]
    get_values = itemgetter(*fields) if len(fields) > 1 else None

    def staged(row_number: int, record: dict) -> list:
        number = [row_number] if numbered else []
        if get_values is None:
            row = [*number, record.get(fields[0])]
        elif len(record) == len(fields):
            row = [*number, *get_values(record)]
        else:
            row = [*number, *map(record.get, fields)]
        for i in moments:
            value = row[i]
            if value is not None and value.tzinfo is None:
                row[i] = value.replace(tzinfo=zone)
        return row

    return staged


def insert_staging(cursor: Any, columns: list[str], types: list[str], rows: list) -> None:
    # Binary: PostgreSQL takes the timestamps as numbers instead of parsing their text.
    names = ", ".join(q(c) for c in columns)
    with cursor.cursor.copy(f"COPY ingest_staging ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def copy(cursor: Any, copy_sql: str, types: list[str], rows: Iterable[list]) -> int:
    """Send ``rows`` by one COPY; return how many. The queued writer sends to PostgreSQL from
    a thread: this one goes on reading the file while a block is on its way."""
    copied = 0
    pg_cursor = cursor.cursor
    with pg_cursor.copy(copy_sql, writer=QueuedLibpqWriter(pg_cursor)) as stream:
        stream.set_types(types)
        for row in rows:
            stream.write_row(row)
            copied += 1
    return copied


def drop_indexes(cursor: Any, table: str, *, names: tuple[str, ...] | None = None) -> list[str]:
    """Drop the table's plain indexes (those of ``names`` only, if given); return the
    statements that create them again.

    Unique and primary-key indexes stay: constraints (and foreign keys of other tables) stand
    on them. The drop is part of the import's transaction, so a failed import keeps them.
    """
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisexclusion "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "AND (%s::text[] IS NULL OR c.relname = ANY (%s::text[])) "
        "ORDER BY i.indexrelid",
        [table, names and list(names), names and list(names)],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in indexes]


def build_indexes(cursor: Any, definitions: list[str]) -> None:
    # CREATE INDEX refuses a table with deferred foreign-key checks pending (Django declares
    # its foreign keys DEFERRABLE INITIALLY DEFERRED): run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f"SET LOCAL maintenance_work_mem = '{IMPORT_WORK_MEM}'")
    for definition in definitions:
        cursor.execute(definition)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def refresh_statistics(cursor: Any, table: str) -> None:
    cursor.execute(f"VACUUM (ANALYZE) {q(table)}")


def hold_batch_lock(batch_id: str, *, take: bool) -> None:
    function = "pg_advisory_lock" if take else "pg_advisory_unlock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}({_LOCK_KEY})", [batch_id])


def interrupted(running: QuerySet, *, owner_gone: Callable[[str], bool]) -> Q:
    """The running batches whose lock is free: their importing process has ended."""
    orphaned = []
    for batch_id in running.values_list("batch_id", flat=True):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_try_advisory_lock({_LOCK_KEY})", [batch_id])
            (free,) = cursor.fetchone()
            if free:
                cursor.execute(f"SELECT pg_advisory_unlock({_LOCK_KEY})", [batch_id])
        if free:
            orphaned.append(batch_id)
    return Q(batch_id__in=orphaned)
