"""The one NinjaAPI: every app's router, and domain errors mapped to HTTP."""

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from accounts.api import router as auth_router
from accounts.docs import docs_login_required
from analysis.api import router as analysis_router
from audit.middleware import UNAVAILABLE
from core.api import router as core_router
from core.badinput import NulField, answer_nul
from core.badinput import message as nul_message
from core.errors import DomainError, TooManyRequests
from core.language import request_language
from ingest.api import localized_refusal
from ingest.api import router as ingest_router
from ingest.services import ImportRefused
from practice.api import router as practice_router
from reports.api import router as reports_router
from studies.api import patients_router
from studies.api import router as studies_router
from studies.statistics_api import router as statistics_router

_ERROR = {
    "type": "object",
    "properties": {
        "detail": {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}],
            "title": "Detail",
        },
        "code": {
            "type": "string",
            "title": "Code",
            "description": "A stable code of the refusal, where it has one (imports: "
            "import.invalid_rows, file.unsupported_type, …); detail is its message",
        },
    },
    "required": ["detail"],
}
# Answers a few operations give beyond the common ones below (SPEC §3).
_EXTRA_ERRORS = {
    ("post", "/auth/login"): {401: "Invalid username or password",
                              429: "Too many failed logins from this address (Retry-After)"},
    ("post", "/auth/refresh"): {401: "Invalid, spent or expired refresh token"},
    ("post", "/import/studies"): {409: "An exam_id exists and on_duplicate is 'fail'",
                                  413: "Larger than MAX_UPLOAD_MB", 415: "Unsupported file type"},
    ("post", "/import/reports"): {409: "A report_id exists and on_duplicate is 'fail'",
                                  413: "Larger than MAX_UPLOAD_MB", 415: "Unsupported file type"},
    ("post", "/analysis/tasks"): {404: "Study not found"},
    ("delete", "/analysis/tasks/{task_id}"): {409: "The task is already finished"},
    ("get", "/statistics/quality/{check}"): {404: "Data-quality check not found"},
}  # fmt: skip


def _add_error(responses: dict, code: int, description: str, *, body: bool = True) -> None:
    if str(code) not in responses:
        responses[str(code)] = {"description": description}
        if body:
            responses[str(code)]["content"] = {"application/json": {"schema": _ERROR}}


def _merge_status_keys(responses: dict) -> dict:
    """One entry per status code. Ninja keys ``response=`` by int and ``openapi_extra`` adds
    string keys: both serialise as the same JSON key, a duplicate that Swagger UI refuses."""
    merged: dict[str, dict] = {}
    for code, answer in responses.items():
        key = str(code)
        merged[key] = {**merged.get(key, {}), **answer}
    return merged


def _document_errors(schema: dict) -> dict:
    """Declare the error answers every operation can give, so the schema tells the whole truth
    (schemathesis checks every answer against it): 401/403 where a login is needed, 404 for a
    path id, 400/422 for bad input, 414 when the HTTP server refuses an over-long request line.
    """
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation["responses"] = _merge_status_keys(operation.get("responses", {}))
            parameters = operation.get("parameters", [])
            if operation.get("security"):
                _add_error(responses, 401, "Not signed in, or the token is invalid or revoked")
                _add_error(responses, 403, "The user's role does not allow this")
            if any(p.get("in") == "path" for p in parameters):
                _add_error(responses, 404, "Not found")
            if "requestBody" in operation:
                _add_error(responses, 400, "The body cannot be parsed")
            if parameters or "requestBody" in operation:
                _add_error(responses, 422, "Invalid input: the field errors, or a message")
                _add_error(responses, 414, "Request line too long (the HTTP server)", body=False)
            suffix = path.split("/api/v1", 1)[-1]
            for code, description in _EXTRA_ERRORS.get((method, suffix), {}).items():
                _add_error(responses, code, description)
    return schema


class PlatformAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs) -> dict:
        return _document_errors(super().get_openapi_schema(**kwargs))


api = PlatformAPI(
    title="Medical Imaging Data Platform API",
    version=settings.VERSION,
    description="Studies, reports, analysis and RIS import for the radiology department.",
    urls_namespace="api",
    docs_decorator=docs_login_required,
)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body = {"detail": exc.message}
    if getattr(exc, "code", None):
        body["code"] = exc.code
    response = api.create_response(request, body, status=exc.status_code)
    if isinstance(exc, TooManyRequests) and exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ImportRefused)
def on_import_refused(request: HttpRequest, exc: ImportRefused) -> HttpResponse:
    """A refused import answers its message (in the request's language), its code and the
    full result object (row errors and warnings, counts)."""
    body = localized_refusal(exc, request_language(request))
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A lost database connection is a 503 the client may retry, not a server bug (500).

    Django drops the broken connection when the request ends (CONN_HEALTH_CHECKS), so the
    next request reconnects once the database is back.
    """
    response = api.create_response(request, {"detail": UNAVAILABLE}, status=503)
    response["Retry-After"] = "10"
    return response


@api.exception_handler(AuthenticationError)
def on_not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": "Not authenticated"}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@answer_nul("/api/v1/")
def on_nul(request: HttpRequest, field: NulField) -> HttpResponse:
    """A NUL in any field is a request validation error (422, Ninja's list of field errors);
    ``core.badinput.RefuseNulMiddleware`` answers it before the view runs."""
    error = {"type": "string_nul", "loc": field.loc, "msg": nul_message(field)}
    return JsonResponse({"detail": [error]}, status=422)


api.add_router("/", core_router)
api.add_router("/auth", auth_router)
api.add_router("/studies", studies_router)
api.add_router("/patients", patients_router)
api.add_router("/reports", reports_router)
api.add_router("/import", ingest_router)
api.add_router("/analysis", analysis_router)
api.add_router("/statistics", statistics_router)
api.add_router("/practice", practice_router)
