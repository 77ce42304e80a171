"""Reads about a patient: the studies that share a medical record number (MRN).

A patient is not stored on its own: the RIS gives each study the patient's record number, and
the studies with the same number are that patient's history. The API's patient endpoint, the
patient page, the study page's list of the patient's other studies and the studies list
grouped by patient read it here.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.http import HttpRequest

from core.cache import cached, data_version, shown_versions
from core.errors import NotFound
from core.keys import key_of
from core.pagination import paginate, rows_at
from core.search import pages
from core.search.pages import bookmark_before
from core.text import codepoint_order, in_codepoint_order
from studies.models import Study
from studies.search import study_search_total
from studies.selectors import study_filter_options, study_list, study_ordering


def _with_reports(queryset: QuerySet[Study]) -> QuerySet[Study]:
    """Each study with its reports (newest first) in one more query; the text is not read."""
    # Through the reverse relation: reports depends on studies, and studies imports no
    # module of reports (no loop between the two apps).
    report_model = Study._meta.get_field("reports").related_model
    reports = report_model.objects.only(
        "report_id", "study_id", "status", "radiologist", "created_at"
    ).order_by("-created_at", codepoint_order("report_id"))
    return queryset.prefetch_related(Prefetch("reports", queryset=reports))


def patient_study_list(*, medical_record_no: str) -> QuerySet[Study]:
    """The studies of the record number, newest order first (ties by exam_id), with their
    reports; read through the (medical_record_no, order_datetime) index."""
    studies = Study.objects.filter(medical_record_no=medical_record_no).order_by(
        "-order_datetime", codepoint_order("exam_id")
    )
    return _with_reports(studies)


def patient_studies_page(
    *, medical_record_no: str, page: int, page_size: int, request: HttpRequest | None = None
) -> tuple[list[Study], int]:
    """One page of the patient's studies and their total; NotFound when no study has the
    record number (an empty or blank number names no patient).

    The page is reused until the next write to the studies or to the reports it lists
    (core.cache): a patient's history is opened again from each of their studies, by
    everyone who reads them. ``request`` gives the data versions its login read.
    """
    if not medical_record_no.strip():
        raise NotFound("Patient not found")
    key = key_of(
        {
            "medical_record_no": medical_record_no,
            "page": page,
            "page_size": page_size,
            **shown_versions(("reports",), request),
        }
    )
    rows, total = cached(
        "studies",
        f"patient:{key}",
        lambda: paginate(
            patient_study_list(medical_record_no=medical_record_no),
            page=page,
            page_size=page_size,
        ),
        version=data_version("studies", request),
    )
    if not total:
        raise NotFound("Patient not found")
    return rows, total


def patient_other_studies(*, study: Study, limit: int) -> tuple[list[Study], int]:
    """Up to ``limit`` of the other studies of ``study``'s patient (newest first) and how many
    there are; none for a study without a record number."""
    if not (study.medical_record_no or "").strip():
        return [], 0
    others = patient_study_list(medical_record_no=study.medical_record_no).exclude(
        exam_id=study.exam_id
    )
    return paginate(others, page=1, page_size=limit)


# ---------------------------------------------------------------- the search grouped by patient


@dataclass
class PatientGroup:
    """The studies of one patient on a page of a search grouped by patient.

    ``medical_record_no`` is None for studies without a record number (NULL or empty): those
    are grouped by patient name, as the name is all that ties them together. The name, gender
    and age are those of the group's first study on the page (its newest, in the default
    order). ``matched`` counts the patient's studies that match the search (on every page),
    ``total`` all the record number's studies (None without a record number); ``continued``
    says the group began on the previous page, ``continues`` that it goes on on the next.
    """

    medical_record_no: str | None
    patient_name: str
    patient_gender: str | None
    patient_age: int | None
    studies: list[Study] = field(default_factory=list)
    matched: int = 0
    total: int | None = None
    continued: bool = False
    continues: bool = False


_NO_NUMBER = Q(medical_record_no__isnull=True) | Q(medical_record_no="")


def _group_key(study: Study) -> tuple[str | None, str | None]:
    """Studies with a record number group by it; those without by their name (an empty
    number and a missing one stay apart, as they stand apart in the order)."""
    if study.medical_record_no:
        return study.medical_record_no, None
    return study.medical_record_no, study.patient_name


def patient_group_ordering(sort: str) -> list:
    """Record number first (those without one last, by name), then ``sort`` within a patient.

    The record number leads so that PostgreSQL reads the matches in that order from the
    (medical_record_no, order_datetime) index and sorts each patient's few studies on the way
    (an incremental sort): a page costs its offset, not the whole set of matches; a deep page
    of the unfiltered list starts from a record-number bookmark (``_bookmarked_window``).
    """
    name = in_codepoint_order(Case(When(_NO_NUMBER, then=F("patient_name")), default=Value(None)))
    return [
        F("medical_record_no").asc(nulls_last=True),
        name.asc(nulls_first=True),
        *study_ordering(sort),
    ]


def _page_window(queryset: QuerySet[Study], start: int, stop: int) -> list[Study]:
    return rows_at(queryset, start, stop - start)


def _bookmarked_window(
    queryset: QuerySet[Study], start: int, stop: int, *, total: int, version: int
) -> list[Study] | None:
    """The rows ``start:stop`` of the whole table in the grouped order, read from the nearest
    record-number bookmark before them (kept by the import's warm-up), instead of skipping
    every row before them; None when there is none (the caller reads them the usual way: the
    same rows)."""
    mark = bookmark_before(
        field="medical_record_no", descending=False, data="studies", version=version, offset=start
    )
    if mark is None:
        return None
    number, position = mark
    # The rows from the first holding ``number`` on are the rows from ``position`` on.
    narrowed = queryset.filter(medical_record_no__gte=number)
    rows = _page_window(narrowed, start - position, stop - position)
    wanted = min(stop, total) - start
    if len(rows) < wanted:
        # The rows reach the studies without a record number, which follow the last number.
        numbered = position + narrowed.count()
        nameless = queryset.filter(medical_record_no__isnull=True)
        rows += _page_window(nameless, max(start - numbered, 0), stop - numbered)
    return rows if len(rows) == wanted else None


def _count_by(queryset: QuerySet[Study], *fields: str) -> dict[tuple, int]:
    rows = queryset.values_list(*fields).annotate(n=Count("pk")).order_by()
    return {tuple(row[:-1]): row[-1] for row in rows}


def _groups_of(rows: list[Study]) -> list[PatientGroup]:
    groups: list[PatientGroup] = []
    last = None
    for study in rows:
        key = _group_key(study)
        if key != last:
            groups.append(
                PatientGroup(
                    medical_record_no=study.medical_record_no or None,
                    patient_name=study.patient_name,
                    patient_gender=study.patient_gender,
                    patient_age=study.patient_age,
                )
            )
            last = key
        groups[-1].studies.append(study)
    return groups


def patient_groups_page(
    *, page: int, page_size: int, version: int | None = None, **filters: Any
) -> tuple[list[PatientGroup], int, dict[str, list[str]]]:
    """One page of ``study_list(**filters)`` grouped by patient, the exact number of matching
    studies and the filter options (as ``study_search`` gives them).

    The page holds ``page_size`` studies in ``patient_group_ordering``: a patient's studies
    may run over into the next page, where its group is marked continued. Each group carries
    how many of the patient's studies match and how many the record number has: two grouped
    counts over the page's patients alone, through the record number index.
    """
    if version is None:
        version = data_version("studies")
    total = study_search_total(filters, version=version)
    options = study_filter_options(version=version)
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total, options
    matches = study_list(**filters)
    ordered = matches.order_by(*patient_group_ordering(filters.get("sort") or "-order_datetime"))
    # One study either side of the page tells whether its first and last groups go on.
    start, stop = max(offset - 1, 0), offset + page_size + 1
    window = None
    if start >= pages.BOOKMARK_EVERY and not any(v for k, v in filters.items() if k != "sort"):
        window = _bookmarked_window(ordered, start, stop, total=total, version=version)
    if window is None:
        window = _page_window(ordered, start, stop)
    before = window[0] if offset else None
    rows = window[1:] if offset else window
    after = rows[page_size] if len(rows) > page_size else None
    groups = _groups_of(rows[:page_size])
    if not groups:  # a write between the cached total and the page took the rows away
        return [], total, options
    if before is not None and _group_key(before) == _group_key(groups[0].studies[0]):
        groups[0].continued = True
    if after is not None and _group_key(after) == _group_key(groups[-1].studies[0]):
        groups[-1].continues = True
    _count_groups(groups, matches)
    return groups, total, options


def _count_groups(groups: list[PatientGroup], matches: QuerySet[Study]) -> None:
    numbers = {g.medical_record_no for g in groups if g.medical_record_no}
    names = {g.patient_name for g in groups if not g.medical_record_no}
    matched: dict[tuple, int] = {}
    totals: dict[tuple, int] = {}
    if numbers:
        matched = _count_by(matches.filter(medical_record_no__in=numbers), "medical_record_no")
        every = Study.objects.filter(medical_record_no__in=numbers)
        totals = _count_by(every, "medical_record_no")
    if names:
        nameless = matches.filter(_NO_NUMBER, patient_name__in=names)
        matched |= _count_by(nameless, "medical_record_no", "patient_name")
    for group in groups:
        if group.medical_record_no:
            group.matched = matched.get((group.medical_record_no,), 0)
            group.total = totals.get((group.medical_record_no,), 0)
        else:
            number = group.studies[0].medical_record_no
            group.matched = matched.get((number, group.patient_name), 0)
