"""The studies' search: its spec for core.search (fields, indexes, the hooks of its rules in
studies.selectors), its entry points, the answer as the API sends it, cached per data
version, and its warm-up."""

from functools import partial
from typing import Any

from core.cache import data_version
from core.pagination import DEFAULT_PAGE_SIZE
from core.search import backends, counts, plan, rendered, spec
from core.search.pages import bookmarks
from studies import selectors, services, sqlite_search
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


def _sqlite_walk(filters: spec.Filters, total: int, rows_needed: int) -> bool:
    return sqlite_search.walks_date_index(sort=filters.sort, total=total, rows_needed=rows_needed)


def _warm(version: int) -> int:
    """Compute, for the current data, what the first requests after an import ask for: the
    filter lists, the grouped count that totals every combination of the exact-match filters,
    the character counts that total a one-character term, the bookmarks where deep pages of
    the list grouped by patient start, the first page of no filter and of each single filter
    value. Returns the number of searches prepared."""
    filter_options_content(version=version)
    options = selectors.study_filter_options(version=version)
    counts.grouped_counts(SPEC, version=version)
    selectors.study_character_counts(version=version)
    # Where the deep pages of the list grouped by patient (studies.patients) start, in record
    # number order.
    bookmarks(
        Study, field="medical_record_no", descending=False, data="studies", version=version,
        skip_null=True,
    )  # fmt: skip
    searches = [{}] + [
        {field: value} for field, listed in WARM_FILTERS.items() for value in options[listed]
    ]
    for search in searches:
        filters = StudyFilterParams(**search).filters()
        search_page(filters=filters, page=1, page_size=DEFAULT_PAGE_SIZE, version=version)
    return len(searches)


def _warm_beside(version: int) -> None:
    """How many studies hold each reading of a name, which pinyin searches total from where the
    backend walks the date index for a frequent term (studies.selectors.study_hints): one
    statement of PostgreSQL's, beside the rest of the warm-up (after it on SQLite, which does
    not keep them)."""
    if backends.current().FINDS_THEN_SORTS:
        services.refresh_name_readings(version=version)


SPEC = spec.register(
    spec.SearchSpec(
        name="studies",
        model=Study,
        date_field="order_datetime",
        default_sort="-order_datetime",
        text_fields=selectors.TEXT_FIELDS,
        identifier_fields=("exam_id", "medical_record_no", "application_order_no"),
        # The exact-match filters. Every combination of their values is answered from one
        # grouped count instead of a count over the table.
        grouped_filters=(
            "exam_status",
            "exam_source",
            "exam_item",
            "equipment_type",
            "patient_gender",
        ),  # fmt: skip
        chars_expression=selectors.TEXT_CHARS,
        matches=selectors.study_matches,
        rows=Study.objects.all,
        count=selectors.study_count,
        hints=selectors.study_hints,
        sqlite_walk=_sqlite_walk,
        bookmarks=True,
        warm=_warm,
        warm_beside=_warm_beside,
    )
)


def study_search(
    *, page: int, page_size: int, version: int | None = None, **filters: Any
) -> tuple[list[Study], int, dict[str, list[str]]]:
    """One page of ``study_list(**filters)``, its exact total and the filter options.

    The total and the options are reused until the studies table changes: counting an
    unselective filter over a million rows is the most expensive part of a search.
    The exact total also picks the plan of the page of a text search or of combined filters
    (see ``core.search.plan``).
    """
    if version is None:
        version = data_version("studies")
    rows, total = plan.search(
        SPEC, SPEC.filters_of(filters), page=page, page_size=page_size, version=version
    )
    return rows, total, selectors.study_filter_options(version=version)


def study_search_total(filters: dict[str, Any], *, version: int) -> int:
    """The exact number of studies matching ``filters``, cached under the data version."""
    total, _ = counts.search_total(SPEC, SPEC.filters_of(filters), spec.Hints(), version=version)
    return total


def _listed_search(
    *, page: int, page_size: int, version: int, **filters: Any
) -> tuple[list[Study], int, dict[str, list[str]]]:
    studies, total, options = study_search(
        page=page, page_size=page_size, version=version, **filters
    )
    listed = {k: options[k] for k in ("exam_statuses", "exam_sources", "exam_items")}
    return studies, total, listed


# The rendered search answer (``content``) with its exam ids and total, for the audit.
# Reused until the next write to the studies table (see core.cache): staff open the same
# first pages and look up the same names all day.
search_page = rendered.page_answer(
    "studies", StudySearchOut, _listed_search, lambda studies: [s.exam_id for s in studies]
)
filter_options_content = partial(
    rendered.options_content, "studies", FilterOptionsOut, selectors.study_filter_options
)
