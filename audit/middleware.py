"""One audit event for every protected API call, whatever its outcome, and for every web page
that says (with ``audit.services.audit_note``) which patient data it served."""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from audit.services import audit_record

logger = logging.getLogger(__name__)

UNAVAILABLE = "The database is unavailable; try again shortly"


def database_unavailable(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "10"
    return response


# Open endpoints that carry no patient data; login and refresh audit themselves.
UNAUDITED = {"/api/v1/health", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/login"}


def _outcome(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    if status >= 500:
        return "error"
    return "failure"


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        path = request.path_info
        if path.startswith("/api/"):
            audited = path not in UNAUDITED
        else:
            # Web pages (web/) opt in by attaching a note; other pages (admin, static) do not.
            audited = getattr(request, "audit_note", None) is not None
        if audited:
            try:
                self._record(request, response)
            except (OperationalError, InterfaceError):
                # An access that cannot be recorded is not served: the answer (which may hold
                # patient data) is withheld while the database is unreachable.
                logger.warning("Audit event not written (database unavailable); answer withheld")
                return database_unavailable(request)
        return response

    def _record(self, request: HttpRequest, response: HttpResponse) -> None:
        note = getattr(request, "audit_note", None)
        user = getattr(request, "auth", None)
        if user is None and getattr(request, "user", None) is not None:
            user = request.user if request.user.is_authenticated else None
        action = note.action if note and note.action else _route_name(request)
        audit_record(
            action=action,
            outcome=_outcome(response.status_code),
            user=user,
            username=note.username if note else "",
            request=request,
            status_code=response.status_code,
            object_type=note.object_type if note else "",
            object_ids=note.object_ids if note else None,
            result_count=note.result_count if note else None,
            query=_query(request),
            detail=note.detail if note else None,
        )


def _query(request: HttpRequest) -> dict:
    # PostgreSQL cannot store a NUL in JSON text: the refused input is recorded with it escaped.
    def clean(text: str) -> str:
        return text.replace("\x00", "\\x00")

    return {
        clean(k): [clean(x) for x in v] if len(v) > 1 else clean(v[0])
        for k, v in request.GET.lists()
    }


def _route_name(request: HttpRequest) -> str:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return "api.unknown"
    return f"api.{match.url_name}" if match.url_name else "api.call"
