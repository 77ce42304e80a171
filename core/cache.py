"""Answers cached under the data version of the tables they were computed from."""

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection

from core.models import DataVersion

T = TypeVar("T")


def data_version(name: str) -> int:
    """The current write counter of a versioned table ("studies" or "reports")."""
    # Read on every search: plain SQL, no per-call query compilation.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {DataVersion._meta.db_table} WHERE name = %s", [name])
        row = cursor.fetchone()
    return row[0] if row is not None else 0


def cached(name: str, key: str, compute: Callable[[], T], *, version: int | None = None) -> T:
    """``compute()``'s answer, reused until the next write to the table ``name``.

    Inside a transaction nothing is cached: what it sees may never be committed, and its
    version bump would then be reused by another writer.
    """
    if connection.in_atomic_block:
        return compute()
    if version is None:
        version = data_version(name)
    full_key = f"dv:{name}:{version}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout=None)
    return value


def key_of(params: dict[str, Any]) -> str:
    """A short stable key for a dict of filter values."""
    text = json.dumps(params, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
