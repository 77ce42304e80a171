from django.contrib import admin

from ingest.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """The import history, read-only: it is the record of what entered the system."""

    list_display = (
        "started_at",
        "kind",
        "file_name",
        "username",
        "status",
        "rows_total",
        "created",
        "updated",
        "rejected",
    )
    list_filter = ("kind", "status", "source")
    search_fields = ("file_name", "file_sha256", "username", "batch_id")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
