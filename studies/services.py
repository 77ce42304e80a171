"""The studies' cache writes: the search warm-up after an import, and the name readings it
totals pinyin searches from."""

from django.db import connection, transaction

from core.cache import remember
from core.search import backends, warm_up
from studies.models import NameReading, Study
from studies.selectors import READINGS_KEY


def warm_caches() -> int:
    """Prepare the studies' search for the current data (``core.search.warmup``); returns the
    number of searches prepared."""
    return warm_up("studies")


# The readings counted from the studies, for the time of one refresh.
_COUNTED = "studies_namereading_counted"


def refresh_name_readings(*, version: int) -> int:
    """Bring the readings of the patients' names with their numbers of studies
    (``NameReading``) up to date with the studies, for the data version ``version``; returns
    how many readings changed. The pinyin searches of that version total from them
    (``studies.selectors``) once this has committed.

    The readings are counted into a temporary table, then only the differences are written:
    an import changes few of them, and rewriting all of them (and their trigram index) would
    cost each import seconds at a million studies. Warm-ups do this one at a time.
    """
    if connection.in_atomic_block:
        return 0  # as core.cache: what a transaction sees may never be committed
    table, studies, counted = NameReading._meta.db_table, Study._meta.db_table, _COUNTED
    same = f"c.pinyin = {table}.pinyin AND c.initials = {table}.initials"
    backend = backends.current()
    with transaction.atomic(), connection.cursor() as cursor:
        backend.lock_for_rewrite(cursor, table)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {counted} AS SELECT patient_name_pinyin AS pinyin, "
            "patient_name_initials AS initials, COUNT(*) AS studies "
            f"FROM {studies} WHERE patient_name_pinyin <> '' "
            "GROUP BY patient_name_pinyin, patient_name_initials"
        )
        cursor.execute(f"CREATE INDEX {counted}_key ON {counted} (pinyin, initials)")
        cursor.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM {counted} c WHERE {same})"
        )
        changed = cursor.rowcount
        cursor.execute(
            f"UPDATE {table} SET studies = (SELECT c.studies FROM {counted} c WHERE {same}) "
            f"WHERE EXISTS (SELECT 1 FROM {counted} c WHERE {same} AND c.studies <> {table}.studies)"
        )
        changed += cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (pinyin, initials, studies) "
            f"SELECT c.pinyin, c.initials, c.studies FROM {counted} c WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} r WHERE r.pinyin = c.pinyin AND r.initials = c.initials)"
        )
        changed += cursor.rowcount
        cursor.execute(f"DROP TABLE {counted}")
    if changed:
        backend.reclaim(table)
    remember("studies", READINGS_KEY, version, version=version)
    return changed
