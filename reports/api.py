from django.http import HttpRequest
from ninja import Query, Router

from accounts.auth import viewer_auth
from audit.answers import search_answer
from audit.services import audit_note
from core.search import rendered
from reports import search, selectors
from reports.exports import report_export
from reports.schemas import (
    FindingOptionsOut,
    ReportDetailOut,
    ReportExportParams,
    ReportFiltersOut,
    ReportSearchOut,
    ReportSearchParams,
)
from studies.exports import export_openapi

router = Router(tags=["reports"], auth=viewer_auth)


@router.get("/search", response=ReportSearchOut)
def search_reports(request: HttpRequest, params: Query[ReportSearchParams]):
    return search_answer(request, search.search_page, params, object_type="report")


@router.get("/filters/options", response=ReportFiltersOut)
def filter_options(request: HttpRequest):
    audit_note(request, action="report.filter_options")
    return rendered.json_response(search.filter_options_content(request=request))


@router.get("/findings/options", response=FindingOptionsOut)
def finding_options(request: HttpRequest):
    """The findings report search accepts (``finding=<key>``), from the analysis lexicon."""
    audit_note(request, action="report.finding_options")
    return selectors.finding_options()


@router.get(
    "/export",
    response={200: None},
    openapi_extra=export_openapi(
        "An .xlsx (or CSV with format=csv) attachment of every matching report, with its "
        "whole content"
    ),
)
def export_reports(request: HttpRequest, params: Query[ReportExportParams]):
    queryset = selectors.report_export_list(**params.filters())
    return report_export(request, queryset, params.format, action="report.export")


@router.get("/{report_id}", response=ReportDetailOut)
def get_report(request: HttpRequest, report_id: str):
    audit_note(request, action="report.view", object_type="report", object_ids=[report_id])
    report = selectors.report_get(report_id=report_id)
    return {
        "report_id": report.report_id,
        "exam_id": report.study_id,
        "radiologist": report.radiologist,
        "content": report.content,
        "status": report.status,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "submitted_at": report.submitted_at,
        "reviewed_at": report.reviewed_at,
        "study": report.study,
    }
