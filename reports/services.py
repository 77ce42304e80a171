"""The report search answer as the API sends it, cached per data version, and its warm-up."""

from typing import Any

from django.http import HttpRequest

from core import responses
from core.cache import data_version, tidy
from core.search import warm_window_edges
from reports import selectors
from reports.models import Report
from reports.schemas import ReportFilterParams, ReportFiltersOut, ReportSearchOut


def search_page(
    *,
    filters: dict[str, Any],
    page: int,
    page_size: int,
    version: int | None = None,
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """The rendered search answer (``content``) with its report ids and total, for the audit;
    reused until the next write to the reports table, or to the studies table whose patient
    names and exam items it shows (see core.cache)."""
    return responses.cached_page(
        "reports",
        ReportSearchOut,
        search=lambda v: selectors.report_search(
            page=page, page_size=page_size, version=v, **filters
        ),
        ids=lambda items: [item["report_id"] for item in items],
        params=filters, page=page, page_size=page_size, version=version, request=request,
        shows=("studies",),
    )  # fmt: skip


def filter_options_content(
    *, version: int | None = None, request: HttpRequest | None = None
) -> bytes:
    return responses.cached_render(
        "reports",
        "options",
        ReportFiltersOut,
        lambda: selectors.report_filter_options(version=version),
        version=version,
        request=request,
    )


def warm_caches(*, page_size: int = 20) -> int:
    """The filter lists, the first page of all reports and the counts of frequent characters
    and pairs, computed ahead after an import."""
    version = data_version("reports")
    filter_options_content(version=version)
    filters = ReportFilterParams().filters()
    search_page(filters=filters, page=1, page_size=page_size, version=version)
    # The totals of frequent Chinese terms of one or two characters, and the bounds that
    # choose the plan of longer ones (see selectors.report_character_counts).
    selectors.report_character_counts(version=version)
    selectors.report_finding_counts(version=version)
    warm_window_edges(Report, field="created_at", descending=True, data="reports", version=version)
    tidy()  # the older version's answers were removed by the first answer stored above
    return 2
