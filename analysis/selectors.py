"""Every read of analysis tasks, and the study data an analysis reads."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

import nlp
from analysis.models import AnalysisTask, AnalysisType, TaskStatus
from core.errors import NotFound
from core.text import codepoint_order
from reports.models import Report
from studies.models import DETAIL_FIELDS, Study

REPORT_FIELDS = (
    "report_id",
    "content",
    "status",
    "radiologist",
    "created_at",
    "submitted_at",
    "reviewed_at",
)


def analysis_task_list(
    *,
    status: str | None = None,
    analysis_type: str | None = None,
    exam_id: str | None = None,
) -> QuerySet[AnalysisTask]:
    """Tasks matching the filters, newest first (ties by task_id)."""
    qs = AnalysisTask.objects.all()
    if status:
        qs = qs.filter(status=status)
    if analysis_type:
        qs = qs.filter(analysis_type=analysis_type)
    if exam_id:
        qs = qs.filter(study_id=exam_id)
    return qs.order_by("-created_at", codepoint_order("task_id"))


def analysis_task_get(*, task_id: str) -> AnalysisTask:
    task = AnalysisTask.objects.filter(task_id=task_id).first()
    if task is None:
        raise NotFound("Analysis task not found")
    return task


def analysis_statistics(*, now: datetime | None = None) -> dict[str, Any]:
    """Counts by status and type, recent completions, mean run time and success rate.

    One aggregate query. ``mean_processing_seconds`` is over completed tasks, from the start of
    their (last) run to completion; ``success_rate`` is completed / (completed + failed), a
    fraction from 0 to 1. Both are null when there is nothing to measure.
    """
    now = now or timezone.now()
    completed = Q(status=TaskStatus.COMPLETED)
    counts = AnalysisTask.objects.aggregate(
        total=Count("pk"),
        **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in TaskStatus.values},
        **{f"type_{t}": Count("pk", filter=Q(analysis_type=t)) for t in AnalysisType.values},
        completed_last_24h=Count(
            "pk", filter=completed & Q(completed_at__gte=now - timedelta(hours=24))
        ),
        mean_duration=Avg(
            F("completed_at") - F("started_at"),
            filter=completed & Q(started_at__isnull=False, completed_at__isnull=False),
        ),
    )
    finished = counts["status_completed"] + counts["status_failed"]
    mean: timedelta | None = counts["mean_duration"]
    return {
        "total": counts["total"],
        "by_status": {s: counts[f"status_{s}"] for s in TaskStatus.values},
        "by_type": {t: counts[f"type_{t}"] for t in AnalysisType.values},
        "completed_last_24h": counts["completed_last_24h"],
        "mean_processing_seconds": round(mean.total_seconds(), 3) if mean is not None else None,
        "success_rate": round(counts["status_completed"] / finished, 4) if finished else None,
    }


def analysis_options() -> dict[str, list[dict[str, str]]]:
    descriptions = {t["value"]: t["description"] for t in nlp.ANALYSIS_TYPES}
    return {
        "analysis_types": [
            {"value": t.value, "label": t.label, "description": descriptions.get(t.value, "")}
            for t in AnalysisType
        ],
        "statuses": [{"value": s.value, "label": s.label} for s in TaskStatus],
    }


# ------------------------------------------------------------------ what an analysis reads
# The analysis module takes plain dicts with local wall-clock datetimes (what the API shows).


def _local(value: Any) -> Any:
    return timezone.localtime(value) if isinstance(value, datetime) else value


def study_payload(study: Study) -> dict[str, Any]:
    return {field: _local(getattr(study, field)) for field in DETAIL_FIELDS}


def report_payloads(*, exam_id: str) -> list[dict[str, Any]]:
    reports = Report.objects.filter(study_id=exam_id).order_by("created_at", "report_id")
    return [{k: _local(v) for k, v in row.items()} for row in reports.values(*REPORT_FIELDS)]


def prior_candidates(study: Study) -> list[dict[str, Any]]:
    """The same patient's studies ordered before this one (the analysis picks the prior)."""
    if not (study.medical_record_no or "").strip():
        return []
    rows = (
        Study.objects.filter(
            medical_record_no=study.medical_record_no, order_datetime__lt=study.order_datetime
        )
        .exclude(pk=study.pk)
        .order_by("-order_datetime", "exam_id")
        .values(*DETAIL_FIELDS)
    )
    return [{k: _local(v) for k, v in row.items()} for row in rows]
