"""SQLite's side of search (the embedded default): the FTS5 trigram indexes a model's spec
names (``TextIndex``). ``backends.postgresql`` has the same function names.

Results never depend on anything here: an FTS5 trigram index only proposes rows, and the
LIKE conditions still decide, so the answers are those of a plain scan. An index holds every
field followed by two padding characters, so every character of the text starts a trigram:

- a term of three characters or more is found through the trigrams it is made of;
- a term of one or two characters through the trigrams it begins (the index's vocabulary of
  (trigram, rowid) pairs, read as a range). Its characters must fold the way the index folds
  them, which Python knows for ASCII and for characters without case (Chinese); a short term
  with other cased characters (``é``) reads the table, as before.
"""

from typing import Any

from django.db.models import BooleanField, Expression, Model, Q

from core.search.backends import TextIndex
from core.search.query import TRIGRAM

NAME = "sqlite"
# A text search's page is read in the search's order (the date index walked by LIKE alone
# where a model's spec says its matches are dense: ``SearchSpec.sqlite_walk``).
FINDS_THEN_SORTS = False
# One writer at a time: a warm-up's statements run one after the other.
CONCURRENT_SESSIONS = False
_SURROGATES = range(0xD800, 0xE000)


def short_term_index(q: str, *, by_characters: bool = False) -> bool:
    """SQLite has no character index: a short term is found through the trigram index."""
    return False


def text_candidates(q: str, index: TextIndex, *, by_characters: bool = False) -> Q | None:
    """Rows that may hold ``q`` in the fields of ``index`` (a superset, never the match
    itself); None when the index cannot narrow the search (none declared, or an unfoldable
    short term)."""
    if index.fts_table is None or not q or "\x00" in q:
        return None
    if len(q) >= TRIGRAM:
        return _trigram_candidates(index.fts_table, q)
    if index.terms_table is None or not _folds_like_the_index(q):
        return None
    prefix = q.lower()  # the index's folding, for ASCII and caseless characters
    after = _after(prefix)
    if after is None:
        return None
    sql = f"SELECT doc FROM {index.terms_table} WHERE term >= %s AND term < %s"
    return Q(_RowidIn(sql, (prefix, after)))


def distinct_values(model: type[Model], field: str) -> set[str]:
    """The distinct non-empty values of ``field``."""
    rows = model.objects.exclude(**{f"{field}__isnull": True}).exclude(**{field: ""})
    return set(rows.values_list(field, flat=True).distinct())


class _RowidIn(Expression):
    """``<studies alias>.rowid IN (<sql>)`` for the query it is used in (also as a subquery)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, sql: str, params: tuple, column: Any = None) -> None:
        super().__init__()
        self.sql, self.params, self.column = sql, params, column

    def get_source_expressions(self) -> list:
        return [self.column]

    def set_source_expressions(self, exprs: list) -> None:
        (self.column,) = exprs

    def resolve_expression(self, query: Any = None, *args: Any, **kwargs: Any) -> "_RowidIn":
        clone = self.copy()
        # The primary key's column carries the alias Django gives the table (and relabels).
        clone.column = query.resolve_ref("pk")
        return clone

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple]:
        alias = compiler.quote_name_unless_alias(self.column.alias)
        return f"{alias}.rowid IN ({self.sql})", self.params


def _quoted(text: str) -> str:
    # An FTS5 string: the tokenizer folds its case; only the double quote needs escaping.
    return '"' + text.replace('"', '""') + '"'


def _folds_like_the_index(term: str) -> bool:
    return all(
        char.isascii() or char.lower() == char == char.upper() == char.casefold() for char in term
    )


def _after(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``."""
    code = ord(prefix[-1]) + 1
    if code in _SURROGATES:
        code = _SURROGATES.stop
    return prefix[:-1] + chr(code) if code <= 0x10FFFF else None


def _trigram_candidates(table: str, q: str) -> Q:
    trigrams = dict.fromkeys(q[i : i + TRIGRAM] for i in range(len(q) - TRIGRAM + 1))
    match = " AND ".join(_quoted(trigram) for trigram in trigrams)
    sql = f"SELECT rowid FROM {table} WHERE {table} MATCH %s"
    return Q(_RowidIn(sql, (match,)))


def warm_up(model: type[Model], *, field: str, data: str, version: int) -> None:
    """Nothing: SQLite's plans read nothing the warm-up computes."""


def candidates_are_exact(q: str) -> bool:
    """An FTS5 candidate is never a match by itself: LIKE decides."""
    return False


def reclaim(table: str) -> None:
    """Nothing: SQLite reuses a table's free pages itself."""


def lock_for_rewrite(cursor: Any, table: str) -> None:
    """Nothing: SQLite's write transactions (IMMEDIATE) already run one at a time."""
