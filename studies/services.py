"""The studies' cache writes: the search warm-up after an import, and the name readings it
totals pinyin searches from."""

from typing import Any

from django.db import connection, transaction

from core.cache import remember
from core.search import backends, warm_up
from studies.models import LetteredName, NameReading, Study
from studies.selectors import READINGS_KEY


def warm_caches() -> int:
    """Prepare the studies' search for the current data (``core.search.warmup``); returns the
    number of searches prepared."""
    return warm_up("studies")


def refresh_name_readings(*, version: int) -> int:
    """Bring the readings of the patients' names with their numbers of studies
    (``NameReading``) and the names that have a letter (``LetteredName``) up to date with the
    studies, for the data version ``version``; returns how many rows changed. The pinyin
    searches of that version total from them (``studies.selectors``) once this has committed.

    Each is counted into a temporary table, then only the differences are written: an import
    changes few of them, and rewriting all of them (and their trigram indexes) would cost each
    import seconds at a million studies. Warm-ups do this one at a time.
    """
    if connection.in_atomic_block:
        return 0  # as core.cache: what a transaction sees may never be committed
    tables = (NameReading._meta.db_table, LetteredName._meta.db_table)
    backend = backends.current()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            backend.lock_for_rewrite(cursor, table)
        studies = Study._meta.db_table
        changed = _rewrite(
            cursor, tables[0], ("pinyin", "initials"),
            "SELECT patient_name_pinyin AS pinyin, patient_name_initials AS initials, "
            f"COUNT(*) AS studies FROM {studies} WHERE patient_name_pinyin <> '' "
            "GROUP BY patient_name_pinyin, patient_name_initials",
        )  # fmt: skip
        # A name whose upper and lower case are the same (Chinese characters alone, or none)
        # holds no letter for a Latin term to match. A read of its own: one temporary table
        # of every name, for both, cost more than the second read of the studies (1 s).
        changed += _rewrite(
            cursor, tables[1], ("name", "pinyin", "initials"),
            "SELECT patient_name AS name, patient_name_pinyin AS pinyin, "
            "patient_name_initials AS initials, COUNT(*) AS studies "
            f"FROM {studies} WHERE UPPER(patient_name) <> LOWER(patient_name) "
            "GROUP BY patient_name, patient_name_pinyin, patient_name_initials",
        )  # fmt: skip
    if changed:
        for table in tables:
            backend.reclaim(table)
    remember("studies", READINGS_KEY, version, version=version)
    return changed


def _same(keys: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{key} = {right}.{key}" for key in keys)


def _rewrite(cursor: Any, table: str, keys: tuple[str, ...], counted_sql: str) -> int:
    """Make ``table`` (``keys`` and their ``studies``) hold the rows of ``counted_sql``,
    writing only the differences; returns how many rows changed."""
    counted = f"{table}_counted"
    columns = ", ".join(keys)
    cursor.execute(f"CREATE TEMPORARY TABLE {counted} AS {counted_sql}")
    cursor.execute(f"CREATE INDEX {counted}_key ON {counted} ({columns})")
    same = _same(keys, "c", table)
    cursor.execute(f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM {counted} c WHERE {same})")
    changed = cursor.rowcount
    cursor.execute(
        f"UPDATE {table} SET studies = (SELECT c.studies FROM {counted} c WHERE {same}) "
        f"WHERE EXISTS (SELECT 1 FROM {counted} c WHERE {same} AND c.studies <> {table}.studies)"
    )
    changed += cursor.rowcount
    cursor.execute(
        f"INSERT INTO {table} ({columns}, studies) "
        f"SELECT {', '.join(f'c.{key}' for key in keys)}, c.studies FROM {counted} c "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} r WHERE {_same(keys, 'r', 'c')})"
    )
    changed += cursor.rowcount
    cursor.execute(f"DROP TABLE {counted}")
    return changed
