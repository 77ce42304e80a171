"""The department's figures: ``/api/v1/statistics`` (the dashboard's and data-quality pages' data)."""

from django.http import HttpRequest
from ninja import Query, Router

from accounts.auth import viewer_auth
from audit.services import audit_note
from core.errors import NotFound
from studies import quality as data_quality
from studies import statistics
from studies.exports import XLSX_CONTENT_TYPE
from studies.statistics_schemas import (
    DuplicatePatientsOut,
    QualityOut,
    QualityParams,
    QualityRowsParams,
    QualityStudiesOut,
    StatisticsFilterParams,
    StudyStatisticsOut,
)
from studies.statistics_xlsx import statistics_response

router = Router(tags=["statistics"], auth=viewer_auth)

_XLSX_DOC = {
    "responses": {
        "200": {
            "description": "An .xlsx attachment of the figures (the same as GET /statistics/studies)",
            "content": {XLSX_CONTENT_TYPE: {}},
        }
    }
}


@router.get("/studies", response=StudyStatisticsOut)
def study_statistics(request: HttpRequest, params: Query[StatisticsFilterParams]):
    filters = params.windowed()
    audit_note(request, action="statistics.studies", detail=filters.given())
    return statistics.study_statistics(filters=filters)


@router.get("/studies/export", response={200: None}, openapi_extra=_XLSX_DOC)
def export_statistics(request: HttpRequest, params: Query[StatisticsFilterParams]):
    filters = params.windowed()
    audit_note(request, action="statistics.export", detail=filters.given())
    data = statistics.study_statistics(filters=filters)
    return statistics_response(data, filters=filters.as_dict())


@router.get("/quality", response=QualityOut)
def quality(request: HttpRequest, params: Query[QualityParams]):
    filters = params.filters()
    audit_note(request, action="statistics.quality", detail=filters.given())
    return data_quality.quality_counts(filters=filters, stuck_hours=params.stuck())


@router.get("/quality/duplicate_patients", response=DuplicatePatientsOut)
def duplicate_patients(request: HttpRequest, params: Query[QualityRowsParams]):
    rows, total = data_quality.duplicate_patients(
        filters=params.filters(), page=params.page, page_size=params.page_size
    )
    audit_note(
        request,
        action="statistics.quality.duplicate_patients",
        object_type="patient",
        object_ids=[r["medical_record_no"] for row in rows for r in row["records"]],
        result_count=total,
    )
    return {"data": rows, "total": total, "page": params.page, "page_size": params.page_size}


@router.get("/quality/{check}", response=QualityStudiesOut)
def quality_studies(request: HttpRequest, check: str, params: Query[QualityRowsParams]):
    if check not in data_quality.STUDY_CHECKS:
        raise NotFound("Data-quality check not found")
    rows, total = data_quality.quality_page(
        check=check,
        filters=params.filters(),
        stuck_hours=params.stuck(),
        page=params.page,
        page_size=params.page_size,
    )
    audit_note(
        request,
        action=f"statistics.quality.{check}",
        object_type="study",
        object_ids=[s.exam_id for s in rows],
        result_count=total,
    )
    return {
        "check": check,
        "data": rows,
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
    }
