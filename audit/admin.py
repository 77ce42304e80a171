from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from audit.models import AuditEvent
from audit.services import audit_note


class AuditedAdmin(admin.ModelAdmin):
    """A browse-only admin of patient data: every list, search and record page it serves is an
    audit event (written by audit.middleware, like the web UI's pages), with the ids shown."""

    audit_object_type = ""

    # Browse-only: the data enters through the audited services (the importer, the API),
    # never by hand here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        searched = bool(request.GET.get("q"))
        audit_note(
            request,
            action=f"admin.{self.audit_object_type}.{'search' if searched else 'list'}",
            object_type=self.audit_object_type,
            object_ids=[str(o.pk) for o in changelist.result_list] if changelist else [],
            result_count=changelist.result_count if changelist else None,
        )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        audit_note(
            request,
            action=f"admin.{self.audit_object_type}.view",
            object_type=self.audit_object_type,
            object_ids=[object_id],
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        audit_note(
            request,
            action=f"admin.{self.audit_object_type}.history",
            object_type=self.audit_object_type,
            object_ids=[object_id],
        )
        return super().history_view(request, object_id, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedAdmin):
    """Readable by staff; nobody can add, change or delete an event here. Its queries can
    hold patient names, so reading it is itself audited."""

    audit_object_type = "audit_event"
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
