"""The one plan chain of every search (``search``): the total (``counts``: counted with the
first page, grouped, cached or counted), then the page by the plan it picks: the walk of
the date index (the backend's, ``backends.current()``), the SQLite walk, the filter-first
sort of combined filters, the bookmarked deep page (``pages``), the plain page.

Results never depend on the plan: every one reads the same rows in the same order. Which
plan fetches a page is chosen from the exact total of matches, which the search knows
(cached) before it fetches the page.
"""

from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper, F, Value
from django.db.models.expressions import OrderBy

from core.pagination import in_key_order, paginate
from core.search import backends
from core.search.counts import search_total
from core.search.pages import bookmarked_page
from core.search.spec import Filters, SearchSpec


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

    A search the app answers from its own tables (``SearchSpec.own_page``) is answered so.
    Otherwise the total comes first (``counts.search_total``: with the first page's keys when a term's
    hints find one scan of its matches worth it); otherwise the total, counted or cached,
    picks the plan of the page: the walk of the date index, the SQLite walk, the
    filter-first sort of combined filters, the bookmarked deep page (``pages``), the plain
    page.
    """
    if spec.own_page is not None:
        own = spec.own_page(filters, page, page_size, version)
        if own is not None:
            return own
    hints = spec.hints(filters, version)
    total, keys = search_total(spec, filters, hints, version=version, first_page=(page, page_size))
    backend = backends.current()
    rows_needed = page * page_size
    by_date = filters.sort.lstrip("-") == spec.date_field
    descending = filters.sort.startswith("-")

    def dense() -> bool:
        return backend.walks_date_index(
            table=spec.table, data=spec.name, version=version, total=total,
            rows_needed=rows_needed, window_per_match=spec.walk_window_per_match,
        )  # fmt: skip

    queryset = spec.rows()
    rows = None
    if keys is None and hints.text_absent:
        # Found through B-trees alone: its matches are fewer to read than a walk of the date
        # index would read to meet them (PostgreSQL sorts them; SQLite's planner does).
        queryset = spec.matches(filters, hints, filter_first=backend.FINDS_THEN_SORTS)
    elif keys is None:
        # A text search's matches found through the text indexes, then sorted; or, when they
        # are dense, met by walking the date index: otherwise the planner may walk it for a
        # rare term's rows through most of the table.
        text_search = filters.searches_text and backend.FINDS_THEN_SORTS
        queryset = spec.matches(filters, hints, filter_first=text_search)
        if text_search:
            if by_date and dense():
                rows = backend.walked_page(
                    spec.matches(filters, hints, text_index=False), queryset,
                    field=spec.date_field, descending=descending, data=spec.name,
                    version=version, page=page, page_size=page_size, total=total,
                )  # fmt: skip
        elif filters.q and spec.sqlite_walk and spec.sqlite_walk(filters, total, rows_needed):
            queryset = spec.matches(filters, hints, text_index=False)
        elif filters.combined and by_date and backend.FINDS_THEN_SORTS and not dense():
            # No index holds a combination of filters in date order, and the planner, which
            # takes the filters as independent, may walk the date index through most of the
            # table looking for a rare combination: the few matches are sorted instead.
            queryset = spec.matches(filters, hints, filter_first=True)
        elif spec.bookmarks and filters.sort == spec.default_sort and filters.unfiltered:
            rows = bookmarked_page(
                queryset, field=spec.date_field, descending=descending, data=spec.name,
                version=version, page=page, page_size=page_size, total=total,
            )  # fmt: skip
    if rows is not None:
        return rows, total
    if keys is not None:
        return in_key_order(queryset, keys), total
    return paginate(queryset, page=page, page_size=page_size, total=total)
