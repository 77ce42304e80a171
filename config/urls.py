from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from config.api import api
from practice.contract import api as practice_contract_api
from web import views as web_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # The Flask contract (SPEC-practice §4): every other path under /api/.
    path("api/", practice_contract_api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _is_contract(request: HttpRequest) -> bool:
    """The Flask contract answers ``{"message"}``; /api/v1 answers ``{"detail"}``."""
    path = request.path_info
    return path.startswith("/api/") and not (path == "/api/v1" or path.startswith("/api/v1/"))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON for the API, an HTML page for the web UI (and the admin)."""
    if _is_contract(request):
        return JsonResponse({"message": "Not Found"}, status=404)
    if _is_api(request):
        return JsonResponse({"detail": "Not Found"}, status=404)
    return web_views.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_contract(request):
        return JsonResponse({"message": "Internal server error"}, status=500)
    if _is_api(request):
        return JsonResponse({"detail": "Internal server error"}, status=500)
    return web_views.server_error(request)


handler404 = not_found
handler500 = server_error
