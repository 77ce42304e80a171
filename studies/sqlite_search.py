"""Planning of the studies' substring search on SQLite (the embedded default).

Results never depend on anything here: the FTS5 trigram index of migration 0005 only proposes
rows, and the LIKE conditions of ``study_list`` still decide, so the answers are those of a
plain scan. The index holds every field followed by two padding characters, so every
character of the text starts a trigram:

- a term of three characters or more is found through the trigrams it is made of;
- a term of one or two characters through the trigrams it begins (the index's vocabulary of
  (trigram, rowid) pairs, read as a range). Its characters must fold the way the index folds
  them, which Python knows for ASCII and for characters without case (Chinese); a short term
  with other cased characters (``é``) reads the table, as before.
"""

from typing import Any

from django.db import connection
from django.db.models import BooleanField, Expression, Q

FTS_TABLE = "studies_study_fts"
TERMS_TABLE = "studies_study_fts_terms"
# The pinyin of the patients' names (migration 0007), in a trigram table of its own.
PINYIN_FTS_TABLE = "studies_study_pinyin_fts"
TRIGRAM = 3
# A page whose matches are this dense or more walks the date index (LIKE only, as without the
# index): the walk meets ``rows_needed`` matches within about DENSE_RATIO times as many rows,
# where reading every candidate and sorting them would cost about ``total`` row reads.
DENSE_RATIO = 50
_SURROGATES = range(0xD800, 0xE000)


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


def text_candidates(q: str) -> Q | None:
    """Rows that may hold ``q`` in a searched text field (a superset, never the match itself);
    None when the index cannot narrow the search (not SQLite, or an unfoldable short term)."""
    if connection.vendor != "sqlite" or not q or "\x00" in q:
        return None
    if len(q) >= TRIGRAM:
        return _trigram_candidates(FTS_TABLE, q)
    if not _folds_like_the_index(q):
        return None
    prefix = q.lower()  # the index's folding, for ASCII and caseless characters
    after = _after(prefix)
    if after is None:
        return None
    sql = f"SELECT doc FROM {TERMS_TABLE} WHERE term >= %s AND term < %s"
    return Q(_RowidIn(sql, (prefix, after)))


def _trigram_candidates(table: str, q: str) -> Q:
    trigrams = dict.fromkeys(q[i : i + TRIGRAM] for i in range(len(q) - TRIGRAM + 1))
    match = " AND ".join(_quoted(trigram) for trigram in trigrams)
    sql = f"SELECT rowid FROM {table} WHERE {table} MATCH %s"
    return Q(_RowidIn(sql, (match,)))


def pinyin_candidates(letters: str) -> Q | None:
    """Rows whose name's pinyin may hold ``letters`` (three or more lowercase ASCII letters:
    ``studies.selectors.pinyin_term``); None when not on SQLite."""
    if connection.vendor != "sqlite" or len(letters) < TRIGRAM:
        return None
    return _trigram_candidates(PINYIN_FTS_TABLE, letters)


def walks_date_index(*, sort: str, total: int, rows_needed: int) -> bool:
    """Whether a text search's page on SQLite walks the date index rather than sort its
    candidates (dense matches); the exact total is known before the page is fetched."""
    return (
        connection.vendor == "sqlite"
        and sort.lstrip("-") == "order_datetime"
        and total >= DENSE_RATIO * rows_needed
    )
