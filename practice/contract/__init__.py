"""The Flask service's contract under ``/api/`` (SPEC-practice §4): its own NinjaAPI, because
exception handlers belong to an API and every answer here has the ``{"message"}`` shape that the
React frontend shows. The product's own practice API lives under ``/api/v1/practice``.

Routers by subject: ``users`` (login, users), ``scenarios``, ``rubrics`` (categories and
criteria), ``activities``, ``conversations`` (threads, messages, runs, context preview),
``assessments``. Each registers itself in ``ROUTERS`` order below.
"""

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from accounts.docs import docs_login_required
from core.errors import DomainError, TooManyRequests

MISSING_FIELDS = "Missing fields"
NOT_AUTHENTICATED = "Authentication required"
UNAVAILABLE = "The database is unavailable; try again shortly"


class ContractAPI(NinjaAPI):
    """Same docs guard as /api/v1; errors as ``{"message"}``."""


def _docs_guard(view):
    """The same guard as /api/v1's docs, with this contract's ``{"message"}`` refusal."""
    from functools import wraps

    from django.http import JsonResponse

    guarded = docs_login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = guarded(request, *args, **kwargs)
        if response.status_code == 401:
            response = JsonResponse({"message": NOT_AUTHENTICATED}, status=401)
            response["WWW-Authenticate"] = "Bearer"
        return response

    return wrapper


api = ContractAPI(
    title="Communication practice API (Flask contract)",
    version=settings.VERSION,
    description="The Flask service's routes, kept for its React frontend (SPEC-practice §4).",
    urls_namespace="practice_contract",
    docs_decorator=_docs_guard,
)


def message(request: HttpRequest, text: str, status: int) -> HttpResponse:
    return api.create_response(request, {"message": text}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = message(request, exc.message, exc.status_code)
    if isinstance(exc, TooManyRequests) and exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Flask answered 400 for a missing or malformed field: the frontend relies on it."""
    missing = [e for e in exc.errors if e.get("type") == "missing"]
    if missing or not exc.errors:
        return message(request, MISSING_FIELDS, 400)
    error = exc.errors[0]
    field = ".".join(str(p) for p in error.get("loc", ())[1:] if p != "payload") or "body"
    return message(request, f"Invalid field: {field}", 400)


@api.exception_handler(AuthenticationError)
def on_not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = message(request, NOT_AUTHENTICATED, 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return message(request, str(exc.message), exc.status_code)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = message(request, UNAVAILABLE, 503)
    response["Retry-After"] = "10"
    return response


@api.exception_handler(DatabaseError)
def on_database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    # Integrity and data errors the services did not foresee: still the contract's shape.
    return message(request, "The request could not be stored", 400)


# Routers (one line each, imported here because they use ``api``'s helpers above).
from practice.contract import nul  # noqa: E402, F401 (registers the contract's NUL answer)
from practice.contract.activities import router as activities_router  # noqa: E402
from practice.contract.assessments import router as assessments_router  # noqa: E402
from practice.contract.conversations import router as conversations_router  # noqa: E402
from practice.contract.rubrics import router as rubrics_router  # noqa: E402
from practice.contract.scenarios import router as scenarios_router  # noqa: E402
from practice.contract.users import router as users_router  # noqa: E402

api.add_router("", users_router)
api.add_router("", scenarios_router)
api.add_router("", rubrics_router)
api.add_router("", activities_router)
api.add_router("", conversations_router)
api.add_router("", assessments_router)
