"""The report search answer as the API sends it, cached per data version, and its warm-up;
the reading of the reports' findings (reports.findings) by the task worker."""

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from core.cache import data_version, tidy
from core.search import rendered
from core.search.plan import warm_window_edges
from reports import findings, selectors
from reports.models import Report
from reports.schemas import ReportFilterParams, ReportFiltersOut, ReportSearchOut

logger = logging.getLogger(__name__)


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
    return rendered.cached_page(
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
    return rendered.cached_render(
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
    selectors.report_finding_sizes(version=version)
    warm_window_edges(Report, field="created_at", descending=True, data="reports", version=version)
    tidy()  # the older version's answers were removed by the first answer stored above
    return 2


def findings_read(*, wait: bool = False, batch_size: int = findings.BATCH) -> dict[str, Any]:
    """Read the findings of every report whose version has none yet (one reading at a time),
    then prepare the search caches again: the new rows changed what report search answers.

    With ``wait`` False and another reading running, returns at once with ``busy``: the
    running one reads what is stale before it ends (see ``findings.read_stale_findings``).
    """
    totals = findings.read_stale_findings(wait=wait, batch_size=batch_size)
    if totals is None:
        return {"reports": 0, "findings": 0, "texts": 0, "passes": 0, "busy": True}
    if totals["reports"]:
        warm_caches()
    if totals.get("more"):
        _enqueue_findings_read()  # the rest, by the next reading
    return totals


def findings_read_enqueue() -> None:
    """Queue a reading of the findings for the task worker, once the caller's transaction has
    committed what it must read. A reading already waiting in the queue reads these reports
    too (it looks for stale reports when it starts): no second one is queued."""
    transaction.on_commit(_enqueue_findings_read, robust=True)


def _enqueue_findings_read() -> None:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    # Imported here: reports.tasks imports this module.
    from reports.tasks import read_report_findings_task

    waiting = DBTaskResult.objects.filter(
        task_path=read_report_findings_task.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return
    read_report_findings_task.enqueue()
    logger.info("Queued a reading of the reports' findings")
