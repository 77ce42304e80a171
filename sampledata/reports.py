"""Deterministic generator of radiology reports for generated (or any) studies.

One report per reported study (已审核 → finalized or reviewed, 已报告 → submitted), a draft
for some studies still being read (已检查), and now and then a draft that a later version
superseded. The content comes from :class:`sampledata.clinical.ReadingEngine`, run over the
same studies in the same order as :func:`sampledata.studies.generate_studies` ran it, so a
report's findings are the study's ``exam_description`` and a patient's follow-up reports
describe the same lesions changing. ``seed`` drives the report-level choices (who wrote it,
when, drafts); the content depends on the studies alone.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from sampledata import vocab as V
from sampledata.clinical import ReadingEngine
from sampledata.studies import DEFAULT_END, DEFAULT_SEED

REPORT_FIELDS = (
    "report_id",
    "exam_id",
    "radiologist",
    "content",
    "status",
    "created_at",
    "submitted_at",
    "reviewed_at",
)

P_DRAFT_WHILE_READING = 0.45  # 已检查 studies that already have a draft
P_SUPERSEDED = 0.06  # reported studies whose first draft was replaced by a second version

_CERTIFIED = {V.STATUS_CERTIFIED, "completed", "certified"}
_REPORTED = {V.STATUS_REPORTED, "reported"}


def _between(rng: random.Random, start: datetime, stop: datetime, lo: float, hi: float) -> datetime:
    """A second-precision time between start and stop, at a fraction in [lo, hi]."""
    span = max(0.0, (stop - start).total_seconds())
    return start + timedelta(seconds=int(span * rng.uniform(lo, hi)))


def _report(
    report_id: str,
    exam_id: str,
    radiologist: str,
    content: str,
    status: str,
    created: datetime,
    submitted: datetime | None,
    reviewed: datetime | None,
) -> dict[str, Any]:
    return dict(
        zip(
            REPORT_FIELDS,
            (report_id, exam_id, radiologist, content, status, created, submitted, reviewed),
            strict=True,
        )
    )


def generate_reports(
    studies: Iterable[Mapping[str, Any]],
    *,
    seed: int = DEFAULT_SEED,
    now: datetime = DEFAULT_END,
) -> Iterator[dict[str, Any]]:
    """Yield report dicts (:data:`REPORT_FIELDS`) for ``studies``, in the studies' order.

    Pass the studies in the order :func:`~sampledata.studies.generate_studies` yielded them
    (all of them: the engine follows each patient through every examined study). Nothing is
    dated after ``now``, the export time.
    """
    rng = random.Random(f"sampledata.reports:{seed}")
    engine = ReadingEngine()
    for study in studies:
        reading = engine.read(study)
        if reading is None:
            continue
        status = (study.get("exam_status") or "").strip()
        exam_id = str(study["exam_id"]).strip()
        base: datetime = study.get("check_in_datetime") or study["order_datetime"]
        cert: datetime | None = study.get("report_certification_datetime")
        physician = study.get("certified_physician")
        report_id = f"RPT{exam_id}"
        writer = (
            physician
            if physician and rng.random() < 0.35
            else rng.choice(V.JUNIOR_RADIOLOGISTS + V.SENIOR_RADIOLOGISTS[:3])
        )

        if status in _CERTIFIED or status in _REPORTED:
            certified = status in _CERTIFIED
            if status in _REPORTED and physician:
                writer = physician  # for an unsigned report the RIS shows its author
            if cert is None:
                cert = min(now, base + timedelta(minutes=rng.randint(30, 240)))
            # Reading starts once the images are there: a few minutes after check-in.
            start = min(cert, base + timedelta(minutes=rng.randint(3, 15)))
            if rng.random() < P_SUPERSEDED:
                draft_created = _between(rng, start, cert, 0.0, 0.2)
                yield _report(
                    report_id,
                    exam_id,
                    writer,
                    reading.preliminary,
                    "draft",
                    draft_created,
                    None,
                    None,
                )
                report_id = f"RPT{exam_id}-2"
                start = draft_created
            created = _between(rng, start, cert, 0.05, 0.5)
            if certified:
                submitted = _between(rng, created, cert, 0.3, 0.95)
                final = "finalized" if rng.random() < 0.85 else "reviewed"
                yield _report(
                    report_id, exam_id, writer, reading.content, final, created, submitted, cert
                )
            else:
                yield _report(
                    report_id, exam_id, writer, reading.content, "submitted", created, cert, None
                )
        elif rng.random() < P_DRAFT_WHILE_READING:
            created = min(now, base + timedelta(minutes=rng.randint(10, 120)))
            content = reading.findings_only if rng.random() < 0.5 else reading.content
            yield _report(report_id, exam_id, writer, content, "draft", created, None, None)
