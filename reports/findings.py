"""The findings of each report, read once per report version into an indexed table.

Report search by finding (``finding=nodule&assertion=present&min_size_mm=8``) reads
``ReportFinding`` rather than analysing text at query time. A report's rows are written from
its content and its study's examination name (which gives findings their region) by the same
analysis as the analysis tasks (``nlp``). ``ReportFindingSource`` records the version
read: the report's ``updated_at``, the lexicon's fingerprint and the study's examination name;
a report whose version, lexicon or examination name differs, or that has none, is read again by
the next refresh: the task worker's, queued by each reports import and each studies import that
changed studies (``reports.services.findings_read_enqueue``), or
``manage.py extract_report_findings``.

One reading at a time (``read_stale_findings``), whatever the number of workers and machines:
two readings of the same reports would do the work twice and insert the same rows twice.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from nlp import analyze_text, default_lexicon
from nlp.analyses import exam_name
from reports.models import Report, ReportFinding, ReportFindingSource

logger = logging.getLogger(__name__)

BATCH = 2_000
ASSERTIONS = {"positive": "present", "negated": "absent", "uncertain": "uncertain"}


def finding_rows(content: str, exam: str) -> list[tuple[str, str, float | None]]:
    """``(key, assertion, max_mm)`` of a report text: one per finding key and assertion, with
    the largest current size over its mentions (None when none has a size)."""
    found: dict[tuple[str, str], float | None] = {}
    for m in analyze_text(content or "", exam=exam).mentions:
        pair = (m.key, ASSERTIONS[m.assertion])
        size = m.max_mm
        if pair not in found or size is not None and (found[pair] is None or size > found[pair]):
            found[pair] = size
    return [(k, a, mm) for (k, a), mm in found.items()]


def stale_reports(lexicon: str) -> Any:
    """Reports whose findings were never read, or read from another version of the report,
    another lexicon, or another examination name of its study (a studies import renamed it)."""
    current = ReportFindingSource.objects.filter(
        report_id=OuterRef("pk"),
        report_updated_at=OuterRef("updated_at"),
        lexicon=lexicon,
        exam_item=OuterRef("study__exam_item"),
        equipment_type=Coalesce(OuterRef("study__equipment_type"), Value("")),
    )
    return Report.objects.filter(~Exists(current))


def refresh_report_findings(
    *, batch_size: int = BATCH, report_ids: Iterable[str] | None = None
) -> dict:
    """Read the findings of every stale report (or of ``report_ids``) into ``ReportFinding``.

    Identical texts of one examination name are analysed once per refresh (report templates
    used as written). Each batch is its own transaction: an interrupted refresh keeps what it
    wrote and the next one carries on. Returns counts: reports read, rows written, distinct
    texts analysed.
    """
    fingerprint = default_lexicon().fingerprint
    qs = stale_reports(fingerprint)
    if report_ids is not None:
        qs = qs.filter(pk__in=list(report_ids))
    # Whether a report was read before: only those have rows to delete (a first reading of a
    # whole table then deletes nothing).
    qs = qs.annotate(
        read_before=Exists(ReportFindingSource.objects.filter(report_id=OuterRef("pk")))
    )
    rows = qs.order_by().values_list(
        "report_id", "content", "updated_at", "created_at", "study__exam_item",
        "study__equipment_type", "read_before",
    )  # fmt: skip
    memo: dict[tuple[str, str], list[tuple[str, str, float | None]]] = {}
    totals = {"reports": 0, "findings": 0, "texts": 0}
    for chunk in _chunks(rows.iterator(chunk_size=batch_size), batch_size):
        if settings.ANALYSIS_STEP_DELAY_SECONDS:
            time.sleep(settings.ANALYSIS_STEP_DELAY_SECONDS)  # the worker's diagnostic pause
        findings: list[ReportFinding] = []
        sources: list[ReportFindingSource] = []
        now = timezone.now()
        again: list[str] = []
        for report_id, content, updated_at, created_at, item, equipment, read_before in chunk:
            if read_before:
                again.append(report_id)
            exam = exam_name({"exam_item": item, "equipment_type": equipment})
            key = (content or "", exam)
            if key not in memo:
                memo[key] = finding_rows(content or "", exam)
                totals["texts"] += 1
            findings.extend(
                ReportFinding(
                    report_id=report_id, key=k, assertion=a, max_mm=mm, created_at=created_at
                )
                for k, a, mm in memo[key]
            )
            sources.append(
                ReportFindingSource(
                    report_id=report_id,
                    report_updated_at=updated_at,
                    lexicon=fingerprint,
                    exam_item=item or "",
                    equipment_type=equipment or "",
                    extracted_at=now,
                )
            )
        with transaction.atomic():
            if again:
                ReportFinding.objects.filter(report_id__in=again).delete()
                ReportFindingSource.objects.filter(report_id__in=again).delete()
            ReportFinding.objects.bulk_create(findings, batch_size=batch_size)
            ReportFindingSource.objects.bulk_create(sources, batch_size=batch_size)
        totals["reports"] += len(sources)
        totals["findings"] += len(findings)
        if len(memo) > 200_000:
            memo.clear()  # bounded memory over a table of all-different texts
    if totals["reports"] >= 10_000:
        _analyze_tables()
    return totals


# A reading that finds more to read once done (reports imported meanwhile) goes on; past this
# many passes the rest is left to the next reading, so that a flood of updates cannot hold one
# task forever.
MAX_PASSES = 20


def read_stale_findings(*, wait: bool = False, batch_size: int = BATCH) -> dict | None:
    """Read every stale report as ``refresh_report_findings`` does, one reading at a time
    across processes and machines; again while a pass found something, so that what was
    imported during a pass is read too.

    Returns the totals (with ``passes``; ``more`` when it stopped after ``MAX_PASSES`` with
    reports still to read), or None when another reading holds the lock and
    ``wait`` is False: that one reads, before it ends, whatever is stale then. The lock is
    released before the last look for stale reports, so that a reading refused while this one
    held it (its import committed by then) is never lost.
    """
    totals = {"reports": 0, "findings": 0, "texts": 0, "passes": 0}
    first = True
    while True:
        with _one_reader(wait=wait and first) as mine:
            if not mine:
                return totals if not first else None
            while totals["passes"] < MAX_PASSES:
                done = refresh_report_findings(batch_size=batch_size)
                totals["passes"] += 1
                for key in ("reports", "findings", "texts"):
                    totals[key] += done[key]
                if not done["reports"]:
                    break
        first = False
        if not _anything_stale():
            return totals
        if totals["passes"] >= MAX_PASSES:
            return {**totals, "more": True}


def _anything_stale() -> bool:
    return stale_reports(default_lexicon().fingerprint).exists()


# The one reading's lock. PostgreSQL: a session advisory lock, released by the server when the
# holder's connection ends (a worker killed mid-reading). SQLite: the database is a file on this
# machine, so every process that writes it is here too: an flock on a file beside it, released
# by the kernel when the holder dies. An in-memory database is seen by one process only.
_PG_LOCK = "hashtextextended('mip-report-findings', 0)"
_MEMORY_LOCK = threading.Lock()


@contextmanager
def _one_reader(*, wait: bool) -> Iterator[bool]:
    if connection.vendor == "postgresql":
        function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}({_PG_LOCK})")
            mine = wait or bool(cursor.fetchone()[0])
        try:
            yield mine
        finally:
            if mine:
                with suppress(DatabaseError), connection.cursor() as cursor:
                    cursor.execute(f"SELECT pg_advisory_unlock({_PG_LOCK})")
        return
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        lock_file = Path(f"{connection.settings_dict['NAME']}.findings-lock")
        with lock_file.open("a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    mine = _MEMORY_LOCK.acquire(blocking=wait)
    try:
        yield mine
    finally:
        if mine:
            _MEMORY_LOCK.release()


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _analyze_tables() -> None:
    """Planner statistics for a table that just grew by many rows (see ingest.services)."""
    if connection.in_atomic_block:
        return
    tables = [ReportFinding._meta.db_table, ReportFindingSource._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f'VACUUM (ANALYZE) "{table}"')
            else:
                cursor.execute("PRAGMA analysis_limit = 1000")
                cursor.execute(f'ANALYZE "{table}"')
