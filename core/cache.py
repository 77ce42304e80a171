"""Answers cached under the data version of the tables they were computed from."""

import hashlib
import logging
import pickle
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest
from django.utils import timezone

from core.models import DataVersion, SharedAnswer

_SHARED = SharedAnswer._meta.db_table

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The data names whose tables' writes bump a version (core migration 0002's triggers).
VERSIONED = ("studies", "reports")

# The version each data name's older shared answers were last removed below, in this process.
_pruned: dict[str, int] = {}


class _Flight:
    __slots__ = ("lock", "__weakref__")

    def __init__(self) -> None:
        self.lock = threading.Lock()


# One lock per answer being computed in this process, dropped when no thread holds it.
_flights: weakref.WeakValueDictionary[str, _Flight] = weakref.WeakValueDictionary()
_flights_guard = threading.Lock()


@contextmanager
def _one_at_a_time(full_key: str) -> Iterator[None]:
    with _flights_guard:
        flight = _flights.get(full_key)
        if flight is None:
            flight = _flights[full_key] = _Flight()
    with flight.lock:
        yield


def data_version(name: str, request: HttpRequest | None = None) -> int:
    """The current write counter of a versioned table ("studies" or "reports").

    An API call reads the versions with its login (accounts.auth) at its start; given the
    call's ``request``, that reading is used instead of another round trip.
    """
    known = getattr(request, "data_versions", None)
    if known and name in known:
        return known[name]
    # Read on every search: plain SQL, no per-call query compilation.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {DataVersion._meta.db_table} WHERE name = %s", [name])
        row = cursor.fetchone()
    return row[0] if row is not None else 0


def shown_versions(names: tuple[str, ...], request: HttpRequest | None = None) -> dict[str, int]:
    """The versions of other tables whose fields an answer shows, for its key: the answer
    cached under one table's version is then not reused after a write to those either."""
    return {f"{name}_version": data_version(name, request) for name in names}


def _full_key(name: str, version: int, key: str) -> str:
    return f"dv:{name}:{version}:{key}"


def cached(
    name: str,
    key: str,
    compute: Callable[[], T],
    *,
    version: int | None = None,
    shared: bool = True,
    costly: bool = False,
) -> T:
    """``compute()``'s answer, reused until the next write to the table ``name``.

    Looked up in this process's memory first, then in the table every process shares
    (``SharedAnswer``); computed only when neither has it, and then stored in both.
    ``shared=False`` keeps an answer cheaper to compute than to share (a planner estimate) in
    this process's memory only. ``costly=True`` (a count that may read much of a table) also
    makes the other processes wait for the one computing it, on PostgreSQL.
    Inside a transaction nothing is cached: what it sees may never be committed, and its
    version bump would then be reused by another writer.
    """
    if connection.in_atomic_block:
        return compute()
    if version is None:
        version = data_version(name)
    full_key = _full_key(name, version, key)
    value = cache.get(full_key)
    if value is not None:
        return value
    # Right after an import many clients ask for the same new answer at once (a common term
    # counted over a million rows); the threads of this process wait for the first one's
    # answer instead of each computing it again.
    with _one_at_a_time(full_key):
        value = cache.get(full_key)
        if value is None:
            value = (
                _shared_or_computed(name, version, full_key, compute, costly=costly)
                if shared
                else compute()
            )
            cache.set(full_key, value, timeout=None)
    return value


def stored(name: str, key: str, *, version: int) -> Any:
    """The answer some process already computed for ``key`` under ``version``, or None;
    nothing is computed (for an answer only a warm-up computes, too costly for a request)."""
    if connection.in_atomic_block:
        return None
    full_key = _full_key(name, version, key)
    value = cache.get(full_key)
    if value is None:
        value = _shared_get(full_key)
        if value is not None:
            cache.set(full_key, value, timeout=None)
    return value


def stored_in_sql(name: str, key: str, *, version: int) -> tuple[str, list[str]]:
    """A condition of a hand-written query, with its parameters: whether the shared table
    holds an answer for ``key`` under ``version`` (a warm-up's mark that what it prepared is
    current), asked in the query that depends on it rather than in a round trip of its own."""
    return f"EXISTS (SELECT 1 FROM {_SHARED} WHERE key = %s)", [_full_key(name, version, key)]


def remember(name: str, key: str, value: Any, *, version: int) -> None:
    """Store an answer found along the way (a total counted with a page), as ``cached`` would
    have stored it, without looking it up first."""
    if connection.in_atomic_block:
        return
    full_key = _full_key(name, version, key)
    _shared_set(name, version, full_key, value)
    cache.set(full_key, value, timeout=None)


def _shared_or_computed(
    name: str, version: int, full_key: str, compute: Callable[[], T], *, costly: bool
) -> T:
    """The answer from the shared table, or computed and stored there."""
    value = _shared_get(full_key)
    if value is not None:
        return value
    with _across_processes(full_key, enabled=costly):
        # Another process may have stored it while this one waited for the lock.
        value = _shared_get(full_key) if costly else None
        if value is None:
            value = compute()
            _shared_set(name, version, full_key, value)
    return value


@contextmanager
def _across_processes(full_key: str, *, enabled: bool) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock named after ``full_key`` (when ``enabled``): the
    workers' processes compute a costly answer once, the others then read it from the
    shared table."""
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    lock = int.from_bytes(hashlib.sha1(full_key.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock])
    try:
        yield
    finally:
        # A connection lost meanwhile has released the lock with its session.
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])


def _shared_get(full_key: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {_SHARED} WHERE key = %s", [full_key])
        row = cursor.fetchone()
    # Only this module writes the table, with values it computed itself (counts, lists,
    # rendered pages): unpickling them is as safe as the database is.
    return pickle.loads(bytes(row[0])) if row else None  # noqa: S301


def _shared_set(name: str, version: int, full_key: str, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_SHARED} (key, name, version, value, created_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
            [full_key, name, version, data, timezone.now()],
        )
        # Answers of older versions are never read again. Each process removes them once per
        # version (the first time it stores an answer of that version), not on every store.
        if _pruned.get(name) != version:
            cursor.execute(
                f"DELETE FROM {_SHARED} WHERE name = %s AND version < %s", [name, version]
            )
            _pruned[name] = version


def tidy() -> None:
    """Reclaim on PostgreSQL the rows a new data version left dead: the shared answers of the
    older version and the version counters' old row versions.

    Called after each warm-up, so that these small, busy tables stay small where autovacuum
    is off or late (this machine's PostgreSQL had 48,000 dead answers in 98 MB after a day
    of benchmark imports, read by every cache lookup).
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {_SHARED}, {DataVersion._meta.db_table}")
    except DatabaseError:
        logger.warning("VACUUM of the cache tables failed", exc_info=True)


def clear() -> None:
    """Forget every cached answer, in this process and in the shared table."""
    cache.clear()
    _pruned.clear()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_SHARED}")
