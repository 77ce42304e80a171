"""Planning of substring searches on PostgreSQL, shared by the studies and reports searches.

Results never depend on anything here: these helpers only choose how PostgreSQL finds the
same rows. Substrings of three characters or more use the trigram GIN indexes; shorter ones
(a Chinese surname) use a GIN index of the text's characters to narrow the rows that LIKE
then decides exactly. Which plan fetches a page is chosen from the exact total of matches,
which the search knows (cached) before it fetches the page.
"""

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from itertools import chain, islice
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, F, Model, Q, Value
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.query import QuerySet

from core.cache import cached
from core.pagination import paginate

# Terms shorter than this cannot use the trigram indexes.
TRIGRAM = 3
# A search whose page the date index would meet within this many rows walks the index; a
# rarer term sorts its matches instead, since the walk would read most of the table first.
WALK_LIMIT = 20_000
# A walk never reads past the newest rows of one of these windows: a term frequent overall
# may be absent from recent rows (an English word of older reports), and the walk would go on
# through the table (6 s for one such term at a million rows). It takes the smallest window
# holding four times the rows it expects to read: a walk that finds too few matches there
# has cost little (reading 40,000 reports for an English word: 46 ms; 5,000: 6 ms).
WALK_WINDOWS = (5_000, 10_000, 20_000, 2 * WALK_LIMIT)


def uses_postgresql() -> bool:
    return connection.vendor == "postgresql"


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


def is_caseless(q: str) -> bool:
    """Whether ``q`` has no letter case at all (Chinese characters, digits), so that a
    case-sensitive LIKE finds exactly what the case-insensitive one finds.

    Letters of category Lo ("other letter") and digits have no upper or lower form and are no
    other character's upper case; leaving out UPPER() on every row made counting a common
    two-character term a quarter faster (255 -> 192 ms over a million rows).
    """
    return bool(q) and all(unicodedata.category(c) in ("Lo", "Nd") for c in q)


def count_caseless(
    texts: Iterable[tuple[str, int]],
    terms: Callable[[str], Iterable[str]] = iter,
    *,
    minimum: int = 1,
) -> dict[str, int]:
    """How many rows hold each term without letter case (``is_caseless``) that
    ``terms(text)`` yields (by default its characters), from ``(text, how many rows hold
    it)``, for the terms held by ``minimum`` rows or more. A row counts once per term,
    however often its text holds it; identical texts given once with their number are split
    once."""
    counts: Counter[str] = Counter()
    rows = iter(texts)
    while chunk := list(islice(rows, 20_000)):
        alike: defaultdict[int, list[str]] = defaultdict(list)
        for text, times in chunk:
            alike[times].append(text)
        for times, group in alike.items():
            found = Counter(chain.from_iterable(set(terms(t)) for t in group))
            counts.update({term: n * times for term, n in found.items()} if times > 1 else found)
    return {t: n for t, n in counts.items() if n >= minimum and is_caseless(t)}


def wants_short_term_index(q: str) -> bool:
    return uses_postgresql() and 0 < len(q) < TRIGRAM


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


def unindexed_order(field: str, *, descending: bool) -> OrderBy:
    """Order by a datetime ``field`` through an expression no index serves (field + 0 s), so
    the planner sorts the matches rather than walking the field's index to meet them."""
    shifted = ExpressionWrapper(F(field) + Value(timedelta(0)), output_field=DateTimeField())
    return shifted.desc() if descending else shifted.asc()


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
