"""Reads about a patient: the studies that share a medical record number (MRN).

A patient is not stored on its own: the RIS gives each study the patient's record number, and
the studies with the same number are that patient's history. The API's patient endpoint, the
patient page and the study page's list of the patient's other studies read it here.
"""

from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from core.pagination import paginate
from core.text import codepoint_order
from reports.models import Report
from studies.models import Study


def _with_reports(queryset: QuerySet[Study]) -> QuerySet[Study]:
    """Each study with its reports (newest first) in one more query; the text is not read."""
    reports = Report.objects.only(
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
    *, medical_record_no: str, page: int, page_size: int
) -> tuple[list[Study], int]:
    """One page of the patient's studies and their total; NotFound when no study has the
    record number (an empty or blank number names no patient)."""
    if not medical_record_no.strip():
        raise NotFound("Patient not found")
    rows, total = paginate(
        patient_study_list(medical_record_no=medical_record_no), page=page, page_size=page_size
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
