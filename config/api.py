"""The one NinjaAPI: every app's router, and domain errors mapped to HTTP."""

from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from accounts.api import router as auth_router
from accounts.auth import user_from_access_token
from analysis.api import router as analysis_router
from core.api import router as core_router
from core.errors import DomainError, TooManyRequests
from ingest.api import router as ingest_router
from ingest.services import ImportError_
from reports.api import router as reports_router
from studies.api import router as studies_router


def docs_login_required(view):  # noqa: ANN001, ANN201
    """API documentation for signed-in users only: a bearer token or an admin/web session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            return view(request, *args, **kwargs)
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            user = user_from_access_token(token.strip())
            if user is not None:
                request.auth = user
                return view(request, *args, **kwargs)
        return JsonResponse({"detail": "Not authenticated"}, status=401)

    return wrapper


api = NinjaAPI(
    title="Medical Imaging Data Platform API",
    version=settings.VERSION,
    description="Studies, reports, analysis and RIS import for the radiology department.",
    urls_namespace="api",
    docs_decorator=docs_login_required,
)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(request, {"detail": exc.message}, status=exc.status_code)
    if isinstance(exc, TooManyRequests) and exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ImportError_)
def on_import_error(request: HttpRequest, exc: ImportError_) -> HttpResponse:
    """A refused import answers its message and the full result object (row errors, counts)."""
    return api.create_response(
        request, {"detail": exc.message, **exc.result}, status=exc.status_code
    )


@api.exception_handler(AuthenticationError)
def on_not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": "Not authenticated"}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


api.add_router("/", core_router)
api.add_router("/auth", auth_router)
api.add_router("/studies", studies_router)
api.add_router("/reports", reports_router)
api.add_router("/import", ingest_router)
api.add_router("/analysis", analysis_router)
