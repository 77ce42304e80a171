"""Who may read the API documentation: the /api/v1 docs and the practice contract's."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.auth import user_from_access_token


def docs_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """API documentation for signed-in users only: a bearer token or an admin/web session.

    Signed out, the docs page sends the browser to the sign-in page; the schema (read by
    programs) and any request that carried a bearer token answer 401 JSON.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            return view(request, *args, **kwargs)
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            user = user_from_access_token(token.strip())
            if user is not None:
                request.auth = user
                return view(request, *args, **kwargs)
        if request.path_info.endswith("/openapi.json") or header:
            # A program (or a bearer client whose token failed): the API's own answer.
            return JsonResponse({"detail": "Not authenticated"}, status=401)
        # A person opening the docs page: to the sign-in page, and back here afterwards.
        return redirect_to_login(request.get_full_path())

    return wrapper
