"""PostgreSQL's side of search: the character index of short terms, and the plans that
fetch a page (walking the date index within a window of the newest rows, or sorting the
matches found through their own indexes). ``backends.sqlite`` has the same function names.

Results never depend on anything here: these helpers only choose how PostgreSQL finds the
same rows. Which plan fetches a page is chosen from the exact total of matches, which the
search knows (cached) before it fetches the page. Substrings of three characters or more use
the trigram GIN indexes; shorter ones (a Chinese surname) use a GIN index of the text's
characters to narrow the rows that LIKE then decides exactly.
"""

import logging
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import BooleanField, Model, Q
from django.db.models.expressions import RawSQL
from django.db.models.query import QuerySet

from core.cache import cached
from core.pagination import paginate
from core.search.backends import TextIndex
from core.search.query import TRIGRAM

logger = logging.getLogger(__name__)

NAME = "postgresql"
# A text search's matches are found through the text indexes, then sorted, or met by
# walking the date index when they are dense (see ``walks_date_index``): the planner, left
# alone, may walk it for a rare term's rows through most of the table.
FINDS_THEN_SORTS = True
# A warm-up may run its statements on a second connection beside its own (``warmup.alongside``):
# PostgreSQL answers both at once, on two cores.
CONCURRENT_SESSIONS = True

# A search whose page the date index would meet within this many rows walks the index; a
# rarer term sorts its matches instead, since the walk would read most of the table first.
WALK_LIMIT = 20_000
# A walk never reads past the newest rows of one of these windows: a term frequent overall
# may be absent from recent rows (an English word of older reports), and the walk would go on
# through the table (6 s for one such term at a million rows). It takes the smallest window
# holding four times the rows it expects to read: a walk that finds too few matches there
# has cost little (reading 40,000 reports for an English word: 46 ms; 5,000: 6 ms).
WALK_WINDOWS = (5_000, 10_000, 20_000, 2 * WALK_LIMIT)


def _estimate(table: str) -> float:
    # The planner's own row estimate: good enough to choose a plan, never shown to anyone.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        row = cursor.fetchone()
    return float(row[0]) if row else 0.0


def _table_rows(table: str, version: int, total: int) -> float:
    # In this process's memory even inside a transaction (unlike core.cache's answers): the
    # estimate only chooses plans, and a search asks for it twice.
    key = f"estimate:{table}:{version}"
    estimate = cache.get(key)
    if estimate is None:
        estimate = _estimate(table)
        cache.set(key, estimate, timeout=None)
    return max(estimate, total, 1)


def _window_size(expected_rows: float) -> int:
    return next((w for w in WALK_WINDOWS if w >= 4 * expected_rows), WALK_WINDOWS[-1])


def walks_date_index(
    *,
    table: str,
    data: str,
    version: int,
    total: int,
    rows_needed: int,
    window_per_match: float | None = None,
) -> bool:
    """Whether walking the date index meets ``rows_needed`` matches cheaply (dense matches).

    ``window_per_match``: where reading a row in the walk costs about as much as sorting a
    match, walk only while the walk's window (what it reads at worst, when the matches are
    not spread evenly over time) holds at most this many rows per match.
    """
    table_rows = _table_rows(table, version, total)
    if total <= 0:
        return False
    expected = rows_needed * table_rows / total
    if expected > WALK_LIMIT:
        return False
    return window_per_match is None or _window_size(expected) <= window_per_match * total


def short_term_index(q: str, *, by_characters: bool = False) -> bool:
    """Whether ``q`` is found through the character index: shorter than a trigram, or (a
    report's longer Chinese term, ``by_characters``) where its candidates are mostly matches."""
    return by_characters or 0 < len(q) < TRIGRAM


def text_candidates(q: str, index: TextIndex, *, by_characters: bool = False) -> Q | None:
    """Rows that may hold ``q`` (an index condition, not a match), through the character
    index of ``index``; None for a term the trigram indexes serve (the LIKE alone)."""
    if index.chars is None or not short_term_index(q, by_characters=by_characters):
        return None
    return short_term_candidates(index.chars, q)


def short_term_candidates(chars_expression: str, q: str) -> Q:
    """Rows whose text holds every character of ``q`` (an index condition, not a match)."""
    return Q(
        RawSQL(
            f"{chars_expression} @> regexp_split_to_array(upper(%s), '')",
            (q,),
            output_field=BooleanField(),
        )
    )


def candidates_are_exact(q: str) -> bool:
    """Whether the character index alone decides a match of ``q``, with no LIKE to recheck.

    For one character it does: some field holds it exactly when the characters of the
    upper-cased fields include its upper case, so the LIKE of every candidate row is not
    evaluated (counting the 14,026 studies of one surname in a million rows: 163 -> 61 ms).
    A character whose upper case is longer (ß -> SS) keeps the LIKE.
    """
    return len(q) == 1 and len(q.upper()) == 1


# PostgreSQL has no skip scan: a loose index scan (one index probe per distinct value) reads a
# few dozen index entries where SELECT DISTINCT reads the whole table.
_LOOSE_INDEX_SCAN = """
WITH RECURSIVE walk(value) AS (
    (SELECT {column} FROM {table} WHERE {column} > '' ORDER BY {column} LIMIT 1)
    UNION ALL
    SELECT (SELECT {column} FROM {table} WHERE {column} > walk.value ORDER BY {column} LIMIT 1)
    FROM walk WHERE walk.value IS NOT NULL
)
SELECT value FROM walk WHERE value IS NOT NULL
"""


def distinct_values(model: type[Model], field: str) -> set[str]:
    """The distinct non-empty values of ``field`` (an indexed text column)."""
    column = connection.ops.quote_name(field)
    with connection.cursor() as cursor:
        cursor.execute(_LOOSE_INDEX_SCAN.format(table=model._meta.db_table, column=column))
        return {row[0] for row in cursor.fetchall()}


def _window_edge(model: type[Model], field: str, descending: bool, size: int) -> tuple[Any]:
    order = f"-{field}" if descending else field
    edge = model.objects.order_by(order).values_list(field, flat=True)[size - 1 : size]
    return (next(iter(edge), None),)  # a tuple: None (a small table) is an answer too


def window_edge(
    model: type[Model], *, field: str, descending: bool, data: str, version: int, size: int
) -> Any:
    """The ``field`` value of the ``size``-th newest (or oldest) row; None for a smaller
    table. Shared by the processes and computed by the import's warm-up: reading 40,000
    index entries (2 ms) would otherwise fall on the first search of each worker."""
    (edge,) = cached(
        data,
        f"window:{field}:{descending}:{size}",
        lambda: _window_edge(model, field, descending, size),
        version=version,
    )
    return edge


def warm_window_edges(
    model: type[Model], *, field: str, descending: bool, data: str, version: int
) -> None:
    """Compute the edges of every walk window for the data's ``version`` (a warm-up)."""
    for size in WALK_WINDOWS:
        window_edge(
            model, field=field, descending=descending, data=data, version=version, size=size
        )


def walked_page(
    walk: QuerySet,
    fallback: QuerySet,
    *,
    field: str,
    descending: bool,
    data: str,
    version: int,
    page: int,
    page_size: int,
    total: int,
) -> list:
    """A page read by walking the ``field`` index (``walk``), within a window of the newest
    (or oldest) rows; when the matches there are too few for the page, the page of
    ``fallback`` (the matches found through their own indexes, then sorted). Both querysets
    hold the same rows in the same order, so the page is the same either way."""
    table_rows = _table_rows(walk.model._meta.db_table, version, total)
    expected = page * page_size * table_rows / max(total, 1)
    size = _window_size(expected)
    edge = window_edge(
        walk.model, field=field, descending=descending, data=data, version=version, size=size
    )
    if edge is not None:
        walk = walk.filter(**{f"{field}__{'gte' if descending else 'lte'}": edge})
    rows, _ = paginate(walk, page=page, page_size=page_size, total=total)
    if edge is None or len(rows) >= min(page_size, total - (page - 1) * page_size):
        return rows
    rows, _ = paginate(fallback, page=page, page_size=page_size, total=total)
    return rows


def warm_up(model: type[Model], *, field: str, data: str, version: int) -> None:
    """What the plans of a page read, computed by the warm-up: the edges of every walk window
    of the date ``field``, newest first."""
    warm_window_edges(model, field=field, descending=True, data=data, version=version)


def reclaim(table: str) -> None:
    """Reclaim the rows a warm-up's rewrite of a derived ``table`` left dead (as
    ``core.cache.tidy`` does for the cache tables), where autovacuum is off or late, and give
    the planner the statistics of its new rows."""
    if connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    except DatabaseError:
        logger.warning("VACUUM of %s failed", table, exc_info=True)


def lock_for_rewrite(cursor: Any, table: str) -> None:
    """Make the warm-ups that bring a derived ``table`` up to date wait for each other (each
    then reads the data the one before it committed); searches go on reading it."""
    cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE")
