from django.contrib import admin

from audit.admin import AuditedAdmin
from reports.models import Report


@admin.register(Report)
class ReportAdmin(AuditedAdmin):
    """Browse-only, like studies: reports enter through the audited importer."""

    audit_object_type = "report"

    list_display = ("report_id", "study", "radiologist", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("=report_id", "=study__exam_id", "radiologist")
    raw_id_fields = ("study",)
    show_full_result_count = False
