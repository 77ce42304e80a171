from typing import Literal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from ninja import Query, Router
from ninja.errors import ValidationError

from accounts.auth import admin_auth
from audit.services import audit_note
from core.errors import PayloadTooLarge
from core.pagination import PageParams, paginate
from ingest import selectors, services
from ingest.schemas import ImportBatchDetailOut, ImportBatchPage, ImportResultOut

router = Router(tags=["import"], auth=admin_auth)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

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
    ],
}


def _limit_bytes() -> int:
    return int(settings.MAX_UPLOAD_MB * 1024 * 1024)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is larger than the {settings.MAX_UPLOAD_MB:g} MB upload limit"
    )


def _refuse(request: HttpRequest, kind: str, error: Exception, **batch: object) -> Exception:
    """Record the refused import (every refusal is in the batch list), then ``error``."""
    message = getattr(error, "message", None) or "; ".join(
        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in getattr(error, "errors", [])
    )
    result = services.record_refused_import(kind=kind, message=message, user=request.auth, **batch)
    audit_note(request, object_type="import", object_ids=[result["batch_id"]])
    return error


def _upload(request: HttpRequest, kind: str) -> tuple[UploadedFile, dict]:
    """The uploaded file and the import options (form fields or query parameters).

    The declared length is checked before the body is read, so an oversized upload is
    refused without being stored. A refusal here is recorded as a rejected batch.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > _limit_bytes() + 64 * 1024:
        # The file's name is in the body, which is not read.
        raise _refuse(request, kind, _too_large(), file_name="", size=declared)
    upload = request.FILES.get("file")
    values = {**request.GET.dict(), **request.POST.dict()}
    errors = []
    if upload is None:
        # Ninja's own answer for a missing File(...) parameter.
        errors.append({"type": "missing", "loc": ["file", "file"], "msg": "Field required"})
    elif upload.size > _limit_bytes():
        raise _refuse(request, kind, _too_large(), file_name=upload.name, size=upload.size)
    on_duplicate = values.get("on_duplicate", "update").strip().lower() or "update"
    if on_duplicate not in services.ON_DUPLICATE:
        errors.append({
            "type": "enum", "loc": ["form", "on_duplicate"],
            "msg": "Input should be 'update', 'skip' or 'fail'",
        })  # fmt: skip
    dry_run_text = values.get("dry_run", "").strip().lower()
    if dry_run_text not in _TRUE | _FALSE:
        errors.append(
            {
                "type": "bool_parsing",
                "loc": ["form", "dry_run"],
                "msg": "Input should be a valid boolean",
            }
        )
    options = {"on_duplicate": on_duplicate, "dry_run": dry_run_text in _TRUE}
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
    return result


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
    return selectors.import_batch_get(batch_id=batch_id)
