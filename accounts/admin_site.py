"""The admin site, signed in through the product's credential check.

Django's own admin login calls ``authenticate()`` directly: no lockout, no audit. Here its
form checks the credentials with ``accounts.services.verified_user`` (the lockout of the API
and the web UI, the same LoginFailure rows, the same audit events), a locked-out attempt
answers 429, and a successful sign-in is audited like the others (``via: admin``).
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from accounts import services
from audit.services import audit_record
from core.errors import NotAuthenticated, TooManyRequests

VIA = {"via": "admin"}


class AdminLoginForm(AdminAuthenticationForm):
    retry_after: int | None = None

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        try:
            user = services.verified_user(
                request=self.request, username=username, password=password, detail=VIA
            )
        except TooManyRequests as exc:
            self.retry_after = exc.retry_after or 60
            raise ValidationError(exc.message, code="locked_out") from exc
        except NotAuthenticated as exc:
            raise self.get_invalid_login_error() from exc
        try:
            # Inactive, or not staff: Django's message, and an event of its own.
            self.confirm_login_allowed(user)
        except ValidationError:
            audit_record(
                action="auth.login_refused",
                outcome="denied",
                user=user,
                request=self.request,
                status_code=200,
                detail={**VIA, "reason": "not a staff account"},
            )
            raise
        self.user_cache = user
        return self.cleaned_data


class PlatformAdminSite(admin.AdminSite):
    site_header = "Medical Imaging Data Platform"
    site_title = "Medical Imaging admin"
    login_form = AdminLoginForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().login(request, extra_context)
        if request.method != "POST":
            return response
        if response.status_code == 302 and request.user.is_authenticated:
            services.login_recorded(request=request, user=request.user, via="admin")
            return response
        form = (getattr(response, "context_data", None) or {}).get("form")
        if getattr(form, "retry_after", None):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response

    def logout(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        response = super().logout(request, extra_context)
        if user is not None and not request.user.is_authenticated:
            audit_record(
                action="auth.logout",
                outcome="success",
                user=user,
                request=request,
                detail={**VIA, "reason": "user"},
            )
        return response
