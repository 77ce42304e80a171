"""The search answer as the API sends it, cached per data version, and its warm-up."""

from typing import Any

from django.http import HttpRequest

from core.cache import data_version, tidy
from core.search import rendered
from core.search.pages import bookmarks
from core.search.plan import warm_window_edges
from studies import selectors
from studies.models import Study
from studies.schemas import FilterOptionsOut, StudyFilterParams, StudySearchOut

# The filters whose values the filter lists offer: the first page of each value is what staff
# open first after an import, so the warm-up computes those.
WARM_FILTERS = {
    "exam_status": "exam_statuses",
    "exam_source": "exam_sources",
    "exam_item": "exam_items",
    "equipment_type": "equipment_types",
}


def search_page(
    *,
    filters: dict[str, Any],
    page: int,
    page_size: int,
    version: int | None = None,
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """The rendered search answer (``content``) with its exam ids and total, for the audit.

    Reused until the next write to the studies table (see core.cache): staff open the same
    first pages and look up the same names all day.
    """

    def search(v: int) -> tuple[list, int, dict]:
        studies, total, options = selectors.study_search(
            page=page, page_size=page_size, version=v, **filters
        )
        listed = {k: options[k] for k in ("exam_statuses", "exam_sources", "exam_items")}
        return studies, total, listed

    return rendered.cached_page(
        "studies",
        StudySearchOut,
        search=search,
        ids=lambda studies: [s.exam_id for s in studies],
        params=filters, page=page, page_size=page_size, version=version, request=request,
    )  # fmt: skip


def filter_options_content(
    *, version: int | None = None, request: HttpRequest | None = None
) -> bytes:
    return rendered.cached_render(
        "studies",
        "options",
        FilterOptionsOut,
        lambda: selectors.study_filter_options(version=version),
        version=version,
        request=request,
    )


def warm_caches(*, page_size: int = 20) -> int:
    """Compute, for the current data, what the first requests after an import ask for: the
    filter lists, the grouped count that totals every combination of the exact-match filters,
    the character counts that total a one-character term, the edges of the date walk's
    windows, the bookmarks where deep pages of the unfiltered list (and of the list grouped
    by patient) start, and the first page of no filter and of each single filter value.
    Called after every import, so that no user waits for a count over the whole table. Returns the number of searches prepared."""
    version = data_version("studies")
    filter_options_content(version=version)
    options = selectors.study_filter_options(version=version)
    # The grouped count that answers every total of the exact-match filters.
    selectors.study_group_counts(version=version)
    # The totals of one-character terms, and where the newest rows end for a term's walk.
    selectors.study_character_counts(version=version)
    warm_window_edges(
        Study, field="order_datetime", descending=True, data="studies", version=version
    )
    # Where the deep pages of the unfiltered list start.
    bookmarks(Study, field="order_datetime", descending=True, data="studies", version=version)
    # And those of the list grouped by patient (studies.patients), in record number order.
    bookmarks(
        Study, field="medical_record_no", descending=False, data="studies", version=version,
        skip_null=True,
    )  # fmt: skip
    searches = [{}] + [
        {field: value} for field, listed in WARM_FILTERS.items() for value in options[listed]
    ]
    for search in searches:
        filters = StudyFilterParams(**search).filters()
        search_page(filters=filters, page=1, page_size=page_size, version=version)
    tidy()  # the older version's answers were removed by the first answer stored above
    return len(searches)
