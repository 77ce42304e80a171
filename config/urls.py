from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.api import api

admin.site.site_header = "Medical Imaging Data Platform"
admin.site.site_title = "Medical Imaging admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not Found"}, status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error"}, status=500)


handler404 = json_not_found
handler500 = json_server_error
