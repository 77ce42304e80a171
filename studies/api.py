from django.http import HttpRequest
from ninja import Query, Router

from accounts.auth import viewer_auth
from audit.answers import search_answer
from audit.services import audit_note
from core.pagination import PageParams
from core.search import rendered
from studies import exports, patients, search, selectors
from studies.schemas import (
    FilterOptionsOut,
    PatientStudiesOut,
    StudyDetailOut,
    StudyExportParams,
    StudySearchOut,
    StudySearchParams,
)

router = Router(tags=["studies"], auth=viewer_auth)


@router.get("/search", response=StudySearchOut)
def search_studies(request: HttpRequest, params: Query[StudySearchParams]):
    return search_answer(request, search.search_page, params, object_type="study")


@router.get("/filters/options", response=FilterOptionsOut)
def filter_options(request: HttpRequest):
    audit_note(request, action="study.filter_options")
    return rendered.json_response(search.filter_options_content(request=request))


@router.get(
    "/export",
    response={200: None},
    openapi_extra=exports.export_openapi(
        "An .xlsx (or CSV with format=csv) attachment of every matching study"
    ),
)
def export_studies(request: HttpRequest, params: Query[StudyExportParams]):
    queryset = selectors.study_list(**params.filters())
    return exports.audited_export(
        request, queryset, params.format, object_type="study", action="study.export"
    )


@router.get("/{exam_id}", response=StudyDetailOut)
def get_study(request: HttpRequest, exam_id: str):
    audit_note(request, action="study.view", object_type="study", object_ids=[exam_id])
    return selectors.study_get(exam_id=exam_id)


# A patient is the studies that share a medical record number (studies.patients).
patients_router = Router(tags=["patients"], auth=viewer_auth)


@patients_router.get("/{path:medical_record_no}/studies", response=PatientStudiesOut)
def patient_studies(request: HttpRequest, medical_record_no: str, params: Query[PageParams]):
    """Every study of the patient with this medical record number, newest first, each with
    its reports; 404 when no study has the number."""
    audit_note(
        request,
        action="patient.studies",
        object_type="study",
        detail={"medical_record_no": medical_record_no},
    )
    rows, total = patients.patient_studies_page(
        medical_record_no=medical_record_no,
        page=params.page,
        page_size=params.page_size,
        request=request,
    )
    audit_note(request, object_ids=[s.exam_id for s in rows], result_count=total)
    return {"data": rows, "total": total, "page": params.page, "page_size": params.page_size}
