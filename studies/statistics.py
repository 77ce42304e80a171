"""The department's figures over a filtered set of studies: volumes and turnaround.

The filters are the studies list's own (``studies.selectors.study_list``: date range, modality,
source, status), so that a figure and the list it links to count the same rows. Every answer is
cached until the studies table next changes (core.cache), keyed by its filters.

Turnaround is order -> certification. A certification recorded before its order is a data
error: it is left out of the turnaround figures and counted by the data-quality checks
(studies.quality).
"""

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.cache import cached
from core.dates import clamp_window
from core.keys import key_of
from studies.models import Study
from studies.selectors import study_list

# Order -> certification, in hours: the upper bounds of the histogram's buckets.
TURNAROUND_BUCKETS_HOURS = (1, 2, 4, 8, 24, 48, 72)
DEFAULT_DAYS = 30
# A window up to this many days is charted per day, up to WEEKLY_UP_TO per week, longer per
# month: a year is 53 weekly bars, not 365 daily ones.
DAILY_UP_TO = 62
WEEKLY_UP_TO = 366
# Longer than this (five years), per year.
MONTHLY_UP_TO = 1830


@dataclass(frozen=True)
class Filters:
    """What the figures are computed over: the studies ordered from ``date_from`` to
    ``date_to`` (local days, inclusive) with the given status, source and modality."""

    date_from: date | None = None
    date_to: date | None = None
    exam_status: str | None = None
    exam_source: str | None = None
    equipment_type: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "exam_status": self.exam_status,
            "exam_source": self.exam_source,
            "equipment_type": self.equipment_type,
        }

    def given(self) -> dict[str, str]:
        """The filters that bound something, as text (for the audit log)."""
        return {k: str(v) for k, v in self.as_dict().items() if v is not None}

    def studies(self) -> QuerySet[Study]:
        """The matching studies, unordered (the studies list's own filters)."""
        return study_list(**self.as_dict()).order_by()


# ---------------------------------------------------------------- the window


def newest_order_day() -> date:
    """Today, or the day of the newest order when the data stops earlier (a database loaded
    from an older export): where a window ends by default."""

    def newest() -> date | None:
        latest = Study.objects.aggregate(latest=Max("order_datetime"))["latest"]
        return timezone.localdate(latest) if latest is not None else None

    today = timezone.localdate()
    day = cached("studies", "dashboard:newest", newest)
    return min(day, today) if day is not None else today


def _plus(day: date, days: int) -> date:
    """``day`` moved by ``days``, held to the calendar's first and last days."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def window(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    days: int = DEFAULT_DAYS,
    last_day: date | None = None,
) -> tuple[date, date]:
    """The days a figure covers: the range given, or what is missing of it filled in.

    Without ``date_to`` the window ends with ``last_day`` (default: ``newest_order_day()``), or
    ``days`` days after ``date_from`` when that is later; without ``date_from`` it is the
    ``days`` days up to its end.
    """
    if date_to is None:
        date_to = last_day if last_day is not None else newest_order_day()
        if date_from is not None and date_to < date_from:
            date_to = _plus(date_from, days - 1)
    if date_from is None:
        date_to = clamp_window(date_to, days)
        date_from = date_to - timedelta(days=days - 1)
    return date_from, date_to


def granularity(first: date, last: date) -> str:
    """Per "day", "week", "month" or "year": how a window of that length is charted."""
    days = (last - first).days + 1
    if days <= DAILY_UP_TO:
        return "day"
    if days <= WEEKLY_UP_TO:
        return "week"
    if days <= MONTHLY_UP_TO:
        return "month"
    return "year"


def _period_end(start: date, unit: str) -> date:
    if unit == "day":
        return start
    if unit == "week":
        return _plus(start, 6 - start.weekday())  # to Sunday
    if unit == "month":
        if start.month == 12:
            return start.replace(day=31)
        return start.replace(month=start.month + 1, day=1) - timedelta(days=1)
    return start.replace(month=12, day=31)


def _periods(first: date, last: date, unit: str) -> list[tuple[date, date]]:
    """The window cut into periods, the first and last cut to the window."""
    periods = []
    start = first
    while True:
        end = min(_period_end(start, unit), last)
        periods.append((start, end))
        if end >= last:
            return periods
        start = end + timedelta(days=1)


# ---------------------------------------------------------------- the figures


def modality_order(values: Iterable[str | None]) -> list[str | None]:
    """Modalities in code point order, the studies without one (None) last."""
    return sorted(set(values), key=lambda m: (m is None, m or ""))


def study_statistics(*, filters: Filters) -> dict[str, Any]:
    """The figures of the studies matching ``filters`` (dates required: see ``window``).

    - ``periods``: the window per day, week or month (``unit``), each period with its count per
      modality (``modalities``: equipment_type, None for a study without one);
    - ``statuses``: count per exam_status, largest first;
    - ``turnaround``: the limit in hours (ANALYSIS_TURNAROUND_LIMIT_HOURS, what the study page
      flags), a histogram, and median, 90th percentile, mean and the share within the limit,
      over all studies, per modality and per source.
    """
    if filters.date_from is None or filters.date_to is None:
        raise ValueError("study_statistics needs a window: see window()")
    key = "statistics:" + key_of(
        {**filters.as_dict(), "limit": settings.ANALYSIS_TURNAROUND_LIMIT_HOURS}
    )
    return cached("studies", key, lambda: _study_statistics(filters))


def _study_statistics(filters: Filters) -> dict[str, Any]:
    first, last = filters.date_from, filters.date_to
    studies = filters.studies()
    tz = timezone.get_current_timezone()

    counts: dict[tuple[date, str | None], int] = {}
    rows = (
        studies.annotate(day=TruncDate("order_datetime", tzinfo=tz))
        .values("day", "equipment_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        modality = row["equipment_type"] or None
        key = (row["day"], modality)
        counts[key] = counts.get(key, 0) + row["n"]
    modalities = modality_order(m for _, m in counts)
    unit = granularity(first, last)
    spans = _periods(first, last, unit)
    starts = [start for start, _ in spans]
    per_period = [dict.fromkeys(modalities, 0) for _ in spans]
    for (day, modality), n in counts.items():
        per_period[bisect.bisect_right(starts, day) - 1][modality] += n
    periods = [
        {
            "start": start,
            "end": end,
            "counts": [{"equipment_type": m, "count": n} for m, n in by_modality.items()],
            "total": sum(by_modality.values()),
        }
        for (start, end), by_modality in zip(spans, per_period, strict=True)
    ]

    statuses = sorted(
        (
            {"exam_status": row["exam_status"], "count": row["n"]}
            for row in studies.values("exam_status").annotate(n=Count("pk")).order_by()
        ),
        key=lambda item: (-item["count"], item["exam_status"]),
    )
    return {
        "date_from": first,
        "date_to": last,
        "unit": unit,
        "total": sum(period["total"] for period in periods),
        "modalities": modalities,
        "periods": periods,
        "statuses": statuses,
        "turnaround": _turnaround(studies),
    }


def _turnaround(studies: QuerySet[Study]) -> dict[str, Any]:
    limit_hours = settings.ANALYSIS_TURNAROUND_LIMIT_HOURS
    certified = Q(report_certification_datetime__isnull=False)
    interval = ExpressionWrapper(
        F("report_certification_datetime") - F("order_datetime"), output_field=DurationField()
    )
    # One aggregate query: a filtered count per bucket.
    bounds = [timedelta(0)] + [timedelta(hours=h) for h in TURNAROUND_BUCKETS_HOURS]
    aggregates: dict[str, Any] = {
        "uncertified": Count("pk", filter=~certified),
        "negative": Count("pk", filter=certified & Q(interval__lt=timedelta(0))),
        "over": Count("pk", filter=certified & Q(interval__gte=bounds[-1])),
    }
    for i, (lower, upper) in enumerate(itertools.pairwise(bounds)):
        aggregates[f"b{i}"] = Count(
            "pk", filter=certified & Q(interval__gte=lower, interval__lt=upper)
        )
    totals = studies.annotate(interval=interval).aggregate(**aggregates)
    histogram = []
    previous = 0
    for i, hours in enumerate(TURNAROUND_BUCKETS_HOURS):
        histogram.append({"from_hours": previous, "to_hours": hours, "count": totals[f"b{i}"]})
        previous = hours
    histogram.append({"from_hours": previous, "to_hours": None, "count": totals["over"]})

    groups = _turnaround_groups(studies, limit_hours=limit_hours)
    overall = groups.get(("all", None)) or _summary([], limit_hours)
    return {
        "limit_hours": limit_hours,
        "certified": sum(bucket["count"] for bucket in histogram),
        "uncertified": totals["uncertified"],
        "certified_before_order": totals["negative"],
        "buckets": histogram,
        "overall": overall,
        "by_modality": [
            {"equipment_type": key, **summary}
            for key, summary in _ordered(groups, "modality", modality_order)
        ],
        "by_source": [
            {"exam_source": key, **summary}
            for key, summary in _ordered(groups, "source", lambda keys: sorted(keys))
        ],
    }


def _ordered(groups: dict, kind: str, order: Any) -> list[tuple[Any, dict]]:
    keys = order(key for group, key in groups if group == kind)
    return [(key, groups[(kind, key)]) for key in keys]


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile of sorted ``values``, interpolated between the two nearest
    ranks as PostgreSQL's percentile_cont does."""
    position = fraction * (len(values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


def _summary(seconds: list[float], limit_hours: float) -> dict[str, Any]:
    """Median, 90th percentile, mean and share within the limit of sorted turnarounds."""
    if not seconds:
        return {
            "certified": 0,
            "median_hours": None,
            "p90_hours": None,
            "mean_hours": None,
            "within_limit": 0,
            "within_limit_share": None,
        }
    limit = limit_hours * 3600
    within = sum(1 for s in seconds if s <= limit)
    return _rounded(
        certified=len(seconds),
        median=percentile(seconds, 0.5),
        p90=percentile(seconds, 0.9),
        mean=sum(seconds) / len(seconds),
        within=within,
    )


def _rounded(*, certified: int, median: float, p90: float, mean: float, within: int) -> dict:
    return {
        "certified": certified,
        "median_hours": round(median / 3600, 2),
        "p90_hours": round(p90 / 3600, 2),
        "mean_hours": round(mean / 3600, 2),
        "within_limit": within,
        "within_limit_share": round(within / certified, 4),
    }


# PostgreSQL answers every group in one pass: the grouping sets of all studies, each modality
# and each source, with the ordered-set aggregates (no rows are sent to Python).
_TURNAROUND_SQL = """
SELECT GROUPING(t.equipment_type), GROUPING(t.exam_source), t.equipment_type, t.exam_source,
       count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY t.seconds),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY t.seconds), avg(t.seconds),
       count(*) FILTER (WHERE t.seconds <= %s)
FROM (
    SELECT NULLIF(s.equipment_type, '') AS equipment_type, s.exam_source,
           EXTRACT(EPOCH FROM s.report_certification_datetime - s.order_datetime) AS seconds
    FROM ({studies}) AS s
) AS t
WHERE t.seconds >= 0
GROUP BY GROUPING SETS ((), (t.equipment_type), (t.exam_source))
"""


def _turnaround_groups(
    studies: QuerySet[Study], *, limit_hours: float
) -> dict[tuple[str, Any], dict]:
    """(kind, key) -> summary for kind "all" (key None), "modality" and "source"."""
    certified = studies.filter(report_certification_datetime__isnull=False)
    if connection.vendor == "postgresql":
        inner = certified.values(
            "equipment_type", "exam_source", "order_datetime", "report_certification_datetime"
        )
        sql, params = inner.query.sql_with_params()
        groups = {}
        with connection.cursor() as cursor:
            cursor.execute(
                _TURNAROUND_SQL.replace("{studies}", sql),
                [limit_hours * 3600, *params],
            )
            for no_modality, no_source, modality, source, n, p50, p90, mean, within in cursor:
                if not n:  # the grouping set () answers a row even when nothing matched
                    continue
                if no_modality and no_source:
                    key: tuple[str, Any] = ("all", None)
                elif no_source:
                    key = ("modality", modality)
                else:
                    key = ("source", source)
                groups[key] = _rounded(
                    certified=n, median=p50, p90=p90, mean=float(mean), within=within
                )
        return groups
    values: dict[tuple[str, Any], list[float]] = {}
    rows = certified.values_list(
        "equipment_type", "exam_source", "order_datetime", "report_certification_datetime"
    )
    for modality, source, ordered, certified_at in rows.iterator():
        seconds = (certified_at - ordered).total_seconds()
        if seconds < 0:
            continue
        for key in (("all", None), ("modality", modality or None), ("source", source)):
            values.setdefault(key, []).append(seconds)
    return {key: _summary(sorted(seconds), limit_hours) for key, seconds in values.items()}
