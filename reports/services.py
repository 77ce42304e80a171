"""The reports' cache writes and the reading of their findings (reports.findings) by the
task worker: the search warm-up after an import or a reading."""

import logging
from typing import Any

from django.db import transaction

from core.search import warm_up
from reports import findings

logger = logging.getLogger(__name__)


def warm_caches() -> int:
    """Prepare the reports' search for the current data (``core.search.warmup``)."""
    return warm_up("reports")


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
