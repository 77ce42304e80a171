"""The one plan chain of every search (``search``): the first page counted with its total,
or the total (grouped, cached or counted) and then the page by the plan it picks: the walk
of the date index (``backends.postgresql``), the SQLite walk, the filter-first sort of
combined filters, the bookmarked deep page, the plain page.

Results never depend on the plan: every one reads the same rows in the same order. Which
plan fetches a page is chosen from the exact total of matches, which the search knows
(cached) before it fetches the page.
"""

from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper, F, Value
from django.db.models.expressions import OrderBy

from core.pagination import paginate
from core.search import backends
from core.search.backends.postgresql import walked_page, walks_date_index
from core.search.counts import search_total
from core.search.pages import bookmarked_page, counted_page
from core.search.spec import Filters, Hints, SearchSpec


def unindexed_order(field: str, *, descending: bool) -> OrderBy:
    """Order by a datetime ``field`` through an expression no index serves (field + 0 s), so
    the planner sorts the matches rather than walking the field's index to meet them."""
    shifted = ExpressionWrapper(F(field) + Value(timedelta(0)), output_field=DateTimeField())
    return shifted.desc() if descending else shifted.asc()


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
    backend = backends.current()
    if hints.text_absent:
        # Found through B-trees alone: its matches are fewer to read than a walk of the date
        # index would read to meet them (PostgreSQL sorts them; SQLite's planner does).
        queryset = spec.matches(filters, hints, filter_first=backend.FINDS_THEN_SORTS)
        return paginate(queryset, page=page, page_size=page_size, total=total)
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
    text_search = any(filters.term(name) for name in spec.walk_terms) and backend.FINDS_THEN_SORTS
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
    elif _combines_filters(spec, filters) and by_date and backend.FINDS_THEN_SORTS and not dense():
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
