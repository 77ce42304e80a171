"""The report search answer as the API sends it, cached per data version, and its warm-up."""

from typing import Any

from django.http import HttpRequest

from core import responses
from core.cache import cached, data_version, key_of
from reports import selectors
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
    reused until the next write to the reports table (see core.cache)."""
    if version is None:
        version = data_version("reports")

    def answer() -> dict[str, Any]:
        items, total, options = selectors.report_search(
            page=page, page_size=page_size, version=version, **filters
        )
        body = {
            "data": items,
            "total": total,
            "page": page,
            "page_size": page_size,
            "filters": options,
        }
        return {
            "content": responses.render(request, ReportSearchOut, body),
            "ids": [item["report_id"] for item in items],
            "total": total,
        }

    key = key_of({**filters, "page": page, "page_size": page_size})
    return cached("reports", f"page:{key}", answer, version=version)


def filter_options_content(
    *, version: int | None = None, request: HttpRequest | None = None
) -> bytes:
    return cached(
        "reports",
        "options:rendered",
        lambda: responses.render(
            request, ReportFiltersOut, selectors.report_filter_options(version=version)
        ),
        version=version,
    )


def warm_caches(*, page_size: int = 20) -> int:
    """The filter lists and the first page of all reports, computed ahead after an import."""
    version = data_version("reports")
    filter_options_content(version=version)
    filters = ReportFilterParams().filters()
    search_page(filters=filters, page=1, page_size=page_size, version=version)
    return 2
