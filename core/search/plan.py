"""The plans that fetch a page of a search on PostgreSQL: walking the date index within a
window of the newest rows, or sorting the matches found through their own indexes.

Results never depend on anything here: these helpers only choose how PostgreSQL finds the
same rows. Which plan fetches a page is chosen from the exact total of matches, which the
search knows (cached) before it fetches the page.
"""

from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import DateTimeField, ExpressionWrapper, F, Model, Value
from django.db.models.expressions import OrderBy
from django.db.models.query import QuerySet

from core.cache import cached
from core.pagination import paginate
from core.search.counts import search_total
from core.search.pages import bookmarked_page, counted_page
from core.search.query import uses_postgresql
from core.search.spec import Filters, Hints, SearchSpec

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


def search(
    spec: SearchSpec, filters: Filters, *, page: int, page_size: int, version: int
) -> tuple[list, int]:
    """One page of the rows matching ``filters`` and their exact total: the one plan chain of
    every searchable model (``spec``).

    The first search of a term its hints find worth it reads its matches once for both
    (``pages.counted_page``); otherwise the total, counted or cached, picks the plan of the
    page (``page_rows``).
    """
    hints = spec.hints(filters, version)
    if hints.scanned_once:
        first = counted_page(
            spec.matches(filters, hints, filter_first=True), spec.rows(), data=spec.name,
            count_key=filters.count_key(), version=version, page=page, page_size=page_size,
        )  # fmt: skip
        if first is not None:
            return first
    total = search_total(spec, filters, hints, version=version)
    return page_rows(spec, filters, hints, total, page=page, page_size=page_size, version=version)


def page_rows(
    spec: SearchSpec, filters: Filters, hints: Hints, total: int, *, page: int, page_size: int,
    version: int,
) -> tuple[list, int]:  # fmt: skip
    """The page of a search whose exact total is known, by the plan the total picks."""
    rows_needed = page * page_size
    by_date = filters.sort.lstrip("-") == spec.date_field
    descending = filters.sort.startswith("-")

    def dense() -> bool:
        return walks_date_index(
            table=spec.table, data=spec.name, version=version, total=total,
            rows_needed=rows_needed, window_per_match=spec.walk_window_per_match,
        )  # fmt: skip

    # A text search's matches found through the text indexes, then sorted; or, when they are
    # dense, met by walking the date index: otherwise the planner may walk it for a rare
    # term's rows through most of the table.
    text_search = any(filters.term(name) for name in spec.walk_terms) and uses_postgresql()
    queryset = spec.matches(filters, hints, filter_first=text_search)
    if text_search:
        if by_date and dense():
            rows = walked_page(
                spec.matches(filters, hints, text_index=False), queryset,
                field=spec.date_field, descending=descending, data=spec.name, version=version,
                page=page, page_size=page_size, total=total,
            )  # fmt: skip
            return rows, total
    elif filters.q and spec.sqlite_walk and spec.sqlite_walk(filters, total, rows_needed):
        queryset = spec.matches(filters, hints, text_index=False)
    elif _combines_filters(spec, filters) and by_date and uses_postgresql() and not dense():
        # No index holds a combination of filters in date order, and the planner, which
        # takes the filters as independent, may walk the date index through most of the
        # table looking for a rare combination: the few matches are sorted instead.
        queryset = spec.matches(filters, hints, filter_first=True)
    elif spec.bookmarks and filters.sort == spec.default_sort and filters.alone():
        rows = bookmarked_page(
            queryset, field=spec.date_field, descending=descending, data=spec.name,
            version=version, page=page, page_size=page_size, total=total,
        )  # fmt: skip
        if rows is not None:
            return rows, total
    return paginate(queryset, page=page, page_size=page_size, total=total)


def _combines_filters(spec: SearchSpec, filters: Filters) -> bool:
    used = filters.used(spec.grouped_filters)
    return len(used) + bool(filters.used(spec.range_filters)) >= 2
