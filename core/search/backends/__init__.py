"""The database side of search, chosen once: ``postgresql.py`` and ``sqlite.py`` with the same
function names (``short_term_index``, ``text_candidates``, ``distinct_values``) and
``FINDS_THEN_SORTS``; the PostgreSQL plans of a page (the walk of the date index) are in
``postgresql.py`` alone."""

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from types import ModuleType

from django.db import connection


@dataclass(frozen=True)
class TextIndex:
    """A model's text indexes: PostgreSQL's character index expression (``chars``, which must
    equal its migration's for the planner to use it) and SQLite's FTS5 trigram table with its
    vocabulary table (``fts_table``, ``terms_table``)."""

    chars: str | None = None
    fts_table: str | None = None
    terms_table: str | None = None


@cache
def current() -> ModuleType:
    """The backend of the default database."""
    return import_module(f"core.search.backends.{connection.vendor}")
