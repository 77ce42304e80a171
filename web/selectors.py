"""Reads only the web UI needs: the dashboard's aggregates and the task list with its studies.

Searches, details and exports use the selectors of studies/, reports/, analysis/ and ingest/
directly, exactly as the API does; this module adds only what no API endpoint answers.
"""

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from analysis.models import AnalysisTask
from analysis.selectors import analysis_task_list
from core.cache import cached
from core.dates import clamp_window
from core.pagination import paginate
from studies.models import Study

# Order -> certification, in hours: the upper bounds of the dashboard's histogram buckets.
TURNAROUND_BUCKETS_HOURS = (1, 2, 4, 8, 24, 48, 72)
NO_MODALITY = ""


def analysis_task_page(
    *, page: int, page_size: int, **filters: Any
) -> tuple[list[AnalysisTask], int]:
    """One page of ``analysis_task_list(**filters)`` with each task's study (one query)."""
    queryset: QuerySet[AnalysisTask] = analysis_task_list(**filters).select_related("study")
    return paginate(queryset, page=page, page_size=page_size)


def dashboard_last_day() -> date:
    """Where the dashboard's window ends by default: today, or the day of the newest order
    when the data stops earlier (a database loaded from an older export)."""

    def newest() -> date | None:
        latest = Study.objects.aggregate(latest=Max("order_datetime"))["latest"]
        return timezone.localdate(latest) if latest is not None else None

    today = timezone.localdate()
    day = cached("studies", "dashboard:newest", newest)
    return min(day, today) if day is not None else today


def _window(days: int, last_day: date) -> tuple[date, datetime, datetime]:
    """The first of ``days`` local days ending with ``last_day``, and the bounds as instants."""
    last_day = clamp_window(last_day, days)  # any date the page is given has a window
    first = last_day - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))
    return first, start, end


def dashboard_studies(*, days: int = 30, last_day: date) -> dict[str, Any]:
    """Aggregates over the studies ordered in the ``days`` local days up to ``last_day``.

    - ``per_day``: every day of the window, with its count per modality (equipment_type;
      a study without one counts under ``""``), ``modalities`` in code point order;
    - ``statuses``: count per exam_status, largest first;
    - ``turnaround``: order -> certification of the certified studies, as a histogram over
      ``TURNAROUND_BUCKETS_HOURS`` (a last bucket for anything longer), plus the count and
      the mean in hours, and the count of uncertified studies.

    Cached until the studies table next changes (core.cache), keyed by the window.
    """
    first, start, end = _window(days, last_day)

    def compute() -> dict[str, Any]:
        return _dashboard_studies(first=first, start=start, end=end, days=days)

    return cached("studies", f"dashboard:{first.isoformat()}:{days}", compute)


def _dashboard_studies(*, first: date, start: datetime, end: datetime, days: int) -> dict:
    window = Study.objects.filter(order_datetime__gte=start, order_datetime__lt=end)
    tz = timezone.get_current_timezone()

    rows = (
        window.annotate(day=TruncDate("order_datetime", tzinfo=tz))
        .values("day", "equipment_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[date, str], int] = {}
    for row in rows:
        key = (row["day"], row["equipment_type"] or NO_MODALITY)
        counts[key] = counts.get(key, 0) + row["n"]
    modalities = sorted({modality for _, modality in counts})
    per_day = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        by_modality = {m: counts.get((day, m), 0) for m in modalities}
        per_day.append({"day": day, "counts": by_modality, "total": sum(by_modality.values())})

    statuses = sorted(
        (
            {"status": row["exam_status"], "count": row["n"]}
            for row in window.values("exam_status").annotate(n=Count("pk")).order_by()
        ),
        key=lambda item: (-item["count"], item["status"]),
    )

    certified = Q(report_certification_datetime__isnull=False)
    turnaround = ExpressionWrapper(
        F("report_certification_datetime") - F("order_datetime"), output_field=DurationField()
    )
    # One aggregate query: a filtered count per bucket. A certification recorded before the
    # order (a data error) is counted apart, never as a fast turnaround.
    bounds = [timedelta(0)] + [timedelta(hours=h) for h in TURNAROUND_BUCKETS_HOURS]
    counts_by_bucket: dict[str, Any] = {
        "uncertified": Count("pk", filter=~certified),
        "negative": Count("pk", filter=certified & Q(turnaround__lt=timedelta(0))),
        "over": Count("pk", filter=certified & Q(turnaround__gte=bounds[-1])),
        "mean": Avg("turnaround", filter=certified & Q(turnaround__gte=timedelta(0))),
    }
    for i, (lower, upper) in enumerate(itertools.pairwise(bounds)):
        counts_by_bucket[f"b{i}"] = Count(
            "pk", filter=certified & Q(turnaround__gte=lower, turnaround__lt=upper)
        )
    aggregate = window.annotate(turnaround=turnaround).aggregate(**counts_by_bucket)
    histogram = []
    previous = 0
    for i, hours in enumerate(TURNAROUND_BUCKETS_HOURS):
        histogram.append({"from_hours": previous, "to_hours": hours, "count": aggregate[f"b{i}"]})
        previous = hours
    histogram.append({"from_hours": previous, "to_hours": None, "count": aggregate["over"]})
    mean: timedelta | None = aggregate["mean"]
    return {
        "days": days,
        "first_day": first,
        "last_day": first + timedelta(days=days - 1),
        "modalities": modalities,
        "per_day": per_day,
        "total": sum(day["total"] for day in per_day),
        "statuses": statuses,
        "turnaround": {
            "buckets": histogram,
            "certified": sum(b["count"] for b in histogram),
            "uncertified": aggregate["uncertified"],
            "negative": aggregate["negative"],
            "mean_hours": round(mean.total_seconds() / 3600, 2) if mean is not None else None,
        },
    }
