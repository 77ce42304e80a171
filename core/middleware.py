"""Request plumbing shared by every app: API path normalisation and cache headers."""

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"


class ApiPathMiddleware:
    """Serve API paths with and without a trailing slash, for every method, without redirects.

    Rewriting ``path_info`` before URL resolution is what makes ``POST /auth/login/`` and
    ``POST /auth/login`` the same route; a redirect would drop a POST body.
    It also tags each request with an id that the audit log and the response share.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex
        path = request.path_info
        if path.startswith(API_PREFIX) and len(path) > 1 and path.endswith("/"):
            request.path_info = path.rstrip("/") or "/"
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class NoStoreMiddleware:
    """Nothing that may carry patient data is kept by browsers or shared caches."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path_info.startswith("/static/"):
            response["Cache-Control"] = "no-store"
            response.setdefault("Pragma", "no-cache")
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address; X-Forwarded-For only when settings say a trusted proxy sets it."""
    from django.conf import settings

    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45] or None
    return request.META.get("REMOTE_ADDR") or None
