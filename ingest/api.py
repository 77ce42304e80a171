from typing import Literal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.errors import ValidationError

from accounts.auth import admin_auth
from audit.services import audit_note
from core.errors import NotFound, PayloadTooLarge
from core.language import request_language
from core.pagination import PageParams, paginate
from ingest import rejected, selectors, services
from ingest.messages import Problem, in_language, localize_problems
from ingest.schemas import ImportBatchDetailOut, ImportBatchPage, ImportResultOut

router = Router(tags=["import"], auth=admin_auth)
API_PREFIX = "/api/v1"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

_ON_INVALID_DOC = (
    "reject (default): one invalid row refuses the whole file, nothing is written; skip: the "
    "valid rows are imported and the invalid ones are kept for "
    "GET /import/batches/{batch_id}/rejected (an .xlsx with a problem column)"
)

_UPLOAD_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "on_duplicate": {
                            "type": "string",
                            "enum": list(services.ON_DUPLICATE),
                            "default": "update",
                        },
                        "dry_run": {"type": "boolean", "default": False},
                        "on_invalid": {
                            "type": "string",
                            "enum": list(services.ON_INVALID),
                            "default": "reject",
                            "description": _ON_INVALID_DOC,
                        },
                    },
                }
            }
        },
        "required": True,
    },
    "parameters": [
        {
            "in": "query",
            "name": "on_duplicate",
            "required": False,
            "schema": {"type": "string", "enum": list(services.ON_DUPLICATE)},
        },
        {"in": "query", "name": "dry_run", "required": False, "schema": {"type": "boolean"}},
        {
            "in": "query",
            "name": "on_invalid",
            "required": False,
            "schema": {"type": "string", "enum": list(services.ON_INVALID)},
            "description": _ON_INVALID_DOC,
        },
        {
            "in": "header",
            "name": "Accept-Language",
            "required": False,
            "schema": {"type": "string", "example": "zh-CN"},
            "description": "The messages' language: English (default) or Simplified Chinese",
        },
    ],
}


def _limit_bytes() -> int:
    return int(settings.MAX_UPLOAD_MB * 1024 * 1024)


def _too_large(language: str = "en") -> PayloadTooLarge:
    problem = Problem("import.too_large", limit=f"{settings.MAX_UPLOAD_MB:g}")
    refusal = PayloadTooLarge(in_language(language, problem.code, problem.params))
    refusal.code, refusal.problem = problem.code, problem
    return refusal


def localized_refusal(exc: services.ImportRefused, language: str) -> dict:
    """A refused import's answer: its message in ``language``, its code, its full result."""
    detail = "; ".join(in_language(language, p.code, p.params) for p in exc.problems)
    return {"detail": detail, "code": exc.code, **localized(exc.result, language)}


def localized(result: dict, language: str) -> dict:
    """An import's result with its row errors and warnings said in ``language``."""
    if not result:
        return result
    shown = {
        **result,
        "errors": localize_problems(result.get("errors", []), language),
        "warnings": localize_problems(result.get("warnings", []), language),
    }
    kept = shown.pop("has_rejected_rows", False)
    shown["rejected_rows_url"] = (
        f"{API_PREFIX}/import/batches/{result['batch_id']}/rejected" if kept else None
    )
    return shown


def _refuse(request: HttpRequest, kind: str, error: Exception, **batch: object) -> Exception:
    """Record the refused import (every refusal is in the batch list), then ``error``."""
    problem = getattr(error, "problem", None)
    message = (
        str(problem)
        if problem
        else getattr(error, "message", None)
        or "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in getattr(error, "errors", [])
        )
    )
    result = services.record_refused_import(
        kind=kind, message=message, user=request.auth, problems=[problem] if problem else [],
        **batch,
    )  # fmt: skip
    audit_note(request, object_type="import", object_ids=[result["batch_id"]])
    return error


def _form_choice(
    values: dict[str, str], name: str, choices: tuple[str, ...], errors: list[dict]
) -> str:
    """The form field ``name`` (trimmed, lower case; empty or absent: the first choice).

    One not among ``choices`` adds to ``errors`` the error Ninja gives for an enum.
    """
    chosen = values.get(name, choices[0]).strip().lower() or choices[0]
    if chosen not in choices:
        quoted = [f"'{choice}'" for choice in choices]
        errors.append({
            "type": "enum", "loc": ["form", name],
            "msg": f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}",
        })  # fmt: skip
    return chosen


def _upload(request: HttpRequest, kind: str) -> tuple[UploadedFile, dict]:
    """The uploaded file and the import options (form fields or query parameters).

    The declared length is checked before the body is read, so an oversized upload is
    refused without being stored. A refusal here is recorded as a rejected batch.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    language = request_language(request)
    if declared > _limit_bytes() + 64 * 1024:
        # The file's name is in the body, which is not read.
        raise _refuse(request, kind, _too_large(language), file_name="", size=declared)
    upload = request.FILES.get("file")
    values = {**request.GET.dict(), **request.POST.dict()}
    errors = []
    if upload is None:
        # Ninja's own answer for a missing File(...) parameter.
        errors.append({"type": "missing", "loc": ["file", "file"], "msg": "Field required"})
    elif upload.size > _limit_bytes():
        raise _refuse(request, kind, _too_large(language), file_name=upload.name, size=upload.size)
    on_duplicate = _form_choice(values, "on_duplicate", services.ON_DUPLICATE, errors)
    dry_run_text = values.get("dry_run", "").strip().lower()
    if dry_run_text not in _TRUE | _FALSE:
        errors.append(
            {
                "type": "bool_parsing",
                "loc": ["form", "dry_run"],
                "msg": "Input should be a valid boolean",
            }
        )
    on_invalid = _form_choice(values, "on_invalid", services.ON_INVALID, errors)
    options = {
        "on_duplicate": on_duplicate,
        "dry_run": dry_run_text in _TRUE,
        "on_invalid": on_invalid,
    }
    if errors:
        name, size = (upload.name, upload.size) if upload is not None else ("", None)
        raise _refuse(request, kind, ValidationError(errors), file_name=name, size=size, **options)
    return upload, options


def _import(request: HttpRequest, kind: str) -> dict:
    audit_note(request, action=f"import.{kind}")
    upload, options = _upload(request, kind)
    audit_note(
        request,
        action=f"import.{kind}",
        object_type="import",
        detail={"file_name": upload.name, **options},
    )
    result = services.import_file(
        kind=kind, source=upload, file_name=upload.name, user=request.auth, **options
    )
    audit_note(request, object_ids=[result["batch_id"]], result_count=result["rows_total"])
    return localized(result, request_language(request))


@router.post("/studies", response=ImportResultOut, openapi_extra=_UPLOAD_DOC)
def import_studies(request: HttpRequest):
    return _import(request, "studies")


@router.post("/reports", response=ImportResultOut, openapi_extra=_UPLOAD_DOC)
def import_reports(request: HttpRequest):
    return _import(request, "reports")


class BatchFilters(PageParams):
    kind: Literal["studies", "reports"] | None = None
    status: str | None = None


@router.get("/batches", response=ImportBatchPage)
def list_batches(request: HttpRequest, params: Query[BatchFilters]):
    batches, total = paginate(
        selectors.import_batch_list(kind=params.kind, status=params.status),
        page=params.page,
        page_size=params.page_size,
    )
    audit_note(request, action="import.batches", object_type="import", result_count=total)
    return {"data": batches, "total": total, "page": params.page, "page_size": params.page_size}


@router.get("/batches/{batch_id}", response=ImportBatchDetailOut)
def get_batch(request: HttpRequest, batch_id: str):
    audit_note(request, action="import.batch", object_type="import", object_ids=[batch_id])
    batch = selectors.import_batch_get(batch_id=batch_id)
    language = request_language(request)
    batch.errors = localize_problems(batch.errors, language)
    batch.warnings = localize_problems(batch.warnings, language)
    return batch


@router.get(
    "/batches/{batch_id}/rejected",
    openapi_extra={
        "responses": {
            200: {
                "description": "The rejected rows (.xlsx): the file's headers and a problem "
                "column, in the Accept-Language's language",
                "content": {
                    rejected.CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
                },
            },
            404: {"description": "No such batch, or it kept no rejected rows"},
        }
    },
)
def get_rejected_rows(request: HttpRequest, batch_id: str) -> HttpResponse:
    """The rows a partial import (``on_invalid=skip``) left out, to fix and import again."""
    audit_note(request, action="import.rejected", object_type="import", object_ids=[batch_id])
    language = request_language(request)
    batch, rows = kept_rejected_rows(batch_id, language)
    audit_note(request, result_count=len(rows["rows"]))
    return rejected_response(batch, rows, language)


def kept_rejected_rows(batch_id: str, language: str) -> tuple:
    """The batch and its rejected rows; NotFound (in ``language`` when it kept none)."""
    try:
        return selectors.rejected_rows(batch_id=batch_id)
    except NotFound as exc:
        if exc.message == "Import batch not found":
            raise
        refusal = NotFound(in_language(language, "import.no_rejected_rows"))
        refusal.code = "import.no_rejected_rows"
        raise refusal from None


def rejected_response(batch: object, rows: dict, language: str) -> HttpResponse:
    """The rejected-rows workbook as a download (the API and the web page)."""
    response = HttpResponse(rejected.workbook(rows, language), content_type=rejected.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{rejected.file_name(batch)}"'
    return response
