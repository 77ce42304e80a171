"""The data-quality checks over the studies matching the figures' filters (studies.statistics):
each a count, and the rows behind it.

Answers are cached until the studies table next changes (core.cache), keyed by the filters and,
for the stuck check, its cutoff to the minute.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import ExtractYear, Trim
from django.utils import timezone

from core.cache import cached
from core.keys import key_of
from core.pagination import paginate
from core.text import codepoint_order
from studies.models import Study
from studies.selectors import study_ordering
from studies.statistics import Filters

# The data-quality checks that list studies, in the order the page shows them.
STUDY_CHECKS = (
    "certified_before_order",
    "checked_in_before_order",
    "reported_without_physician",
    "stuck",
)
DUPLICATE_PATIENTS = "duplicate_patients"
QUALITY_CHECKS = (*STUDY_CHECKS, DUPLICATE_PATIENTS)


def stuck_cutoff(*, hours: float, now: datetime | None = None) -> datetime:
    """The instant before which an uncertified study's latest step makes it stuck (to the
    minute, so that the answers of one minute are cached together)."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    return now - timedelta(hours=hours)


def _blank(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}_trimmed": ""})


def _check_condition(check: str, *, cutoff: datetime) -> Q:
    if check == "certified_before_order":
        return Q(report_certification_datetime__lt=F("order_datetime"))
    if check == "checked_in_before_order":
        return Q(check_in_datetime__lt=F("order_datetime"))
    if check == "reported_without_physician":
        return Q(report_certification_datetime__isnull=False) & _blank("certified_physician")
    if check != "stuck":
        raise ValueError(f"unknown check {check!r}")
    # Not certified, and nothing happened since the cutoff (check-in, else the order).
    return Q(report_certification_datetime__isnull=True) & (
        Q(check_in_datetime__lt=cutoff)
        | Q(check_in_datetime__isnull=True, order_datetime__lt=cutoff)
    )


def _with_checks(studies: QuerySet[Study]) -> QuerySet[Study]:
    return studies.annotate(certified_physician_trimmed=Trim("certified_physician"))


def quality_counts(*, filters: Filters, stuck_hours: float, now: datetime | None = None) -> dict:
    """How many of the matching studies fail each check; duplicate-looking patients are
    counted as groups (one name and birth year, several record numbers).

    ``stuck`` is also broken down by status, largest first.
    """
    cutoff = stuck_cutoff(hours=stuck_hours, now=now)
    key = "quality:" + key_of({**filters.as_dict(), "cutoff": cutoff})

    def compute() -> dict[str, Any]:
        studies = _with_checks(filters.studies())
        conditions = {check: _check_condition(check, cutoff=cutoff) for check in STUDY_CHECKS}
        counts = studies.aggregate(
            **{check: Count("pk", filter=condition) for check, condition in conditions.items()}
        )
        stuck_by_status = sorted(
            (
                {"exam_status": row["exam_status"], "count": row["n"]}
                for row in studies.filter(conditions["stuck"])
                .values("exam_status")
                .annotate(n=Count("pk"))
                .order_by()
            ),
            key=lambda item: (-item["count"], item["exam_status"]),
        )
        counts[DUPLICATE_PATIENTS] = len(_duplicates(filters))
        return {
            "stuck_hours": stuck_hours,
            "stuck_before": cutoff,
            "counts": {check: counts[check] for check in QUALITY_CHECKS},
            "stuck_by_status": stuck_by_status,
        }

    return cached("studies", key, compute)


def quality_studies(
    *, check: str, filters: Filters, stuck_hours: float, now: datetime | None = None
) -> QuerySet[Study]:
    """The matching studies that fail ``check`` (one of STUDY_CHECKS), newest order first."""
    return _failing(check, filters, cutoff=stuck_cutoff(hours=stuck_hours, now=now))


def _failing(check: str, filters: Filters, *, cutoff: datetime) -> QuerySet[Study]:
    condition = _check_condition(check, cutoff=cutoff)
    return (
        _with_checks(filters.studies())
        .filter(condition)
        .order_by(*study_ordering("-order_datetime"))
    )


def _duplicate_groups(filters: Filters) -> QuerySet:
    """(patient_name, birth_year) of the names held by several record numbers, the birth year
    being the order's local year less the age at the order."""
    return (
        _birth_years(filters.studies())
        .values("patient_name", "birth_year")
        .annotate(records=Count("medical_record_no", distinct=True))
        .filter(records__gt=1)
        .order_by(codepoint_order("patient_name"), "birth_year")
    )


def _birth_years(studies: QuerySet[Study]) -> QuerySet[Study]:
    tz = timezone.get_current_timezone()
    return (
        studies.exclude(medical_record_no__isnull=True)
        .exclude(medical_record_no="")
        .exclude(patient_age__isnull=True)
        .annotate(birth_year=ExtractYear("order_datetime", tzinfo=tz) - F("patient_age"))
    )


def duplicate_patients(*, filters: Filters, page: int, page_size: int) -> tuple[list[dict], int]:
    """One page of the duplicate-looking patients, by name (code point order) and birth year,
    each with its record numbers (code point order) and how many matching studies each holds."""
    everyone = _duplicates(filters)
    offset = (page - 1) * page_size
    return everyone[offset : offset + page_size], len(everyone)


def _duplicates(filters: Filters) -> list[dict[str, Any]]:
    """Every duplicate-looking patient: grouping the whole table is the costly part, so the
    list is computed once per data version and filters, and pages are cut from it."""

    def compute() -> list[dict[str, Any]]:
        groups = list(_duplicate_groups(filters))
        if not groups:
            return []
        wanted = {(g["patient_name"], g["birth_year"]) for g in groups}
        rows = (
            _birth_years(filters.studies().filter(patient_name__in={n for n, _ in wanted}))
            .values("patient_name", "birth_year", "medical_record_no")
            .annotate(n=Count("pk"))
            .order_by()
        )
        records: dict[tuple[str, int], dict[str, int]] = {}
        for row in rows:
            key = (row["patient_name"], row["birth_year"])
            if key in wanted:
                records.setdefault(key, {})[row["medical_record_no"]] = row["n"]
        found = []
        for group in groups:
            held = records[(group["patient_name"], group["birth_year"])]
            found.append(
                {
                    "patient_name": group["patient_name"],
                    "birth_year": group["birth_year"],
                    "records": [
                        {"medical_record_no": mrn, "studies": held[mrn]} for mrn in sorted(held)
                    ],
                }
            )
        return found

    return cached("studies", "quality:duplicates:" + key_of(filters.as_dict()), compute)


def quality_page(
    *, check: str, filters: Filters, stuck_hours: float, page: int, page_size: int
) -> tuple[list[Study], int]:
    """One page of ``quality_studies`` and its total (counted once per data version)."""
    cutoff = stuck_cutoff(hours=stuck_hours)
    studies = _failing(check, filters, cutoff=cutoff)
    key = f"quality:total:{check}:" + key_of({**filters.as_dict(), "cutoff": cutoff})
    total = cached("studies", key, studies.count)
    return paginate(studies, page=page, page_size=page_size, total=total)
