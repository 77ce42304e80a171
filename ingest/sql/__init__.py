"""Every SQL statement of an import's write path.

The statements both databases run alike are here. What differs (locks, the staging insert,
the comparison of two values, index rebuilds, statistics, the batch lock) lives in
``postgresql`` and ``sqlite``: sibling modules with the same function names, of which
``dialect()`` picks the connection's. No other module of ingest asks which database it runs on.

The staging table ``ingest_staging`` is temporary: it lives in the import's transaction, one
row per valid row of the file (its row number, then the staged fields).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from django.db import connection

if TYPE_CHECKING:
    from ingest.services import Target

# Rows sent to the staging table at a time.
STAGING_BATCH = 10_000
MAX_LISTED_IDS = 20


def dialect() -> ModuleType:
    """``ingest.sql.postgresql`` or ``ingest.sql.sqlite``: the connection's database."""
    return import_module(f"{__name__}.{connection.vendor}")


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def column_type(target: Target, field_name: str) -> str:
    kind = target.kind(field_name)
    if kind == "datetime":
        return dialect().DATETIME_TYPE
    return "integer" if kind == "int_age" else "text"


def table_is_empty(cursor: Any, table: str) -> bool:
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {q(table)})")
    return not cursor.fetchone()[0]


def table_count(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM {q(table)}")
    return cursor.fetchone()[0]


# ---------------------------------------------------------------- staging


def stage(
    cursor: Any, target: Target, fields: list[str], records: Iterable[tuple[int, dict]]
) -> None:
    """Create the staging table and fill it with ``records``, in batches."""
    db = dialect()
    columns = ["row_number", *fields]
    types = ["integer"] + [column_type(target, f) for f in fields]
    cursor.execute("DROP TABLE IF EXISTS ingest_staging")
    definition = ", ".join(f"{q(c)} {t}" for c, t in zip(columns, types, strict=True))
    cursor.execute(f"CREATE TEMPORARY TABLE ingest_staging ({definition})")
    batch: list[list] = []
    staged_row = db.staged_row(target, fields)
    for row_number, record in records:
        batch.append(staged_row(row_number, record))
        if len(batch) >= STAGING_BATCH:
            db.insert_staging(cursor, columns, types, batch)
            batch = []
    if batch:
        db.insert_staging(cursor, columns, types, batch)
    cursor.execute(f"CREATE INDEX ingest_staging_key ON ingest_staging ({q(target.schema.key)})")
    # Temporary tables are never analysed automatically; without statistics the planner
    # guesses their size and may join a million rows by nested loops.
    cursor.execute("ANALYZE ingest_staging")


def drop_staging(cursor: Any) -> None:
    cursor.execute("DROP TABLE IF EXISTS ingest_staging")


def unknown_studies(cursor: Any) -> list[tuple[int, str]]:
    """(row number, exam_id) of the staged rows whose exam_id names no stored study."""
    cursor.execute(
        "SELECT s.row_number, s.exam_id FROM ingest_staging s "
        "LEFT JOIN studies_study t ON t.exam_id = s.exam_id "
        "WHERE t.exam_id IS NULL ORDER BY s.row_number"
    )
    return cursor.fetchall()


def take_unknown_studies(cursor: Any, fields: list[str]) -> dict[int, dict[str, Any]]:
    """Remove the staged rows whose exam_id names no stored study; their values by row."""
    unknown = "NOT EXISTS (SELECT 1 FROM studies_study t WHERE t.exam_id = ingest_staging.exam_id)"
    cursor.execute(
        f"SELECT row_number, {', '.join(map(q, fields))} FROM ingest_staging WHERE {unknown}"
    )
    taken = {row[0]: dict(zip(fields, row[1:], strict=True)) for row in cursor.fetchall()}
    cursor.execute(f"DELETE FROM ingest_staging WHERE {unknown}")
    return taken


def fill_fallbacks(cursor: Any, target: Target, fields: list[str], now: Any) -> None:
    """Empty cells of NOT NULL columns keep the stored value, else the column's default."""
    table, key = q(target.table), q(target.key_column)
    for name, default in target.fallbacks.items():
        if name not in fields:
            continue
        column = q(target.columns[name])
        fallback = "%s" if default == "NOW" else default
        cursor.execute(
            f"UPDATE ingest_staging SET {q(name)} = COALESCE("
            f"(SELECT t.{column} FROM {table} t WHERE t.{key} = ingest_staging.{q(target.schema.key)}), "
            f"{fallback}) WHERE {q(name)} IS NULL",
            [now] if default == "NOW" else [],
        )


def _equal(target: Target, fields: list[str]) -> str:
    """Every staged field equals the stored column (``s`` the staging table, ``t`` the table)."""
    same = dialect().same
    return " AND ".join(same(f"t.{q(target.columns[f])}", f"s.{q(f)}") for f in fields)


def count_staged(cursor: Any, target: Target, fields: list[str]) -> tuple[int, int, int]:
    """(staged rows whose key exists, of those the unchanged, all staged rows)."""
    table, key, skey = q(target.table), q(target.key_column), q(target.schema.key)
    cursor.execute(
        f"SELECT COUNT(t.{key}), COALESCE(SUM(CASE WHEN {_equal(target, fields)} THEN 1 ELSE 0 END), 0) "
        f"FROM ingest_staging s LEFT JOIN {table} t ON t.{key} = s.{skey}"
    )
    existing, unchanged = cursor.fetchone()
    cursor.execute("SELECT COUNT(*) FROM ingest_staging")
    (staged,) = cursor.fetchone()
    return existing, unchanged, staged


def existing_keys(cursor: Any, target: Target) -> list[tuple[int, str]]:
    """(row number, key) of the first staged rows whose key exists already."""
    table, key, skey = q(target.table), q(target.key_column), q(target.schema.key)
    cursor.execute(
        f"SELECT s.row_number, s.{skey} FROM ingest_staging s "
        f"JOIN {table} t ON t.{key} = s.{skey} ORDER BY s.row_number LIMIT {MAX_LISTED_IDS}"
    )
    return cursor.fetchall()


# ---------------------------------------------------------------- writing


def update_changed(cursor: Any, target: Target, fields: list[str], now: Any) -> None:
    """Update the stored records whose staged row differs; updated_at only changes with them."""
    table, key, skey = q(target.table), q(target.key_column), q(target.schema.key)
    pairs = [(q(target.columns[f]), q(f)) for f in fields if q(target.columns[f]) != key]
    if not pairs:
        return
    assignments = ", ".join(f"{c} = s.{f}" for c, f in pairs)
    if "updated_at" not in fields:
        assignments += f", {q('updated_at')} = %s"
    changed = " AND ".join(dialect().same(f"{table}.{c}", f"s.{f}") for c, f in pairs)
    cursor.execute(
        f"UPDATE {table} SET {assignments} FROM ingest_staging s "
        f"WHERE {table}.{key} = s.{skey} AND NOT ({changed})",
        [now] if "updated_at" not in fields else [],
    )


def insert_new(cursor: Any, target: Target, fields: list[str], stamps: list[str], now: Any) -> None:
    """Insert the staged rows whose key is not stored; ``stamps`` are set to ``now``."""
    table, key, skey = q(target.table), q(target.key_column), q(target.schema.key)
    columns = [q(target.columns[f]) for f in fields]
    insert_columns = ", ".join([*columns, *(q(c) for c in stamps)])
    select = ", ".join([f"s.{q(f)}" for f in fields] + ["%s"] * len(stamps))
    cursor.execute(
        f"INSERT INTO {table} ({insert_columns}) SELECT {select} FROM ingest_staging s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{skey})",
        [now] * len(stamps),
    )


def copy_sql(target: Target, columns: list[str]) -> str:
    """The COPY that writes rows straight into the target (PostgreSQL, ``postgresql.copy``)."""
    names = ", ".join(q(c) for c in columns)
    return f"COPY {q(target.table)} ({names}) FROM STDIN (FORMAT BINARY)"


# ---------------------------------------------------------------- verification


def count_present(
    cursor: Any, target: Target, fields: list[str], *, compare: bool
) -> tuple[int, int]:
    """(staged rows, staged rows found in the table: as staged if ``compare``, else by key)."""
    table, key, skey = q(target.table), q(target.key_column), q(target.schema.key)
    cursor.execute("SELECT COUNT(*) FROM ingest_staging")
    (staged_rows,) = cursor.fetchone()
    if compare:
        cursor.execute(
            f"SELECT COUNT(*) FROM ingest_staging s JOIN {table} t ON t.{key} = s.{skey} "
            f"WHERE {_equal(target, fields)}"
        )
    else:
        cursor.execute(
            f"SELECT COUNT(*) FROM ingest_staging s JOIN {table} t ON t.{key} = s.{skey}"
        )
    (present,) = cursor.fetchone()
    return staged_rows, present
