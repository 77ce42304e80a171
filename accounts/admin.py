from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from accounts import services
from accounts.models import User


def _shown(value: object) -> object:
    """A field's value as the audit log keeps it (names for groups and permissions)."""
    if hasattr(value, "all"):
        value = value.all()
    if hasattr(value, "__iter__") and not isinstance(value, str):
        return sorted(str(v) for v in value)
    return value


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users and their rights. A change of password, role, activity or admin powers made here
    is an audit event and ends the user's logins (accounts.services)."""

    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "department",
        "role",
        "is_active",
    )
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Department", {"fields": ("role", "department", "phone")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        rights = [f for f in form.changed_data if f in services.RIGHTS_FIELDS]
        before = {f: _shown(form.initial.get(f)) for f in rights}
        super().save_model(request, obj, form, change)
        if change:
            changes = {f: [before[f], _shown(form.cleaned_data.get(f))] for f in rights}
        else:
            changes = {f: [None, _shown(form.cleaned_data.get(f, getattr(obj, f, None)))]
                       for f in ("role", "is_staff", "is_superuser")}  # fmt: skip
        services.user_rights_changed(
            user=obj,
            changes=changes,
            actor=request.user,
            request=request,
            via="admin",
            created=not change,
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's view sets the password; its success (a redirect after a POST) ends the
        # user's logins in the same transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, unquote(id))
                services.user_password_changed(
                    user=user, actor=request.user, request=request, via="admin"
                )
                if user.pk == request.user.pk:
                    # An admin who changed their own password stays signed in here.
                    update_session_auth_hash(request, user)
        return response
