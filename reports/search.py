"""The reports' search: its spec for core.search (fields, indexes, the hooks of its rules in
reports.selectors), its entry point, the answer as the API sends it, cached per data
version, and its warm-up."""

from functools import partial
from typing import Any

from core.cache import data_version
from core.pagination import DEFAULT_PAGE_SIZE
from core.search import plan, rendered, spec
from reports import selectors
from reports.models import Report
from reports.schemas import ReportFilterParams, ReportFiltersOut, ReportSearchOut


def _warm(version: int) -> int:
    """The filter lists, the first page of all reports and the counts of frequent characters
    and pairs, and of the findings, computed ahead after an import."""
    filter_options_content(version=version)
    filters = ReportFilterParams().filters()
    search_page(filters=filters, page=1, page_size=DEFAULT_PAGE_SIZE, version=version)
    # The totals of frequent Chinese terms of one or two characters, and the bounds that
    # choose the plan of longer ones (see selectors.report_character_counts).
    selectors.report_character_counts(version=version)
    selectors.report_finding_counts(version=version)
    selectors.report_finding_sizes(version=version)
    return 2


def _finding_page(
    filters: spec.Filters, page: int, page_size: int, version: int
) -> tuple[list[Report], int] | None:
    """A search by finding alone, answered from the findings table (see
    ``selectors.finding_page``); None for any other search."""
    if not selectors.finding_alone(filters):
        return None
    return selectors.finding_page(filters, page=page, page_size=page_size, version=version)


SPEC = spec.register(
    spec.SearchSpec(
        name="reports",
        model=Report,
        date_field="created_at",
        default_sort="-created_at",
        text_fields=("content",),
        chars_expression=selectors.CONTENT_CHARS,
        matches=selectors.report_matches,
        rows=lambda: Report.objects.select_related("study"),
        count=selectors.report_count,
        hints=selectors.report_hints,
        # Every count of reports waits for the process computing it: a patient name or a
        # finding may read as much of the table as a term.
        count_always_costly=True,
        # A patient's name is a text search too (through the studies' text indexes).
        walk_terms=("q", "patient_name"),
        walk_window_per_match=selectors.WALK_WINDOW_PER_MATCH,
        own_page=_finding_page,
        warm=_warm,
    )
)


def report_search(
    *, page: int, page_size: int, version: int | None = None, **filters: Any
) -> tuple[list[dict[str, Any]], int, dict[str, list[str]]]:
    """One page of search items (with snippets), the exact total and the filter options."""
    if version is None:
        version = data_version("reports")
    typed = SPEC.filters_of(filters)
    reports, total = plan.search(SPEC, typed, page=page, page_size=page_size, version=version)
    # A search by finding alone has no term: its snippets start at the report's beginning.
    items = [selectors.report_search_item(r, q=typed.q) for r in reports]
    return items, total, selectors.report_filter_options(version=version)


# The rendered search answer (``content``) with its report ids and total, for the audit;
# reused until the next write to the reports table, or to the studies table whose patient
# names and exam items it shows (see core.cache).
search_page = rendered.page_answer(
    "reports",
    ReportSearchOut,
    report_search,
    lambda items: [item["report_id"] for item in items],
    shows=("studies",),
)
filter_options_content = partial(
    rendered.options_content, "reports", ReportFiltersOut, selectors.report_filter_options
)
