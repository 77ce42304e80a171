from django.http import HttpRequest
from ninja import Query, Router, Status

from accounts.auth import analyst_auth, viewer_auth
from analysis import selectors, services
from analysis.messages import localize_options, localize_task, request_language
from analysis.schemas import (
    AnalysisOptionsOut,
    AnalysisStatisticsOut,
    AnalysisTaskIn,
    AnalysisTaskListOut,
    AnalysisTaskListParams,
    AnalysisTaskOut,
)
from audit.services import audit_note
from core.pagination import paginate

router = Router(tags=["analysis"], auth=viewer_auth)

# Every answer with tasks says their texts (summary, notes, flags, error) in this language.
_LANGUAGE_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Accept-Language",
            "required": False,
            "schema": {"type": "string", "example": "zh-CN"},
            "description": "The texts' language (summary, notes, flags, error_message): "
            "English (default) or Simplified Chinese (zh, zh-CN, zh-Hans); codes never change",
        }
    ]
}


@router.post(
    "/tasks", response={201: AnalysisTaskOut}, auth=analyst_auth, openapi_extra=_LANGUAGE_DOC
)
def create_task(request: HttpRequest, payload: AnalysisTaskIn):
    audit_note(request, action="analysis.create")
    task = services.analysis_create_audited(request, payload, user=request.auth)
    return Status(201, localize_task(task, request_language(request)))


@router.get("/tasks", response=AnalysisTaskListOut, openapi_extra=_LANGUAGE_DOC)
def list_tasks(request: HttpRequest, params: Query[AnalysisTaskListParams]):
    tasks, total = paginate(
        selectors.analysis_task_list(**params.filters()),
        page=params.page,
        page_size=params.page_size,
    )
    audit_note(
        request,
        action="analysis.list",
        object_type="analysis_task",
        object_ids=[t.task_id for t in tasks],
        result_count=total,
    )
    language = request_language(request)
    tasks = [localize_task(t, language) for t in tasks]
    return {"data": tasks, "total": total, "page": params.page, "page_size": params.page_size}


@router.get("/tasks/{task_id}", response=AnalysisTaskOut, openapi_extra=_LANGUAGE_DOC)
def get_task(request: HttpRequest, task_id: str):
    audit_note(request, action="analysis.view", object_type="analysis_task", object_ids=[task_id])
    task = selectors.analysis_task_get(task_id=task_id)
    return localize_task(task, request_language(request))


@router.delete(
    "/tasks/{task_id}", response=AnalysisTaskOut, auth=analyst_auth, openapi_extra=_LANGUAGE_DOC
)
def cancel_task(request: HttpRequest, task_id: str):
    audit_note(request, action="analysis.cancel", object_type="analysis_task", object_ids=[task_id])
    task = services.analysis_cancel(task_id=task_id, user=request.auth)
    return localize_task(task, request_language(request))


@router.get("/statistics", response=AnalysisStatisticsOut)
def statistics(request: HttpRequest):
    audit_note(request, action="analysis.statistics")
    return selectors.analysis_statistics()


@router.get("/options", response=AnalysisOptionsOut, openapi_extra=_LANGUAGE_DOC)
def options(request: HttpRequest):
    audit_note(request, action="analysis.options")
    return localize_options(selectors.analysis_options(), request_language(request))
