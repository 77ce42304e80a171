"""The findings of each report, read once per report version into an indexed table.

Report search by finding (``finding=nodule&assertion=present&min_size_mm=8``) reads
``ReportFinding`` rather than analysing text at query time. A report's rows are written from
its content and its study's examination name (which gives findings their region) by the same
analysis as the analysis tasks (``analysis.nlp``). ``ReportFindingSource`` records the version
read: the report's ``updated_at`` and the lexicon's fingerprint; a report whose version or
lexicon differs, or that has none, is read again by the next refresh (after each reports
import, or ``manage.py extract_report_findings``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from analysis.nlp import analyze_text, default_lexicon
from analysis.nlp.analyses import exam_name
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
    """Reports whose findings were never read, or read from another version or lexicon."""
    current = ReportFindingSource.objects.filter(
        report_id=OuterRef("pk"), report_updated_at=OuterRef("updated_at"), lexicon=lexicon
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
