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


def refresh_name_readings(*, version: int) -> int:
    """Write how many studies hold each reading of a patient's name (``NameReading``) as the
    studies are now, for the data version ``version``, and remove older versions' readings;
    returns the number of readings. The pinyin searches of that version total from them
    (``studies.selectors``) once this has committed.

    One INSERT ... SELECT with a GROUP BY; a concurrent warm-up of the same version writes
    the same rows, which the unique constraint keeps once.
    """
    if connection.in_atomic_block:
        return 0  # as core.cache: what a transaction sees may never be committed
    table, studies = NameReading._meta.db_table, Study._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (version, pinyin, initials, studies) "
            "SELECT %s, patient_name_pinyin, patient_name_initials, COUNT(*) "
            f"FROM {studies} WHERE patient_name_pinyin <> '' "
            "GROUP BY patient_name_pinyin, patient_name_initials "
            "ON CONFLICT DO NOTHING",
            [version],
        )
        written = cursor.rowcount
        cursor.execute(f"DELETE FROM {table} WHERE version < %s", [version])
    backends.current().reclaim(table)
    remember("studies", READINGS_KEY, version, version=version)
    return written
