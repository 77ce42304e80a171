"""Request plumbing shared by every app: API path normalisation and cache headers."""

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

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


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY with every answer.

    The web UI runs only its own files (no inline script, no inline style, no eval: htmx is
    told not to inject its indicator styles); a script injected into a page does not run.
    Django's admin writes one inline ``<style>`` on its browse-only lists, so its pages also
    allow inline styles (never inline scripts).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.admin_policy = self.policy.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy:
            admin = request.path_info.startswith("/admin/")
            response.setdefault(
                "Content-Security-Policy", self.admin_policy if admin else self.policy
            )
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address; X-Forwarded-For only when settings say a trusted proxy sets it."""
    from django.conf import settings

    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45] or None
    return request.META.get("REMOTE_ADDR") or None


# Token-authenticated API calls carry no cookie session, no form and no page language: the
# session, locale, login, messages and htmx middleware have nothing to do for them, and
# running them was a sizeable share of an API call's CPU (docs/performance.md). The API's
# browsable docs log in with the session, so they keep the whole stack. (CSRF stays stock:
# `check --deploy` looks for it by name, and it costs little for views that are exempt.)
_PAGES_UNDER_API = ("/api/v1/docs", "/api/v1/openapi.json")


# The practice web UI calls its API with the browser session (and CSRF) instead of a token.
_SESSION_OR_TOKEN_API = "/api/v1/practice/"


def _token_api(request: HttpRequest) -> bool:
    path = request.path_info
    if not path.startswith(API_PREFIX) or path.startswith(_PAGES_UNDER_API):
        return False
    if path.startswith(_SESSION_OR_TOKEN_API):
        return request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
    return True


def pages_only(base: type, *, on_api_call: Callable[[], None] | None = None) -> type:
    """``base`` (a middleware class) that lets token API calls pass straight through, after
    ``on_api_call`` (what must still be undone for them)."""

    class PagesOnly(base):
        def __call__(self, request: HttpRequest):  # sync or async, as base
            if _token_api(request):
                if on_api_call is not None:
                    on_api_call()
                return self.get_response(request)
            return super().__call__(request)

    PagesOnly.__name__ = PagesOnly.__qualname__ = base.__name__
    PagesOnly.__module__ = __name__
    PagesOnly.__doc__ = f"{base.__module__}.{base.__name__}, for pages only (not token API calls)."
    return PagesOnly


def _import(path: str) -> type:
    from django.utils.module_loading import import_string

    return import_string(path)


SessionMiddleware = pages_only(_import("django.contrib.sessions.middleware.SessionMiddleware"))
# A language is activated per thread and stays after the response: a token API call served by
# a thread whose last page was Chinese would answer in Chinese. It speaks English unless it
# asks (Accept-Language, read where a message is localized: core.language).
LocaleMiddleware = pages_only(
    _import("django.middleware.locale.LocaleMiddleware"), on_api_call=translation.deactivate
)
AuthenticationMiddleware = pages_only(
    _import("django.contrib.auth.middleware.AuthenticationMiddleware")
)
MessageMiddleware = pages_only(_import("django.contrib.messages.middleware.MessageMiddleware"))
HtmxMiddleware = pages_only(_import("django_htmx.middleware.HtmxMiddleware"))
