"""One audit event for every protected API call, whatever its outcome, and for every web page
that says (with ``audit.services.audit_note``) which patient data it served."""

import logging
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from audit.services import audit_note, audit_record
from core.badinput import NUL, NulField

logger = logging.getLogger(__name__)

UNAVAILABLE = "The database is unavailable; try again shortly"

# Who a bearer token names (accounts registers ``accounts.auth.user_from_access_token`` at its
# start): accounts writes audit events, so audit names no function of accounts.
_bearer_users: list[Callable[[str], Any]] = []


def name_bearers_with(user_of: Callable[[str], Any]) -> None:
    """Register ``user_of(token)``, the user of a bearer token or None, for ``record_refusal``."""
    _bearer_users[:] = [user_of]


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

    @staticmethod
    def _record(request: HttpRequest, response: HttpResponse) -> None:
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


def record_refusal(request: HttpRequest, response: HttpResponse, field: NulField) -> HttpResponse:
    """Audit a request refused for a NUL in ``field`` (core.badinput), then answer it.

    Every refused input is recorded, the unaudited open endpoints (login) included: a NUL is
    probing, and who probed matters. The user is named when the credentials are clean.
    """
    user = None
    header = request.META.get("HTTP_AUTHORIZATION", "")
    credentials = [header, *request.COOKIES.keys(), *request.COOKIES.values()]
    if not any(NUL in value for value in credentials):
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            user = next((user_of(token.strip()) for user_of in _bearer_users), None)
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            user = request.user
    audit_note(
        request,
        action="input.refused",
        detail={"field": field.loc, "reason": "NUL character", "route": _route_name(request)},
    )
    request.auth = user
    try:
        AuditMiddleware._record(request, response)
    except (OperationalError, InterfaceError):
        logger.warning("Audit event not written (database unavailable); answer withheld")
        return database_unavailable(request)
    return response


def _route_name(request: HttpRequest) -> str:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return "api.unknown"
    return f"api.{match.url_name}" if match.url_name else "api.call"
