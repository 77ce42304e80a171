"""One audit event for every protected API call, whatever its outcome, and for every web page
that says (with ``audit.services.audit_note``) which patient data it served."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from audit.services import audit_record

# Open endpoints that carry no patient data; login and refresh audit themselves.
UNAUDITED = {"/api/v1/health", "/api/v1/auth/login", "/api/v1/auth/refresh"}


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
            self._record(request, response)
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
            query={k: v if len(v) > 1 else v[0] for k, v in request.GET.lists()},
            detail=note.detail if note else None,
        )


def _route_name(request: HttpRequest) -> str:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return "api.unknown"
    return f"api.{match.url_name}" if match.url_name else "api.call"
