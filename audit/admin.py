from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Readable by staff; nobody can add, change or delete an event here."""

    list_display = (
        "occurred_at",
        "username",
        "action",
        "outcome",
        "status_code",
        "ip_address",
        "path",
    )
    list_filter = ("action", "outcome")
    search_fields = ("username", "path", "request_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
