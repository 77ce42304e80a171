"""Exports of a report search to .xlsx and CSV, through the studies' streaming machinery
(studies.exports): the search item's fields, with the whole report in place of its snippet.

The report's own columns carry the headers the reports import reads first (reports.headers), and
the study's two the RIS's, so that an export imports again as reports (the importer passes
over the patient name and exam item: they are the study's).
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from reports.headers import REPORT_HEADERS
from reports.models import Report
from studies.exports import Columns, audited_export
from studies.ris import RIS_HEADERS

_IMPORT_HEADERS = {field: aliases[0] for field, aliases in REPORT_HEADERS.items()}

REPORT_COLUMNS = Columns(
    model=Report,
    fields=(
        "report_id", "study_id", "study__patient_name", "study__exam_item", "radiologist",
        "status", "created_at", "submitted_at", "reviewed_at", "content",
    ),
    headers={
        **{name: _IMPORT_HEADERS[name] for name in (
            "report_id", "radiologist", "status", "created_at", "submitted_at", "reviewed_at",
            "content",
        )},
        "study_id": _IMPORT_HEADERS["exam_id"],
        "study__patient_name": RIS_HEADERS["patient_name"],
        "study__exam_item": RIS_HEADERS["exam_item"],
    },
    widths={
        "report_id": 14, "study_id": 16, "study__patient_name": 12, "study__exam_item": 22,
        "radiologist": 12, "status": 12, "created_at": 20, "submitted_at": 20,
        "reviewed_at": 20, "content": 80,
    },
    name="reports",
    codes={},
)  # fmt: skip


def report_export(
    request: HttpRequest, queryset: QuerySet[Report], fmt: str, **note: Any
) -> StreamingHttpResponse:
    """The streamed attachment of the reports of ``queryset`` ("csv" or "xlsx"), audited, as
    ``studies.exports.audited_export``."""
    return audited_export(
        request, queryset, fmt, object_type="report", columns=REPORT_COLUMNS, **note
    )
